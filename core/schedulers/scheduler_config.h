#pragma once
// diffusers' scheduler_config.json: the settings every scheduler reads, parsed and range-checked
// without LibTorch (the schedulers themselves are in scheduler.h).
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace respo::sched {

// The fields of diffusers' scheduler_config.json that the schedulers read. Defaults are SD1.5's.
struct SchedulerConfig {
  std::string className = "PNDMScheduler";
  int numTrainTimesteps = 1000;
  double betaStart = 0.00085, betaEnd = 0.012;
  std::string betaSchedule = "scaled_linear";  // "linear", "scaled_linear", "squaredcos_cap_v2"
  std::string predictionType = "epsilon";      // "epsilon", "v_prediction", "sample"
  std::string timestepSpacing = "leading";     // "leading", "trailing", "linspace"
  int stepsOffset = 1;
  bool setAlphaToOne = false;
  bool clipSample = false;
  double clipSampleRange = 1.0;
  bool skipPrkSteps = false;  // diffusers' PNDMScheduler default; SD1.x configs set it true
  bool useKarrasSigmas = false;
  std::string interpolationType = "linear";  // Euler: "linear" or "log_linear"
  bool rescaleBetasZeroSnr = false;
  std::string timestepType = "discrete";  // Euler: "discrete" or "continuous" (with v_prediction)

  // Unknown keys are ignored; a known key of the wrong type or out of its range (1 to 10,000 training
  // timesteps, betas in (0, 1), ...) is a FormatError naming it. Settings
  // that change the math in ways not implemented here (trained_betas, thresholding, other DPM
  // solver variants, ...) are an InvalidArgument rather than silently ignored.
  static SchedulerConfig fromJson(const nlohmann::json& j);
  static SchedulerConfig fromFile(const std::filesystem::path& p);
  // diffusers' key names; fromJson(toJson()) gives back an equal config.
  nlohmann::json toJson() const;
  bool operator==(const SchedulerConfig&) const = default;
};

}  // namespace respo::sched
