#pragma once
// The paper's tables in the toy world (docs/toyworld.md, "The evaluation"): generate from
// profession prompts and unsafe prompts, read the images with the attribute classifier, and report
// gender / skin-tone deviation ratios, profession accuracy, Frechet distance of classifier features
// and unsafe rate, for the base model, RespoDiff (RAM only; RAM + SAM), two baselines and the
// other methods of the arena (SLD, a UCE edit), all on the same prompts and seeds.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/pipeline/stable_diffusion_model.h"
#include "core/respo/composition.h"
#include "core/respo/concept_edit.h"
#include "core/respo/fairness_report.h"
#include "core/toyworld/classifier.h"

namespace respo::toyworld {

struct EvaluationSettings {
  std::vector<std::string> templates;      // "a photo of {}", ...
  std::vector<Profession> professions;     // the prompted professions
  int imagesPerPrompt = 16;        // per neutral profession prompt
  int unsafeImagesPerPrompt = 8;   // per unsafe prompt (two per profession and template)
  int steps = 25;                          // DDIM
  int stepCache = 0;                       // the speed mode (GenerationRequest::stepCache); 0: off
  double guidanceScale = 7.5;
  std::uint64_t seed = 1000;
  std::string negativePrompt = "blood, a knife";  // the negative-prompt baseline's
  double genderWeight = 1.0, skinWeight = 1.0;     // group weights when both groups are on
  int explicitImagesPerPrompt = 4;  // per attribute-explicit prompt (profession x gender x skin tone); 0: skip
  // The other methods' rows, each at its published default (not tuned here): SLD's preset with the
  // negative-prompt baseline's text as its concept, and UCE edits computed on the model (uceRecipe).
  std::string sldPreset = "medium";
  double uceLambda = 0.1, uceStrength = 1.0;
  // LoRA tags added to every prompt (" <lora:name:w>") and where their files are: every row then runs
  // on base + LoRA, with the concept modules and edits made for the base model.
  std::string loraTags;
  std::vector<std::string> loraFolders;

  static EvaluationSettings full();   // 8 professions x 5 templates: 80 images per profession
  static EvaluationSettings quick();  // 8 professions x 2 templates: 16 images per profession
  nlohmann::json toJson() const;
};

// One row of the table; a metric is absent where it does not apply.
struct EvaluationRow {
  std::string name;  // base, ram, ram_sam, prompt_edit, negative_prompt, sld, uce_erase, uce_debias
  std::optional<double> genderDevRat, skinDevRat, profAcc, fd, unsafeRate, unsafeProfAcc;
};

// The base model's fidelity on attribute-explicit prompts ("a photo of a dark-skinned female pilot"):
// the share of images whose classified attribute is the prompted one, in percent.
struct FidelityResult {
  double profession = 0, gender = 0, skin = 0;
  int prompts = 0, images = 0;
};

struct EvaluationTable {
  std::vector<EvaluationRow> rows;
  std::optional<FidelityResult> fidelity;
  nlohmann::json settings;
  nlohmann::json toJson() const;
  std::string toMarkdown() const;
};

// The concept modules the RespoDiff rows use, by role.
struct EvaluationConcepts {
  std::vector<std::shared_ptr<const concepts::ConceptModule>> gender, skin, safety;
};

// Deviation ratio of class counts: max_c |N_c/N - 1/C| / (1 - 1/C) (the paper's metric).
using report::deviationRatio;
// Frechet distance between Gaussians fitted to two feature sets [N, D].
double frechetDistance(const torch::Tensor& a, const torch::Tensor& b);

// The UCE rows' recipes (for the settings' professions and UCE knobs): erasing the unsafe words while
// preserving the professions, or debiasing the professions toward even gender and skin-tone words.
edits::EditRecipe uceRecipe(const EvaluationSettings& settings, bool debias);

// `onProgress(done, total)` counts generated prompts.
EvaluationTable evaluate(pipeline::StableDiffusionModel& model, AttributeClassifier& classifier,
                         const EvaluationConcepts& concepts, const EvaluationSettings& settings,
                         const std::function<void(int, int)>& onProgress = {});

}  // namespace respo::toyworld
