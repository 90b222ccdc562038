#include "core/schedulers/scheduler.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <numbers>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/schedulers/ddim_scheduler.h"
#include "core/schedulers/dpm_solver_multistep_scheduler.h"
#include "core/schedulers/euler_ancestral_scheduler.h"
#include "core/schedulers/euler_scheduler.h"
#include "core/schedulers/pndm_scheduler.h"

namespace respo::sched {

// ---- Scheduler ---------------------------------------------------------------------------------

Scheduler::Scheduler(SchedulerConfig config) : config_(std::move(config)) {
  const auto& c = config_;
  if (c.numTrainTimesteps < 1) throw InvalidArgument("scheduler: num_train_timesteps must be at least 1");
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  // Python's ** is libm pow; std::pow keeps the same bits (sqrt could differ in rare cases).
  if (c.betaSchedule == "linear") {
    betas_ = torch::linspace(c.betaStart, c.betaEnd, c.numTrainTimesteps, f32);
  } else if (c.betaSchedule == "scaled_linear") {
    betas_ = torch::linspace(std::pow(c.betaStart, 0.5), std::pow(c.betaEnd, 0.5), c.numTrainTimesteps, f32).pow(2);
  } else if (c.betaSchedule == "squaredcos_cap_v2") {
    // Nichol & Dhariwal's cosine alpha-bar, discretised in float64, capped at 0.999.
    auto alphaBar = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * std::numbers::pi / 2), 2.0); };
    std::vector<double> betas(c.numTrainTimesteps);
    for (int i = 0; i < c.numTrainTimesteps; ++i) {
      const double t1 = static_cast<double>(i) / c.numTrainTimesteps;
      const double t2 = static_cast<double>(i + 1) / c.numTrainTimesteps;
      betas[i] = std::min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
    }
    betas_ = detail::toFloatTensor(betas);
  } else {
    throw InvalidArgument("scheduler: unknown beta_schedule '" + c.betaSchedule +
                          "' (expected linear, scaled_linear or squaredcos_cap_v2)");
  }
  if (c.rescaleBetasZeroSnr) {
    // Lin et al. (2023), Algorithm 1: shift and scale sqrt(alphas_cumprod) so the last is zero.
    auto barSqrt = torch::cumprod(1.0 - betas_, 0).sqrt();
    const auto first = barSqrt[0].clone();
    const auto last = barSqrt[-1].clone();
    barSqrt -= last;
    barSqrt *= first / (first - last);
    const auto bar = barSqrt.pow(2);
    const auto alphas = torch::cat({bar.slice(0, 0, 1), bar.slice(0, 1) / bar.slice(0, 0, -1)});
    betas_ = 1 - alphas;
  }
  alphasCumprod_ = torch::cumprod(1.0 - betas_, 0);
  auto oneOf = [](const char* key, const std::string& value, std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
      if (value == a) return;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw InvalidArgument(std::string("scheduler: unsupported ") + key + " '" + value + "' (expected one of: " + list +
                          ")");
  };
  oneOf("prediction_type", c.predictionType, {"epsilon", "v_prediction", "sample"});
  oneOf("timestep_spacing", c.timestepSpacing, {"leading", "trailing", "linspace"});
}

void Scheduler::clampTerminalAlpha() { alphasCumprod_[-1] = std::pow(2.0, -24); }

void Scheduler::checkSteps(int steps) const {
  if (steps < 1 || steps > config_.numTrainTimesteps)
    throw InvalidArgument("steps must be between 1 and " + std::to_string(config_.numTrainTimesteps) + ", got " +
                          std::to_string(steps));
}

void Scheduler::checkStepIndex(std::size_t stepIndex) const {
  if (numInferenceSteps_ == 0) throw InvalidArgument(name() + ": call setTimesteps before step");
  if (stepIndex >= timesteps_.size())
    throw InvalidArgument(name() + ": step index " + std::to_string(stepIndex) + " is past the last of " +
                          std::to_string(timesteps_.size()) + " timesteps");
}

void Scheduler::requirePrediction(const std::vector<std::string>& allowed) const {
  if (std::find(allowed.begin(), allowed.end(), config_.predictionType) == allowed.end())
    throw InvalidArgument(name() + " does not support prediction_type '" + config_.predictionType + "'");
}

torch::Tensor Scheduler::alphaCumprodAt(std::int64_t t) const {
  const std::int64_t n = config_.numTrainTimesteps;
  if (t < -n || t >= n)
    throw InvalidArgument(name() + ": timestep " + std::to_string(t) + " is outside the " + std::to_string(n) +
                          " training timesteps");
  return alphasCumprod_[t < 0 ? t + n : t];
}

torch::Tensor Scheduler::scaleModelInput(const torch::Tensor& sample, std::size_t) const { return sample; }

torch::Tensor Scheduler::addNoise(const torch::Tensor& original, const torch::Tensor& noise, double timestep) const {
  if (timestep != std::floor(timestep) || timestep < 0 || timestep >= config_.numTrainTimesteps)
    throw InvalidArgument("addNoise: timestep must be an integer in [0, " +
                          std::to_string(config_.numTrainTimesteps - 1) + "], got " + std::to_string(timestep));
  const auto acp = alphasCumprod_.to(original.dtype())[static_cast<std::int64_t>(timestep)];
  return acp.pow(0.5) * original + (1 - acp).pow(0.5) * noise;
}

torch::Tensor Scheduler::addNoiseAt(const torch::Tensor& original, const torch::Tensor& noise,
                                    std::size_t stepIndex) const {
  checkStepIndex(stepIndex);
  return addNoise(original, noise, timesteps_[stepIndex]);
}

// ---- registry ----------------------------------------------------------------------------------

std::vector<std::string> schedulerNames() { return {"ddim", "euler", "euler_a", "dpmpp_2m", "pndm"}; }

std::unique_ptr<Scheduler> makeScheduler(const std::string& name, const SchedulerConfig& config) {
  const std::string key = (name.empty() || name == "default") ? config.className : name;
  if (key == "ddim" || key == "DDIMScheduler") return std::make_unique<DdimScheduler>(config);
  if (key == "euler" || key == "EulerDiscreteScheduler") return std::make_unique<EulerScheduler>(config);
  if (key == "euler_a" || key == "EulerAncestralDiscreteScheduler")
    return std::make_unique<EulerAncestralScheduler>(config);
  if (key == "dpmpp_2m") {
    // The short name is what front ends call "DPM++ 2M Karras"; the class name follows the config.
    SchedulerConfig karras = config;
    karras.useKarrasSigmas = true;
    return std::make_unique<DpmSolverMultistepScheduler>(karras);
  }
  if (key == "DPMSolverMultistepScheduler") return std::make_unique<DpmSolverMultistepScheduler>(config);
  if (key == "pndm" || key == "PNDMScheduler") return std::make_unique<PndmScheduler>(config);
  std::string valid;
  for (const auto& n : schedulerNames()) valid += (valid.empty() ? "" : ", ") + n;
  throw InvalidArgument("unknown scheduler '" + key + "'; valid names: " + valid +
                        " (or the diffusers classes DDIMScheduler, EulerDiscreteScheduler, "
                        "EulerAncestralDiscreteScheduler, DPMSolverMultistepScheduler, PNDMScheduler)");
}

// ---- numpy arithmetic --------------------------------------------------------------------------

namespace detail {

std::vector<double> npArange(double start, double stop, double step) {
  // numpy sizes the range as ceil((stop - start) / step), computes the second element, then fills
  // element i as start + i * (second - start); the extra element this can produce is kept, as
  // numpy does (e.g. 1000 / 61 "trailing" steps give 62 timesteps).
  const double len = std::ceil((stop - start) / step);
  std::vector<double> out;
  if (!(len > 0)) return out;
  out.push_back(start);
  if (len > 1) {
    const double next = start + step;
    const double delta = next - start;
    out.push_back(next);
    for (std::int64_t i = 2; i < static_cast<std::int64_t>(len); ++i) out.push_back(start + i * delta);
  }
  return out;
}

std::vector<double> npLinspace(double start, double stop, int num) {
  std::vector<double> y(std::max(num, 0));
  const int div = num - 1;
  const double delta = stop - start;
  if (div > 0) {
    const double step = delta / div;
    for (int i = 0; i < num; ++i) y[i] = step == 0 ? (i / static_cast<double>(div)) * delta : i * step;
  } else {
    for (int i = 0; i < num; ++i) y[i] = i * delta;
  }
  for (auto& v : y) v += start;
  if (num > 1) y.back() = stop;
  return y;
}

double npRound(double x) { return std::nearbyint(x); }  // default rounding mode: ties to even

std::vector<double> npInterp(const std::vector<double>& x, const std::vector<float>& fp) {
  const auto n = static_cast<std::int64_t>(fp.size());
  std::vector<double> out;
  out.reserve(x.size());
  for (const double v : x) {
    if (std::isnan(v)) {
      out.push_back(v);
    } else if (v < 0) {
      out.push_back(fp.front());
    } else if (v >= static_cast<double>(n - 1)) {
      out.push_back(fp.back());
    } else {
      const auto j = static_cast<std::int64_t>(std::floor(v));
      if (static_cast<double>(j) == v) {
        out.push_back(fp[j]);
      } else {
        const double slope = (static_cast<double>(fp[j + 1]) - fp[j]) / (static_cast<double>(j + 1) - j);
        out.push_back(slope * (v - static_cast<double>(j)) + fp[j]);
      }
    }
  }
  return out;
}

std::vector<float> trainSigmas(const torch::Tensor& alphasCumprod) {
  const auto s = ((1 - alphasCumprod) / alphasCumprod).pow(0.5).contiguous();
  return {s.data_ptr<float>(), s.data_ptr<float>() + s.numel()};
}

std::vector<float> logOf(const std::vector<float>& sigmas) {
  std::vector<float> out(sigmas.size());
  for (std::size_t i = 0; i < sigmas.size(); ++i) out[i] = std::log(sigmas[i]);
  return out;
}

double sigmaToT(double sigma, const std::vector<float>& logSigmas) {
  const double logSigma = std::log(std::max(sigma, 1e-10));
  // The last training index whose log-sigma does not exceed ours (0 if none), kept one short of
  // the end so there is an upper neighbour.
  std::int64_t low = 0;
  const auto n = static_cast<std::int64_t>(logSigmas.size());
  for (std::int64_t i = 0; i < n; ++i)
    if (logSigma >= static_cast<double>(logSigmas[i])) low = i;
  low = std::min(low, n - 2);
  const float lo = logSigmas[low], hi = logSigmas[low + 1];
  const float span = lo - hi;  // a float32 difference in numpy too
  double w = (static_cast<double>(lo) - logSigma) / static_cast<double>(span);
  w = std::clamp(w, 0.0, 1.0);
  return (1 - w) * static_cast<double>(low) + w * static_cast<double>(low + 1);
}

std::vector<double> karrasSigmas(double sigmaMin, double sigmaMax, int num) {
  const double rho = 7.0;
  const auto ramp = npLinspace(0, 1, num);
  const double minInvRho = std::pow(sigmaMin, 1 / rho);
  const double maxInvRho = std::pow(sigmaMax, 1 / rho);
  std::vector<double> out(ramp.size());
  for (std::size_t i = 0; i < ramp.size(); ++i) out[i] = std::pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
  return out;
}

torch::Tensor toFloatTensor(const std::vector<double>& values) {
  return torch::tensor(values, torch::kFloat64).to(torch::kFloat32);
}

std::vector<double> toDoubles(const torch::Tensor& t) {
  const auto d = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

}  // namespace detail
}  // namespace respo::sched
