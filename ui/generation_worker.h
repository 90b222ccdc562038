#pragma once
// The app's one background worker: a QObject moved onto its own QThread that owns the generation
// service (and with it the model) and runs a queue of jobs. The UI thread never waits on it: requests
// go in through thread-safe calls or queued slots, and progress and results come back as queued
// signals carrying values (QImage, structs), never tensors.
#include <QImage>
#include <QList>
#include <QMetaType>
#include <QMutex>
#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "gpu/generation_service.h"

namespace respo::ui {

// What a finished job hands back to the UI.
struct JobResult {
  QList<QImage> baseline, responsible;  // one per image of the batch
  respo::gpu::GenerationJob job;        // as asked
  respo::pipeline::GenerationRequest request;  // as run (size filled in)
  QString parameters;          // the PNG "parameters" text of the responsible images
  QString baselineParameters;  // ... and of the baseline images
  QStringList members;         // per image, the fairness members drawn ("a woman, light skin")
  bool baselineFromCache = false;
  bool responsibleIsBaseline = false;
  double seconds = 0;
};

using ConceptList = std::vector<respo::gpu::ConceptInfo>;

// How a training run stands (see respo::gpu::TrainingUpdate); previews come as images.
struct TrainingStatus {
  int step = 0, total = 0, resumedFrom = 0;
  double responsibleLoss = 0, semanticLoss = 0;
  double seconds = 0, etaSeconds = -1;
  QList<QImage> baseline, current;  // empty when this update has no preview
  std::vector<std::pair<double, double>> history;  // first update: losses of the steps done before
};

struct TrainingResult {
  QString file;
  int steps = 0, resumedFrom = 0;
  double seconds = 0, responsibleLoss = 0, semanticLoss = 0;
};

using ReportResult = respo::report::FairnessReport;

QImage toQImage(const respo::io::RgbImage& image);
respo::io::RgbImage fromQImage(const QImage& image);

class GenerationWorker : public QObject {
  Q_OBJECT
 public:
  // The worker moves itself onto `thread` (which the caller owns, starts and stops).
  explicit GenerationWorker(QThread* thread, std::vector<std::filesystem::path> conceptFolders = {});
  ~GenerationWorker() override;

  // Thread-safe. Returns the job's id; the job runs after those queued before it.
  int enqueue(const respo::gpu::GenerationJob& job);
  // Thread-safe. A training run or a fairness report: a task in the same queue (the model is
  // shared), reported through the task signals below, untouched by cancelAll().
  int enqueueTraining(const respo::gpu::TrainingJob& job);
  int enqueueReport(const respo::gpu::ReportJob& job);
  // Thread-safe. Takes a job out of the queue before it starts; false when it already started or ended.
  bool remove(int id);
  // Thread-safe. Stops the running job at its next step (no effect on a job that is not running).
  void cancel(int id);
  // Thread-safe. Removes the queued generation jobs and cancels the running one (tasks go on).
  void cancelAll();
  // Thread-safe. Cancels everything, tasks included (before shutdown).
  void shutdown();
  int queuedCount() const;  // generation jobs
  // The concept library's folders (the user's first), and the training runs stopped early there.
  std::vector<std::filesystem::path> conceptFolders() const;
  std::vector<respo::gpu::UnfinishedTraining> unfinishedTrainings() const;

 public Q_SLOTS:
  // Queue these (they run on the worker thread, after the running job).
  void loadModel(const QString& path);
  void refreshConcepts(int width, int height);

 Q_SIGNALS:
  void modelLoadProgressed(const QString& status);
  void modelLoaded(const QString& path, const QString& description, int nativeSize, int sizeStep);
  void modelLoadFailed(const QString& path, const QString& message);
  void conceptsChanged(const respo::ui::ConceptList& concepts);
  void jobStarted(int id);
  // A job computes the baseline first (unless cached), then the responsible side (if any concept).
  void phaseStarted(int id, respo::gpu::GenerationPhase phase);
  void stepProgressed(int id, int step, int total, const QImage& preview, double iterationsPerSecond);
  void jobFinished(int id, const respo::ui::JobResult& result);
  void jobFailed(int id, const QString& message);
  void jobCancelled(int id);
  void queueChanged(int queued);  // generation jobs waiting

  // Tasks (training runs, reports).
  void taskStarted(int id);
  void taskFailed(int id, const QString& message);
  void taskCancelled(int id);
  void trainingProgressed(int id, const respo::ui::TrainingStatus& status);
  void trainingFinished(int id, const respo::ui::TrainingResult& result);
  // The run stepped aside for waiting generations (checkpoint written); it continues after them.
  void trainingYielded(int id);
  void reportProgressed(int id, int done, int total);
  void reportFinished(int id, const respo::ui::ReportResult& report);

 private:
  void runNext();  // on the worker thread
  void runGeneration(int id, const respo::gpu::GenerationJob& job);
  void runTraining(int id, const respo::gpu::TrainingJob& job);
  void runReport(int id, const respo::gpu::ReportJob& job);
  // Runs a task's body; Cancelled and errors become taskCancelled / taskFailed.
  void runTask(int id, const std::function<void()>& body);
  respo::gpu::GenerationService& service();
  int push(std::variant<respo::gpu::GenerationJob, respo::gpu::TrainingJob, respo::gpu::ReportJob> job);
  int queuedGenerationsLocked() const;
  bool generationWaiting() const;

  struct Pending {
    int id = 0;
    std::variant<respo::gpu::GenerationJob, respo::gpu::TrainingJob, respo::gpu::ReportJob> job;
    bool isGeneration() const { return job.index() == 0; }
  };
  // Takes a job or task out of the queue before it starts (nullopt when it is not queued).
  std::optional<Pending> take(int id);
  mutable QMutex mutex_;
  std::deque<Pending> queue_;
  int nextId_ = 1;
  std::atomic<int> runningId_{0};
  std::atomic<bool> runningIsGeneration_{false};
  std::atomic<int> cancelledId_{0};
  std::vector<std::filesystem::path> conceptFolders_;
  std::unique_ptr<respo::gpu::GenerationService> service_;  // made on the worker thread
};

}  // namespace respo::ui

Q_DECLARE_METATYPE(respo::ui::JobResult)
Q_DECLARE_METATYPE(respo::ui::ConceptList)
Q_DECLARE_METATYPE(respo::ui::TrainingStatus)
Q_DECLARE_METATYPE(respo::ui::TrainingResult)
Q_DECLARE_METATYPE(respo::ui::ReportResult)
Q_DECLARE_METATYPE(respo::gpu::GenerationPhase)
