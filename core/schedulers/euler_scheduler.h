#pragma once
// Euler's method on the probability-flow ODE in sigma space (Karras et al., 2022), as diffusers'
// EulerDiscreteScheduler with s_churn = 0 (deterministic); optional Karras sigmas.
#include "core/schedulers/scheduler.h"

namespace respo::sched {

class EulerScheduler : public Scheduler {
 public:
  explicit EulerScheduler(const SchedulerConfig& config);
  std::string name() const override { return "euler"; }
  void setTimesteps(int numInferenceSteps) override;
  std::vector<double> sigmas() const override { return detail::toDoubles(sigmas_); }
  torch::Tensor addNoiseAt(const torch::Tensor& original, const torch::Tensor& noise,
                           std::size_t stepIndex) const override;
  double initNoiseSigma() const override;
  torch::Tensor scaleModelInput(const torch::Tensor& sample, std::size_t stepIndex) const override;
  torch::Tensor step(const torch::Tensor& modelOutput, std::size_t stepIndex, const torch::Tensor& sample,
                     torch::Generator* generator = nullptr) override;

 private:
  torch::Tensor sigmas_;  // float32 CPU, one more than the timesteps (ends in 0)
};

namespace detail {
// The float32 timesteps the Euler-family schedulers share (diffusers computes them alike).
std::vector<double> eulerTimesteps(const SchedulerConfig& config, int numInferenceSteps);
// Input scaling and the initial noise scale of the sigma-parameterised schedulers.
torch::Tensor scaleBySigma(const torch::Tensor& sample, const torch::Tensor& sigmas, std::size_t stepIndex);
double initNoiseSigmaFor(const torch::Tensor& sigmas, const std::string& spacing);
// x0 predicted from the model output at noise level sigma (epsilon, v_prediction or sample).
torch::Tensor predictX0(const std::string& predictionType, const torch::Tensor& modelOutput,
                        const torch::Tensor& sample, const torch::Tensor& sigma, const torch::Tensor& sigmaHat);
}  // namespace detail

}  // namespace respo::sched
