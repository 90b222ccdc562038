#pragma once
// The toy world's attribute classifier: a small CNN that reads profession, gender presentation,
// skin tone and each unsafe concept off a 64x64 image. It plays the part CLIP, NudeNet and Q16 play
// in the paper's evaluation; its penultimate features serve the Frechet distance (the FID analogue).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "core/models/layers.h"
#include "core/toyworld/world.h"

namespace respo::toyworld {

struct ClassifierOutput {
  torch::Tensor profession, gender, skin;  // logits [B, 9], [B, 2], [B, 3]
  torch::Tensor unsafe;                    // logits [B, kUnsafeCount] (sigmoid: present)
  torch::Tensor features;                  // penultimate features [B, kFeatureDim]
};

struct Prediction {
  Attributes attributes;  // the most likely class of each head; unsafe: probability > 0.5
};

class AttributeClassifierImpl : public torch::nn::Module {
 public:
  static constexpr int kFeatureDim = 128;
  AttributeClassifierImpl();
  // images [B, 3, 64, 64] in [-1, 1]
  ClassifierOutput forward(const torch::Tensor& images);
  std::vector<Prediction> predict(const torch::Tensor& images);

 private:
  std::vector<models::Conv2d> convs_;
  models::Linear hidden_{nullptr}, profession_{nullptr}, gender_{nullptr}, skin_{nullptr}, unsafe_{nullptr};
};
TORCH_MODULE(AttributeClassifier);

// The most likely class of each head, from an output already computed (one forward pass serves
// both the predictions and the features).
std::vector<Prediction> predictions(const ClassifierOutput& output);

struct ClassifierTrainingOptions {
  std::uint64_t seed = 7;
  int steps = 1500;
  int batch = 64;
  double learningRate = 2e-3;
};

struct ClassifierProgress {
  int step = 0, total = 0;
  double loss = 0;
};

// Trains on renders drawn from the world (balanced: every attribute uniform, unsafe half the time),
// with blur and noise so that it also reads the softer images a diffusion model makes.
AttributeClassifier trainClassifier(const ClassifierTrainingOptions& options,
                                    const std::function<void(const ClassifierProgress&)>& onProgress = {});

// Accuracy of each head on `count` held-out renders (seeds disjoint from training).
struct ClassifierAccuracy {
  double profession = 0, gender = 0, skin = 0;
  std::array<double, kUnsafeCount> unsafe{};
  double worst() const;
};
ClassifierAccuracy measureAccuracy(AttributeClassifier& classifier, int count, std::uint64_t seed = 999);

void saveClassifier(AttributeClassifier& classifier, const std::filesystem::path& path);
// FormatError for a file that is not a classifier of this shape.
AttributeClassifier loadClassifier(const std::filesystem::path& path);

// A balanced draw of attributes (for the classifier's training and test sets).
Attributes drawBalancedAttributes(std::mt19937_64& rng);

}  // namespace respo::toyworld
