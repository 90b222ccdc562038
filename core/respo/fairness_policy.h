#pragma once
// How a fairness group picks its member for each image of a batch (method.md, "Inference"). Plain
// values without LibTorch, so the desktop app's concept panel can offer the choice.
#include <string>
#include <utility>
#include <vector>

namespace respo::concepts {

enum class FairnessPolicy { RandomPerImage, BalancedBatch, Fixed };

FairnessPolicy parsePolicy(const std::string& text);  // "random", "balanced", "fixed"
const char* policyName(FairnessPolicy policy);        // the inverse of parsePolicy

// How the user set up one fairness group: its policy, the member a Fixed policy uses, and the
// group's weight (intersectional use, e.g. gender 0.6 / skin tone 0.4).
// `shares` sets the target distribution of the random and balanced policies: a member's share of the
// images (any unit; normalised), e.g. {{"a woman", 30}, {"a man", 70}}. Members it does not list get
// none; empty: every member equally (the paper's uniform target).
struct GroupOptions {
  FairnessPolicy policy = FairnessPolicy::RandomPerImage;
  std::string fixedMember;
  double weight = 1.0;
  std::vector<std::pair<std::string, double>> shares;
  bool operator==(const GroupOptions&) const = default;
};

}  // namespace respo::concepts
