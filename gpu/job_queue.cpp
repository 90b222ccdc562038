// The engine's job queue: one thread, one runner, jobs in order (see engine.h).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "core/common/error.h"
#include "gpu/engine.h"

namespace respo::gpu {

const char* jobStateName(JobState state) {
  switch (state) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Paused: return "paused";
    case JobState::Done: return "done";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
    case JobState::Unknown: break;
  }
  return "unknown";
}

namespace {

struct LoadModel {
  std::filesystem::path path;
};
struct ListConcepts {
  int width = 0, height = 0;
};
using Work = std::variant<GenerationJob, TrainingJob, ReportJob, LoadModel, ListConcepts>;

JobKind kindOf(const Work& work) {
  if (std::holds_alternative<TrainingJob>(work)) return JobKind::Training;
  if (std::holds_alternative<ReportJob>(work)) return JobKind::Report;
  return JobKind::Generation;
}

class ServiceRunner final : public JobRunner {
 public:
  ServiceRunner(std::vector<std::filesystem::path> folders, std::vector<report::ReportExtension> extensions)
      : service_(std::move(folders), std::move(extensions)) {}
  ModelInfo loadModel(const std::filesystem::path& path, const StatusObserver& onStatus) override {
    return service_.loadModel(path, onStatus);
  }
  std::vector<ConceptInfo> concepts(int width, int height) override { return service_.concepts(width, height); }
  GenerationOutcome generate(const GenerationJob& job, const StepObserver& onStep) override {
    return service_.generate(job, onStep);
  }
  TrainingOutcome train(const TrainingJob& job, const TrainingObserver& onUpdate) override {
    return service_.train(job, onUpdate);
  }
  report::Comparison report(const ReportJob& job, const ReportObserver& onProgress) override {
    return service_.report(job, onProgress);
  }

 private:
  GenerationService service_;
};

class JobQueue final : public Engine {
 public:
  JobQueue(RunnerFactory makeRunner, std::vector<std::filesystem::path> folders,
           std::vector<report::ReportExtension> extensions)
      : makeRunner_(std::move(makeRunner)), folders_(std::move(folders)),
        promptSets_(GenerationService::builtInPromptSets(extensions)) {}
  ~JobQueue() override { shutdown(); }

  void setEvents(EngineEvents* events) override { events_ = events ? events : &ignored_; }
  void loadModel(const std::filesystem::path& path) override { push(LoadModel{path}); }
  void refreshConcepts(int width, int height) override { push(ListConcepts{width, height}); }
  int submit(const GenerationJob& job) override { return push(job); }
  int submit(const TrainingJob& job) override { return push(job); }
  int submit(const ReportJob& job) override { return push(job); }

  bool remove(int id) override { return take(id).has_value(); }

  void cancel(int id) override {
    if (auto taken = take(id)) {
      setState(id, JobState::Cancelled);
      events_->jobStateChanged(id, kindOf(taken->work), JobState::Cancelled, {});
      return;
    }
    cancelled_ = id;
  }

  void cancelAll() override {
    std::deque<Pending> dropped;
    {
      std::lock_guard lock(mutex_);
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->id != 0 && std::holds_alternative<GenerationJob>(it->work)) dropped.push_back(std::move(*it)), it = queue_.erase(it);
        else ++it;
      }
      for (const auto& p : dropped) states_[p.id] = JobState::Cancelled;
    }
    for (const auto& p : dropped) events_->jobStateChanged(p.id, JobKind::Generation, JobState::Cancelled, {});
    if (runningGeneration_) cancelled_ = running_.load();
    if (!dropped.empty()) events_->queueChanged(0);
  }

  void shutdown() override {
    std::deque<Pending> dropped;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      dropped.swap(queue_);
      for (const auto& p : dropped)
        if (p.id != 0) states_[p.id] = JobState::Cancelled;
    }
    for (const auto& p : dropped)
      if (p.id != 0) events_->jobStateChanged(p.id, kindOf(p.work), JobState::Cancelled, {});
    cancelled_ = running_.load();
    if (!dropped.empty()) events_->queueChanged(0);
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  int queuedGenerations() const override {
    std::lock_guard lock(mutex_);
    return queuedGenerationsLocked();
  }

  JobState state(int id) const override {
    std::lock_guard lock(mutex_);
    const auto found = states_.find(id);
    return found == states_.end() ? JobState::Unknown : found->second;
  }

  std::vector<std::filesystem::path> conceptFolders() const override {
    return GenerationService::resolveConceptFolders(folders_);
  }
  std::vector<UnfinishedTraining> unfinishedTrainings() const override {
    return GenerationService::unfinishedTrainings(conceptFolders());
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> promptSets() const override { return promptSets_; }

 private:
  struct Pending {
    int id = 0;  // 0: a model load or a concept listing (not a job)
    Work work;
  };

  int queuedGenerationsLocked() const {
    return static_cast<int>(std::count_if(queue_.begin(), queue_.end(), [](const Pending& p) {
      return p.id != 0 && std::holds_alternative<GenerationJob>(p.work);
    }));
  }

  int push(Work work) {
    const bool isJob = !std::holds_alternative<LoadModel>(work) && !std::holds_alternative<ListConcepts>(work);
    int id = 0, queued = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) throw InvalidArgument("the engine has shut down");
      if (isJob) {
        id = nextId_++;
        states_[id] = JobState::Queued;
      }
      queue_.push_back({id, std::move(work)});
      queued = queuedGenerationsLocked();
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
    wake_.notify_one();
    if (isJob) events_->queueChanged(queued);
    return id;
  }

  std::optional<Pending> take(int id) {
    if (id == 0) return std::nullopt;
    std::optional<Pending> taken;
    int queued = 0;
    {
      std::lock_guard lock(mutex_);
      const auto found = std::find_if(queue_.begin(), queue_.end(), [id](const Pending& p) { return p.id == id; });
      if (found == queue_.end()) return std::nullopt;
      taken = std::move(*found);
      queue_.erase(found);
      states_.erase(id);
      queued = queuedGenerationsLocked();
    }
    events_->queueChanged(queued);
    return taken;
  }

  void setState(int id, JobState state) {
    std::lock_guard lock(mutex_);
    states_[id] = state;
  }

  bool generationWaiting() const {
    std::lock_guard lock(mutex_);
    return queuedGenerationsLocked() > 0;
  }

  JobRunner& runner() {
    if (!runner_) runner_ = makeRunner_();
    return *runner_;
  }

  void loop() {
    for (;;) {
      Pending next;
      int queued = 0;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) break;
        next = std::move(queue_.front());
        queue_.pop_front();
        queued = queuedGenerationsLocked();
        if (next.id != 0) states_[next.id] = JobState::Running;
      }
      if (auto* load = std::get_if<LoadModel>(&next.work)) {
        runLoad(load->path);
        continue;
      }
      if (auto* list = std::get_if<ListConcepts>(&next.work)) {
        try {
          events_->conceptsListed(runner().concepts(list->width, list->height));
        } catch (const std::exception&) {
          // An unreadable library folder: the front end keeps what it shows.
        }
        continue;
      }
      const int id = next.id;
      const JobKind kind = kindOf(next.work);
      runningGeneration_ = kind == JobKind::Generation;
      running_ = id;
      // Started before the queue shrinks: a front end never sees a moment of idleness in between.
      events_->jobStateChanged(id, kind, JobState::Running, {});
      events_->queueChanged(queued);
      run(id, kind, next.work);
      running_ = 0;
      int expected = id;  // a later cancel of another job stays in force
      cancelled_.compare_exchange_strong(expected, 0);
    }
    runner_.reset();  // on this thread, like everything it did
  }

  void runLoad(const std::filesystem::path& path) {
    try {
      const auto info = runner().loadModel(path, [this](const std::string& status) { events_->modelLoading(status); });
      events_->modelLoaded(path, info);
      events_->conceptsListed(runner().concepts(0, 0));
    } catch (const std::exception& e) {
      events_->modelLoadFailed(path, e.what());
    }
  }

  // Ends a job: its state, then the event (after the result events of a finished job).
  void end(int id, JobKind kind, JobState state, const std::string& message = {}) {
    running_ = 0;
    setState(id, state);
    if (state != JobState::Done) events_->jobStateChanged(id, kind, state, message);
  }

  void run(int id, JobKind kind, const Work& work) {
    try {
      if (auto* job = std::get_if<GenerationJob>(&work)) {
        const auto outcome = runner().generate(*job, [&](const StepUpdate& update) {
          if (cancelled_.load() == id) return false;
          events_->generationStepped(id, update);
          return cancelled_.load() != id;
        });
        running_ = 0;
        events_->generationFinished(id, outcome);
        end(id, kind, JobState::Done);
      } else if (auto* training = std::get_if<TrainingJob>(&work)) {
        runTraining(id, *training);
      } else {
        const auto result = runner().report(std::get<ReportJob>(work), [&](int done, int total) {
          events_->reportProgressed(id, done, total);
          return cancelled_.load() != id;
        });
        running_ = 0;
        events_->reportFinished(id, result);
        end(id, kind, JobState::Done);
      }
    } catch (const Cancelled&) {
      end(id, kind, JobState::Cancelled);
    } catch (const std::exception& e) {
      end(id, kind, JobState::Failed, e.what());
    }
  }

  void runTraining(int id, const TrainingJob& job) {
    // A generation asked for while training runs goes first: the run stops at its next step (writing
    // its checkpoint, which resumes exactly), is queued again behind the waiting generations, and
    // continues after them under the same id.
    bool yielded = false;
    std::optional<TrainingOutcome> outcome;
    try {
      outcome = runner().train(job, [&](const TrainingUpdate& u) {
        if (cancelled_.load() == id) return false;
        events_->trainingUpdated(id, u);
        if (cancelled_.load() == id) return false;
        if (u.step > u.resumedFrom && u.step < u.total && generationWaiting()) yielded = true;
        return !yielded;
      });
    } catch (const Cancelled&) {
      if (!yielded || cancelled_.load() == id) throw;
      auto resumed = job;
      resumed.resume = true;
      {
        std::lock_guard lock(mutex_);
        auto at = queue_.begin();
        while (at != queue_.end() && at->id != 0 && std::holds_alternative<GenerationJob>(at->work)) ++at;
        queue_.insert(at, Pending{id, resumed});
        states_[id] = JobState::Paused;
      }
      running_ = 0;
      events_->jobStateChanged(id, JobKind::Training, JobState::Paused, {});
      return;
    }
    running_ = 0;
    events_->trainingFinished(id, *outcome);
    end(id, JobKind::Training, JobState::Done);
    try {
      events_->conceptsListed(runner().concepts(0, 0));
    } catch (const std::exception&) {
    }
  }

  RunnerFactory makeRunner_;
  std::vector<std::filesystem::path> folders_;
  std::vector<std::pair<std::string, std::vector<std::string>>> promptSets_;
  EngineEvents ignored_;
  EngineEvents* events_ = &ignored_;
  std::unique_ptr<JobRunner> runner_;  // made and destroyed on the engine's thread

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::map<int, JobState> states_;
  int nextId_ = 1;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<int> running_{0};
  std::atomic<bool> runningGeneration_{false};
  std::atomic<int> cancelled_{0};
};

}  // namespace

std::unique_ptr<Engine> makeEngine(RunnerFactory makeRunner, std::vector<std::filesystem::path> conceptFolders,
                                   std::vector<report::ReportExtension> extensions) {
  return std::make_unique<JobQueue>(std::move(makeRunner), std::move(conceptFolders), std::move(extensions));
}

std::unique_ptr<Engine> makeServiceEngine(std::vector<std::filesystem::path> conceptFolders,
                                          std::vector<report::ReportExtension> extensions) {
  return makeEngine([folders = conceptFolders, extensions] { return std::make_unique<ServiceRunner>(folders, extensions); },
                    std::move(conceptFolders), extensions);
}

}  // namespace respo::gpu
