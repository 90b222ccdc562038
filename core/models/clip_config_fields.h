#pragma once
// The transformer fields CLIP's text and vision configs share (transformers' CLIPTextConfig and
// CLIPVisionConfig), read and checked once for both.
#include <string>

#include "core/models/config_reader.h"

namespace respo::models {

struct ClipTowerFields {
  int hiddenSize = 768, intermediateSize = 3072, layers = 12, heads = 12;
  std::string activation = "quick_gelu";
  double layerNormEps = 1e-5;
};

// Reads hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, hidden_act and
// layer_norm_eps over `fields` (its values are the defaults); FormatError for an unsupported
// activation or heads that do not divide the width.
void readClipTowerFields(const ConfigReader& r, ClipTowerFields& fields);

}  // namespace respo::models
