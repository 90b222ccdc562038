#include "core/toyworld/model_training.h"

#include <chrono>
#include <cmath>
#include <numbers>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/log.h"
#include "core/io/safetensors_torch.h"
#include "core/models/layers.h"
#include "core/schedulers/scheduler.h"

namespace fs = std::filesystem;

namespace respo::toyworld {
namespace {

using Clock = std::chrono::steady_clock;
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Each step's randomness is a function of (seed, phase, step) only, so a resumed run is the
// uninterrupted run.
std::uint64_t stepSeed(std::uint64_t seed, std::uint64_t phase, std::uint64_t step) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + phase * 0xBF58476D1CE4E5B9ull + step * 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

enum Phase : std::uint64_t { VaeBatch = 1, VaeNoise, DatasetDraw, DenoiserBatch, ScalingDraw };

NamedTensors trainableParameters(torch::nn::Module& module, const std::string& prefix) {
  NamedTensors out;
  for (auto& item : module.named_parameters()) {
    item.value().set_requires_grad(true);
    out.emplace_back(prefix + item.key(), item.value());
  }
  return out;
}

double cosineLearningRate(int step, int total, int warmup, double peak, double floor) {
  if (step < warmup) return peak * (step + 1) / warmup;
  const double progress = static_cast<double>(step - warmup) / std::max(1, total - warmup);
  return floor + (peak - floor) * 0.5 * (1 + std::cos(std::numbers::pi * std::min(1.0, progress)));
}

std::map<std::string, torch::Tensor> withPrefix(const NamedTensors& tensors, const std::string& prefix) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : tensors) out[prefix + name] = t.detach();
  return out;
}

std::map<std::string, torch::Tensor> stripPrefix(const std::map<std::string, torch::Tensor>& all,
                                                 const std::string& prefix) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : all)
    if (name.rfind(prefix, 0) == 0) out[name.substr(prefix.size())] = t;
  return out;
}

// Copies tensors into existing parameters by name (all must be present, shapes equal).
void assignByName(const NamedTensors& targets, const std::map<std::string, torch::Tensor>& values,
                  const std::string& what) {
  torch::NoGradGuard noGrad;
  for (const auto& [name, p] : targets) {
    const auto it = values.find(name);
    if (it == values.end()) throw FormatError(what + ": checkpoint lacks '" + name + "'");
    if (it->second.sizes() != p.sizes()) throw FormatError(what + ": checkpoint tensor '" + name + "' has another shape");
    p.copy_(it->second);
  }
}

struct Checkpoint {
  std::map<std::string, torch::Tensor> tensors;
  int step = 0;
  io::Metadata metadata;
};

std::optional<Checkpoint> readCheckpoint(const fs::path& path) {
  if (!fs::exists(path)) return std::nullopt;
  const auto file = io::SafetensorsFile::open(path);
  Checkpoint c;
  c.tensors = io::loadAll(file, io::TensorMemory::Copies);
  c.metadata = file.metadata();
  const auto it = c.metadata.find("step");
  if (it == c.metadata.end()) throw FormatError(path.string() + ": not a training checkpoint (no step)");
  c.step = std::stoi(it->second);
  return c;
}

}  // namespace

// ---- AdamW --------------------------------------------------------------------------------------
AdamW::AdamW(NamedTensors parameters, double weightDecay) : parameters_(std::move(parameters)), weightDecay_(weightDecay) {
  for (const auto& [name, p] : parameters_) {
    concepts::AdamState state;
    state.exp = torch::zeros_like(p);
    state.expSq = torch::zeros_like(p);
    states_.push_back(std::move(state));
  }
}

void AdamW::zeroGrad() {
  for (auto& [name, p] : parameters_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void AdamW::step(double lr) {
  torch::NoGradGuard noGrad;
  ++steps_;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    auto& p = parameters_[i].second;
    if (!p.grad().defined()) continue;
    if (weightDecay_ > 0) p.mul_(1 - lr * weightDecay_);
    states_[i].update(p, p.grad(), lr);
  }
}

std::map<std::string, torch::Tensor> AdamW::state() const {
  std::map<std::string, torch::Tensor> out;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    out["exp." + parameters_[i].first] = states_[i].exp;
    out["sq." + parameters_[i].first] = states_[i].expSq;
  }
  return out;
}

void AdamW::loadState(const std::map<std::string, torch::Tensor>& state, std::int64_t steps) {
  torch::NoGradGuard noGrad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const auto e = state.find("exp." + parameters_[i].first), s = state.find("sq." + parameters_[i].first);
    if (e == state.end() || s == state.end())
      throw FormatError("optimizer state lacks '" + parameters_[i].first + "'");
    states_[i].exp.copy_(e->second);
    states_[i].expSq.copy_(s->second);
    states_[i].step = steps;
  }
  steps_ = steps;
}

// ---- data ---------------------------------------------------------------------------------------
torch::Tensor imagesToTensor(const std::vector<io::RgbImage>& images) {
  if (images.empty()) throw InvalidArgument("imagesToTensor: no images");
  const int h = images[0].height, w = images[0].width;
  auto out = torch::empty({static_cast<int64_t>(images.size()), h, w, 3}, torch::kUInt8);
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (images[i].height != h || images[i].width != w) throw InvalidArgument("imagesToTensor: sizes differ");
    std::memcpy(out[static_cast<int64_t>(i)].data_ptr(), images[i].pixels.data(), images[i].pixels.size());
  }
  return out.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(127.5).sub_(1).contiguous();
}

namespace {

torch::Tensor renderBatch(std::mt19937_64& rng, int count, const DatasetOptions& options,
                          std::vector<Sample>* samples = nullptr) {
  std::vector<io::RgbImage> images;
  images.reserve(count);
  for (int i = 0; i < count; ++i) {
    Sample s = drawSample(rng, options);
    images.push_back(render(s.attributes, s.seed));
    if (samples) samples->push_back(std::move(s));
  }
  return imagesToTensor(images);
}

}  // namespace

// ---- VAE ----------------------------------------------------------------------------------------
bool trainVae(pipeline::StableDiffusionModel& model, const ToyTrainingOptions& options,
              const TrainingCallback& onProgress) {
  const auto& o = options.vae;
  const fs::path checkpoint = options.workDir / "vae-checkpoint.safetensors";
  int start = 0;
  auto resumed = readCheckpoint(checkpoint);
  auto params = trainableParameters(*model.vae, "");
  AdamW optimizer(params, 0.0);
  if (resumed) {
    assignByName(params, stripPrefix(resumed->tensors, "model."), checkpoint.string());
    optimizer.loadState(stripPrefix(resumed->tensors, "adam."), resumed->step);
    start = resumed->step;
    log::info("resuming the VAE at step " + std::to_string(start));
  }
  auto save = [&](int step) {
    auto tensors = withPrefix(params, "model.");
    for (auto& [k, v] : optimizer.state()) tensors["adam." + k] = v;
    io::saveTensors(checkpoint, tensors, {{"step", std::to_string(step)}, {"phase", "vae"}});
  };
  const auto began = Clock::now();
  for (int step = start; step < o.steps; ++step) {
    std::mt19937_64 rng(stepSeed(options.seed, VaeBatch, step));
    auto noiseGen = at::detail::createCPUGenerator(stepSeed(options.seed, VaeNoise, step));
    const auto x = renderBatch(rng, o.batch, options.dataset);
    auto [mean, logvar] = model.vae->encode(x);
    const auto z = mean + (0.5 * logvar).exp() * torch::randn(mean.sizes(), noiseGen);
    const auto recon = model.vae->decode(z);
    const auto diff = recon - x;
    const auto reconstruction = diff.abs().mean() + diff.pow(2).mean();
    const auto kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean();
    const auto loss = reconstruction + o.klWeight * kl;
    optimizer.zeroGrad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(model.vae->parameters(), 1.0);
    optimizer.step(cosineLearningRate(step, o.steps, o.warmup, o.learningRate, o.learningRate * 0.1));
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw Error("VAE training diverged at step " + std::to_string(step) +
                                           " (the last checkpoint is kept)");
    const bool last = step + 1 == o.steps;
    if ((step + 1) % options.checkpointEvery == 0 || last) save(step + 1);
    if (onProgress) {
      const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
      if (!onProgress({"vae", step + 1, o.steps, value, seconds})) {
        save(step + 1);
        return false;
      }
    }
  }
  return true;
}

double latentScalingFactor(pipeline::StableDiffusionModel& model, std::uint64_t seed, int count) {
  torch::NoGradGuard noGrad;
  std::mt19937_64 rng(stepSeed(seed, ScalingDraw, 0));
  auto gen = at::detail::createCPUGenerator(stepSeed(seed, ScalingDraw, 1));
  std::vector<torch::Tensor> latents;
  for (int done = 0; done < count; done += 128) {
    auto [mean, logvar] = model.vae->encode(renderBatch(rng, std::min(128, count - done), {}));
    latents.push_back(mean + (0.5 * logvar).exp() * torch::randn(mean.sizes(), gen));
  }
  return 1.0 / torch::cat(latents).std().item<double>();
}

EncodedDataset encodeDataset(pipeline::StableDiffusionModel& model, const ToyTrainingOptions& options,
                             const TrainingCallback& onProgress) {
  torch::NoGradGuard noGrad;
  const int n = options.denoiser.datasetSize;
  EncodedDataset data;
  std::mt19937_64 rng(stepSeed(options.seed, DatasetDraw, 0));
  std::vector<torch::Tensor> means, stds;
  const auto began = Clock::now();
  for (int done = 0; done < n; done += 256) {
    const int count = std::min(256, n - done);
    auto [mean, logvar] = model.vae->encode(renderBatch(rng, count, options.dataset, &data.samples));
    means.push_back(mean);
    stds.push_back((0.5 * logvar).exp());
    if (onProgress) onProgress({"dataset", done + count, n, 0,
                                std::chrono::duration<double>(Clock::now() - began).count()});
  }
  data.latentMean = torch::cat(means);
  data.latentStd = torch::cat(stds);
  const int length = model.tokenizer->maxLength();
  data.tokenIds = torch::empty({n, length}, torch::kLong);
  auto ids = data.tokenIds.accessor<int64_t, 2>();
  for (int i = 0; i < n; ++i) {
    const auto tokens = (*model.tokenizer)(data.samples[i].caption);
    for (int j = 0; j < length; ++j) ids[i][j] = tokens.ids[j];
  }
  return data;
}

// ---- text encoder + UNet ------------------------------------------------------------------------
bool trainDenoiser(pipeline::StableDiffusionModel& model, const EncodedDataset& data, double scalingFactor,
                   const ToyTrainingOptions& options, const TrainingCallback& onProgress) {
  const auto& o = options.denoiser;
  const fs::path checkpoint = options.workDir / "denoiser-checkpoint.safetensors";
  auto params = trainableParameters(*model.unet, "unet.");
  for (auto& p : trainableParameters(*model.textEncoder, "text_encoder.")) params.push_back(p);
  for (auto& p : model.vae->parameters()) p.set_requires_grad(false);
  AdamW optimizer(params, 0.01);
  NamedTensors ema;
  for (const auto& [name, p] : params) ema.emplace_back(name, p.detach().clone());
  int start = 0;
  if (auto resumed = readCheckpoint(checkpoint)) {
    assignByName(params, stripPrefix(resumed->tensors, "model."), checkpoint.string());
    assignByName(ema, stripPrefix(resumed->tensors, "ema."), checkpoint.string());
    optimizer.loadState(stripPrefix(resumed->tensors, "adam."), resumed->step);
    start = resumed->step;
    log::info("resuming the denoiser at step " + std::to_string(start));
  }
  auto save = [&](int step) {
    auto tensors = withPrefix(params, "model.");
    for (auto& [k, v] : withPrefix(ema, "ema.")) tensors[k] = v;
    for (auto& [k, v] : optimizer.state()) tensors["adam." + k] = v;
    io::saveTensors(checkpoint, tensors, {{"step", std::to_string(step)}, {"phase", "denoiser"}});
  };

  const auto alphasCumprod = sched::makeScheduler("ddim", model.schedulerConfig)->alphasCumprod().to(torch::kFloat32);
  const int64_t n = data.latentMean.size(0);
  const int trainSteps = model.schedulerConfig.numTrainTimesteps;
  const auto began = Clock::now();
  bool stopped = false;
  for (int step = start; step < o.steps; ++step) {
    auto gen = at::detail::createCPUGenerator(stepSeed(options.seed, DenoiserBatch, step));
    const auto index = torch::randint(n, {o.batch}, gen, torch::kLong);
    const auto mean = data.latentMean.index_select(0, index), std = data.latentStd.index_select(0, index);
    const auto z0 = (mean + std * torch::randn(mean.sizes(), gen)) * scalingFactor;
    const auto t = torch::randint(trainSteps, {o.batch}, gen, torch::kLong);
    const auto noise = torch::randn(z0.sizes(), gen);
    const auto acp = alphasCumprod.index_select(0, t).view({-1, 1, 1, 1});
    const auto noisy = acp.sqrt() * z0 + (1 - acp).sqrt() * noise;
    const auto context = model.textEncoder->forward(data.tokenIds.index_select(0, index)).lastHiddenState;
    const auto prediction = model.unet->forward(noisy, t.to(torch::kFloat32), context);
    auto perSample = (prediction - noise).pow(2).mean({1, 2, 3});
    if (o.minSnrGamma > 0) {
      const auto snr = (acp / (1 - acp)).view({-1});
      perSample = perSample * (snr.clamp_max(o.minSnrGamma) / snr);
    }
    const auto loss = perSample.mean();
    optimizer.zeroGrad();
    loss.backward();
    std::vector<torch::Tensor> tensors;
    for (auto& [name, p] : params) tensors.push_back(p);
    torch::nn::utils::clip_grad_norm_(tensors, 1.0);
    optimizer.step(cosineLearningRate(step, o.steps, o.warmup, o.learningRate, o.finalLearningRate));
    {
      torch::NoGradGuard noGrad;
      const double decay = std::min(o.emaDecay, (1.0 + step) / (10.0 + step));
      for (std::size_t i = 0; i < ema.size(); ++i) ema[i].second.mul_(decay).add_(params[i].second.detach(), 1 - decay);
    }
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw Error("denoiser training diverged at step " + std::to_string(step) +
                                           " (the last checkpoint is kept)");
    const bool last = step + 1 == o.steps;
    if ((step + 1) % options.checkpointEvery == 0 || last) save(step + 1);
    if (onProgress &&
        !onProgress({"denoiser", step + 1, o.steps, value, std::chrono::duration<double>(Clock::now() - began).count()})) {
      save(step + 1);
      stopped = true;
      break;
    }
  }
  // The shipped weights are the exponential moving average.
  torch::NoGradGuard noGrad;
  for (std::size_t i = 0; i < ema.size(); ++i) params[i].second.copy_(ema[i].second);
  for (auto& [name, p] : params) p.set_requires_grad(false);
  return !stopped;
}

void trainToyModel(const ToyTrainingOptions& options, std::shared_ptr<text::ClipTokenizer> tokenizer,
                   const fs::path& out, const TrainingCallback& onProgress) {
  if (options.workDir.empty()) throw InvalidArgument("toy-model training needs a work folder for its checkpoints");
  fs::create_directories(options.workDir);
  auto configs = toyModelConfigs();
  auto model = createToyModel(configs, std::move(tokenizer), options.seed);

  const fs::path vaeFile = options.workDir / "vae.safetensors";
  double scaling = 0;
  if (fs::exists(vaeFile)) {
    const auto file = io::SafetensorsFile::open(vaeFile);
    assignByName(trainableParameters(*model.vae, ""), io::loadAll(file, io::TensorMemory::Copies), vaeFile.string());
    scaling = std::stod(file.metadata().at("scaling_factor"));
    log::info("using the trained VAE in " + vaeFile.string());
  } else {
    if (!trainVae(model, options, onProgress)) return;
    scaling = latentScalingFactor(model, options.seed, 2048);
    std::map<std::string, torch::Tensor> weights;
    for (const auto& item : model.vae->named_parameters()) weights[item.key()] = item.value().detach();
    io::saveTensors(vaeFile, weights, {{"scaling_factor", std::to_string(scaling)}});
  }
  for (auto& p : model.vae->parameters()) p.set_requires_grad(false);
  configs.vae["scaling_factor"] = scaling;

  const auto data = encodeDataset(model, options, onProgress);
  if (!trainDenoiser(model, data, scaling, options, onProgress)) return;
  saveModelFolder(model, configs, out);
}

}  // namespace respo::toyworld
