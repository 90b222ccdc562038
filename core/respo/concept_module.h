#pragma once
// A RespoDiff concept module: two learned tensors of the UNet bottleneck's shape, RAM (the
// responsible-concept module) and SAM (the semantic module), added to h on the conditional
// branch of classifier-free guidance (paper §3; method.md). Stored as one .safetensors file with
// tensors `ram` and `sam` and every training setting in the header's metadata.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/io/safetensors.h"

namespace respo::concepts {

enum class ConceptKind { Fairness, Safety };
// Which timestep the trainer's loss uses: the reference code's t = 1000 - 20k, or the timestep the
// DDIM trajectory latent actually sits at (981 - 20k for SD1's leading spacing).
enum class TimestepConvention { Reference, Trajectory };

struct ConceptSettings {
  std::string name;            // "a woman"
  std::string group;           // "gender"; safety concepts: "safety"
  ConceptKind kind = ConceptKind::Fairness;
  std::string neutralPrompt = "a person";
  std::string targetPrompt;    // fairness: the attribute; safety: the safe scene (often = neutral)
  std::string negativePrompt;  // fairness: ""; safety: the unsafe concept
  double targetGuidance = 4.0;       // w_tar
  double trajectoryGuidance = 3.0;   // CFG of the on-trajectory sampler
  double ramLearningRate = 1e-2;
  double samLearningRate = 1e-4;
  double semanticWeight = 1.0;       // lambda
  int steps = 5000;
  int batch = 1;
  std::uint64_t seed = 0;
  int trajectorySteps = 50;          // the DDIM schedule the latents are drawn on
  int maxTrajectoryStep = 48;        // k ~ U{0..48}
  std::string init = "uniform";      // "uniform" (reference: U(-1/sqrt(10), 1/sqrt(10))) or "zero"
  TimestepConvention timestep = TimestepConvention::Reference;
  int resolution = 0;                // image size the module was trained at (0: model's native)

  std::vector<std::string> validate() const;  // problems, empty when fine
};

struct ConceptModule {
  ConceptSettings settings;
  torch::Tensor ram, sam;  // [1, C, H, W] float32
  int stepsDone = 0;
  double lastResponsibleLoss = 0, lastSemanticLoss = 0;
  std::string modelFingerprint;  // of the UNet the module was trained on
  std::string moduleType = "constant";

  std::vector<int64_t> hShape() const { return {ram.size(1), ram.size(2), ram.size(3)}; }
};

// Written atomically. Throws InvalidArgument when ram/sam are missing or differ in shape.
// `extra` tensors ride along (the trainer's optimiser and RNG state in a checkpoint).
void saveConcept(const std::filesystem::path& path, const ConceptModule& module,
                 const std::map<std::string, torch::Tensor>& extra = {});
// Throws FormatError naming the file for a foreign or damaged file.
ConceptModule loadConcept(const std::filesystem::path& path);

const char* kindName(ConceptKind kind);
const char* conventionName(TimestepConvention convention);

}  // namespace respo::concepts
