// SDXL against diffusers' StableDiffusionXLPipeline on the random-weight SDXL-shaped model written by
// tests/reference/sdxl_reference.py: both text encoders, the pipeline's prompt encoding (pooled
// output, zeros for an empty negative prompt), one UNet call with added conditioning and the
// bottleneck hook, the VAE, whole generations; the single-file checkpoint against the folder; and
// the errors for checkpoints and configs that do not fit. Error measure: max |ours - ref| / max |ref|.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/models/component_weights.h"
#include "core/models/single_file.h"
#include "core/models/single_file_map.h"
#include "core/pipeline/builtin_configs.h"
#include "core/pipeline/text_to_image.h"
#include "tests/support/device_options.h"
#include "tests/support/pipeline_runs.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::pipeline;
using TensorMap = std::map<std::string, torch::Tensor>;

namespace {

fs::path dir() { return respo::testing::option("dir"); }

const respo::testing::DeviceOptions& target() {
  static const auto options = respo::testing::deviceOptions();
  return options;
}

torch::Tensor in(const torch::Tensor& t) {
  return t.is_floating_point() ? t.to(target().device, target().dtype) : t.to(target().device);
}

const TensorMap& expected() {
  static const auto tensors = io::loadAll(io::SafetensorsFile::open(dir() / "sdxl_expect.safetensors"));
  return tensors;
}
const torch::Tensor& expect(const std::string& key) { return expected().at(key); }

LoadOptions loadOptions() {
  LoadOptions options;
  options.device = target().device;
  options.dtype = target().dtype;
  return options;
}

StableDiffusionModel& model() {
  static auto m = loadStableDiffusion(dir() / "sdxl", loadOptions());
  return m;
}

double relativeError(const torch::Tensor& ours, const torch::Tensor& reference) {
  const auto scale = reference.abs().max().item<double>();
  return (ours.to(torch::kCPU, torch::kFloat32) - reference).abs().max().item<double>() / std::max(scale, 1e-12);
}

void expectClose(const std::string& what, const torch::Tensor& ours, const torch::Tensor& reference,
                 double tolerance = target().componentTolerance) {
  if (ours.sizes() != reference.sizes()) {
    respo::testing::recordFailure(__FILE__, __LINE__, what + ": shape differs");
    return;
  }
  const double error = relativeError(ours, reference);
  std::cout << "  sdxl " << what << " (" << target().label << "): relative error " << error << "\n";
  if (!(error <= tolerance)) respo::testing::recordFailure(__FILE__, __LINE__, what + ": relative error " + std::to_string(error));
}

nlohmann::json readJson(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

RESPO_TEST(the_folder_loads_as_a_two_encoder_model) {
  auto& m = model();
  EXPECT_EQ(m.family, std::string("StableDiffusionXLPipeline"));
  REQUIRE(m.textEncoder2);
  REQUIRE(m.tokenizer2);
  EXPECT(m.textConditioning.penultimateOfEachEncoder);
  EXPECT(m.textConditioning.zerosForEmptyNegative);
  // The VAE's scaling factor and the scheduler come from the folder's configs.
  EXPECT_EQ(m.vae->config().scalingFactor, readJson(dir() / "sdxl" / "vae" / "config.json")["scaling_factor"].get<double>());
  EXPECT_EQ(m.schedulerConfig.className, std::string("EulerDiscreteScheduler"));
  EXPECT_EQ(m.schedulerConfig.timestepSpacing, std::string("leading"));
}

RESPO_TEST(both_text_encoders_match_transformers) {
  torch::InferenceMode guard;
  const auto ids = in(expect("text.input_ids"));
  const auto one = model().textEncoder->forward(ids);
  const auto two = model().textEncoder2->forward(ids);
  expectClose("text encoder 1 hidden_states[-2]", one.hiddenStates[one.hiddenStates.size() - 2], expect("text1.penultimate"));
  expectClose("text encoder 1 last_hidden_state", one.lastHiddenState, expect("text1.last_hidden_state"));
  expectClose("text encoder 2 hidden_states[-2]", two.hiddenStates[two.hiddenStates.size() - 2], expect("text2.penultimate"));
  expectClose("text encoder 2 pooled text_embeds", two.textEmbeds, expect("text2.text_embeds"));
}

RESPO_TEST(prompt_encoding_matches_the_pipeline_with_zeros_for_an_empty_negative) {
  torch::InferenceMode guard;
  const auto cond = encodePrompt(model(), "a photo of a doctor");
  expectClose("encode_prompt context", cond.context, expect("encode.zeros.context"));
  expectClose("encode_prompt pooled", cond.pooled, expect("encode.zeros.pooled"));
  const auto zeros = encodeNegativePrompt(model(), "", cond);
  EXPECT(torch::equal(zeros.context.to(torch::kCPU, torch::kFloat32), expect("encode.zeros.negative_context")));
  EXPECT(torch::equal(zeros.pooled.to(torch::kCPU, torch::kFloat32), expect("encode.zeros.negative_pooled")));
  const auto negative = encodeNegativePrompt(model(), "blurry", cond);
  expectClose("encode_prompt negative context", negative.context, expect("encode.blurry.negative_context"));
  expectClose("encode_prompt negative pooled", negative.pooled, expect("encode.blurry.negative_pooled"));
}

RESPO_TEST(unet_with_added_conditioning_and_bottleneck_hook) {
  torch::InferenceMode guard;
  auto& unet = model().unet;
  const auto sample = in(expect("unet.sample"));
  const auto t = expect("unet.timestep").to(target().device);
  const auto context = in(expect("unet.context"));
  models::UNetExtras extras;
  extras.textEmbeds = in(expect("unet.text_embeds"));
  extras.timeIds = in(expect("unet.time_ids"));
  expectClose("unet (text_time)", unet->forward(sample, t, context, extras), expect("unet.out"));
  models::UNetExtras without;
  EXPECT_THROWS(unet->forward(sample, t, context, without), InvalidArgument, "pooled text embeddings and time ids");

  extras.branches = {models::GuidanceBranch::Unconditional, models::GuidanceBranch::Conditional};
  torch::Tensor seen;
  const auto delta = in(expect("unet.delta"));
  extras.bottleneckHook = [&](const torch::Tensor& h, const models::BottleneckContext&) {
    seen = h.clone();
    return h + in(torch::tensor({0.0f, 1.0f}).view({2, 1, 1, 1})) * delta;
  };
  expectClose("unet with bottleneck hook", unet->forward(sample, t, context, extras), expect("unet.out_hooked"));
  REQUIRE(seen.defined());
  expectClose("unet mid-block output (h)", seen, expect("unet.mid"));
  EXPECT(unet->bottleneckShape(16, 16) == std::vector<int64_t>(seen.sizes().begin() + 1, seen.sizes().end()));
}

RESPO_TEST(vae_decode) {
  torch::InferenceMode guard;
  expectClose("vae decode", model().vae->decode(in(expect("vae.latents"))), expect("vae.decoded"));
}

RESPO_TEST(in_fp16_the_vae_decodes_in_fp32_as_force_upcast_asks) {
  torch::InferenceMode guard;
  auto options = loadOptions();
  options.dtype = torch::kFloat16;
  auto half = loadStableDiffusion(dir() / "sdxl", options);
  EXPECT(half.vaeUpcastInFp16);
  const auto latents = in(expect("vae.latents")) * half.vae->config().scalingFactor;
  const auto decoded = TextToImagePipeline(half).decode(latents);
  EXPECT(half.vae->parameters().front().scalar_type() == torch::kFloat16);  // back in fp16 afterwards
  // The same fp16-stored weights computing in fp32 give exactly this image.
  half.vae->to(torch::kFloat32);
  const auto fp32 =
      (half.vae->decode(latents.to(torch::kFloat32) / half.vae->config().scalingFactor) / 2 + 0.5).clamp(0, 1).to(torch::kCPU);
  half.vae->to(torch::kFloat16);
  EXPECT(torch::equal(decoded, fp32));
  // And it is within fp16's rounding of the weights of diffusers' fp32 decode.
  const double error = relativeError(decoded, (expect("vae.decoded") / 2 + 0.5).clamp(0, 1));
  std::cout << "  sdxl vae decode of an fp16 model (upcast to fp32): relative error " << error << "\n";
  EXPECT(error < 2e-2);
}

RESPO_TEST(images_match_diffusers) {
  const auto runs = readJson(dir() / "sdxl_pipeline_runs.json");
  TextToImagePipeline pipeline(model());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto request = respo::testing::requestFromRun(runs[i]);
    const auto images = pipeline.generate(request).images;
    const std::string what = "image (" + (request.scheduler.empty() ? std::string("model's scheduler") : request.scheduler) +
                             ", " + std::to_string(request.steps) + " steps, cfg " + std::to_string(request.guidanceScale) +
                             (request.negativePrompt.empty() ? "" : ", negative prompt") +
                             (request.width ? ", " + std::to_string(request.width) + "x" + std::to_string(request.height) : "") + ")";
    expectClose(what, images, expect("pipe." + std::to_string(i)), target().imageTolerance);
  }
}

// ---- the single-file checkpoint ----------------------------------------------------------------

RESPO_TEST(single_file_converts_to_the_folder_tensor_for_tensor) {
  const auto checkpoint = io::loadAll(io::SafetensorsFile::open(dir() / "sdxl.safetensors"));
  const fs::path folder = dir() / "sdxl";
  models::CheckpointConfigs configs{readJson(folder / "unet" / "config.json"), readJson(folder / "vae" / "config.json"),
                                    readJson(folder / "text_encoder" / "config.json"),
                                    readJson(folder / "text_encoder_2" / "config.json")};
  const auto converted = models::convertSingleFile(checkpoint, configs, "sdxl.safetensors");
  EXPECT(converted.family == models::CheckpointFamily::SDXL);
  const std::pair<const TensorMap*, TensorMap> parts[] = {
      {&converted.unet, models::loadComponentWeights(folder / "unet")},
      {&converted.vae, models::loadComponentWeights(folder / "vae")},
      {&converted.textEncoder, models::canonicalClipTextWeights(models::loadComponentWeights(folder / "text_encoder"))},
      {&converted.textEncoder2, models::canonicalClipTextWeights(models::loadComponentWeights(folder / "text_encoder_2"))}};
  std::size_t identical = 0, total = 0;
  for (const auto& [got, want] : parts) {
    EXPECT_EQ(got->size(), want.size());
    for (const auto& [key, tensor] : want) {
      ++total;
      const auto found = got->find(key);
      if (found == got->end()) respo::testing::recordFailure(__FILE__, __LINE__, "single file lacks " + key);
      else if (!torch::equal(found->second, tensor)) respo::testing::recordFailure(__FILE__, __LINE__, key + " differs");
      else ++identical;
    }
  }
  std::cout << "  sdxl single file: " << identical << "/" << total << " tensors identical to the folder's; "
            << converted.ignoredKeys.size() << " ignored\n";
  EXPECT_EQ(identical, total);

  // Damaged: the projection missing, or stored the wrong way round.
  auto damaged = checkpoint;
  damaged.erase("conditioner.embedders.1.model.text_projection");
  EXPECT_THROWS(models::convertSingleFile(damaged, configs, "x.safetensors"), FormatError,
                "the text encoder 2 lacks 1 of the");
  damaged = checkpoint;
  damaged["conditioner.embedders.1.model.text_projection"] = checkpoint.at("conditioner.embedders.1.model.text_projection").t();
  EXPECT_THROWS(models::convertSingleFile(damaged, configs, "x.safetensors"), FormatError, "(stored transposed)");
  damaged = checkpoint;
  damaged.erase("model.diffusion_model.label_emb.0.2.weight");
  EXPECT_THROWS(models::convertSingleFile(damaged, configs, "x.safetensors"), FormatError,
                "model.diffusion_model.label_emb.0.2.weight");
  // Without the second encoder's config an SDXL file cannot be converted.
  configs.textEncoder2 = nullptr;
  EXPECT_THROWS(models::convertSingleFile(checkpoint, configs, "x.safetensors"), FormatError, "both text encoders");
}

RESPO_TEST(single_file_gives_the_same_image_as_the_folder) {
  auto options = loadOptions();
  options.configFolder = dir() / "sdxl";
  auto single = loadStableDiffusion(dir() / "sdxl.safetensors", options);
  EXPECT_EQ(single.family, std::string("sdxl"));
  GenerationRequest request;
  request.prompt = "a photo of a doctor";
  request.steps = 2;
  request.seed = 9;
  TextToImagePipeline fromFile(single), fromFolder(model());
  EXPECT(torch::equal(fromFile.generate(request).images, fromFolder.generate(request).images));
  // Without --config-from the published SDXL base configs are assumed, which this small file does not fit.
  EXPECT_THROWS(loadStableDiffusion(dir() / "sdxl.safetensors"), FormatError,
                "the published SDXL configs were assumed; for another shape pass --config-from DIR");
}

bool samePlan(const models::single_file::Plan& a, const models::single_file::Plan& b) {
  if (a.entries.size() != b.entries.size() || a.ignorablePrefixes != b.ignorablePrefixes) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const auto &x = a.entries[i], &y = b.entries[i];
    if (x.ldm != y.ldm || x.diffusers != y.diffusers || x.shape != y.shape || x.layout != y.layout) return false;
  }
  return true;
}

RESPO_TEST(builtin_sdxl_configs_equal_the_configs_diffusers_writes_for_sdxl_base) {
  // The built-in configs (a single file without --config-from) against SDXL base's configs as
  // diffusers/transformers write them, every default filled in: the same models and the same
  // single-file mapping, tensor name for tensor name and shape for shape.
  namespace sf = models::single_file;
  const auto c = builtinConfigs("sdxl");
  const fs::path folder = dir() / "sdxl_base_configs";
  const auto unetJson = readJson(folder / "unet" / "config.json"), vaeJson = readJson(folder / "vae" / "config.json");
  const auto text1Json = readJson(folder / "text_encoder" / "config.json");
  const auto text2Json = readJson(folder / "text_encoder_2" / "config.json");
  const auto plan = sf::unetPlan(c.unet);
  EXPECT(samePlan(plan, sf::unetPlan(unetJson)));
  EXPECT(samePlan(sf::vaePlan(c.vae), sf::vaePlan(vaeJson)));
  const sf::TextLayout clip{false, "conditioner.embedders.0.", "conditioner.embedders.0.transformer.text_model.", 0};
  const sf::TextLayout openClip{true, "conditioner.embedders.1.", "conditioner.embedders.1.model.", 0, "text encoder 2"};
  EXPECT(samePlan(sf::textPlan(clip, c.textEncoder), sf::textPlan(clip, text1Json)));
  EXPECT(samePlan(sf::textPlan(openClip, c.textEncoder2), sf::textPlan(openClip, text2Json)));
  std::cout << "  built-in SDXL configs: " << plan.entries.size() << " UNet tensors mapped as from diffusers' config\n";

  const auto unet = models::UNetConfig::fromJson(c.unet), reference = models::UNetConfig::fromJson(unetJson);
  EXPECT_EQ(unet.sampleSize, reference.sampleSize);
  EXPECT(unet.transformerLayers == reference.transformerLayers);
  EXPECT(unet.attentionHeads == reference.attentionHeads);
  EXPECT_EQ(unet.additionTimeEmbedDim, reference.additionTimeEmbedDim);
  EXPECT_EQ(unet.useLinearProjection, reference.useLinearProjection);
  EXPECT_EQ(unet.upcastAttention, reference.upcastAttention);
  const auto vae = models::VaeConfig::fromJson(c.vae), vaeReference = models::VaeConfig::fromJson(vaeJson);
  EXPECT_EQ(vae.scalingFactor, vaeReference.scalingFactor);
  EXPECT_EQ(vae.forceUpcast, vaeReference.forceUpcast);
  EXPECT_EQ(vae.sampleSize, vaeReference.sampleSize);
  for (const auto& [ours, theirs] : {std::pair{c.textEncoder, text1Json}, std::pair{c.textEncoder2, text2Json}}) {
    const auto a = models::ClipTextConfig::fromJson(ours), b = models::ClipTextConfig::fromJson(theirs);
    EXPECT(a.hiddenSize == b.hiddenSize && a.intermediateSize == b.intermediateSize && a.layers == b.layers &&
           a.heads == b.heads && a.activation == b.activation && a.eosTokenId == b.eosTokenId &&
           a.projectionDim == b.projectionDim && a.layerNormEps == b.layerNormEps);
  }
  EXPECT(sched::SchedulerConfig::fromJson(c.scheduler) ==
         sched::SchedulerConfig::fromFile(folder / "scheduler" / "scheduler_config.json"));
  // And the models they describe fit each other (the rule every load is checked with).
  EXPECT_EQ(unet.crossAttentionDim, models::ClipTextConfig::fromJson(c.textEncoder).hiddenSize +
                                        models::ClipTextConfig::fromJson(c.textEncoder2).hiddenSize);
  EXPECT_EQ(unet.projectionClassEmbeddingsInputDim,
            models::ClipTextConfig::fromJson(c.textEncoder2).projectionDim + 6 * unet.additionTimeEmbedDim);
}

RESPO_TEST(a_model_whose_unet_does_not_fit_its_text_encoders_is_refused) {
  auto misfit = model();  // shares the modules
  misfit.textEncoder2 = models::ClipTextModel(nullptr);
  EXPECT_THROWS(checkConditioningFits(misfit, "misfit"), FormatError,
                "cross_attention_dim is " + std::to_string(model().unet->config().crossAttentionDim));
  const fs::path copy = fs::temp_directory_path() / ("respodiff-sdxl-misfit-" + std::to_string(::getpid()));
  fs::remove_all(copy);
  fs::copy(dir() / "sdxl", copy, fs::copy_options::recursive);
  auto index = readJson(copy / "model_index.json");
  index["_class_name"] = "StableDiffusion3Pipeline";
  std::ofstream(copy / "model_index.json") << index.dump();
  EXPECT_THROWS(loadStableDiffusion(copy), FormatError, "pipeline 'StableDiffusion3Pipeline' is not supported");
  fs::remove_all(copy);
}
