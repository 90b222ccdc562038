// respodiff benchmark: in-process timings (generation, one UNet call, loading, a training step, concept overhead).
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <torch/cuda.h>

#include "app/command_line.h"
#include "core/common/error.h"
#include "core/io/image.h"
#include "core/io/safetensors.h"
#include "core/models/component_weights.h"
#include "core/models/op_profile.h"
#include "core/models/winograd.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/composition.h"
#include "core/respo/reference_import.h"
#include "core/respo/responsible_generation.h"
#include "core/respo/trainer.h"
#include "core/text/clip_tokenizer.h"
#include "gpu/compute_device.h"
#include "app/cli_commands.h"

namespace respo::app {
namespace {

// The process's peak resident memory so far.
double peakRssMib() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// A field of /proc/self/status in MiB (VmRSS: now; VmHWM: peak since start or since resetPeakRss); -1 if absent.
double statusMib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  return -1;
}

// Starts a new peak (Linux: VmHWM restarts from the current resident size).
void resetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

double secondsOf(const std::function<void()>& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The median times of `a` and `b` run alternately `repeat` times each, after one warm-up of each.
std::vector<double> alternatingMedians(int repeat, const std::vector<std::function<void()>>& arms) {
  for (const auto& arm : arms) arm();
  std::vector<std::vector<double>> times(arms.size());
  for (int i = 0; i < repeat; ++i)
    for (std::size_t k = 0; k < arms.size(); ++k) times[k].push_back(secondsOf(arms[k]));
  std::vector<double> medians;
  for (auto& t : times) {
    std::sort(t.begin(), t.end());
    medians.push_back(t[t.size() / 2]);
  }
  return medians;
}

std::pair<double, double> alternatingMedians(int repeat, const std::function<void()>& a, const std::function<void()>& b) {
  const auto medians = alternatingMedians(repeat, {a, b});
  return {medians[0], medians[1]};
}

// A stand-in for a concept module on any model: a constant shift of the bottleneck, which costs what
// a trained module's addition costs.
class ConstantShift final : public respo::responsible::Intervention {
 public:
  explicit ConstantShift(torch::Tensor shift) : shift_(std::move(shift)) {}
  std::string kind() const override { return "shift"; }
  void prepare(respo::pipeline::StableDiffusionModel&, const respo::pipeline::GenerationRequest&,
               respo::responsible::RunEdits& edits) const override {
    edits.bottleneck = respo::concepts::makeConceptHook(shift_);
  }
  std::map<std::string, std::string> parameters() const override { return {}; }

 private:
  torch::Tensor shift_;
};

}  // namespace

// Times generation (or one UNet call) in this process: one warm-up, then --repeat runs; prints the median.
int benchmark(const std::vector<std::string>& args) {
  const CommandLine cl(args,
                       {"model", "steps", "cfg", "width", "height", "repeat", "threads", "scheduler", "k", "step-cache",
                        "weights-dtype", "device", "precision", "batch", "convolutions"},
                       {"unet-only", "load-only", "mapped-weights", "train-step", "concept-overhead", "peak", "profile",
                        "compare", "channels-last", "winograd-sweep"});
  namespace fs = std::filesystem;
  if (cl.has("threads")) at::set_num_threads(static_cast<int>(cl.integer("threads", 1, 1, 1024)));
  if (const auto convolutions = cl.value("convolutions")) respo::models::winograd::setMode(respo::models::winograd::parseMode(*convolutions));
  const int repeat = static_cast<int>(cl.integer("repeat", 5, 1, 1000));
  const int width = static_cast<int>(cl.integer("width", 0, 0, respo::pipeline::kMaxImageSide));
  const int height = static_cast<int>(cl.integer("height", 0, 0, respo::pipeline::kMaxImageSide));
  const int stepCache = static_cast<int>(cl.integer("step-cache", 0, 0, respo::pipeline::kMaxStepCache));
  // Generation and compare mode run where --device and --precision say (CPU fp32 by default); the
  // images are copied to the CPU at the end of each run, which waits for the device.
  const auto compute = respo::gpu::chooseDevice(respo::gpu::parseDevicePreference(cl.value("device").value_or("cpu")),
                                                respo::gpu::parsePrecision(cl.value("precision").value_or("auto")));
  respo::pipeline::LoadOptions onDevice;
  onDevice.device = compute.device;
  onDevice.dtype = compute.dtype;
  std::vector<double> seconds;
  auto time = [&](const std::function<void()>& run) {
    run();  // warm-up
    for (int i = 0; i < repeat; ++i) {
      const auto start = std::chrono::steady_clock::now();
      run();
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  };
  if (cl.has("winograd-sweep")) {
    // 3x3 convolutions of one image, direct against Winograd F(4x4,3x3) (weight transformed once, as
    // a layer keeps it), alternating: where the Winograd path pays on this CPU, and what transforming
    // a weight on the fly would cost.
    torch::InferenceMode guard;
    namespace wg = respo::models::winograd;
    wg::setMode(wg::Mode::Auto);  // "taken": under --convolutions winograd
    std::printf("| channels | map | direct (ms) | winograd (ms) | speed-up | weight transform (ms) | taken |\n"
                "|---|---|---|---|---|---|---|\n");
    // The UNet's (320, 640, 1280 channels) and the VAE's (128 to 512) shapes, and 64 channels.
    for (const int64_t channels : {64, 128, 256, 320, 512, 640, 1280})
      for (const int64_t side : {8, 16, 32, 64, 128, 256}) {
        if (channels * side > 128 * 256 && channels * side > 1280 * 32) continue;
        const auto x = torch::randn({1, channels, side, side});
        const auto w = torch::randn({channels, channels, 3, 3}) * 0.02, b = torch::randn({channels});
        const auto u = wg::transformWeight(w);
        const auto t = alternatingMedians(repeat, [&] { (void)torch::conv2d(x, w, b, 1, 1); },
                                          [&] { (void)wg::conv3x3(x, u, b); });
        const auto transform = alternatingMedians(repeat, {[&] { (void)wg::transformWeight(w); }});
        std::printf("| %lld | %lldx%lld | %.3f | %.3f | %.2f | %.3f | %s |\n", static_cast<long long>(channels),
                    static_cast<long long>(side), static_cast<long long>(side), t.first * 1e3, t.second * 1e3,
                    t.first / t.second, transform[0] * 1e3, wg::applies(x, w, 1, 1) ? "yes" : "no");
      }
    return 0;
  }
  namespace prof = respo::models::profile;
  std::optional<prof::Peak> peak;
  if (cl.has("peak")) {
    // What this CPU does with the same LibTorch and threads: the bound for the UNet's matrix work.
    peak = prof::measurePeak(1.0);
    std::printf("gemm_peak_gflops: %.1f\ngemm_peak_size: %lld\nconv_peak_gflops: %.1f\n", peak->gemmFlopsPerSecond * 1e-9,
                static_cast<long long>(peak->gemmSize), peak->convFlopsPerSecond * 1e-9);
    if (!cl.has("unet-only")) {
      std::printf("threads: %d\n", at::get_num_threads());
      return 0;
    }
  }
  if (cl.has("load-only")) {
    // Loading time and the process's peak resident memory right after loading.
    const auto start = std::chrono::steady_clock::now();
    respo::pipeline::LoadOptions options;
    if (cl.has("mapped-weights")) options.storage = respo::models::WeightStorage::Mapped;
    auto model = respo::pipeline::loadStableDiffusion(cl.model(), options);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("load_seconds: %.3f\npeak_rss_mib: %.1f\n", elapsed, peakRssMib());
    return 0;
  }
  if (cl.has("train-step")) {
    // One RespoDiff training step (gender preset) with a fixed trajectory length k.
    auto model = respo::pipeline::loadStableDiffusion(cl.model());
    auto settings = respo::concepts::preset("gender-woman");
    respo::concepts::ConceptTrainer trainer(model, settings);
    const int k = static_cast<int>(cl.integer("k", 10, 0, 999));
    const auto& config = model.unet->config();
    auto generator = at::detail::createCPUGenerator(3);
    const auto noise = torch::randn({1, config.inChannels, config.sampleSize, config.sampleSize}, generator);
    time([&] { trainer.step({k}, noise); });
    if (cl.has("profile")) {
      // Where a step's time goes: the trajectory, the targets, and the two backward passes.
      const auto profile = prof::profileCall([&] { trainer.step({k}, noise); });
      std::printf("%s", prof::formatProfile(profile).c_str());
    }
  } else if (cl.has("concept-overhead")) {
    // Generation with a concept hook (a constant module on every step) against the plain pipeline.
    auto model = respo::pipeline::loadStableDiffusion(cl.model());
    respo::pipeline::TextToImagePipeline pipeline(model);
    respo::pipeline::GenerationRequest request;
    request.prompt = "a photo of a doctor";
    request.steps = static_cast<int>(cl.integer("steps", 25, 1, respo::pipeline::kMaxSteps));
    request.scheduler = "ddim";
    const auto& config = model.unet->config();
    const auto h = model.unet->bottleneckShape(config.sampleSize, config.sampleSize);
    auto hook = respo::concepts::makeConceptHook(torch::full({1, h[0], h[1], h[2]}, 0.01f));
    const auto [a, b] = alternatingMedians(repeat, [&] { pipeline.generate(request); },
                                           [&] { pipeline.generate(request, {}, hook); });
    std::printf("plain_median_seconds: %.6f\nwith_concept_median_seconds: %.6f\noverhead_percent: %.2f\n", a, b,
                100.0 * (b - a) / a);
    return 0;
  } else if (cl.has("compare")) {
    // A comparison (baseline and responsible side from one seed) against the responsible side alone,
    // alternating in this process: what compare mode costs over a single run.
    auto model = respo::pipeline::loadStableDiffusion(cl.model(), onDevice);
    respo::responsible::PairRequest pair;
    pair.request.prompt = "a photo of a doctor";
    pair.request.steps = static_cast<int>(cl.integer("steps", 25, 1, respo::pipeline::kMaxSteps));
    pair.request.scheduler = "ddim";
    pair.request.width = width, pair.request.height = height;
    pair.request.stepCache = stepCache;
    const auto& config = model.unet->config();
    const auto h = model.unet->bottleneckShape(config.sampleSize, config.sampleSize);
    pair.interventions.push_back(std::make_shared<ConstantShift>(torch::full({1, h[0], h[1], h[2]}, 0.01f)));
    auto run = [&](bool baseline, bool oneBatch) {
      pair.wantBaseline = baseline;
      pair.oneBatch = oneBatch;
      respo::responsible::generatePair(model, pair);
    };
    // The two sides as one batch (the default), and one after the other.
    const auto t = alternatingMedians(repeat, {[&] { run(false, true); }, [&] { run(true, true); },
                                               [&] { run(true, false); }});
    std::printf("single_median_seconds: %.6f\ncompare_median_seconds: %.6f\ncompare_over_single: %.3f\n"
                "compare_separate_median_seconds: %.6f\ncompare_separate_over_single: %.3f\n",
                t[0], t[1], t[1] / t[0], t[2], t[2] / t[0]);
    return 0;
  } else if (cl.has("unet-only")) {
    // One UNet call on a random latent of the given image size, where --device and --precision say
    // (CPU fp32 by default); also reports loading time and peak memory (SDXL-shaped UNets get random
    // pooled embeddings and the size ids). On a GPU each timed call waits for the device.
    const fs::path folder = fs::path(cl.model()) / "unet";
    const auto start = std::chrono::steady_clock::now();
    const bool onCpu = compute.device.is_cpu();
    respo::models::UNet2DConditionModel unet(respo::models::UNetConfig::fromFile(folder / "config.json"));
    respo::models::loadWeights(*unet, respo::models::loadComponentWeights(folder), folder.string(), compute.dtype,
                               compute.device, cl.has("mapped-weights") && onCpu ? respo::models::WeightStorage::Mapped
                                                                                 : respo::models::WeightStorage::Copied);
    unet->eval();
    if (const auto storage = cl.value("weights-dtype")) {
      // Matrix and convolution weights stored in half precision, widened to fp32 per call.
      if (*storage != "bf16" && *storage != "fp16") throw UsageError("--weights-dtype is bf16 or fp16");
      torch::NoGradGuard noGrad;
      const auto type = *storage == "bf16" ? torch::kBFloat16 : torch::kFloat16;
      for (auto& p : unet->parameters())
        if (p.dim() >= 2) p.set_data(p.to(type));
    }
    if (cl.has("channels-last")) {
      // Experiment: convolution weights and the latent in channels-last (NHWC) layout for oneDNN.
      torch::NoGradGuard noGrad;
      for (auto& p : unet->parameters())
        if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
    // The peak while loading includes the file's pages; what the call needs is measured from here.
    std::printf("load_seconds: %.3f\npeak_rss_while_loading_mib: %.1f\nrss_after_load_mib: %.1f\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), peakRssMib(),
                statusMib("VmRSS"));
    resetPeakRss();
    const auto& config = unet->config();
    const int64_t h = height > 0 ? height / 8 : config.sampleSize, w = width > 0 ? width / 8 : config.sampleSize;
    // --batch 2 is what a guided (CFG) step computes; the default, 1, is the unguided call.
    const int64_t batch = cl.integer("batch", 1, 1, 64);
    torch::InferenceMode guard;
    auto generator = at::detail::createCPUGenerator(1);
    const auto placed = torch::TensorOptions().device(compute.device).dtype(compute.dtype);
    auto sample = torch::randn({batch, config.inChannels, h, w}, generator).to(placed);
    if (cl.has("channels-last")) sample = sample.contiguous(at::MemoryFormat::ChannelsLast);
    const auto context = torch::randn({batch, 77, config.crossAttentionDim}, generator).to(placed);
    const auto t = torch::full({batch}, 501.0f).to(compute.device);
    respo::models::UNetExtras extras;
    if (config.additionEmbedType == "text_time") {
      const int pooled = config.projectionClassEmbeddingsInputDim - 6 * config.additionTimeEmbedDim;
      extras.textEmbeds = torch::randn({batch, pooled}, generator).to(placed);
      const auto ph = static_cast<double>(h * 8), pw = static_cast<double>(w * 8);
      extras.timeIds = torch::tensor({ph, pw, 0.0, 0.0, ph, pw}, torch::kFloat32).unsqueeze(0).expand({batch, 6}).to(placed);
    }
    if (stepCache > 1) {
      // Time the calls that reuse the deep features (step caching): store them once, then reuse.
      extras.stepCache = std::make_shared<respo::models::StepCache>();
      unet->forward(sample, t, context, extras);
      extras.stepCache->reuse = true;
      std::printf("timing: calls that reuse the deep features\n");
    }
    time([&] {
      unet->forward(sample, t, context, extras);
      if (!onCpu) torch::cuda::synchronize();
    });
    std::printf("peak_rss_during_calls_mib: %.1f\n", statusMib("VmHWM"));
    if (peak || cl.has("profile")) {
      // One call under the profiler: its matrix-class FLOPs, and where the time goes.
      const auto profile = prof::profileCall([&] { unet->forward(sample, t, context, extras); });
      std::sort(seconds.begin(), seconds.end());
      const double median = seconds[seconds.size() / 2];
      std::printf("unet_gflop_per_call: %.2f\nunet_achieved_gflops: %.1f\n", profile.flops * 1e-9,
                  profile.flops * 1e-9 / median);
      if (peak)
        std::printf("fraction_of_gemm_peak: %.3f\nfraction_of_conv_peak: %.3f\n",
                    profile.flops / median / peak->gemmFlopsPerSecond, profile.flops / median / peak->convFlopsPerSecond);
      if (cl.has("profile")) std::printf("%s", prof::formatProfile(profile).c_str());
    }
  } else {
    auto model = respo::pipeline::loadStableDiffusion(cl.model(), onDevice);
    respo::pipeline::TextToImagePipeline pipeline(model);
    respo::pipeline::GenerationRequest request;
    request.prompt = "a photo of a doctor";
    request.steps = static_cast<int>(cl.integer("steps", 25, 1, respo::pipeline::kMaxSteps));
    request.guidanceScale = cl.real("cfg", 7.5, 0, pipeline::kMaxGuidanceScale);
    request.scheduler = cl.value("scheduler").value_or("ddim");
    request.width = width, request.height = height;
    request.stepCache = stepCache;
    time([&] { pipeline.generate(request); });
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("median_seconds: %.6f\nmin_seconds: %.6f\nthreads: %d\ndevice: %s\n", seconds[seconds.size() / 2],
              seconds.front(), at::get_num_threads(), compute.description.c_str());
  return 0;
}

}  // namespace respo::app
