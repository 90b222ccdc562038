#include "core/pipeline/text_to_image.h"

#include <algorithm>
#include <optional>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/gaussian_blur.h"
#include "core/models/winograd.h"
#include "core/pipeline/lora.h"

namespace respo::pipeline {

void GenerationRequest::validate(const StableDiffusionModel& model) const {
  validateSettings();
  const int factor = model.vaeScaleFactor();
  const int native = model.nativeImageSize();
  const int w = width > 0 ? width : native, h = height > 0 ? height : native;
  if (w % factor != 0 || h % factor != 0)
    throw InvalidArgument("image size " + std::to_string(w) + "x" + std::to_string(h) + " must be a multiple of " +
                          std::to_string(factor));
  if (w < factor || h < factor || w > kMaxImageSide || h > kMaxImageSide)
    throw InvalidArgument("image size " + std::to_string(w) + "x" + std::to_string(h) + " is outside " +
                          std::to_string(factor) + ".." + std::to_string(kMaxImageSide));
  int layers = model.textEncoder->config().layers;
  if (model.textEncoder2) layers = std::min(layers, model.textEncoder2->config().layers);
  if (clipSkip < 0 || clipSkip >= layers)
    throw InvalidArgument("clip skip must be between 0 and " + std::to_string(layers - 1));
  if (model.device.is_cpu()) {
    const auto& vae = model.vae->config();
    const bool fp32Decode = model.vaeUpcastInFp16 && model.dtype == torch::kFloat16;
    const int element = fp32Decode ? 4 : static_cast<int>(c10::elementSize(model.dtype));
    const auto need = estimatePeakBytes(w, h, batch, vae.blockOutChannels.front(),
                                        model.unet->config().blockOutChannels.front(), factor, element,
                                        vaeTiling ? vae.sampleSize : 0);
    const auto have = physicalMemoryBytes();
    if (have > 0 && need > have) {
      auto gb = [](std::uint64_t bytes) { return std::to_string((bytes + (1ull << 29)) >> 30); };
      throw InvalidArgument("a batch of " + std::to_string(batch) + " at " + std::to_string(w) + "x" +
                            std::to_string(h) + " needs about " + gb(need) + " GB of working memory; this machine has " +
                            gb(have) + " GB: lower the batch or the image size");
    }
  }
}

PromptConditioning TextToImagePipeline::encodePrompt(const std::string& prompt, int batch, int clipSkip) {
  return pipeline::encodePrompt(model_, prompt, clipSkip).repeated(batch);
}

torch::Tensor TextToImagePipeline::initialNoise(const GenerationRequest& request, at::Generator& generator) const {
  const int factor = model_.vaeScaleFactor();
  const int native = model_.nativeImageSize();
  const int64_t h = (request.height > 0 ? request.height : native) / factor;
  const int64_t w = (request.width > 0 ? request.width : native) / factor;
  return torch::randn({request.batch, model_.vae->config().latentChannels, h, w}, generator, torch::kFloat32);
}

namespace {

// A picture as [1, 3, h, w] in [0, 1] (float32, CPU), resized (bicubic, antialiased) when its size differs.
torch::Tensor pictureTensor(const io::RgbImage& picture, int64_t h, int64_t w) {
  auto image = torch::from_blob(const_cast<std::uint8_t*>(picture.pixels.data()), {picture.height, picture.width, 3},
                                torch::kUInt8)
                   .to(torch::kFloat32)
                   .div(255)
                   .permute({2, 0, 1})
                   .unsqueeze(0);
  if (picture.height != h || picture.width != w)
    image = torch::nn::functional::interpolate(
                image, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w})
                           .mode(torch::kBicubic).align_corners(false).antialias(true))
                .clamp(0, 1);
  return image;
}

// A mask as [1, 1, h, w] of 0 and 1: blurred as Pillow blurs (diffusers' mask_processor.blur), read as
// PIL's luma (L = (19595 R + 38470 G + 7471 B + 2^15) >> 16) and split at one half, as diffusers'
// mask processor binarises.
torch::Tensor maskTensor(const io::RgbImage& original, double blur, int64_t h, int64_t w) {
  const auto mask = io::gaussianBlurLikePillow(original, blur);
  const auto rgb = torch::from_blob(const_cast<std::uint8_t*>(mask.pixels.data()), {mask.height, mask.width, 3},
                                    torch::kUInt8).to(torch::kInt64);
  const auto luma = (rgb.select(2, 0) * 19595 + rgb.select(2, 1) * 38470 + rgb.select(2, 2) * 7471 + 0x8000)
                        .div(65536, "floor");
  auto grey = (luma.to(torch::kFloat32) / 255).unsqueeze(0).unsqueeze(0);
  if (mask.height != h || mask.width != w)
    grey = torch::nn::functional::interpolate(
        grey, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w})
                  .mode(torch::kBilinear).align_corners(false).antialias(true));
  return (grey >= 0.5).to(torch::kFloat32);
}

}  // namespace

TextToImagePipeline::StartLatents TextToImagePipeline::startLatents(const GenerationRequest& request,
                                                                    at::Generator& generator,
                                                                    const sched::Scheduler& scheduler,
                                                                    std::size_t first) {
  const int native = model_.nativeImageSize();
  const int64_t h = request.height > 0 ? request.height : native;
  const int64_t w = request.width > 0 ? request.width : native;
  const auto image = pictureTensor(*request.initImage, h, w) * 2 - 1;  // diffusers' normalize
  const auto& config = model_.vae->config();
  // As the pipelines do: SDXL's VAE encodes in float32 when the model runs in float16.
  const bool upcast = model_.vaeUpcastInFp16 && model_.dtype == torch::kFloat16;
  const auto dtype = upcast ? torch::kFloat32 : model_.dtype;
  // retrieve_latents(vae.encode(x), generator) * scaling_factor: mean + std * N(0, 1) from the generator.
  auto encode = [&](const torch::Tensor& x) {
    if (upcast) model_.vae->to(torch::kFloat32);
    auto [mean, logvar] = model_.vae->encode(x.to(model_.device, dtype));
    if (upcast) model_.vae->to(torch::kFloat16);
    const auto eps = torch::randn(mean.sizes(), generator, torch::kFloat32).to(mean.device(), mean.scalar_type());
    auto z = mean + torch::exp(0.5 * logvar) * eps;
    if (config.shiftFactor) z = z - *config.shiftFactor;
    z = z * config.scalingFactor;
    return torch::cat(std::vector<torch::Tensor>(static_cast<std::size_t>(request.batch), z));
  };
  StartLatents out;
  const bool inpaint = static_cast<bool>(request.mask);
  const bool maskedInput = model_.unet->config().inChannels == 2 * config.latentChannels + 1;
  const bool fromNoise = inpaint && request.strength == 1.0;  // diffusers' is_strength_max
  torch::Tensor imageLatents;
  if (!fromNoise || !maskedInput) imageLatents = encode(image);
  auto noise = initialNoise(request, generator);
  if (fromNoise)
    out.latents = (noise * scheduler.initNoiseSigma()).to(model_.device, model_.dtype);
  else
    out.latents = scheduler.addNoiseAt(imageLatents, noise.to(imageLatents.device(), imageLatents.scalar_type()), first)
                      .to(model_.device, model_.dtype);
  if (inpaint) {
    const auto mask = maskTensor(*request.mask, request.maskBlur, h, w);
    out.maskedLatents = encode(image * (mask < 0.5)).to(model_.device, model_.dtype);
    const int factor = model_.vaeScaleFactor();
    out.mask = torch::nn::functional::interpolate(
                   mask, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h / factor, w / factor}))
                   .repeat({request.batch, 1, 1, 1})
                   .to(model_.device, model_.dtype);
    out.noise = noise.to(model_.device, model_.dtype);
    if (!maskedInput) out.imageLatents = imageLatents.to(model_.device, model_.dtype);
  }
  return out;
}

torch::Tensor TextToImagePipeline::decode(const torch::Tensor& latents, bool tiled) {
  const auto& config = model_.vae->config();
  auto z = latents / config.scalingFactor;
  if (config.shiftFactor) z = z + *config.shiftFactor;
  torch::Tensor images;
  if (model_.vaeUpcastInFp16 && model_.dtype == torch::kFloat16) {
    // As StableDiffusionXLPipeline does: SDXL's VAE overflows in fp16, so it decodes in fp32.
    model_.vae->to(torch::kFloat32);
    images = tiled ? model_.vae->decodeTiled(z.to(torch::kFloat32)) : model_.vae->decode(z.to(torch::kFloat32));
    model_.vae->to(torch::kFloat16);
  } else {
    images = tiled ? model_.vae->decodeTiled(z.to(model_.dtype)) : model_.vae->decode(z.to(model_.dtype));
  }
  return (images.to(torch::kFloat32) / 2 + 0.5).clamp(0, 1).to(torch::kCPU);
}

GenerationResult TextToImagePipeline::generate(const GenerationRequest& request, const StepCallback& onStep,
                                               const models::BottleneckHook& hook) {
  SamplingEdits edits;
  edits.bottleneck = hook;
  return generate(request, onStep, edits);
}

GenerationResult TextToImagePipeline::generate(const GenerationRequest& request, const StepCallback& onStep,
                                               const SamplingEdits& edits) {
  LaneCallback callback;
  if (onStep) callback = [&onStep](std::size_t, const StepProgress& progress) { return onStep(progress); };
  return std::move(run(request, {edits}, callback).front());
}

std::vector<GenerationResult> TextToImagePipeline::generateLanes(const GenerationRequest& request,
                                                                 const std::vector<models::BottleneckHook>& lanes,
                                                                 const LaneCallback& onStep) {
  if (lanes.empty()) throw InvalidArgument("a batch of sides needs at least one side");
  std::vector<SamplingEdits> edits(lanes.size());
  for (std::size_t k = 0; k < lanes.size(); ++k) edits[k].bottleneck = lanes[k];
  return run(request, edits, onStep);
}

namespace {

// Rows of one kind in the guided batch: the negative prompt's, the prompt's, the safety concept's.
struct Segment {
  PromptConditioning conditioning;  // already repeated for the batch
  models::GuidanceBranch branch;
  std::size_t lane = 0;
};

// One UNet call per step: adjacent segments whose contexts have the same token count share a batch
// (the plain guided case is one call on [unconditional; conditional], as diffusers runs it).
struct Pass {
  PromptConditioning conditioning;
  models::UNetExtras extras;
  std::vector<std::size_t> lanes;  // the lane of each segment, in row order
};

// The hook of a pass holding the rows of several lanes: each run of one lane's rows goes through
// that lane's hook alone, with its own timesteps and branches, as in a run of that lane by itself.
models::BottleneckHook laneHook(const std::vector<std::size_t>& segmentLanes, int64_t batch,
                                const std::vector<SamplingEdits>& lanes) {
  struct Run {
    int64_t begin, end;
    models::BottleneckHook hook;
  };
  std::vector<Run> runs;
  for (std::size_t s = 0; s < segmentLanes.size(); ++s) {
    const int64_t begin = static_cast<int64_t>(s) * batch;
    if (s > 0 && segmentLanes[s] == segmentLanes[s - 1])
      runs.back().end = begin + batch;
    else
      runs.push_back({begin, begin + batch, lanes[segmentLanes[s]].bottleneck});
  }
  return [runs](const torch::Tensor& h, const models::BottleneckContext& context) {
    std::vector<torch::Tensor> parts;
    for (const auto& run : runs) {
      auto rows = h.slice(0, run.begin, run.end);
      if (run.hook) {
        models::BottleneckContext own{context.timestep.slice(0, run.begin, run.end), {}};
        if (!context.branches.empty())
          own.branches.assign(context.branches.begin() + run.begin, context.branches.begin() + run.end);
        rows = run.hook(rows, own);
      }
      parts.push_back(rows);
    }
    return torch::cat(parts);
  };
}

std::vector<Pass> groupPasses(const std::vector<Segment>& segments, int64_t batch,
                              const std::vector<SamplingEdits>& lanes) {
  std::vector<Pass> passes;
  for (const auto& segment : segments) {
    if (passes.empty() || passes.back().conditioning.tokens() != segment.conditioning.tokens()) {
      Pass pass;
      pass.conditioning = segment.conditioning;
      pass.lanes.push_back(segment.lane);
      passes.push_back(std::move(pass));
    } else {
      passes.back().conditioning = PromptConditioning::cat(passes.back().conditioning, segment.conditioning);
      passes.back().lanes.push_back(segment.lane);
    }
    passes.back().extras.branches.insert(passes.back().extras.branches.end(), static_cast<std::size_t>(batch),
                                         segment.branch);
  }
  for (auto& pass : passes) {
    const bool oneLane = std::all_of(pass.lanes.begin(), pass.lanes.end(),
                                     [&](std::size_t lane) { return lane == pass.lanes.front(); });
    if (oneLane)
      pass.extras.bottleneckHook = lanes[pass.lanes.front()].bottleneck;
    else if (std::any_of(lanes.begin(), lanes.end(), [](const SamplingEdits& lane) { return bool(lane.bottleneck); }))
      pass.extras.bottleneckHook = laneHook(pass.lanes, batch, lanes);
    pass.conditioning.addTo(pass.extras);
  }
  return passes;
}

// SLD's guidance term (safe_guidance.h), updating the momentum; returns the guided prediction.
torch::Tensor safeGuidance(const SafeLatentGuidance& sld, double cfg, std::size_t step, const torch::Tensor& uncond,
                           const torch::Tensor& text, const torch::Tensor& safety, torch::Tensor& momentum) {
  auto guidance = text - uncond;
  if (!momentum.defined()) momentum = torch::zeros_like(guidance);
  const auto distance = text - safety;
  const auto scale = torch::clamp(torch::abs(distance) * sld.guidanceScale, c10::nullopt, 1.0);
  const auto conceptScale = torch::where(distance >= sld.threshold, torch::zeros_like(scale), scale);
  auto safetyGuidance = torch::mul(safety - uncond, conceptScale);
  safetyGuidance = safetyGuidance + sld.momentumScale * momentum;
  momentum = sld.momentumBeta * momentum + (1 - sld.momentumBeta) * safetyGuidance;
  if (step >= static_cast<std::size_t>(sld.warmupSteps)) guidance = guidance - safetyGuidance;
  return uncond + cfg * guidance;
}

}  // namespace

std::vector<GenerationResult> TextToImagePipeline::run(const GenerationRequest& request,
                                                       const std::vector<SamplingEdits>& lanes,
                                                       const LaneCallback& onStep) {
  request.validate(model_);
  const std::size_t laneCount = lanes.size();
  if (laneCount > 1)
    for (const auto& lane : lanes)
      if (lane.safety) throw InvalidArgument("safe latent guidance runs one side at a time");
  const auto& edits = lanes.front();
  if (edits.safety) edits.safety->validate();
  const std::vector<std::filesystem::path> loraFolders(request.loraFolders.begin(), request.loraFolders.end());
  const AppliedLoras loras(model_, promptLoras(request.prompt, loraFolders));
  const models::winograd::ScopedMode convolutions(
      request.winogradConvolutions ? std::optional(models::winograd::Mode::Auto) : std::nullopt);
  torch::InferenceMode inference;
  // One scheduler per lane: multistep samplers keep each lane's earlier predictions.
  std::vector<std::unique_ptr<sched::Scheduler>> schedulers;
  for (std::size_t k = 0; k < laneCount; ++k) {
    schedulers.push_back(sched::makeScheduler(request.scheduler, model_.schedulerConfig));
    schedulers.back()->setTimesteps(request.steps);
  }
  auto& scheduler = schedulers.front();

  const bool guided = request.guidanceScale > 1.0;
  const bool safe = edits.safety && edits.safety->activeWith(request.guidanceScale);
  const int native = model_.nativeImageSize();
  auto single = pipeline::encodePrompt(model_, request.prompt, request.clipSkip);
  single.timeIds = sizeConditioning(model_, request.width > 0 ? request.width : native,
                                    request.height > 0 ? request.height : native);
  // The rows of every step, in diffusers' order: [negative, prompt, safety concept], lane after lane.
  // A prompt and a negative prompt of different lengths (chunks) run as separate UNet passes, as
  // A1111 runs them.
  std::vector<Segment> segments;
  std::optional<PromptConditioning> negativeRows;
  if (guided) {
    auto negative = encodeNegativePrompt(model_, request.negativePrompt, single, request.clipSkip);
    negative.timeIds = single.timeIds;  // diffusers' default: the negative side gets the same size ids
    negativeRows = negative.repeated(request.batch);
  }
  const auto promptRows = single.repeated(request.batch);
  for (std::size_t k = 0; k < laneCount; ++k) {
    if (negativeRows) segments.push_back({*negativeRows, models::GuidanceBranch::Unconditional, k});
    segments.push_back({promptRows, models::GuidanceBranch::Conditional, k});
  }
  if (safe) {
    auto unsafe = pipeline::encodePrompt(model_, edits.safety->safetyConcept, request.clipSkip);
    unsafe.timeIds = single.timeIds;
    segments.push_back({unsafe.repeated(request.batch), models::GuidanceBranch::SafetyConcept, 0});
  }
  auto passes = groupPasses(segments, request.batch, lanes);

  auto generator = at::detail::createCPUGenerator(request.seed);
  // Image to image starts at timesteps()[first] (diffusers' get_timesteps: the last strength x steps).
  std::size_t first = 0;
  torch::Tensor latents;
  StartLatents start;
  const bool maskedInput = model_.unet->config().inChannels == 2 * model_.vae->config().latentChannels + 1;
  if (maskedInput && !request.mask)
    throw InvalidArgument("this is an inpainting model (its UNet takes a mask and a masked picture): give it a picture "
                          "and a mask, or use the model it was made from for text to image");
  if (request.initImage) {
    const int count = std::min(static_cast<int>(request.steps * request.strength), request.steps);
    first = static_cast<std::size_t>(std::max(request.steps - count, 0));
    start = startLatents(request, generator, *scheduler, first);
    latents = start.latents;
  } else {
    // The noise is drawn in float32 whatever the precision; scaled in float64 for a float64 model (as
    // diffusers scales latents of the model's precision), in float32 otherwise.
    auto noise = initialNoise(request, generator);
    if (model_.dtype == torch::kFloat64) noise = noise.to(torch::kFloat64);
    latents = (noise * scheduler->initNoiseSigma()).to(model_.device, model_.dtype);
  }
  // Every lane starts where a run of its own would: the same latents, and a generator in the same
  // state for stochastic samplers.
  std::vector<torch::Tensor> laneLatents(laneCount, latents);
  std::vector<at::Generator> generators{generator};
  for (std::size_t k = 1; k < laneCount; ++k) generators.push_back(generator.clone());
  const auto& timesteps = scheduler->timesteps();
  if (request.stepCache > 1)
    for (auto& pass : passes) pass.extras.stepCache = std::make_shared<models::StepCache>();
  std::vector<torch::Tensor> momentum(laneCount);
  std::vector<torch::Tensor> outputs;
  for (std::size_t i = first; i < timesteps.size(); ++i) {
    outputs.clear();  // one per segment, in segment order
    for (auto& pass : passes) {
      // Step caching: the first step and every stepCache-th after it run in full.
      if (pass.extras.stepCache) pass.extras.stepCache->reuse = (i - first) % request.stepCache != 0;
      std::vector<torch::Tensor> rows;
      for (auto lane : pass.lanes) rows.push_back(laneLatents[lane]);
      auto input = rows.size() > 1 ? torch::cat(rows) : rows.front();
      input = scheduler->scaleModelInput(input, i);
      const auto segmentsInPass = static_cast<int64_t>(pass.lanes.size());
      if (maskedInput)  // an inpainting UNet: [latents, mask, masked picture] on the channel axis
        input = torch::cat({input, start.mask.repeat({segmentsInPass, 1, 1, 1}),
                            start.maskedLatents.repeat({segmentsInPass, 1, 1, 1})}, 1);
      const auto t = torch::full({input.size(0)}, timesteps[i], torch::TensorOptions().dtype(torch::kFloat32).device(model_.device));
      const auto prediction = model_.unet->forward(input, t, pass.conditioning.context, pass.extras);
      if (segmentsInPass == 1) {
        outputs.push_back(prediction);
      } else {
        for (auto& part : prediction.chunk(segmentsInPass)) outputs.push_back(part);
      }
    }
    const std::size_t perLane = guided ? 2 : 1;
    for (std::size_t k = 0; k < laneCount; ++k) {
      const std::size_t o = k * perLane;
      torch::Tensor prediction;
      if (safe)
        prediction = safeGuidance(*edits.safety, request.guidanceScale, i - first, outputs[0], outputs[1], outputs[2],
                                  momentum[k]);
      else if (guided)
        prediction = outputs[o] + request.guidanceScale * (outputs[o + 1] - outputs[o]);
      else
        prediction = outputs[o];
      auto& current = laneLatents[k];
      current = schedulers[k]->step(prediction, i, current, &generators[k]);
      if (request.mask && !maskedInput) {
        // Any other model: the kept region is the picture, noised to the next step's level.
        const auto kept = i + 1 < timesteps.size() ? scheduler->addNoiseAt(start.imageLatents, start.noise, i + 1)
                                                   : start.imageLatents;
        current = (1 - start.mask) * kept + start.mask * current;
      }
    }
    if (onStep)
      for (std::size_t k = 0; k < laneCount; ++k) {
        StepProgress progress{static_cast<int>(i - first) + 1, static_cast<int>(timesteps.size() - first), timesteps[i],
                              &laneLatents[k]};
        if (!onStep(k, progress)) throw Cancelled("generation cancelled at step " + std::to_string(i - first + 1));
      }
  }
  std::vector<GenerationResult> results(laneCount);
  for (std::size_t k = 0; k < laneCount; ++k) {
    results[k].images = decode(laneLatents[k], request.vaeTiling);
    results[k].rgb = toRgb(results[k].images);
  }
  return results;
}

std::vector<io::RgbImage> toRgb(const torch::Tensor& images) {
  const auto bytes = (images.to(torch::kCPU, torch::kFloat32) * 255).round().clamp(0, 255).to(torch::kUInt8)
                         .permute({0, 2, 3, 1}).contiguous();
  std::vector<io::RgbImage> out;
  for (int64_t b = 0; b < bytes.size(0); ++b) {
    io::RgbImage image{static_cast<int>(bytes.size(2)), static_cast<int>(bytes.size(1)), {}};
    const auto* data = bytes[b].data_ptr<std::uint8_t>();
    image.pixels.assign(data, data + bytes[b].numel());
    out.push_back(std::move(image));
  }
  return out;
}

io::RgbImage latentPreview(const torch::Tensor& latents, int index) {
  // A widely used linear approximation of SD1/SD2's VAE decoder for 4-channel latents.
  static const float kFactors[4][3] = {{0.298f, 0.207f, 0.208f}, {0.187f, 0.286f, 0.173f},
                                       {-0.158f, 0.189f, 0.264f}, {-0.184f, -0.271f, -0.473f}};
  auto z = latents[index].to(torch::kCPU, torch::kFloat32);
  if (z.size(0) != 4) z = z.slice(0, 0, std::min<int64_t>(4, z.size(0)));
  auto factors = torch::from_blob(const_cast<float*>(&kFactors[0][0]), {4, 3}).slice(0, 0, z.size(0));
  auto rgb = torch::einsum("chw,cr->rhw", {z, factors});
  rgb = ((rgb + 1) / 2).clamp(0, 1).unsqueeze(0);
  return toRgb(rgb)[0];
}

}  // namespace respo::pipeline
