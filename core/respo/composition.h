#pragma once
// How enabled concept modules combine at inference (method.md, "Inference"):
//  - a fairness group (gender, skin tone) contributes ONE member per image: drawn at random,
//    split exactly evenly over the batch, or fixed by the user; random draws and balanced splits
//    follow the group's target shares when it has them (a balanced batch gets the largest-remainder
//    apportionment of its size, remainders to the largest fractions, ties in a seeded order);
//  - safety concepts are summed;
//  - each group has a weight (intersectional use, e.g. 0.6 / 0.4), each concept its RAM and SAM
//    strengths (0 = off, 1 = as trained; an extension of the paper's single scale).
// The result is a bottleneck hook that adds each image's delta to its conditional row only.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/models/unet.h"
#include "core/respo/concept_module.h"
#include "core/respo/fairness_policy.h"
#include "core/respo/selection.h"

namespace respo::concepts {

struct ConceptUse {
  std::shared_ptr<const ConceptModule> module;
  double ramStrength = 1.0;
  double samStrength = 1.0;
};

struct FairnessGroup {
  std::string name;
  std::vector<ConceptUse> members;
  FairnessPolicy policy = FairnessPolicy::RandomPerImage;
  std::string fixedMember;  // for FairnessPolicy::Fixed
  double weight = 1.0;
  std::vector<std::pair<std::string, double>> shares;  // target shares (GroupOptions); empty: uniform
};

struct Composition {
  std::vector<FairnessGroup> fairness;
  std::vector<ConceptUse> safety;
  std::uint64_t seed = 0;  // draws the members of random groups
  bool empty() const { return fairness.empty() && safety.empty(); }
};

struct ComposedDeltas {
  torch::Tensor perImage;                         // [B, C, H, W]
  std::vector<std::vector<std::string>> members;  // per image, the fairness members chosen
};

// Throws InvalidArgument when a module's h shape differs from `hShape` or a fixed member is unknown.
ComposedDeltas composeDeltas(const Composition& composition, int batch, const std::vector<int64_t>& hShape);

// A hook adding deltas.perImage[i] to the i-th conditional row of every UNet call.
models::BottleneckHook makeConceptHook(const torch::Tensor& perImage);

// Sorts enabled concepts the way every front end uses them: fairness modules into one group per
// settings.group (one member per image), safety modules summed. A group takes its options from
// `groups` (by name) or else `defaults`. `seed` draws the members of random groups.
Composition groupConcepts(const std::vector<ConceptUse>& uses, std::uint64_t seed,
                          const std::map<std::string, GroupOptions>& groups = {}, const GroupOptions& defaults = {});

// What a composition applies, as a picture's parameters record it: every module (its identity) with
// its strengths (fairness members group by group, then safety) and each fairness group's options.
Selection describeComposition(const Composition& composition);

// The one way a composition becomes a bottleneck edit for a request of `batch` images at a bottleneck
// of `hShape`: its members are drawn with `seed` (the request's), the deltas composed, and the hook
// made. `members` (optional) receives, per image, the fairness members drawn. An empty composition
// gives an empty hook.
models::BottleneckHook conceptHook(const Composition& composition, std::uint64_t seed, int batch,
                                   const std::vector<int64_t>& hShape,
                                   std::vector<std::vector<std::string>>* members = nullptr);

}  // namespace respo::concepts
