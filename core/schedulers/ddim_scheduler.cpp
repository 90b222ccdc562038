#include "core/schedulers/ddim_scheduler.h"

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::sched {

DdimScheduler::DdimScheduler(const SchedulerConfig& config) : Scheduler(config) {
  finalAlphaCumprod_ = config_.setAlphaToOne ? torch::tensor(1.0f) : alphasCumprod_[0];
}

void DdimScheduler::setTimesteps(int n) {
  checkSteps(n);
  const int T = config_.numTrainTimesteps;
  std::vector<double> ts;
  if (config_.timestepSpacing == "linspace") {
    const auto lin = detail::npLinspace(0, T - 1, n);
    for (auto it = lin.rbegin(); it != lin.rend(); ++it) ts.push_back(detail::npRound(*it));
  } else if (config_.timestepSpacing == "leading") {
    const int ratio = T / n;
    for (int i = n - 1; i >= 0; --i) ts.push_back(static_cast<double>(i * ratio + config_.stepsOffset));
  } else {  // trailing
    for (const double v : detail::npArange(T, 0, -(static_cast<double>(T) / n))) ts.push_back(detail::npRound(v) - 1);
  }
  timesteps_ = std::move(ts);
  numInferenceSteps_ = n;
}

double DdimScheduler::previousTimestep(std::size_t stepIndex) const {
  checkStepIndex(stepIndex);
  return timesteps_[stepIndex] - config_.numTrainTimesteps / numInferenceSteps_;
}

torch::Tensor DdimScheduler::step(const torch::Tensor& modelOutput, std::size_t stepIndex, const torch::Tensor& sample,
                                  torch::Generator*) {
  checkStepIndex(stepIndex);
  const auto t = static_cast<std::int64_t>(timesteps_[stepIndex]);
  const auto prev = static_cast<std::int64_t>(previousTimestep(stepIndex));
  // 0-d float32 tensors throughout, as diffusers, so every rounding step is the same.
  const auto alphaT = alphaCumprodAt(t);
  const auto alphaPrev = prev >= 0 ? alphaCumprodAt(prev) : finalAlphaCumprod_;
  const auto betaT = 1 - alphaT;
  torch::Tensor x0, eps;
  const auto& type = config_.predictionType;
  if (type == "epsilon") {
    x0 = (sample - betaT.pow(0.5) * modelOutput) / alphaT.pow(0.5);
    eps = modelOutput;
  } else if (type == "sample") {
    x0 = modelOutput;
    eps = (sample - alphaT.pow(0.5) * x0) / betaT.pow(0.5);
  } else {  // v_prediction
    x0 = alphaT.pow(0.5) * sample - betaT.pow(0.5) * modelOutput;
    eps = alphaT.pow(0.5) * modelOutput + betaT.pow(0.5) * sample;
  }
  if (config_.clipSample) x0 = x0.clamp(-config_.clipSampleRange, config_.clipSampleRange);
  // eta = 0: the noise term vanishes, but its (zero) std still enters the direction term.
  const auto variance = ((1 - alphaPrev) / betaT) * (1 - alphaT / alphaPrev);
  const auto stdDev = variance.pow(0.5) * 0.0;
  const auto direction = ((1 - alphaPrev) - stdDev.pow(2)).pow(0.5) * eps;
  return alphaPrev.pow(0.5) * x0 + direction;
}

}  // namespace respo::sched
