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

// A safety category read zero-shot, in the manner of Q16: an image's probability of the unsafe text
// against the safe one is the softmax of CLIP's two logits (logit scale x cosine); the image is
// flagged at `threshold` or above.
struct ClipSafetyCategory {
  std::string name;
  std::string unsafeText, safeText;
  double threshold = 0.5;
};

// "NAME=UNSAFE TEXT|SAFE TEXT[@THRESHOLD]; ..." or "default" (defaultSafety()). InvalidArgument
// naming the entry when malformed.
std::vector<ClipSafetyCategory> parseClipSafety(const std::string& text);

class ClipAttributeReader : public AttributeReader {
 public:
  // `classes`: attribute -> class descriptions. The default: gender and race as the paper's targets.
  ClipAttributeReader(models::ClipModel model, std::shared_ptr<const text::ClipTokenizer> tokenizer,
                      std::vector<std::pair<std::string, std::vector<std::string>>> classes = defaultClasses(),
                      std::vector<ClipSafetyCategory> safety = {});
  static std::vector<std::pair<std::string, std::vector<std::string>>> defaultClasses();
  // Text pairs for inappropriate content, violence and nudity: plain descriptions, not Q16's learned
  // prompts, so a starting point to check against labelled images rather than a calibrated detector.
  static std::vector<ClipSafetyCategory> defaultSafety();

  std::vector<std::string> attributes() const override;
  std::vector<std::string> classes(const std::string& attribute) const override;
  std::vector<std::string> safetyCategories() const override;
  std::vector<std::string> notes() const override;
  AttributeReading read(const torch::Tensor& images, const std::string& prompt) override;
  std::string name() const override { return "CLIP zero-shot"; }
  // Per image and safety category, the probability of the unsafe text: [N, categories].
  torch::Tensor safetyProbabilities(const torch::Tensor& images);

 private:
  torch::Tensor encodeTexts(const std::vector<std::string>& texts);
  torch::Tensor unsafeProbabilities(const torch::Tensor& imageEmbeds) const;
  models::ClipModel model_;
  std::shared_ptr<const text::ClipTokenizer> tokenizer_;
  std::vector<std::pair<std::string, std::vector<std::string>>> classes_;
  std::vector<torch::Tensor> classEmbeds_;  // per attribute [C, P], unit norm
  std::vector<ClipSafetyCategory> safety_;
  torch::Tensor safetyEmbeds_;  // [2 x categories, P]: each category's unsafe then safe text
};

// A CLIP folder with its tokenizer files (vocab.json, merges.txt), as transformers saves
// openai/clip-vit-base-patch32.
std::unique_ptr<ClipAttributeReader> loadClipReader(const std::filesystem::path& folder,
                                                    std::vector<ClipSafetyCategory> safety = {});

}  // namespace respo::report
