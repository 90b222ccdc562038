#include "core/schedulers/dpm_solver_multistep_scheduler.h"

#include <cmath>

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::sched {
namespace {

// alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma * alpha_t, written with the same tensor ops
// as diffusers (Python's 1 / x is x.reciprocal() * 1).
std::pair<torch::Tensor, torch::Tensor> alphaSigma(const torch::Tensor& sigma) {
  const auto alpha = (sigma.pow(2) + 1).pow(0.5).reciprocal() * 1;
  return {alpha, sigma * alpha};
}

torch::Tensor lambdaOf(const std::pair<torch::Tensor, torch::Tensor>& as) {
  return torch::log(as.first) - torch::log(as.second);
}

}  // namespace

DpmSolverMultistepScheduler::DpmSolverMultistepScheduler(const SchedulerConfig& config) : Scheduler(config) {
  requirePrediction({"epsilon", "v_prediction", "sample"});
  if (config_.rescaleBetasZeroSnr) clampTerminalAlpha();
  sigmas_ = ((1 - alphasCumprod_) / alphasCumprod_).pow(0.5);
}

void DpmSolverMultistepScheduler::setTimesteps(int n) {
  checkSteps(n);
  // lambda_min_clipped is -inf (finite values are rejected by the config), so the schedule may
  // reach the last training timestep.
  const int T = config_.numTrainTimesteps, last = T;
  std::vector<double> ts;
  if (config_.timestepSpacing == "linspace") {
    const auto lin = detail::npLinspace(0, last - 1, n + 1);  // n + 1 points, the 0 end dropped
    for (int i = n; i >= 1; --i) ts.push_back(detail::npRound(lin[i]));
  } else if (config_.timestepSpacing == "leading") {
    const int ratio = last / (n + 1);
    for (int i = n; i >= 1; --i) ts.push_back(static_cast<double>(i * ratio + config_.stepsOffset));
  } else {  // trailing
    for (const double v : detail::npArange(last, 0, -(static_cast<double>(T) / n)))
      ts.push_back(detail::npRound(v) - 1);
  }
  const auto train = detail::trainSigmas(alphasCumprod_);
  std::vector<double> sig;
  if (config_.useKarrasSigmas) {
    sig = detail::karrasSigmas(train.front(), train.back(), n);
    const auto logSigmas = detail::logOf(train);
    ts.clear();
    for (const double s : sig) {
      double t = detail::sigmaToT(s, logSigmas);
      if (config_.betaSchedule != "squaredcos_cap_v2") t = detail::npRound(t);
      ts.push_back(std::trunc(t));  // stored as int64, which truncates
    }
  } else {
    sig = detail::npInterp(ts, train);
  }
  sig.push_back(0.0);
  sigmas_ = detail::toFloatTensor(sig);
  timesteps_ = std::move(ts);
  numInferenceSteps_ = n;
  previousX0_ = lastX0_ = torch::Tensor();
  lowerOrderNums_ = 0;
  nextStep_ = -1;
}

torch::Tensor DpmSolverMultistepScheduler::toX0(const torch::Tensor& modelOutput, const torch::Tensor& sample,
                                                std::int64_t i) const {
  if (config_.predictionType == "sample") return modelOutput;
  const auto [alpha, sigma] = alphaSigma(sigmas_[i]);
  if (config_.predictionType == "epsilon") return (sample - sigma * modelOutput) / alpha;
  return alpha * sample - sigma * modelOutput;  // v_prediction
}

torch::Tensor DpmSolverMultistepScheduler::firstOrder(const torch::Tensor& x0, const torch::Tensor& sample,
                                                      std::int64_t i) const {
  const auto t = alphaSigma(sigmas_[i + 1]);
  const auto s = alphaSigma(sigmas_[i]);
  const auto h = lambdaOf(t) - lambdaOf(s);
  return (t.second / s.second) * sample - (t.first * (torch::exp(-h) - 1.0)) * x0;
}

torch::Tensor DpmSolverMultistepScheduler::secondOrder(const torch::Tensor& sample, std::int64_t i) const {
  const auto t = alphaSigma(sigmas_[i + 1]);
  const auto s0 = alphaSigma(sigmas_[i]);
  const auto s1 = alphaSigma(sigmas_[i - 1]);
  const auto lambdaT = lambdaOf(t), lambdaS0 = lambdaOf(s0), lambdaS1 = lambdaOf(s1);
  const auto h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1;
  const auto r0 = h0 / h;
  const auto& d0 = lastX0_;
  const auto d1 = (r0.reciprocal() * 1.0) * (lastX0_ - previousX0_);
  const auto coefficient = t.first * (torch::exp(-h) - 1.0);
  return (t.second / s0.second) * sample - coefficient * d0 - (coefficient * 0.5) * d1;
}

torch::Tensor DpmSolverMultistepScheduler::step(const torch::Tensor& modelOutput, std::size_t stepIndex,
                                                const torch::Tensor& sample, torch::Generator*) {
  checkStepIndex(stepIndex);
  const auto i = static_cast<std::int64_t>(stepIndex);
  if (nextStep_ >= 0 && i != nextStep_)
    throw InvalidArgument("dpmpp_2m: steps must come in order after setTimesteps; expected step " +
                          std::to_string(nextStep_) + ", got " + std::to_string(i));
  // The last step is first order because the final sigma is 0 (diffusers' lower_order_final).
  const bool lastStep = i == static_cast<std::int64_t>(timesteps_.size()) - 1;
  const auto x0 = toX0(modelOutput, sample, i);
  previousX0_ = lastX0_;
  lastX0_ = x0;
  const auto x = sample.to(torch::kFloat32);
  const auto prev = (lowerOrderNums_ < 1 || lastStep) ? firstOrder(x0, x, i) : secondOrder(x, i);
  if (lowerOrderNums_ < 2) ++lowerOrderNums_;
  nextStep_ = i + 1;
  return prev.to(modelOutput.scalar_type());
}

torch::Tensor DpmSolverMultistepScheduler::addNoiseAt(const torch::Tensor& original, const torch::Tensor& noise,
                                                     std::size_t stepIndex) const {
  checkStepIndex(stepIndex);
  // diffusers: alpha_t * original + sigma_t * noise at sigmas[begin_index], in the samples' dtype.
  const auto sigma = sigmas_.to(original.device(), original.scalar_type())[static_cast<std::int64_t>(stepIndex)];
  const auto [alpha, sigmaT] = alphaSigma(sigma);
  return alpha * original + sigmaT * noise;
}

}  // namespace respo::sched
