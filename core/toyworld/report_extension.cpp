#include "core/toyworld/report_extension.h"

#include "core/common/paths.h"
#include "core/pipeline/stable_diffusion_model.h"
#include "core/toyworld/attribute_reader.h"
#include "core/toyworld/world.h"

namespace respo::toyworld {

report::ReportExtension reportExtension(const std::filesystem::path& classifier) {
  report::ReportExtension out;
  out.name = "toy world";
  const auto file = classifier.empty() ? paths::toyClassifier() : classifier;
  out.reader = [file](const pipeline::StableDiffusionModel& model) -> std::unique_ptr<report::AttributeReader> {
    if (model.nativeImageSize() != kImageSize) return nullptr;  // not the toy world's pictures
    return std::make_unique<ToyAttributeReader>(loadClassifier(file));
  };
  out.promptSets.emplace_back("Toy-world professions", professionPrompts());
  return out;
}

}  // namespace respo::toyworld
