#include "core/schedulers/pndm_scheduler.h"

#include <algorithm>

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::sched {

PndmScheduler::PndmScheduler(const SchedulerConfig& config) : Scheduler(config) {
  // diffusers rejects "sample" at the first step; refuse it up front.
  requirePrediction({"epsilon", "v_prediction"});
  if (config_.rescaleBetasZeroSnr)
    throw InvalidArgument("pndm does not support rescale_betas_zero_snr (diffusers' PNDMScheduler has no such "
                          "option); choose ddim, euler, euler_a or dpmpp_2m");
  finalAlphaCumprod_ = config_.setAlphaToOne ? torch::tensor(1.0f) : alphasCumprod_[0];
}

void PndmScheduler::setTimesteps(int n) {
  checkSteps(n);
  // diffusers' warm-up uses the last four timesteps and fails (a numpy shape error) below four.
  if (!config_.skipPrkSteps && n < 4)
    throw InvalidArgument("pndm with skip_prk_steps = false needs at least 4 steps, got " + std::to_string(n));
  const int T = config_.numTrainTimesteps;
  std::vector<std::int64_t> asc;  // ascending, as diffusers' _timesteps
  if (config_.timestepSpacing == "linspace") {
    for (const double v : detail::npLinspace(0, T - 1, n)) asc.push_back(static_cast<std::int64_t>(detail::npRound(v)));
  } else if (config_.timestepSpacing == "leading") {
    for (int i = 0; i < n; ++i) asc.push_back(static_cast<std::int64_t>(i) * (T / n) + config_.stepsOffset);
  } else {  // trailing
    for (const double v : detail::npArange(T, 0, -(static_cast<double>(T) / n)))
      asc.push_back(static_cast<std::int64_t>(detail::npRound(v)) - 1);
    std::reverse(asc.begin(), asc.end());
  }
  const auto m = asc.size();
  std::vector<std::int64_t> plms;
  prkTimesteps_.clear();
  if (config_.skipPrkSteps) {
    // All but the last, the second-to-last again, then the last; reversed. The repeated timestep
    // is the predictor/corrector pair of the first PLMS step.
    plms.assign(asc.begin(), asc.end() - 1);
    if (m >= 2) plms.push_back(asc[m - 2]);
    plms.push_back(asc[m - 1]);
    std::reverse(plms.begin(), plms.end());
  } else {
    // Each of the last four timesteps and its half-step midpoint, expanded so every RK stage gets
    // its own model call (4 stages x 3 steps), then the rest ascending as PLMS steps.
    const std::int64_t half = T / n / 2;
    std::vector<std::int64_t> pairs;
    for (std::size_t k = m - 4; k < m; ++k) {
      pairs.push_back(asc[k]);
      pairs.push_back(asc[k] + half);
    }
    pairs.pop_back();
    std::vector<std::int64_t> doubled;
    for (const auto v : pairs) doubled.insert(doubled.end(), {v, v});
    prkTimesteps_.assign(doubled.begin() + 1, doubled.end() - 1);
    std::reverse(prkTimesteps_.begin(), prkTimesteps_.end());
    plms.assign(asc.begin(), asc.end() - 3);
    std::reverse(plms.begin(), plms.end());
  }
  timesteps_.clear();
  for (const auto v : prkTimesteps_) timesteps_.push_back(static_cast<double>(v));
  for (const auto v : plms) timesteps_.push_back(static_cast<double>(v));
  numInferenceSteps_ = n;
  ets_.clear();
  curModelOutput_ = curSample_ = torch::Tensor();
  counter_ = 0;
  nextStep_ = -1;
}

torch::Tensor PndmScheduler::step(const torch::Tensor& modelOutput, std::size_t stepIndex, const torch::Tensor& sample,
                                  torch::Generator*) {
  checkStepIndex(stepIndex);
  const auto i = static_cast<std::int64_t>(stepIndex);
  if (nextStep_ >= 0 && i != nextStep_)
    throw InvalidArgument("pndm: steps must come in order after setTimesteps; expected step " +
                          std::to_string(nextStep_) + ", got " + std::to_string(i));
  nextStep_ = i + 1;
  const auto t = static_cast<std::int64_t>(timesteps_[stepIndex]);
  if (!config_.skipPrkSteps && counter_ < prkTimesteps_.size()) return stepPrk(modelOutput, t, sample);
  return stepPlms(modelOutput, t, sample);
}

torch::Tensor PndmScheduler::stepPrk(torch::Tensor modelOutput, std::int64_t timestep, const torch::Tensor& sample) {
  const std::int64_t half = config_.numTrainTimesteps / numInferenceSteps_ / 2;
  const std::int64_t prev = timestep - (counter_ % 2 ? 0 : half);
  const std::int64_t t = prkTimesteps_[counter_ / 4 * 4];
  // RK4 weights 1/6, 1/3, 1/3, 1/6; the accumulator starts from Python's integer 0.
  auto accumulate = [&](double w) {
    const auto term = modelOutput * w;
    curModelOutput_ = curModelOutput_.defined() ? curModelOutput_ + term : term + 0;
  };
  switch (counter_ % 4) {
    case 0:
      accumulate(1.0 / 6);
      ets_.push_back(modelOutput);
      curSample_ = sample;
      break;
    case 1:
    case 2:
      accumulate(1.0 / 3);
      break;
    default:
      modelOutput = (curModelOutput_.defined() ? curModelOutput_ : torch::zeros_like(modelOutput)) +
                    modelOutput * (1.0 / 6);
      curModelOutput_ = torch::Tensor();
  }
  const auto& base = curSample_.defined() ? curSample_ : sample;
  auto prevSample = previousSample(base, t, prev, modelOutput);
  ++counter_;
  return prevSample;
}

torch::Tensor PndmScheduler::stepPlms(torch::Tensor modelOutput, std::int64_t timestep, torch::Tensor sample) {
  if (!config_.skipPrkSteps && ets_.size() < 3)
    throw InvalidArgument("pndm: PLMS steps need the 12 Runge-Kutta warm-up steps first");
  const std::int64_t ratio = config_.numTrainTimesteps / numInferenceSteps_;
  std::int64_t prev = timestep - ratio;
  if (counter_ != 1) {
    if (ets_.size() > 3) ets_.erase(ets_.begin(), ets_.end() - 3);
    ets_.push_back(modelOutput);
  } else {
    // Corrector of the first step: redo it from the same sample with the averaged prediction.
    prev = timestep;
    timestep = timestep + ratio;
  }
  const auto n = ets_.size();
  const auto e = [&](std::size_t back) -> const torch::Tensor& { return ets_[n - back]; };
  if (n == 1 && counter_ == 0) {
    curSample_ = sample;
  } else if (n == 1 && counter_ == 1) {
    modelOutput = (modelOutput + e(1)) / 2;
    sample = curSample_;
    curSample_ = torch::Tensor();
  } else if (n == 2) {
    modelOutput = (e(1) * 3 - e(2)) / 2;
  } else if (n == 3) {
    modelOutput = (e(1) * 23 - e(2) * 16 + e(3) * 5) / 12;
  } else {
    modelOutput = (e(1) * 55 - e(2) * 59 + e(3) * 37 - e(4) * 9) * (1.0 / 24);
  }
  auto prevSample = previousSample(sample, timestep, prev, modelOutput);
  ++counter_;
  return prevSample;
}

torch::Tensor PndmScheduler::previousSample(const torch::Tensor& sample, std::int64_t timestep,
                                            std::int64_t prevTimestep, torch::Tensor modelOutput) const {
  // Formula (9) of the PNDM paper, in diffusers' 0-d float32 tensor arithmetic.
  const auto alphaT = alphaCumprodAt(timestep);
  const auto alphaPrev = prevTimestep >= 0 ? alphaCumprodAt(prevTimestep) : finalAlphaCumprod_;
  const auto betaT = 1 - alphaT;
  const auto betaPrev = 1 - alphaPrev;
  if (config_.predictionType == "v_prediction") modelOutput = alphaT.pow(0.5) * modelOutput + betaT.pow(0.5) * sample;
  const auto sampleCoeff = (alphaPrev / alphaT).pow(0.5);
  const auto denom = alphaT * betaPrev.pow(0.5) + (alphaT * betaT * alphaPrev).pow(0.5);
  return sampleCoeff * sample - (alphaPrev - alphaT) * modelOutput / denom;
}

}  // namespace respo::sched
