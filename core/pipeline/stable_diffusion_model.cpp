#include "core/pipeline/stable_diffusion_model.h"

#include <unistd.h>

#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/log.h"
#include "core/io/atomic_file.h"
#include "core/common/json.h"
#include "core/common/paths.h"
#include "core/io/read_file.h"
#include "core/io/safetensors_torch.h"
#include "core/models/component_weights.h"
#include "core/models/config_reader.h"
#include "core/pipeline/builtin_configs.h"
#include "core/models/single_file.h"

namespace respo::pipeline {
namespace fs = std::filesystem;

namespace {

// `alreadyCopied`: the weights were read into ordinary memory, so adopting them needs no copy.
template <typename Module>
void adopt(Module& module, const std::map<std::string, torch::Tensor>& weights, const std::string& what,
           const LoadOptions& options, bool alreadyCopied = false) {
  models::loadWeights(*module, weights, what, options.dtype, options.device,
                      alreadyCopied ? models::WeightStorage::Mapped : options.storage);
  module->eval();
  for (auto& p : module->parameters()) p.set_requires_grad(false);
  if (options.weightStorage != torch::kFloat32 && options.dtype == torch::kFloat32) {
    // Half-precision storage of the matrix and convolution weights (LoadOptions::weightStorage).
    static const std::set<std::string> kept{"conv_in", "conv_out", "time_embedding.linear_1"};
    torch::NoGradGuard noGrad;
    for (const auto& item : module->named_modules("", false)) {
      if (kept.count(item.key())) continue;
      torch::Tensor* weight = nullptr;
      if (auto* linear = item.value()->template as<models::LinearImpl>()) weight = &linear->weight;
      if (auto* conv = item.value()->template as<models::Conv2dImpl>()) weight = &conv->weight;
      if (weight) weight->set_data(weight->to(options.weightStorage));
    }
  }
}

// Whether model_index.json names a component (diffusers writes [null, null] for absent ones).
bool listsComponent(const nlohmann::json& modelIndex, const std::string& name) {
  if (!modelIndex.contains(name)) return false;
  const auto& entry = modelIndex[name];
  return entry.is_array() && !entry.empty() && !entry[0].is_null();
}

// How the pipeline class turns prompts into UNet conditioning (diffusers' encode_prompt of each class).
TextConditioningConfig textConditioningFor(const std::string& pipelineClass, const nlohmann::json& modelIndex,
                                           const std::string& where) {
  TextConditioningConfig c;
  if (pipelineClass == "StableDiffusionPipeline") return c;
  if (pipelineClass == "StableDiffusionXLPipeline") {
    c.penultimateOfEachEncoder = true;
    const auto& zeros = modelIndex.contains("force_zeros_for_empty_prompt") ? modelIndex["force_zeros_for_empty_prompt"]
                                                                            : nlohmann::json(true);
    if (!zeros.is_boolean()) throw FormatError(where + ": 'force_zeros_for_empty_prompt' must be true or false");
    c.zerosForEmptyNegative = zeros.get<bool>();
    return c;
  }
  throw FormatError(where + ": pipeline '" + pipelineClass +
                    "' is not supported (StableDiffusionPipeline or StableDiffusionXLPipeline)");
}

// Refuses a config that describes a far larger model than the weights that come with it, before
// anything of that size is allocated (a config with huge widths would otherwise exhaust memory).
void checkConfigFitsWeights(std::uint64_t minimumParameters, const std::map<std::string, torch::Tensor>& weights,
                            const std::string& where) {
  std::uint64_t stored = 0;
  for (const auto& [name, tensor] : weights) stored += static_cast<std::uint64_t>(tensor.numel());
  if (minimumParameters > stored)
    throw FormatError(where + ": its config describes a model of at least " + std::to_string(minimumParameters) +
                      " parameters, but its weights hold " + std::to_string(stored) +
                      "; the config does not belong to these weights");
}

StableDiffusionModel loadFolder(const fs::path& folder, const LoadOptions& options) {
  const fs::path index = folder / "model_index.json";
  if (!fs::exists(index))
    throw FormatError(folder.string() + ": not a diffusers model folder (model_index.json is missing)");
  const auto modelIndex = io::readJsonFile(index);
  if (!modelIndex.is_object())
    throw FormatError(index.string() + ": expected a JSON object, not " + json::typeName(modelIndex));
  StableDiffusionModel model;
  model.source = folder;
  model.family = "StableDiffusionPipeline";
  if (modelIndex.contains("_class_name")) {
    if (!modelIndex["_class_name"].is_string()) throw FormatError(index.string() + ": '_class_name' must be text");
    model.family = modelIndex["_class_name"].get<std::string>();
  }
  model.textConditioning = textConditioningFor(model.family, modelIndex, index.string());
  model.device = options.device;
  model.dtype = options.dtype;
  // CPU fp32 with copied storage: read straight into ordinary memory, page by page.
  const bool copies = options.storage == models::WeightStorage::Copied && options.device.is_cpu();

  auto loadText = [&](const std::string& encoder, const std::string& tokenizer,
                      std::shared_ptr<text::ClipTokenizer>& tokenizerOut, models::ClipTextModel& encoderOut) {
    tokenizerOut = std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromFolder(folder / tokenizer));
    const auto config = models::ClipTextConfig::fromFile(folder / encoder / "config.json");
    auto weights = models::canonicalClipTextWeights(models::loadComponentWeights(folder / encoder, options.variant, copies));
    checkConfigFitsWeights(config.minimumParameters(), weights, (folder / encoder).string());
    encoderOut = models::ClipTextModel(config);
    adopt(encoderOut, weights, (folder / encoder).string(), options, copies);
  };
  loadText("text_encoder", "tokenizer", model.tokenizer, model.textEncoder);
  if (listsComponent(modelIndex, "text_encoder_2"))
    loadText("text_encoder_2", "tokenizer_2", model.tokenizer2, model.textEncoder2);
  const auto unetConfig = models::UNetConfig::fromFile(folder / "unet" / "config.json");
  const auto vaeConfig = models::VaeConfig::fromFile(folder / "vae" / "config.json");
  {
    const auto weights = models::loadComponentWeights(folder / "unet", options.variant, copies);
    checkConfigFitsWeights(unetConfig.minimumParameters(), weights, (folder / "unet").string());
    model.unet = models::UNet2DConditionModel(unetConfig);
    adopt(model.unet, weights, (folder / "unet").string(), options, copies);
  }
  {
    const auto weights = models::loadComponentWeights(folder / "vae", options.variant, copies);
    checkConfigFitsWeights(vaeConfig.minimumParameters(), weights, (folder / "vae").string());
    model.vae = models::AutoencoderKL(vaeConfig);
    adopt(model.vae, weights, (folder / "vae").string(), options, copies);
  }
  model.vaeUpcastInFp16 = model.textConditioning.penultimateOfEachEncoder && model.vae->config().forceUpcast;
  model.schedulerConfig = sched::SchedulerConfig::fromFile(folder / "scheduler" / "scheduler_config.json");
  checkConditioningFits(model, folder.string());
  return model;
}

const char* familyId(models::CheckpointFamily family) {
  switch (family) {
    case models::CheckpointFamily::SD1: return "sd1";
    case models::CheckpointFamily::SD2: return "sd2";
    case models::CheckpointFamily::SDXL: return "sdxl";
  }
  return "?";
}

StableDiffusionModel loadSingleFile(const fs::path& file, const LoadOptions& options) {
  if (models::isPickleFile(file)) models::refusePickle(file);
  if (file.extension() != ".safetensors")
    throw FormatError(file.string() + ": expected a diffusers folder or a .safetensors checkpoint");
  const auto checkpoint = io::loadAll(io::SafetensorsFile::open(file));
  std::vector<std::string> keys;
  for (const auto& [name, tensor] : checkpoint) keys.push_back(name);
  const auto family = models::detectFamily(keys, file.string());
  const bool dualText = family == models::CheckpointFamily::SDXL;

  models::CheckpointConfigs configs;
  nlohmann::json schedulerJson;
  std::shared_ptr<text::ClipTokenizer> tokenizer, tokenizer2;
  if (!options.configFolder.empty()) {
    const fs::path& folder = options.configFolder;
    configs.unet = io::readJsonFile(folder / "unet" / "config.json");
    configs.vae = io::readJsonFile(folder / "vae" / "config.json");
    configs.textEncoder = io::readJsonFile(folder / "text_encoder" / "config.json");
    schedulerJson = io::readJsonFile(folder / "scheduler" / "scheduler_config.json");
    tokenizer = std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromFolder(folder / "tokenizer"));
    if (dualText) {
      configs.textEncoder2 = io::readJsonFile(folder / "text_encoder_2" / "config.json");
      tokenizer2 = std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromFolder(folder / "tokenizer_2"));
    }
  } else {
    const auto builtin = builtinConfigs(familyId(family));
    configs = {builtin.unet, builtin.vae, builtin.textEncoder, builtin.textEncoder2};
    schedulerJson = builtin.scheduler;
  }
  const bool builtinConfigsUsed = options.configFolder.empty();
  models::ConvertedCheckpoint converted;
  try {
    converted = models::convertSingleFile(checkpoint, configs, file.string());
  } catch (const FormatError& e) {
    if (!builtinConfigsUsed) throw;
    throw FormatError(std::string(e.what()) + " (the published " + models::familyName(family) +
                      " configs were assumed; for another shape pass --config-from DIR, a diffusers folder "
                      "whose configs describe this checkpoint)");
  }
  if (!converted.ignoredKeys.empty())
    log::info(file.string(), ": ignored ", converted.ignoredKeys.size(), " tensors that are not part of the model");
  if (builtinConfigsUsed) {  // the shipped CLIP vocabulary, read once the weights are known to fit
    const fs::path bpe = paths::clipVocabulary();
    // CLIP pads with its end token, OpenCLIP with "!".
    auto make = [&](const text::TokenizerSettings& settings) {
      return std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromOpenClipBpe(bpe, settings));
    };
    tokenizer = make(family == models::CheckpointFamily::SD2 ? text::TokenizerSettings::openClip()
                                                             : text::TokenizerSettings::sd1());
    if (dualText) tokenizer2 = make(text::TokenizerSettings::openClip());
  }

  StableDiffusionModel model;
  model.source = file;
  model.family = familyId(family);
  model.device = options.device;
  model.dtype = options.dtype;
  // A single SDXL file is StableDiffusionXLPipeline's; its settings come from the config folder's
  // model_index.json when there is one, else they are the class's defaults.
  const fs::path index = options.configFolder.empty() ? fs::path() : options.configFolder / "model_index.json";
  const auto modelIndex = !index.empty() && fs::exists(index) ? io::readJsonFile(index) : nlohmann::json::object();
  if (!modelIndex.is_object()) throw FormatError(index.string() + ": expected a JSON object");
  model.textConditioning = textConditioningFor(dualText ? "StableDiffusionXLPipeline" : "StableDiffusionPipeline",
                                               modelIndex, index.empty() ? file.string() : index.string());
  model.tokenizer = tokenizer;
  model.textEncoder = models::ClipTextModel(models::ClipTextConfig::fromJson(configs.textEncoder, file.string() + " (text encoder config)"));
  adopt(model.textEncoder, models::canonicalClipTextWeights(std::move(converted.textEncoder)), file.string() + " (text encoder)", options);
  if (dualText) {
    model.tokenizer2 = tokenizer2;
    model.textEncoder2 = models::ClipTextModel(
        models::ClipTextConfig::fromJson(configs.textEncoder2, file.string() + " (text encoder 2 config)"));
    adopt(model.textEncoder2, models::canonicalClipTextWeights(std::move(converted.textEncoder2)),
          file.string() + " (text encoder 2)", options);
  }
  model.unet = models::UNet2DConditionModel(models::UNetConfig::fromJson(configs.unet, file.string() + " (UNet config)"));
  adopt(model.unet, converted.unet, file.string() + " (UNet)", options);
  model.vae = models::AutoencoderKL(models::VaeConfig::fromJson(configs.vae, file.string() + " (VAE config)"));
  adopt(model.vae, converted.vae, file.string() + " (VAE)", options);
  model.vaeUpcastInFp16 = dualText && model.vae->config().forceUpcast;
  model.schedulerConfig = sched::SchedulerConfig::fromJson(schedulerJson);
  checkConditioningFits(model, file.string());
  return model;
}

}  // namespace

StableDiffusionModel loadStableDiffusion(const fs::path& folderOrFile, const LoadOptions& options) {
  if (!fs::exists(folderOrFile)) throw IoError(folderOrFile.string() + ": no such file or folder");
  if (fs::is_directory(folderOrFile)) return loadFolder(folderOrFile, options);
  return loadSingleFile(folderOrFile, options);
}


}  // namespace respo::pipeline
