#include "core/models/layers.h"

#include <atomic>
#include <cmath>
#include <set>
#include <vector>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/models/winograd.h"

namespace respo::models {
namespace {

void kaimingUniform(torch::Tensor& weight, torch::Tensor& bias, int64_t fanIn) {
  torch::NoGradGuard noGrad;
  // PyTorch's default for Linear/Conv: kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const double bound = 1.0 / std::sqrt(static_cast<double>(fanIn));
  weight.uniform_(-bound, bound);
  if (bias.defined()) bias.uniform_(-bound, bound);
}

// Weights stored in a narrower type than the computation (half-precision storage, fp32 compute) are
// widened for the call; stored in the computation's type they are used as they are.
torch::Tensor widened(const torch::Tensor& t, const torch::Tensor& x) {
  return !t.defined() || t.scalar_type() == x.scalar_type() ? t : t.to(x.scalar_type());
}

}  // namespace

LinearImpl::LinearImpl(int64_t in, int64_t out, bool withBias) {
  weight = register_parameter("weight", torch::empty({out, in}));
  if (withBias) bias = register_parameter("bias", torch::empty({out}));
}
torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  const auto w = widened(weight, x);
  const auto b = widened(bias, x);
  // Batch invariance: for a handful of rows (the time embedding, one row per image) the CPU's matrix
  // product picks kernels by row count, so a row's value would depend on how many others share the
  // call. Row by row, an image computes the same whether it runs alone or batched with another (the
  // comparison's two sides in one batch give the pixels of two separate runs). Costs nothing
  // measurable: these products are a few hundred kilobytes of weights read a few times per step.
  constexpr int64_t kRowByRow = 16;
  if (x.dim() == 2 && x.size(0) > 1 && x.size(0) <= kRowByRow && x.device().is_cpu()) {
    std::vector<torch::Tensor> rows;
    rows.reserve(static_cast<std::size_t>(x.size(0)));
    for (int64_t i = 0; i < x.size(0); ++i) rows.push_back(torch::linear(x.slice(0, i, i + 1), w, b));
    return torch::cat(rows);
  }
  return torch::linear(x, w, b);
}
void LinearImpl::initialize() { kaimingUniform(weight, bias, weight.size(1)); }

Conv2dImpl::Conv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride_, int64_t padding_, bool withBias)
    : stride(stride_), padding(padding_) {
  weight = register_parameter("weight", torch::empty({out, in, kernel, kernel}));
  if (withBias) bias = register_parameter("bias", torch::empty({out}));
}
namespace {
std::atomic<uint64_t> weightsGeneration{0};
}  // namespace

void weightsChangedInPlace() { ++weightsGeneration; }

torch::Tensor Conv2dImpl::forward(const torch::Tensor& x) {
  if (winograd::applies(x, weight, stride, padding)) {
    if (!keepWinogradTransform) {
      winogradWeight_ = torch::Tensor();
      return winograd::conv3x3(x, winograd::transformWeight(weight), bias);
    }
    const auto version = weight.is_inference() ? 0u : static_cast<uint32_t>(weight._version());
    const uint64_t generation = weightsGeneration.load();
    if (!winogradWeight_.defined() || winogradSource_ != weight.data_ptr() || winogradVersion_ != version ||
        winogradGeneration_ != generation) {
      winogradWeight_ = winograd::transformWeight(weight);
      winogradSource_ = weight.data_ptr(), winogradVersion_ = version, winogradGeneration_ = generation;
    }
    return winograd::conv3x3(x, winogradWeight_, bias);
  }
  // Switched back to direct convolutions: the kept transform's memory is given back.
  if (winogradWeight_.defined() && winograd::mode() == winograd::Mode::Off) winogradWeight_ = torch::Tensor();
  // Dilation spelled out: the profiler counts a convolution's FLOPs only when it is given.
  return torch::conv2d(x, widened(weight, x), widened(bias, x), {stride, stride}, {padding, padding}, {1, 1});
}
void Conv2dImpl::initialize() { kaimingUniform(weight, bias, weight.size(1) * weight.size(2) * weight.size(3)); }

GroupNormImpl::GroupNormImpl(int64_t groups_, int64_t channels, double eps_) : groups(groups_), eps(eps_) {
  if (groups <= 0 || channels % groups != 0)
    throw InvalidArgument("GroupNorm: " + std::to_string(channels) + " channels cannot be split into " +
                          std::to_string(groups) + " groups");
  weight = register_parameter("weight", torch::empty({channels}));
  bias = register_parameter("bias", torch::empty({channels}));
}
torch::Tensor GroupNormImpl::forward(const torch::Tensor& x) { return torch::group_norm(x, groups, weight, bias, eps); }
void GroupNormImpl::initialize() {
  torch::NoGradGuard noGrad;
  weight.fill_(1);
  bias.zero_();
}

LayerNormImpl::LayerNormImpl(int64_t dim_, double eps_) : dim(dim_), eps(eps_) {
  weight = register_parameter("weight", torch::empty({dim}));
  bias = register_parameter("bias", torch::empty({dim}));
}
torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) { return torch::layer_norm(x, {dim}, weight, bias, eps); }
void LayerNormImpl::initialize() {
  torch::NoGradGuard noGrad;
  weight.fill_(1);
  bias.zero_();
}

EmbeddingImpl::EmbeddingImpl(int64_t count, int64_t dim) { weight = register_parameter("weight", torch::empty({count, dim})); }
torch::Tensor EmbeddingImpl::forward(const torch::Tensor& ids) { return torch::embedding(weight, ids); }
void EmbeddingImpl::initialize() {
  torch::NoGradGuard noGrad;
  weight.normal_(0, 1);
}

void loadWeights(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& weights,
                 const std::string& what, torch::Dtype dtype, torch::Device device, WeightStorage storage,
                 bool allowUnexpected) {
  torch::NoGradGuard noGrad;
  std::vector<std::string> missing, mismatched;
  std::set<std::string> used;
  auto adopt = [&](const std::string& name, torch::Tensor& target) {
    const auto found = weights.find(name);
    if (found == weights.end()) {
      missing.push_back(name);
      return;
    }
    used.insert(name);
    const auto& source = found->second;
    if (source.sizes() != target.sizes()) {
      std::ostringstream message;
      message << name << " is " << source.sizes() << " in the file but the config needs " << target.sizes();
      mismatched.push_back(message.str());
      return;
    }
    auto converted = source.to(device, target.is_floating_point() ? dtype : source.scalar_type());
    // to() returns the source itself when nothing changes: a view of the file mapping.
    if (storage == WeightStorage::Copied && converted.data_ptr() == source.data_ptr()) converted = converted.clone();
    target.set_data(converted);
  };
  for (auto& item : module.named_parameters(true)) adopt(item.key(), item.value());
  for (auto& item : module.named_buffers(true)) adopt(item.key(), item.value());

  auto list = [](const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < 5; ++i) text += (i ? ", " : "") + names[i];
    if (names.size() > 5) text += ", ... (" + std::to_string(names.size()) + " in all)";
    return text;
  };
  if (!mismatched.empty()) throw FormatError(what + ": shape mismatch: " + list(mismatched));
  if (!missing.empty()) throw FormatError(what + ": missing weights: " + list(missing));
  if (!allowUnexpected) {
    std::vector<std::string> unexpected;
    for (const auto& [name, tensor] : weights)
      if (!used.count(name)) unexpected.push_back(name);
    if (!unexpected.empty())
      throw FormatError(what + ": weights the model does not have (does the config match?): " + list(unexpected));
  }
}

void initializeWeights(torch::nn::Module& module) {
  for (auto& child : module.modules(/*include_self=*/true)) {
    if (auto* m = child->as<LinearImpl>()) m->initialize();
    else if (auto* c = child->as<Conv2dImpl>()) c->initialize();
    else if (auto* g = child->as<GroupNormImpl>()) g->initialize();
    else if (auto* l = child->as<LayerNormImpl>()) l->initialize();
    else if (auto* e = child->as<EmbeddingImpl>()) e->initialize();
  }
}

}  // namespace respo::models
