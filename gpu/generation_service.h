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
#include <string>
#include <vector>

#include "core/io/image.h"
#include "core/pipeline/generation_request.h"
#include "core/respo/concept_settings.h"
#include "core/respo/fairness_policy.h"

namespace respo::gpu {

// One enabled concept module and how strongly it acts (0 = off, 1 = as trained, up to 1.5).
struct ConceptChoice {
  std::filesystem::path file;
  double ramStrength = 1.0;
  double samStrength = 1.0;
};

struct GenerationJob {
  pipeline::GenerationRequest request;  // width/height 0: the model's native size
  std::vector<ConceptChoice> concepts;   // empty: the responsible side is the baseline
  std::map<std::string, concepts::GroupOptions> groups;  // by fairness group; absent: random, weight 1
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
  std::string name;         // the folder or file name
  std::string family;       // "sd1", "sd2", "sdxl" (single files), or the folder's pipeline class
  std::string fingerprint;  // what concept modules record as their base model
  int nativeSize = 0;       // the image size the UNet was configured for
  int sizeStep = 8;         // width and height are multiples of this
};

// One module of the concept library, judged against the loaded model at an image size.
struct ConceptInfo {
  std::filesystem::path file;
  concepts::ConceptSettings settings;
  std::string fingerprint;
  std::vector<std::int64_t> hShape;
  bool fits = false;
  std::string reason;  // why it does not fit (empty when it does)
};

class GenerationService {
 public:
  // Runs on the best available device (chooseDevice's automatic choice). The concept library is
  // read from `conceptFolders`, by default ConceptLibrary::defaultFolders().
  explicit GenerationService(std::vector<std::filesystem::path> conceptFolders = {});
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

  // The embedded default model: <data>/toyworld/model.
  static std::filesystem::path defaultModelPath();
  // The sampler names the engine knows ("ddim", "euler", ...); "" means the model's own.
  static std::vector<std::string> schedulerNames();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace respo::gpu
