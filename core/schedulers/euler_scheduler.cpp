#include "core/schedulers/euler_scheduler.h"

#include <cmath>

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::sched {
namespace detail {

std::vector<double> eulerTimesteps(const SchedulerConfig& c, int n) {
  const int T = c.numTrainTimesteps;
  std::vector<double> ts;
  // numpy computes in float64 and stores float32; offsets are added in float32 (exact here).
  auto f32 = [](double v) { return static_cast<double>(static_cast<float>(v)); };
  if (c.timestepSpacing == "linspace") {
    const auto lin = npLinspace(0, T - 1, n);
    for (auto it = lin.rbegin(); it != lin.rend(); ++it) ts.push_back(f32(*it));
  } else if (c.timestepSpacing == "leading") {
    const int ratio = T / n;
    for (int i = n - 1; i >= 0; --i) ts.push_back(f32(f32(i * ratio) + c.stepsOffset));
  } else {  // trailing
    for (const double v : npArange(T, 0, -(static_cast<double>(T) / n))) ts.push_back(f32(f32(npRound(v)) - 1));
  }
  return ts;
}

torch::Tensor scaleBySigma(const torch::Tensor& sample, const torch::Tensor& sigmas, std::size_t stepIndex) {
  const auto sigma = sigmas[static_cast<std::int64_t>(stepIndex)];
  return sample / (sigma.pow(2) + 1).pow(0.5);
}

double initNoiseSigmaFor(const torch::Tensor& sigmas, const std::string& spacing) {
  const auto maxSigma = sigmas.max();
  if (spacing == "linspace" || spacing == "trailing") return maxSigma.item<float>();
  return (maxSigma.pow(2) + 1).pow(0.5).item<float>();
}

torch::Tensor predictX0(const std::string& type, const torch::Tensor& modelOutput, const torch::Tensor& sample,
                        const torch::Tensor& sigma, const torch::Tensor& sigmaHat) {
  if (type == "sample") return modelOutput;
  if (type == "epsilon") return sample - sigmaHat * modelOutput;
  return modelOutput * (-sigma / (sigma.pow(2) + 1).pow(0.5)) + (sample / (sigma.pow(2) + 1));  // v_prediction
}

}  // namespace detail

EulerScheduler::EulerScheduler(const SchedulerConfig& config) : Scheduler(config) {
  requirePrediction({"epsilon", "v_prediction", "sample"});
  if (config_.interpolationType != "linear" && config_.interpolationType != "log_linear")
    throw InvalidArgument("euler: interpolation_type must be linear or log_linear, got '" +
                          config_.interpolationType + "'");
  if (config_.timestepType != "discrete" && config_.timestepType != "continuous")
    throw InvalidArgument("euler: timestep_type must be discrete or continuous, got '" + config_.timestepType + "'");
  if (config_.rescaleBetasZeroSnr) clampTerminalAlpha();
  // Before setTimesteps: the full training schedule, as diffusers initialises it.
  const auto train = ((1 - alphasCumprod_) / alphasCumprod_).pow(0.5).flip(0);
  sigmas_ = torch::cat({train, torch::zeros(1)});
}

void EulerScheduler::setTimesteps(int n) {
  checkSteps(n);
  auto ts = detail::eulerTimesteps(config_, n);
  const auto train = detail::trainSigmas(alphasCumprod_);
  std::vector<double> sig;
  if (config_.interpolationType == "linear") {
    sig = detail::npInterp(ts, train);
  } else {
    // Log-linear from the largest to the smallest training sigma, n + 1 values computed by torch
    // in float32 (diffusers then appends the final 0, giving n + 2 sigmas).
    const double hi = std::log(train.back()), lo = std::log(train.front());
    sig = detail::toDoubles(torch::linspace(hi, lo, n + 1, torch::kFloat32).exp());
  }
  if (config_.useKarrasSigmas) {
    sig = detail::karrasSigmas(sig.back(), sig.front(), n);
    const auto logSigmas = detail::logOf(train);
    ts.clear();
    for (const double s : sig) ts.push_back(static_cast<float>(detail::sigmaToT(s, logSigmas)));
  }
  sig.push_back(0.0);
  sigmas_ = detail::toFloatTensor(sig);
  if (config_.timestepType == "continuous" && config_.predictionType == "v_prediction") {
    // Continuous-time models take c_noise = log(sigma) / 4; one 0-d op each, as diffusers.
    ts.clear();
    for (std::int64_t i = 0; i + 1 < sigmas_.size(0); ++i) ts.push_back((sigmas_[i].log() * 0.25).item<float>());
  }
  timesteps_ = std::move(ts);
  numInferenceSteps_ = n;
}

double EulerScheduler::initNoiseSigma() const { return detail::initNoiseSigmaFor(sigmas_, config_.timestepSpacing); }

torch::Tensor EulerScheduler::scaleModelInput(const torch::Tensor& sample, std::size_t stepIndex) const {
  checkStepIndex(stepIndex);
  return detail::scaleBySigma(sample, sigmas_, stepIndex);
}

torch::Tensor EulerScheduler::step(const torch::Tensor& modelOutput, std::size_t stepIndex, const torch::Tensor& sample,
                                   torch::Generator*) {
  checkStepIndex(stepIndex);
  const auto i = static_cast<std::int64_t>(stepIndex);
  const auto x = sample.to(torch::kFloat32);
  const auto sigma = sigmas_[i];
  // s_churn = 0 makes gamma 0; diffusers still forms sigma * (gamma + 1).
  const auto sigmaHat = sigma * 1.0;
  const auto x0 = detail::predictX0(config_.predictionType, modelOutput, x, sigma, sigmaHat);
  const auto derivative = (x - x0) / sigmaHat;
  const auto dt = sigmas_[i + 1] - sigmaHat;
  return (x + derivative * dt).to(modelOutput.scalar_type());
}

torch::Tensor EulerScheduler::addNoiseAt(const torch::Tensor& original, const torch::Tensor& noise,
                                  std::size_t stepIndex) const {
  checkStepIndex(stepIndex);
  // diffusers: original + noise * sigmas[begin_index], the sigmas in the samples' dtype.
  const auto sigma = sigmas_.to(original.device(), original.scalar_type())[static_cast<std::int64_t>(stepIndex)];
  return original + noise * sigma;
}

}  // namespace respo::sched
