// CLIP text encoder, UNet (with its bottleneck hook) and VAE against diffusers/transformers on the
// same random weights and inputs. Error measure: max |ours - reference| / max |reference|.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/models/clip_text.h"
#include "core/models/component_weights.h"
#include "core/models/winograd.h"
#include "core/models/unet.h"
#include "core/models/vae.h"
#include "tests/support/device_options.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::models;

namespace {

const respo::testing::DeviceOptions& target() {
  static const auto options = respo::testing::deviceOptions();
  return options;
}

// Inputs go to the device in the working precision (integer ids stay as they are).
torch::Tensor in(const torch::Tensor& t) {
  return t.is_floating_point() ? t.to(target().device, target().dtype) : t.to(target().device);
}

fs::path dir() { return respo::testing::option("dir"); }

double relativeError(const torch::Tensor& oursAnywhere, const torch::Tensor& reference) {
  const auto ours = oursAnywhere.to(torch::kCPU, torch::kFloat32);
  const auto scale = reference.abs().max().item<double>();
  return (ours - reference).abs().max().item<double>() / std::max(scale, 1e-12);
}

void expectClose(const std::string& what, const torch::Tensor& ours, const torch::Tensor& reference) {
  if (ours.sizes() != reference.sizes()) {
    respo::testing::recordFailure(__FILE__, __LINE__, what + ": shape differs");
    return;
  }
  const double error = relativeError(ours, reference);
  std::cout << "  " << what << " (" << target().label << "): relative error " << error << "\n";
  if (!(error <= target().componentTolerance))
    respo::testing::recordFailure(__FILE__, __LINE__, what + ": relative error " + std::to_string(error));
}

struct Expected {
  std::map<std::string, torch::Tensor> tensors;
  explicit Expected(const std::string& name)
      : tensors(io::loadAll(io::SafetensorsFile::open(dir() / (name + "_expect.safetensors")))) {}
  const torch::Tensor& operator[](const std::string& key) const { return tensors.at(key); }
};

template <typename Module, typename Config>
Module load(const std::string& name, const std::string& component) {
  const auto config = Config::fromFile(dir() / name / component / "config.json");
  Module module(config);
  auto weights = loadComponentWeights(dir() / name / component);
  if (component == "text_encoder") weights = canonicalClipTextWeights(std::move(weights));
  loadWeights(*module, weights, name + "/" + component, target().dtype, target().device);
  module->eval();
  return module;
}

void checkTextEncoder(const std::string& name) {
  torch::InferenceMode guard;
  const Expected expected(name);
  auto model = load<ClipTextModel, ClipTextConfig>(name, "text_encoder");
  const auto out = model->forward(in(expected["text.input_ids"]));
  expectClose(name + " text last_hidden_state", out.lastHiddenState, expected["text.last_hidden_state"]);
  expectClose(name + " text penultimate", out.hiddenStates[out.hiddenStates.size() - 2], expected["text.penultimate"]);
  expectClose(name + " text pooled", out.pooled, expected["text.pooled"]);
}

void checkUNet(const std::string& name) {
  torch::InferenceMode guard;
  const Expected expected(name);
  auto unet = load<UNet2DConditionModel, UNetConfig>(name, "unet");
  const auto sample = in(expected["unet.sample"]);
  const auto t = expected["unet.timestep"].to(target().device);
  const auto context = in(expected["unet.context"]);
  expectClose(name + " unet", unet->forward(sample, t, context), expected["unet.out"]);

  // The hook sees the mid block's output and the branch of each row; it changes the conditional row only.
  UNetExtras extras;
  extras.branches = {GuidanceBranch::Unconditional, GuidanceBranch::Conditional};
  torch::Tensor seen;
  const auto delta = in(expected["unet.delta"]);
  extras.bottleneckHook = [&](const torch::Tensor& h, const BottleneckContext& info) {
    seen = h.clone();
    EXPECT_EQ(info.branches.size(), 2u);
    EXPECT_EQ(info.timestep.size(0), 2);
    auto mask = in(torch::tensor({0.0f, 1.0f}).view({2, 1, 1, 1}));
    return h + mask * delta;
  };
  expectClose(name + " unet with bottleneck hook", unet->forward(sample, t, context, extras), expected["unet.out_hooked"]);
  REQUIRE(seen.defined());
  expectClose(name + " unet mid-block output (h)", seen, expected["unet.mid"]);
  EXPECT(unet->bottleneckShape(16, 16) == std::vector<int64_t>(seen.sizes().begin() + 1, seen.sizes().end()));
}

void checkVae(const std::string& name) {
  torch::InferenceMode guard;
  const Expected expected(name);
  auto vae = load<AutoencoderKL, VaeConfig>(name, "vae");
  expectClose(name + " vae decode", vae->decode(in(expected["vae.latents"])), expected["vae.decoded"]);
  expectClose(name + " vae encode mean", vae->encode(in(expected["vae.image"])).first, expected["vae.mean"]);
  // Tiled decoding: 4 x 2 tiles with thin ones at the edges, blended as diffusers blends them.
  const auto latents = in(expected["vae.tiled_latents"]);
  EXPECT_EQ(vae->tileLatentSize(), 16);
  const auto tiled = vae->decodeTiled(latents);
  expectClose(name + " vae tiled decode", tiled, expected["vae.tiled_decoded"]);
  EXPECT((vae->decode(latents) - tiled).abs().max().item<double>() > 1e-3);  // the tiles are not the whole
  // Latents that fit in one tile decode whole.
  const auto small = in(expected["vae.latents"]);
  EXPECT(torch::equal(vae->decodeTiled(small), vae->decode(small)));
}

}  // namespace

RESPO_TEST(sd1_text_encoder) { checkTextEncoder("sd1"); }
RESPO_TEST(sd2_text_encoder) { checkTextEncoder("sd2"); }
RESPO_TEST(sd1_unet_and_bottleneck_hook) { checkUNet("sd1"); }
RESPO_TEST(sd2_unet_and_bottleneck_hook) { checkUNet("sd2"); }
RESPO_TEST(sd1_vae) { checkVae("sd1"); }
RESPO_TEST(sd2_vae) { checkVae("sd2"); }

RESPO_TEST(full_size_sd15_unet_one_step) {
  torch::InferenceMode guard;
  const auto expected = io::loadAll(io::SafetensorsFile::open(dir() / "sd15_unet_expect.safetensors"));
  auto unet = load<UNet2DConditionModel, UNetConfig>("sd15_unet", "unet");
  auto call = [&] {
    return unet->forward(in(expected.at("unet.sample")), expected.at("unet.timestep").to(target().device),
                         in(expected.at("unet.context")));
  };
  const auto direct = call();
  expectClose("full-size SD1.5 unet (64x64 latent)", direct, expected.at("unet.out"));
  if (target().device.is_cpu() && target().dtype == torch::kFloat32) {
    // Winograd convolutions (--convolutions winograd) keep parity at the same tolerance.
    const auto saved = winograd::mode();
    winograd::setMode(winograd::Mode::Auto);
    const auto fast = call();
    winograd::setMode(saved);
    expectClose("full-size SD1.5 unet (64x64 latent), Winograd convolutions", fast, expected.at("unet.out"));
    EXPECT(!torch::equal(fast, direct));  // the Winograd path was taken
  }
}

RESPO_TEST(fp16_variant_files_load_into_the_same_model) {
  torch::InferenceMode guard;
  const Expected expected("sd1");
  const auto weights = loadComponentWeights(dir() / "sd1" / "unet", "fp16");
  REQUIRE(weights.at("conv_in.weight").scalar_type() == torch::kFloat16);
  UNet2DConditionModel unet(UNetConfig::fromFile(dir() / "sd1" / "unet" / "config.json"));
  loadWeights(*unet, weights, "sd1/unet (fp16)", torch::kFloat32, torch::kCPU);
  const auto out = unet->forward(expected["unet.sample"], expected["unet.timestep"], expected["unet.context"]);
  const double error = relativeError(out, expected["unet.out"]);
  std::cout << "  sd1 unet from fp16 files, computed in fp32: relative error " << error << "\n";
  EXPECT(error < 1e-2);
  EXPECT_THROWS(loadComponentWeights(dir() / "sd1" / "unet", "bf16"), IoError, "no weights found");
}

RESPO_TEST(weights_that_do_not_fit_the_config_are_named) {
  auto config = UNetConfig::fromFile(dir() / "sd1" / "unet" / "config.json");
  config.crossAttentionDim = 40;
  UNet2DConditionModel unet(config);
  EXPECT_THROWS(loadWeights(*unet, loadComponentWeights(dir() / "sd1" / "unet"), "sd1/unet", torch::kFloat32, torch::kCPU),
                FormatError, "attn2.to_k.weight is [64, 32] in the file but the config needs [64, 40]");
  auto vaeConfig = VaeConfig::fromFile(dir() / "sd1" / "vae" / "config.json");
  vaeConfig.useQuantConv = false;
  AutoencoderKL vae(vaeConfig);
  EXPECT_THROWS(loadWeights(*vae, loadComponentWeights(dir() / "sd1" / "vae"), "sd1/vae", torch::kFloat32, torch::kCPU),
                FormatError, "weights the model does not have");
}

RESPO_TEST(bad_configs_are_clear_errors) {
  EXPECT_THROWS(UNetConfig::fromJson(nlohmann::json::parse(R"({"block_out_channels": "wide"})")), FormatError,
                "'block_out_channels' has the wrong type");
  EXPECT_THROWS(UNetConfig::fromJson(nlohmann::json::parse(R"({"block_out_channels": [32, 64], "down_block_types": ["DownBlock2D"]})")),
                FormatError, "must have the same length");
  EXPECT_THROWS(UNetConfig::fromJson(nlohmann::json::parse(R"({"class_embed_type": "timestep"})")), FormatError,
                "'class_embed_type' is not supported");
  EXPECT_THROWS(ClipTextConfig::fromJson(nlohmann::json::parse(R"({"hidden_act": "relu"})")), FormatError,
                "hidden_act 'relu'");
  EXPECT_THROWS(VaeConfig::fromFile(dir() / "missing" / "config.json"), IoError, "cannot open");
}

RESPO_TEST(pickle_files_are_refused) {
  const fs::path folder = fs::temp_directory_path() / "respodiff-pickle-test";
  fs::create_directories(folder);
  std::ofstream(folder / "diffusion_pytorch_model.bin") << "not opened";
  EXPECT_THROWS(loadComponentWeights(folder), FormatError, "never opens: unpickling runs code");
  fs::remove_all(folder);
}
