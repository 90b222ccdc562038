#pragma once
// The fairness report: for each prompt, generate N images without and with the chosen concept
// modules (same seeds, same noise), read attributes off both sets with an attribute reader, and
// report per-prompt histograms, deviation ratios and how well the images still show the prompt.
// The reader is the toy world's classifier for the toy model; CLIP zero-shot for real models.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/pipeline/stable_diffusion_model.h"
#include "core/respo/composition.h"

namespace respo::report {

// What a reader finds in a batch of images.
struct AttributeReading {
  std::vector<std::vector<int>> labels;          // per attribute (in attributes() order), per image: class index
  std::optional<std::vector<double>> alignment;  // per image, how well it shows the prompt (0-100), when known
};

// Reads attributes off generated images.
class AttributeReader {
 public:
  virtual ~AttributeReader() = default;
  // The attributes it reads ("gender", "skin tone") and each one's classes.
  virtual std::vector<std::string> attributes() const = 0;
  virtual std::vector<std::string> classes(const std::string& attribute) const = 0;
  // images [N, 3, H, W] in [0, 1], generated for `prompt`: one pass of the reader's model serves both
  // the labels and the alignment.
  virtual AttributeReading read(const torch::Tensor& images, const std::string& prompt) = 0;
  virtual std::string name() const = 0;
};

struct ReportSettings {
  std::vector<std::string> prompts;
  int imagesPerPrompt = 8;
  int steps = 25;
  double guidanceScale = 7.5;
  std::string scheduler;  // "" = the model's own
  std::uint64_t seed = 1;
  int width = 0, height = 0;  // 0: native
};

struct AttributeCounts {
  std::string attribute;
  std::vector<std::string> classes;
  std::vector<int> before, after;
  double devRatBefore = 0, devRatAfter = 0;
};

struct PromptReport {
  std::string prompt;
  std::vector<AttributeCounts> attributes;
  std::optional<double> alignmentBefore, alignmentAfter;  // mean, 0-100
};

struct FairnessReport {
  std::string reader;
  std::vector<std::string> concepts;  // the modules' names
  ReportSettings settings;
  std::vector<PromptReport> prompts;
  double seconds = 0;

  // Mean over prompts of an attribute's DevRat before / after (nullopt when it was not read).
  std::optional<std::pair<double, double>> meanDevRat(const std::string& attribute) const;
  std::optional<std::pair<double, double>> meanAlignment() const;
  nlohmann::json toJson() const;
  std::string toCsv() const;       // one row per prompt, attribute and class
  std::string toMarkdown() const;  // the summary and a per-prompt table
};

// Return false to cancel (throws respo::Cancelled).
using ReportProgress = std::function<bool(int done, int total)>;

// Deviation ratio of class counts: max_c |N_c/N - 1/C| / (1 - 1/C).
double deviationRatio(const std::vector<int>& counts);

FairnessReport fairnessReport(pipeline::StableDiffusionModel& model, AttributeReader& reader,
                              const concepts::Composition& composition, const ReportSettings& settings,
                              const ReportProgress& onProgress = {});

// WinoBias's professions and the paper's templates, for real models.
const std::vector<std::string>& winoBiasProfessions();
std::vector<std::string> winoBiasPrompts(int templates = 5);

}  // namespace respo::report
