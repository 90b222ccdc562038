#include "ui/generation_worker.h"

#include <QElapsedTimer>
#include <QMutexLocker>
#include <algorithm>
#include <cstring>

#include "core/common/error.h"

namespace respo::ui {

QImage toQImage(const respo::io::RgbImage& image) {
  if (image.empty()) return {};
  QImage out(image.width, image.height, QImage::Format_RGB888);
  const int rowBytes = image.width * 3;
  for (int y = 0; y < image.height; ++y)
    std::memcpy(out.scanLine(y), image.pixels.data() + static_cast<std::size_t>(y) * rowBytes, rowBytes);
  return out;
}

respo::io::RgbImage fromQImage(const QImage& image) {
  const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
  respo::io::RgbImage out{rgb.width(), rgb.height(), {}};
  out.pixels.resize(static_cast<std::size_t>(rgb.width()) * rgb.height() * 3);
  const int rowBytes = rgb.width() * 3;
  for (int y = 0; y < rgb.height(); ++y)
    std::memcpy(out.pixels.data() + static_cast<std::size_t>(y) * rowBytes, rgb.constScanLine(y), rowBytes);
  return out;
}

GenerationWorker::GenerationWorker(QThread* thread, std::vector<std::filesystem::path> conceptFolders)
    : conceptFolders_(std::move(conceptFolders)) {
  qRegisterMetaType<respo::ui::JobResult>();
  qRegisterMetaType<respo::ui::ConceptList>();
  qRegisterMetaType<respo::gpu::GenerationPhase>();
  qRegisterMetaType<respo::ui::TrainingStatus>();
  qRegisterMetaType<respo::ui::TrainingResult>();
  qRegisterMetaType<respo::ui::ReportResult>();
  moveToThread(thread);
}

GenerationWorker::~GenerationWorker() = default;

respo::gpu::GenerationService& GenerationWorker::service() {
  // Made on the worker thread, so the device context (CUDA) belongs to the thread that computes.
  if (!service_) service_ = std::make_unique<respo::gpu::GenerationService>(conceptFolders_);
  return *service_;
}

int GenerationWorker::queuedGenerationsLocked() const {
  return static_cast<int>(std::count_if(queue_.begin(), queue_.end(), [](const Pending& p) { return p.isGeneration(); }));
}

int GenerationWorker::push(std::variant<respo::gpu::GenerationJob, respo::gpu::TrainingJob, respo::gpu::ReportJob> job) {
  int id = 0, queued = 0;
  {
    QMutexLocker lock(&mutex_);
    id = nextId_++;
    queue_.push_back({id, std::move(job)});
    queued = queuedGenerationsLocked();
  }
  Q_EMIT queueChanged(queued);
  QMetaObject::invokeMethod(this, &GenerationWorker::runNext, Qt::QueuedConnection);
  return id;
}

int GenerationWorker::enqueue(const respo::gpu::GenerationJob& job) { return push(job); }
int GenerationWorker::enqueueTraining(const respo::gpu::TrainingJob& job) { return push(job); }
int GenerationWorker::enqueueReport(const respo::gpu::ReportJob& job) { return push(job); }

std::vector<std::filesystem::path> GenerationWorker::conceptFolders() const {
  return respo::gpu::GenerationService::resolveConceptFolders(conceptFolders_);
}

std::vector<respo::gpu::UnfinishedTraining> GenerationWorker::unfinishedTrainings() const {
  return respo::gpu::GenerationService::unfinishedTrainings(conceptFolders());
}

std::optional<GenerationWorker::Pending> GenerationWorker::take(int id) {
  std::optional<Pending> taken;
  int queued = 0;
  {
    QMutexLocker lock(&mutex_);
    const auto found = std::find_if(queue_.begin(), queue_.end(), [id](const Pending& p) { return p.id == id; });
    if (found == queue_.end()) return std::nullopt;
    taken = std::move(*found);
    queue_.erase(found);
    queued = queuedGenerationsLocked();
  }
  Q_EMIT queueChanged(queued);
  return taken;
}

bool GenerationWorker::remove(int id) { return take(id).has_value(); }

void GenerationWorker::cancel(int id) {
  if (const auto taken = take(id)) {
    if (taken->isGeneration()) Q_EMIT jobCancelled(id);
    else Q_EMIT taskCancelled(id);  // e.g. a training run waiting behind a generation
    return;
  }
  cancelledId_ = id;
}

void GenerationWorker::cancelAll() {
  std::deque<Pending> dropped;
  {
    QMutexLocker lock(&mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->isGeneration()) dropped.push_back(std::move(*it)), it = queue_.erase(it);
      else ++it;
    }
  }
  for (const auto& p : dropped) Q_EMIT jobCancelled(p.id);
  if (runningIsGeneration_) cancelledId_ = runningId_.load();
  if (!dropped.empty()) Q_EMIT queueChanged(0);
}

void GenerationWorker::shutdown() {
  std::deque<Pending> dropped;
  {
    QMutexLocker lock(&mutex_);
    dropped.swap(queue_);
  }
  for (const auto& p : dropped) {
    if (p.isGeneration()) Q_EMIT jobCancelled(p.id);
    else Q_EMIT taskCancelled(p.id);
  }
  cancelledId_ = runningId_.load();
  if (!dropped.empty()) Q_EMIT queueChanged(0);
}

int GenerationWorker::queuedCount() const {
  QMutexLocker lock(&mutex_);
  return queuedGenerationsLocked();
}

void GenerationWorker::loadModel(const QString& path) {
  try {
    const auto info = service().loadModel(path.toStdString(), [this](const std::string& status) {
      Q_EMIT modelLoadProgressed(QString::fromStdString(status));
    });
    // The device has its own label in the status bar.
    const QString description = QString::fromStdString(info.name + " (" + info.family + ", " +
                                                       std::to_string(info.nativeSize) + " px)");
    Q_EMIT modelLoaded(path, description, info.nativeSize, info.sizeStep);
    Q_EMIT conceptsChanged(service().concepts());
  } catch (const std::exception& e) {
    Q_EMIT modelLoadFailed(path, QString::fromUtf8(e.what()));
  }
}

void GenerationWorker::refreshConcepts(int width, int height) {
  try {
    Q_EMIT conceptsChanged(service().concepts(width, height));
  } catch (const std::exception&) {
    // An unreadable library folder: the panel keeps what it shows.
  }
}

void GenerationWorker::runNext() {
  Pending next;
  int queued = 0;
  {
    QMutexLocker lock(&mutex_);
    if (queue_.empty()) return;  // removed before it started
    next = std::move(queue_.front());
    queue_.pop_front();
    queued = queuedGenerationsLocked();
  }
  const int id = next.id;
  runningIsGeneration_ = next.isGeneration();
  runningId_ = id;
  if (next.isGeneration()) Q_EMIT jobStarted(id);  // before the queue shrinks: the UI never sees idleness
  else Q_EMIT taskStarted(id);
  Q_EMIT queueChanged(queued);
  if (auto* job = std::get_if<respo::gpu::GenerationJob>(&next.job)) runGeneration(id, *job);
  else if (auto* training = std::get_if<respo::gpu::TrainingJob>(&next.job)) runTraining(id, *training);
  else runReport(id, std::get<respo::gpu::ReportJob>(next.job));
  runningId_ = 0;
  int expected = id;  // a later cancel of another job stays in force
  cancelledId_.compare_exchange_strong(expected, 0);
}

void GenerationWorker::runTask(int id, const std::function<void()>& body) {
  try {
    body();
  } catch (const respo::Cancelled&) {
    runningId_ = 0;
    Q_EMIT taskCancelled(id);
  } catch (const std::exception& e) {
    runningId_ = 0;
    Q_EMIT taskFailed(id, QString::fromUtf8(e.what()));
  }
}

bool GenerationWorker::generationWaiting() const {
  QMutexLocker lock(&mutex_);
  return queuedGenerationsLocked() > 0;
}

void GenerationWorker::runTraining(int id, const respo::gpu::TrainingJob& job) {
  runTask(id, [&] {
    // A generation asked for while training runs first: the run stops at its next step (writing its
    // checkpoint, which resumes exactly), goes back into the queue behind the waiting generations,
    // and continues after them under the same id.
    bool yielded = false;
    std::optional<respo::gpu::TrainingOutcome> outcome;
    try {
      outcome = service().train(job, [&](const respo::gpu::TrainingUpdate& u) {
        if (cancelledId_.load() == id) return false;
        TrainingStatus status{u.step, u.total, u.resumedFrom, u.responsibleLoss, u.semanticLoss, u.seconds, u.etaSeconds,
                              {}, {}, u.history};
        for (const auto& image : u.baseline) status.baseline.push_back(toQImage(image));
        for (const auto& image : u.current) status.current.push_back(toQImage(image));
        Q_EMIT trainingProgressed(id, status);
        if (cancelledId_.load() == id) return false;
        if (u.step > u.resumedFrom && u.step < u.total && generationWaiting()) yielded = true;
        return !yielded;
      });
    } catch (const respo::Cancelled&) {
      if (!yielded || cancelledId_.load() == id) throw;
      auto resumed = job;
      resumed.resume = true;
      {
        QMutexLocker lock(&mutex_);
        auto at = queue_.begin();
        while (at != queue_.end() && at->isGeneration()) ++at;
        queue_.insert(at, Pending{id, resumed});
      }
      Q_EMIT trainingYielded(id);
      QMetaObject::invokeMethod(this, &GenerationWorker::runNext, Qt::QueuedConnection);
      return;
    }
    runningId_ = 0;
    Q_EMIT trainingFinished(id, {QString::fromStdString(outcome->file.string()), outcome->steps, outcome->resumedFrom,
                                 outcome->seconds, outcome->responsibleLoss, outcome->semanticLoss});
    Q_EMIT conceptsChanged(service().concepts());
  });
}

void GenerationWorker::runReport(int id, const respo::gpu::ReportJob& job) {
  runTask(id, [&] {
    auto result = service().report(job, [&](int done, int total) {
      Q_EMIT reportProgressed(id, done, total);
      return cancelledId_.load() != id;
    });
    runningId_ = 0;
    Q_EMIT reportFinished(id, result);
  });
}

void GenerationWorker::runGeneration(int id, const respo::gpu::GenerationJob& job) {
  QElapsedTimer clock, sincePreview;
  clock.start();
  sincePreview.start();
  auto onStep = [&](const respo::gpu::StepUpdate& update) {
    if (cancelledId_.load() == id) return false;
    if (update.step == 1) Q_EMIT phaseStarted(id, update.phase);
    // Previews cost a conversion and a repaint; a few per second are enough to watch.
    QImage preview;
    if (update.preview && (sincePreview.elapsed() >= 80 || update.step == update.total)) {
      preview = toQImage(update.preview());
      sincePreview.restart();
    }
    const double seconds = clock.nsecsElapsed() / 1e9;
    Q_EMIT stepProgressed(id, update.overallStep, update.overallTotal, preview,
                          seconds > 0 ? update.overallStep / seconds : 0.0);
    return cancelledId_.load() != id;
  };
  try {
    const auto outcome = service().generate(job, onStep);
    JobResult result;
    for (const auto& image : outcome.baseline) result.baseline.push_back(toQImage(image));
    for (const auto& image : outcome.responsible) result.responsible.push_back(toQImage(image));
    result.job = job;
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
    result.seconds = clock.nsecsElapsed() / 1e9;
    runningId_ = 0;
    Q_EMIT jobFinished(id, result);
  } catch (const respo::Cancelled&) {
    runningId_ = 0;
    Q_EMIT jobCancelled(id);
  } catch (const std::exception& e) {
    runningId_ = 0;
    Q_EMIT jobFailed(id, QString::fromUtf8(e.what()));
  }
}

}  // namespace respo::ui
