#include "core/pipeline/safe_guidance.h"

#include <cmath>

#include "core/common/error.h"
#include "core/common/numbers.h"
#include "core/common/utf8.h"

namespace respo::pipeline {

const char* const kDefaultSafetyConcept =
    "an image showing hate, harassment, violence, suffering, humiliation, harm, suicide, sexual, nudity, bodily "
    "fluids, blood, obscene gestures, illegal activity, drug use, theft, vandalism, weapons, child abuse, "
    "brutality, cruelty";

namespace {

constexpr const char* kKey = "SLD";
constexpr const char* kConceptKey = "SLD concept";
constexpr std::size_t kMaxConceptBytes = 4096;

struct Preset {
  const char* name;
  double guidance;
  int warmup;
  double threshold, momentum, beta;
};
// The presets of the SLD paper (Table 1) as diffusers' SafetyConfig holds them.
constexpr Preset kPresets[] = {{"weak", 20, 15, 0.0, 0.0, 0.0},
                               {"medium", 1000, 10, 0.01, 0.3, 0.4},
                               {"strong", 2000, 7, 0.025, 0.5, 0.7},
                               {"max", 5000, 0, 1.0, 0.5, 0.7}};

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

std::string number(double v) { return numbers::formatReal(v); }

template <class Fail>
double real(const std::string& key, const std::string& text, Fail fail) {
  const auto v = numbers::parseReal(text);
  if (!v) fail("SLD " + key + " must be a number, not '" + text.substr(0, 40) + "'");
  return *v;
}

// Applies "key=value" to `out`; returns false for an unknown key.
template <class Fail>
bool assign(SafeLatentGuidance& out, const std::string& key, const std::string& value, Fail fail) {
  if (key == "guidance") {
    out.guidanceScale = real(key, value, fail);
  } else if (key == "warmup") {
    const auto v = numbers::parseInteger(value);
    if (!v || *v < 0 || *v > 1000) fail("SLD warmup must be a whole number of steps 0-1000, not '" + value.substr(0, 40) + "'");
    out.warmupSteps = static_cast<int>(*v);
  } else if (key == "threshold") {
    out.threshold = real(key, value, fail);
  } else if (key == "momentum") {
    out.momentumScale = real(key, value, fail);
  } else if (key == "beta") {
    out.momentumBeta = real(key, value, fail);
  } else if (key == "concept") {
    out.safetyConcept = value;
  } else {
    return false;
  }
  return true;
}

}  // namespace

const std::vector<std::string>& SafeLatentGuidance::presetNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& p : kPresets) out.emplace_back(p.name);
    return out;
  }();
  return names;
}

SafeLatentGuidance SafeLatentGuidance::preset(const std::string& name) {
  for (const auto& p : kPresets)
    if (name == p.name) {
      SafeLatentGuidance out;
      out.guidanceScale = p.guidance;
      out.warmupSteps = p.warmup;
      out.threshold = p.threshold;
      out.momentumScale = p.momentum;
      out.momentumBeta = p.beta;
      return out;
    }
  throw InvalidArgument("unknown SLD preset '" + name.substr(0, 40) + "' (weak, medium, strong or max)");
}

std::string SafeLatentGuidance::presetName() const {
  for (const auto& p : kPresets)
    if (guidanceScale == p.guidance && warmupSteps == p.warmup && threshold == p.threshold &&
        momentumScale == p.momentum && momentumBeta == p.beta)
      return p.name;
  return "";
}

void SafeLatentGuidance::validate() const {
  auto range = [](const char* what, double v, double lo, double hi) {
    if (!std::isfinite(v) || v < lo || v > hi)
      throw InvalidArgument(std::string("SLD ") + what + " must be between " + number(lo) + " and " + number(hi) +
                            ", not " + number(v));
  };
  range("guidance scale", guidanceScale, 0, 1e6);
  range("warm-up steps", warmupSteps, 0, 1000);
  range("threshold", threshold, -10, 10);
  range("momentum scale", momentumScale, 0, 10);
  range("momentum beta", momentumBeta, 0, 1);
  if (trim(safetyConcept).empty()) throw InvalidArgument("the SLD safety concept is empty");
  if (safetyConcept.size() > kMaxConceptBytes)
    throw InvalidArgument("the SLD safety concept is longer than " + std::to_string(kMaxConceptBytes) + " bytes");
  if (!isValidUtf8(safetyConcept)) throw InvalidArgument("the SLD safety concept is not valid UTF-8 text");
}

SafeLatentGuidance SafeLatentGuidance::parse(const std::string& spec) {
  auto fail = [&](const std::string& message) -> void { throw InvalidArgument(message); };
  SafeLatentGuidance out;
  std::string rest = trim(spec);
  bool first = true;
  while (!rest.empty()) {
    std::string item;
    const auto eq = rest.find('=');
    const auto comma = rest.find(',');
    if (eq != std::string::npos && trim(rest.substr(0, eq)) == "concept") {
      item = rest;  // the concept takes the rest, commas included
      rest.clear();
    } else {
      item = rest.substr(0, comma);
      rest = comma == std::string::npos ? "" : trim(rest.substr(comma + 1));
    }
    item = trim(item);
    const auto split = item.find('=');
    if (split == std::string::npos) {
      if (!first) throw InvalidArgument("SLD: a preset name ('" + item.substr(0, 40) + "') may only come first");
      const auto keep = out.safetyConcept;
      out = preset(item);
      out.safetyConcept = keep;
    } else {
      const auto key = trim(item.substr(0, split)), value = trim(item.substr(split + 1));
      if (!assign(out, key, value, fail))
        throw InvalidArgument("unknown SLD setting '" + key.substr(0, 40) +
                              "' (guidance, warmup, threshold, momentum, beta, concept)");
    }
    first = false;
  }
  out.validate();
  return out;
}

std::string SafeLatentGuidance::spec() const {
  std::string out = presetName();
  if (out.empty())
    out = "guidance=" + number(guidanceScale) + ",warmup=" + std::to_string(warmupSteps) + ",threshold=" +
          number(threshold) + ",momentum=" + number(momentumScale) + ",beta=" + number(momentumBeta);
  if (safetyConcept != kDefaultSafetyConcept) out += ",concept=" + safetyConcept;
  return out;
}

std::map<std::string, std::string> SafeLatentGuidance::toParameters() const {
  validate();
  std::map<std::string, std::string> out;
  std::string value = presetName();
  if (value.empty())
    value = "guidance " + number(guidanceScale) + ", warmup " + std::to_string(warmupSteps) + ", threshold " +
            number(threshold) + ", momentum " + number(momentumScale) + ", beta " + number(momentumBeta);
  out[kKey] = value;
  if (safetyConcept != kDefaultSafetyConcept) out[kConceptKey] = safetyConcept;
  return out;
}

std::optional<SafeLatentGuidance> SafeLatentGuidance::fromParameters(const std::map<std::string, std::string>& extra) {
  const auto it = extra.find(kKey);
  if (it == extra.end()) return std::nullopt;
  auto fail = [](const std::string& message) -> void { throw FormatError("parameters: " + message); };
  SafeLatentGuidance out;
  const std::string text = trim(it->second);
  if (text.find(' ') == std::string::npos) {
    try {
      out = preset(text);
    } catch (const InvalidArgument& e) {
      throw FormatError(std::string("parameters: ") + e.what());
    }
  } else {
    // "guidance 1000, warmup 10, threshold 0.01, momentum 0.3, beta 0.4"
    std::string rest = text;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = trim(rest.substr(0, comma));
      rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
      const auto space = item.find(' ');
      if (space == std::string::npos || item.substr(0, space) == "concept" ||
          !assign(out, item.substr(0, space), trim(item.substr(space + 1)), fail))
        throw FormatError("parameters: cannot read the SLD setting '" + item.substr(0, 60) + "'");
    }
  }
  // Surrounding spaces are not part of a concept (the spec grammar trims them too).
  if (const auto c = extra.find(kConceptKey); c != extra.end()) out.safetyConcept = trim(c->second);
  try {
    out.validate();
  } catch (const InvalidArgument& e) {
    throw FormatError(std::string("parameters: ") + e.what());
  }
  return out;
}

}  // namespace respo::pipeline
