// gpu/engine.h: the engine's job queue, with a runner that computes nothing (tests/support/fake_runner.h).
// Order, states, cancellation (queued and running), removal, failures, a training run stepping aside
// for a generation, and shutdown.
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.h"
#include "gpu/engine.h"
#include "tests/support/fake_runner.h"
#include "tests/support/testing.h"

using namespace respo;
using gpu::JobState;

namespace {

// Every event as one line ("3 running", "3 done generation"), in the order the engine sent them.
class Recorder final : public gpu::EngineEvents {
 public:
  void modelLoaded(const std::filesystem::path& path, const gpu::ModelInfo&) override { add("loaded " + path.string()); }
  void modelLoadFailed(const std::filesystem::path&, const std::string& message) override { add("load failed: " + message); }
  void conceptsListed(const std::vector<gpu::ConceptInfo>& c) override { add("concepts " + std::to_string(c.size())); }
  void jobStateChanged(int id, gpu::JobKind, JobState state, const std::string& message) override {
    add(std::to_string(id) + " " + gpu::jobStateName(state) + (message.empty() ? "" : ": " + message));
  }
  void generationFinished(int id, const gpu::GenerationOutcome& o) override {
    add(std::to_string(id) + " generated " + std::to_string(o.responsible.size()));
  }
  void trainingFinished(int id, const gpu::TrainingOutcome& o) override {
    add(std::to_string(id) + " trained " + std::to_string(o.steps) + " resumed at " + std::to_string(o.resumedFrom));
  }
  void reportFinished(int id, const report::Comparison& r) override { add(std::to_string(id) + " reported " + r.first().reader); }

  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  bool has(const std::string& line) const {
    const auto all = lines();
    return std::find(all.begin(), all.end(), line) != all.end();
  }
  // Index of a line (-1 when absent).
  int at(const std::string& line) const {
    const auto all = lines();
    const auto found = std::find(all.begin(), all.end(), line);
    return found == all.end() ? -1 : static_cast<int>(found - all.begin());
  }

 private:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

template <typename Condition>
bool waitFor(Condition condition, int ms = 10000) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

gpu::GenerationJob job(std::uint64_t seed, bool withConcept = false) {
  gpu::GenerationJob j;
  j.request.prompt = "a photo of a nurse";
  j.request.seed = seed;
  j.request.steps = 4;
  if (withConcept) j.selection.modules.push_back({{"a woman", "f00dfeedf00dfeed", std::string(64, 'a')}, "w.safetensors", 1, 1});
  return j;
}

struct Fixture {
  std::shared_ptr<testing::FakeControls> controls = std::make_shared<testing::FakeControls>();
  Recorder events;
  std::unique_ptr<gpu::Engine> engine = testing::makeFakeEngine(controls);
  Fixture() {
    engine->setEvents(&events);
    engine->loadModel("models/fake");
  }
  ~Fixture() { engine->shutdown(); }
};

}  // namespace

RESPO_TEST(jobs_run_in_order_and_end_done) {
  Fixture f;
  const int a = f.engine->submit(job(1)), b = f.engine->submit(job(2, true));
  EXPECT(a != b);
  REQUIRE(waitFor([&] { return f.engine->state(b) == JobState::Done; }));
  EXPECT(f.engine->state(a) == JobState::Done);
  EXPECT(f.events.at("loaded models/fake") < f.events.at(std::to_string(a) + " running"));
  EXPECT(f.events.at(std::to_string(a) + " generated 1") < f.events.at(std::to_string(b) + " running"));
  EXPECT_EQ(f.controls->generations.load(), 2);
  EXPECT(f.engine->state(12345) == JobState::Unknown);
}

RESPO_TEST(a_queued_job_is_cancelled_or_removed_at_once_and_never_runs) {
  Fixture f;
  f.controls->hold = true;
  const int running = f.engine->submit(job(1));
  REQUIRE(waitFor([&] { return f.controls->atStep == 1; }));
  const int second = f.engine->submit(job(2)), third = f.engine->submit(job(3));
  EXPECT(f.engine->state(second) == JobState::Queued);
  EXPECT_EQ(f.engine->queuedGenerations(), 2);
  f.engine->cancel(second);
  EXPECT(f.engine->state(second) == JobState::Cancelled);
  EXPECT(f.events.has(std::to_string(second) + " cancelled"));
  EXPECT(f.engine->remove(third));
  EXPECT(!f.engine->remove(third));
  EXPECT(!f.engine->remove(running));  // it started: remove() cannot take it back
  EXPECT_EQ(f.engine->queuedGenerations(), 0);
  f.controls->hold = false;
  REQUIRE(waitFor([&] { return f.engine->state(running) == JobState::Done; }));
  EXPECT_EQ(f.controls->generations.load(), 1);
}

RESPO_TEST(a_running_job_is_cancelled_at_its_next_step) {
  Fixture f;
  f.controls->hold = true;
  const int id = f.engine->submit(job(1, true));
  REQUIRE(waitFor([&] { return f.engine->state(id) == JobState::Running && f.controls->atStep == 1; }));
  f.engine->cancel(id);
  REQUIRE(waitFor([&] { return f.engine->state(id) == JobState::Cancelled; }));
  EXPECT(!f.events.has(std::to_string(id) + " generated 1"));
  f.controls->hold = false;
  // The engine goes on with the next job.
  const int next = f.engine->submit(job(2));
  REQUIRE(waitFor([&] { return f.engine->state(next) == JobState::Done; }));
}

RESPO_TEST(a_failing_job_ends_failed_with_its_message_and_the_queue_goes_on) {
  Fixture f;
  f.controls->failNextJob("steps must be at most 1000");
  const int bad = f.engine->submit(job(1)), good = f.engine->submit(job(2));
  REQUIRE(waitFor([&] { return f.engine->state(good) == JobState::Done; }));
  EXPECT(f.engine->state(bad) == JobState::Failed);
  EXPECT(f.events.has(std::to_string(bad) + " failed: steps must be at most 1000"));
}

RESPO_TEST(a_model_that_fails_to_load_is_reported_not_thrown) {
  Fixture f;
  f.engine->loadModel("models/broken");
  REQUIRE(waitFor([&] { return f.events.has("load failed: models/broken/unet/config.json: not a model (fake)"); }));
}

RESPO_TEST(cancel_all_drops_generations_but_training_goes_on) {
  Fixture f;
  f.controls->hold = true;
  const int running = f.engine->submit(job(1));
  REQUIRE(waitFor([&] { return f.controls->atStep == 1; }));
  gpu::TrainingJob training;
  training.settings.steps = 5;
  training.output = "concepts/a-woman.safetensors";
  const int queued = f.engine->submit(job(2));
  const int train = f.engine->submit(training);
  f.engine->cancelAll();
  f.controls->hold = false;
  REQUIRE(waitFor([&] { return f.engine->state(train) == JobState::Done; }));
  EXPECT(f.engine->state(running) == JobState::Cancelled);
  EXPECT(f.engine->state(queued) == JobState::Cancelled);
  EXPECT(f.events.has(std::to_string(train) + " trained 5 resumed at 0"));
}

RESPO_TEST(training_steps_aside_for_a_generation_and_continues_under_its_id) {
  Fixture f;
  f.controls->holdTraining = true;
  gpu::TrainingJob training;
  training.settings.steps = 1000;
  training.output = "concepts/a-woman.safetensors";
  const int train = f.engine->submit(training);
  REQUIRE(waitFor([&] { return f.controls->trainingAt == 1; }));
  const int asked = f.engine->submit(job(2));  // while training runs
  REQUIRE(waitFor([&] { return f.engine->state(asked) == JobState::Done; }));
  f.controls->holdTraining = false;
  REQUIRE(waitFor([&] { return f.engine->state(train) == JobState::Done; }));
  const std::string t = std::to_string(train), g = std::to_string(asked);
  // Paused after its first step, the generation ran, then the run went on from its checkpoint.
  EXPECT(f.events.at(t + " paused") >= 0);
  EXPECT(f.events.at(t + " paused") < f.events.at(g + " running"));
  EXPECT(f.events.at(g + " generated 1") < f.events.at(t + " trained 1000 resumed at 1"));
  EXPECT_EQ(f.controls->trainings.load(), 2);
}

RESPO_TEST(shutdown_cancels_what_is_queued_and_refuses_new_jobs) {
  Fixture f;
  f.controls->hold = true;
  const int running = f.engine->submit(job(1));
  REQUIRE(waitFor([&] { return f.controls->atStep == 1; }));
  const int queued = f.engine->submit(job(2));
  f.engine->shutdown();  // returns once the running job has stopped
  EXPECT(f.engine->state(running) == JobState::Cancelled);
  EXPECT(f.engine->state(queued) == JobState::Cancelled);
  const auto before = f.events.lines().size();
  EXPECT_THROWS(f.engine->submit(job(3)), InvalidArgument, "shut down");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(f.events.lines().size(), before);  // nothing after shutdown
}

RESPO_TEST(reports_run_as_tasks_with_their_progress) {
  Fixture f;
  gpu::ReportJob report;
  report.settings.prompts = {"a doctor", "a nurse"};
  const int id = f.engine->submit(report);
  REQUIRE(waitFor([&] { return f.engine->state(id) == JobState::Done; }));
  EXPECT(f.events.has(std::to_string(id) + " reported fake"));
}
