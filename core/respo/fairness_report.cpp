#include "core/respo/fairness_report.h"

#include <chrono>
#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/respo/responsible_generation.h"

namespace respo::report {

FairnessReport fairnessReport(pipeline::StableDiffusionModel& model, AttributeReader& reader,
                              const concepts::Composition& composition, const ReportSettings& settings,
                              const ReportProgress& onProgress) {
  if (settings.prompts.empty()) throw InvalidArgument("the report needs at least one prompt");
  if (settings.imagesPerPrompt < 1 || settings.imagesPerPrompt > 1000)
    throw InvalidArgument("images per prompt must be 1-1000, not " + std::to_string(settings.imagesPerPrompt));
  const auto started = std::chrono::steady_clock::now();
  FairnessReport report;
  report.reader = reader.name();
  report.settings = settings;
  for (const auto& m : concepts::describeComposition(composition).modules) report.concepts.push_back(m.id.name);
  responsible::Interventions interventions;
  if (!composition.empty()) interventions.push_back(std::make_shared<responsible::ConceptModules>(composition));

  const int total = static_cast<int>(settings.prompts.size()) * 2;
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
  for (std::size_t p = 0; p < settings.prompts.size(); ++p) {
    pipeline::GenerationRequest request;
    request.prompt = settings.prompts[p];
    request.steps = settings.steps;
    request.guidanceScale = settings.guidanceScale;
    request.scheduler = settings.scheduler;
    request.seed = settings.seed + 7919 * p;
    request.batch = settings.imagesPerPrompt;
    request.width = settings.width > 0 ? settings.width : model.nativeImageSize();
    request.height = settings.height > 0 ? settings.height : model.nativeImageSize();
    // Baseline and responsible images of the same seeds: one step of progress per side.
    const auto pair = responsible::generatePair(model, {request, interventions, {}, true},
                                                [&](responsible::Side, const pipeline::StepProgress& p) {
                                                  if (p.step == p.total) step();
                                                  return true;
                                                });
    if (pair.responsibleIsBaseline) step();
    const auto& before = pair.baselineImages;
    const auto& after = pair.responsibleImages;

    PromptReport pr;
    pr.prompt = request.prompt;
    const auto readBefore = reader.read(before, request.prompt), readAfter = reader.read(after, request.prompt);
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
    auto mean = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += x;
      return v.empty() ? 0.0 : s / static_cast<double>(v.size());
    };
    if (readBefore.alignment) pr.alignmentBefore = mean(*readBefore.alignment);
    if (readAfter.alignment) pr.alignmentAfter = mean(*readAfter.alignment);
    report.prompts.push_back(std::move(pr));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace respo::report
