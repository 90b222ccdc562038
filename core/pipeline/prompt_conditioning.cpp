#include "core/pipeline/prompt_conditioning.h"

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/pipeline/lora_keys.h"
#include "core/pipeline/stable_diffusion_model.h"
#include "core/text/prompt_weights.h"

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

using Select = std::function<torch::Tensor(const models::ClipTextOutput&)>;

// One encoder's view of a weighted prompt (A1111's "Original" emphasis): each 77-token chunk through
// the encoder, every token's vector scaled by its weight and the chunk's mean restored (in double,
// as A1111's float64 weights make it), the chunks side by side. The pooled output is the first
// chunk's.
std::pair<torch::Tensor, torch::Tensor> encodeWeighted(const text::ClipTokenizer& tokenizer, models::ClipTextModel& encoder,
                                                       const std::vector<text::WeightedText>& runs, const Select& select,
                                                       torch::Device device) {
  const auto tokens = text::chunkPrompt(tokenizer, runs);
  std::vector<torch::Tensor> parts;
  torch::Tensor pooled;
  for (std::size_t i = 0; i < tokens.chunks.size(); ++i) {
    const auto ids = torch::tensor(tokens.chunks[i], torch::kLong).unsqueeze(0).to(device);
    const auto encoded = encoder->forward(ids);
    auto z = select(encoded);
    const auto& weights = tokens.weights[i];
    if (std::any_of(weights.begin(), weights.end(), [](double w) { return w != 1.0; })) {
      const auto type = z.scalar_type();
      const auto originalMean = z.mean().to(torch::kDouble);
      auto weighted = z.to(torch::kDouble) * torch::tensor(weights, torch::kDouble).to(device).view({1, -1, 1});
      weighted = weighted * (originalMean / weighted.mean());
      z = weighted.to(type);
    }
    parts.push_back(z);
    if (i == 0 && encoded.textEmbeds.defined()) pooled = encoded.textEmbeds;
  }
  return {torch::cat(parts, 1), pooled};
}

// A plain prompt of at most 75 tokens: one chunk, no weights; encoded exactly as diffusers does.
bool plainSingleChunk(const text::ClipTokenizer& tokenizer, const std::string& prompt) {
  return text::isPlainPrompt(prompt) &&
         tokenizer.encodeWithoutSpecialTokens(prompt).size() <= static_cast<std::size_t>(text::kChunkTokens);
}

}  // namespace

PromptConditioning PromptConditioning::repeated(int64_t batch) const {
  return {repeatRows(context, batch), repeatRows(pooled, batch), repeatRows(timeIds, batch)};
}

namespace {
torch::Tensor padTokens(const torch::Tensor& context, int64_t tokens) {
  if (context.size(1) >= tokens) return context;
  const auto last = context.slice(1, context.size(1) - 1, context.size(1));
  return torch::cat({context, last.expand({context.size(0), tokens - context.size(1), context.size(2)})}, 1);
}
}  // namespace

PromptConditioning PromptConditioning::cat(const PromptConditioning& first, const PromptConditioning& second) {
  const int64_t tokens = std::max(first.tokens(), second.tokens());
  return {torch::cat({padTokens(first.context, tokens), padTokens(second.context, tokens)}),
          catRows(first.pooled, second.pooled), catRows(first.timeIds, second.timeIds)};
}

void PromptConditioning::addTo(models::UNetExtras& extras) const {
  extras.textEmbeds = pooled;
  extras.timeIds = timeIds;
}

PromptConditioning encodePrompt(StableDiffusionModel& model, const std::string& typed, int clipSkip) {
  // <lora:name:w> tags choose weights (pipeline/lora.h), they are not text.
  const std::string prompt = typed.find('<') == std::string::npos ? typed : lora::extractLoraTags(typed);
  PromptConditioning out;
  if (!plainSingleChunk(*model.tokenizer, prompt)) {
    // Weighting, BREAK or more than 75 tokens: A1111's chunked, weighted encoding.
    const auto runs = text::parsePromptWeights(prompt);
    std::vector<torch::Tensor> contexts;
    auto pass = [&](const text::ClipTokenizer& tokenizer, models::ClipTextModel& encoder, const Select& select) {
      auto [context, pooled] = encodeWeighted(tokenizer, encoder, runs, select, model.device);
      contexts.push_back(context);
      if (pooled.defined()) out.pooled = pooled;
    };
    if (!model.textConditioning.penultimateOfEachEncoder) {
      auto& encoder = model.textEncoder;
      pass(*model.tokenizer, encoder, [&](const models::ClipTextOutput& e) {
        return clipSkip == 0 ? e.lastHiddenState : encoder->finalLayerNorm(e.hiddenStates[e.hiddenStates.size() - 1 - clipSkip]);
      });
    } else {
      const Select penultimate = [&](const models::ClipTextOutput& e) { return e.hiddenStates[e.hiddenStates.size() - 2 - clipSkip]; };
      if (model.textEncoder) pass(*model.tokenizer, model.textEncoder, penultimate);
      if (model.textEncoder2) pass(*model.tokenizer2, model.textEncoder2, penultimate);
      for (const auto& c : contexts)
        if (c.size(1) != contexts.front().size(1))
          throw InvalidArgument("the text encoders split this prompt into different numbers of chunks");
    }
    out.context = torch::cat(contexts, -1);
  } else if (!model.textConditioning.penultimateOfEachEncoder) {
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
    // One chunk of zeros, as the encoding of "" would be long (A1111 and diffusers agree).
    zeros.context = torch::zeros_like(conditional.context.slice(0, 0, 1).slice(1, 0, 77));
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
