#pragma once
// The RespoDiff trainer, following the reference procedure (method.md, "Training"): no dataset;
// each step draws k ~ U{0..maxTrajectoryStep} and z_T ~ N(0, I), runs k DDIM steps of the neutral
// prompt (CFG, current modules on) to reach z_k, then
//   L_resp = |eps(z_k, y_neu; h + R) - [eps(z_k, y_neg) + w_tar (eps(z_k, y_tar) - eps(z_k, y_neg))]|^2
//   (Adam step on R), then
//   L_sem  = lambda |eps(z_k, y_neu; h + R + S) - eps(z_k, y_neu)|^2   (Adam step on S).
// Every UNet call carries the model's full prompt conditioning (SDXL: pooled text embeddings and the
// size ids of the training resolution); an empty y_neg, and the trajectory's unconditional branch,
// are what generation uses for an empty negative prompt (zeros where the model forces them).
#include <filesystem>
#include <functional>
#include <vector>

#include "core/pipeline/stable_diffusion_model.h"
#include "core/respo/concept_module.h"
#include "core/schedulers/scheduler.h"

namespace respo::concepts {

struct TrainingProgress {
  int step = 0, total = 0;
  double responsibleLoss = 0, semanticLoss = 0;
};
// Return false to stop: the trainer writes a checkpoint (when it has a path) and throws Cancelled.
using TrainingCallback = std::function<bool(const TrainingProgress&)>;

struct CheckpointOptions {
  std::filesystem::path path;  // empty: no checkpoints
  int every = 100;             // steps between checkpoints
};

struct StepLosses {
  double responsible = 0, semantic = 0;
};

// Adam as torch.optim.Adam computes it (betas 0.9/0.999, eps 1e-8, no weight decay), kept by hand
// so its state can be checkpointed and resumed exactly.
struct AdamState {
  torch::Tensor exp, expSq;
  int64_t step = 0;
  void update(torch::Tensor& param, const torch::Tensor& grad, double lr);
};

class ConceptTrainer {
 public:
  ConceptTrainer(pipeline::StableDiffusionModel& model, const ConceptSettings& settings);

  // Continues a run from a checkpoint this trainer wrote (same settings and model required).
  void resumeFrom(const std::filesystem::path& checkpoint);
  // Trains until settings.steps; returns the module. NaN losses stop the run with an error and keep
  // the last checkpoint.
  ConceptModule train(const TrainingCallback& onStep = {}, const CheckpointOptions& checkpoints = {});
  // One step with given trajectory lengths (one per batch element), noise [B, C, h, w] and, when
  // training from prompt lists, each element's prompt index j (neutral j mod N, target j mod M).
  StepLosses step(const std::vector<int>& ks, const torch::Tensor& noise, const std::vector<int>& prompts = {});
  // The latent z_k reached from `noise` after k DDIM steps of neutral prompt `prompt` (no gradient).
  torch::Tensor trajectoryLatent(int k, const torch::Tensor& noise, int prompt = 0);
  // The UNet timestep the losses use for trajectory step k.
  double lossTimestep(int k) const;

  const ConceptModule& module() const { return module_; }
  // The losses of every step done (kept in checkpoints, so a resumed run knows its whole curve).
  const std::vector<StepLosses>& lossHistory() const { return history_; }
  void saveCheckpoint(const std::filesystem::path& path) const;

 private:
  torch::Tensor unet(const torch::Tensor& latents, const torch::Tensor& t, const pipeline::PromptConditioning& cond,
                     const torch::Tensor& delta);
  pipeline::StableDiffusionModel& model_;
  ConceptModule module_;
  AdamState ramAdam_, samAdam_;
  std::vector<StepLosses> history_;
  at::Generator generator_;
  std::vector<pipeline::PromptConditioning> neutral_, target_;  // per prompt of the lists, one row each
  pipeline::PromptConditioning negative_, empty_;                // one row each
  std::unique_ptr<sched::Scheduler> trajectoryScheduler_;  // DDIM; its step keeps no state
  std::vector<double> trajectoryTimesteps_;
  std::vector<int64_t> latentShape_;
};


// A short fingerprint of a UNet's weights (config shape + a sample of tensors), so a module is not
// applied to a model it was not trained for.
std::string modelFingerprint(models::UNet2DConditionModel& unet);

}  // namespace respo::concepts
