#pragma once
// DDIM (Song et al., 2021) with eta = 0: deterministic, one model call per step, no history.
// Matches diffusers' DDIMScheduler. Each step depends only on its own timestep, so any sequence
// of step indices (the trainer's partial trajectories) gives the same result per step.
#include "core/schedulers/scheduler.h"

namespace respo::sched {

class DdimScheduler : public Scheduler {
 public:
  explicit DdimScheduler(const SchedulerConfig& config);
  std::string name() const override { return "ddim"; }
  void setTimesteps(int numInferenceSteps) override;
  torch::Tensor step(const torch::Tensor& modelOutput, std::size_t stepIndex, const torch::Tensor& sample,
                     torch::Generator* generator = nullptr) override;
  // The timestep a step at stepIndex lands on: timesteps()[stepIndex] - T / steps (as diffusers
  // computes it, whatever the spacing); negative means "the clean end" (final alpha).
  double previousTimestep(std::size_t stepIndex) const;

 private:
  torch::Tensor finalAlphaCumprod_;
};

}  // namespace respo::sched
