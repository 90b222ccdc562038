#pragma once
// Euler ancestral sampling ("Euler a"): an Euler step down to sigma_down plus fresh Gaussian noise
// of size sigma_up, as diffusers' EulerAncestralDiscreteScheduler. The noise comes from the
// generator given to step(), drawn exactly as diffusers draws it, so a seeded CPU generator
// reproduces the Python trajectory.
#include "core/schedulers/scheduler.h"

namespace respo::sched {

class EulerAncestralScheduler : public Scheduler {
 public:
  explicit EulerAncestralScheduler(const SchedulerConfig& config);
  std::string name() const override { return "euler_a"; }
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

}  // namespace respo::sched
