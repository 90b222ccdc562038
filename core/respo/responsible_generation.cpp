#include "core/respo/responsible_generation.h"

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/common/utf8.h"
#include "core/pipeline/generation_parameters.h"

namespace fs = std::filesystem;

namespace respo::responsible {

void ConceptModules::prepare(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
                             RunEdits& edits) const {
  if (composition_.empty()) return;
  std::vector<std::vector<std::string>> members;
  auto hook = concepts::conceptHook(composition_, request.seed, request.batch,
                                    model.bottleneckShape(request.width, request.height), &members);
  if (!members.empty() && !members.front().empty()) edits.members = std::move(members);
  if (!edits.bottleneck) {
    edits.bottleneck = std::move(hook);
    return;
  }
  // Several bottleneck edits apply in list order.
  edits.bottleneck = [first = edits.bottleneck, second = std::move(hook)](const torch::Tensor& h,
                                                                         const models::BottleneckContext& context) {
    return second(first(h, context), context);
  };
}

std::map<std::string, std::string> ConceptModules::parameters() const {
  return concepts::describeComposition(composition_).toParameters();
}

SafeLatentDiffusion::SafeLatentDiffusion(pipeline::SafeLatentGuidance settings) : settings_(std::move(settings)) {
  settings_.validate();
}

void SafeLatentDiffusion::prepare(pipeline::StableDiffusionModel&, const pipeline::GenerationRequest& request,
                                  RunEdits& edits) const {
  if (edits.safety) throw InvalidArgument("SLD is chosen twice; a generation takes one set of SLD settings");
  if (settings_.activeWith(request.guidanceScale)) edits.safety = settings_;
}

ConceptEditing::ConceptEditing(std::shared_ptr<const edits::ConceptEdit> edit, bool ignoreFingerprint)
    : edit_(std::move(edit)), ignoreFingerprint_(ignoreFingerprint) {
  if (!edit_) throw InvalidArgument("a concept edit intervention needs an edit");
}

void ConceptEditing::prepare(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest&,
                             RunEdits& edits) const {
  // Checked here, before any sampling: another model's edit is refused, not applied.
  edits::checkEdit(model, *edit_, ignoreFingerprint_);
  edits.weightEdits.push_back({edit_, ignoreFingerprint_});
}

std::map<std::string, std::string> ConceptEditing::parameters() const {
  std::map<std::string, std::string> out{{"Concept edit", edit_->recipe.name + " (" + edit_->recipe.method() + ")"}};
  if (!edit_->fileHash.empty()) out["Concept edit hash"] = hashing::shortHash(edit_->fileHash);
  return out;
}

namespace {

std::string checkedText(std::string text, const char* what) {
  const auto begin = text.find_first_not_of(" \t,");
  if (begin == std::string::npos) throw InvalidArgument(std::string("the ") + what + " text is empty");
  if (text.size() > 4096) throw InvalidArgument(std::string("the ") + what + " text is longer than 4096 bytes");
  if (!isValidUtf8(text)) throw InvalidArgument(std::string("the ") + what + " text is not valid UTF-8");
  return text;
}

void append(std::string& to, const std::string& text) { to += (to.empty() ? "" : ", ") + text; }

}  // namespace

NegativePromptMethod::NegativePromptMethod(std::string text) : text_(checkedText(std::move(text), "negative-prompt method")) {}

void NegativePromptMethod::prepare(pipeline::StableDiffusionModel&, const pipeline::GenerationRequest&, RunEdits& edits) const {
  append(edits.negativeAddition, text_);
}

PromptEditing::PromptEditing(std::string text) : text_(checkedText(std::move(text), "prompt-editing")) {}

void PromptEditing::prepare(pipeline::StableDiffusionModel&, const pipeline::GenerationRequest&, RunEdits& edits) const {
  append(edits.promptAddition, text_);
}

ModuleSource::ModuleSource(std::vector<fs::path> libraryFolders) : folders_(std::move(libraryFolders)) {}

std::shared_ptr<const concepts::ConceptModule> ModuleSource::load(const fs::path& file) {
  std::error_code error;
  const auto stamp = fs::last_write_time(file, error);
  const auto size = error ? 0 : fs::file_size(file, error);
  if (error) throw IoError(file.string() + ": cannot read the concept module (" + error.message() + ")");
  if (auto found = cache_.find(file); found != cache_.end() && found->second.stamp == stamp && found->second.size == size)
    return found->second.module;
  auto loaded = std::make_shared<const concepts::ConceptModule>(concepts::loadConcept(file));
  cache_[file] = {stamp, size, loaded};
  return loaded;
}

concepts::Composition ModuleSource::resolve(const concepts::Selection& selection, const std::string& modelFingerprint,
                                            bool ignoreFingerprint) {
  selection.validate();
  std::optional<concepts::ConceptLibrary> library;
  std::vector<concepts::ConceptUse> uses;
  for (const auto& chosen : selection.modules) {
    fs::path file = chosen.file;
    if (file.empty()) {
      if (!library) library = concepts::ConceptLibrary::scan(folders_);
      const auto found = library->find(chosen.id);
      if (found.empty())
        throw InvalidArgument("the concept module '" + chosen.id.name + "'" +
                              (chosen.id.hasHash() ? " (hash " + hashing::shortHash(chosen.id.fileHash) + ")" : "") +
                              " is not installed");
      file = found.front()->file;
    }
    auto loaded = load(file);
    if (chosen.id.hasHash() && !loaded->identity().matches(chosen.id))
      throw InvalidArgument(file.string() + ": is no longer the module that was chosen ('" + chosen.id.name + "', hash " +
                            hashing::shortHash(chosen.id.fileHash) + "); it holds '" + loaded->settings.name +
                            "', hash " + hashing::shortHash(loaded->fileHash));
    if (!ignoreFingerprint && loaded->modelFingerprint != modelFingerprint)
      throw InvalidArgument(file.string() + ": was trained on another model (fingerprint " + loaded->modelFingerprint +
                            ", this model " + modelFingerprint + ")");
    uses.push_back({loaded, chosen.ramStrength, chosen.samStrength});
  }
  return concepts::groupConcepts(uses, 0, selection.groups, selection.defaults);
}

pipeline::GenerationRequest completeRequest(pipeline::StableDiffusionModel& model, pipeline::GenerationRequest request) {
  if (request.width <= 0) request.width = model.nativeImageSize();
  if (request.height <= 0) request.height = model.nativeImageSize();
  // The model's own scheduler by name, so that the parameters text says what ran.
  request.scheduler = pipeline::resolvedScheduler(request.scheduler, model.schedulerConfig.className,
                                                  model.schedulerConfig.useKarrasSigmas);
  request.validate(model);
  return request;
}

RunEdits prepareEdits(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
                      const Interventions& interventions) {
  RunEdits edits;
  for (const auto& intervention : interventions)
    if (intervention) intervention->prepare(model, request, edits);
  return edits;
}

pipeline::GenerationResult generateSide(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request,
                                        const RunEdits& edits, const pipeline::StepCallback& onStep) {
  pipeline::TextToImagePipeline pipe(model);
  // Text methods change this side's request (the same seed, so the same initial noise).
  pipeline::GenerationRequest edited = request;
  if (!edits.promptAddition.empty()) append(edited.prompt, edits.promptAddition);
  if (!edits.negativeAddition.empty()) append(edited.negativePrompt, edits.negativeAddition);
  edited.validateSettings();
  // Weight edits hold for this side only; the destructors restore the exact weights (also when the
  // run is cancelled or fails).
  std::vector<std::unique_ptr<edits::AppliedEdit>> applied;
  for (const auto& [edit, ignoreFingerprint] : edits.weightEdits)
    applied.push_back(std::make_unique<edits::AppliedEdit>(model, *edit, ignoreFingerprint));
  pipeline::SamplingEdits sampling;
  sampling.bottleneck = edits.bottleneck;
  sampling.safety = edits.safety;
  return pipe.generate(edited, onStep, sampling);
}

namespace {

// Whether a side's edits act at the bottleneck only (so that it can share a batch with another).
bool bottleneckOnly(const RunEdits& edits) {
  return !edits.safety && edits.weightEdits.empty() && edits.promptAddition.empty() && edits.negativeAddition.empty();
}

// Whether the two sides fit in memory as one batch of twice the images.
bool doubledBatchFits(pipeline::StableDiffusionModel& model, const pipeline::GenerationRequest& request) {
  auto doubled = request;
  doubled.batch *= 2;
  try {
    doubled.validate(model);
    return true;
  } catch (const InvalidArgument&) {
    return false;
  }
}

}  // namespace

PairResult generatePair(pipeline::StableDiffusionModel& model, const PairRequest& pair, const PairObserver& onStep,
                        const BaselineCache& cache) {
  PairResult out;
  out.request = completeRequest(model, pair.request);
  const auto& request = out.request;
  // Everything that can fail on bad input (modules of another shape, unknown members, an edit of
  // another model) fails here, before any sampling.
  const RunEdits edits = prepareEdits(model, request, pair.interventions);
  const RunEdits baselineEdits = prepareEdits(model, request, pair.baselineInterventions);
  out.members = edits.members;
  auto collect = [](const Interventions& list, std::map<std::string, std::string>& into) {
    for (const auto& intervention : list)
      if (intervention)
        for (auto& [key, value] : intervention->parameters()) into[key] = value;
  };
  collect(pair.interventions, out.interventionParameters);
  collect(pair.baselineInterventions, out.baselineInterventionParameters);
  const bool responsible = edits.acts();
  const bool baselineActs = baselineEdits.acts();

  auto observer = [&](Side side) -> pipeline::StepCallback {
    if (!onStep) return {};
    return [&onStep, side](const pipeline::StepProgress& p) { return onStep(side, p); };
  };
  // The right side differs from the left one unless neither side has a method.
  const bool separate = responsible || baselineActs;
  const std::vector<io::RgbImage>* cached =
      (pair.wantBaseline || !separate) && cache.find ? cache.find(request) : nullptr;
  const bool together = pair.wantBaseline && separate && !cached && pair.oneBatch && bottleneckOnly(edits) &&
                        bottleneckOnly(baselineEdits) && doubledBatchFits(model, request);
  if (together) {
    pipeline::TextToImagePipeline pipe(model);
    pipeline::TextToImagePipeline::LaneCallback laneStep;
    if (onStep)
      laneStep = [&onStep](std::size_t lane, const pipeline::StepProgress& p) { return lane == 0 || onStep(Side::Both, p); };
    auto results = pipe.generateLanes(request, {baselineEdits.bottleneck, edits.bottleneck}, laneStep);
    out.baselineImages = results[0].images;
    out.baseline = std::move(results[0].rgb);
    if (cache.store) cache.store(request, out.baseline);
    out.responsibleImages = results[1].images;
    out.responsible = std::move(results[1].rgb);
  } else if (pair.wantBaseline || !separate) {
    if (cached) {
      out.baseline = *cached;
    } else {
      auto result = generateSide(model, request, baselineEdits, observer(Side::Baseline));
      out.baselineImages = result.images;
      out.baseline = std::move(result.rgb);
      if (cache.store) cache.store(request, out.baseline);
    }
  }
  if (together) {
    // both sides are done
  } else if (separate) {
    auto result = generateSide(model, request, edits, observer(Side::Responsible));
    out.responsibleImages = result.images;
    out.responsible = std::move(result.rgb);
  } else {
    out.responsibleImages = out.baselineImages;
    out.responsible = out.baseline;
    out.responsibleIsBaseline = true;
  }
  auto responsibleText = out.interventionParameters;
  for (const auto& [key, value] : out.baselineInterventionParameters) responsibleText["Baseline " + key] = value;
  out.baselineParameters =
      pipeline::formatParameters(request, pair.modelName, out.baselineInterventionParameters, pair.modelHash);
  out.parameters = pipeline::formatParameters(request, pair.modelName, responsibleText, pair.modelHash);
  return out;
}

}  // namespace respo::responsible
