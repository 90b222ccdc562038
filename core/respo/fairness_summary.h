#pragma once
// What the fairness report finds, as plain values (no LibTorch, no Qt), so the app can show it and
// every front end can write it as JSON, CSV or markdown. fairness_report.h computes it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace respo::report {

struct ReportSettings {
  std::vector<std::string> prompts;
  int imagesPerPrompt = 8;
  int steps = 25;
  double guidanceScale = 7.5;
  std::string scheduler;  // "" = the model's own
  std::uint64_t seed = 1;
  int width = 0, height = 0;  // 0: native
  // The target distribution per attribute (class -> share, any unit); attributes it does not name
  // are measured against the uniform distribution (the paper's DevRat).
  std::map<std::string, std::map<std::string, double>> targets;
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

// Several methods against one baseline (report::compareMethods): one summary table with a column
// per method (the baseline first), and the reports as JSON {"methods": [...], "reports": [...]}.
std::string comparisonMarkdown(const std::vector<std::string>& labels, const std::vector<FairnessReport>& reports);
nlohmann::json comparisonJson(const std::vector<std::string>& labels, const std::vector<FairnessReport>& reports);

// Deviation ratio of class counts: max_c |N_c/N - 1/C| / (1 - 1/C).
double deviationRatio(const std::vector<int>& counts);
// Deviation from a target distribution t (one share per class, normalised): max_c |N_c/N - t_c| /
// (1 - min_c t_c), 0 at the target and 1 at the farthest distribution; with uniform t it is the above.
double deviationRatio(const std::vector<int>& counts, const std::vector<double>& target);
// The target of `attribute` over `classes` in their order (uniform when `settings` names none).
// Throws InvalidArgument for a class the reader does not have, or shares that are negative or add up
// to nothing.
std::vector<double> targetShares(const ReportSettings& settings, const std::string& attribute,
                                 const std::vector<std::string>& classes);

// WinoBias's professions and the paper's templates, for real models.
const std::vector<std::string>& winoBiasProfessions();
std::vector<std::string> winoBiasPrompts(int templates = 5);

}  // namespace respo::report
