#include "gpu/generation_service.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <sstream>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/paths.h"
#include "core/common/sha256.h"
#include "core/pipeline/lora_keys.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/model_hash.h"
#include "core/pipeline/stable_diffusion_model.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/composition.h"
#include "core/respo/concept_library.h"
#include "core/respo/clip_attribute_reader.h"
#include "core/respo/fairness_report.h"
#ifdef RESPODIFF_WITH_NUDENET
#include "core/respo/nudity_reader.h"
#endif
#include "core/respo/responsible_generation.h"
#include "core/respo/trainer.h"
#include "core/io/safetensors.h"
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
      << r.clipSkip << '\n' << (r.stepCache > 1 ? r.stepCache : 0) << '\n' << r.vaeTiling << '\n' << r.winogradConvolutions;
  // The LoRA files the tags name, by content (a file replaced under the same name is another model).
  try {
    const std::vector<fs::path> folders(r.loraFolders.begin(), r.loraFolders.end());
    key << '\n' << pipeline::lora::loraHashesParameter(r.prompt, folders);
  } catch (const Error&) {
    key << "\nmissing LoRA";  // the run fails with the reason; nothing is cached
  }
  if (r.initImage)
    key << "\nfrom " << r.initImage->width << 'x' << r.initImage->height << ' '
        << hashing::sha256Hex(std::string_view(reinterpret_cast<const char*>(r.initImage->pixels.data()),
                                               r.initImage->pixels.size()))
        << " at " << number(r.strength);
  if (r.mask)
    key << "\nmask " << r.mask->width << 'x' << r.mask->height << ' '
        << hashing::sha256Hex(std::string_view(reinterpret_cast<const char*>(r.mask->pixels.data()), r.mask->pixels.size()));
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
  responsible::ModuleSource modules;
  std::vector<report::ReportExtension> extensions;
  struct LoadedEdit {
    fs::file_time_type stamp;
    std::shared_ptr<const edits::ConceptEdit> edit;
  };
  std::map<fs::path, LoadedEdit> edits;  // by file, while unchanged

  std::shared_ptr<const edits::ConceptEdit> edit(const fs::path& file) {
    std::error_code error;
    const auto stamp = fs::last_write_time(file, error);
    if (error) throw IoError(file.string() + ": cannot read the concept edit (" + error.message() + ")");
    if (auto it = edits.find(file); it != edits.end() && it->second.stamp == stamp) return it->second.edit;
    auto loaded = std::make_shared<const edits::ConceptEdit>(edits::loadEdit(file));
    edits[file] = {stamp, loaded};
    return loaded;
  }

  // The interventions of one side's other methods (SLD, a concept edit).
  void addMethods(const responsible::SideMethods& side, responsible::Interventions& into) {
    if (side.sld) into.push_back(std::make_shared<responsible::SafeLatentDiffusion>(*side.sld));
    if (!side.conceptEdit.empty()) into.push_back(std::make_shared<responsible::ConceptEditing>(edit(side.conceptEdit)));
    if (!side.negativeText.empty()) into.push_back(std::make_shared<responsible::NegativePromptMethod>(side.negativeText));
    if (!side.promptText.empty()) into.push_back(std::make_shared<responsible::PromptEditing>(side.promptText));
  }

  pipeline::StableDiffusionModel& requireModel() {
    if (!model) throw InvalidArgument("no model is loaded");
    return *model;
  }
  const pipeline::StableDiffusionModel& requireModel() const {
    if (!model) throw InvalidArgument("no model is loaded");
    return *model;
  }

  std::vector<std::int64_t> bottleneck(int width, int height) const { return requireModel().bottleneckShape(width, height); }

  // The selected modules, checked against the model and grouped (fairness groups draw per image).
  concepts::Composition composition(const concepts::Selection& selection) {
    return modules.resolve(selection, info.fingerprint);
  }
};

GenerationService::GenerationService(std::vector<fs::path> conceptFolders, std::vector<report::ReportExtension> extensions)
    : state_(std::make_unique<State>()) {
  state_->extensions = std::move(extensions);
  state_->compute = chooseDevice();
  state_->conceptFolders = resolveConceptFolders(conceptFolders);
  state_->modules = responsible::ModuleSource(state_->conceptFolders);
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
  info.name = pipeline::modelName(folderOrFile);
  status("Hashing the weights...");
  info.hash = pipeline::modelHash(folderOrFile);
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
    ConceptInfo info{entry.file, entry.settings, entry.modelFingerprint, entry.fileHash, entry.hShape, false, {}};
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
  // One bad file never hides the others; it is listed with what is wrong with it.
  for (const auto& problem : library.problems()) {
    ConceptInfo info;
    info.file = problem.file;
    info.settings.name = problem.file.filename().string();
    info.reason = problem.message;
    info.unreadable = true;
    out.push_back(std::move(info));
  }
  return out;
}

GenerationOutcome GenerationService::generate(const GenerationJob& job, const StepObserver& onStep) {
  auto& model = state_->requireModel();
  responsible::PairRequest pair;
  pair.request = job.request;
  pair.modelName = state_->info.name;
  pair.modelHash = state_->info.hash;
  if (!job.selection.empty())
    pair.interventions.push_back(std::make_shared<responsible::ConceptModules>(state_->composition(job.selection)));
  state_->addMethods(job.right, pair.interventions);
  state_->addMethods(job.left, pair.baselineInterventions);

  // The baseline of the last request is reused when everything that decides its pixels is the same
  // (the left side's methods included: the edit by file and time, SLD by its settings).
  const auto request = responsible::completeRequest(model, pair.request);
  std::string key = baselineKey(request, state_->modelGeneration);
  if (job.left.sld) key += "\nsld " + job.left.sld->spec();
  key += "\nnegative " + job.left.negativeText + "\nprompt " + job.left.promptText;
  if (!job.left.conceptEdit.empty()) {
    std::error_code error;
    key += "\nedit " + job.left.conceptEdit.string() + " " +
           std::to_string(fs::last_write_time(job.left.conceptEdit, error).time_since_epoch().count());
  }
  const bool needBaseline = key != state_->cachedKey;
  const bool needResponsible = !pair.interventions.empty() || !pair.baselineInterventions.empty();
  const int phases = (needBaseline ? 1 : 0) + (needResponsible ? 1 : 0);
  auto observer = [&](responsible::Side side, const pipeline::StepProgress& p) {
    if (!onStep) return true;
    StepUpdate update;
    update.phase = side == responsible::Side::Baseline ? GenerationPhase::Baseline : GenerationPhase::Responsible;
    update.step = p.step;
    update.total = p.total;
    const int done = side == responsible::Side::Responsible && needBaseline ? 1 : 0;
    update.overallStep = done * p.total + p.step;
    // Both sides in one batch: one phase, previewed on the responsible side.
    update.overallTotal = (side == responsible::Side::Both ? 1 : phases) * p.total;
    update.preview = [&p] { return pipeline::latentPreview(*p.latents); };
    return onStep(update);
  };
  if (needBaseline) state_->cachedKey.clear();  // a cancelled run leaves no stale cache behind
  responsible::BaselineCache cache;
  cache.find = [&](const pipeline::GenerationRequest&) { return needBaseline ? nullptr : &state_->cachedBaseline; };
  cache.store = [&](const pipeline::GenerationRequest&, const std::vector<io::RgbImage>& images) {
    state_->cachedBaseline = images;  // kept even if the responsible side is then cancelled
    state_->cachedKey = key;
  };
  auto result = responsible::generatePair(model, pair, observer, cache);
  GenerationOutcome outcome;
  outcome.request = result.request;
  outcome.baseline = std::move(result.baseline);
  outcome.responsible = std::move(result.responsible);
  outcome.members = std::move(result.members);
  outcome.baselineFromCache = !needBaseline;
  outcome.responsibleIsBaseline = result.responsibleIsBaseline;
  outcome.conceptSettings = std::move(result.interventionParameters);
  outcome.parameters = std::move(result.parameters);
  outcome.baselineParameters = std::move(result.baselineParameters);
  return outcome;
}

void GenerationService::forgetCachedBaseline() {
  state_->cachedKey.clear();
  state_->cachedBaseline.clear();
}

fs::path GenerationService::checkpointPath(const fs::path& output) {
  return output.parent_path() / "training" / (output.stem().string() + ".checkpoint.safetensors");
}

std::vector<fs::path> GenerationService::resolveConceptFolders(const std::vector<fs::path>& folders) {
  return folders.empty() ? concepts::ConceptLibrary::defaultFolders() : folders;
}

std::vector<UnfinishedTraining> GenerationService::unfinishedTrainings(const std::vector<fs::path>& folders) {
  std::vector<UnfinishedTraining> out;
  const std::string suffix = ".checkpoint.safetensors";
  for (const auto& folder : folders) {
    std::error_code error;
    for (fs::directory_iterator it(folder / "training", error), end; !error && it != end; it.increment(error)) {
      const auto name = it->path().filename().string();
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      try {
        const auto saved = concepts::loadConcept(it->path());
        if (saved.stepsDone >= saved.settings.steps) continue;
        out.push_back({it->path(), folder / (name.substr(0, name.size() - suffix.size()) + ".safetensors"),
                       saved.settings, saved.stepsDone, saved.modelFingerprint});
      } catch (const std::exception&) {
        // A damaged checkpoint is not offered for resuming; a new run overwrites it.
      }
    }
  }
  return out;
}

TrainingOutcome GenerationService::train(const TrainingJob& job, const TrainingObserver& onUpdate) {
  auto& model = state_->requireModel();
  if (job.output.empty()) throw InvalidArgument("the trained module needs a file to go to");
  if (job.previewEvery < 0 || job.previewSteps < 1 || job.previewSteps > 200 || job.previewSeeds.size() > 8)
    throw InvalidArgument("previews: every >= 0 steps, 1-200 sampling steps and at most 8 seeds");
  const fs::path checkpoint = job.checkpoint.empty() ? checkpointPath(job.output) : job.checkpoint;
  std::error_code error;
  fs::create_directories(checkpoint.parent_path(), error);
  if (error) throw IoError(checkpoint.parent_path().string() + ": cannot create the folder (" + error.message() + ")");
  fs::create_directories(job.output.parent_path(), error);
  if (error) throw IoError(job.output.parent_path().string() + ": cannot create the folder (" + error.message() + ")");

  concepts::ConceptTrainer trainer(model, job.settings);
  if (job.resume && fs::exists(checkpoint)) {
    try {
      trainer.resumeFrom(checkpoint);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string(e.what()) + ". An unfinished run with other settings is kept under this name: "
                            "resume it, discard it, or give this concept another name");
    }
  }
  const int resumedFrom = trainer.module().stepsDone;

  // Previews: the same prompt, seeds and noise without and with the module as trained so far.
  pipeline::GenerationRequest preview;
  preview.prompt = job.previewPrompt.empty() ? job.settings.neutralPrompt : job.previewPrompt;
  preview.steps = job.previewSteps;
  preview.width = preview.height = trainer.module().settings.resolution;
  auto render = [&](bool withModule) {
    // One module alone is one member of its group: every image gets it, whatever the seed.
    responsible::Interventions interventions;
    if (withModule) {
      auto current = std::make_shared<const concepts::ConceptModule>(trainer.module());
      interventions.push_back(
          std::make_shared<responsible::ConceptModules>(concepts::groupConcepts({{current, 1.0, 1.0}}, 0, {})));
    }
    std::vector<io::RgbImage> images;
    for (const auto seed : job.previewSeeds) {
      preview.seed = seed;
      const auto request = responsible::completeRequest(model, preview);
      auto rgb = responsible::generateSide(model, request, responsible::prepareEdits(model, request, interventions)).rgb;
      images.push_back(std::move(rgb.front()));
    }
    return images;
  };
  const bool previews = job.previewEvery > 0 && !job.previewSeeds.empty();
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  if (onUpdate) {
    TrainingUpdate first;
    first.step = first.resumedFrom = resumedFrom;
    first.total = job.settings.steps;
    for (const auto& losses : trainer.lossHistory()) first.history.emplace_back(losses.responsible, losses.semantic);
    if (previews) first.baseline = render(false), first.current = render(true);
    if (!onUpdate(first)) throw Cancelled("training stopped before its first step");
  }
  const auto module = trainer.train(
      [&](const concepts::TrainingProgress& p) {
        if (!onUpdate) return true;
        TrainingUpdate update;
        update.step = p.step;
        update.total = p.total;
        update.resumedFrom = resumedFrom;
        update.responsibleLoss = p.responsibleLoss;
        update.semanticLoss = p.semanticLoss;
        update.seconds = elapsed();
        const int done = p.step - resumedFrom;
        if (done > 0) update.etaSeconds = update.seconds / done * (p.total - p.step);
        if (previews && (p.step % job.previewEvery == 0 || p.step == p.total)) update.current = render(true);
        return onUpdate(update);
      },
      {checkpoint, std::max(1, job.checkpointEvery)});
  concepts::saveConcept(job.output, module);
  fs::remove(checkpoint, error);  // the run is complete; nothing is left to resume
  state_->modules.forget(job.output);
  return {job.output, module.stepsDone, resumedFrom, elapsed(), module.lastResponsibleLoss, module.lastSemanticLoss};
}

report::Comparison GenerationService::report(const ReportJob& job, const ReportObserver& onProgress) {
  auto& model = state_->requireModel();
  // CLIP zero-shot from the folder the user gave, else the first extension that knows this model.
  std::unique_ptr<report::AttributeReader> reader;
  if (!job.clipFolder.empty()) reader = report::loadClipReader(job.clipFolder);
  for (const auto& extension : state_->extensions)
    if (!reader && extension.reader) reader = extension.reader(model);
  if (!reader)
    throw InvalidArgument("reading attributes off this model's images needs a CLIP model: a transformers CLIP folder "
                          "(such as clip-vit-base-patch32, with its tokenizer files)");
  if (!job.nudenet.empty()) {
#ifdef RESPODIFF_WITH_NUDENET
    reader = std::make_unique<report::NudityReader>(std::move(reader), safety::NudeNetDetector(job.nudenet));
#else
    throw InvalidArgument("this build reads no nudity: it was built without OpenCV's DNN module");
#endif
  }
  report::Comparison out;
  std::vector<report::ReportMethod> methods;
  if (job.methods.empty()) {
    methods.push_back(report::conceptMethod(state_->composition(job.selection)));
    out.labels.push_back("RespoDiff");
  }
  for (const auto& choice : job.methods) {
    report::ReportMethod method;
    method.names = {choice.label};
    if (choice.conceptModules) {
      if (job.selection.empty())
        throw InvalidArgument("method '" + choice.label + "' runs the concept modules: check at least one");
      auto selection = job.selection;
      if (choice.ramStrength)
        for (auto& module : selection.modules) module.ramStrength = *choice.ramStrength;
      method = report::conceptMethod(state_->composition(selection));  // names: the modules
    }
    method.label = choice.label;
    state_->addMethods(choice.methods, method.interventions);
    if (method.interventions.empty()) throw InvalidArgument("method '" + choice.label + "' does nothing");
    methods.push_back(std::move(method));
    out.labels.push_back(choice.label);
  }
  out.reports = report::compareMethods(model, *reader, methods, job.settings, onProgress);
  if (job.sweep) out.tradeoffMetric = report::defaultTradeoffMetric(out.reports.front());
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> GenerationService::builtInPromptSets(
    const std::vector<report::ReportExtension>& extensions) {
  std::vector<std::pair<std::string, std::vector<std::string>>> sets;
  for (const auto& extension : extensions) sets.insert(sets.end(), extension.promptSets.begin(), extension.promptSets.end());
  const auto all = report::winoBiasPrompts(5);
  const auto count = report::winoBiasProfessions().size();
  for (std::size_t t = 0; t * count < all.size(); ++t) {
    std::vector<std::string> prompts(all.begin() + static_cast<std::ptrdiff_t>(t * count),
                                     all.begin() + static_cast<std::ptrdiff_t>((t + 1) * count));
    const auto first = prompts.front();
    const auto templ = first.substr(0, first.find(report::winoBiasProfessions().front())) + "...";
    sets.emplace_back("WinoBias professions: \"" + templ + "\"", std::move(prompts));
  }
  sets.emplace_back("WinoBias professions: all 5 templates", all);
  return sets;
}

fs::path GenerationService::defaultModelPath() { return paths::toyModel(); }

fs::path GenerationService::defaultNudeNet() {
#ifdef RESPODIFF_WITH_NUDENET
  return safety::findNudeNet().value_or(fs::path{});
#else
  return {};
#endif
}

std::vector<std::string> GenerationService::schedulerNames() { return sched::schedulerNames(); }

}  // namespace respo::gpu
