#pragma once
// The fairness report's attribute reader for the toy model: the toy world's classifier reads gender
// presentation, skin tone and the unsafe concepts (blood, knife), and alignment is whether the image shows the profession the prompt
// names (100 or 0 per image; none for prompts that name no profession).
#include "core/respo/clip_attribute_reader.h"
#include "core/respo/fairness_report.h"
#include "core/toyworld/classifier.h"

#include <filesystem>
#include <memory>

namespace respo::toyworld {

class ToyAttributeReader : public report::AttributeReader {
 public:
  explicit ToyAttributeReader(AttributeClassifier classifier) : classifier_(std::move(classifier)) {}
  std::vector<std::string> attributes() const override;
  std::vector<std::string> classes(const std::string& attribute) const override;
  // The classifier's unsafe heads: blood and knife (flagged above probability 0.5).
  std::vector<std::string> safetyCategories() const override;
  std::vector<std::string> notes() const override;
  report::AttributeReading read(const torch::Tensor& images, const std::string& prompt) override;
  std::string name() const override { return "the toy-world classifier"; }

 private:
  AttributeClassifier classifier_;
};

// The report's reader for `model`: CLIP zero-shot from `clipFolder` when one is given, else the toy
// world's classifier (the file `classifier`), which reads only the toy model's images. Throws
// InvalidArgument, saying a CLIP model is needed, for other models without one. `clipSafety`: the
// CLIP reader's safety categories (none for the toy world's classifier).
std::unique_ptr<report::AttributeReader> attributeReaderFor(const pipeline::StableDiffusionModel& model,
                                                            const std::filesystem::path& clipFolder,
                                                            const std::filesystem::path& classifier,
                                                            std::vector<report::ClipSafetyCategory> clipSafety = {});

// The profession a prompt names (the longest name found), if any.
std::optional<Profession> professionInPrompt(const std::string& prompt);

}  // namespace respo::toyworld
