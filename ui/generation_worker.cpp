#include "ui/generation_worker.h"

#include <QElapsedTimer>

#include "ui/image_pixels.h"


namespace respo::ui {

// The engine's events as the worker's signals (emitted on the engine's thread).
class GenerationWorker::Events final : public respo::gpu::EngineEvents {
 public:
  explicit Events(GenerationWorker& w) : w_(w) {}

  void modelLoading(const std::string& status) override { Q_EMIT w_.modelLoadProgressed(QString::fromStdString(status)); }
  void modelLoaded(const std::filesystem::path& path, const respo::gpu::ModelInfo& info) override {
    // The device has its own label in the status bar.
    const QString description = QString::fromStdString(info.name + " (" + info.family + ", " +
                                                       std::to_string(info.nativeSize) + " px)");
    Q_EMIT w_.modelLoaded(QString::fromStdString(path.string()), description, info.nativeSize, info.sizeStep);
  }
  void modelLoadFailed(const std::filesystem::path& path, const std::string& message) override {
    Q_EMIT w_.modelLoadFailed(QString::fromStdString(path.string()), QString::fromUtf8(message.c_str()));
  }
  void conceptsListed(const std::vector<respo::gpu::ConceptInfo>& concepts) override { Q_EMIT w_.conceptsChanged(concepts); }
  void queueChanged(int queued) override { Q_EMIT w_.queueChanged(queued); }

  void jobStateChanged(int id, respo::gpu::JobKind kind, respo::gpu::JobState state, const std::string& message) override {
    using respo::gpu::JobState;
    const bool generation = kind == respo::gpu::JobKind::Generation;
    switch (state) {
      case JobState::Running:
        if (generation) {
          clock_.start();
          sincePreview_.start();
          Q_EMIT w_.jobStarted(id);
        } else {
          Q_EMIT w_.taskStarted(id);
        }
        break;
      case JobState::Paused: Q_EMIT w_.trainingYielded(id); break;
      case JobState::Cancelled:
        if (generation) Q_EMIT w_.jobCancelled(id);
        else Q_EMIT w_.taskCancelled(id);
        break;
      case JobState::Failed:
        if (generation) Q_EMIT w_.jobFailed(id, QString::fromUtf8(message.c_str()));
        else Q_EMIT w_.taskFailed(id, QString::fromUtf8(message.c_str()));
        break;
      default: break;
    }
  }

  void generationStepped(int id, const respo::gpu::StepUpdate& update) override {
    if (update.step == 1) Q_EMIT w_.phaseStarted(id, update.phase);
    // Previews cost a conversion and a repaint; a few per second are enough to watch.
    QImage preview;
    if (update.preview && (sincePreview_.elapsed() >= 80 || update.step == update.total)) {
      preview = toQImage(update.preview());
      sincePreview_.restart();
    }
    const double seconds = clock_.nsecsElapsed() / 1e9;
    Q_EMIT w_.stepProgressed(id, update.overallStep, update.overallTotal, preview,
                             seconds > 0 ? update.overallStep / seconds : 0.0);
  }

  void generationFinished(int id, const respo::gpu::GenerationOutcome& outcome) override {
    JobResult result;
    for (const auto& image : outcome.baseline) result.baseline.push_back(toQImage(image));
    for (const auto& image : outcome.responsible) result.responsible.push_back(toQImage(image));
    result.baselinePixels = outcome.baseline;
    result.responsiblePixels = outcome.responsible;
    result.request = outcome.request;
    result.parameters = QString::fromStdString(outcome.parameters);
    result.baselineParameters = QString::fromStdString(outcome.baselineParameters);
    for (const auto& members : outcome.members) {
      QStringList names;
      for (const auto& m : members) names << QString::fromStdString(m);
      result.members << names.join(", ");
    }
    result.baselineFromCache = outcome.baselineFromCache;
    result.responsibleIsBaseline = outcome.responsibleIsBaseline;
    result.seconds = clock_.isValid() ? clock_.nsecsElapsed() / 1e9 : 0;
    Q_EMIT w_.jobFinished(id, result);
  }

  void trainingUpdated(int id, const respo::gpu::TrainingUpdate& u) override {
    TrainingStatus status{u.step, u.total, u.resumedFrom, u.responsibleLoss, u.semanticLoss, u.seconds, u.etaSeconds,
                          {}, {}, u.history};
    for (const auto& image : u.baseline) status.baseline.push_back(toQImage(image));
    for (const auto& image : u.current) status.current.push_back(toQImage(image));
    Q_EMIT w_.trainingProgressed(id, status);
  }
  void trainingFinished(int id, const respo::gpu::TrainingOutcome& o) override {
    Q_EMIT w_.trainingFinished(id, {QString::fromStdString(o.file.string()), o.steps, o.resumedFrom, o.seconds,
                                    o.responsibleLoss, o.semanticLoss});
  }
  void reportProgressed(int id, int done, int total) override { Q_EMIT w_.reportProgressed(id, done, total); }
  void reportFinished(int id, const respo::report::Comparison& report) override { Q_EMIT w_.reportFinished(id, report); }

 private:
  GenerationWorker& w_;
  QElapsedTimer clock_, sincePreview_;  // of the running generation (one at a time)
};

GenerationWorker::GenerationWorker(std::unique_ptr<respo::gpu::Engine> engine, QObject* parent)
    : QObject(parent), events_(std::make_unique<Events>(*this)), engine_(std::move(engine)) {
  qRegisterMetaType<respo::ui::JobResult>();
  qRegisterMetaType<respo::ui::ConceptList>();
  qRegisterMetaType<respo::gpu::GenerationPhase>();
  qRegisterMetaType<respo::ui::TrainingStatus>();
  qRegisterMetaType<respo::ui::TrainingResult>();
  qRegisterMetaType<respo::ui::ReportResult>();
  engine_->setEvents(events_.get());
}

GenerationWorker::~GenerationWorker() { shutdown(); }

int GenerationWorker::enqueue(const respo::gpu::GenerationJob& job) { return engine_->submit(job); }
int GenerationWorker::enqueueTraining(const respo::gpu::TrainingJob& job) { return engine_->submit(job); }
int GenerationWorker::enqueueReport(const respo::gpu::ReportJob& job) { return engine_->submit(job); }
bool GenerationWorker::remove(int id) { return engine_->remove(id); }
void GenerationWorker::cancel(int id) { engine_->cancel(id); }
void GenerationWorker::cancelAll() { engine_->cancelAll(); }
void GenerationWorker::shutdown() { engine_->shutdown(); }
int GenerationWorker::queuedCount() const { return engine_->queuedGenerations(); }
respo::gpu::JobState GenerationWorker::state(int id) const { return engine_->state(id); }
std::vector<std::filesystem::path> GenerationWorker::conceptFolders() const { return engine_->conceptFolders(); }
std::vector<respo::gpu::UnfinishedTraining> GenerationWorker::unfinishedTrainings() const {
  return engine_->unfinishedTrainings();
}
std::vector<std::pair<std::string, std::vector<std::string>>> GenerationWorker::promptSets() const {
  return engine_->promptSets();
}
void GenerationWorker::loadModel(const QString& path) { engine_->loadModel(path.toStdString()); }
void GenerationWorker::refreshConcepts(int width, int height) { engine_->refreshConcepts(width, height); }

}  // namespace respo::ui
