// respodiff train-concept and import-reference: making concept modules.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "app/command_line.h"
#include "core/common/error.h"
#include "core/io/image.h"
#include "core/io/safetensors.h"
#include "core/models/component_weights.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/composition.h"
#include "core/respo/reference_import.h"
#include "core/respo/trainer.h"
#include "core/respo/prompt_list.h"
#include "core/text/clip_tokenizer.h"
#include "gpu/compute_device.h"
#include "app/cli_commands.h"

namespace respo::app {

int trainConcept(const std::vector<std::string>& args) {
  const CommandLine cl(args,
                       {"model", "preset", "name", "group", "kind", "neutral", "target", "negative", "steps", "batch",
                        "seed", "ram-lr", "sam-lr", "lambda", "w-tar", "trajectory-cfg", "init", "timestep",
                        "resolution", "checkpoint", "checkpoint-every", "out", "device", "precision", "trajectory-steps",
                        "max-trajectory-step", "neutral-list", "target-list"},
                       {"resume", "quiet"});
  namespace c = respo::concepts;
  c::ConceptSettings s = cl.value("preset") ? c::preset(*cl.value("preset")) : c::ConceptSettings{};
  auto text = [&](const char* key, std::string& target) { if (auto v = cl.value(key)) target = *v; };
  auto real = [&](const char* key, double& target, double lo, double hi) { target = cl.real(key, target, lo, hi); };
  auto whole = [&](const char* key, int& target, int lo, int hi) {
    target = static_cast<int>(cl.integer(key, target, lo, hi));
  };
  text("name", s.name), text("group", s.group), text("neutral", s.neutralPrompt), text("target", s.targetPrompt);
  text("negative", s.negativePrompt), text("init", s.init);
  // Prompt lists (.txt or .csv): the first prompt replaces --neutral / --target, the rest are drawn per step.
  auto list = [&](const char* key, std::string& first, std::vector<std::string>& more) {
    if (auto file = cl.value(key)) {
      auto prompts = respo::concepts::readPromptList(*file);
      if (prompts.empty()) throw respo::InvalidArgument(*file + " holds no prompts");
      first = prompts.front();
      more.assign(prompts.begin() + 1, prompts.end());
    }
  };
  list("neutral-list", s.neutralPrompt, s.moreNeutralPrompts);
  list("target-list", s.targetPrompt, s.moreTargetPrompts);
  if (auto kind = cl.value("kind")) {
    if (*kind != "safety" && *kind != "fairness") throw respo::app::UsageError("--kind is fairness or safety");
    s.kind = *kind == "safety" ? c::ConceptKind::Safety : c::ConceptKind::Fairness;
  }
  if (auto t = cl.value("timestep")) {
    if (*t != "trajectory" && *t != "reference") throw respo::app::UsageError("--timestep is reference or trajectory");
    s.timestep = *t == "trajectory" ? c::TimestepConvention::Trajectory : c::TimestepConvention::Reference;
  }
  whole("steps", s.steps, 1, 1'000'000), whole("batch", s.batch, 1, 64), whole("resolution", s.resolution, 0, 4096);
  s.seed = cl.seed("seed", s.seed);
  whole("trajectory-steps", s.trajectorySteps, 2, 1000);
  s.maxTrajectoryStep = std::min(s.maxTrajectoryStep, s.trajectorySteps - 2);
  whole("max-trajectory-step", s.maxTrajectoryStep, 0, 999);
  real("ram-lr", s.ramLearningRate, 1e-12, 10), real("sam-lr", s.samLearningRate, 1e-12, 10);
  real("lambda", s.semanticWeight, 0, 1000);
  real("w-tar", s.targetGuidance, 0, 100), real("trajectory-cfg", s.trajectoryGuidance, 0, 100);
  // Every setting is checked before the model is loaded: a typo costs nothing.
  if (const auto problems = s.validate(); !problems.empty()) throw respo::app::UsageError(problems.front());

  const auto compute = respo::gpu::chooseDevice(respo::gpu::parseDevicePreference(cl.value("device").value_or("auto")),
                                                respo::gpu::parsePrecision(cl.value("precision").value_or("auto")));
  respo::pipeline::LoadOptions load;
  load.device = compute.device;
  load.dtype = compute.dtype;
  auto model = respo::pipeline::loadStableDiffusion(cl.model(), load);
  const std::filesystem::path out = cl.require("out");
  c::CheckpointOptions checkpoints;
  checkpoints.path = cl.value("checkpoint").value_or(out.string() + ".checkpoint.safetensors");
  checkpoints.every = static_cast<int>(cl.integer("checkpoint-every", 100, 1, 1'000'000));
  c::ConceptTrainer trainer(model, s);
  if (cl.has("resume") && std::filesystem::exists(checkpoints.path)) {
    trainer.resumeFrom(checkpoints.path);
    std::cerr << "resumed from " << checkpoints.path.string() << " at step " << trainer.module().stepsDone << "\n";
  }
  const bool quiet = cl.has("quiet");
  const auto module = trainer.train([&](const c::TrainingProgress& p) {
    if (!quiet) std::fprintf(stderr, "\rstep %d/%d  L_resp %.6f  L_sem %.6f", p.step, p.total, p.responsibleLoss, p.semanticLoss);
    return true;
  }, checkpoints);
  if (!quiet) std::fprintf(stderr, "\n");
  c::saveConcept(out, module);
  // The module is saved; its checkpoint would only sit beside it looking like a second module.
  std::error_code ignored;
  std::filesystem::remove(checkpoints.path, ignored);
  std::cout << "wrote " << out.string() << " (" << module.settings.name << ", " << module.stepsDone << " steps, L_resp "
            << module.lastResponsibleLoss << ", L_sem " << module.lastSemanticLoss << ")\n";
  return 0;
}

// Converts a checkpoint of the reference implementation into one concept file per column.
int importReference(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"out", "model"}, {"age-naming"}, 1);
  if (cl.positional().size() != 1) throw respo::app::UsageError("import-reference needs exactly one FILE");
  namespace c = respo::concepts;
  const std::filesystem::path out = cl.require("out");
  std::filesystem::create_directories(out);
  std::string fingerprint = "unknown";
  if (auto modelPath = cl.value("model")) {
    respo::pipeline::LoadOptions options;
    options.storage = respo::models::WeightStorage::Mapped;
    auto model = respo::pipeline::loadStableDiffusion(*modelPath, options);
    fingerprint = c::modelFingerprint(model.unet);
  }
  const std::map<std::string, std::string> presets{
      {"a woman", "gender-woman"}, {"a man", "gender-man"}, {"a black-race person", "race-black"},
      {"a white-race person", "race-white"}, {"a Asian-race person", "race-asian"}, {"violence", "violence"},
      {"sexual", "sexual"}};
  for (const auto& imported : c::importReferenceCheckpoint(cl.positional()[0], c::referenceColumns(cl.has("age-naming")))) {
    c::ConceptModule module;
    const auto preset = presets.find(imported.name);
    if (preset != presets.end()) {
      module.settings = c::preset(preset->second);
    } else {  // young / old: the reference trains them like gender
      module.settings = c::preset("gender-woman");
      module.settings.group = "age";
      module.settings.name = module.settings.targetPrompt = imported.name;
    }
    module.ram = imported.ram;
    module.sam = imported.sam;
    module.stepsDone = module.settings.steps;
    module.modelFingerprint = fingerprint;
    std::string file = imported.name;
    for (auto& ch : file) ch = std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::tolower(ch)) : '-';
    c::saveConcept(out / (file + ".safetensors"), module);
    std::cout << "wrote " << (out / (file + ".safetensors")).string() << " (column " << imported.column << ")\n";
  }
  return 0;
}

}  // namespace respo::app
