// respodiff generate: text-to-image, optionally with concept modules and a side-by-side comparison.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
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
#include "core/respo/concept_parameters.h"
#include "core/respo/concept_library.h"
#include "core/respo/reference_import.h"
#include "core/respo/trainer.h"
#include "core/text/clip_tokenizer.h"
#include "gpu/compute_device.h"
#include "app/cli_commands.h"
#include "app/concept_options.h"
#include "core/common/numbers.h"
#include "core/io/atomic_file.h"
#include "core/schedulers/scheduler.h"

namespace respo::app {

respo::concepts::Composition conceptsFromCommandLine(const CommandLine& cl, const std::string& fingerprint,
                                                     std::uint64_t seed) {
  respo::concepts::Composition composition;
  composition.seed = seed;
  const auto list = cl.value("concept");
  if (!list) return composition;
  const double ram = cl.real("ram-strength", 1, 0, 10), sam = cl.real("sam-strength", 1, 0, 10);
  // Each item is a file, or a group or concept name looked up in the concept library.
  std::vector<std::string> files;
  std::stringstream items(*list);
  std::optional<respo::concepts::ConceptLibrary> library;
  for (std::string item; std::getline(items, item, ',');) {
    if (std::filesystem::is_regular_file(item)) {
      files.push_back(item);
      continue;
    }
    if (!library) library = respo::concepts::ConceptLibrary::scan(respo::concepts::ConceptLibrary::defaultFolders());
    for (const auto& file : library->resolve(item, cl.has("ignore-fingerprint") ? "" : fingerprint))
      files.push_back(file.string());
  }
  std::vector<respo::concepts::ConceptUse> uses;
  for (const std::string& file : files) {
    auto loaded = std::make_shared<respo::concepts::ConceptModule>(respo::concepts::loadConcept(file));
    if (loaded->modelFingerprint != fingerprint && !cl.has("ignore-fingerprint"))
      throw respo::InvalidArgument(file + ": was trained on another model (fingerprint " + loaded->modelFingerprint +
                                   ", this model " + fingerprint + "); pass --ignore-fingerprint to apply it anyway");
    uses.push_back({loaded, ram, sam});
  }
  respo::concepts::GroupOptions defaults;
  defaults.policy = respo::concepts::parsePolicy(cl.value("policy").value_or("random"));
  defaults.fixedMember = cl.value("fixed-member").value_or("");
  composition = respo::concepts::groupConcepts(uses, seed, {}, defaults);
  // --group-weight gender=0.6,race=0.4 (intersectional use; 1 by default)
  if (auto weights = cl.value("group-weight")) {
    std::stringstream entries(*weights);
    for (std::string entry; std::getline(entries, entry, ',');) {
      const auto eq = entry.find('=');
      auto group = std::find_if(composition.fairness.begin(), composition.fairness.end(),
                                [&](const auto& g) { return eq != std::string::npos && g.name == entry.substr(0, eq); });
      if (group == composition.fairness.end())
        throw respo::InvalidArgument("--group-weight '" + entry + "' names no fairness group of the given concepts");
      const auto weight = respo::numbers::parseReal(entry.substr(eq + 1));
      if (!weight || *weight < 0 || *weight > 10)
        throw respo::InvalidArgument("--group-weight '" + entry + "' needs a number from 0 to 10 after '='");
      group->weight = *weight;
    }
  }
  return composition;
}

int generate(const std::vector<std::string>& args) {
  const CommandLine cl(args,
                       {"model", "prompt", "negative", "seed", "steps", "cfg", "scheduler", "width", "height",
                        "batch", "out", "device", "precision", "config-from", "variant", "clip-skip", "concept",
                        "ram-strength", "sam-strength", "policy", "fixed-member", "group-weight"},
                       {"quiet", "compare", "ignore-fingerprint", "low-memory"});
  namespace fs = std::filesystem;
  // Every setting is read and checked before the model is loaded or anything is allocated.
  respo::pipeline::GenerationRequest request;
  request.prompt = cl.require("prompt");
  request.negativePrompt = cl.value("negative").value_or("");
  request.seed = cl.seed("seed", 0);
  request.steps = static_cast<int>(cl.integer("steps", 25, 1, respo::pipeline::kMaxSteps));
  request.width = static_cast<int>(cl.integer("width", 0, 0, respo::pipeline::kMaxImageSide));
  request.height = static_cast<int>(cl.integer("height", 0, 0, respo::pipeline::kMaxImageSide));
  request.batch = static_cast<int>(cl.integer("batch", 1, 1, respo::pipeline::kMaxBatch));
  request.clipSkip = static_cast<int>(cl.integer("clip-skip", 0, 0, 64));
  request.scheduler = cl.value("scheduler").value_or("");
  request.guidanceScale = cl.real("cfg", 7.5, 0, 100);
  request.validateSettings();
  if (!request.scheduler.empty()) {
    const auto names = respo::sched::schedulerNames();
    if (std::find(names.begin(), names.end(), request.scheduler) == names.end())
      throw respo::InvalidArgument("unknown --scheduler '" + request.scheduler + "'");
  }
  if (cl.has("compare") && !cl.value("concept")) throw respo::InvalidArgument("--compare needs at least one --concept");
  const fs::path out = cl.value("out").value_or("respodiff.png");
  respo::io::checkWritableTarget(out);

  const auto compute = respo::gpu::chooseDevice(respo::gpu::parseDevicePreference(cl.value("device").value_or("auto")),
                                                respo::gpu::parsePrecision(cl.value("precision").value_or("auto")));
  respo::pipeline::LoadOptions load;
  load.device = compute.device;
  load.dtype = compute.dtype;
  load.variant = cl.value("variant").value_or("");
  load.configFolder = cl.value("config-from").value_or("");
  if (cl.has("low-memory")) load.storage = respo::models::WeightStorage::Mapped;
  const fs::path modelPath = cl.require("model");
  auto model = respo::pipeline::loadStableDiffusion(modelPath, load);

  const int native = model.nativeImageSize();
  if (request.width == 0) request.width = native;
  if (request.height == 0) request.height = native;
  request.validate(model);

  const bool quiet = cl.has("quiet");
  auto progress = [&](const respo::pipeline::StepProgress& p) {
    if (!quiet) std::fprintf(stderr, "\rstep %d/%d", p.step, p.total);
    return true;
  };

  // Concept modules: fairness modules grouped by their group (one member per image), safety summed.
  std::map<std::string, std::string> extra;
  respo::models::BottleneckHook hook;
  if (cl.value("concept")) {
    const auto composition =
        conceptsFromCommandLine(cl, respo::concepts::modelFingerprint(model.unet), request.seed);
    const auto h = model.bottleneckShape(request.width, request.height);
    hook = respo::concepts::makeConceptHook(respo::concepts::composeDeltas(composition, request.batch, h).perImage);
    extra = respo::concepts::formatConceptParameters(respo::concepts::describeComposition(composition));
  }

  respo::pipeline::TextToImagePipeline pipeline(model);
  const auto result = pipeline.generate(request, progress, hook);
  if (!quiet) std::fprintf(stderr, "\n");
  std::vector<respo::io::RgbImage> baseline;
  if (cl.has("compare")) {
    baseline = pipeline.generate(request, progress).rgb;  // same seed, same noise, no modules
    if (!quiet) std::fprintf(stderr, "\n");
  }
  const auto parameters = respo::pipeline::formatParameters(request, modelPath.filename().string(), extra);
  for (std::size_t i = 0; i < result.rgb.size(); ++i) {
    fs::path target = out;
    if (result.rgb.size() > 1)
      target = out.parent_path() / (out.stem().string() + "-" + std::to_string(i) + out.extension().string());
    const auto image = baseline.empty() ? result.rgb[i] : respo::io::sideBySide({baseline[i], result.rgb[i]});
    respo::io::writePng(target, image, {{"parameters", parameters}});
    std::cout << "wrote " << target.string() << (baseline.empty() ? "" : " (baseline | responsible)") << "\n";
  }
  return 0;
}

}  // namespace respo::app
