#pragma once
// LoRA files, the part that needs no tensors: which layers a file holds under which key names (the
// kohya-ss / A1111 layout, the PEFT layout diffusers saves, the older diffusers layouts), how each
// layer is scaled, and A1111's <lora:name:weight> prompt tags. Kept free of LibTorch so the key
// handling can be tested and fuzzed on its own; core/pipeline/lora.h applies the result.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace respo::pipeline::lora {

enum class Component { Unet, TextEncoder, TextEncoder2 };
const char* componentName(Component component);  // "unet", "text_encoder", "text_encoder_2"

struct LayerKeys {
  Component component = Component::Unet;
  // The module the layer adds to. Dotted (PEFT, diffusers: "down_blocks.0.attentions.0.proj_in") or,
  // for kohya files, the module path with '_' for '.' ("down_blocks_0_attentions_0_proj_in"); kohya's
  // SDXL files name Stability's UNet ("input_blocks_4_1_proj_in").
  std::string module;
  bool underscored = false;
  std::string down, up;  // tensor names: [rank, in(, k, k)] and [out, rank(, 1, 1)]
  std::string alpha;     // tensor name of a scalar alpha, or ""
};

// A PEFT LoraConfig as diffusers stores it in the file's "lora_adapter_metadata" (per component).
struct PeftScaling {
  double alpha = 0;
  double rank = 0;
  bool rsLora = false;
  std::map<std::string, double> alphaPattern, rankPattern;  // module name (suffix) -> value
};

struct KeyPlan {
  std::string format;  // "kohya", "peft", "diffusers"
  std::vector<LayerKeys> layers;
  std::map<Component, PeftScaling> peft;  // from the metadata, when the file has it
};

// Sorts a file's tensor names into layers. Throws FormatError naming `where` for a file that holds
// no LoRA layers, for layer types other than plain LoRA / LoCon (LoHa, LoKr, DoRA, CP
// decompositions, biases: named in the message), for a down without its up (or the reverse) and for
// names it cannot place. `metadata` is the file's safetensors metadata.
KeyPlan planKeys(const std::vector<std::string>& names, const std::map<std::string, std::string>& metadata,
                 const std::string& where);

// The factor a layer's up @ down is multiplied by (before the user's weight): kohya and the older
// diffusers layouts: alpha / rank with the file's alpha (1 without one); PEFT: the adapter config's
// lora_alpha / r (or / sqrt(r) with use_rslora; patterns override per module), 1 without a config.
double layerScale(const KeyPlan& plan, const LayerKeys& layer, std::optional<double> alpha, double rank);

// A1111's extra-network tags for LoRA in a prompt: <lora:NAME>, <lora:NAME:W> (text encoders and UNet
// at W), <lora:NAME:W_TEXT:W_UNET>; <lyco:...> is read the same way.
struct PromptLora {
  std::string name;
  double textWeight = 1.0, unetWeight = 1.0;
};
inline constexpr double kMaxLoraWeight = 20.0;

// The prompt without its LoRA tags (the text the encoders see), and the tags in order. Throws
// InvalidArgument for a tag whose name is empty or whose weights are not numbers within
// +-kMaxLoraWeight. Other <...> text stays as it is.
std::string extractLoraTags(const std::string& prompt, std::vector<PromptLora>* tags = nullptr);

// The file a tag names: <folder>/<name>.safetensors in the first folder that has it (a name may hold
// '/' for a sub-folder; ".." is refused), else, as A1111 finds names, the first <name>.safetensors in
// any sub-folder (in path order). Throws InvalidArgument listing where it looked.
std::filesystem::path findLoraFile(const std::string& name, const std::vector<std::filesystem::path>& folders);

// "size:modification time" of a file ("" when it cannot be read): what the LoRA caches compare.
std::string fileStamp(const std::filesystem::path& file);

// The hash other front ends know a LoRA file by (A1111's, kohya's "sshs_model_hash"): the SHA-256 of
// the file after its safetensors header, as 64 hex digits; A1111 shows its first 12. Remembered per
// file, size and modification time. Throws IoError / FormatError naming the file.
std::string loraFileHash(const std::filesystem::path& file);

// A1111's "Lora hashes" parameter for the tags of `prompt`: "name: 12 hex digits, ..." ("" without
// tags). Throws as findLoraFile / loraFileHash do.
std::string loraHashesParameter(const std::string& prompt, const std::vector<std::filesystem::path>& folders);

}  // namespace respo::pipeline::lora
