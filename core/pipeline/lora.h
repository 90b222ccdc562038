#pragma once
// LoRA files applied to a loaded model without touching its files: every layer's up @ down, times its
// scale (lora_keys.h) and the user's weight, is added to the weight it names, and the exact original
// weights come back when the AppliedLoras object goes. Several LoRAs add up. Formats: kohya-ss /
// A1111 (lora_unet_*, lora_te_*, lora_te1_*, lora_te2_*; SD1 naming the diffusers UNet, SDXL
// Stability's), LoCon convolutions, PEFT as diffusers saves it (with its adapter config), and the
// older diffusers layouts. The result equals diffusers' load_lora_weights + fuse_lora(lora_scale).
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/pipeline/lora_keys.h"
#include "core/pipeline/stable_diffusion_model.h"

namespace respo::pipeline {

struct LoraFile {
  std::filesystem::path path;
  std::string name;    // the file's stem, as prompts name it
  std::string format;  // "kohya", "peft", "diffusers"
  struct Layer {
    lora::Component component = lora::Component::Unet;
    std::string module;  // as the file names it (lora::LayerKeys)
    bool underscored = false;
    torch::Tensor down, up;  // float32, CPU
    double scale = 1.0;      // lora::layerScale
  };
  std::vector<Layer> layers;
};

// Reads and checks a LoRA file (safetensors only). Throws IoError / FormatError naming the file
// (for what planKeys refuses, factors whose ranks disagree, non-finite values).
LoraFile loadLoraFile(const std::filesystem::path& path);

// The weight changes `file` makes to `model` at the given weights, by "<component>.<parameter>"
// ("unet.down_blocks.0.attentions.0.proj_in.weight", "text_encoder.text_model..."), float32 on the
// model's device. Throws InvalidArgument naming the layer when the model has no such module (a LoRA
// for another model family) or the shapes disagree.
std::map<std::string, torch::Tensor> loraDeltas(StableDiffusionModel& model, const LoraFile& file, double textWeight,
                                                double unetWeight);

struct LoraUse {
  std::shared_ptr<const LoraFile> file;
  double textWeight = 1.0, unetWeight = 1.0;
};

// The LoRA tags of `prompt` (<lora:name:w>), each read from the first of `folders` that has it.
// Files are kept while unchanged (size, modification time). Throws as findLoraFile / loadLoraFile.
std::vector<LoraUse> promptLoras(const std::string& prompt, const std::vector<std::filesystem::path>& folders);

// LoRAs applied to a model's weights while this object lives; all deltas are checked before any weight
// changes (nothing changes when one LoRA does not fit).
class AppliedLoras {
 public:
  AppliedLoras(StableDiffusionModel& model, const std::vector<LoraUse>& uses);
  ~AppliedLoras();
  AppliedLoras(const AppliedLoras&) = delete;
  AppliedLoras& operator=(const AppliedLoras&) = delete;
  std::size_t changedWeights() const { return saved_.size(); }

 private:
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved_;  // parameter, its original value
};

}  // namespace respo::pipeline
