#include "core/respo/concept_settings.h"

#include "core/common/utf8.h"

namespace respo::concepts {
namespace {

// Text that ends up in file names, menus and the parameters text of every picture.
bool isPlainLabel(const std::string& text) {
  if (!isValidUtf8(text)) return false;
  for (const unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

bool isUsablePrompt(const std::string& text) {
  if (!isValidUtf8(text)) return false;
  for (const char c : text)
    if (c == '\0') return false;
  return true;
}

std::vector<std::string> withFirst(const std::string& first, const std::vector<std::string>& more) {
  std::vector<std::string> all{first};
  all.insert(all.end(), more.begin(), more.end());
  return all;
}

}  // namespace

const char* kindName(ConceptKind kind) { return kind == ConceptKind::Fairness ? "fairness" : "safety"; }
const char* conventionName(TimestepConvention c) { return c == TimestepConvention::Reference ? "reference" : "trajectory"; }

std::vector<std::string> ConceptSettings::validate() const {
  std::vector<std::string> problems;
  if (name.empty()) problems.push_back("the concept needs a name");
  if (group.empty()) problems.push_back("the concept needs a group");
  if (!isPlainLabel(name) || name.size() > kMaxLabelBytes)
    problems.push_back("the name must be UTF-8 text of at most " + std::to_string(kMaxLabelBytes) +
                       " bytes without line breaks or control characters");
  if (!isPlainLabel(group) || group.size() > kMaxLabelBytes)
    problems.push_back("the group must be UTF-8 text of at most " + std::to_string(kMaxLabelBytes) +
                       " bytes without line breaks or control characters");
  if (kind == ConceptKind::Safety && negativePrompt.empty())
    problems.push_back("a safety concept needs the unsafe concept as its negative prompt");
  if (targetPrompt.empty()) problems.push_back("the target prompt is empty");
  for (const auto* prompt : {&neutralPrompt, &targetPrompt, &negativePrompt})
    if (!isUsablePrompt(*prompt) || prompt->size() > kMaxPromptBytes)
      problems.push_back("a prompt is not UTF-8 text of at most " + std::to_string(kMaxPromptBytes) + " bytes");
  for (const auto& list : {moreNeutralPrompts, moreTargetPrompts})
    for (const auto& prompt : list) {
      if (prompt.empty()) problems.push_back("a prompt of the lists is empty");
      else if (!isUsablePrompt(prompt) || prompt.size() > kMaxPromptBytes)
        problems.push_back("a prompt of the lists is not UTF-8 text of at most " + std::to_string(kMaxPromptBytes) +
                           " bytes");
    }
  if (moreNeutralPrompts.size() + moreTargetPrompts.size() > 10'000) problems.push_back("the prompt lists are too long");
  if (steps < 1 || steps > 1'000'000) problems.push_back("steps must be between 1 and 1000000");
  if (batch < 1 || batch > 64) problems.push_back("batch must be between 1 and 64");
  if (!(ramLearningRate > 0 && ramLearningRate < 10)) problems.push_back("RAM learning rate must be in (0, 10)");
  if (!(samLearningRate > 0 && samLearningRate < 10)) problems.push_back("SAM learning rate must be in (0, 10)");
  if (!(semanticWeight >= 0 && semanticWeight <= 1000)) problems.push_back("lambda must be in [0, 1000]");
  if (!(targetGuidance >= 0 && targetGuidance <= 100)) problems.push_back("w_tar must be in [0, 100]");
  if (!(trajectoryGuidance >= 0 && trajectoryGuidance <= 100)) problems.push_back("trajectory CFG must be in [0, 100]");
  if (trajectorySteps < 2 || trajectorySteps > 1000) problems.push_back("trajectory steps must be in [2, 1000]");
  if (maxTrajectoryStep < 0 || maxTrajectoryStep >= trajectorySteps)
    problems.push_back("the largest trajectory step must be below the number of trajectory steps");
  if (init != "uniform" && init != "zero") problems.push_back("init must be 'uniform' or 'zero'");
  if (resolution < 0 || resolution > 16384) problems.push_back("the resolution must be 0 (native) or up to 16384");
  return problems;
}

std::vector<std::string> ConceptSettings::neutralPrompts() const { return withFirst(neutralPrompt, moreNeutralPrompts); }
std::vector<std::string> ConceptSettings::targetPrompts() const { return withFirst(targetPrompt, moreTargetPrompts); }

}  // namespace respo::concepts
