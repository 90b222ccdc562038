#pragma once
// The Stable Diffusion model a test was given with --model, loaded once per test process.
#include "core/pipeline/stable_diffusion_model.h"
#include "tests/support/testing.h"

namespace respo::testing {

inline pipeline::StableDiffusionModel& optionModel() {
  static pipeline::StableDiffusionModel model = pipeline::loadStableDiffusion(option("model"));
  return model;
}

}  // namespace respo::testing
