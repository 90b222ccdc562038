// The LDM -> diffusers key mapping of single-file checkpoints, checked against a file's tensor names
// and shapes: every tensor the configs imply must be present with the implied shape, and every
// other tensor of the file is accounted for (ignored where known, an error inside a component).
#include "core/models/single_file_keys.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/common/error.h"
#include "core/common/json.h"
#include "core/models/clip_text_config.h"
#include "core/models/single_file_map.h"
#include "core/models/unet_config.h"
#include "core/models/vae_config.h"

namespace respo::models {
namespace single_file {

// ---- configs -----------------------------------------------------------------------------------

Config::Config(const nlohmann::json& j, std::string w) : json(j), where(std::move(w)) {
  if (!json.is_object()) throw FormatError(where + ": expected a JSON object");
}

bool Config::has(const std::string& key) const { return json.contains(key) && !json[key].is_null(); }

void Config::fail(const std::string& message) const { throw FormatError(where + ": " + message); }

std::int64_t Config::integer(const std::string& key, std::optional<std::int64_t> fallback) const {
  if (!has(key)) {
    if (!fallback) fail("missing '" + key + "'");
    return *fallback;
  }
  if (!json[key].is_number_integer()) fail("'" + key + "' must be an integer, not " + respo::json::brief(json[key]));
  const auto value = json[key].get<std::int64_t>();
  if (value <= 0) fail("'" + key + "' must be positive, not " + std::to_string(value));
  return value;
}

bool Config::boolean(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!json[key].is_boolean()) fail("'" + key + "' must be true or false, not " + respo::json::brief(json[key]));
  return json[key].get<bool>();
}

std::string Config::string(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  if (!json[key].is_string()) fail("'" + key + "' must be a string, not " + respo::json::brief(json[key]));
  return json[key].get<std::string>();
}

std::vector<std::int64_t> Config::integers(const std::string& key) const {
  if (!has(key)) fail("missing '" + key + "'");
  const auto& value = json[key];
  const bool ok = value.is_array() && std::all_of(value.begin(), value.end(), [](const auto& v) {
                    return v.is_number_integer() && v.template get<std::int64_t>() > 0;
                  });
  if (!ok) fail("'" + key + "' must be a list of positive integers, not " + respo::json::brief(value));
  return value.get<std::vector<std::int64_t>>();
}

std::vector<std::string> Config::strings(const std::string& key) const {
  if (!has(key)) fail("missing '" + key + "'");
  const auto& value = json[key];
  if (!value.is_array() || !std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_string(); }))
    fail("'" + key + "' must be a list of strings, not " + respo::json::brief(value));
  return value.get<std::vector<std::string>>();
}

std::vector<std::int64_t> Config::perBlock(const std::string& key, std::int64_t fallback, std::size_t blocks) const {
  if (!has(key)) return std::vector<std::int64_t>(blocks, fallback);
  if (json[key].is_number_integer()) return std::vector<std::int64_t>(blocks, integer(key));
  auto list = integers(key);
  if (list.size() != blocks)
    fail("'" + key + "' has " + std::to_string(list.size()) + " entries, expected one per block (" +
         std::to_string(blocks) + ")");
  return list;
}

// ---- plans -------------------------------------------------------------------------------------

void addModule(Plan& plan, const std::string& ldmPrefix, const std::string& diffusersPrefix,
               std::span<const Rule> rules, const Dims& dims) {
  for (const Rule& rule : rules) {
    Entry entry{ldmPrefix + rule.ldm, diffusersPrefix + rule.diffusers, {}, rule.layout};
    for (const std::int64_t dim : rule.shape) {
      switch (dim) {
        case 0: break;
        case In: entry.shape.push_back(dims.in); break;
        case Out: entry.shape.push_back(dims.out); break;
        case Emb: entry.shape.push_back(dims.emb); break;
        case Ctx: entry.shape.push_back(dims.ctx); break;
        case Ff: entry.shape.push_back(dims.ff); break;
        case Ff2: entry.shape.push_back(2 * dims.ff); break;
        case Kernel: entry.shape.push_back(dims.kernel); break;
        case Vocab: entry.shape.push_back(dims.vocab); break;
        case Pos: entry.shape.push_back(dims.pos); break;
        case ProjDim: entry.shape.push_back(dims.proj); break;
        default: entry.shape.push_back(dim); break;
      }
      if (dim == 0) break;
    }
    if (rule.layout == Layout::Proj && !dims.linearProj) {
      entry.shape.push_back(1);
      entry.shape.push_back(1);
    }
    plan.entries.push_back(std::move(entry));
  }
}

}  // namespace single_file

namespace {

using namespace single_file;

std::string showShape(const std::vector<std::int64_t>& shape) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

std::string listFirst(const std::vector<std::string>& items, std::size_t count = 5) {
  std::string out;
  for (std::size_t i = 0; i < std::min(count, items.size()); ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > count) out += ", ... (" + std::to_string(items.size() - count) + " more)";
  return out;
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::vector<std::int64_t> dropTrailingOnes(std::vector<std::int64_t> shape) {
  while (shape.size() > 2 && shape.back() == 1) shape.pop_back();
  return shape;
}

// Empty when the stored shape fits the entry's layout, else what is wrong.
std::string shapeProblem(const Entry& entry, const std::vector<std::int64_t>& have) {
  switch (entry.layout) {
    case Layout::Same:
      if (have == entry.shape) return {};
      break;
    case Layout::Proj:
      if (dropTrailingOnes(have) == dropTrailingOnes(entry.shape)) return {};
      break;
    case Layout::QkvPart0:
    case Layout::QkvPart1:
    case Layout::QkvPart2: {
      auto fused = entry.shape;
      fused[0] *= 3;
      if (have == fused) return {};
      return "has shape " + showShape(have) + ", the config implies " + showShape(fused) + " (q, k, v fused)";
    }
    case Layout::Transposed: {
      const std::vector<std::int64_t> stored(entry.shape.rbegin(), entry.shape.rend());
      if (have == stored) return {};
      return "has shape " + showShape(have) + ", the config implies " + showShape(stored) + " (stored transposed)";
    }
  }
  return "has shape " + showShape(have) + ", the config implies " + showShape(entry.shape);
}

std::string describeKeys(const std::vector<std::string>& keys) {
  if (keys.empty()) return "it holds no tensors";
  std::map<std::string, std::size_t> groups;  // up to two leading name components ("model.diffusion_model.*")
  for (const auto& key : keys) {
    const auto first = key.find('.');
    const auto second = first == std::string::npos ? first : key.find('.', first + 1);
    if (first == std::string::npos) ++groups[key];
    else if (second == std::string::npos) ++groups[key.substr(0, first) + ".*"];
    else ++groups[key.substr(0, second) + ".*"];
  }
  std::vector<std::pair<std::size_t, std::string>> largest;
  for (const auto& [group, count] : groups) largest.emplace_back(count, group);
  std::sort(largest.begin(), largest.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::string out = "its " + std::to_string(keys.size()) + " tensors are named ";
  for (std::size_t i = 0; i < std::min<std::size_t>(4, largest.size()); ++i)
    out += (i ? ", " : "") + largest[i].second + " (" + std::to_string(largest[i].first) + ")";
  if (largest.size() > 4) out += ", ...";
  return out;
}

}  // namespace

const char* familyName(CheckpointFamily family) {
  switch (family) {
    case CheckpointFamily::SD1: return "SD 1.x";
    case CheckpointFamily::SD2: return "SD 2.x";
    case CheckpointFamily::SDXL: return "SDXL";
  }
  return "?";
}

CheckpointFamily detectFamily(const std::vector<std::string>& keys, const std::string& source) {
  auto any = [&](const std::string& prefix) {
    return std::any_of(keys.begin(), keys.end(), [&](const std::string& k) { return startsWith(k, prefix); });
  };
  const std::string what = source + ": not a Stable Diffusion 1.x/2.x/XL single-file checkpoint: ";
  if (any("conditioner.embedders.")) {
    if (!any("model.diffusion_model."))
      throw FormatError(what + "no UNet tensors (model.diffusion_model.*); " + describeKeys(keys));
    if (any("conditioner.embedders.0.transformer.") && any("conditioner.embedders.1.model."))
      return CheckpointFamily::SDXL;
    throw FormatError(what + "its text conditioner is not SDXL base's CLIP (conditioner.embedders.0.transformer.*) "
                             "and OpenCLIP (conditioner.embedders.1.model.*) pair (the SDXL refiner is not supported); " +
                      describeKeys(keys));
  }
  if (!any("model.diffusion_model.")) {
    const bool diffusers = any("down_blocks.") || any("encoder.down_blocks.") || any("text_model.encoder.");
    throw FormatError(what + "no UNet tensors (model.diffusion_model.*); " + describeKeys(keys) +
                      (diffusers ? " (already diffusers names: a file of a diffusers folder?)" : ""));
  }
  const bool openClip = any("cond_stage_model.model.");
  const bool clip = any("cond_stage_model.transformer.");
  if (openClip && clip)
    throw FormatError(what + "it has both a CLIP (cond_stage_model.transformer.*) and an OpenCLIP "
                             "(cond_stage_model.model.*) text encoder");
  if (openClip) return CheckpointFamily::SD2;
  if (clip) return CheckpointFamily::SD1;
  throw FormatError(what + "no CLIP (cond_stage_model.transformer.*) or OpenCLIP (cond_stage_model.model.*) text "
                           "encoder; " + describeKeys(keys));
}

CheckpointMapping mapSingleFile(const CheckpointIndex& checkpoint, const CheckpointConfigs& configs,
                                const std::string& source) {
  // The configs pass the models' own checks first: nothing is planned from absurd values. The plans
  // derive every shape from the block widths, so those must be stated, not defaulted.
  for (const auto& [config, where] : {std::pair{&configs.unet, "unet/config.json"}, std::pair{&configs.vae, "vae/config.json"}})
    if (config->is_object() && !config->contains("block_out_channels"))
      throw FormatError(std::string(where) + ": missing 'block_out_channels'");
  UNetConfig::fromJson(configs.unet, "unet/config.json");
  VaeConfig::fromJson(configs.vae, "vae/config.json");
  ClipTextConfig::fromJson(configs.textEncoder, "text_encoder/config.json");
  if (!configs.textEncoder2.is_null()) ClipTextConfig::fromJson(configs.textEncoder2, "text_encoder_2/config.json");
  std::vector<std::string> keys;
  keys.reserve(checkpoint.size());
  for (const auto& [key, tensor] : checkpoint) keys.push_back(key);
  CheckpointMapping result;
  result.family = detectFamily(keys, source);

  // transformers' CLIP is stored with or without the text_model. level.
  auto clipBase = [&](const std::string& base) {
    return checkpoint.count(base + "text_model.embeddings.token_embedding.weight") ||
                   !checkpoint.count(base + "embeddings.token_embedding.weight")
               ? base + "text_model."
               : base;
  };
  std::vector<Plan> plans{unetPlan(configs.unet), vaePlan(configs.vae)};
  std::vector<std::vector<MappedTensor>*> outputs{&result.unet, &result.vae, &result.textEncoder};
  switch (result.family) {
    case CheckpointFamily::SD1:
      plans.push_back(textPlan({false, "cond_stage_model.", clipBase("cond_stage_model.transformer."), 0}, configs.textEncoder));
      break;
    case CheckpointFamily::SD2:
      // SD 2.x uses the penultimate layer of OpenCLIP's 24: its config keeps 23.
      plans.push_back(textPlan({true, "cond_stage_model.", "cond_stage_model.model.", 1}, configs.textEncoder));
      break;
    case CheckpointFamily::SDXL:
      if (configs.textEncoder2.is_null())
        throw FormatError(source + ": an SDXL checkpoint needs the configs of both text encoders");
      plans.push_back(textPlan({false, "conditioner.embedders.0.", clipBase("conditioner.embedders.0.transformer."), 0},
                               configs.textEncoder));
      plans.push_back(textPlan({true, "conditioner.embedders.1.", "conditioner.embedders.1.model.", 0, "text encoder 2"},
                               configs.textEncoder2));
      outputs.push_back(&result.textEncoder2);
      break;
  }

  std::set<std::string> used;
  for (std::size_t p = 0; p < plans.size(); ++p) {
    const Plan& plan = plans[p];
    // One LDM tensor can feed several diffusers tensors (fused q/k/v): report each LDM tensor once.
    std::vector<std::string> missing, wrong;
    std::set<std::string> implied, reported;
    for (const Entry& entry : plan.entries) {
      implied.insert(entry.ldm);
      const auto found = checkpoint.find(entry.ldm);
      if (found == checkpoint.end()) {
        if (reported.insert(entry.ldm).second) missing.push_back(entry.ldm);
        continue;
      }
      used.insert(entry.ldm);
      const StoredTensor& tensor = found->second;
      const std::string problem =
          tensor.floatingPoint ? shapeProblem(entry, tensor.shape) : "is not a floating-point tensor";
      if (!problem.empty()) {
        if (reported.insert(entry.ldm).second)
          wrong.push_back("'" + entry.ldm + "' (" + entry.diffusers + ") " + problem);
        continue;
      }
      outputs[p]->push_back({entry.ldm, entry.diffusers, entry.shape, entry.layout});
    }
    if (!missing.empty())
      throw FormatError(source + ": the " + plan.component + " lacks " + std::to_string(missing.size()) + " of the " +
                        std::to_string(implied.size()) + " tensors its config implies (" +
                        familyName(result.family) + " layout): " + listFirst(missing));
    if (!wrong.empty())
      throw FormatError(source + ": " + std::to_string(wrong.size()) + " " + plan.component +
                        " tensor(s) do not fit its config: " + listFirst(wrong, 3));
  }

  // Every other tensor: unexpected inside a component (the configs describe another model), ignored
  // outside (EMA copies, schedule buffers, training leftovers) or when known to be unused.
  std::vector<std::vector<std::string>> unexpected(plans.size());
  for (const auto& key : keys) {
    if (used.count(key)) continue;
    bool ignorable = true;
    for (std::size_t p = 0; p < plans.size(); ++p) {
      if (!startsWith(key, plans[p].ldmPrefix)) continue;
      const auto& ok = plans[p].ignorablePrefixes;
      ignorable = std::any_of(ok.begin(), ok.end(), [&](const std::string& i) { return startsWith(key, i); });
      if (!ignorable) unexpected[p].push_back(key);
    }
    if (ignorable) result.ignoredKeys.push_back(key);
  }
  for (std::size_t p = 0; p < plans.size(); ++p)
    if (!unexpected[p].empty())
      throw FormatError(source + ": " + std::to_string(unexpected[p].size()) + " " + plans[p].component +
                        " tensor(s) that its config does not account for (does the config describe this " +
                        "checkpoint?): " + listFirst(unexpected[p]));
  return result;
}

}  // namespace respo::models
