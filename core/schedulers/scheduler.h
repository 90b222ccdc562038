#pragma once
// Diffusion schedulers: the rules that turn a model's prediction at one noise level into the sample
// at the next. Each one reproduces its diffusers 0.42.1 counterpart in the same floating-point
// precision (float32 betas and alphas_cumprod, timesteps from float64 numpy arithmetic), so a
// generation here follows the same trajectory as the reference Python pipeline.
//
//   auto s = makeScheduler("euler", SchedulerConfig::fromFile(dir / "scheduler_config.json"));
//   s->setTimesteps(30);
//   x = noise * s->initNoiseSigma();
//   for (size_t i = 0; i < s->timesteps().size(); ++i)
//     x = s->step(unet(s->scaleModelInput(x, i), s->timesteps()[i]), i, x, &gen);
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/schedulers/scheduler_config.h"

namespace respo::sched {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  virtual std::string name() const = 0;  // "ddim", "euler", "euler_a", "dpmpp_2m", "pndm"
  // Computes the schedule for this many model calls' worth of steps and resets any history.
  virtual void setTimesteps(int numInferenceSteps) = 0;
  // The model timesteps in call order (diffusers' scheduler.timesteps as doubles).
  const std::vector<double>& timesteps() const { return timesteps_; }
  // Noise levels for sigma-based schedulers (diffusers' scheduler.sigmas, float32 values).
  virtual std::vector<double> sigmas() const { return {}; }
  virtual double initNoiseSigma() const { return 1.0; }
  virtual torch::Tensor scaleModelInput(const torch::Tensor& sample, std::size_t stepIndex) const;
  // One denoising step with the model output at timesteps()[stepIndex]. Multistep schedulers
  // (PNDM, DPM++) expect consecutive indices after setTimesteps (any first index, for img2img).
  virtual torch::Tensor step(const torch::Tensor& modelOutput, std::size_t stepIndex, const torch::Tensor& sample,
                             torch::Generator* generator = nullptr) = 0;
  // Forward diffusion at an integer training timestep: sqrt(acp)*x + sqrt(1-acp)*noise.
  torch::Tensor addNoise(const torch::Tensor& original, const torch::Tensor& noise, double timestep) const;
  // Image to image: `original` noised to the level sampling resumes at, timesteps()[stepIndex], as the
  // diffusers scheduler's add_noise does after set_begin_index(stepIndex) (sigma-based schedulers:
  // from their sigmas; the others: addNoise at that timestep).
  virtual torch::Tensor addNoiseAt(const torch::Tensor& original, const torch::Tensor& noise,
                                   std::size_t stepIndex) const;
  const torch::Tensor& alphasCumprod() const { return alphasCumprod_; }
  const SchedulerConfig& config() const { return config_; }
  int numInferenceSteps() const { return numInferenceSteps_; }

 protected:
  explicit Scheduler(SchedulerConfig config);
  // Throws InvalidArgument unless 1 <= steps <= numTrainTimesteps.
  void checkSteps(int steps) const;
  // Throws unless setTimesteps ran and stepIndex addresses a timestep.
  void checkStepIndex(std::size_t stepIndex) const;
  void requirePrediction(const std::vector<std::string>& allowed) const;
  // alphas_cumprod[t] as a 0-d float32 tensor; negative t counts from the end as in Python, which
  // diffusers relies on when a "trailing" schedule ends in timestep -1.
  torch::Tensor alphaCumprodAt(std::int64_t t) const;
  // Diffusers' zero-terminal-SNR fix for the sigma-based schedulers: the last alphas_cumprod is
  // set to 2^-24 so its sigma stays finite.
  void clampTerminalAlpha();

  SchedulerConfig config_;
  torch::Tensor betas_;          // float32, numTrainTimesteps
  torch::Tensor alphasCumprod_;  // float32, numTrainTimesteps
  std::vector<double> timesteps_;
  int numInferenceSteps_ = 0;
};

std::unique_ptr<Scheduler> makeScheduler(const std::string& name, const SchedulerConfig& config);
std::vector<std::string> schedulerNames();

// numpy / diffusers arithmetic the schedulers share, reproduced operation by operation.
namespace detail {
std::vector<double> npArange(double start, double stop, double step);  // float arange
std::vector<double> npLinspace(double start, double stop, int num);
double npRound(double x);  // half to even, like numpy
// np.interp(x, arange(len(fp)), fp) with float64 arithmetic.
std::vector<double> npInterp(const std::vector<double>& x, const std::vector<float>& fp);
// ((1 - acp) / acp) ** 0.5 in float32, index = training timestep.
std::vector<float> trainSigmas(const torch::Tensor& alphasCumprod);
// diffusers' _sigma_to_t: fractional timestep of a sigma by interpolating in log-sigma.
double sigmaToT(double sigma, const std::vector<float>& logSigmas);
std::vector<float> logOf(const std::vector<float>& sigmas);
// Karras et al. (2022) rho=7 spacing from sigmaMax down to sigmaMin, in float64.
std::vector<double> karrasSigmas(double sigmaMin, double sigmaMax, int num);
torch::Tensor toFloatTensor(const std::vector<double>& values);  // float32, 1-D
std::vector<double> toDoubles(const torch::Tensor& t);
}  // namespace detail

}  // namespace respo::sched
