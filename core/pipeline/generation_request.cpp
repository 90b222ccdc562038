#include "core/pipeline/generation_request.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/common/error.h"
#include "core/common/utf8.h"

namespace respo::pipeline {

void GenerationRequest::validateSettings() const {
  using Field = std::pair<const std::string*, const char*>;
  for (const auto& [text, what] : {Field{&prompt, "the prompt"}, Field{&negativePrompt, "the negative prompt"}}) {
    if (!isValidUtf8(*text)) throw InvalidArgument(std::string(what) + " is not valid UTF-8 text");
    if (text->size() > kMaxPromptBytes)
      throw InvalidArgument(std::string(what) + " is longer than " + std::to_string(kMaxPromptBytes / 1024) +
                            " KB");
  }
  if (width < 0 || height < 0 || width > kMaxImageSide || height > kMaxImageSide)
    throw InvalidArgument("image size " + std::to_string(width) + "x" + std::to_string(height) + " is outside 8.." +
                          std::to_string(kMaxImageSide) + " (0: the model's own size)");
  if (steps < 1 || steps > kMaxSteps)
    throw InvalidArgument("steps must be between 1 and " + std::to_string(kMaxSteps) + ", got " + std::to_string(steps));
  if (batch < 1 || batch > kMaxBatch)
    throw InvalidArgument("batch must be between 1 and " + std::to_string(kMaxBatch) + ", got " + std::to_string(batch));
  if (!(std::isfinite(guidanceScale) && guidanceScale >= 0 && guidanceScale <= kMaxGuidanceScale))
    throw InvalidArgument("guidance scale must be between 0 and 1000, got " + std::to_string(guidanceScale));
  if (clipSkip < 0 || clipSkip > 64) throw InvalidArgument("clip skip must be between 0 and 64");
  if (stepCache < 0 || stepCache > kMaxStepCache)
    throw InvalidArgument("step caching must be 0 (off) or a full step every 2 to " + std::to_string(kMaxStepCache) +
                          " steps, got " + std::to_string(stepCache));
  if (mask && !initImage) throw InvalidArgument("a mask needs the picture it applies to (inpainting starts from a picture)");
  if (initImage) {
    if (!(std::isfinite(strength) && strength > 0 && strength <= 1))
      throw InvalidArgument("the denoising strength must be above 0 and at most 1, got " + std::to_string(strength));
    if (initImage->width < 1 || initImage->height < 1 || initImage->width > kMaxImageSide ||
        initImage->height > kMaxImageSide ||
        initImage->pixels.size() != static_cast<std::size_t>(initImage->width) * initImage->height * 3)
      throw InvalidArgument("the input picture is empty, damaged or larger than " + std::to_string(kMaxImageSide) +
                            " pixels a side");
    if (mask && !(std::isfinite(maskBlur) && maskBlur >= 0 && maskBlur <= 256))
      throw InvalidArgument("the mask blur must be between 0 and 256 pixels, got " + std::to_string(maskBlur));
    if (mask && (mask->width < 1 || mask->height < 1 || mask->width > kMaxImageSide || mask->height > kMaxImageSide ||
                 mask->pixels.size() != static_cast<std::size_t>(mask->width) * mask->height * 3))
      throw InvalidArgument("the mask is empty, damaged or larger than " + std::to_string(kMaxImageSide) +
                            " pixels a side");
    if (static_cast<int>(steps * strength) < 1)
      throw InvalidArgument("with strength " + std::to_string(strength) + " not one of the " + std::to_string(steps) +
                            " steps would run: raise the strength or the steps");
  }
}

std::uint64_t estimatePeakBytes(int width, int height, int batch, int vaeChannels, int unetChannels, int vaeFactor,
                                int bytesPerElement, int decoderTile) {
  const auto pixels = static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height);
  const auto decoded = decoderTile > 0 ? static_cast<std::uint64_t>(std::min(width, decoderTile)) *
                                             static_cast<std::uint64_t>(std::min(height, decoderTile))
                                       : pixels;
  const auto images = static_cast<std::uint64_t>(batch);
  const auto element = static_cast<std::uint64_t>(bytesPerElement);
  // The decoder keeps about four tensors of its widest full-resolution width alive at once (input,
  // normalised, convolved, residual).
  const std::uint64_t decoder = images * decoded * static_cast<std::uint64_t>(vaeChannels) * element * 4;
  // The UNet runs prompt and negative prompt together; about eight tensors of its first width.
  const auto factor = static_cast<std::uint64_t>(vaeFactor) * static_cast<std::uint64_t>(vaeFactor);
  const std::uint64_t unet = 2 * images * (pixels / factor) * static_cast<std::uint64_t>(unetChannels) * element * 8;
  return decoder + unet;
}

std::uint64_t physicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || size <= 0) return 0;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size);
}

}  // namespace respo::pipeline
