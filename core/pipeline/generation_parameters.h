#pragma once
// The "parameters" text that SD front ends store in a PNG so that a picture can be regenerated:
//   <prompt>
//   Negative prompt: <negative>
//   Steps: 25, Sampler: DDIM, CFG scale: 7.5, Seed: 1, Size: 512x512, Model: name[, extra: value...]
#include <map>
#include <string>

#include "core/pipeline/generation_request.h"

namespace respo::pipeline {

// `extra` adds key: value pairs to the settings line (e.g. the RespoDiff concept settings). The
// sampler is written as A1111 1.9+ names it ("Sampler: DPM++ 2M, Schedule type: Karras"); give
// `request.scheduler` resolved (completeRequest does) so that the text names what really ran.
// `modelHash` (model_hash.h) goes in as "Model hash" when given.
std::string formatParameters(const GenerationRequest& request, const std::string& modelName,
                             const std::map<std::string, std::string>& extra = {}, const std::string& modelHash = "");
// Parses text written by formatParameters and by other front ends (A1111 before and after 1.9,
// ComfyUI nodes that write A1111's format); unknown keys land in `extra`, and so does a sampler this
// engine does not have (as "Sampler", with request.scheduler left empty: the model's own).
// Throws FormatError when the text has no settings line.
GenerationRequest parseParameters(const std::string& text, std::map<std::string, std::string>* extra = nullptr);

// The text as it belongs to one picture file: `Size` is the picture's true size (a comparison sheet
// is wider than the images it holds: their size goes in "Sheet cell size", which parseParameters
// restores as the size), and in a batch "Batch pos" (0-based) says which image of the batch made
// from `Seed` this is (the batch's noise is drawn as one tensor from that seed, as diffusers does).
std::string pictureParameters(const std::string& text, int width, int height, int batchPos = -1);

// The sampler and schedule type A1111 1.9+ would name for one of our schedulers (ids or diffusers
// class names); {scheduler, "Automatic"} for an unknown one.
struct SamplerLabel {
  std::string sampler, schedule;
};
SamplerLabel samplerLabel(const std::string& scheduler);
// The scheduler that runs for `requested` ("" or "default": the model's own, named by its config's
// diffusers class), as one of ours, so that the text names it; unchanged when it is not one of ours.
std::string resolvedScheduler(const std::string& requested, const std::string& configClass, bool configKarras);
// Our scheduler for a sampler and schedule type as A1111 (any version) or ComfyUI writes them, ""
// when none of ours is that sampler.
std::string schedulerFromLabel(const std::string& sampler, const std::string& schedule = "");

}  // namespace respo::pipeline
