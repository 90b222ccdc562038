#pragma once
// Pseudo numerical methods (PNDM, Liu et al., 2022) as diffusers' PNDMScheduler: linear multistep
// (PLMS) updates over the last four noise predictions. Stable Diffusion skips the Runge-Kutta
// warm-up (skip_prk_steps = true; the first step is then taken twice, once as a predictor and
// once as a corrector); with skip_prk_steps = false the 12 warm-up calls come first.
#include "core/schedulers/scheduler.h"

namespace respo::sched {

class PndmScheduler : public Scheduler {
 public:
  explicit PndmScheduler(const SchedulerConfig& config);
  std::string name() const override { return "pndm"; }
  void setTimesteps(int numInferenceSteps) override;
  torch::Tensor step(const torch::Tensor& modelOutput, std::size_t stepIndex, const torch::Tensor& sample,
                     torch::Generator* generator = nullptr) override;

 private:
  torch::Tensor stepPrk(torch::Tensor modelOutput, std::int64_t timestep, const torch::Tensor& sample);
  torch::Tensor stepPlms(torch::Tensor modelOutput, std::int64_t timestep, torch::Tensor sample);
  torch::Tensor previousSample(const torch::Tensor& sample, std::int64_t timestep, std::int64_t prevTimestep,
                               torch::Tensor modelOutput) const;

  torch::Tensor finalAlphaCumprod_;
  std::vector<std::int64_t> prkTimesteps_;
  std::vector<torch::Tensor> ets_;     // past noise predictions, newest last
  torch::Tensor curModelOutput_;       // Runge-Kutta accumulator (undefined = 0)
  torch::Tensor curSample_;            // sample held across the predictor/corrector pair
  std::size_t counter_ = 0;
  std::int64_t nextStep_ = -1;  // -1: any index may come first (img2img starts mid-schedule)
};

}  // namespace respo::sched
