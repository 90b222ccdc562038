// Step caching (models::StepCache, the DeepCache-style speed mode) on the embedded toy-world model:
// a reusing call on the inputs of the call that stored the features gives that call's output, the
// deep path and the bottleneck hook are skipped on reusing calls, another batch or size computes
// afresh, generation with the mode on stays close to full computation and keeps a concept edit in
// effect, and the setting is validated and recorded.
#include <filesystem>
#include <iostream>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/trainer.h"
#include "tests/support/option_model.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::pipeline;

namespace {

StableDiffusionModel& toy() { return respo::testing::optionModel(); }

struct Inputs {
  torch::Tensor sample, context;
};

Inputs inputs(int64_t batch, int64_t side) {
  auto generator = at::detail::createCPUGenerator(5);
  const auto& config = toy().unet->config();
  return {torch::randn({batch, config.inChannels, side, side}, generator),
          torch::randn({batch, 77, config.crossAttentionDim}, generator)};
}

int64_t firstBlockLayers() { return toy().unet->config().layersPerBlock.front(); }

GenerationRequest request(int stepCache) {
  GenerationRequest r;
  r.prompt = "a red circle on a blue background";
  r.steps = 8;
  r.seed = 11;
  r.scheduler = "ddim";
  r.stepCache = stepCache;
  return r;
}

double meanAbs(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().mean().item<double>(); }

}  // namespace

RESPO_TEST(a_reusing_call_on_the_storing_inputs_gives_the_full_output) {
  torch::InferenceMode guard;
  auto& unet = toy().unet;
  const auto in = inputs(2, unet->config().sampleSize);
  const auto t = torch::tensor({500.0f, 500.0f});
  const auto plain = unet->forward(in.sample, t, in.context);
  for (int shallow = 1; shallow <= firstBlockLayers(); ++shallow) {
    models::UNetExtras extras;
    extras.stepCache = std::make_shared<models::StepCache>();
    extras.stepCache->shallowLayers = shallow;
    const auto stored = unet->forward(in.sample, t, in.context, extras);
    EXPECT(torch::equal(stored, plain));  // storing changes nothing
    extras.stepCache->reuse = true;
    const auto reused = unet->forward(in.sample, t, in.context, extras);
    // Same deep features, same shallow inputs: only the skip bookkeeping could make these differ.
    EXPECT(torch::allclose(reused, plain, 1e-5, 1e-5));
    EXPECT_EQ(extras.stepCache->fullCalls, 1);
    EXPECT_EQ(extras.stepCache->reusedCalls, 1);
  }
}

RESPO_TEST(a_reusing_call_skips_the_deep_path_and_the_hook) {
  torch::InferenceMode guard;
  auto& unet = toy().unet;
  const auto in = inputs(1, unet->config().sampleSize);
  int hookCalls = 0;
  models::UNetExtras extras;
  extras.bottleneckHook = [&](const torch::Tensor& h, const models::BottleneckContext&) {
    ++hookCalls;
    return h;
  };
  extras.stepCache = std::make_shared<models::StepCache>();
  unet->forward(in.sample, torch::tensor({600.0f}), in.context, extras);
  extras.stepCache->reuse = true;
  const auto reused = unet->forward(in.sample, torch::tensor({550.0f}), in.context, extras);
  const auto full = unet->forward(in.sample, torch::tensor({550.0f}), in.context);
  EXPECT_EQ(hookCalls, 1);
  // The shallow branch saw the new timestep, the deep features are the old one's: close, not equal.
  EXPECT(!torch::equal(reused, full));
  EXPECT(meanAbs(reused, full) < 0.5 * full.abs().mean().item<double>());
}

RESPO_TEST(a_call_split_at_the_bottleneck_equals_a_hooked_call) {
  // encode/decode (the concept trainer's shared down path) against forward with a bottleneck hook.
  torch::InferenceMode guard;
  auto& unet = toy().unet;
  const auto in = inputs(2, unet->config().sampleSize);
  const auto t = torch::tensor({420.0f, 420.0f});
  const auto down = unet->encode(in.sample, t, in.context);
  const auto delta = torch::full_like(down.bottleneck, 0.25f);
  models::UNetExtras extras;
  extras.bottleneckHook = [&](const torch::Tensor& h, const models::BottleneckContext&) { return h + delta; };
  EXPECT(torch::equal(unet->decode(down, down.bottleneck + delta), unet->forward(in.sample, t, in.context, extras)));
  EXPECT(torch::equal(unet->decode(down, down.bottleneck), unet->forward(in.sample, t, in.context)));
  // Decoding twice from one down path: the first decode must leave the skips for the second.
  EXPECT(torch::equal(unet->decode(down, down.bottleneck), unet->decode(down, down.bottleneck)));
  // One row of the batch: the row's own call (up to the CPU's batch-size rounding).
  const auto row = down.rows(1, 1);
  const auto alone = unet->forward(in.sample.narrow(0, 1, 1), t.narrow(0, 1, 1), in.context.narrow(0, 1, 1));
  EXPECT(torch::allclose(unet->decode(row, row.bottleneck), alone, 1e-5, 1e-5));
  EXPECT_THROWS(unet->decode(down, row.bottleneck), InvalidArgument, "must have the encoded shape");
}

RESPO_TEST(another_batch_or_size_computes_afresh) {
  torch::InferenceMode guard;
  auto& unet = toy().unet;
  const int64_t side = unet->config().sampleSize;
  models::UNetExtras extras;
  extras.stepCache = std::make_shared<models::StepCache>();
  const auto two = inputs(2, side);
  unet->forward(two.sample, torch::tensor({500.0f}), two.context, extras);
  extras.stepCache->reuse = true;
  const auto one = inputs(1, side);
  const auto out = unet->forward(one.sample, torch::tensor({500.0f}), one.context, extras);
  EXPECT(torch::equal(out, unet->forward(one.sample, torch::tensor({500.0f}), one.context)));
  const auto bigger = inputs(1, side + 8);
  unet->forward(bigger.sample, torch::tensor({500.0f}), bigger.context, extras);
  EXPECT_EQ(extras.stepCache->fullCalls, 3);
  EXPECT_EQ(extras.stepCache->reusedCalls, 0);
  extras.stepCache->shallowLayers = static_cast<int>(firstBlockLayers()) + 1;
  EXPECT_THROWS(unet->forward(one.sample, torch::tensor({500.0f}), one.context, extras), InvalidArgument,
                "shallow branch must have 1 to");
}

RESPO_TEST(generation_with_step_caching_stays_close_and_keeps_the_edit) {
  TextToImagePipeline pipeline(toy());
  const auto full = pipeline.generate(request(0)).images;
  EXPECT(torch::equal(pipeline.generate(request(1)).images, full));  // 1: every step full
  const auto every2 = pipeline.generate(request(2)).images;
  const auto every3 = pipeline.generate(request(3)).images;
  const double d2 = meanAbs(every2, full), d3 = meanAbs(every3, full);
  std::cout << "mean |difference| to full computation (pixels in [0, 1]): every 2nd step " << d2 << ", every 3rd "
            << d3 << "\n";
  EXPECT(d2 > 0);
  EXPECT(d2 < 0.08);
  EXPECT(d3 < 0.12);
  EXPECT(pipeline.generate(request(2)).images.equal(every2));  // deterministic

  // The hook runs on full calls only (8 steps, every 2nd full: 4 calls), and its edit still shows.
  int calls = 0;
  const auto shape = toy().unet->bottleneckShape(toy().unet->config().sampleSize, toy().unet->config().sampleSize);
  const auto shift = torch::full({1, shape[0], shape[1], shape[2]}, 0.5f);
  models::BottleneckHook hook = [&](const torch::Tensor& h, const models::BottleneckContext&) {
    ++calls;
    return h + shift;
  };
  const auto edited = pipeline.generate(request(2), {}, hook).images;
  EXPECT_EQ(calls, 4);
  const auto editedFull = pipeline.generate(request(0), {}, hook).images;
  std::cout << "edit's effect: full " << meanAbs(editedFull, full) << ", cached " << meanAbs(edited, every2) << "\n";
  EXPECT(meanAbs(edited, every2) > 0.5 * meanAbs(editedFull, full));
}

RESPO_TEST(the_setting_is_validated_and_recorded) {
  auto r = request(2);
  r.width = r.height = 64;
  const auto text = formatParameters(r, "toy");
  EXPECT(text.find("Step cache: 2") != std::string::npos);
  EXPECT_EQ(parseParameters(text).stepCache, 2);
  EXPECT(formatParameters(request(0), "toy").find("Step cache") == std::string::npos);
  EXPECT_EQ(parseParameters(formatParameters(request(0), "toy")).stepCache, 0);
  r.stepCache = kMaxStepCache + 1;
  EXPECT_THROWS(r.validateSettings(), InvalidArgument, "step caching must be 0 (off)");
  r.stepCache = -1;
  EXPECT_THROWS(r.validateSettings(), InvalidArgument, "step caching");
  EXPECT_THROWS(parseParameters("x\nSteps: 4, Seed: 1, Step cache: 99"), FormatError, "Step cache");
}

RESPO_TEST(half_precision_weight_storage_keeps_the_fingerprint_and_the_picture) {
  LoadOptions half;
  half.weightStorage = torch::kFloat16;
  auto stored = loadStableDiffusion(respo::testing::option("model"), half);
  auto bytes = [](auto& module) {
    int64_t n = 0;
    for (const auto& p : module->parameters()) n += p.numel() * static_cast<int64_t>(p.element_size());
    return n;
  };
  const int64_t full = bytes(toy().unet) + bytes(toy().textEncoder) + bytes(toy().vae);
  const int64_t small = bytes(stored.unet) + bytes(stored.textEncoder) + bytes(stored.vae);
  std::cout << "weights: fp32 storage " << full / 1024 << " KiB, fp16 storage " << small / 1024 << " KiB (UNet "
            << bytes(toy().unet) / 1024 << " -> " << bytes(stored.unet) / 1024 << " KiB)\n";
  // The UNet is nearly all matrix and convolution weights; the text encoder keeps its embeddings.
  EXPECT(bytes(stored.unet) < 0.6 * bytes(toy().unet));
  EXPECT(small < full);
  EXPECT(stored.dtype == torch::kFloat32);  // computation stays fp32
  // The modules trained on the fp32 model still fit: the fingerprint reads weights kept in fp32.
  EXPECT_EQ(concepts::modelFingerprint(stored.unet), concepts::modelFingerprint(toy().unet));
  TextToImagePipeline a(toy()), b(stored);
  const auto reference = a.generate(request(0)).images, halfImages = b.generate(request(0)).images;
  const double difference = meanAbs(reference, halfImages);
  std::cout << "mean |difference| of fp16 storage to fp32 (pixels in [0, 1]): " << difference << "\n";
  EXPECT(difference < 5e-3);
}
