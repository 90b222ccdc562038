#pragma once
// The engine a front end talks to: one queue of jobs (generations, training runs, fairness reports)
// run one at a time on the engine's own thread against one loaded model. Qt-free: the app wraps it
// in a QObject that turns events into signals; tests give the window a fake runner instead of the
// real service, so widget tests take milliseconds.
//
// Job states: queued -> running -> done | failed | cancelled. A training run steps aside for a
// generation asked for while it runs (paused: its checkpoint is written and it is queued again behind
// the waiting generations, then runs on under the same id).
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gpu/generation_service.h"

namespace respo::gpu {

enum class JobKind { Generation, Training, Report };
enum class JobState { Unknown, Queued, Running, Paused, Done, Failed, Cancelled };
const char* jobStateName(JobState state);

// What the engine reports, called on the engine's thread (keep handlers short; a Qt front end
// emits signals from here). The default handlers ignore the event.
class EngineEvents {
 public:
  virtual ~EngineEvents() = default;
  virtual void modelLoading(const std::string& /*status*/) {}
  virtual void modelLoaded(const std::filesystem::path& /*path*/, const ModelInfo& /*info*/) {}
  virtual void modelLoadFailed(const std::filesystem::path& /*path*/, const std::string& /*message*/) {}
  virtual void conceptsListed(const std::vector<ConceptInfo>& /*concepts*/) {}
  virtual void queueChanged(int /*queuedGenerations*/) {}
  // Running, Paused, Failed (with the message) and Cancelled; Done follows the result event below.
  virtual void jobStateChanged(int /*id*/, JobKind /*kind*/, JobState /*state*/, const std::string& /*message*/) {}
  virtual void generationStepped(int /*id*/, const StepUpdate& /*update*/) {}
  virtual void generationFinished(int /*id*/, const GenerationOutcome& /*outcome*/) {}
  virtual void trainingUpdated(int /*id*/, const TrainingUpdate& /*update*/) {}
  virtual void trainingFinished(int /*id*/, const TrainingOutcome& /*outcome*/) {}
  virtual void reportProgressed(int /*id*/, int /*done*/, int /*total*/) {}
  virtual void reportFinished(int /*id*/, const report::Comparison& /*report*/) {}
};

// What the queue runs a job with: the generation service, or a fake in tests. Made and used on the
// engine's thread only (a device context belongs to the thread that computes).
class JobRunner {
 public:
  virtual ~JobRunner() = default;
  virtual ModelInfo loadModel(const std::filesystem::path& path, const StatusObserver& onStatus) = 0;
  virtual std::vector<ConceptInfo> concepts(int width, int height) = 0;
  virtual GenerationOutcome generate(const GenerationJob& job, const StepObserver& onStep) = 0;
  virtual TrainingOutcome train(const TrainingJob& job, const TrainingObserver& onUpdate) = 0;
  virtual report::Comparison report(const ReportJob& job, const ReportObserver& onProgress) = 0;
};
using RunnerFactory = std::function<std::unique_ptr<JobRunner>()>;

class Engine {
 public:
  virtual ~Engine() = default;
  // Set before the first request; the events object must outlive the engine's thread (shutdown()).
  virtual void setEvents(EngineEvents* events) = 0;

  // Asynchronous, in queue order with the jobs: load a model, list the concept library at a size.
  virtual void loadModel(const std::filesystem::path& path) = 0;
  virtual void refreshConcepts(int width, int height) = 0;
  // Thread-safe. Each returns the job's id; a job runs after those queued before it.
  virtual int submit(const GenerationJob& job) = 0;
  virtual int submit(const TrainingJob& job) = 0;
  virtual int submit(const ReportJob& job) = 0;
  // Takes a queued job out before it starts (no event); false when it already started or ended.
  virtual bool remove(int id) = 0;
  // A queued job ends cancelled at once; a running one at its next step.
  virtual void cancel(int id) = 0;
  // Cancels the queued and running generations (training runs and reports go on).
  virtual void cancelAll() = 0;
  // Cancels everything and stops the engine's thread; no event comes after it returns.
  virtual void shutdown() = 0;
  virtual int queuedGenerations() const = 0;
  virtual JobState state(int id) const = 0;

  // The concept library's folders (the user's first) and the training runs stopped early there.
  virtual std::vector<std::filesystem::path> conceptFolders() const = 0;
  virtual std::vector<UnfinishedTraining> unfinishedTrainings() const = 0;
  // The prompt lists the fairness report offers (GenerationService::builtInPromptSets).
  virtual std::vector<std::pair<std::string, std::vector<std::string>>> promptSets() const = 0;
};

// The queue on its own thread, running jobs with what `makeRunner` makes (on that thread).
std::unique_ptr<Engine> makeEngine(RunnerFactory makeRunner, std::vector<std::filesystem::path> conceptFolders = {},
                                   std::vector<report::ReportExtension> extensions = {});
// The app's engine: the generation service on the best available device, with the report
// extensions the app passes (the toy world's).
std::unique_ptr<Engine> makeServiceEngine(std::vector<std::filesystem::path> conceptFolders = {},
                                          std::vector<report::ReportExtension> extensions = {});

}  // namespace respo::gpu
