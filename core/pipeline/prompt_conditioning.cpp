#include "core/pipeline/prompt_conditioning.h"

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/pipeline/stable_diffusion_model.h"

namespace respo::pipeline {
namespace {

torch::Tensor repeatRows(const torch::Tensor& t, int64_t batch) {
  if (!t.defined()) return t;
  std::vector<int64_t> times(static_cast<std::size_t>(t.dim()), 1);
  times[0] = batch;
  return t.repeat(times);
}

torch::Tensor catRows(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.defined() != b.defined()) throw InvalidArgument("cannot join conditioning with and without added embeddings");
  return a.defined() ? torch::cat({a, b}) : a;
}

models::ClipTextOutput runEncoder(const text::ClipTokenizer& tokenizer, models::ClipTextModel& encoder,
                                  const std::string& prompt, torch::Device device) {
  const auto ids = torch::tensor(tokenizer(prompt).ids, torch::kLong).unsqueeze(0).to(device);
  return encoder->forward(ids);
}

}  // namespace

PromptConditioning PromptConditioning::repeated(int64_t batch) const {
  return {repeatRows(context, batch), repeatRows(pooled, batch), repeatRows(timeIds, batch)};
}

PromptConditioning PromptConditioning::cat(const PromptConditioning& first, const PromptConditioning& second) {
  return {torch::cat({first.context, second.context}), catRows(first.pooled, second.pooled),
          catRows(first.timeIds, second.timeIds)};
}

void PromptConditioning::addTo(models::UNetExtras& extras) const {
  extras.textEmbeds = pooled;
  extras.timeIds = timeIds;
}

PromptConditioning encodePrompt(StableDiffusionModel& model, const std::string& prompt, int clipSkip) {
  PromptConditioning out;
  if (!model.textConditioning.penultimateOfEachEncoder) {
    const auto encoded = runEncoder(*model.tokenizer, model.textEncoder, prompt, model.device);
    out.context = clipSkip == 0 ? encoded.lastHiddenState
                                : model.textEncoder->finalLayerNorm(
                                      encoded.hiddenStates[encoded.hiddenStates.size() - 1 - clipSkip]);
    if (encoded.textEmbeds.defined()) out.pooled = encoded.textEmbeds;
  } else {
    std::vector<torch::Tensor> contexts;
    auto take = [&](const text::ClipTokenizer& tokenizer, models::ClipTextModel& encoder) {
      const auto encoded = runEncoder(tokenizer, encoder, prompt, model.device);
      contexts.push_back(encoded.hiddenStates[encoded.hiddenStates.size() - 2 - clipSkip]);
      // The pooled embedding comes from the last encoder that has a projection.
      if (encoded.textEmbeds.defined()) out.pooled = encoded.textEmbeds;
    };
    if (model.textEncoder) take(*model.tokenizer, model.textEncoder);
    if (model.textEncoder2) take(*model.tokenizer2, model.textEncoder2);
    out.context = torch::cat(contexts, -1);
  }
  // Only a UNet with added text embeddings reads the pooled output.
  if (model.unet->config().additionEmbedType.empty()) out.pooled = torch::Tensor();
  out.context = out.context.to(model.dtype);
  if (out.pooled.defined()) out.pooled = out.pooled.to(model.dtype);
  return out;
}

PromptConditioning encodeNegativePrompt(StableDiffusionModel& model, const std::string& negative,
                                        const PromptConditioning& conditional, int clipSkip) {
  if (negative.empty() && model.textConditioning.zerosForEmptyNegative) {
    PromptConditioning zeros;
    zeros.context = torch::zeros_like(conditional.context.slice(0, 0, 1));
    if (conditional.pooled.defined()) zeros.pooled = torch::zeros_like(conditional.pooled.slice(0, 0, 1));
    return zeros;
  }
  return encodePrompt(model, negative, clipSkip);
}

torch::Tensor sizeConditioning(const StableDiffusionModel& model, int width, int height) {
  if (model.unet->config().additionEmbedType != "text_time") return {};
  const double h = height, w = width;
  return torch::tensor({h, w, 0.0, 0.0, h, w}, torch::TensorOptions().dtype(torch::kFloat32))
      .unsqueeze(0)
      .to(model.device, model.dtype);
}

void checkConditioningFits(const StableDiffusionModel& model, const std::string& source) {
  const auto& unet = model.unet->config();
  const bool concatenated = model.textConditioning.penultimateOfEachEncoder;
  int contextWidth = concatenated ? 0 : model.textEncoder->config().hiddenSize;
  int pooledWidth = 0;
  for (const auto* encoder : {&model.textEncoder, &model.textEncoder2}) {
    if (!*encoder) continue;
    const auto& config = (*encoder)->config();
    if (concatenated) contextWidth += config.hiddenSize;
    if (config.projectionDim > 0) pooledWidth = config.projectionDim;
  }
  if (contextWidth != unet.crossAttentionDim)
    throw FormatError(source + ": the text encoders give " + std::to_string(contextWidth) +
                      "-wide embeddings but the UNet's cross_attention_dim is " + std::to_string(unet.crossAttentionDim));
  if (unet.additionEmbedType != "text_time") return;
  if (pooledWidth == 0)
    throw FormatError(source + ": the UNet takes pooled text embeddings (addition_embed_type 'text_time') but no text "
                               "encoder has a projection (CLIPTextModelWithProjection)");
  const int expected = pooledWidth + 6 * unet.additionTimeEmbedDim;
  if (expected != unet.projectionClassEmbeddingsInputDim)
    throw FormatError(source + ": the UNet's projection_class_embeddings_input_dim is " +
                      std::to_string(unet.projectionClassEmbeddingsInputDim) + " but the pooled text embedding (" +
                      std::to_string(pooledWidth) + ") and 6 time ids of " + std::to_string(unet.additionTimeEmbedDim) +
                      " give " + std::to_string(expected));
}

}  // namespace respo::pipeline
