#pragma once
// Internal to the single-file converter (single_file*.cpp): the LDM -> diffusers key mapping as
// tables. Each component (UNet, VAE, text encoder) expands its config into a plan: one entry per
// diffusers tensor, naming the LDM tensor it comes from, the shape the config implies and how the
// tensor is laid out in the LDM file. single_file_keys.cpp checks a plan against a checkpoint.
// No tensors here: the plans are plain data, so the mapping can be read (and tested) on its own.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/models/single_file_keys.h"

namespace respo::models::single_file {

// A dimension of a shape rule: a literal size (> 0), a symbol resolved per module (< 0), or 0 for
// "no more dimensions".
enum Sym : std::int64_t {
  In = -1,      // input channels / features
  Out = -2,     // output channels / features (the model width of a transformer)
  Emb = -3,     // UNet time-embedding width
  Ctx = -4,     // cross-attention context width
  Ff = -5,      // feed-forward inner width
  Ff2 = -6,     // twice Ff (GEGLU's fused projection)
  Kernel = -7,  // convolution kernel size
  Vocab = -8,   // token vocabulary
  Pos = -9,     // positions
  ProjDim = -10,  // a text encoder's projection width
};

// How the LDM tensor relates to the diffusers one (single_file_keys.h).
using Layout = TensorLayout;

struct Rule {
  const char* ldm;        // LDM name, relative to the module
  const char* diffusers;  // diffusers name, relative to the module
  std::array<std::int64_t, 4> shape;
  Layout layout = Layout::Same;
};

struct Dims {
  std::int64_t in = 0, out = 0, emb = 0, ctx = 0, ff = 0, kernel = 3, vocab = 0, pos = 0, proj = 0;
  bool linearProj = true;  // Layout::Proj targets a linear [o,i] (true) or a 1x1 convolution (false)
};

struct Entry {
  std::string ldm;        // full LDM key (with the component prefix)
  std::string diffusers;  // full diffusers key
  std::vector<std::int64_t> shape;  // what the config implies for the diffusers tensor
  Layout layout = Layout::Same;
};

struct Plan {
  std::string component;    // "UNet", "VAE", "text encoder"
  // Every LDM key of this component starts with it; any other tensor under it must be ignorable.
  std::string ldmPrefix;
  std::vector<Entry> entries;
  // LDM keys under ldmPrefix that are known not to belong to the diffusers model (they go to
  // ignoredKeys instead of being reported as unexpected); matched as prefixes of the full key.
  std::vector<std::string> ignorablePrefixes;
};

// Appends one entry per rule: ldmPrefix + rule.ldm -> diffusersPrefix + rule.diffusers.
void addModule(Plan& plan, const std::string& ldmPrefix, const std::string& diffusersPrefix,
               std::span<const Rule> rules, const Dims& dims);

// Reading the diffusers configs, with errors naming the file and the key.
struct Config {
  const nlohmann::json& json;
  std::string where;  // "unet/config.json"
  Config(const nlohmann::json& j, std::string w);
  bool has(const std::string& key) const;
  std::int64_t integer(const std::string& key, std::optional<std::int64_t> fallback = std::nullopt) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  std::vector<std::int64_t> integers(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key) const;
  // An int or a list with one entry per block.
  std::vector<std::int64_t> perBlock(const std::string& key, std::int64_t fallback, std::size_t blocks) const;
  [[noreturn]] void fail(const std::string& message) const;
};

Plan unetPlan(const nlohmann::json& unetConfig);
Plan vaePlan(const nlohmann::json& vaeConfig);
// Where and how a text encoder is stored in the LDM file.
struct TextLayout {
  bool openClip = false;        // OpenCLIP names (fused q/k/v) rather than transformers' CLIP names
  std::string componentPrefix;  // "cond_stage_model.", "conditioner.embedders.1."
  // "cond_stage_model.transformer.text_model." (SD1; also without the text_model level),
  // "cond_stage_model.model." (SD2), "conditioner.embedders.{0.transformer.text_model,1.model}." (SDXL)
  std::string ldmBase;
  std::int64_t droppableLayers = 0;  // trailing OpenCLIP layers the config may leave out (SD 2.x: 1)
  std::string component = "text encoder";
};
Plan textPlan(const TextLayout& layout, const nlohmann::json& textConfig);

}  // namespace respo::models::single_file
