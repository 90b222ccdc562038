#include "core/respo/concept_metadata.h"

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json.h"
#include "core/common/numbers.h"
#include "core/common/utf8.h"

namespace respo::concepts {
namespace {

std::string joinShape(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

class MetadataReader {
 public:
  MetadataReader(const io::Metadata& metadata, std::string where) : md_(metadata), where_(std::move(where)) {}

  const std::string& text(const std::string& key) const {
    const auto found = md_.find(key);
    if (found == md_.end())
      throw FormatError(where_ + ": not a RespoDiff concept module (its metadata lacks '" + key + "')");
    return found->second;
  }
  double real(const std::string& key) const {
    const auto value = numbers::parseReal(text(key));
    if (!value) fail(key, "is not a finite number");
    return *value;
  }
  int whole(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    const auto value = numbers::parseInteger(text(key));
    if (!value || *value < lo || *value > hi)
      fail(key, "is not a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<int>(*value);
  }
  std::uint64_t unsignedWhole(const std::string& key) const {
    const auto value = numbers::parseUnsigned(text(key));
    if (!value) fail(key, "is not a non-negative whole number");
    return *value;
  }
  std::string oneOf(const std::string& key, std::initializer_list<const char*> allowed) const {
    const auto& value = text(key);
    for (const char* a : allowed)
      if (value == a) return value;
    fail(key, "has an unknown value");
  }
  std::vector<std::string> list(const std::string& key) const {
    const auto found = md_.find(key);
    if (found == md_.end()) return {};
    const auto parsed = json::parse(found->second, where_ + ": metadata '" + key + "'");
    if (!parsed.is_array()) fail(key, "is not a list");
    std::vector<std::string> out;
    for (const auto& item : parsed) {
      if (!item.is_string()) fail(key, "is not a list of text");
      out.push_back(item.get<std::string>());
    }
    return out;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw FormatError(where_ + ": concept metadata '" + key + "' " + problem);
  }

 private:
  const io::Metadata& md_;
  std::string where_;
};

}  // namespace

void checkConceptShape(const std::vector<std::int64_t>& shape, const std::string& where, const char* tensor) {
  const bool ok = shape.size() == 4 && shape[0] == 1 && shape[1] >= 1 && shape[1] <= kMaxConceptChannels &&
                  shape[2] >= 1 && shape[2] <= kMaxConceptSide && shape[3] >= 1 && shape[3] <= kMaxConceptSide;
  if (!ok)
    throw FormatError(where + ": tensor '" + tensor + "' has shape [" + joinShape(shape) +
                      "]; a concept module holds one bottleneck-shaped tensor [1, C, H, W] with C up to " +
                      std::to_string(kMaxConceptChannels) + " and H, W up to " + std::to_string(kMaxConceptSide));
}

io::Metadata conceptMetadata(const ConceptRecord& m) {
  const auto& s = m.settings;
  io::Metadata metadata{
      {"format", "respodiff-concept"}, {"format_version", "1"},
      {"name", s.name}, {"group", s.group}, {"kind", kindName(s.kind)}, {"module_type", m.moduleType},
      {"neutral_prompt", s.neutralPrompt}, {"target_prompt", s.targetPrompt}, {"negative_prompt", s.negativePrompt},
      {"w_tar", numbers::formatReal(s.targetGuidance)}, {"trajectory_cfg", numbers::formatReal(s.trajectoryGuidance)},
      {"ram_lr", numbers::formatReal(s.ramLearningRate)}, {"sam_lr", numbers::formatReal(s.samLearningRate)},
      {"lambda", numbers::formatReal(s.semanticWeight)}, {"steps", std::to_string(s.steps)},
      {"batch", std::to_string(s.batch)}, {"seed", std::to_string(s.seed)},
      {"trajectory_steps", std::to_string(s.trajectorySteps)},
      {"max_trajectory_step", std::to_string(s.maxTrajectoryStep)}, {"init", s.init},
      {"timestep_convention", conventionName(s.timestep)}, {"resolution", std::to_string(s.resolution)},
      {"steps_done", std::to_string(m.stepsDone)}, {"loss_resp", numbers::formatReal(m.lastResponsibleLoss)},
      {"loss_sem", numbers::formatReal(m.lastSemanticLoss)}, {"model_fingerprint", m.modelFingerprint},
      {"h_shape", joinShape(m.hShape)}};
  if (!s.moreNeutralPrompts.empty()) metadata["more_neutral_prompts"] = json::dump(nlohmann::json(s.moreNeutralPrompts));
  if (!s.moreTargetPrompts.empty()) metadata["more_target_prompts"] = json::dump(nlohmann::json(s.moreTargetPrompts));
  return metadata;
}

ConceptRecord parseConceptMetadata(const io::Metadata& md, const std::string& where) {
  const MetadataReader r(md, where);
  if (r.text("format") != "respodiff-concept")
    throw FormatError(where + ": not a RespoDiff concept module (its metadata says format '" +
                      json::brief(nlohmann::json(r.text("format")), 40) + "')");
  ConceptRecord m;
  auto& s = m.settings;
  s.name = r.text("name");
  s.group = r.text("group");
  s.kind = r.oneOf("kind", {"fairness", "safety"}) == "safety" ? ConceptKind::Safety : ConceptKind::Fairness;
  m.moduleType = r.text("module_type");
  if (m.moduleType != "constant")
    throw FormatError(where + ": module type '" + json::brief(nlohmann::json(m.moduleType), 40) +
                      "' is not supported by this version");
  s.neutralPrompt = r.text("neutral_prompt");
  s.targetPrompt = r.text("target_prompt");
  s.negativePrompt = r.text("negative_prompt");
  s.targetGuidance = r.real("w_tar");
  s.trajectoryGuidance = r.real("trajectory_cfg");
  s.ramLearningRate = r.real("ram_lr");
  s.samLearningRate = r.real("sam_lr");
  s.semanticWeight = r.real("lambda");
  s.steps = r.whole("steps", 1, 1'000'000);
  s.batch = r.whole("batch", 1, 64);
  s.seed = r.unsignedWhole("seed");
  s.trajectorySteps = r.whole("trajectory_steps", 2, 1000);
  s.maxTrajectoryStep = r.whole("max_trajectory_step", 0, 999);
  s.init = r.oneOf("init", {"uniform", "zero"});
  s.timestep = r.oneOf("timestep_convention", {"reference", "trajectory"}) == "trajectory" ? TimestepConvention::Trajectory
                                                                                             : TimestepConvention::Reference;
  s.resolution = r.whole("resolution", 0, 16384);
  m.stepsDone = r.whole("steps_done", 0, 1'000'000);
  m.lastResponsibleLoss = r.real("loss_resp");
  m.lastSemanticLoss = r.real("loss_sem");
  m.modelFingerprint = r.text("model_fingerprint");
  s.moreNeutralPrompts = r.list("more_neutral_prompts");
  s.moreTargetPrompts = r.list("more_target_prompts");
  if (const auto found = md.find("h_shape"); found != md.end()) {
    for (std::size_t start = 0; start <= found->second.size();) {
      const auto x = found->second.find('x', start);
      const auto part = found->second.substr(start, x == std::string::npos ? std::string::npos : x - start);
      const auto value = numbers::parseInteger(part);
      if (!value || m.hShape.size() >= 3) r.fail("h_shape", "is not C x H x W");
      m.hShape.push_back(*value);
      if (x == std::string::npos) break;
      start = x + 1;
    }
  }
  if (const auto problems = s.validate(); !problems.empty())
    throw FormatError(where + ": its settings are not usable: " + problems.front());
  return m;
}

}  // namespace respo::concepts
