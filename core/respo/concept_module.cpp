#include "core/respo/concept_module.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"

namespace respo::concepts {
namespace {

std::string number(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

std::string joinShape(const std::vector<int64_t>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

}  // namespace

const char* kindName(ConceptKind kind) { return kind == ConceptKind::Fairness ? "fairness" : "safety"; }
const char* conventionName(TimestepConvention c) { return c == TimestepConvention::Reference ? "reference" : "trajectory"; }

std::vector<std::string> ConceptSettings::validate() const {
  std::vector<std::string> problems;
  if (name.empty()) problems.push_back("the concept needs a name");
  if (group.empty()) problems.push_back("the concept needs a group");
  if (kind == ConceptKind::Safety && negativePrompt.empty())
    problems.push_back("a safety concept needs the unsafe concept as its negative prompt");
  if (targetPrompt.empty()) problems.push_back("the target prompt is empty");
  for (const auto& list : {moreNeutralPrompts, moreTargetPrompts})
    for (const auto& prompt : list)
      if (prompt.empty()) problems.push_back("a prompt of the lists is empty");
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
  return problems;
}

namespace {
std::vector<std::string> withFirst(const std::string& first, const std::vector<std::string>& more) {
  std::vector<std::string> all{first};
  all.insert(all.end(), more.begin(), more.end());
  return all;
}
}  // namespace

std::vector<std::string> ConceptSettings::neutralPrompts() const { return withFirst(neutralPrompt, moreNeutralPrompts); }
std::vector<std::string> ConceptSettings::targetPrompts() const { return withFirst(targetPrompt, moreTargetPrompts); }

void saveConcept(const std::filesystem::path& path, const ConceptModule& m,
                 const std::map<std::string, torch::Tensor>& extra) {
  if (!m.ram.defined() || !m.sam.defined() || m.ram.sizes() != m.sam.sizes() || m.ram.dim() != 4)
    throw InvalidArgument(path.string() + ": a concept module needs RAM and SAM tensors of one [1, C, H, W] shape");
  const auto& s = m.settings;
  io::Metadata metadata{
      {"format", "respodiff-concept"}, {"format_version", "1"},
      {"name", s.name}, {"group", s.group}, {"kind", kindName(s.kind)}, {"module_type", m.moduleType},
      {"neutral_prompt", s.neutralPrompt}, {"target_prompt", s.targetPrompt}, {"negative_prompt", s.negativePrompt},
      {"w_tar", number(s.targetGuidance)}, {"trajectory_cfg", number(s.trajectoryGuidance)},
      {"ram_lr", number(s.ramLearningRate)}, {"sam_lr", number(s.samLearningRate)},
      {"lambda", number(s.semanticWeight)}, {"steps", std::to_string(s.steps)}, {"batch", std::to_string(s.batch)},
      {"seed", std::to_string(s.seed)}, {"trajectory_steps", std::to_string(s.trajectorySteps)},
      {"max_trajectory_step", std::to_string(s.maxTrajectoryStep)}, {"init", s.init},
      {"timestep_convention", conventionName(s.timestep)}, {"resolution", std::to_string(s.resolution)},
      {"steps_done", std::to_string(m.stepsDone)}, {"loss_resp", number(m.lastResponsibleLoss)},
      {"loss_sem", number(m.lastSemanticLoss)}, {"model_fingerprint", m.modelFingerprint},
      {"h_shape", joinShape(m.hShape())}};
  if (!s.moreNeutralPrompts.empty()) metadata["more_neutral_prompts"] = nlohmann::json(s.moreNeutralPrompts).dump();
  if (!s.moreTargetPrompts.empty()) metadata["more_target_prompts"] = nlohmann::json(s.moreTargetPrompts).dump();
  auto tensors = extra;
  tensors["ram"] = m.ram.detach().to(torch::kCPU, torch::kFloat32);
  tensors["sam"] = m.sam.detach().to(torch::kCPU, torch::kFloat32);
  io::saveTensors(path, tensors, metadata);
}

ConceptModule loadConcept(const std::filesystem::path& path) {
  const auto file = io::SafetensorsFile::open(path);
  const auto& md = file.metadata();
  auto field = [&](const std::string& key) -> std::string {
    const auto found = md.find(key);
    if (found == md.end()) throw FormatError(path.string() + ": not a RespoDiff concept module (metadata lacks '" + key + "')");
    return found->second;
  };
  if (field("format") != "respodiff-concept")
    throw FormatError(path.string() + ": not a RespoDiff concept module (format '" + field("format") + "')");
  if (!file.contains("ram") || !file.contains("sam"))
    throw FormatError(path.string() + ": a concept module needs tensors 'ram' and 'sam'");
  ConceptModule m;
  m.ram = io::loadTensor(file, "ram").clone();
  m.sam = io::loadTensor(file, "sam").clone();
  if (m.ram.dim() != 4 || m.ram.sizes() != m.sam.sizes() || m.ram.scalar_type() != torch::kFloat32)
    throw FormatError(path.string() + ": 'ram' and 'sam' must be float32 tensors of one [1, C, H, W] shape");
  auto& s = m.settings;
  try {
    s.name = field("name");
    s.group = field("group");
    s.kind = field("kind") == "safety" ? ConceptKind::Safety : ConceptKind::Fairness;
    m.moduleType = field("module_type");
    s.neutralPrompt = field("neutral_prompt");
    s.targetPrompt = field("target_prompt");
    s.negativePrompt = field("negative_prompt");
    s.targetGuidance = std::stod(field("w_tar"));
    s.trajectoryGuidance = std::stod(field("trajectory_cfg"));
    s.ramLearningRate = std::stod(field("ram_lr"));
    s.samLearningRate = std::stod(field("sam_lr"));
    s.semanticWeight = std::stod(field("lambda"));
    s.steps = std::stoi(field("steps"));
    s.batch = std::stoi(field("batch"));
    s.seed = std::stoull(field("seed"));
    s.trajectorySteps = std::stoi(field("trajectory_steps"));
    s.maxTrajectoryStep = std::stoi(field("max_trajectory_step"));
    s.init = field("init");
    s.timestep = field("timestep_convention") == "trajectory" ? TimestepConvention::Trajectory : TimestepConvention::Reference;
    s.resolution = std::stoi(field("resolution"));
    m.stepsDone = std::stoi(field("steps_done"));
    m.lastResponsibleLoss = std::stod(field("loss_resp"));
    m.lastSemanticLoss = std::stod(field("loss_sem"));
    m.modelFingerprint = field("model_fingerprint");
    auto list = [&](const std::string& key) {
      const auto found = md.find(key);
      if (found == md.end()) return std::vector<std::string>{};
      const auto parsed = nlohmann::json::parse(found->second, nullptr, false);
      if (!parsed.is_array()) throw FormatError(path.string() + ": concept metadata '" + key + "' is not a list");
      std::vector<std::string> out;
      for (const auto& item : parsed) {
        if (!item.is_string()) throw FormatError(path.string() + ": concept metadata '" + key + "' is not a list of text");
        out.push_back(item.get<std::string>());
      }
      return out;
    };
    s.moreNeutralPrompts = list("more_neutral_prompts");
    s.moreTargetPrompts = list("more_target_prompts");
  } catch (const std::invalid_argument&) {
    throw FormatError(path.string() + ": concept metadata has an unreadable number");
  } catch (const std::out_of_range&) {
    throw FormatError(path.string() + ": concept metadata has an out-of-range number");
  }
  if (m.moduleType != "constant")
    throw FormatError(path.string() + ": module type '" + m.moduleType + "' is not supported by this version");
  return m;
}

}  // namespace respo::concepts
