#pragma once
// The engine behind one front end, without Qt and without tensor headers (pimpl): it holds one
// loaded model, lists the concept library against it, and turns a job (a request plus the enabled
// concepts) into a baseline and a responsible image set from the same seed and initial noise.
//
// The baseline of the last request is cached, so a job that changes only concepts or strengths
// re-renders only the responsible side. Not thread-safe: one thread (the app's worker) uses it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/io/image.h"
#include "core/pipeline/generation_request.h"
#include "core/respo/concept_settings.h"
#include "core/respo/fairness_policy.h"
#include "core/respo/fairness_summary.h"
#include "core/respo/report_extension.h"
#include "core/respo/selection.h"
#include "core/respo/side_methods.h"

namespace respo::gpu {

struct GenerationJob {
  pipeline::GenerationRequest request;  // width/height 0: the model's native size
  concepts::Selection selection;        // the responsible (right) side's concept modules
  // Other methods of each side: SLD, a concept edit. The left side is the plain model when empty
  // (the usual baseline); with a method there, two methods meet on one seed.
  responsible::SideMethods left, right;
};

struct GenerationOutcome {
  pipeline::GenerationRequest request;  // as run (size filled in)
  std::vector<io::RgbImage> baseline, responsible;
  // Per image, the fairness members drawn for it (empty without fairness concepts).
  std::vector<std::vector<std::string>> members;
  bool baselineFromCache = false;
  bool responsibleIsBaseline = false;  // no concept was enabled
  // The concept settings as key/value pairs for the parameters line ("RespoDiff": "...").
  std::map<std::string, std::string> conceptSettings;
  std::string parameters;          // the "parameters" text of the responsible images
  std::string baselineParameters;  // ... and of the baseline images
};

enum class GenerationPhase { Baseline, Responsible };

struct StepUpdate {
  GenerationPhase phase = GenerationPhase::Baseline;
  int step = 0, total = 0;            // within the phase, 1-based
  int overallStep = 0, overallTotal = 0;  // across the phases this job runs
  // Renders the current latents of the first image as RGB; valid only during the callback.
  std::function<io::RgbImage()> preview;
};

// Return false to cancel: generate() then throws respo::Cancelled.
using StepObserver = std::function<bool(const StepUpdate&)>;
using StatusObserver = std::function<void(const std::string& status)>;

struct ModelInfo {
  std::filesystem::path source;
  std::string name;         // the folder's name, the file's name without extension
  std::string family;       // "sd1", "sd2", "sdxl" (single files), or the folder's pipeline class
  std::string fingerprint;  // what concept modules record as their base model
  int nativeSize = 0;       // the image size the UNet was configured for
  int sizeStep = 8;         // width and height are multiples of this
  std::string hash;         // "Model hash" (core/pipeline/model_hash.h)
};

// One module of the concept library, judged against the loaded model at an image size.
struct ConceptInfo {
  std::filesystem::path file;
  concepts::ConceptSettings settings;
  std::string fingerprint;
  std::string fileHash;  // SHA-256 of the file (empty when unreadable)
  std::vector<std::int64_t> hShape;
  bool fits = false;
  std::string reason;  // why it does not fit (empty when it does)
  // The file is in a library folder but is not a readable concept module (damaged, foreign,
  // invalid values): `reason` says why, `settings.name` is the file's name. Listed, never usable.
  bool unreadable = false;

  concepts::ModuleIdentity identity() const { return {settings.name, fingerprint, fileHash}; }
};

// Training a concept module on the loaded model (the wizard's job).
struct TrainingJob {
  concepts::ConceptSettings settings;
  std::filesystem::path output;      // the module, written atomically when the last step is done
  std::filesystem::path checkpoint;  // empty: GenerationService::checkpointPath(output)
  int checkpointEvery = 25;          // steps
  bool resume = true;                // continue from the checkpoint when it belongs to these settings
  int previewEvery = 0;              // steps between previews; 0: none
  std::string previewPrompt;         // empty: the first neutral prompt
  std::vector<std::uint64_t> previewSeeds{1, 2};
  int previewSteps = 20;
};

struct TrainingUpdate {
  int step = 0, total = 0;  // steps done of the module's steps (counting those before a resume)
  int resumedFrom = 0;      // steps that were done when this run started
  double responsibleLoss = 0, semanticLoss = 0;
  double seconds = 0;       // since this run started
  double etaSeconds = -1;   // for the steps left; -1 until known
  // Filled every previewEvery steps (and at step 0 for the baseline): the preview prompt on the
  // preview seeds without the module, and with the module as it is now.
  std::vector<io::RgbImage> baseline, current;
  // In the first update only: the losses (L_resp, L_sem) of the steps done before this run.
  std::vector<std::pair<double, double>> history;
};
// Return false to stop: the run writes its checkpoint and generate() throws respo::Cancelled.
using TrainingObserver = std::function<bool(const TrainingUpdate&)>;

struct TrainingOutcome {
  std::filesystem::path file;
  int steps = 0, resumedFrom = 0;
  double seconds = 0;
  double responsibleLoss = 0, semanticLoss = 0;
};

// A run that was stopped before its last step (found by its checkpoint).
struct UnfinishedTraining {
  std::filesystem::path checkpoint, output;
  concepts::ConceptSettings settings;
  int stepsDone = 0;
  std::string fingerprint;
};

// One method of a report: the job's concept modules (at their strengths, or every module's RAM
// strength set to `ramStrength`), other methods, or both.
struct ReportMethodChoice {
  std::string label;
  bool conceptModules = false;
  std::optional<double> ramStrength;
  responsible::SideMethods methods;
  bool operator==(const ReportMethodChoice&) const = default;
};

// The fairness and safety report on the loaded model.
struct ReportJob {
  report::ReportSettings settings;
  concepts::Selection selection;
  // A transformers CLIP folder for zero-shot reading; empty: the toy world's classifier, which
  // reads only the embedded toy model's images.
  std::filesystem::path clipFolder;
  // NudeNet's model (core/respo/nudenet_detector.h): nudity read beside the reader's categories.
  std::filesystem::path nudenet;
  // The methods, each against the one baseline; empty: the selection's modules alone ("RespoDiff").
  std::vector<ReportMethodChoice> methods;
  // The methods are settings of one knob: the result carries the trade-off's metric.
  bool sweep = false;
};
using ReportObserver = std::function<bool(int done, int total)>;

class GenerationService {
 public:
  // Runs on the best available device (chooseDevice's automatic choice). The concept library is
  // read from `conceptFolders`, by default ConceptLibrary::defaultFolders(). `extensions` read the
  // attributes of models they know for the report (the app passes the toy world's).
  explicit GenerationService(std::vector<std::filesystem::path> conceptFolders = {},
                             std::vector<report::ReportExtension> extensions = {});
  ~GenerationService();
  GenerationService(const GenerationService&) = delete;
  GenerationService& operator=(const GenerationService&) = delete;

  std::string deviceDescription() const;

  // A diffusers folder or a single-file .safetensors checkpoint. Throws respo::Error naming the
  // file at fault; the previously loaded model then stays loaded.
  ModelInfo loadModel(const std::filesystem::path& folderOrFile, const StatusObserver& onStatus = {});
  bool hasModel() const;
  const ModelInfo& model() const;  // throws InvalidArgument when no model is loaded

  // Re-reads the library folders and judges each module against the model at width x height
  // (0: native size). Without a model every module is listed as not fitting.
  std::vector<ConceptInfo> concepts(int width = 0, int height = 0);

  // Throws InvalidArgument for bad settings or concepts that do not fit, Cancelled when the
  // observer returns false (a finished baseline stays cached).
  GenerationOutcome generate(const GenerationJob& job, const StepObserver& onStep = {});
  void forgetCachedBaseline();

  // Trains (or resumes) a concept module on the loaded model and saves it atomically to job.output.
  // Throws InvalidArgument for bad settings, Cancelled when the observer stops it (the checkpoint is
  // kept, so the same job resumes), Error when training diverges.
  TrainingOutcome train(const TrainingJob& job, const TrainingObserver& onUpdate = {});
  // Where a module's training checkpoint lives: <folder>/training/<name>.checkpoint.safetensors (out
  // of the library's own listing).
  static std::filesystem::path checkpointPath(const std::filesystem::path& output);
  // Runs stopped before their last step, in the library folders' training/ subfolders.
  static std::vector<UnfinishedTraining> unfinishedTrainings(const std::vector<std::filesystem::path>& folders);
  // The library folders a service made with `folders` uses (the user's folder first: trained
  // modules go there).
  static std::vector<std::filesystem::path> resolveConceptFolders(const std::vector<std::filesystem::path>& folders);

  // Generates, reads and summarizes (see core/respo/fairness_report.h).
  report::Comparison report(const ReportJob& job, const ReportObserver& onProgress = {});

  // The prompt lists the report offers, by name: those of the extensions (the toy world's
  // professions) and WinoBias's professions with each of the paper's templates.
  static std::vector<std::pair<std::string, std::vector<std::string>>> builtInPromptSets(
      const std::vector<report::ReportExtension>& extensions = {});

  // The embedded default model: <data>/toyworld/model.
  static std::filesystem::path defaultModelPath();
  // NudeNet's model as the setup prepared it in the cache; empty when absent or when this build
  // reads no nudity.
  static std::filesystem::path defaultNudeNet();
  // The sampler names the engine knows ("ddim", "euler", ...); "" means the model's own.
  static std::vector<std::string> schedulerNames();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace respo::gpu
