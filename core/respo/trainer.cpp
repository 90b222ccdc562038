#include "core/respo/trainer.h"

#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/pipeline/text_to_image.h"
#include "core/schedulers/scheduler.h"

namespace respo::concepts {
namespace {

// The rows of several conditionings, in order.
pipeline::PromptConditioning catRows(const std::vector<pipeline::PromptConditioning>& parts) {
  auto out = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) out = pipeline::PromptConditioning::cat(out, parts[i]);
  return out;
}

}  // namespace

void AdamState::update(torch::Tensor& param, const torch::Tensor& grad, double lr) {
  torch::NoGradGuard noGrad;
  constexpr double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  if (!exp.defined()) exp = torch::zeros_like(param), expSq = torch::zeros_like(param);
  ++step;
  exp.mul_(beta1).add_(grad, 1 - beta1);
  expSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
  const double correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double correction2 = 1 - std::pow(beta2, static_cast<double>(step));
  const auto denom = (expSq.sqrt() / std::sqrt(correction2)).add_(eps);
  param.addcdiv_(exp, denom, -lr / correction1);
}

ConceptTrainer::ConceptTrainer(pipeline::StableDiffusionModel& model, const ConceptSettings& settings)
    : model_(model), generator_(at::detail::createCPUGenerator(settings.seed + 1)) {
  const auto problems = settings.validate();
  if (!problems.empty()) throw InvalidArgument("concept settings: " + problems.front());
  module_.settings = settings;
  const auto& config = model.unet->config();
  const int factor = model.vaeScaleFactor();
  const int size = settings.resolution > 0 ? settings.resolution : model.nativeImageSize();
  if (size % factor != 0) throw InvalidArgument("training resolution must be a multiple of " + std::to_string(factor));
  // The bottleneck must keep at least one position: the image is downsampled by the VAE and then by
  // each of the UNet's down blocks.
  const int smallest = factor * config.downsamplingFactor();
  if (size < smallest)
    throw InvalidArgument("training resolution " + std::to_string(size) + " is too small for this model (at least " +
                          std::to_string(smallest) + ")");
  module_.settings.resolution = size;
  latentShape_ = {config.inChannels, size / factor, size / factor};
  const auto h = model.unet->bottleneckShape(latentShape_[1], latentShape_[2]);

  // Reference init: U(-1/sqrt(10), 1/sqrt(10)) from a fixed seed (PyTorch's default for a 10-input
  // Linear layer, which is what the reference code's module is).
  auto init = at::detail::createCPUGenerator(settings.seed);
  const double bound = 1.0 / std::sqrt(10.0);
  auto make = [&] {
    auto t = torch::empty({1, h[0], h[1], h[2]});
    if (settings.init == "zero") t.zero_();
    else t.uniform_(-bound, bound, init);
    return t.to(model.device, torch::kFloat32);
  };
  module_.ram = make();
  module_.sam = make();
  module_.modelFingerprint = modelFingerprint(model.unet);

  torch::NoGradGuard noGrad;
  const auto sizeIds = pipeline::sizeConditioning(model, size, size);
  auto encode = [&](const std::string& prompt) {
    auto c = pipeline::encodePrompt(model, prompt);
    c.timeIds = sizeIds;
    return c;
  };
  for (const auto& prompt : settings.neutralPrompts()) neutral_.push_back(encode(prompt));
  for (const auto& prompt : settings.targetPrompts()) target_.push_back(encode(prompt));
  // The unconditional side: as generation makes it from an empty (or given) negative prompt.
  negative_ = pipeline::encodeNegativePrompt(model, settings.negativePrompt, neutral_.front());
  negative_.timeIds = sizeIds;
  empty_ = pipeline::encodeNegativePrompt(model, "", neutral_.front());
  empty_.timeIds = sizeIds;
  trajectoryScheduler_ = sched::makeScheduler("ddim", model.schedulerConfig);
  trajectoryScheduler_->setTimesteps(settings.trajectorySteps);
  trajectoryTimesteps_ = trajectoryScheduler_->timesteps();
}

torch::Tensor ConceptTrainer::unet(const torch::Tensor& latents, const torch::Tensor& t,
                                   const pipeline::PromptConditioning& cond, const torch::Tensor& delta) {
  models::UNetExtras extras;
  cond.addTo(extras);
  if (delta.defined())
    extras.bottleneckHook = [&delta](const torch::Tensor& h, const models::BottleneckContext&) {
      return h + delta.to(h.scalar_type());
    };
  return model_.unet->forward(latents.to(model_.dtype), t, cond.context, extras).to(torch::kFloat32);
}

double ConceptTrainer::lossTimestep(int k) const {
  if (module_.settings.timestep == TimestepConvention::Trajectory) return trajectoryTimesteps_[static_cast<std::size_t>(k)];
  // The reference code's convention: t = 1000 - 20k for 50 trajectory steps.
  const int train = model_.schedulerConfig.numTrainTimesteps;
  return train - static_cast<double>(train / module_.settings.trajectorySteps) * k;
}

torch::Tensor ConceptTrainer::trajectoryLatent(int k, const torch::Tensor& noise, int prompt) {
  torch::NoGradGuard noGrad;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(model_.device);
  const auto context =
      pipeline::PromptConditioning::cat(empty_, neutral_[static_cast<std::size_t>(prompt) % neutral_.size()]);
  // The current modules act on the conditional half only.
  const auto delta = torch::cat({torch::zeros_like(module_.ram), module_.ram + module_.sam});
  auto z = noise.to(model_.device, torch::kFloat32);
  const double w = module_.settings.trajectoryGuidance;
  for (int i = 0; i < k; ++i) {
    const auto t = torch::full({2}, trajectoryTimesteps_[static_cast<std::size_t>(i)], options);
    const auto eps = unet(torch::cat({z, z}), t, context, delta).chunk(2);
    z = trajectoryScheduler_->step(eps[0] + w * (eps[1] - eps[0]), static_cast<std::size_t>(i), z);
  }
  return z;
}

StepLosses ConceptTrainer::step(const std::vector<int>& ks, const torch::Tensor& noise, const std::vector<int>& prompts) {
  const auto& s = module_.settings;
  const int64_t batch = static_cast<int64_t>(ks.size());
  if (!prompts.empty() && prompts.size() != ks.size())
    throw InvalidArgument("one prompt index per batch element is needed");
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(model_.device);
  std::vector<torch::Tensor> latents;
  std::vector<pipeline::PromptConditioning> neutrals, targets;
  std::vector<double> times;
  for (int64_t b = 0; b < batch; ++b) {
    const auto j = static_cast<std::size_t>(prompts.empty() ? 0 : prompts[static_cast<std::size_t>(b)]);
    latents.push_back(trajectoryLatent(ks[b], noise[b].unsqueeze(0), static_cast<int>(j)));
    times.push_back(lossTimestep(ks[b]));
    neutrals.push_back(neutral_[j % neutral_.size()]);
    targets.push_back(target_[j % target_.size()]);
  }
  const auto z = torch::cat(latents);
  const auto t = torch::tensor(times, options);
  const auto neutral = catRows(neutrals);

  // One no-gradient call for the target's two halves and the neutral prompt's prediction, whose
  // down path the two losses then share: R and S act at the bottleneck, so only the up path sees
  // them (and only the up path is differentiated).
  torch::Tensor target, original;
  models::UNetDownPath shared;
  {
    torch::NoGradGuard noGrad;
    const auto cond = pipeline::PromptConditioning::cat(
        pipeline::PromptConditioning::cat(negative_.repeated(batch), catRows(targets)), neutral);
    models::UNetExtras extras;
    cond.addTo(extras);
    const auto down = model_.unet->encode(torch::cat({z, z, z}).to(model_.dtype), torch::cat({t, t, t}), cond.context,
                                          extras);
    const auto eps = model_.unet->decode(down, down.bottleneck).to(torch::kFloat32).chunk(3);
    target = eps[0] + s.targetGuidance * (eps[1] - eps[0]);
    original = eps[2];
    shared = down.rows(2 * batch, batch);
  }
  auto withDelta = [&](const torch::Tensor& delta) {
    return model_.unet->decode(shared, shared.bottleneck + delta.to(shared.bottleneck.scalar_type()))
        .to(torch::kFloat32);
  };

  auto ram = module_.ram.detach().requires_grad_(true);
  const auto responsible = (withDelta(ram) - target).pow(2).mean();
  responsible.backward();
  ramAdam_.update(module_.ram, ram.grad(), s.ramLearningRate);

  auto sam = module_.sam.detach().requires_grad_(true);
  const auto semantic = s.semanticWeight * (withDelta(module_.ram.detach() + sam) - original).pow(2).mean();
  semantic.backward();
  samAdam_.update(module_.sam, sam.grad(), s.samLearningRate);

  ++module_.stepsDone;
  module_.lastResponsibleLoss = responsible.item<double>();
  module_.lastSemanticLoss = semantic.item<double>();
  return {module_.lastResponsibleLoss, module_.lastSemanticLoss};
}

ConceptModule ConceptTrainer::train(const TrainingCallback& onStep, const CheckpointOptions& checkpoints) {
  const auto& s = module_.settings;
  while (module_.stepsDone < s.steps) {
    std::vector<int> ks;
    for (int b = 0; b < s.batch; ++b)
      ks.push_back(static_cast<int>(torch::randint(0, s.maxTrajectoryStep + 1, {1}, generator_).item<int64_t>()));
    const auto noise = torch::randn({s.batch, latentShape_[0], latentShape_[1], latentShape_[2]}, generator_);
    // Prompt lists: one index per element (a single prompt pair draws nothing, so runs without lists
    // keep the reference's random stream).
    std::vector<int> prompts;
    const auto lists = static_cast<int64_t>(std::max(neutral_.size(), target_.size()));
    for (int b = 0; lists > 1 && b < s.batch; ++b)
      prompts.push_back(static_cast<int>(torch::randint(0, lists, {1}, generator_).item<int64_t>()));
    const auto backup = module_;
    const auto ramBackup = ramAdam_, samBackup = samAdam_;
    const auto losses = step(ks, noise, prompts);
    if (!std::isfinite(losses.responsible) || !std::isfinite(losses.semantic)) {
      module_ = backup;
      ramAdam_ = ramBackup, samAdam_ = samBackup;
      throw Error("training diverged: the loss became NaN or infinite at step " + std::to_string(backup.stepsDone + 1) +
                  (checkpoints.path.empty() ? std::string(" (lower the learning rates)")
                                            : "; the last good checkpoint " + checkpoints.path.string() + " is kept"));
    }
    history_.push_back(losses);
    const bool keepGoing = !onStep || onStep({module_.stepsDone, s.steps, losses.responsible, losses.semantic});
    const bool due = module_.stepsDone % std::max(1, checkpoints.every) == 0 || module_.stepsDone == s.steps;
    if (!checkpoints.path.empty() && (due || !keepGoing)) saveCheckpoint(checkpoints.path);
    if (!keepGoing) throw Cancelled("training stopped at step " + std::to_string(module_.stepsDone));
  }
  return module_;
}

void ConceptTrainer::saveCheckpoint(const std::filesystem::path& path) const {
  std::map<std::string, torch::Tensor> state{{"rng_state", generator_.get_state()}};
  if (!history_.empty()) {
    auto losses = torch::empty({static_cast<int64_t>(history_.size()), 2}, torch::kFloat64);
    auto view = losses.accessor<double, 2>();
    for (std::size_t i = 0; i < history_.size(); ++i)
      view[static_cast<int64_t>(i)][0] = history_[i].responsible, view[static_cast<int64_t>(i)][1] = history_[i].semantic;
    state["loss_history"] = losses;
  }
  if (ramAdam_.exp.defined()) {
    state["adam.ram.exp"] = ramAdam_.exp, state["adam.ram.exp_sq"] = ramAdam_.expSq;
    state["adam.sam.exp"] = samAdam_.exp, state["adam.sam.exp_sq"] = samAdam_.expSq;
    state["adam.steps"] = torch::tensor({ramAdam_.step, samAdam_.step}, torch::kLong);
  }
  saveConcept(path, module_, state);
}

void ConceptTrainer::resumeFrom(const std::filesystem::path& checkpoint) {
  const auto saved = loadConcept(checkpoint);
  const auto& s = module_.settings;
  if (saved.settings.name != s.name || saved.settings.seed != s.seed || saved.hShape() != module_.hShape() ||
      saved.settings.targetPrompts() != s.targetPrompts() || saved.settings.neutralPrompts() != s.neutralPrompts() ||
      saved.settings.negativePrompt != s.negativePrompt)
    throw InvalidArgument(checkpoint.string() + ": checkpoint belongs to another concept or setting");
  if (saved.modelFingerprint != module_.modelFingerprint)
    throw InvalidArgument(checkpoint.string() + ": checkpoint was trained on another model");
  const auto file = io::SafetensorsFile::open(checkpoint);
  const std::string where = checkpoint.string();
  // Everything a checkpoint holds is checked before any of it is used: a damaged or foreign file is
  // a clear error, never a crash inside LibTorch.
  auto tensor = [&](const char* name, io::DType dtype, const std::vector<int64_t>& shape) {
    if (!file.contains(name)) throw FormatError(where + ": the checkpoint lacks '" + name + "'");
    const auto& info = file.tensor(name);
    if (info.dtype != dtype || (!shape.empty() && info.shape != shape))
      throw FormatError(where + ": the checkpoint's '" + name + "' has another type or shape than a checkpoint of this module");
    auto t = io::copyTensor(file, info);
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>())
      throw FormatError(where + ": the checkpoint's '" + name + "' holds values that are not finite; it is damaged");
    return t;
  };
  const std::vector<int64_t> moduleShape = saved.ram.sizes().vec();
  const auto rng = tensor("rng_state", io::DType::U8, {});
  if (rng.dim() != 1 || rng.numel() != generator_.get_state().numel())
    throw FormatError(where + ": the checkpoint's random state has the wrong size");
  std::vector<StepLosses> history;
  if (file.contains("loss_history")) {
    const auto losses = tensor("loss_history", io::DType::F64, {}).contiguous();
    // A history that does not match the steps done is left out rather than shown wrong.
    if (losses.dim() == 2 && losses.size(0) == saved.stepsDone && losses.size(1) == 2) {
      const auto view = losses.accessor<double, 2>();
      for (int64_t i = 0; i < losses.size(0); ++i) history.push_back({view[i][0], view[i][1]});
    }
  }
  AdamState ram = ramAdam_, sam = samAdam_;
  if (file.contains("adam.steps")) {
    const auto steps = tensor("adam.steps", io::DType::I64, {2});
    const auto ramSteps = steps[0].item<int64_t>(), samSteps = steps[1].item<int64_t>();
    if (ramSteps < 0 || samSteps < 0 || ramSteps > 100'000'000 || samSteps > 100'000'000)
      throw FormatError(where + ": the checkpoint's optimiser step counts are out of range");
    ram = {tensor("adam.ram.exp", io::DType::F32, moduleShape).to(model_.device),
           tensor("adam.ram.exp_sq", io::DType::F32, moduleShape).to(model_.device), ramSteps};
    sam = {tensor("adam.sam.exp", io::DType::F32, moduleShape).to(model_.device),
           tensor("adam.sam.exp_sq", io::DType::F32, moduleShape).to(model_.device), samSteps};
    if ((ram.expSq < 0).any().item<bool>() || (sam.expSq < 0).any().item<bool>())
      throw FormatError(where + ": the checkpoint's optimiser state is damaged (negative second moments)");
  }
  module_.ram = saved.ram.to(model_.device);
  module_.sam = saved.sam.to(model_.device);
  module_.stepsDone = saved.stepsDone;
  module_.lastResponsibleLoss = saved.lastResponsibleLoss;
  module_.lastSemanticLoss = saved.lastSemanticLoss;
  generator_.set_state(rng);
  history_ = std::move(history);
  ramAdam_ = std::move(ram);
  samAdam_ = std::move(sam);
}

std::vector<std::string> presetNames() {
  return {"gender-woman", "gender-man", "race-black", "race-white", "race-asian", "violence", "sexual"};
}

ConceptSettings preset(const std::string& name) {
  ConceptSettings s;
  s.steps = 5000;
  if (name.rfind("gender-", 0) == 0 || name.rfind("race-", 0) == 0) {
    const bool gender = name.rfind("gender-", 0) == 0;
    s.kind = ConceptKind::Fairness;
    s.group = gender ? "gender" : "race";
    s.neutralPrompt = "a person";
    s.negativePrompt = "";
    s.targetGuidance = 4;
    s.ramLearningRate = gender ? 1e-2 : 1e-1;
    s.semanticWeight = gender ? 1.0 : 0.3;
    if (name == "gender-woman") s.name = "a woman", s.samLearningRate = 1e-3;
    else if (name == "gender-man") s.name = "a man", s.samLearningRate = 1e-4;
    else if (name == "race-black") s.name = "a black-race person", s.samLearningRate = 1e-2;
    else if (name == "race-white") s.name = "a white-race person", s.samLearningRate = 1e-2;
    else if (name == "race-asian") s.name = "a Asian-race person", s.samLearningRate = 1e-2;
    else throw InvalidArgument("unknown preset '" + name + "'");
    s.targetPrompt = s.name;
    return s;
  }
  if (name == "violence" || name == "sexual") {
    s.kind = ConceptKind::Safety;
    s.group = "safety";
    s.name = name;
    s.neutralPrompt = s.targetPrompt = name == "violence" ? "a scene" : "a gorgeous person";
    s.negativePrompt = name;
    s.targetGuidance = 12;
    s.ramLearningRate = 1e-2;
    s.samLearningRate = 1e-4;
    s.semanticWeight = 1;
    return s;
  }
  std::string names;
  for (const auto& n : presetNames()) names += (names.empty() ? "" : ", ") + n;
  throw InvalidArgument("unknown preset '" + name + "' (choose " + names + ")");
}

std::string modelFingerprint(models::UNet2DConditionModel& unet) {
  // FNV-1a over every parameter's name and shape and the bytes of a few tensors: cheap on a 3 GB
  // UNet, and different for any two differently trained models.
  std::uint64_t hash = 1469598103934665603ull;
  auto mix = [&](const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  };
  for (const auto& item : unet->named_parameters()) {
    mix(item.key().data(), item.key().size());
    for (auto d : item.value().sizes()) mix(&d, sizeof d);
  }
  const auto params = unet->named_parameters();
  for (const char* name : {"conv_in.weight", "conv_out.weight", "time_embedding.linear_1.weight"}) {
    if (!params.contains(name)) continue;
    const auto t = params[name].detach().to(torch::kCPU, torch::kFloat32).contiguous();
    mix(t.data_ptr(), static_cast<std::size_t>(t.nbytes()));
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace respo::concepts
