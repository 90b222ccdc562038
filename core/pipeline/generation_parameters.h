#pragma once
// The "parameters" text that SD front ends store in a PNG so that a picture can be regenerated:
//   <prompt>
//   Negative prompt: <negative>
//   Steps: 25, Sampler: DDIM, CFG scale: 7.5, Seed: 1, Size: 512x512, Model: name[, extra: value...]
#include <map>
#include <string>

#include "core/pipeline/generation_request.h"

namespace respo::pipeline {

// `extra` adds key: value pairs to the settings line (e.g. the RespoDiff concept settings).
std::string formatParameters(const GenerationRequest& request, const std::string& modelName,
                             const std::map<std::string, std::string>& extra = {});
// Parses text written by formatParameters (and by other front ends, for the fields we know);
// unknown keys land in `extra`. Throws FormatError when the text has no settings line.
GenerationRequest parseParameters(const std::string& text, std::map<std::string, std::string>* extra = nullptr);

// The sampler names other front ends write, and ours.
std::string samplerLabel(const std::string& scheduler);
std::string schedulerFromLabel(const std::string& label);

}  // namespace respo::pipeline
