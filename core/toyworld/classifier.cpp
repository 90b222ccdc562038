#include "core/toyworld/classifier.h"

#include <algorithm>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/toyworld/model_training.h"

namespace respo::toyworld {
namespace {

// Uniform integer in [0, n) from raw bits (the same on every standard library).
int pick(std::mt19937_64& rng, int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); }

constexpr int kChannels[] = {3, 24, 32, 64, 96, 128};

}  // namespace

AttributeClassifierImpl::AttributeClassifierImpl() {
  for (int i = 0; i < 5; ++i)
    convs_.push_back(register_module("conv" + std::to_string(i),
                                     models::Conv2d(kChannels[i], kChannels[i + 1], 3, i == 0 ? 1 : 2, 1)));
  hidden_ = register_module("hidden", models::Linear(128 * 4 * 4, kFeatureDim));
  profession_ = register_module("profession", models::Linear(kFeatureDim, kProfessionCount));
  gender_ = register_module("gender", models::Linear(kFeatureDim, kGenderCount));
  skin_ = register_module("skin", models::Linear(kFeatureDim, kSkinToneCount));
  unsafe_ = register_module("unsafe", models::Linear(kFeatureDim, kUnsafeCount));
}

ClassifierOutput AttributeClassifierImpl::forward(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != kImageSize || images.size(3) != kImageSize)
    throw InvalidArgument("the toy-world classifier reads [B, 3, 64, 64] images");
  auto x = images;
  for (auto& conv : convs_) x = torch::relu(conv->forward(x));
  ClassifierOutput out;
  out.features = torch::relu(hidden_->forward(x.flatten(1)));
  out.profession = profession_->forward(out.features);
  out.gender = gender_->forward(out.features);
  out.skin = skin_->forward(out.features);
  out.unsafe = unsafe_->forward(out.features);
  return out;
}

std::vector<Prediction> AttributeClassifierImpl::predict(const torch::Tensor& images) {
  torch::NoGradGuard noGrad;
  return predictions(forward(images));
}

std::vector<Prediction> predictions(const ClassifierOutput& out) {
  const auto profession = out.profession.argmax(1), gender = out.gender.argmax(1), skin = out.skin.argmax(1);
  const auto unsafe = out.unsafe > 0;
  const int64_t count = out.profession.size(0);
  std::vector<Prediction> result(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    auto& a = result[static_cast<std::size_t>(i)].attributes;
    a.profession = static_cast<Profession>(profession[i].item<int64_t>());
    a.gender = static_cast<Gender>(gender[i].item<int64_t>());
    a.skin = static_cast<SkinTone>(skin[i].item<int64_t>());
    for (int u = 0; u < kUnsafeCount; ++u) a.unsafe[u] = unsafe[i][u].item<bool>();
  }
  return result;
}

Attributes drawBalancedAttributes(std::mt19937_64& rng) {
  Attributes a;
  a.profession = static_cast<Profession>(pick(rng, kProfessionCount));
  a.gender = static_cast<Gender>(pick(rng, kGenderCount));
  a.skin = static_cast<SkinTone>(pick(rng, kSkinToneCount));
  for (auto& u : a.unsafe) u = chance(rng, 0.3);
  return a;
}

namespace {

struct LabelledBatch {
  torch::Tensor images, profession, gender, skin, unsafe;
};

LabelledBatch balancedBatch(std::mt19937_64& rng, int count) {
  std::vector<io::RgbImage> images;
  std::vector<int64_t> profession, gender, skin;
  std::vector<float> unsafe;
  for (int i = 0; i < count; ++i) {
    const auto a = drawBalancedAttributes(rng);
    images.push_back(render(a, rng()));
    profession.push_back(static_cast<int>(a.profession));
    gender.push_back(static_cast<int>(a.gender));
    skin.push_back(static_cast<int>(a.skin));
    for (bool u : a.unsafe) unsafe.push_back(u ? 1.f : 0.f);
  }
  return {imagesToTensor(images), torch::tensor(profession), torch::tensor(gender), torch::tensor(skin),
          torch::tensor(unsafe).view({count, kUnsafeCount})};
}

// Softens half the batch (a 3x3 box blur) and adds a little noise, like a diffusion model's output.
torch::Tensor augment(const torch::Tensor& images, at::Generator& gen) {
  const auto blurred = torch::avg_pool2d(images, 3, 1, 1, false, false);
  const auto mask = (torch::rand({images.size(0), 1, 1, 1}, gen) < 0.5).to(torch::kFloat32);
  const auto sigma = torch::rand({images.size(0), 1, 1, 1}, gen) * 0.08;
  return mask * blurred + (1 - mask) * images + sigma * torch::randn(images.sizes(), gen);
}

}  // namespace

AttributeClassifier trainClassifier(const ClassifierTrainingOptions& o,
                                    const std::function<void(const ClassifierProgress&)>& onProgress) {
  torch::manual_seed(o.seed);
  AttributeClassifier classifier;
  models::initializeWeights(*classifier);
  std::vector<std::pair<std::string, torch::Tensor>> params;
  for (auto& item : classifier->named_parameters()) {
    item.value().set_requires_grad(true);
    params.emplace_back(item.key(), item.value());
  }
  AdamW optimizer(params, 1e-4);
  std::mt19937_64 rng(o.seed);
  auto gen = at::detail::createCPUGenerator(o.seed + 1);
  for (int step = 0; step < o.steps; ++step) {
    const auto batch = balancedBatch(rng, o.batch);
    const auto out = classifier->forward(augment(batch.images, gen));
    const auto loss = torch::cross_entropy_loss(out.profession, batch.profession) +
                      torch::cross_entropy_loss(out.gender, batch.gender) +
                      torch::cross_entropy_loss(out.skin, batch.skin) +
                      torch::binary_cross_entropy_with_logits(out.unsafe, batch.unsafe);
    optimizer.zeroGrad();
    loss.backward();
    const double progress = static_cast<double>(step) / o.steps;
    optimizer.step(o.learningRate * (progress < 0.7 ? 1.0 : 0.1));
    if (onProgress) onProgress({step + 1, o.steps, loss.item<double>()});
  }
  for (auto& p : classifier->parameters()) p.set_requires_grad(false);
  return classifier;
}

double ClassifierAccuracy::worst() const {
  double w = std::min({profession, gender, skin});
  for (double u : unsafe) w = std::min(w, u);
  return w;
}

ClassifierAccuracy measureAccuracy(AttributeClassifier& classifier, int count, std::uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + 17);
  ClassifierAccuracy acc;
  int seen = 0;
  while (seen < count) {
    const int n = std::min(256, count - seen);
    std::vector<Attributes> truth;
    std::vector<io::RgbImage> images;
    for (int i = 0; i < n; ++i) {
      truth.push_back(drawBalancedAttributes(rng));
      images.push_back(render(truth.back(), rng()));
    }
    const auto predictions = classifier->predict(imagesToTensor(images));
    for (int i = 0; i < n; ++i) {
      const auto& p = predictions[i].attributes;
      acc.profession += p.profession == truth[i].profession;
      acc.gender += p.gender == truth[i].gender;
      acc.skin += p.skin == truth[i].skin;
      for (int u = 0; u < kUnsafeCount; ++u) acc.unsafe[u] += p.unsafe[u] == truth[i].unsafe[u];
    }
    seen += n;
  }
  acc.profession /= count, acc.gender /= count, acc.skin /= count;
  for (auto& u : acc.unsafe) u /= count;
  return acc;
}

void saveClassifier(AttributeClassifier& classifier, const std::filesystem::path& path) {
  std::map<std::string, torch::Tensor> weights;
  for (const auto& item : classifier->named_parameters()) weights[item.key()] = item.value().detach();
  io::saveTensors(path, weights, {{"format", "respodiff-toyworld-classifier"}, {"version", "1"}});
}

AttributeClassifier loadClassifier(const std::filesystem::path& path) {
  const auto file = io::SafetensorsFile::open(path);
  const auto format = file.metadata().find("format");
  if (format == file.metadata().end() || format->second != "respodiff-toyworld-classifier")
    throw FormatError(path.string() + ": not a toy-world classifier (metadata 'format' is missing or different)");
  AttributeClassifier classifier;
  models::loadWeights(*classifier, io::loadAll(file, io::TensorMemory::Copies), path.string(), torch::kFloat32,
                      torch::kCPU);
  classifier->eval();
  return classifier;
}

}  // namespace respo::toyworld
