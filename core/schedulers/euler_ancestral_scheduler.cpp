#include "core/schedulers/euler_ancestral_scheduler.h"

#include <torch/torch.h>

#include "core/schedulers/euler_scheduler.h"

namespace respo::sched {

EulerAncestralScheduler::EulerAncestralScheduler(const SchedulerConfig& config) : Scheduler(config) {
  // diffusers raises NotImplementedError for "sample" at the first step; refuse it up front.
  requirePrediction({"epsilon", "v_prediction"});
  // diffusers' Euler ancestral has no Karras option and only linear interpolation: those config
  // keys are ignored here as there.
  if (config_.rescaleBetasZeroSnr) clampTerminalAlpha();
  auto train = detail::trainSigmas(alphasCumprod_);
  std::vector<double> sig(train.rbegin(), train.rend());
  sig.push_back(0.0);
  sigmas_ = detail::toFloatTensor(sig);
}

void EulerAncestralScheduler::setTimesteps(int n) {
  checkSteps(n);
  auto ts = detail::eulerTimesteps(config_, n);
  auto sig = detail::npInterp(ts, detail::trainSigmas(alphasCumprod_));
  sig.push_back(0.0);
  sigmas_ = detail::toFloatTensor(sig);
  timesteps_ = std::move(ts);
  numInferenceSteps_ = n;
}

double EulerAncestralScheduler::initNoiseSigma() const {
  return detail::initNoiseSigmaFor(sigmas_, config_.timestepSpacing);
}

torch::Tensor EulerAncestralScheduler::scaleModelInput(const torch::Tensor& sample, std::size_t stepIndex) const {
  checkStepIndex(stepIndex);
  return detail::scaleBySigma(sample, sigmas_, stepIndex);
}

torch::Tensor EulerAncestralScheduler::step(const torch::Tensor& modelOutput, std::size_t stepIndex,
                                            const torch::Tensor& sample, torch::Generator* generator) {
  checkStepIndex(stepIndex);
  const auto i = static_cast<std::int64_t>(stepIndex);
  const auto sigma = sigmas_[i];
  const auto x = sample.to(torch::kFloat32);
  const auto x0 = detail::predictX0(config_.predictionType, modelOutput, x, sigma, sigma);
  const auto from = sigmas_[i], to = sigmas_[i + 1];
  const auto up = (to.pow(2) * (from.pow(2) - to.pow(2)) / from.pow(2)).pow(0.5);
  const auto down = (to.pow(2) - up.pow(2)).pow(0.5);
  const auto derivative = (x - x0) / sigma;
  const auto dt = down - sigma;
  auto prev = x + derivative * dt;
  // As diffusers' randn_tensor: a CPU generator draws on the CPU and the noise moves to the
  // sample's device; without a generator the device's default one is used.
  const auto device = modelOutput.device();
  const auto options = torch::TensorOptions().dtype(modelOutput.scalar_type());
  torch::Tensor noise;
  if (generator != nullptr && generator->device().is_cpu())
    noise = torch::randn(modelOutput.sizes(), *generator, options.device(torch::kCPU)).to(device);
  else if (generator != nullptr)
    noise = torch::randn(modelOutput.sizes(), *generator, options.device(device));
  else
    noise = torch::randn(modelOutput.sizes(), options.device(device));
  prev = prev + noise * up;
  return prev.to(modelOutput.scalar_type());
}

torch::Tensor EulerAncestralScheduler::addNoiseAt(const torch::Tensor& original, const torch::Tensor& noise,
                                  std::size_t stepIndex) const {
  checkStepIndex(stepIndex);
  // diffusers: original + noise * sigmas[begin_index], the sigmas in the samples' dtype.
  const auto sigma = sigmas_.to(original.device(), original.scalar_type())[static_cast<std::int64_t>(stepIndex)];
  return original + noise * sigma;
}

}  // namespace respo::sched
