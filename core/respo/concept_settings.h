#pragma once
// A concept module's training settings and kind: plain values without LibTorch, so the desktop
// app can list and describe modules without tensor headers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace respo::concepts {

enum class ConceptKind { Fairness, Safety };
// Which timestep the trainer's loss uses: the reference code's t = 1000 - 20k, or the timestep the
// DDIM trajectory latent actually sits at (981 - 20k for SD1's leading spacing).
enum class TimestepConvention { Reference, Trajectory };

// Names and groups are labels (file names, menus, parameters text); prompts are CLIP input, of which
// only 77 tokens count.
inline constexpr std::size_t kMaxLabelBytes = 200;
inline constexpr std::size_t kMaxPromptBytes = 4096;

struct ConceptSettings {
  std::string name;            // "a woman"
  std::string group;           // "gender"; safety concepts: "safety"
  ConceptKind kind = ConceptKind::Fairness;
  std::string neutralPrompt = "a person";
  std::string targetPrompt;    // fairness: the attribute; safety: the safe scene (often = neutral)
  std::string negativePrompt;  // fairness: ""; safety: the unsafe concept
  // Further prompts, for training from lists: each step draws one index j and uses neutral prompt
  // j mod N and target prompt j mod M of the full lists ({neutralPrompt} + moreNeutralPrompts, ...).
  std::vector<std::string> moreNeutralPrompts, moreTargetPrompts;
  double targetGuidance = 4.0;       // w_tar
  double trajectoryGuidance = 3.0;   // CFG of the on-trajectory sampler
  double ramLearningRate = 1e-2;
  double samLearningRate = 1e-4;
  double semanticWeight = 1.0;       // lambda
  int steps = 5000;
  int batch = 1;
  std::uint64_t seed = 0;
  int trajectorySteps = 50;          // the DDIM schedule the latents are drawn on
  int maxTrajectoryStep = 48;        // k ~ U{0..48}
  std::string init = "uniform";      // "uniform" (reference: U(-1/sqrt(10), 1/sqrt(10))) or "zero"
  TimestepConvention timestep = TimestepConvention::Reference;
  int resolution = 0;                // image size the module was trained at (0: model's native)

  std::vector<std::string> validate() const;  // problems, empty when fine
  std::vector<std::string> neutralPrompts() const;
  std::vector<std::string> targetPrompts() const;
};

// Reference presets (method.md): gender-woman, gender-man, race-black, race-white, race-asian,
// violence, sexual. Throws InvalidArgument for an unknown name. (Defined with the trainer.)
ConceptSettings preset(const std::string& name);
std::vector<std::string> presetNames();

const char* kindName(ConceptKind kind);
const char* conventionName(TimestepConvention convention);

}  // namespace respo::concepts
