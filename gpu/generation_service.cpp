#include "gpu/generation_service.h"

#include <cmath>
#include <optional>
#include <sstream>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/stable_diffusion_model.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/composition.h"
#include "core/respo/concept_library.h"
#include "core/respo/concept_parameters.h"
#include "core/respo/trainer.h"
#include "core/schedulers/scheduler.h"
#include "gpu/compute_device.h"

namespace fs = std::filesystem;

namespace respo::gpu {
namespace {

std::string shapeText(const std::vector<std::int64_t>& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Everything that decides the baseline's pixels.
std::string baselineKey(const pipeline::GenerationRequest& r, int modelGeneration) {
  std::ostringstream key;
  key << modelGeneration << '\n' << r.prompt << '\n' << r.negativePrompt << '\n' << r.width << 'x' << r.height << '\n'
      << r.steps << '\n' << number(r.guidanceScale) << '\n' << r.seed << '\n' << r.batch << '\n' << r.scheduler << '\n'
      << r.clipSkip;
  return key.str();
}

}  // namespace

struct GenerationService::State {
  ComputeDevice compute;
  std::vector<fs::path> conceptFolders;
  std::optional<pipeline::StableDiffusionModel> model;
  ModelInfo info;
  int modelGeneration = 0;  // bumps on every load, so caches never outlive their model
  std::string cachedKey;
  std::vector<io::RgbImage> cachedBaseline;
  std::map<fs::path, std::pair<fs::file_time_type, std::shared_ptr<const concepts::ConceptModule>>> modules;

  pipeline::StableDiffusionModel& requireModel() {
    if (!model) throw InvalidArgument("no model is loaded");
    return *model;
  }
  const pipeline::StableDiffusionModel& requireModel() const {
    if (!model) throw InvalidArgument("no model is loaded");
    return *model;
  }

  std::shared_ptr<const concepts::ConceptModule> module(const fs::path& file) {
    std::error_code error;
    const auto stamp = fs::last_write_time(file, error);
    if (error) throw IoError(file.string() + ": cannot read the concept module (" + error.message() + ")");
    auto found = modules.find(file);
    if (found != modules.end() && found->second.first == stamp) return found->second.second;
    auto loaded = std::make_shared<const concepts::ConceptModule>(concepts::loadConcept(file));
    modules[file] = {stamp, loaded};
    return loaded;
  }

  std::vector<std::int64_t> bottleneck(int width, int height) const { return requireModel().bottleneckShape(width, height); }
};

GenerationService::GenerationService(std::vector<fs::path> conceptFolders) : state_(std::make_unique<State>()) {
  state_->compute = chooseDevice();
  state_->conceptFolders =
      conceptFolders.empty() ? concepts::ConceptLibrary::defaultFolders() : std::move(conceptFolders);
}

GenerationService::~GenerationService() = default;

std::string GenerationService::deviceDescription() const { return state_->compute.description; }

ModelInfo GenerationService::loadModel(const fs::path& folderOrFile, const StatusObserver& onStatus) {
  auto status = [&](const std::string& text) {
    if (onStatus) onStatus(text);
  };
  std::error_code error;
  if (!fs::exists(folderOrFile, error)) throw IoError(folderOrFile.string() + ": no such file or folder");
  status("Reading " + folderOrFile.filename().string() + "...");
  pipeline::LoadOptions options;
  options.device = state_->compute.device;
  options.dtype = state_->compute.dtype;
  std::optional<pipeline::StableDiffusionModel> loaded;
  ModelInfo info;
  try {
    loaded = pipeline::loadStableDiffusion(folderOrFile, options);
    status("Checking the weights...");
    info.fingerprint = concepts::modelFingerprint(loaded->unet);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // LibTorch's own errors on a damaged file
    throw FormatError(folderOrFile.string() + ": cannot be loaded as a Stable Diffusion model (" + e.what() + ")");
  }
  info.source = folderOrFile;
  info.name = folderOrFile.filename().string();
  if (info.name.empty()) info.name = folderOrFile.parent_path().filename().string();
  info.family = loaded->family;
  info.nativeSize = loaded->nativeImageSize();
  info.sizeStep = loaded->vaeScaleFactor();
  // Only now, with everything read, replace the previous model.
  state_->model = std::move(loaded);
  state_->info = info;
  ++state_->modelGeneration;
  forgetCachedBaseline();
  status("Loaded " + info.name);
  return info;
}

bool GenerationService::hasModel() const { return state_->model.has_value(); }

const ModelInfo& GenerationService::model() const {
  state_->requireModel();
  return state_->info;
}

std::vector<ConceptInfo> GenerationService::concepts(int width, int height) {
  const auto library = concepts::ConceptLibrary::scan(state_->conceptFolders);
  std::vector<std::int64_t> h;
  if (hasModel()) {
    const int native = state_->info.nativeSize;
    width = width > 0 ? width : native;
    height = height > 0 ? height : native;
    h = state_->bottleneck(width, height);
  }
  std::vector<ConceptInfo> out;
  for (const auto& entry : library.entries()) {
    ConceptInfo info{entry.file, entry.settings, entry.modelFingerprint, entry.hShape, false, {}};
    if (!hasModel())
      info.reason = "no model is loaded";
    else if (entry.modelFingerprint != state_->info.fingerprint)
      info.reason = "trained on another model (fingerprint " + entry.modelFingerprint + ", this model " +
                    state_->info.fingerprint + ")";
    else if (entry.hShape != h)
      info.reason = "trained for a " + shapeText(entry.hShape) + " bottleneck; this model at " + std::to_string(width) +
                    "x" + std::to_string(height) + " has " + shapeText(h);
    else
      info.fits = true;
    out.push_back(std::move(info));
  }
  return out;
}

GenerationOutcome GenerationService::generate(const GenerationJob& job, const StepObserver& onStep) {
  auto& model = state_->requireModel();
  GenerationOutcome outcome;
  auto& request = outcome.request;
  request = job.request;
  if (request.width <= 0) request.width = state_->info.nativeSize;
  if (request.height <= 0) request.height = state_->info.nativeSize;
  request.validate(model);

  // The responsible side: enabled modules, grouped and composed into one bottleneck hook.
  models::BottleneckHook hook;
  if (!job.concepts.empty()) {
    std::vector<concepts::ConceptUse> uses;
    for (const auto& choice : job.concepts) {
      auto module = state_->module(choice.file);
      if (module->modelFingerprint != state_->info.fingerprint)
        throw InvalidArgument(choice.file.string() + ": was trained on another model (fingerprint " +
                              module->modelFingerprint + ", this model " + state_->info.fingerprint + ")");
      uses.push_back({module, choice.ramStrength, choice.samStrength});
    }
    const auto composition = concepts::groupConcepts(uses, request.seed, job.groups);
    const auto deltas = concepts::composeDeltas(composition, request.batch, state_->bottleneck(request.width, request.height));
    hook = concepts::makeConceptHook(deltas.perImage);
    outcome.members = deltas.members;
    outcome.conceptSettings = concepts::formatConceptParameters(concepts::describeComposition(composition));
  }

  const std::string key = baselineKey(request, state_->modelGeneration);
  const bool needBaseline = key != state_->cachedKey;
  const bool needResponsible = static_cast<bool>(hook);
  const int phases = (needBaseline ? 1 : 0) + (needResponsible ? 1 : 0);
  int done = 0;
  pipeline::TextToImagePipeline pipeline(model);
  auto observer = [&](GenerationPhase phase) -> pipeline::StepCallback {
    if (!onStep) return {};
    return [&, phase](const pipeline::StepProgress& p) {
      StepUpdate update;
      update.phase = phase;
      update.step = p.step;
      update.total = p.total;
      update.overallStep = done * p.total + p.step;
      update.overallTotal = phases * p.total;
      update.preview = [&p] { return pipeline::latentPreview(*p.latents); };
      return onStep(update);
    };
  };

  if (needBaseline) {
    state_->cachedKey.clear();  // a cancelled run leaves no stale cache behind
    state_->cachedBaseline = pipeline.generate(request, observer(GenerationPhase::Baseline)).rgb;
    state_->cachedKey = key;
    ++done;
  }
  outcome.baselineFromCache = !needBaseline;
  outcome.baseline = state_->cachedBaseline;
  if (needResponsible) {
    outcome.responsible = pipeline.generate(request, observer(GenerationPhase::Responsible), hook).rgb;
  } else {
    outcome.responsible = outcome.baseline;
    outcome.responsibleIsBaseline = true;
  }
  outcome.baselineParameters = pipeline::formatParameters(request, state_->info.name);
  outcome.parameters = pipeline::formatParameters(request, state_->info.name, outcome.conceptSettings);
  return outcome;
}

void GenerationService::forgetCachedBaseline() {
  state_->cachedKey.clear();
  state_->cachedBaseline.clear();
}

fs::path GenerationService::defaultModelPath() { return pipeline::dataDirectory() / "toyworld" / "model"; }

std::vector<std::string> GenerationService::schedulerNames() { return sched::schedulerNames(); }

}  // namespace respo::gpu
