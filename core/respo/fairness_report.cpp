#include "core/respo/fairness_report.h"

#include <chrono>
#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/respo/responsible_generation.h"
#include "core/respo/trainer.h"

namespace respo::report {

std::vector<FairnessReport> compareMethods(pipeline::StableDiffusionModel& model, AttributeReader& reader,
                                           const std::vector<ReportMethod>& methods, const ReportSettings& settings,
                                           const ReportProgress& onProgress, const ReportImages& onImages) {
  if (settings.prompts.empty()) throw InvalidArgument("the report needs at least one prompt");
  if (settings.imagesPerPrompt < 1 || settings.imagesPerPrompt > 1000)
    throw InvalidArgument("images per prompt must be 1-1000, not " + std::to_string(settings.imagesPerPrompt));
  if (methods.empty()) throw InvalidArgument("the report needs at least one method to compare with the baseline");
  if (settings.shardCount < 1 || settings.shardCount > 100000 || settings.shardIndex < 0 ||
      settings.shardIndex >= settings.shardCount)
    throw InvalidArgument("shard " + std::to_string(settings.shardIndex + 1) + " of " + std::to_string(settings.shardCount) +
                          " does not exist (shards are 1..N, N from 1 to 100000)");
  auto perPrompt = [&](std::size_t size, const char* what) {
    if (size != 0 && size != settings.prompts.size())
      throw InvalidArgument(std::string("the report's ") + what + " must be given for every prompt or for none");
  };
  perPrompt(settings.categories.size(), "categories");
  perPrompt(settings.promptSeeds.size(), "seeds");
  perPrompt(settings.promptGuidance.size(), "guidance scales");
  for (const auto& g : settings.promptGuidance)
    if (g && !(*g >= 0 && *g <= pipeline::kMaxGuidanceScale))
      throw InvalidArgument("a prompt's guidance scale must be 0-1000");
  if (settings.bootstrapResamples < 0 || settings.bootstrapResamples > 100000)
    throw InvalidArgument("bootstrap resamples must be 0-100000, not " + std::to_string(settings.bootstrapResamples));
  const auto started = std::chrono::steady_clock::now();
  const auto fingerprint = concepts::modelFingerprint(model.unet);
  std::vector<FairnessReport> reports(methods.size());
  for (std::size_t m = 0; m < methods.size(); ++m) {
    reports[m].reader = reader.name();
    reports[m].readerNotes = reader.notes();
    reports[m].modelFingerprint = fingerprint;
    reports[m].settings = settings;
    reports[m].concepts = methods[m].names;
  }
  // This process's prompts: all of them, or its shard's.
  std::vector<std::size_t> mine;
  for (std::size_t p = 0; p < settings.prompts.size(); ++p)
    if (static_cast<int>(p % static_cast<std::size_t>(settings.shardCount)) == settings.shardIndex) mine.push_back(p);
  const int total = static_cast<int>(mine.size()) * static_cast<int>(1 + methods.size());
  int done = 0;
  auto step = [&] {
    ++done;
    if (onProgress && !onProgress(done, total)) throw Cancelled("the fairness report was cancelled");
  };
  const auto attributes = reader.attributes();
  for (const auto& attribute : attributes) targetShares(settings, attribute, reader.classes(attribute));  // fail early
  for (const auto& [attribute, shares] : settings.targets)
    if (std::find(attributes.begin(), attributes.end(), attribute) == attributes.end())
      throw InvalidArgument("the reader " + reader.name() + " does not read '" + attribute + "'");
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
  };
  const auto categories = reader.safetyCategories();
  for (const std::size_t p : mine) {
    pipeline::GenerationRequest request;
    request.prompt = settings.prompts[p];
    request.steps = settings.steps;
    request.guidanceScale = settings.promptGuidance.empty() || !settings.promptGuidance[p] ? settings.guidanceScale
                                                                                          : *settings.promptGuidance[p];
    request.scheduler = settings.scheduler;
    // The prompt set's own seed, else one derived from the prompt's index (never from run order).
    request.seed = settings.promptSeeds.empty() || !settings.promptSeeds[p] ? settings.seed + 7919 * p : *settings.promptSeeds[p];
    request.batch = settings.imagesPerPrompt;
    request.width = settings.width > 0 ? settings.width : model.nativeImageSize();
    request.height = settings.height > 0 ? settings.height : model.nativeImageSize();
    request = responsible::completeRequest(model, request);
    // Every method's edits are prepared (and so checked) before anything is sampled for the prompt.
    std::vector<responsible::RunEdits> edits;
    for (const auto& method : methods) edits.push_back(responsible::prepareEdits(model, request, method.interventions));
    // One baseline per prompt, read once; each method from the same seeds and noise.
    const auto before = responsible::generateSide(model, request, {}).images;
    if (onImages) onImages(p, -1, before);
    step();
    const auto readBefore = reader.read(before, request.prompt);
    for (std::size_t m = 0; m < methods.size(); ++m) {
      const auto& e = edits[m];
      const bool acts = e.acts();
      const auto after = acts ? responsible::generateSide(model, request, e).images : before;
      if (onImages) onImages(p, static_cast<int>(m), after);
      step();
      const auto readAfter = acts ? reader.read(after, request.prompt) : readBefore;
      PromptReport pr;
      pr.index = p;
      pr.prompt = request.prompt;
      pr.images = request.batch;
      if (acts)  // per image RMS over pixels, then the mean over the prompt's images
        pr.distance = (after.to(torch::kFloat64) - before.to(torch::kFloat64)).pow(2).mean({1, 2, 3}).sqrt().mean().item<double>();
      if (!categories.empty()) {
        // "" (any category) first, then each category: images flagged.
        auto flagged = [&](const AttributeReading& r, std::size_t c) {
          int n = 0;
          for (int i = 0; i < request.batch; ++i) {
            bool any = false;
            for (std::size_t k = 0; k < categories.size(); ++k)
              if (k == c || c == categories.size()) any = any || r.unsafe.at(k).at(static_cast<std::size_t>(i));
            n += any ? 1 : 0;
          }
          return n;
        };
        pr.safety.push_back({"", flagged(readBefore, categories.size()), flagged(readAfter, categories.size())});
        for (std::size_t c = 0; c < categories.size(); ++c)
          pr.safety.push_back({categories[c], flagged(readBefore, c), flagged(readAfter, c)});
      }
      for (std::size_t a = 0; a < attributes.size(); ++a) {
        AttributeCounts counts;
        counts.attribute = attributes[a];
        counts.classes = reader.classes(attributes[a]);
        counts.before.assign(counts.classes.size(), 0);
        counts.after.assign(counts.classes.size(), 0);
        for (int k : readBefore.labels[a]) ++counts.before.at(static_cast<std::size_t>(k));
        for (int k : readAfter.labels[a]) ++counts.after.at(static_cast<std::size_t>(k));
        const auto target = targetShares(settings, counts.attribute, counts.classes);
        counts.devRatBefore = deviationRatio(counts.before, target);
        counts.devRatAfter = deviationRatio(counts.after, target);
        pr.attributes.push_back(std::move(counts));
      }
      if (readBefore.alignment) pr.alignmentBefore = mean(*readBefore.alignment);
      if (readAfter.alignment) pr.alignmentAfter = mean(*readAfter.alignment);
      reports[m].prompts.push_back(std::move(pr));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (auto& r : reports) r.seconds = seconds;
  return reports;
}

ReportMethod conceptMethod(const concepts::Composition& composition) {
  ReportMethod method;
  for (const auto& m : concepts::describeComposition(composition).modules) method.names.push_back(m.id.name);
  if (!composition.empty()) method.interventions.push_back(std::make_shared<responsible::ConceptModules>(composition));
  method.label = composition.empty() ? "no method" : "RespoDiff";
  return method;
}

FairnessReport fairnessReport(pipeline::StableDiffusionModel& model, AttributeReader& reader,
                              const concepts::Composition& composition, const ReportSettings& settings,
                              const ReportProgress& onProgress) {
  return compareMethods(model, reader, {conceptMethod(composition)}, settings, onProgress).front();
}

}  // namespace respo::report
