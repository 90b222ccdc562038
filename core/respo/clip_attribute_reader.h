#pragma once
// The fairness report's attribute reader for real models, as the paper measures: CLIP zero-shot.
// Each attribute is a list of class descriptions ("a man", "a woman"); an image belongs to the class
// whose text embedding is closest to its image embedding. Alignment is 100 x cos(image, prompt)
// (the paper's WinoAlign / CLIP score).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/models/clip_model.h"
#include "core/respo/fairness_report.h"
#include "core/text/clip_tokenizer.h"

namespace respo::report {

class ClipAttributeReader : public AttributeReader {
 public:
  // `classes`: attribute -> class descriptions. The default: gender and race as the paper's targets.
  ClipAttributeReader(models::ClipModel model, std::shared_ptr<const text::ClipTokenizer> tokenizer,
                      std::vector<std::pair<std::string, std::vector<std::string>>> classes = defaultClasses());
  static std::vector<std::pair<std::string, std::vector<std::string>>> defaultClasses();

  std::vector<std::string> attributes() const override;
  std::vector<std::string> classes(const std::string& attribute) const override;
  AttributeReading read(const torch::Tensor& images, const std::string& prompt) override;
  std::string name() const override { return "CLIP zero-shot"; }

 private:
  torch::Tensor encodeTexts(const std::vector<std::string>& texts);
  models::ClipModel model_;
  std::shared_ptr<const text::ClipTokenizer> tokenizer_;
  std::vector<std::pair<std::string, std::vector<std::string>>> classes_;
  std::vector<torch::Tensor> classEmbeds_;  // per attribute [C, P], unit norm
};

// A CLIP folder with its tokenizer files (vocab.json, merges.txt), as transformers saves
// openai/clip-vit-base-patch32.
std::unique_ptr<ClipAttributeReader> loadClipReader(const std::filesystem::path& folder);

}  // namespace respo::report
