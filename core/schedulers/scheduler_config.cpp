#include "core/schedulers/scheduler_config.h"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json.h"
#include "core/io/read_file.h"

namespace respo::sched {
namespace {

using nlohmann::json;



// Reads j[key] into out when present and not null (diffusers writes null for "use the default").
template <typename T>
void read(const json& j, const char* key, T& out) {
  const auto found = j.find(key);
  if (found == j.end() || found->is_null()) return;
  const json& v = *found;
  auto wrong = [&](const char* expected) {
    throw FormatError(std::string("scheduler config: '") + key + "' must be " + expected + ", not " +
                      respo::json::brief(v));
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) wrong("true or false");
    out = v.get<bool>();
  } else if constexpr (std::is_same_v<T, int>) {
    // Integral floats (1000.0) are accepted, as Python would use them.
    const double d = v.is_number() ? v.get<double>() : 0.5;
    if (d != std::floor(d) || d < std::numeric_limits<int>::min() || d > std::numeric_limits<int>::max())
      wrong("an integer");
    out = static_cast<int>(d);
  } else if constexpr (std::is_same_v<T, double>) {
    if (!v.is_number() || !std::isfinite(v.get<double>())) wrong("a finite number");
    out = v.get<double>();
  } else {
    if (!v.is_string()) wrong("a string");
    out = v.get<std::string>();
  }
}

// Keys whose non-default values would change the math in ways this engine does not implement.
// Failing loudly beats producing images that silently differ from diffusers.
void rejectUnsupported(const json& j, const std::string& className) {
  auto unsupported = [](const std::string& what) {
    throw InvalidArgument("scheduler config: " + what + " is not supported");
  };
  auto isTrue = [&](const char* key) {
    const auto f = j.find(key);
    return f != j.end() && f->is_boolean() && f->get<bool>();
  };
  auto differs = [&](const char* key, const json& expected) {
    const auto f = j.find(key);
    return f != j.end() && !f->is_null() && *f != expected;
  };
  if (differs("trained_betas", nullptr)) unsupported("'trained_betas' (explicit beta lists)");
  for (const char* key : {"thresholding", "use_exponential_sigmas", "use_beta_sigmas", "use_lu_lambdas",
                          "use_flow_sigmas", "use_dynamic_shifting"})
    if (isTrue(key)) unsupported(std::string("'") + key + "': true");
  if (differs("final_sigmas_type", "zero")) unsupported("'final_sigmas_type' other than \"zero\"");
  if (className != "DPMSolverMultistepScheduler") return;
  // DPM-only knobs; DPM++ 2M is algorithm dpmsolver++, order 2, midpoint.
  if (differs("algorithm_type", "dpmsolver++")) unsupported("DPM 'algorithm_type' other than \"dpmsolver++\"");
  if (differs("solver_order", 2)) unsupported("DPM 'solver_order' other than 2");
  if (differs("solver_type", "midpoint")) unsupported("DPM 'solver_type' other than \"midpoint\"");
  if (differs("variance_type", nullptr)) unsupported("DPM 'variance_type' (learned variance)");
  const auto clipped = j.find("lambda_min_clipped");
  if (clipped != j.end() && clipped->is_number() && std::isfinite(clipped->get<double>()))
    unsupported("a finite DPM 'lambda_min_clipped'");
}

}  // namespace

SchedulerConfig SchedulerConfig::fromJson(const nlohmann::json& j) {
  if (!j.is_object())
    throw FormatError(std::string("scheduler config: expected a JSON object, not ") + respo::json::typeName(j));
  SchedulerConfig c;
  read(j, "_class_name", c.className);
  read(j, "num_train_timesteps", c.numTrainTimesteps);
  read(j, "beta_start", c.betaStart);
  read(j, "beta_end", c.betaEnd);
  read(j, "beta_schedule", c.betaSchedule);
  read(j, "prediction_type", c.predictionType);
  read(j, "timestep_spacing", c.timestepSpacing);
  read(j, "steps_offset", c.stepsOffset);
  read(j, "set_alpha_to_one", c.setAlphaToOne);
  read(j, "clip_sample", c.clipSample);
  read(j, "clip_sample_range", c.clipSampleRange);
  read(j, "skip_prk_steps", c.skipPrkSteps);
  read(j, "use_karras_sigmas", c.useKarrasSigmas);
  read(j, "interpolation_type", c.interpolationType);
  read(j, "rescale_betas_zero_snr", c.rescaleBetasZeroSnr);
  read(j, "timestep_type", c.timestepType);
  rejectUnsupported(j, c.className);
  auto outOfRange = [](const std::string& what) { throw FormatError("scheduler config: " + what); };
  if (c.numTrainTimesteps < 1 || c.numTrainTimesteps > 10'000)
    outOfRange("'num_train_timesteps' must be from 1 to 10000, not " + std::to_string(c.numTrainTimesteps));
  if (!(c.betaStart > 0 && c.betaStart < 1) || !(c.betaEnd > 0 && c.betaEnd < 1))
    outOfRange("'beta_start' and 'beta_end' must be between 0 and 1");
  if (c.stepsOffset < 0 || c.stepsOffset >= c.numTrainTimesteps)
    outOfRange("'steps_offset' must be from 0 to num_train_timesteps - 1");
  if (!(c.clipSampleRange > 0)) outOfRange("'clip_sample_range' must be positive");
  auto oneOf = [&](const char* key, const std::string& value, std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
      if (value == a) return;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw InvalidArgument(std::string("scheduler config: unsupported ") + key + " '" + value.substr(0, 60) +
                          "' (expected one of: " + list + ")");
  };
  oneOf("beta_schedule", c.betaSchedule, {"linear", "scaled_linear", "squaredcos_cap_v2"});
  oneOf("prediction_type", c.predictionType, {"epsilon", "v_prediction", "sample"});
  oneOf("timestep_spacing", c.timestepSpacing, {"leading", "trailing", "linspace"});
  oneOf("interpolation_type", c.interpolationType, {"linear", "log_linear"});
  oneOf("timestep_type", c.timestepType, {"discrete", "continuous"});
  return c;
}

nlohmann::json SchedulerConfig::toJson() const {
  return {{"_class_name", className},        {"num_train_timesteps", numTrainTimesteps},
          {"beta_start", betaStart},         {"beta_end", betaEnd},
          {"beta_schedule", betaSchedule},   {"prediction_type", predictionType},
          {"timestep_spacing", timestepSpacing}, {"steps_offset", stepsOffset},
          {"set_alpha_to_one", setAlphaToOne}, {"clip_sample", clipSample},
          {"clip_sample_range", clipSampleRange}, {"skip_prk_steps", skipPrkSteps},
          {"use_karras_sigmas", useKarrasSigmas}, {"interpolation_type", interpolationType},
          {"rescale_betas_zero_snr", rescaleBetasZeroSnr}, {"timestep_type", timestepType}};
}

SchedulerConfig SchedulerConfig::fromFile(const std::filesystem::path& p) {
  const json j = io::readJsonFile(p);
  try {
    return fromJson(j);
  } catch (const FormatError& e) {
    throw FormatError(p.string() + ": " + e.what());
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(p.string() + ": " + e.what());
  }
}

}  // namespace respo::sched
