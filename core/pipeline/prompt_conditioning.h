#pragma once
// What the UNet is conditioned on, computed from a prompt: the cross-attention context and, for UNets
// with added conditioning (SDXL's "text_time"), the pooled text embedding and the size/crop ids.
// How a model's text encoders make the context is part of the model's configuration (see
// TextConditioningConfig); the pipeline and the trainer only ask for "the prompt's conditioning".
#include <string>

#include <torch/types.h>

#include "core/models/unet.h"

namespace respo::pipeline {

struct StableDiffusionModel;

// How prompts become UNet conditioning; set by the loader from the pipeline's configuration.
struct TextConditioningConfig {
  // false (StableDiffusionPipeline): the last encoder's final-normed last hidden state (or, with clip
  // skip n, the final layer norm of hidden_states[-1-n]).
  // true (StableDiffusionXLPipeline): hidden_states[-2-n] of every encoder, without the final layer
  // norm, concatenated along the feature axis; the pooled embedding is the last encoder's
  // projected pooled output.
  bool penultimateOfEachEncoder = false;
  // StableDiffusionXLPipeline's force_zeros_for_empty_prompt: an empty negative prompt is the zero
  // embedding (context and pooled) rather than the encoding of "".
  bool zerosForEmptyNegative = false;
};

// The conditioning of a batch of UNet rows.
struct PromptConditioning {
  torch::Tensor context;  // [B, 77 x chunks, D]
  torch::Tensor pooled;   // [B, P], defined when the UNet takes added text embeddings
  torch::Tensor timeIds;  // [B, 6], defined when the UNet takes added time ids

  int64_t rows() const { return context.size(0); }
  // Every row repeated `batch` times (a single prompt for a batch of images).
  PromptConditioning repeated(int64_t batch) const;
  // Rows of `first` followed by rows of `second` (the two halves of a guided batch). Contexts of
  // different lengths (a long or BREAK-split prompt beside a short one) are made equal by repeating
  // the shorter one's last token vector, as A1111 does when it batches conditionings of different
  // lengths.
  static PromptConditioning cat(const PromptConditioning& first, const PromptConditioning& second);
  int64_t tokens() const { return context.size(1); }
  // Sets the added-conditioning fields of `extras` (the context is passed separately).
  void addTo(models::UNetExtras& extras) const;
};

// Encodes one prompt (one row), in the model's dtype, on its device. Time ids are not set.
// Prompts are read with A1111's emphasis syntax ((word:1.2), [word], BREAK; core/text/prompt_weights.h)
// and may be longer than 75 tokens: each 75-token chunk is encoded on its own and weighted, and the
// chunks are joined along the token axis. A plain prompt of at most 75 tokens is encoded exactly as
// diffusers encodes it.
PromptConditioning encodePrompt(StableDiffusionModel& model, const std::string& prompt, int clipSkip = 0);
// The unconditional side of classifier-free guidance for `negative`: zeros shaped like `conditional`
// when the model forces zeros for an empty negative prompt, its encoding otherwise.
PromptConditioning encodeNegativePrompt(StableDiffusionModel& model, const std::string& negative,
                                        const PromptConditioning& conditional, int clipSkip = 0);
// SDXL's add_time_ids for images of width x height: (original height, width, crop top, left, target
// height, width), original = target = the image size, crop (0, 0); one row. Undefined when the
// model's UNet has no added time ids.
torch::Tensor sizeConditioning(const StableDiffusionModel& model, int width, int height);
// Checks that the text encoders and the UNet agree on widths (context, pooled + time-id embedding);
// throws FormatError naming `source` otherwise.
void checkConditioningFits(const StableDiffusionModel& model, const std::string& source);

}  // namespace respo::pipeline
