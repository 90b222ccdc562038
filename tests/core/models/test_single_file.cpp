// core/models/single_file: LDM single-file checkpoints converted to diffusers names must reproduce the
// diffusers folders written by tests/reference/single_file_reference.py tensor for tensor, and bad
// checkpoints must be rejected with messages that say what is wrong.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/models/single_file.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::models;
using TensorMap = std::map<std::string, torch::Tensor>;

namespace {

struct Reference {
  TensorMap single, unet, vae, text;
  nlohmann::json unetConfig, vaeConfig, textConfig;
  ConvertedCheckpoint convert() const { return convertSingleFile(single, unetConfig, vaeConfig, textConfig); }
  ConvertedCheckpoint convert(const TensorMap& checkpoint) const {
    return convertSingleFile(checkpoint, unetConfig, vaeConfig, textConfig, "model.safetensors");
  }
};

TensorMap load(const fs::path& path) { return respo::io::loadAll(respo::io::SafetensorsFile::open(path)); }

nlohmann::json readJson(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return nlohmann::json::parse(in);
}

const Reference& reference(const std::string& family) {
  static std::map<std::string, Reference> cache;
  if (auto found = cache.find(family); found != cache.end()) return found->second;
  const fs::path dir = fs::path(respo::testing::option("dir")) / family;
  Reference r;
  r.single = load(dir / "model.safetensors");
  r.unet = load(dir / "unet" / "diffusion_pytorch_model.safetensors");
  r.vae = load(dir / "vae" / "diffusion_pytorch_model.safetensors");
  // transformers >= 5.6 saves CLIPTextModel without the text_model. level that older folders (and
  // the converter) use; both name the same tensors.
  for (auto& [key, tensor] : load(dir / "text_encoder" / "model.safetensors"))
    r.text[key.rfind("text_model.", 0) == 0 ? key : "text_model." + key] = tensor;
  r.unetConfig = readJson(dir / "unet" / "config.json");
  r.vaeConfig = readJson(dir / "vae" / "config.json");
  r.textConfig = readJson(dir / "text_encoder" / "config.json");
  return cache.emplace(family, std::move(r)).first->second;
}

std::string listFirst(const std::vector<std::string>& keys) {
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(5, keys.size()); ++i) out += (i ? ", " : "") + keys[i];
  return out + (keys.size() > 5 ? ", ..." : "");
}

// Same names, dtypes, shapes and values; returns how many tensors matched.
std::size_t expectIdentical(const std::string& what, const TensorMap& got, const TensorMap& want) {
  std::vector<std::string> missing, unexpected, different;
  for (const auto& [key, tensor] : want) {
    const auto found = got.find(key);
    if (found == got.end()) missing.push_back(key);
    else if (found->second.scalar_type() != tensor.scalar_type() || !torch::equal(found->second, tensor))
      different.push_back(key);
  }
  for (const auto& [key, tensor] : got)
    if (!want.count(key)) unexpected.push_back(key);
  if (!missing.empty())
    respo::testing::recordFailure(__FILE__, __LINE__, what + ": missing " + listFirst(missing));
  if (!unexpected.empty())
    respo::testing::recordFailure(__FILE__, __LINE__, what + ": unexpected " + listFirst(unexpected));
  if (!different.empty())
    respo::testing::recordFailure(__FILE__, __LINE__, what + ": different " + listFirst(different));
  return want.size() - missing.size() - different.size();
}

void expectMatchesFolders(const std::string& family, const ConvertedCheckpoint& converted) {
  const Reference& r = reference(family);
  const auto unet = expectIdentical(family + " unet", converted.unet, r.unet);
  const auto vae = expectIdentical(family + " vae", converted.vae, r.vae);
  const auto text = expectIdentical(family + " text encoder", converted.textEncoder, r.text);
  std::cout << family << ": " << unet << "/" << r.unet.size() << " UNet, " << vae << "/" << r.vae.size()
            << " VAE, " << text << "/" << r.text.size() << " text-encoder tensors identical; "
            << converted.ignoredKeys.size() << " ignored\n";
}

bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Applies `change` to every tensor whose key starts with `prefix` and ends with `suffix`; returns the copy.
TensorMap reshaped(const TensorMap& source, const std::string& prefix, const std::string& suffix,
                   const std::function<torch::Tensor(const torch::Tensor&)>& change, int& count) {
  TensorMap out = source;
  for (auto& [key, tensor] : out)
    if (key.rfind(prefix, 0) == 0 && key.size() >= suffix.size() &&
        key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      tensor = change(tensor);
      ++count;
    }
  return out;
}

std::vector<std::string> keysOf(const TensorMap& map) {
  std::vector<std::string> keys;
  for (const auto& [key, tensor] : map) keys.push_back(key);
  return keys;
}

}  // namespace

// ---- parity with the diffusers folders ---------------------------------------------------------

RESPO_TEST(sd1_single_file_matches_the_diffusers_folder) {
  const auto converted = reference("sd1").convert();
  EXPECT(converted.family == CheckpointFamily::SD1);
  expectMatchesFolders("sd1", converted);
  for (const char* key : {"alphas_cumprod", "model_ema.decay", "model_ema.num_updates",
                          "model_ema.diffusion_modelout2bias",
                          "cond_stage_model.transformer.text_model.embeddings.position_ids"})
    EXPECT(contains(converted.ignoredKeys, key));
  EXPECT_EQ(converted.ignoredKeys.size(), std::size_t{5});
  EXPECT(std::is_sorted(converted.ignoredKeys.begin(), converted.ignoredKeys.end()));
}

RESPO_TEST(sd2_single_file_matches_the_diffusers_folder) {
  const auto converted = reference("sd2").convert();
  EXPECT(converted.family == CheckpointFamily::SD2);
  expectMatchesFolders("sd2", converted);
  EXPECT(contains(converted.ignoredKeys, "cond_stage_model.model.text_projection"));
  EXPECT(contains(converted.ignoredKeys, "cond_stage_model.model.logit_scale"));
  // The fourth (last) OpenCLIP layer is dropped: the text config keeps 3.
  EXPECT(contains(converted.ignoredKeys, "cond_stage_model.model.transformer.resblocks.3.attn.in_proj_weight"));
  EXPECT(contains(converted.ignoredKeys, "cond_stage_model.model.transformer.resblocks.3.mlp.c_proj.bias"));
  EXPECT(!converted.textEncoder.count("text_model.encoder.layers.3.self_attn.q_proj.weight"));
  EXPECT_EQ(converted.ignoredKeys.size(), std::size_t{4 + 2 + 12});
  EXPECT(converted.unet.at("conv_in.weight").scalar_type() == torch::kHalf);  // the file's dtype is kept
}

RESPO_TEST(converted_tensors_share_storage_with_the_checkpoint) {
  const Reference& r = reference("sd2");
  const auto converted = r.convert();
  const auto& single = r.single;
  EXPECT(converted.unet.at("conv_in.weight").data_ptr() ==
         single.at("model.diffusion_model.input_blocks.0.0.weight").data_ptr());
  const auto& fused = single.at("cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight");
  const auto& k = converted.textEncoder.at("text_model.encoder.layers.0.self_attn.k_proj.weight");
  EXPECT(static_cast<const char*>(k.data_ptr()) ==
         static_cast<const char*>(fused.data_ptr()) + fused.size(1) * fused.size(1) * fused.element_size());
}

// ---- other layouts real checkpoints use ---------------------------------------------------------

RESPO_TEST(sd1_text_without_text_model_level_and_linear_vae_attention) {
  const Reference& r = reference("sd1");
  TensorMap single;
  const std::string deep = "cond_stage_model.transformer.text_model.";
  for (const auto& [key, tensor] : r.single)
    single[key.rfind(deep, 0) == 0 ? "cond_stage_model.transformer." + key.substr(deep.size()) : key] = tensor;
  int count = 0;
  for (const char* suffix : {"mid.attn_1.q.weight", "mid.attn_1.k.weight", "mid.attn_1.v.weight",
                             "mid.attn_1.proj_out.weight"})
    single = reshaped(single, "first_stage_model.", suffix, [](const torch::Tensor& t) { return t.flatten(1); }, count);
  EXPECT_EQ(count, 8);  // encoder and decoder
  // proj_in/proj_out held as linear layers although this UNet config wants 1x1 convolutions
  count = 0;
  for (const char* suffix : {"proj_in.weight", "proj_out.weight"})
    single = reshaped(single, "model.diffusion_model.", suffix, [](const torch::Tensor& t) { return t.flatten(1); },
                      count);
  EXPECT_EQ(count, 2 * 6);  // 2 down, 1 mid and 3 up transformers
  const auto converted = r.convert(single);
  expectMatchesFolders("sd1", converted);
  EXPECT(contains(converted.ignoredKeys, "cond_stage_model.transformer.embeddings.position_ids"));
}

RESPO_TEST(sd2_projections_held_as_1x1_convolutions) {
  const Reference& r = reference("sd2");
  int count = 0;
  TensorMap single = r.single;
  for (const char* suffix : {"proj_in.weight", "proj_out.weight"})
    single = reshaped(single, "model.diffusion_model.", suffix,
                      [](const torch::Tensor& t) { return t.reshape({t.size(0), t.size(1), 1, 1}); }, count);
  EXPECT_EQ(count, 2 * 11);  // 4 down, 1 mid and 6 up transformers
  expectMatchesFolders("sd2", r.convert(single));
}

// ---- what is not an SD 1.x / 2.x / XL single file ----------------------------------------------

RESPO_TEST(family_detection) {
  EXPECT(detectFamily(keysOf(reference("sd1").single)) == CheckpointFamily::SD1);
  EXPECT(detectFamily(keysOf(reference("sd2").single)) == CheckpointFamily::SD2);
  const std::vector<std::string> sdxl = {
      "model.diffusion_model.input_blocks.0.0.weight", "model.diffusion_model.label_emb.0.0.weight",
      "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight",
      "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight",
      "first_stage_model.encoder.conv_in.weight"};
  EXPECT(detectFamily(sdxl) == CheckpointFamily::SDXL);
  // The refiner conditions on OpenCLIP alone (conditioner.embedders.0.model.*).
  const std::vector<std::string> refiner = {"model.diffusion_model.input_blocks.0.0.weight",
                                            "conditioner.embedders.0.model.transformer.resblocks.0.attn.in_proj_weight"};
  EXPECT_THROWS(detectFamily(refiner, "refiner.safetensors"), respo::FormatError, "refiner.safetensors");
  EXPECT_THROWS(detectFamily(refiner), respo::FormatError, "the SDXL refiner is not supported");
  EXPECT_THROWS(detectFamily({"conditioner.embedders.0.transformer.text_model.final_layer_norm.weight"}),
                respo::FormatError, "no UNet tensors");
  EXPECT_THROWS(detectFamily({"foo.weight", "foo.bias", "bar.baz.weight"}), respo::FormatError,
                "no UNet tensors (model.diffusion_model.*); its 3 tensors are named foo.* (2), bar.baz.* (1)");
  EXPECT_THROWS(detectFamily(keysOf(reference("sd1").unet)), respo::FormatError, "a file of a diffusers folder?");
  EXPECT_THROWS(detectFamily({}), respo::FormatError, "holds no tensors");
  EXPECT_THROWS(detectFamily({"model.diffusion_model.out.2.weight", "first_stage_model.decoder.conv_in.weight"}),
                respo::FormatError, "no CLIP (cond_stage_model.transformer.*) or OpenCLIP");
  EXPECT_THROWS(detectFamily({"model.diffusion_model.out.2.weight", "cond_stage_model.model.ln_final.weight",
                              "cond_stage_model.transformer.text_model.final_layer_norm.weight"}),
                respo::FormatError, "both a CLIP");
}

RESPO_TEST(sdxl_conditioner_without_openclip_is_rejected_by_the_converter) {
  const Reference& r = reference("sd1");
  TensorMap sdxl;
  for (const auto& [key, tensor] : r.single) {
    const std::string clip = "cond_stage_model.transformer.";
    sdxl[key.rfind(clip, 0) == 0 ? "conditioner.embedders.0.transformer." + key.substr(clip.size()) : key] = tensor;
  }
  EXPECT_THROWS(r.convert(sdxl), respo::FormatError, "model.safetensors: not a Stable Diffusion 1.x/2.x/XL");
  EXPECT_THROWS(r.convert(sdxl), respo::FormatError, "conditioner.embedders.1.model.*");
}

// ---- damaged checkpoints and configs that do not fit ----------------------------------------------

RESPO_TEST(missing_tensors_are_listed) {
  const Reference& r1 = reference("sd1");
  TensorMap single = r1.single;
  single.erase("model.diffusion_model.output_blocks.2.1.conv.weight");  // the first up block's upsampler
  EXPECT_THROWS(r1.convert(single), respo::FormatError,
                "the UNet lacks 1 of the 304 tensors its config implies (SD 1.x layout): "
                "model.diffusion_model.output_blocks.2.1.conv.weight");

  single = r1.single;
  std::erase_if(single, [](const auto& item) { return item.first.rfind("first_stage_model.", 0) == 0; });
  EXPECT_THROWS(r1.convert(single), respo::FormatError,
                "the VAE lacks 156 of the 156 tensors its config implies (SD 1.x layout): "
                "first_stage_model.encoder.conv_in.weight, ");

  const Reference& r2 = reference("sd2");
  single = r2.single;
  single.erase("cond_stage_model.model.transformer.resblocks.1.attn.in_proj_bias");
  EXPECT_THROWS(r2.convert(single), respo::FormatError,
                "the text encoder lacks 1 of the 40 tensors its config implies (SD 2.x layout): "
                "cond_stage_model.model.transformer.resblocks.1.attn.in_proj_bias");
}

RESPO_TEST(shapes_that_do_not_fit_the_config_are_reported) {
  const Reference& r1 = reference("sd1");
  TensorMap single = r1.single;
  const std::string toK = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight";
  single[toK] = torch::zeros({32, 48});
  EXPECT_THROWS(r1.convert(single), respo::FormatError,
                "'" + toK + "' (down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight) has shape "
                "[32, 48], the config implies [32, 32]");

  // A config for another model: the context width changes every cross-attention key/value.
  auto unetConfig = r1.unetConfig;
  unetConfig["cross_attention_dim"] = 48;
  EXPECT_THROWS(convertSingleFile(r1.single, unetConfig, r1.vaeConfig, r1.textConfig), respo::FormatError,
                "UNet tensor(s) do not fit its config");
  auto vaeConfig = r1.vaeConfig;
  vaeConfig["latent_channels"] = 8;
  EXPECT_THROWS(convertSingleFile(r1.single, r1.unetConfig, vaeConfig, r1.textConfig), respo::FormatError,
                "'first_stage_model.encoder.conv_out.weight' (encoder.conv_out.weight) has shape [8, 64, 3, 3], "
                "the config implies [16, 64, 3, 3]");

  const Reference& r2 = reference("sd2");
  single = r2.single;
  single["cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight"] = torch::zeros({96, 48});
  EXPECT_THROWS(r2.convert(single), respo::FormatError,
                "has shape [96, 48], the config implies [144, 48] (q, k, v fused)");
  single = r2.single;
  single["cond_stage_model.model.positional_embedding"] = torch::zeros({77, 48}, torch::kInt32);
  EXPECT_THROWS(r2.convert(single), respo::FormatError,
                "'cond_stage_model.model.positional_embedding' (text_model.embeddings.position_embedding.weight) "
                "is not a floating-point tensor");
}

RESPO_TEST(tensors_the_config_does_not_account_for_are_reported) {
  const Reference& r1 = reference("sd1");
  TensorMap single = r1.single;
  single["model.diffusion_model.input_blocks.9.0.in_layers.0.weight"] = torch::zeros({64});
  EXPECT_THROWS(r1.convert(single), respo::FormatError,
                "1 UNet tensor(s) that its config does not account for (does the config describe this checkpoint?): "
                "model.diffusion_model.input_blocks.9.0.in_layers.0.weight");
  // SD 1.x's CLIP keeps every layer: a text config with fewer layers leaves some over.
  auto textConfig = r1.textConfig;
  textConfig["num_hidden_layers"] = 3;
  EXPECT_THROWS(convertSingleFile(r1.single, r1.unetConfig, r1.vaeConfig, textConfig), respo::FormatError,
                "16 text encoder tensor(s) that its config does not account for");
  // SD 2.x drops exactly one OpenCLIP layer, not two.
  const Reference& r2 = reference("sd2");
  textConfig = r2.textConfig;
  textConfig["num_hidden_layers"] = 2;
  EXPECT_THROWS(convertSingleFile(r2.single, r2.unetConfig, r2.vaeConfig, textConfig), respo::FormatError,
                "text encoder tensor(s) that its config does not account for (does the config describe this "
                "checkpoint?): cond_stage_model.model.transformer.resblocks.3.");
  // Training leftovers outside the three models are ignored, the discriminator of the VAE too.
  single = r1.single;
  single["optimizer.state.0.exp_avg"] = torch::zeros({2});
  single["first_stage_model.loss.discriminator.main.0.weight"] = torch::zeros({2});
  const auto converted = r1.convert(single);
  EXPECT(contains(converted.ignoredKeys, "optimizer.state.0.exp_avg"));
  EXPECT(contains(converted.ignoredKeys, "first_stage_model.loss.discriminator.main.0.weight"));
}

RESPO_TEST(config_errors_name_the_file_and_the_key) {
  const Reference& r = reference("sd1");
  auto unet = r.unetConfig;
  unet.erase("block_out_channels");
  EXPECT_THROWS(convertSingleFile(r.single, unet, r.vaeConfig, r.textConfig), respo::FormatError,
                "unet/config.json: missing 'block_out_channels'");
  unet = r.unetConfig;
  unet["down_block_types"][0] = "AttnDownBlock2D";
  EXPECT_THROWS(convertSingleFile(r.single, unet, r.vaeConfig, r.textConfig), respo::FormatError,
                "unet/config.json: down block type 'AttnDownBlock2D' is not supported");
  unet = r.unetConfig;
  unet["class_embed_type"] = "projection";
  EXPECT_THROWS(convertSingleFile(r.single, unet, r.vaeConfig, r.textConfig), respo::FormatError,
                "unet/config.json: 'class_embed_type' is not supported");
  unet = r.unetConfig;
  unet["layers_per_block"] = nlohmann::json::array({2, 2, 2});
  EXPECT_THROWS(convertSingleFile(r.single, unet, r.vaeConfig, r.textConfig), respo::FormatError,
                "unet/config.json: 'layers_per_block' has 3 entries, expected one per block (2)");
  auto vae = r.vaeConfig;
  vae["layers_per_block"] = "two";
  EXPECT_THROWS(convertSingleFile(r.single, r.unetConfig, vae, r.textConfig), respo::FormatError,
                "vae/config.json: 'layers_per_block' has the wrong type (it must be a whole number, not text \"two\")");
  auto text = r.textConfig;
  text["hidden_size"] = -1;
  EXPECT_THROWS(convertSingleFile(r.single, r.unetConfig, r.vaeConfig, text), respo::FormatError,
                "text_encoder/config.json: 'hidden_size' must be a whole number from 1 to 16384, not a whole number -1");
  EXPECT_THROWS(convertSingleFile(r.single, nlohmann::json::array(), r.vaeConfig, r.textConfig), respo::FormatError,
                "unet/config.json: expected a JSON object");
}
