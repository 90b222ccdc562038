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
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/command_line.h"
#include "app/picture_output.h"
#include "app/progress.h"
#include "core/common/error.h"
#include "core/io/image.h"
#include "core/io/picture_files.h"
#include "core/io/safetensors.h"
#include "core/models/component_weights.h"
#include "core/models/winograd.h"
#include "core/common/paths.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/lora_keys.h"
#include "core/pipeline/model_hash.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/composition.h"
#include "core/respo/prompt_list.h"
#include "core/respo/responsible_generation.h"
#include "core/respo/concept_library.h"
#include "core/respo/reference_import.h"
#include "core/respo/trainer.h"
#include "core/text/clip_tokenizer.h"
#include "gpu/compute_device.h"
#include "app/cli_commands.h"
#include "app/concept_options.h"
#include "app/lora_options.h"
#include "core/common/numbers.h"
#include "core/io/atomic_file.h"
#include "core/schedulers/scheduler.h"

namespace respo::app {

respo::concepts::Selection selectionFromCommandLine(const CommandLine& cl, respo::responsible::ModuleSource& source,
                                                    const std::string& fingerprint) {
  respo::concepts::Selection selection;
  const auto list = cl.value("concept");
  if (!list) return selection;
  const double ram = cl.real("ram-strength", 1, 0, respo::concepts::kMaxStrength);
  const double sam = cl.real("sam-strength", 1, 0, respo::concepts::kMaxStrength);
  const bool anyModel = cl.has("ignore-fingerprint");
  // Each item is a file, or a group or concept name looked up in the concept library.
  std::vector<std::filesystem::path> files;
  std::stringstream items(*list);
  std::optional<respo::concepts::ConceptLibrary> library;
  for (std::string item; std::getline(items, item, ',');) {
    if (std::filesystem::is_regular_file(item)) {
      files.emplace_back(item);
      continue;
    }
    if (!library) library = respo::concepts::ConceptLibrary::scan(respo::concepts::ConceptLibrary::defaultFolders());
    for (const auto& file : library->resolve(item, anyModel ? "" : fingerprint)) files.push_back(file);
  }
  std::vector<std::string> fairnessGroups;
  std::map<std::string, std::string> groupOfMember;
  for (const auto& file : files) {
    const auto loaded = source.load(file);
    if (loaded->modelFingerprint != fingerprint && !anyModel)
      throw respo::InvalidArgument(file.string() + ": was trained on another model (fingerprint " +
                                   loaded->modelFingerprint + ", this model " + fingerprint +
                                   "); pass --ignore-fingerprint to apply it anyway");
    selection.modules.push_back({loaded->identity(), file, ram, sam});
    if (loaded->settings.kind != respo::concepts::ConceptKind::Safety) {
      fairnessGroups.push_back(loaded->settings.group);
      groupOfMember[loaded->settings.name] = loaded->settings.group;
    }
  }
  selection.defaults.policy = respo::concepts::parsePolicy(cl.value("policy").value_or("random"));
  selection.defaults.fixedMember = cl.value("fixed-member").value_or("");
  // --group-weight gender=0.6,race=0.4 (intersectional use; 1 by default)
  if (auto weights = cl.value("group-weight")) {
    std::stringstream entries(*weights);
    for (std::string entry; std::getline(entries, entry, ',');) {
      const auto eq = entry.find('=');
      const std::string group = eq == std::string::npos ? "" : entry.substr(0, eq);
      if (std::find(fairnessGroups.begin(), fairnessGroups.end(), group) == fairnessGroups.end())
        throw respo::app::UsageError("--group-weight '" + entry + "' names no fairness group of the given concepts");
      const auto weight = respo::numbers::parseReal(entry.substr(eq + 1));
      if (!weight || *weight < 0 || *weight > 10)
        throw respo::app::UsageError("--group-weight '" + entry + "' needs a number from 0 to 10 after '='");
      auto options = selection.defaults;
      options.weight = *weight;
      selection.groups[group] = options;
    }
  }
  // --shares "a woman=30,a man=70": target shares of the random and balanced policies (any unit),
  // for the groups those members belong to.
  if (auto shares = cl.value("shares")) {
    std::stringstream entries(*shares);
    for (std::string entry; std::getline(entries, entry, ',');) {
      const auto eq = entry.rfind('=');
      const std::string member = eq == std::string::npos ? entry : entry.substr(0, eq);
      const auto group = groupOfMember.find(member);
      if (group == groupOfMember.end())
        throw respo::app::UsageError("--shares '" + entry + "' names no fairness member of the given concepts");
      const auto share = eq == std::string::npos ? std::nullopt : respo::numbers::parseReal(entry.substr(eq + 1));
      if (!share || *share < 0) throw respo::app::UsageError("--shares '" + entry + "' needs a number of 0 or more after '='");
      if (!selection.groups.count(group->second)) selection.groups[group->second] = selection.defaults;
      selection.groups[group->second].shares.push_back({member, *share});
    }
  }
  selection.validate();
  return selection;
}

respo::concepts::Composition conceptsFromCommandLine(const CommandLine& cl, const std::string& fingerprint) {
  respo::responsible::ModuleSource source;
  return source.resolve(selectionFromCommandLine(cl, source, fingerprint), fingerprint, cl.has("ignore-fingerprint"));
}

std::vector<MethodChoice> methodsFromCommandLine(const CommandLine& cl) {
  const auto text = cl.value("method");
  if (!text) {
    std::vector<MethodChoice> out;
    if (cl.value("concept")) out.push_back({"respodiff", {}});
    return out;
  }
  return parseMethods(*text, cl.value("concept").has_value());
}

std::vector<MethodChoice> parseMethods(const std::string& spec, bool haveConcepts) {
  std::vector<MethodChoice> out;
  bool none = false, respodiff = false;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto end = spec.find('+', start);
    if (end == std::string::npos) end = spec.size();
    // Free text takes the rest of the option, '+' included: an SLD concept ("concept=...") and the
    // text of the negative-prompt and prompt-editing methods.
    if (const auto c = spec.find("concept=", start); c != std::string::npos && c < end && spec.compare(start, 4, "sld:") == 0)
      end = spec.size();
    if (spec.compare(start, 9, "negative:") == 0 || spec.compare(start, 12, "prompt-edit:") == 0) end = spec.size();
    const std::string item = spec.substr(start, end - start);
    start = end + 1;
    const auto colon = item.find(':');
    const std::string kind = item.substr(0, colon);
    if (kind == "none") {
      none = true;
    } else if (kind == "respodiff") {
      // respodiff[:ram=X][,sam=Y]: the modules come from --concept; these strengths replace theirs.
      if (!haveConcepts) throw respo::app::UsageError("--method respodiff needs --concept");
      respodiff = true;
      MethodChoice choice{"respodiff", {}};
      if (colon != std::string::npos) {
        std::stringstream settings(item.substr(colon + 1));
        for (std::string setting; std::getline(settings, setting, ',');) {
          const auto eq = setting.find('=');
          const std::string key = setting.substr(0, eq);
          const auto value = eq == std::string::npos ? std::nullopt : respo::numbers::parseReal(setting.substr(eq + 1));
          if ((key != "ram" && key != "sam") || !value || *value < 0 || *value > respo::concepts::kMaxStrength)
            throw respo::app::UsageError("--method respodiff: expected ram=X or sam=Y with 0 <= X, Y <= " +
                                         std::to_string(static_cast<int>(respo::concepts::kMaxStrength)) + ", got '" +
                                         setting.substr(0, 60) + "'");
          (key == "ram" ? choice.ram : choice.sam) = *value;
        }
      }
      out.push_back(choice);
    } else if (kind == "negative" || kind == "prompt-edit") {
      if (colon == std::string::npos || colon + 1 == item.size())
        throw respo::app::UsageError("--method " + kind + " needs its text: " + kind + ":TEXT");
      out.push_back({kind, {}, {}, item.substr(colon + 1)});
    } else if (kind == "uce") {
      if (colon == std::string::npos || colon + 1 == item.size())
        throw respo::app::UsageError("--method uce needs its edit file: uce:FILE");
      out.push_back({"uce", {}, item.substr(colon + 1)});
    } else if (kind == "sld") {
      if (std::any_of(out.begin(), out.end(), [](const MethodChoice& m) { return m.kind == "sld"; }))
        throw respo::app::UsageError("--method names sld twice");
      out.push_back({"sld", respo::pipeline::SafeLatentGuidance::parse(colon == std::string::npos ? "" : item.substr(colon + 1))});
    } else {
      throw respo::app::UsageError("unknown --method '" + kind.substr(0, 40) + "' (respodiff[:ram=X,sam=Y], uce:FILE, sld[:PRESET][,KEY=VALUE...], negative:TEXT, prompt-edit:TEXT, none)");
    }
  }
  if (none && !out.empty()) throw respo::app::UsageError("--method none cannot be combined with other methods");
  if (haveConcepts && !respodiff)
    throw respo::app::UsageError("--concept is given but --method does not include respodiff");
  return out;
}

respo::responsible::Interventions interventionsFor(const std::vector<MethodChoice>& methods, const CommandLine& cl,
                                                   respo::pipeline::StableDiffusionModel& model) {
  respo::responsible::Interventions out;
  for (const auto& method : methods) {
    if (method.kind == "respodiff") {
      auto composition = conceptsFromCommandLine(cl, respo::concepts::modelFingerprint(model.unet));
      auto strengths = [&](respo::concepts::ConceptUse& use) {
        if (method.ram) use.ramStrength = *method.ram;
        if (method.sam) use.samStrength = *method.sam;
      };
      for (auto& group : composition.fairness)
        for (auto& member : group.members) strengths(member);
      for (auto& use : composition.safety) strengths(use);
      out.push_back(std::make_shared<respo::responsible::ConceptModules>(composition));
    } else if (method.kind == "sld") {
      out.push_back(std::make_shared<respo::responsible::SafeLatentDiffusion>(method.sld));
    } else if (method.kind == "negative") {
      out.push_back(std::make_shared<respo::responsible::NegativePromptMethod>(method.text));
    } else if (method.kind == "prompt-edit") {
      out.push_back(std::make_shared<respo::responsible::PromptEditing>(method.text));
    } else if (method.kind == "uce") {
      auto edit = std::make_shared<const respo::edits::ConceptEdit>(respo::edits::loadEdit(method.file));
      out.push_back(std::make_shared<respo::responsible::ConceptEditing>(edit, cl.has("ignore-fingerprint")));
    }
  }
  return out;
}

// The prompts of --prompts: a prompt list file (core/respo/prompt_list.h: lines with '#' comments, or
// CSV), or '-' for lines on standard input.
std::vector<std::string> readPrompts(const std::string& file) {
  auto prompts = file == "-" ? respo::concepts::parsePromptList(std::string(std::istreambuf_iterator<char>(std::cin), {}),
                                                                respo::concepts::PromptListFormat::Lines)
                             : respo::concepts::readPromptList(file);
  if (prompts.empty()) throw UsageError("--prompts " + file + ": no prompt in it");
  return prompts;
}

// What `respodiff generate --help` lists.
const std::vector<OptionHelp> kGenerateOptions = {
    {"model", "DIR_OR_FILE", "a diffusers folder or a single-file .safetensors checkpoint", "the embedded model"},
    {"prompt", "TEXT", "what to draw; (word:1.2) weights, BREAK, <lora:name:w> tags", ""},
    {"prompts", "FILE", "one prompt per line, or a CSV's prompt column ('-': lines on standard input); "
                        "FILE-0.png, FILE-1.png, ... per prompt", ""},
    {"negative", "TEXT", "what to avoid", ""},
    {"seed", "N", "the noise's seed; -1 draws a random one (recorded in the picture)", "0"},
    {"steps", "N", "denoising steps", "25"},
    {"cfg", "X", "classifier-free guidance scale", "7.5"},
    {"scheduler", "NAME", "ddim, euler, euler_a, dpmpp_2m (DPM++ 2M Karras) or pndm", "the model's own"},
    {"width", "PX", "image width, a multiple of 8", "the model's size"},
    {"height", "PX", "image height, a multiple of 8", "the model's size"},
    {"batch", "N", "images from one seed", "1"},
    {"out", "FILE", "where to write: .png, .jpg or .webp, with the parameters inside (a batch: FILE-0.png, ...); "
                    "'-': PNG on standard output", "respodiff.png"},
    {"json", "FILE", "what was written, as JSON (files, seeds, sizes, parameters); '-': standard output", ""},
    {"device", "auto|cpu|cuda", "where to compute", "auto"},
    {"precision", "auto|fp32|fp16|bf16", "half precision on a GPU only", "auto"},
    {"config-from", "DIR", "a diffusers folder whose configs describe a single-file checkpoint", ""},
    {"variant", "NAME", "weights variant of a diffusers folder (e.g. fp16)", ""},
    {"clip-skip", "N", "text-encoder layers to skip", "0"},
    {"step-cache", "N", "speed mode: the full UNet every N steps, the steps between reuse its deep features "
                        "(2 or 3 are usual; 0: off)", "0"},
    {"vae-tiling", "", "decode in overlapping tiles: large images in little memory (diffusers' VAE tiling)", ""},
    {"low-memory", "", "keep the weights mapped from their files (least memory, slower on the CPU)", ""},
    {"convolutions", "winograd|direct", "3x3 convolutions of 256 channels or more on the CPU: Winograd F(4x4,3x3) "
                                        "(faster; each layer keeps its transformed weight, more memory) or direct",
     "direct"},
    {"weight-storage", "fp32|fp16|bf16", "store matrix and convolution weights in half precision and compute in fp32 "
                                         "(about half the memory, the same speed on the CPU)", "fp32"},
    {"lora", "FILE[:W][,...]", "LoRA files and their weights", ""},
    {"lora-dir", "DIR[;DIR...]", "where <lora:name> tags look", "the user's LoRA folder"},
    {"init-image", "PICTURE.png", "start from this picture (image to image)", ""},
    {"strength", "X", "how much of the picture is repainted (with --init-image)", "0.75"},
    {"mask", "MASK.png", "inpaint: white where the picture is repainted (with --init-image)", ""},
    {"mask-blur", "PX", "blur of the mask's edge (with --mask)", "4"},
    {"concept", "FILE_OR_GROUP[,...]", "RespoDiff concept modules to switch on", ""},
    {"ram-strength", "X", "strength of the modules' RAM (1 = as trained)", "1"},
    {"sam-strength", "X", "strength of the modules' SAM (1 = as trained)", "1"},
    {"policy", "random|balanced|fixed", "how a fairness group picks its member per image", "random"},
    {"fixed-member", "NAME", "the member of --policy fixed", ""},
    {"group-weight", "GROUP=W,...", "weight of each fairness group", "1"},
    {"shares", "MEMBER=SHARE,...", "target shares of a group's members", "equal"},
    {"method", "METHOD[+...]", "respodiff, uce:FILE, sld[:preset], negative:TEXT, prompt-edit:TEXT or none", ""},
    {"compare", "", "write the baseline and the responsible image side by side", ""},
    {"separate-sides", "", "with --compare: run the two sides one after the other, not as one batch", ""},
    {"ignore-fingerprint", "", "use modules or edits made for another model", ""},
    {"quiet", "", "no progress on the terminal", ""},
};

int generate(const std::vector<std::string>& args) {
  const CommandLine cl("generate", "Generate images from a prompt with a Stable Diffusion model.", kGenerateOptions, args);
  namespace fs = std::filesystem;
  // Every setting is read and checked before the model is loaded or anything is allocated.
  respo::pipeline::GenerationRequest request;
  // One prompt, or a list of them: a file with one per line ('-': standard input), blank lines and
  // lines starting with '#' skipped.
  std::vector<std::string> prompts;
  if (const auto file = cl.value("prompts")) {
    if (cl.has("prompt")) throw UsageError("give --prompt or --prompts, not both");
    prompts = readPrompts(*file);
  } else {
    prompts.push_back(cl.require("prompt"));
  }
  request.prompt = prompts.front();
  request.negativePrompt = cl.value("negative").value_or("");
  request.seed = cl.seed("seed", 0);
  request.steps = static_cast<int>(cl.integer("steps", 25, 1, respo::pipeline::kMaxSteps));
  request.width = static_cast<int>(cl.integer("width", 0, 0, respo::pipeline::kMaxImageSide));
  request.height = static_cast<int>(cl.integer("height", 0, 0, respo::pipeline::kMaxImageSide));
  request.batch = static_cast<int>(cl.integer("batch", 1, 1, respo::pipeline::kMaxBatch));
  request.clipSkip = static_cast<int>(cl.integer("clip-skip", 0, 0, 64));
  request.stepCache = static_cast<int>(cl.integer("step-cache", 0, 0, respo::pipeline::kMaxStepCache));
  request.vaeTiling = cl.has("vae-tiling");
  // Recorded in the picture's parameters, so that it regenerates the same way.
  if (const auto convolutions = cl.value("convolutions"))
    request.winogradConvolutions = respo::models::winograd::parseMode(*convolutions) == respo::models::winograd::Mode::Auto;
  request.scheduler = cl.value("scheduler").value_or("");
  request.guidanceScale = cl.real("cfg", 7.5, 0, pipeline::kMaxGuidanceScale);
  // Each prompt with the tags of --lora added, every tag checked before anything loads.
  for (std::size_t k = 1; k < prompts.size(); ++k) {
    auto other = request;
    other.prompt = prompts[k];
    addLoras(cl, other);
    prompts[k] = other.prompt;
  }
  addLoras(cl, request);
  prompts.front() = request.prompt;
  if (const auto init = cl.value("init-image")) {
    // Image to image: the picture (PNG) is read before the model loads, so a bad file fails fast.
    request.initImage = std::make_shared<const respo::io::RgbImage>(respo::io::readPng(*init));
    request.strength = cl.real("strength", 0.75, 0, 1);
    // Inpainting: white where the picture is repainted.
    if (const auto mask = cl.value("mask")) request.mask = std::make_shared<const respo::io::RgbImage>(respo::io::readPng(*mask));
    request.maskBlur = cl.real("mask-blur", 4, 0, 256);
    if (cl.has("mask-blur") && !request.mask) throw respo::app::UsageError("--mask-blur needs --mask");
  } else if (cl.has("strength") || cl.has("mask") || cl.has("mask-blur")) {
    throw respo::app::UsageError("--strength, --mask and --mask-blur need --init-image");
  }
  request.validateSettings();
  if (!request.scheduler.empty()) {
    const auto names = respo::sched::schedulerNames();
    if (std::find(names.begin(), names.end(), request.scheduler) == names.end())
      throw respo::app::UsageError("unknown --scheduler '" + request.scheduler + "'");
  }
  const auto methods = methodsFromCommandLine(cl);
  if (cl.has("compare") && methods.empty()) throw respo::app::UsageError("--compare needs a --method or a --concept");
  // '-': the picture's PNG bytes on standard output (one picture only), messages on stderr.
  const std::string outText = cl.value("out").value_or("respodiff.png");
  const bool toStdout = outText == "-";
  const auto jsonTarget = cl.value("json");
  if (toStdout && (request.batch > 1 || prompts.size() > 1))
    throw UsageError("--out - writes one picture: no --batch or --prompts with it");
  if (toStdout && jsonTarget == "-") throw UsageError("--out - and --json - cannot share standard output");
  if (!toStdout && !pictureFormatOffered(fs::path(outText).extension().string()))
    throw UsageError("--out " + outText + ": name the picture .png, .jpg, .jpeg or .webp (the format follows the name)");
  const fs::path out = toStdout ? fs::path("stdout.png") : fs::path(outText);
  if (!toStdout) respo::io::checkWritableTarget(out);
  std::ostream& messages = toStdout || jsonTarget == "-" ? std::cerr : std::cout;

  const auto compute = respo::gpu::chooseDevice(respo::gpu::parseDevicePreference(cl.value("device").value_or("auto")),
                                                respo::gpu::parsePrecision(cl.value("precision").value_or("auto")));
  respo::pipeline::LoadOptions load;
  load.device = compute.device;
  load.dtype = compute.dtype;
  load.variant = cl.value("variant").value_or("");
  load.configFolder = cl.value("config-from").value_or("");
  if (cl.has("low-memory")) load.storage = respo::models::WeightStorage::Mapped;
  if (const auto convolutions = cl.value("convolutions"))
    respo::models::winograd::setMode(respo::models::winograd::parseMode(*convolutions));
  if (const auto storage = cl.value("weight-storage")) {
    if (*storage == "fp16") load.weightStorage = torch::kFloat16;
    else if (*storage == "bf16") load.weightStorage = torch::kBFloat16;
    else if (*storage != "fp32") throw respo::app::UsageError("--weight-storage is fp32, fp16 or bf16, not '" + *storage + "'");
  }
  // Without --model: the embedded default (the toy world's model), as everywhere else.
  const fs::path modelPath = cl.model();
  auto model = respo::pipeline::loadStableDiffusion(modelPath, load);

  const int native = model.nativeImageSize();
  if (request.initImage) {
    // As diffusers' img2img: the picture's own size, rounded down to the VAE's factor.
    const int factor = model.vaeScaleFactor();
    if (request.width == 0) request.width = std::max(factor, request.initImage->width / factor * factor);
    if (request.height == 0) request.height = std::max(factor, request.initImage->height / factor * factor);
  }
  if (request.width == 0) request.width = native;
  if (request.height == 0) request.height = native;
  request = respo::responsible::completeRequest(model, request);

  const bool quiet = cl.has("quiet");
  std::size_t current = 0;  // the prompt being generated
  const bool compare = cl.has("compare");
  // The same use case as the app: baseline and responsible from one seed and noise (core/respo).
  respo::responsible::PairRequest pair;
  pair.request = request;
  pair.modelName = respo::pipeline::modelName(modelPath);
  pair.modelHash = respo::pipeline::modelHash(modelPath);
  pair.wantBaseline = compare;
  pair.oneBatch = !cl.has("separate-sides");
  pair.interventions = interventionsFor(methods, cl, model);

  Progress bar(quiet);
  auto progress = [&](respo::responsible::Side side, const respo::pipeline::StepProgress& p) {
    using respo::responsible::Side;
    std::string label = !compare                ? "generating"
                        : side == Side::Baseline ? "baseline"
                        : side == Side::Both     ? "both sides"
                                                 : "responsible";
    if (prompts.size() > 1) label = "prompt " + std::to_string(current + 1) + "/" + std::to_string(prompts.size()) + " " + label;
    bar.update(label, p.step, p.total);
    return true;
  };
  nlohmann::json report = nlohmann::json::array();
  for (current = 0; current < prompts.size(); ++current) {
    pair.request.prompt = prompts[current];
    const fs::path base = prompts.size() > 1 ? out.parent_path() / (out.stem().string() + "-" + std::to_string(current) +
                                                                     out.extension().string())
                                             : out;
    const auto result = respo::responsible::generatePair(model, pair, progress);
    for (std::size_t i = 0; i < result.responsible.size(); ++i) {
      const fs::path target = respo::io::batchImagePath(base, i, result.responsible.size());
      const auto image =
          compare ? respo::io::sideBySide({result.baseline[i], result.responsible[i]}) : result.responsible[i];
      const auto text = respo::pipeline::pictureParameters(result.parameters, image.width, image.height, static_cast<int>(i));
      const auto bytes = encodePicture(image, text, target.extension().string());  // stdout: out is "stdout.png"
      if (toStdout) {
        std::fwrite(bytes.data(), 1, bytes.size(), stdout);
        std::fflush(stdout);
      } else {
        respo::io::writeTextFileAtomically(target, bytes);
        messages << "wrote " << target.string() << (compare ? " (baseline | responsible)" : "") << "\n";
      }
      report.push_back({{"file", toStdout ? "-" : target.string()},
                        {"prompt", prompts[current]},
                        {"seed", pair.request.seed},
                        {"batch_pos", i},
                        {"width", image.width},
                        {"height", image.height},
                        {"model", pair.modelName},
                        {"model_hash", pair.modelHash},
                        {"parameters", text}});
    }
  }
  if (jsonTarget) {
    const std::string json = report.dump(2) + "\n";
    if (*jsonTarget == "-") std::cout << json;
    else respo::io::writeTextFileAtomically(*jsonTarget, json);
  }
  return 0;
}

}  // namespace respo::app
