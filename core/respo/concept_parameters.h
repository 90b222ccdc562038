#pragma once
// The concept settings of a generation as they travel in a PNG's "parameters" text, next to the
// prompt and sampler settings, so that a saved picture restores its concepts too:
//   RespoDiff: a woman [RAM 100% SAM 100%]; blood [RAM 80% SAM 100%]
//   RespoDiff groups: gender=balanced; skin tone=fixed:a dark-skinned person (weight 0.6)
// Plain values without LibTorch: the CLI, the generation service and the app's forms share it.
#include <map>
#include <string>
#include <vector>

#include "core/respo/fairness_policy.h"

namespace respo::concepts {

struct ConceptParameter {
  std::string name;  // the module's name ("a woman")
  double ramStrength = 1.0, samStrength = 1.0;
};

struct ConceptParameters {
  std::vector<ConceptParameter> concepts;
  std::map<std::string, GroupOptions> groups;  // by fairness group name
  bool empty() const { return concepts.empty(); }
};

// The "RespoDiff" and "RespoDiff groups" entries of the parameters line (none when no concept is on).
// Strengths are written as whole percents, the app's slider resolution.
std::map<std::string, std::string> formatConceptParameters(const ConceptParameters& parameters);
// Reads those entries back from the extras parseParameters collects. Entries it cannot read throw
// FormatError naming the text; missing entries mean no concept.
ConceptParameters parseConceptParameters(const std::map<std::string, std::string>& extra);

}  // namespace respo::concepts
