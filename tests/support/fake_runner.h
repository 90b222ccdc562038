#pragma once
// A JobRunner that computes nothing: a "model" loads at once, a generation makes deterministic flat
// images from the seed (the responsible side differs when a concept is selected) with the real
// parameters text, training and reports step through their callbacks. With it, the engine's real
// queue and the studio's widgets are tested in milliseconds. `FakeControls` lets a test hold a job
// at a step, make the next job fail, and see what ran.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.h"
#include "core/pipeline/generation_parameters.h"
#include "gpu/engine.h"

namespace respo::testing {

struct FakeControls {
  std::atomic<bool> hold{false};   // a running job waits at its first step while true (cancel still works)
  std::atomic<int> atStep{0};      // the step a held job waits at (0: none waiting)
  std::atomic<bool> holdTraining{false};  // a fresh training run waits at its first step while true
  std::atomic<int> trainingAt{0};         // 1 while a training run is held
  std::atomic<int> generations{0}, trainings{0}, reports{0}, loads{0};
  std::mutex mutex;
  std::string failNext;            // the next job (any kind) throws this, when not empty
  std::vector<gpu::ConceptInfo> concepts;
  std::string fingerprint = "f00dfeedf00dfeed";

  std::string takeFailure() {
    std::lock_guard lock(mutex);
    std::string message;
    message.swap(failNext);
    return message;
  }
  void failNextJob(const std::string& message) {
    std::lock_guard lock(mutex);
    failNext = message;
  }
};

// A concept the fake library lists.
inline gpu::ConceptInfo fakeConcept(const std::string& name, const std::string& group, const std::string& file,
                                    char hashDigit, const std::string& fingerprint = "f00dfeedf00dfeed") {
  gpu::ConceptInfo c;
  c.file = file;
  c.settings.name = name;
  c.settings.group = group;
  c.settings.kind = group == "safety" ? concepts::ConceptKind::Safety : concepts::ConceptKind::Fairness;
  c.fingerprint = fingerprint;
  c.fileHash = std::string(64, hashDigit);
  c.hShape = {1, 8, 4, 4};
  c.fits = true;
  return c;
}

class FakeRunner final : public gpu::JobRunner {
 public:
  explicit FakeRunner(std::shared_ptr<FakeControls> controls) : c_(std::move(controls)) {}

  gpu::ModelInfo loadModel(const std::filesystem::path& path, const gpu::StatusObserver& onStatus) override {
    ++c_->loads;
    if (onStatus) onStatus("reading the fake model");
    if (path.string().find("broken") != std::string::npos)
      throw FormatError(path.string() + "/unet/config.json: not a model (fake)");
    model_ = {path, path.filename().string(), "fake", c_->fingerprint, 64, 8};
    return model_;
  }

  std::vector<gpu::ConceptInfo> concepts(int, int) override {
    std::lock_guard lock(c_->mutex);
    return c_->concepts;
  }

  gpu::GenerationOutcome generate(const gpu::GenerationJob& job, const gpu::StepObserver& onStep) override {
    ++c_->generations;
    failIfAsked();
    gpu::GenerationOutcome out;
    out.request = job.request;
    if (out.request.width == 0) out.request.width = model_.nativeSize;
    if (out.request.height == 0) out.request.height = model_.nativeSize;
    out.request.validateSettings();
    const bool responsible = !job.selection.empty();
    const int phases = responsible ? 2 : 1;
    const int total = out.request.steps;
    for (int phase = 0; phase < phases; ++phase) {
      for (int step = 1; step <= total; ++step) {
        gpu::StepUpdate u;
        u.phase = phase == 0 ? gpu::GenerationPhase::Baseline : gpu::GenerationPhase::Responsible;
        u.step = step;
        u.total = total;
        u.overallStep = phase * total + step;
        u.overallTotal = phases * total;
        const auto seed = out.request.seed;
        const int w = out.request.width, h = out.request.height;
        u.preview = [w, h, seed] { return flat(w, h, static_cast<std::uint8_t>(seed * 7)); };
        if (onStep && !onStep(u)) throw Cancelled("cancelled");
        holdIfAsked(step, onStep, u);
      }
    }
    for (int i = 0; i < out.request.batch; ++i) {
      const auto value = static_cast<std::uint8_t>(out.request.seed * 37 + static_cast<std::uint64_t>(i) * 11 + 5);
      out.baseline.push_back(flat(out.request.width, out.request.height, value));
      out.responsible.push_back(responsible ? flat(out.request.width, out.request.height, 255 - value)
                                            : out.baseline.back());
      if (responsible) out.members.push_back({job.selection.modules.front().id.name});
    }
    out.responsibleIsBaseline = !responsible;
    out.conceptSettings = job.selection.toParameters();
    out.parameters = pipeline::formatParameters(out.request, model_.name, out.conceptSettings);
    out.baselineParameters = pipeline::formatParameters(out.request, model_.name);
    return out;
  }

  gpu::TrainingOutcome train(const gpu::TrainingJob& job, const gpu::TrainingObserver& onUpdate) override {
    ++c_->trainings;
    failIfAsked();
    const int steps = job.settings.steps;
    for (int step = done_ + 1; step <= steps; ++step) {
      gpu::TrainingUpdate u;
      u.step = step;
      u.total = steps;
      u.resumedFrom = resumedFrom_;
      u.responsibleLoss = 1.0 / step;
      u.semanticLoss = 0.5 / step;
      done_ = step;
      auto stop = [&] {
        resumedFrom_ = step;  // as the real trainer: the checkpoint holds the steps done
        c_->trainingAt = 0;
        throw Cancelled("training stopped");
      };
      if (onUpdate && !onUpdate(u)) stop();
      while (step == 1 && resumedFrom_ == 0 && c_->holdTraining) {
        c_->trainingAt = 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (onUpdate && !onUpdate(u)) stop();
      }
      c_->trainingAt = 0;
    }
    gpu::TrainingOutcome out{job.output, steps, resumedFrom_, 0.01, 1.0 / steps, 0.5 / steps};
    done_ = resumedFrom_ = 0;
    return out;
  }

  report::Comparison report(const gpu::ReportJob& job, const gpu::ReportObserver& onProgress) override {
    ++c_->reports;
    failIfAsked();
    report::FairnessReport one;
    one.reader = "fake";
    one.settings = job.settings;
    for (const auto& m : job.selection.modules) one.concepts.push_back(m.id.name);
    const int total = static_cast<int>(job.settings.prompts.size());
    for (int i = 1; i <= total; ++i)
      if (onProgress && !onProgress(i, total)) throw Cancelled("report stopped");
    report::Comparison out;
    if (job.methods.empty()) out.labels = {"RespoDiff"};
    for (const auto& m : job.methods) out.labels.push_back(m.label);
    out.reports.assign(out.labels.size(), one);
    return out;
  }

  static io::RgbImage flat(int w, int h, std::uint8_t value) {
    return {w, h, std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h * 3, value)};
  }

 private:
  void failIfAsked() {
    if (auto message = c_->takeFailure(); !message.empty()) throw InvalidArgument(message);
  }
  void holdIfAsked(int step, const gpu::StepObserver& onStep, const gpu::StepUpdate& u) {
    if (step != 1 || !c_->hold) return;
    c_->atStep = step;
    while (c_->hold) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (onStep && !onStep(u)) {
        c_->atStep = 0;
        throw Cancelled("cancelled");
      }
    }
    c_->atStep = 0;
  }

  std::shared_ptr<FakeControls> c_;
  gpu::ModelInfo model_;
  int done_ = 0, resumedFrom_ = 0;
};

// The real engine (queue, thread, states) running the fake runner.
inline std::unique_ptr<gpu::Engine> makeFakeEngine(std::shared_ptr<FakeControls> controls,
                                                  std::vector<std::filesystem::path> conceptFolders = {}) {
  return gpu::makeEngine([controls] { return std::make_unique<FakeRunner>(controls); }, std::move(conceptFolders));
}

}  // namespace respo::testing
