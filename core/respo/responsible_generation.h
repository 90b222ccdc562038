#pragma once
// The one use case every front end runs: a request, a list of interventions, and from the same seed
// and the same initial noise a baseline and a responsible image set. The generation service (the
// app), the command line, the fairness report, the toy-world evaluation and the training previews
// all make their responsible images here, so they agree to the bit on the same inputs.
//
// An intervention changes how the responsible side is computed; RespoDiff's concept modules (a
// bottleneck edit) are one kind. Others (guidance, weight edits) plug in through the same interface.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/io/image.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/composition.h"
#include "core/respo/concept_edit.h"
#include "core/respo/concept_library.h"
#include "core/respo/selection.h"

namespace respo::responsible {

// What the interventions of a request change in one run of the pipeline.
struct RunEdits {
  models::BottleneckHook bottleneck;              // composed in list order; empty: none
  std::optional<pipeline::SafeLatentGuidance> safety;  // SLD guidance (at most one)
  // Text the side adds to its prompt and to its negative prompt (the prompt-editing and
  // negative-prompt baselines), joined with ", ".
  std::string promptAddition, negativeAddition;
  // Weight edits applied to the model for the responsible side only, and undone after it.
  struct WeightEdit {
    std::shared_ptr<const edits::ConceptEdit> edit;
    bool ignoreFingerprint = false;
  };
  std::vector<WeightEdit> weightEdits;
  std::vector<std::vector<std::string>> members;  // per image, fairness members drawn (if any)

  // Whether these edits change the run at all (otherwise the side is the plain pipeline's).
  bool acts() const {
    return static_cast<bool>(bottleneck) || safety.has_value() || !weightEdits.empty() || !promptAddition.empty() ||
           !negativeAddition.empty();
  }
};

class Intervention {
 public:
  virtual ~Intervention() = default;
  virtual std::string kind() const = 0;  // "respodiff", ...
  // Adds this intervention's edits for `request` (size, batch and seed filled in) to `edits`.
  virtual void prepare(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
                       RunEdits& edits) const = 0;
  // Its entries in the responsible images' parameters text.
  virtual std::map<std::string, std::string> parameters() const = 0;
};
using Interventions = std::vector<std::shared_ptr<const Intervention>>;

// RespoDiff: the concept modules of a composition at the bottleneck (method.md, "Inference").
class ConceptModules final : public Intervention {
 public:
  explicit ConceptModules(concepts::Composition composition) : composition_(std::move(composition)) {}
  std::string kind() const override { return "respodiff"; }
  void prepare(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
               RunEdits& edits) const override;
  std::map<std::string, std::string> parameters() const override;
  const concepts::Composition& composition() const { return composition_; }

 private:
  concepts::Composition composition_;
};

// Safe Latent Diffusion: guidance away from a safety concept (core/pipeline/safe_guidance.h).
class SafeLatentDiffusion final : public Intervention {
 public:
  explicit SafeLatentDiffusion(pipeline::SafeLatentGuidance settings);
  std::string kind() const override { return "sld"; }
  // Throws InvalidArgument when another SLD intervention is already in `edits`.
  void prepare(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
               RunEdits& edits) const override;
  std::map<std::string, std::string> parameters() const override { return settings_.toParameters(); }
  const pipeline::SafeLatentGuidance& settings() const { return settings_; }

 private:
  pipeline::SafeLatentGuidance settings_;
};

// A closed-form cross-attention edit (UCE family; core/respo/concept_edit.h) from its file.
class ConceptEditing final : public Intervention {
 public:
  explicit ConceptEditing(std::shared_ptr<const edits::ConceptEdit> edit, bool ignoreFingerprint = false);
  std::string kind() const override { return "uce"; }
  void prepare(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
               RunEdits& edits) const override;
  // "Concept edit: NAME (method)" and "Concept edit hash: first 10 hex digits of its SHA-256".
  std::map<std::string, std::string> parameters() const override;
  const edits::ConceptEdit& edit() const { return *edit_; }

 private:
  std::shared_ptr<const edits::ConceptEdit> edit_;
  bool ignoreFingerprint_;
};

// The two classic baselines as interventions: text added to the negative prompt (e.g. "violence,
// blood"), or to the prompt (e.g. "diverse people"). Empty or invalid UTF-8 text is refused.
class NegativePromptMethod final : public Intervention {
 public:
  explicit NegativePromptMethod(std::string text);
  std::string kind() const override { return "negative"; }
  void prepare(pipeline::StableDiffusionModel&, const pipeline::GenerationRequest&, RunEdits& edits) const override;
  std::map<std::string, std::string> parameters() const override { return {{"Negative method", text_}}; }

 private:
  std::string text_;
};

class PromptEditing final : public Intervention {
 public:
  explicit PromptEditing(std::string text);
  std::string kind() const override { return "prompt-edit"; }
  void prepare(pipeline::StableDiffusionModel&, const pipeline::GenerationRequest&, RunEdits& edits) const override;
  std::map<std::string, std::string> parameters() const override { return {{"Prompt edit", text_}}; }

 private:
  std::string text_;
};

// Loads the concept modules a selection names and checks them against the model: by file when the
// selection has one, else by identity in the library. Keeps what it loaded while the file is
// unchanged. Not thread-safe.
class ModuleSource {
 public:
  explicit ModuleSource(std::vector<std::filesystem::path> libraryFolders = {});
  // Throws Error naming the file for an unreadable or foreign module.
  std::shared_ptr<const concepts::ConceptModule> load(const std::filesystem::path& file);
  // Throws InvalidArgument when a module is not installed (by identity), was trained on another model
  // (unless `ignoreFingerprint`), or its file no longer has the identity the selection recorded.
  concepts::Composition resolve(const concepts::Selection& selection, const std::string& modelFingerprint,
                                bool ignoreFingerprint = false);
  void forget(const std::filesystem::path& file) { cache_.erase(file); }

 private:
  struct Cached {
    std::filesystem::file_time_type stamp;
    std::uintmax_t size = 0;
    std::shared_ptr<const concepts::ConceptModule> module;
  };
  std::vector<std::filesystem::path> folders_;
  std::map<std::filesystem::path, Cached> cache_;
};

// Both: the two sides run as one batch (PairRequest::oneBatch); progress is reported once per step,
// with the responsible side's latents.
enum class Side { Baseline, Responsible, Both };

struct PairRequest {
  pipeline::GenerationRequest request;  // width/height 0: the model's native size
  Interventions interventions;          // empty: the responsible side is the baseline
  std::string modelName;                // for the parameters text
  std::string modelHash;                // "Model hash" of the parameters text (pipeline/model_hash.h)
  bool wantBaseline = true;             // false: only the responsible side is computed
  // The methods of the comparison's other side (empty: the plain model, the usual baseline), so two
  // methods can be compared on one seed. The responsible side's text records them under
  // "Baseline <key>" so that restoring it brings back both sides.
  Interventions baselineInterventions;
  // Run the two sides as one batch (pipeline::TextToImagePipeline::generateLanes) when both differ
  // only at the bottleneck (RespoDiff's modules, or nothing) and the doubled batch fits in memory:
  // one text encoding and one UNet call per step instead of two runs. Otherwise, or when false,
  // the baseline runs first, then the responsible side.
  bool oneBatch = true;
};

struct PairResult {
  pipeline::GenerationRequest request;  // as run (size filled in, validated)
  // [B, 3, H, W] in [0, 1] on the CPU, and as RGB. The baseline is undefined/empty when it was not
  // computed (wantBaseline false, or given from a cache); the responsible side is the baseline's
  // images when no intervention acts (responsibleIsBaseline).
  torch::Tensor baselineImages, responsibleImages;
  std::vector<io::RgbImage> baseline, responsible;
  bool responsibleIsBaseline = false;  // no intervention changes the sampling (e.g. SLD with CFG <= 1)
  std::vector<std::vector<std::string>> members;
  std::map<std::string, std::string> interventionParameters;
  std::map<std::string, std::string> baselineInterventionParameters;
  std::string parameters, baselineParameters;  // the PNG "parameters" text of each side
};

// Progress of one side; return false to cancel (generatePair then throws respo::Cancelled).
using PairObserver = std::function<bool(Side side, const pipeline::StepProgress& progress)>;

// The request validated against the model, its size filled in.
pipeline::GenerationRequest completeRequest(pipeline::StableDiffusionModel& model, pipeline::GenerationRequest request);

// The edits of `interventions` for a complete request.
RunEdits prepareEdits(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
                      const Interventions& interventions);

// One side: the baseline (no interventions) or the responsible images of a complete request.
pipeline::GenerationResult generateSide(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
                                        const RunEdits& edits, const pipeline::StepCallback& onStep = {});

// A cache of baselines across pairs (the app re-renders only the responsible side when only the
// interventions changed). `find` is asked with the request as it will run; `store` gets a baseline
// as soon as it is computed, so a pair cancelled in its responsible phase keeps it.
struct BaselineCache {
  std::function<const std::vector<io::RgbImage>*(const pipeline::GenerationRequest&)> find;
  std::function<void(const pipeline::GenerationRequest&, const std::vector<io::RgbImage>&)> store;
};

// Baseline and responsible from the same seed and noise. A baseline found in `cache` is used instead
// of computing it (the result's baselineImages then stays undefined); the cache must tell baselines
// of different baselineInterventions apart.
PairResult generatePair(pipeline::StableDiffusionModel& model, const PairRequest& request, const PairObserver& onStep = {},
                        const BaselineCache& cache = {});

}  // namespace respo::responsible
