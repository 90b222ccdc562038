#pragma once
// DPM-Solver++(2M) (Lu et al., 2022): a second-order multistep solver in log-SNR time that reuses
// the previous step's x0 prediction, as diffusers' DPMSolverMultistepScheduler with its defaults
// (algorithm dpmsolver++, order 2, midpoint, lower_order_final, final sigma 0), optionally on
// Karras sigmas. The first and the last step are first order.
#include "core/schedulers/scheduler.h"

namespace respo::sched {

class DpmSolverMultistepScheduler : public Scheduler {
 public:
  explicit DpmSolverMultistepScheduler(const SchedulerConfig& config);
  std::string name() const override { return "dpmpp_2m"; }
  void setTimesteps(int numInferenceSteps) override;
  std::vector<double> sigmas() const override { return detail::toDoubles(sigmas_); }
  torch::Tensor addNoiseAt(const torch::Tensor& original, const torch::Tensor& noise,
                           std::size_t stepIndex) const override;
  torch::Tensor step(const torch::Tensor& modelOutput, std::size_t stepIndex, const torch::Tensor& sample,
                     torch::Generator* generator = nullptr) override;

 private:
  torch::Tensor toX0(const torch::Tensor& modelOutput, const torch::Tensor& sample, std::int64_t i) const;
  torch::Tensor firstOrder(const torch::Tensor& x0, const torch::Tensor& sample, std::int64_t i) const;
  torch::Tensor secondOrder(const torch::Tensor& sample, std::int64_t i) const;

  torch::Tensor sigmas_;             // float32 CPU, one more than the timesteps (ends in 0)
  torch::Tensor previousX0_, lastX0_;  // the solver's history (diffusers' model_outputs)
  int lowerOrderNums_ = 0;
  std::int64_t nextStep_ = -1;  // -1: any index may come first (img2img starts mid-schedule)
};

}  // namespace respo::sched
