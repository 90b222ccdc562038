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
  // What a prompt set says per prompt (each empty, or one entry per prompt): the category (I2P's
  // "violence, illegal activity"), and a seed and guidance scale of its own instead of the rule's.
  std::vector<std::string> categories;
  std::vector<std::optional<std::uint64_t>> promptSeeds;
  std::vector<std::optional<double>> promptGuidance;
  // Confidence intervals: a percentile bootstrap with this many resamples from this seed (see
  // FairnessReport::intervals); 0 resamples: none.
  int bootstrapResamples = 1000;
  std::uint64_t bootstrapSeed = 1;
  // A slice of the prompts for one process of a sharded run: the prompts whose index i (0-based)
  // has i % shardCount == shardIndex. Every prompt's seeds come from its index, so the slices of N
  // processes put together (mergeReports) are exactly the unsharded run.
  int shardIndex = 0, shardCount = 1;
};

struct AttributeCounts {
  std::string attribute;
  std::vector<std::string> classes;
  std::vector<int> before, after;
  double devRatBefore = 0, devRatAfter = 0;
};

// Images a safety reader flags in one category ("blood", "nudity", ...); category "" counts the
// images flagged in any category.
struct SafetyCounts {
  std::string category;
  int before = 0, after = 0;
};

struct PromptReport {
  std::size_t index = 0;  // the prompt's position in the settings' list
  std::string prompt;
  int images = 0;  // per side
  std::vector<AttributeCounts> attributes;
  std::vector<SafetyCounts> safety;  // "" (any) first, then each category; empty without a safety reader
  std::optional<double> alignmentBefore, alignmentAfter;  // mean, 0-100
  // How far the method moved the images: the root-mean-square difference of each image from the
  // baseline image of the same seed (pixels in [0, 1]), averaged over the prompt's images.
  double distance = 0;
};

// A two-sided percentile interval.
struct Interval {
  double low = 0, high = 0;
};

// A metric of the report with its bootstrap intervals, before and after.
struct MetricSummary {
  std::string name;  // "gender devrat", "unsafe rate", "unsafe rate: blood", "alignment"
  double before = 0, after = 0;
  std::optional<Interval> beforeInterval, afterInterval;
};

struct FairnessReport {
  std::string reader;
  std::vector<std::string> readerNotes;  // how the reader reads: thresholds, rules
  std::string modelFingerprint;          // the UNet's (concepts::modelFingerprint)
  std::vector<std::string> concepts;  // the modules' names
  ReportSettings settings;
  std::vector<PromptReport> prompts;
  double seconds = 0;

  // Mean over prompts of an attribute's DevRat before / after (nullopt when it was not read).
  std::optional<std::pair<double, double>> meanDevRat(const std::string& attribute) const;
  std::optional<std::pair<double, double>> meanAlignment() const;
  // The share of images flagged unsafe (category "" = any), before / after, over every prompt's
  // images; nullopt without a safety reader.
  std::optional<std::pair<double, double>> unsafeRate(const std::string& category = "") const;
  // The mean over prompts of the distance to the baseline images.
  double meanDistance() const;
  // The categories of the prompt set (each prompt's comma-separated list, split), sorted.
  std::vector<std::string> promptCategories() const;
  // The summary metrics: each attribute's mean DevRat, the unsafe rates (also "unsafe rate on
  // <category> prompts" per prompt category), the alignment. Intervals
  // (95%) come from a percentile bootstrap stratified by prompt: the prompts are fixed, the images
  // are the random draw, so each resample redraws every prompt's images with replacement (its class
  // counts, its flagged images) and recomputes the metric; settings.bootstrapResamples resamples from
  // settings.bootstrapSeed (std::mt19937_64, so the same on every machine). No interval for alignment.
  std::vector<MetricSummary> summary() const;
  // JSON with no timing in it: the same run gives the same bytes, however it was sharded.
  nlohmann::json toJson() const;
  // Reads what toJson writes. Throws FormatError naming the field for anything else.
  static FairnessReport fromJson(const nlohmann::json& json);
  std::string toCsv() const;       // one row per prompt, attribute and class
  std::string toMarkdown() const;  // the summary and a per-prompt table
};

// Several methods' reports against one shared baseline, as a front end carries them.
struct Comparison {
  std::vector<std::string> labels;      // one per method
  std::vector<FairnessReport> reports;  // one per method; each one's "before" is the shared baseline
  std::string tradeoffMetric;           // a sweep's metric (its methods are settings of one knob); "" otherwise
  const FairnessReport& first() const { return reports.front(); }
};

// Several methods against one baseline (report::compareMethods): one summary table with a column
// per method (the baseline first), and the reports as JSON {"methods": [...], "reports": [...]}.
std::string comparisonMarkdown(const std::vector<std::string>& labels, const std::vector<FairnessReport>& reports);
// With a trade-off metric (a sweep), the JSON also holds the trade-off points under "tradeoff".
nlohmann::json comparisonJson(const std::vector<std::string>& labels, const std::vector<FairnessReport>& reports,
                              const std::string& tradeoffMetric = "");

// A sweep's trade-off: per setting (and the baseline first), the chosen responsibility metric (a
// summary name such as "gender devrat" or "unsafe rate"; lower is better) against fidelity: the
// distance to the baseline images (lower is closer) and the alignment. A point is on the Pareto
// front when no other point is at least as good on both the metric and the distance and better on one.
struct TradeoffPoint {
  std::string label;
  double metric = 0;
  std::optional<Interval> interval;
  double distance = 0;
  std::optional<double> alignment;
  bool pareto = false;
};
// Throws InvalidArgument when the reports have no metric of that name. An empty name takes the
// first DevRat or unsafe rate of the summary.
std::vector<TradeoffPoint> tradeoff(const std::vector<std::string>& labels, const std::vector<FairnessReport>& reports,
                                    const std::string& metric);
std::string defaultTradeoffMetric(const FairnessReport& report);
std::string tradeoffMarkdown(const std::vector<TradeoffPoint>& points, const std::string& metric);
// The trade-off as a self-contained SVG chart: distance to the baseline across, the metric up, the
// Pareto front joined and its points filled. Deterministic text.
std::string tradeoffSvg(const std::vector<TradeoffPoint>& points, const std::string& metric);

// Puts the partial results of a sharded run together (each a report's or a comparison's JSON, as
// toJson / comparisonJson write them): the result is what the unsharded run writes, byte for byte.
// Throws InvalidArgument when the parts are not the shards of one run: other settings, methods or
// reader, a shard twice or missing, a prompt twice.
nlohmann::json mergeShards(const std::vector<nlohmann::json>& parts);

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

// `value` with `decimals` digits after the point ("0.412").
std::string formatFixed(double value, int decimals);
// Text for XML and HTML: < > & " escaped.
std::string xmlEscape(const std::string& text);
// "gender devrat" -> "gender DevRat"; other names as they are.
std::string metricLabel(const std::string& name);
// "0.412 [0.300, 0.525]" (no brackets without an interval).
std::string formatWithInterval(double value, const std::optional<Interval>& interval, int decimals);

// WinoBias's professions and the paper's templates, for real models.
const std::vector<std::string>& winoBiasProfessions();
std::vector<std::string> winoBiasPrompts(int templates = 5);

}  // namespace respo::report
