#pragma once
// The app's side of the engine (gpu/engine.h): the engine runs the job queue on its own thread; this
// QObject turns requests into engine calls and the engine's events into Qt signals carrying values
// (QImage, structs), never tensors. The signals are emitted on the engine's thread, so connections to
// widgets are queued and the UI thread never waits. The engine is given, not made here: the studio
// passes the generation service's, widget tests a fake runner's.
#include <QImage>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <memory>
#include <vector>

#include "gpu/engine.h"

namespace respo::ui {

// What a finished job hands back to the UI.
struct JobResult {
  QList<QImage> baseline, responsible;  // one per image of the batch, to show
  // The same images as the engine made them, to save: they go to disk without a round trip through Qt.
  std::vector<respo::io::RgbImage> baselinePixels, responsiblePixels;
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

using ReportResult = respo::report::Comparison;

class GenerationWorker : public QObject {
  Q_OBJECT
 public:
  explicit GenerationWorker(std::unique_ptr<respo::gpu::Engine> engine, QObject* parent = nullptr);
  ~GenerationWorker() override;  // shuts the engine down (no signal after it)

  // Thread-safe. Returns the job's id; the job runs after those queued before it.
  int enqueue(const respo::gpu::GenerationJob& job);
  // Thread-safe. A training run or a fairness report: a task in the same queue (the model is
  // shared), reported through the task signals below, untouched by cancelAll().
  int enqueueTraining(const respo::gpu::TrainingJob& job);
  int enqueueReport(const respo::gpu::ReportJob& job);
  // Thread-safe. Takes a job out of the queue before it starts; false when it already started or ended.
  bool remove(int id);
  // Thread-safe. A queued job ends cancelled at once, the running one at its next step.
  void cancel(int id);
  // Thread-safe. Removes the queued generation jobs and cancels the running one (tasks go on).
  void cancelAll();
  // Cancels everything and stops the engine (before the window closes).
  void shutdown();
  int queuedCount() const;  // generation jobs
  respo::gpu::JobState state(int id) const;
  // The concept library's folders (the user's first), and the training runs stopped early there.
  std::vector<std::filesystem::path> conceptFolders() const;
  std::vector<respo::gpu::UnfinishedTraining> unfinishedTrainings() const;
  // The prompt lists the fairness report offers.
  std::vector<std::pair<std::string, std::vector<std::string>>> promptSets() const;

 public Q_SLOTS:
  // Both run on the engine's thread after the jobs queued before them.
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
  class Events;
  std::unique_ptr<Events> events_;
  std::unique_ptr<respo::gpu::Engine> engine_;
};

}  // namespace respo::ui

Q_DECLARE_METATYPE(respo::ui::JobResult)
Q_DECLARE_METATYPE(respo::ui::ConceptList)
Q_DECLARE_METATYPE(respo::ui::TrainingStatus)
Q_DECLARE_METATYPE(respo::ui::TrainingResult)
Q_DECLARE_METATYPE(respo::ui::ReportResult)
Q_DECLARE_METATYPE(respo::gpu::GenerationPhase)
