#pragma once
// Primitive layers whose parameters carry the reference state-dict names ("weight", "bias").
// Parameters are created uninitialised (torch::empty) because real weights always replace them:
// building a full-size SD UNet this way costs no time and touches no memory until loading.
// Training code that needs an initialisation calls initialize() explicitly.
#include <map>
#include <string>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace respo::models {

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in, int64_t out, bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);
  void initialize();  // PyTorch's default (Kaiming-uniform weight, uniform bias)
  torch::Tensor weight, bias;
};
TORCH_MODULE(Linear);

class Conv2dImpl : public torch::nn::Module {
 public:
  Conv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0, bool bias = true);
  torch::Tensor forward(const torch::Tensor& x);
  void initialize();
  torch::Tensor weight, bias;
  int64_t stride, padding;
  // Whether the weight's Winograd transform is kept between calls (the default: a UNet's layers run
  // at every step) or made for each call and dropped (a VAE's layers run once per picture: there
  // the transform is a small part of the call, and keeping it, four times the weight, does not pay).
  bool keepWinogradTransform = true;

 private:
  // The weight's Winograd transform, kept while the weight's storage, version and the weights'
  // generation (weightsChangedInPlace) stay the same.
  torch::Tensor winogradWeight_;
  const void* winogradSource_ = nullptr;
  uint32_t winogradVersion_ = 0;
  uint64_t winogradGeneration_ = 0;
};

// Code that changes weights in place (LoRA merges, weight edits, and their undoing) calls this
// afterwards, so that layers keeping a form derived from their weight (Conv2d's Winograd transform)
// rebuild it. Ordinary tensors also carry a version counter, which is checked as well; inference
// tensors carry none.
void weightsChangedInPlace();
TORCH_MODULE(Conv2d);

class GroupNormImpl : public torch::nn::Module {
 public:
  GroupNormImpl(int64_t groups, int64_t channels, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  void initialize();
  torch::Tensor weight, bias;
  int64_t groups;
  double eps;
};
TORCH_MODULE(GroupNorm);

class LayerNormImpl : public torch::nn::Module {
 public:
  LayerNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  void initialize();
  torch::Tensor weight, bias;
  int64_t dim;
  double eps;
};
TORCH_MODULE(LayerNorm);

class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t count, int64_t dim);
  torch::Tensor forward(const torch::Tensor& ids);
  void initialize();
  torch::Tensor weight;
};
TORCH_MODULE(Embedding);

// Where loaded weights live. Copied: in ordinary (anonymous, huge-page backed) memory, the fastest
// for computing on the CPU (a full SD1.5 UNet call is ~20% faster than on views of the file).
// Mapped: the parameters stay views of the memory-mapped file where dtype and device allow, which
// costs no extra memory and loads instantly (for machines short of RAM).
enum class WeightStorage { Copied, Mapped };

// Adopts every parameter and buffer of `module` from `weights`, by name, converted to `dtype` on
// `device`. Strict: a missing tensor, a shape mismatch or (unless `allowUnexpected`) a tensor the
// module does not have is a FormatError naming `what` and the keys.
void loadWeights(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& weights,
                 const std::string& what, torch::Dtype dtype, torch::Device device,
                 WeightStorage storage = WeightStorage::Copied, bool allowUnexpected = false);

// Applies PyTorch's default initialisation to every layer of `module` (for training from scratch).
void initializeWeights(torch::nn::Module& module);

}  // namespace respo::models
