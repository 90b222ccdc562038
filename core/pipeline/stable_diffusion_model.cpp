#include "core/pipeline/stable_diffusion_model.h"

#include <unistd.h>

#include <cstdlib>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/log.h"
#include "core/io/atomic_file.h"
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
}

StableDiffusionModel loadFolder(const fs::path& folder, const LoadOptions& options) {
  const fs::path index = folder / "model_index.json";
  if (!fs::exists(index))
    throw FormatError(folder.string() + ": not a diffusers model folder (model_index.json is missing)");
  const auto modelIndex = models::readJsonFile(index);
  StableDiffusionModel model;
  model.source = folder;
  model.family = modelIndex.value("_class_name", std::string("StableDiffusionPipeline"));
  if (model.family != "StableDiffusionPipeline")
    throw FormatError(index.string() + ": pipeline '" + model.family + "' is not supported yet");
  model.device = options.device;
  model.dtype = options.dtype;
  model.tokenizer = std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromFolder(folder / "tokenizer"));
  // CPU fp32 with copied storage: read straight into ordinary memory, page by page.
  const bool copies = options.storage == models::WeightStorage::Copied && options.device.is_cpu();

  model.textEncoder = models::ClipTextModel(models::ClipTextConfig::fromFile(folder / "text_encoder" / "config.json"));
  adopt(model.textEncoder,
        models::canonicalClipTextWeights(models::loadComponentWeights(folder / "text_encoder", options.variant, copies)),
        (folder / "text_encoder").string(), options, copies);
  model.unet = models::UNet2DConditionModel(models::UNetConfig::fromFile(folder / "unet" / "config.json"));
  adopt(model.unet, models::loadComponentWeights(folder / "unet", options.variant, copies), (folder / "unet").string(),
        options, copies);
  model.vae = models::AutoencoderKL(models::VaeConfig::fromFile(folder / "vae" / "config.json"));
  adopt(model.vae, models::loadComponentWeights(folder / "vae", options.variant, copies), (folder / "vae").string(),
        options, copies);
  model.schedulerConfig = sched::SchedulerConfig::fromFile(folder / "scheduler" / "scheduler_config.json");
  return model;
}

StableDiffusionModel loadSingleFile(const fs::path& file, const LoadOptions& options) {
  if (models::isPickleFile(file)) models::refusePickle(file);
  if (file.extension() != ".safetensors")
    throw FormatError(file.string() + ": expected a diffusers folder or a .safetensors checkpoint");
  const auto checkpoint = io::loadAll(io::SafetensorsFile::open(file));
  std::vector<std::string> keys;
  for (const auto& [name, tensor] : checkpoint) keys.push_back(name);
  const auto family = models::detectFamily(keys, file.string());

  nlohmann::json unetJson, vaeJson, textJson, schedulerJson;
  std::shared_ptr<text::ClipTokenizer> tokenizer;
  if (!options.configFolder.empty()) {
    unetJson = models::readJsonFile(options.configFolder / "unet" / "config.json");
    vaeJson = models::readJsonFile(options.configFolder / "vae" / "config.json");
    textJson = models::readJsonFile(options.configFolder / "text_encoder" / "config.json");
    schedulerJson = models::readJsonFile(options.configFolder / "scheduler" / "scheduler_config.json");
    tokenizer = std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromFolder(options.configFolder / "tokenizer"));
  } else {
    const auto builtin = builtinConfigs(family == models::CheckpointFamily::SD1 ? "sd1" : "sd2");
    unetJson = builtin.unet, vaeJson = builtin.vae, textJson = builtin.textEncoder, schedulerJson = builtin.scheduler;
    const fs::path bpe = dataDirectory() / "clip" / "bpe_simple_vocab_16e6.txt.gz";
    tokenizer = std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromOpenClipBpe(
        bpe, family == models::CheckpointFamily::SD1 ? text::TokenizerSettings::sd1() : text::TokenizerSettings::openClip()));
  }
  auto converted = models::convertSingleFile(checkpoint, unetJson, vaeJson, textJson, file.string());
  if (!converted.ignoredKeys.empty())
    log::info(file.string(), ": ignored ", converted.ignoredKeys.size(), " tensors that are not part of the model");

  StableDiffusionModel model;
  model.source = file;
  model.family = family == models::CheckpointFamily::SD1 ? "sd1" : "sd2";
  model.device = options.device;
  model.dtype = options.dtype;
  model.tokenizer = tokenizer;
  model.textEncoder = models::ClipTextModel(models::ClipTextConfig::fromJson(textJson, file.string() + " (text encoder config)"));
  adopt(model.textEncoder, models::canonicalClipTextWeights(std::move(converted.textEncoder)), file.string() + " (text encoder)", options);
  model.unet = models::UNet2DConditionModel(models::UNetConfig::fromJson(unetJson, file.string() + " (UNet config)"));
  adopt(model.unet, converted.unet, file.string() + " (UNet)", options);
  model.vae = models::AutoencoderKL(models::VaeConfig::fromJson(vaeJson, file.string() + " (VAE config)"));
  adopt(model.vae, converted.vae, file.string() + " (VAE)", options);
  model.schedulerConfig = sched::SchedulerConfig::fromJson(schedulerJson);
  return model;
}

}  // namespace

StableDiffusionModel loadStableDiffusion(const fs::path& folderOrFile, const LoadOptions& options) {
  if (!fs::exists(folderOrFile)) throw IoError(folderOrFile.string() + ": no such file or folder");
  if (fs::is_directory(folderOrFile)) return loadFolder(folderOrFile, options);
  return loadSingleFile(folderOrFile, options);
}

fs::path dataDirectory() {
  if (const char* env = std::getenv("RESPODIFF_DATA_DIR")) return env;
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error) return "share/respodiff";
  return exe.parent_path().parent_path() / "share" / "respodiff";
}

}  // namespace respo::pipeline
