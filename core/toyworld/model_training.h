#pragma once
// Training of the embedded default model from scratch, in our own C++: first the AutoencoderKL on
// toy-world renders, then the text encoder and the UNet together on the encoded, captioned dataset
// (epsilon prediction on SD's noise schedule, captions dropped for classifier-free guidance).
// Everything is drawn from one seed; checkpoints are written atomically and a resumed run continues
// exactly where the interrupted one stopped (each step's randomness depends on the seed and the step
// number only).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/respo/trainer.h"
#include "core/toyworld/toy_model.h"
#include "core/toyworld/world.h"

namespace respo::toyworld {

struct TrainingProgress {
  std::string phase;  // "vae", "dataset", "denoiser"
  int step = 0, total = 0;
  double loss = 0;
  double seconds = 0;  // since the phase started (this process)
};
// Return false to stop (a checkpoint is written first).
using TrainingCallback = std::function<bool(const TrainingProgress&)>;

struct VaeTrainingOptions {
  int steps = 2000;
  int batch = 16;
  double learningRate = 1e-3;
  double klWeight = 1e-5;  // per latent element relative to the per-pixel reconstruction loss
  int warmup = 100;
};

struct DenoiserTrainingOptions {
  int steps = 5000;
  int batch = 64;
  double learningRate = 1e-3;
  double finalLearningRate = 1e-4;  // cosine decay to this
  int warmup = 200;
  double emaDecay = 0.999;
  double minSnrGamma = 5;  // Min-SNR loss weighting (Hang et al. 2023); 0 = plain MSE
  int datasetSize = 40000;
};

struct ToyTrainingOptions {
  std::uint64_t seed = 1;
  VaeTrainingOptions vae;
  DenoiserTrainingOptions denoiser;
  DatasetOptions dataset;
  int checkpointEvery = 250;
  std::filesystem::path workDir;  // checkpoints; resumed from when present
};

// AdamW: the concept trainer's Adam (betas 0.9/0.999, eps 1e-8) per parameter, with decoupled
// weight decay, and its state as plain named tensors saved in safetensors with the weights.
class AdamW {
 public:
  AdamW(std::vector<std::pair<std::string, torch::Tensor>> parameters, double weightDecay);
  void zeroGrad();
  void step(double learningRate);
  std::map<std::string, torch::Tensor> state() const;  // "exp.<name>", "sq.<name>"
  void loadState(const std::map<std::string, torch::Tensor>& state, std::int64_t steps);
  std::int64_t steps() const { return steps_; }
  const std::vector<std::pair<std::string, torch::Tensor>>& parameters() const { return parameters_; }

 private:
  std::vector<std::pair<std::string, torch::Tensor>> parameters_;
  std::vector<concepts::AdamState> states_;
  double weightDecay_;
  std::int64_t steps_ = 0;
};

// Renders -> [B, 3, 64, 64] in [-1, 1].
torch::Tensor imagesToTensor(const std::vector<io::RgbImage>& images);

// The encoded training set of the denoiser: latent mean and std (unscaled) and caption token ids.
struct EncodedDataset {
  torch::Tensor latentMean, latentStd;  // [N, 4, 16, 16]
  torch::Tensor tokenIds;               // [N, 77] int64
  std::vector<Sample> samples;
};

// The whole recipe: trains (or resumes) each phase and writes the model folder to `out`.
void trainToyModel(const ToyTrainingOptions& options, std::shared_ptr<text::ClipTokenizer> tokenizer,
                   const std::filesystem::path& out, const TrainingCallback& onProgress = {});

// The phases, for tests and tools. Each returns early with false when the callback asked to stop.
bool trainVae(pipeline::StableDiffusionModel& model, const ToyTrainingOptions& options,
              const TrainingCallback& onProgress = {});
// 1 / std of the latents of `count` renders (SD's scaling_factor convention).
double latentScalingFactor(pipeline::StableDiffusionModel& model, std::uint64_t seed, int count);
EncodedDataset encodeDataset(pipeline::StableDiffusionModel& model, const ToyTrainingOptions& options,
                             const TrainingCallback& onProgress = {});
bool trainDenoiser(pipeline::StableDiffusionModel& model, const EncodedDataset& data, double scalingFactor,
                   const ToyTrainingOptions& options, const TrainingCallback& onProgress = {});

}  // namespace respo::toyworld
