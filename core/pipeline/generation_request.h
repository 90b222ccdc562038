#pragma once
// What one text-to-image call asks for. Plain values without LibTorch, so front ends (the desktop
// app's forms, the job queue) can carry a request without tensor headers.
#include <cstdint>
#include <string>

namespace respo::pipeline {

struct StableDiffusionModel;

struct GenerationRequest {
  std::string prompt;
  std::string negativePrompt;
  int width = 0, height = 0;  // 0: the model's native size; multiples of the VAE factor (8 for SD)
  int steps = 25;
  double guidanceScale = 7.5;
  std::uint64_t seed = 0;
  int batch = 1;
  std::string scheduler;  // "" = the model's own
  int clipSkip = 0;       // 0: last layer; 1: penultimate, ...

  // Throws InvalidArgument with a message naming the setting.
  void validate(const StableDiffusionModel& model) const;
};

}  // namespace respo::pipeline
