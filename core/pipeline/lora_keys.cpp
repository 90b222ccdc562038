#include "core/pipeline/lora_keys.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json.h"
#include "core/common/numbers.h"
#include "core/pipeline/model_hash.h"

namespace respo::pipeline::lora {
namespace {

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shown(const std::string& key) { return key.size() > 160 ? key.substr(0, 160) + "..." : key; }

// Layer types of other LyCORIS algorithms and LoRA variants, by a part of their tensor names.
struct Unsupported {
  const char* marker;
  const char* what;
};
constexpr Unsupported kUnsupported[] = {
    {"hada_w", "LoHa (Hadamard product) layers"},
    {"hada_t", "LoHa (Hadamard product) layers"},
    {"lokr_", "LoKr (Kronecker product) layers"},
    {"lora_mid", "LoCon layers with a CP decomposition (lora_mid)"},
    {"dora_scale", "DoRA layers"},
    {"lora_magnitude_vector", "DoRA layers"},
    {".diff", "full weight differences (LyCORIS 'full')"},
    {".w_norm", "normalisation layers"},
    {".b_norm", "normalisation layers"},
    {"oft_", "OFT layers"},
    {".lora_B.bias", "LoRA layers with a bias"},
    {".lora_up.bias", "LoRA layers with a bias"},
};

struct Prefix {
  const char* text;
  Component component;
};

// kohya-ss: lora_unet_<module>.lora_down.weight / .lora_up.weight / .alpha
constexpr Prefix kKohya[] = {{"lora_unet_", Component::Unet},
                             {"lora_te_", Component::TextEncoder},
                             {"lora_te1_", Component::TextEncoder},
                             {"lora_te2_", Component::TextEncoder2}};
// diffusers / PEFT: <component>.<module>...
constexpr Prefix kDotted[] = {{"unet.", Component::Unet},
                              {"text_encoder.", Component::TextEncoder},
                              {"text_encoder_2.", Component::TextEncoder2}};

// Down/up suffixes of the dotted layouts and what they say about the format.
struct Pair {
  const char* down;
  const char* up;
  const char* format;
};
constexpr Pair kPairs[] = {
    {".lora_A.weight", ".lora_B.weight", "peft"},
    {".lora_A.default.weight", ".lora_B.default.weight", "peft"},
    {".lora.down.weight", ".lora.up.weight", "diffusers"},
    {".lora_linear_layer.down.weight", ".lora_linear_layer.up.weight", "diffusers"},
    {"_lora.down.weight", "_lora.up.weight", "diffusers"},  // attn1.processor.to_q_lora.down.weight
};

// The attention processors' names of the oldest diffusers layout: attn1.processor.to_q(_lora) -> attn1.to_q.
std::string processorModule(std::string module) {
  static const std::pair<const char*, const char*> kRenames[] = {
      {".processor.to_q", ".to_q"},
      {".processor.to_k", ".to_k"},
      {".processor.to_v", ".to_v"},
      {".processor.to_out", ".to_out.0"},
  };
  for (const auto& [from, to] : kRenames)
    if (endsWith(module, from)) return module.substr(0, module.size() - std::string(from).size()) + to;
  return module;
}

std::map<std::string, double> numberMap(const nlohmann::json& j, const std::string& where) {
  std::map<std::string, double> out;
  if (j.is_null()) return out;
  if (!j.is_object()) throw FormatError(where + ": a pattern in lora_adapter_metadata is not an object");
  for (const auto& [k, v] : j.items()) {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0)
      throw FormatError(where + ": lora_adapter_metadata: the pattern value for '" + shown(k) +
                        "' is not a positive number");
    out[k] = v.get<double>();
  }
  return out;
}

std::map<Component, PeftScaling> peftMetadata(const std::map<std::string, std::string>& metadata,
                                              const std::string& where) {
  std::map<Component, PeftScaling> out;
  const auto it = metadata.find("lora_adapter_metadata");
  if (it == metadata.end()) return out;
  const auto json = respo::json::parse(it->second, where + " (lora_adapter_metadata)");
  if (!json.is_object()) throw FormatError(where + ": lora_adapter_metadata is not a JSON object");
  for (const auto& [prefix, component] : kDotted) {
    const std::string p = prefix;
    const auto field = [&](const char* name) -> const nlohmann::json* {
      const auto f = json.find(p + name);
      return f == json.end() ? nullptr : &*f;
    };
    const auto* r = field("r");
    const auto* alpha = field("lora_alpha");
    if (!r && !alpha) continue;
    auto positive = [&](const nlohmann::json* v, const char* name) {
      if (!v || !v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() <= 0)
        throw FormatError(where + ": lora_adapter_metadata: '" + p + name + "' is missing or not a positive number");
      return v->get<double>();
    };
    PeftScaling s;
    s.rank = positive(r, "r");
    s.alpha = positive(alpha, "lora_alpha");
    if (const auto* rs = field("use_rslora"); rs && rs->is_boolean()) s.rsLora = rs->get<bool>();
    if (const auto* ap = field("alpha_pattern")) s.alphaPattern = numberMap(*ap, where);
    if (const auto* rp = field("rank_pattern")) s.rankPattern = numberMap(*rp, where);
    out[component] = s;
  }
  return out;
}

// PEFT's pattern rule: the key matches a module whose name is the key or ends with "." + key.
std::optional<double> patternValue(const std::map<std::string, double>& pattern, const std::string& module) {
  for (const auto& [key, value] : pattern)
    if (module == key || endsWith(module, "." + key)) return value;
  return std::nullopt;
}

}  // namespace

const char* componentName(Component component) {
  switch (component) {
    case Component::Unet: return "unet";
    case Component::TextEncoder: return "text_encoder";
    case Component::TextEncoder2: return "text_encoder_2";
  }
  return "?";
}

KeyPlan planKeys(const std::vector<std::string>& names, const std::map<std::string, std::string>& metadata,
                 const std::string& where) {
  const std::set<std::string> all(names.begin(), names.end());
  for (const auto& name : names)
    for (const auto& [marker, what] : kUnsupported)
      if (name.find(marker) != std::string::npos)
        throw FormatError(where + " holds " + what + " ('" + shown(name) +
                          "'); only plain LoRA and LoCon layers are supported. Convert it to a LoRA or use another file");

  KeyPlan plan;
  std::set<std::string> used;
  std::set<std::string> formats;
  for (const auto& name : names) {
    // kohya-ss
    if (endsWith(name, ".lora_down.weight")) {
      const std::string base = name.substr(0, name.size() - std::string(".lora_down.weight").size());
      const Prefix* prefix = nullptr;
      for (const auto& p : kKohya)
        if (startsWith(base, p.text) && (!prefix || std::string(p.text).size() > std::string(prefix->text).size()))
          prefix = &p;
      if (!prefix)
        throw FormatError(where + ": the layer '" + shown(base) +
                          "' is not under lora_unet_, lora_te_, lora_te1_ or lora_te2_ (a LoRA for another kind of model?)");
      LayerKeys layer;
      layer.component = prefix->component;
      layer.module = base.substr(std::string(prefix->text).size());
      layer.underscored = true;
      layer.down = name;
      layer.up = base + ".lora_up.weight";
      if (!all.count(layer.up)) throw FormatError(where + ": '" + shown(name) + "' has no matching '" + shown(layer.up) + "'");
      if (all.count(base + ".alpha")) layer.alpha = base + ".alpha";
      used.insert({layer.down, layer.up});
      if (!layer.alpha.empty()) used.insert(layer.alpha);
      plan.layers.push_back(std::move(layer));
      formats.insert("kohya");
      continue;
    }
    // PEFT and diffusers
    for (const auto& pair : kPairs) {
      if (!endsWith(name, pair.down)) continue;
      std::string module = name.substr(0, name.size() - std::string(pair.down).size());
      LayerKeys layer;
      layer.down = name;
      layer.up = module + pair.up;
      if (!all.count(layer.up)) throw FormatError(where + ": '" + shown(name) + "' has no matching '" + shown(layer.up) + "'");
      if (all.count(module + ".alpha")) layer.alpha = module + ".alpha";
      used.insert({layer.down, layer.up});
      if (!layer.alpha.empty()) used.insert(layer.alpha);
      if (startsWith(module, "base_model.model.")) module = module.substr(std::string("base_model.model.").size());
      bool placed = false;
      for (const auto& [prefix, component] : kDotted)
        if (startsWith(module, prefix)) {
          layer.component = component;
          module = module.substr(std::string(prefix).size());
          placed = true;
          break;
        }
      if (!placed) layer.component = Component::Unet;  // a UNet adapter saved on its own
      layer.module = processorModule(module);
      plan.layers.push_back(std::move(layer));
      formats.insert(pair.format);
      break;
    }
  }
  if (plan.layers.empty()) {
    std::string first = names.empty() ? std::string("no tensors") : "keys like '" + shown(names.front()) + "'";
    throw FormatError(where + " holds no LoRA layers (" + first +
                      "); expected kohya (lora_unet_*.lora_down.weight), PEFT (*.lora_A.weight) or diffusers (*.lora.down.weight) names");
  }
  if (formats.count("kohya") && formats.size() > 1)
    throw FormatError(where + " mixes LoRA layouts (kohya and PEFT/diffusers names in one file)");
  for (const auto& name : names)
    if (!used.count(name))
      throw FormatError(where + ": the tensor '" + shown(name) + "' belongs to no LoRA layer (an up without its down?)");
  plan.format = formats.size() == 1 ? *formats.begin() : "diffusers";  // PEFT and older diffusers names
  plan.peft = peftMetadata(metadata, where);
  return plan;
}

double layerScale(const KeyPlan& plan, const LayerKeys& layer, std::optional<double> alpha, double rank) {
  if (rank <= 0) return 0;
  const auto config = plan.peft.find(layer.component);
  if (plan.format == "peft" && config != plan.peft.end()) {
    const auto& s = config->second;
    const double a = patternValue(s.alphaPattern, layer.module).value_or(s.alpha);
    const double r = patternValue(s.rankPattern, layer.module).value_or(s.rank);
    return s.rsLora ? a / std::sqrt(r) : a / r;
  }
  return alpha ? *alpha / rank : 1.0;
}

std::string extractLoraTags(const std::string& prompt, std::vector<PromptLora>* tags) {
  std::string out;
  std::size_t i = 0;
  while (i < prompt.size()) {
    const bool lora = prompt.compare(i, 6, "<lora:") == 0;
    const bool lyco = prompt.compare(i, 6, "<lyco:") == 0;
    const auto close = (lora || lyco) ? prompt.find('>', i) : std::string::npos;
    if (close == std::string::npos) {
      out += prompt[i++];
      continue;
    }
    const std::string body = prompt.substr(i + 6, close - i - 6);
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
      const auto colon = body.find(':', start);
      parts.push_back(body.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    PromptLora tag;
    tag.name = parts[0];
    while (!tag.name.empty() && tag.name.back() == ' ') tag.name.pop_back();
    while (!tag.name.empty() && tag.name.front() == ' ') tag.name.erase(tag.name.begin());
    const std::string text = prompt.substr(i, close - i + 1);
    if (tag.name.empty()) throw InvalidArgument("the LoRA tag '" + text + "' names no LoRA");
    if (parts.size() > 3) throw InvalidArgument("the LoRA tag '" + text + "' has more than two weights");
    auto weight = [&](const std::string& s) {
      std::string t = s;
      while (!t.empty() && t.back() == ' ') t.pop_back();
      while (!t.empty() && t.front() == ' ') t.erase(t.begin());
      const auto v = numbers::parseReal(t);
      if (!v || std::fabs(*v) > kMaxLoraWeight)
        throw InvalidArgument("the LoRA tag '" + text + "' has the weight '" + s + "'; use a number from -" +
                              numbers::formatReal(kMaxLoraWeight) + " to " + numbers::formatReal(kMaxLoraWeight));
      return *v;
    };
    if (parts.size() >= 2) tag.textWeight = tag.unetWeight = weight(parts[1]);
    if (parts.size() == 3) tag.unetWeight = weight(parts[2]);
    if (tags) tags->push_back(tag);
    i = close + 1;
  }
  return out;
}


std::filesystem::path findLoraFile(const std::string& name, const std::vector<std::filesystem::path>& folders) {
  const std::filesystem::path relative(name);
  bool safe = !name.empty() && !relative.is_absolute();
  for (const auto& part : relative)
    if (part == "..") safe = false;
  if (!safe) throw InvalidArgument("the LoRA name '" + shown(name) + "' is not a plain name inside a LoRA folder");
  std::string looked;
  for (const auto& folder : folders) {
    auto candidate = folder / relative;
    candidate += ".safetensors";
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    looked += (looked.empty() ? "" : ", ") + folder.string();
  }
  // As A1111 does: a plain name is the file's stem anywhere below the folders (the first in path order).
  if (relative.has_parent_path()) throw InvalidArgument("no LoRA named '" + shown(name) + "' (looked in " + looked + ")");
  for (const auto& folder : folders) {
    std::error_code ec;
    std::vector<std::filesystem::path> found;
    auto it = std::filesystem::recursive_directory_iterator(
        folder, std::filesystem::directory_options::skip_permission_denied, ec);
    for (std::size_t seen = 0; !ec && it != std::filesystem::recursive_directory_iterator() && seen < 100000;
         it.increment(ec), ++seen) {
      if (it.depth() > 8) it.disable_recursion_pending();
      const auto& path = it->path();
      if (path.extension() == ".safetensors" && path.stem() == relative && it->is_regular_file(ec)) found.push_back(path);
    }
    if (!found.empty()) return *std::min_element(found.begin(), found.end());
  }
  throw InvalidArgument("no LoRA named '" + shown(name) + "' (looked for " + shown(name) + ".safetensors in " +
                        (looked.empty() ? std::string("no folder: add one with --lora-dir or in the LoRA list") : looked) + ")");
}

std::string fileStamp(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return {};
  const auto time = std::filesystem::last_write_time(file, ec);
  if (ec) return {};
  return std::to_string(size) + ":" + std::to_string(time.time_since_epoch().count());
}

std::string loraFileHash(const std::filesystem::path& file) {
  // Only the header's length is read here; the hash (of what follows the header) is remembered.
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw IoError(file.string() + ": cannot read (" + ec.message() + ")");
  std::ifstream in(file, std::ios::binary);
  unsigned char head[8];
  if (!in.read(reinterpret_cast<char*>(head), 8)) throw FormatError(file.string() + ": too short for a safetensors file");
  std::uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | head[i];
  if (header > size - 8) throw FormatError(file.string() + ": the safetensors header runs past the end of the file");
  return rememberedFileSha256(file, 8 + header);
}

std::string loraHashesParameter(const std::string& prompt, const std::vector<std::filesystem::path>& folders) {
  std::vector<PromptLora> tags;
  extractLoraTags(prompt, &tags);
  std::string out;
  std::set<std::string> seen;
  for (const auto& tag : tags) {
    if (!seen.insert(tag.name).second) continue;
    out += (out.empty() ? "" : ", ") + tag.name + ": " + loraFileHash(findLoraFile(tag.name, folders)).substr(0, 12);
  }
  return out;
}

}  // namespace respo::pipeline::lora
