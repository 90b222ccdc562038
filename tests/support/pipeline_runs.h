#pragma once
// One entry of a reference script's <name>_pipeline_runs.json as a generation request: the same
// prompt, negative prompt, steps, guidance, seed, scheduler and (where given) size and batch diffusers ran.
#include <nlohmann/json.hpp>

#include "core/pipeline/generation_request.h"

namespace respo::testing {

inline pipeline::GenerationRequest requestFromRun(const nlohmann::json& run) {
  pipeline::GenerationRequest request;
  request.prompt = run.at("prompt");
  request.negativePrompt = run.value("negative", std::string());
  request.steps = run.at("steps");
  request.guidanceScale = run.at("cfg");
  request.seed = run.at("seed");
  request.scheduler = run.at("scheduler");
  request.width = run.value("width", 0);
  request.height = run.value("height", 0);
  request.batch = run.value("batch", 1);
  return request;
}

}  // namespace respo::testing
