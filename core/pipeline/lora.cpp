#include "core/pipeline/lora.h"

#include <mutex>
#include <optional>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/models/layers.h"
#include "core/models/single_file_map.h"

namespace respo::pipeline {
namespace {

std::string underscored(std::string dotted) {
  for (auto& c : dotted)
    if (c == '.') c = '_';
  return dotted;
}

// One component's weights, by module path (dotted and with '_' for '.').
struct ModuleIndex {
  std::map<std::string, torch::Tensor> byModule;      // dotted module -> its weight parameter
  std::map<std::string, std::string> fromUnderscored;  // underscored -> dotted
  std::string prefix;                                  // "unet.", "text_encoder.", ...

  void add(const std::string& module, const torch::Tensor& weight) {
    byModule[module] = weight;
    fromUnderscored.emplace(underscored(module), module);
  }
  // Another spelling of a module already added (a UNet module under Stability's name, a text module
  // without transformers 4's text_model level).
  void alias(const std::string& other, const std::string& module) {
    fromUnderscored.emplace(underscored(other), module);
  }
  std::optional<std::string> find(const std::string& name, bool isUnderscored) const {
    if (isUnderscored) {
      const auto it = fromUnderscored.find(name);
      if (it != fromUnderscored.end()) return it->second;
      return std::nullopt;
    }
    if (byModule.count(name)) return name;
    const auto it = fromUnderscored.find(underscored(name));  // aliases, spelled with dots
    if (it != fromUnderscored.end()) return it->second;
    return std::nullopt;
  }
};

ModuleIndex indexModule(torch::nn::Module& module, const std::string& prefix, bool text) {
  ModuleIndex index;
  index.prefix = prefix;
  for (const auto& item : module.named_parameters()) {
    const std::string& key = item.key();
    const std::string suffix = ".weight";
    if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const auto& value = item.value();
    if (value.dim() != 2 && value.dim() != 4) continue;  // linear and convolution weights only
    const std::string name = key.substr(0, key.size() - suffix.size());
    index.add(name, value);
    if (text && name.rfind("text_model.", 0) == 0) index.alias(name.substr(std::string("text_model.").size()), name);
  }
  return index;
}

void addStabilityNames(ModuleIndex& index, const models::UNetConfig& config) {
  if (config.source.is_null()) return;
  try {
    const auto plan = models::single_file::unetPlan(config.source);
    for (const auto& entry : plan.entries) {
      const std::string suffix = ".weight";
      if (entry.diffusers.size() <= suffix.size() ||
          entry.diffusers.compare(entry.diffusers.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const auto module = entry.diffusers.substr(0, entry.diffusers.size() - suffix.size());
      if (!index.byModule.count(module)) continue;
      const auto ldm = entry.ldm.substr(plan.ldmPrefix.size(), entry.ldm.size() - plan.ldmPrefix.size() - suffix.size());
      index.alias(ldm, module);
    }
  } catch (const Error&) {
    // A UNet the single-file layout does not describe: its LoRAs can only use diffusers names.
  }
}

struct CachedFile {
  std::string stamp;
  std::shared_ptr<const LoraFile> file;
};

}  // namespace

LoraFile loadLoraFile(const std::filesystem::path& path) {
  const auto where = path.string();
  if (path.extension() != ".safetensors")
    throw FormatError(where + ": LoRA files are read as .safetensors only (pickle files can run code when loaded)");
  const auto st = io::SafetensorsFile::open(path);
  std::vector<std::string> names;
  for (const auto& info : st.tensors()) names.push_back(info.name);
  const auto plan = lora::planKeys(names, st.metadata(), where);
  LoraFile file;
  file.path = path;
  file.name = path.stem().string();
  file.format = plan.format;
  auto tensor = [&](const std::string& name) {
    auto t = io::copyTensor(st, name).to(torch::kFloat32);
    if (!torch::isfinite(t).all().item<bool>())
      throw FormatError(where + ": '" + name.substr(0, 160) + "' holds values that are not finite numbers; the file is damaged");
    return t;
  };
  for (const auto& keys : plan.layers) {
    LoraFile::Layer layer;
    layer.component = keys.component;
    layer.module = keys.module;
    layer.underscored = keys.underscored;
    layer.down = tensor(keys.down);
    layer.up = tensor(keys.up);
    const bool shapesOk = (layer.down.dim() == 2 || layer.down.dim() == 4) && layer.up.dim() == layer.down.dim() &&
                          layer.up.size(1) == layer.down.size(0) &&
                          (layer.up.dim() == 2 || (layer.up.size(2) == 1 && layer.up.size(3) == 1));
    if (!shapesOk)
      throw FormatError(where + ": the layer '" + keys.down.substr(0, 160) + "' has factors of shapes " +
                        c10::str(layer.down.sizes()) + " and " + c10::str(layer.up.sizes()) + ", which do not multiply");
    std::optional<double> alpha;
    if (!keys.alpha.empty()) {
      const auto a = tensor(keys.alpha);
      if (a.numel() != 1) throw FormatError(where + ": '" + keys.alpha.substr(0, 160) + "' is not a single number");
      alpha = a.item<double>();
    }
    layer.scale = lora::layerScale(plan, keys, alpha, static_cast<double>(layer.down.size(0)));
    file.layers.push_back(std::move(layer));
  }
  return file;
}

std::map<std::string, torch::Tensor> loraDeltas(StableDiffusionModel& model, const LoraFile& file, double textWeight,
                                                double unetWeight) {
  std::map<lora::Component, ModuleIndex> indexes;
  auto index = [&](lora::Component component) -> ModuleIndex& {
    auto it = indexes.find(component);
    if (it != indexes.end()) return it->second;
    switch (component) {
      case lora::Component::Unet: {
        auto unet = indexModule(*model.unet, "unet.", false);
        addStabilityNames(unet, model.unet->config());
        return indexes.emplace(component, std::move(unet)).first->second;
      }
      case lora::Component::TextEncoder:
        return indexes.emplace(component, indexModule(*model.textEncoder, "text_encoder.", true)).first->second;
      case lora::Component::TextEncoder2:
        if (!model.textEncoder2)
          throw InvalidArgument("the LoRA '" + file.name + "' has layers for a second text encoder (lora_te2_ / text_encoder_2), which this model lacks: it is an SDXL LoRA");
        return indexes.emplace(component, indexModule(*model.textEncoder2, "text_encoder_2.", true)).first->second;
    }
    throw InvalidArgument("unknown LoRA component");
  };
  std::map<std::string, torch::Tensor> out;
  torch::NoGradGuard noGrad;
  for (const auto& layer : file.layers) {
    auto& modules = index(layer.component);
    const auto module = modules.find(layer.module, layer.underscored);
    if (!module)
      throw InvalidArgument("the LoRA '" + file.name + "' changes '" + layer.module.substr(0, 160) + "' (" +
                            lora::componentName(layer.component) +
                            "), which this model lacks: it was made for another kind of model (SD 1.x, SD 2.x or SDXL)");
    const auto& weight = modules.byModule.at(*module);
    const auto out0 = layer.up.size(0);
    const auto rank = layer.down.size(0);
    if (out0 != weight.size(0) || layer.down.numel() / rank * out0 != weight.numel() ||
        (weight.dim() == 4 && layer.down.dim() == 4 && layer.down.size(2) != weight.size(2) && layer.down.size(2) != 1) ||
        (weight.dim() == 2 && layer.down.dim() == 4 && layer.down.size(2) != 1))
      throw InvalidArgument("the LoRA '" + file.name + "' has the shape " + c10::str(layer.up.size(0)) + "x" +
                            c10::str(layer.down.numel() / rank) + " for '" + *module + "' " + c10::str(weight.sizes()) +
                            ": it was made for another model");
    const double w = layer.component == lora::Component::Unet ? unetWeight : textWeight;
    const auto device = weight.device();
    auto delta = torch::matmul(layer.up.reshape({out0, rank}).to(device), layer.down.reshape({rank, -1}).to(device));
    delta = (delta * (layer.scale * w)).reshape(weight.sizes());
    const auto key = modules.prefix + *module + ".weight";
    auto [it, fresh] = out.emplace(key, delta);
    if (!fresh) it->second = it->second + delta;  // the same module named twice (two spellings)
  }
  return out;
}

std::vector<LoraUse> promptLoras(const std::string& prompt, const std::vector<std::filesystem::path>& folders) {
  std::vector<lora::PromptLora> tags;
  lora::extractLoraTags(prompt, &tags);
  std::vector<LoraUse> uses;
  if (tags.empty()) return uses;
  static std::mutex mutex;
  static std::map<std::string, CachedFile> cache;
  for (const auto& tag : tags) {
    const auto path = lora::findLoraFile(tag.name, folders);
    const auto stamp = lora::fileStamp(path);
    std::shared_ptr<const LoraFile> file;
    {
      std::lock_guard lock(mutex);
      const auto it = cache.find(path.string());
      if (it != cache.end() && it->second.stamp == stamp) file = it->second.file;
    }
    if (!file) {
      file = std::make_shared<const LoraFile>(loadLoraFile(path));
      std::lock_guard lock(mutex);
      if (cache.size() > 32) cache.clear();
      cache[path.string()] = {stamp, file};
    }
    uses.push_back({file, tag.textWeight, tag.unetWeight});
  }
  return uses;
}

AppliedLoras::AppliedLoras(StableDiffusionModel& model, const std::vector<LoraUse>& uses) {
  if (uses.empty()) return;
  std::map<std::string, torch::Tensor> total;
  for (const auto& use : uses)
    for (auto& [key, delta] : loraDeltas(model, *use.file, use.textWeight, use.unetWeight)) {
      auto [it, fresh] = total.emplace(key, delta);
      if (!fresh) it->second = it->second + delta;
    }
  std::map<std::string, torch::Tensor> params;
  auto collect = [&](torch::nn::Module& module, const std::string& prefix) {
    for (const auto& item : module.named_parameters()) params[prefix + item.key()] = item.value();
  };
  collect(*model.unet, "unet.");
  collect(*model.textEncoder, "text_encoder.");
  if (model.textEncoder2) collect(*model.textEncoder2, "text_encoder_2.");
  torch::NoGradGuard noGrad;
  for (const auto& [key, delta] : total) {
    auto param = params.at(key);
    saved_.push_back({param, param.detach().clone()});
    param.detach().copy_((param.detach().to(torch::kFloat32) + delta).to(param.scalar_type()));
  }
  models::weightsChangedInPlace();
}

AppliedLoras::~AppliedLoras() {
  torch::NoGradGuard noGrad;
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) it->first.detach().copy_(it->second);
  models::weightsChangedInPlace();
}

}  // namespace respo::pipeline
