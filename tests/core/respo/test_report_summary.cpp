// The report's summary: bootstrap intervals (seeded, stratified by prompt), unsafe rates, and the
// merge of a sharded run's parts into exactly the unsharded result. Torch-free.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/respo/audit_card.h"
#include "core/respo/fairness_summary.h"
#include "tests/support/testing.h"

using namespace respo;
using namespace respo::report;

namespace {

// A report of `prompts` prompts with `images` images each: gender counts that lean toward "man"
// before and are even after; the first prompt in every three is flagged unsafe in half its images.
FairnessReport makeReport(int prompts, int images) {
  FairnessReport r;
  r.reader = "a test reader";
  r.concepts = {"a concept"};
  r.settings.imagesPerPrompt = images;
  for (int p = 0; p < prompts; ++p) {
    r.settings.prompts.push_back("prompt " + std::to_string(p));
    PromptReport pr;
    pr.index = static_cast<std::size_t>(p);
    pr.prompt = r.settings.prompts.back();
    pr.images = images;
    AttributeCounts gender;
    gender.attribute = "gender";
    gender.classes = {"woman", "man"};
    const int women = (images * (p % 3 + 1)) / 10;
    gender.before = {women, images - women};
    gender.after = {images / 2, images - images / 2};
    gender.devRatBefore = deviationRatio(gender.before);
    gender.devRatAfter = deviationRatio(gender.after);
    pr.attributes.push_back(gender);
    const int flagged = p % 3 == 0 ? images / 2 : 0;
    pr.safety = {{"", flagged, flagged / 2}, {"blood", flagged, 0}, {"knife", 0, flagged / 2}};
    pr.alignmentBefore = 80;
    pr.alignmentAfter = 75;
    r.prompts.push_back(pr);
  }
  return r;
}

// By value: callers pass summaries that are temporaries.
MetricSummary metric(const std::vector<MetricSummary>& all, const std::string& name) {
  const auto it = std::find_if(all.begin(), all.end(), [&](const MetricSummary& m) { return m.name == name; });
  if (it == all.end()) throw std::runtime_error("no metric " + name);
  return *it;
}

// The part of a sharded run that shard `index` of `count` writes.
nlohmann::json shardOf(const FairnessReport& whole, int index, int count) {
  FairnessReport part = whole;
  part.settings.shardIndex = index;
  part.settings.shardCount = count;
  part.prompts.clear();
  for (const auto& p : whole.prompts)
    if (static_cast<int>(p.index % static_cast<std::size_t>(count)) == index) part.prompts.push_back(p);
  return part.toJson();
}

}  // namespace

RESPO_TEST(unsafe_rates_pool_every_prompts_images) {
  const auto r = makeReport(6, 10);  // prompts 0 and 3 flagged: 5 + 5 of 60 images
  EXPECT_NEAR(r.unsafeRate()->first, 10.0 / 60, 1e-12);
  EXPECT_NEAR(r.unsafeRate()->second, 4.0 / 60, 1e-12);
  EXPECT_NEAR(r.unsafeRate("blood")->second, 0.0, 1e-12);
  EXPECT(!r.unsafeRate("nudity").has_value());
  FairnessReport none = r;
  for (auto& p : none.prompts) p.safety.clear();
  EXPECT(!none.unsafeRate().has_value());
}

RESPO_TEST(bootstrap_intervals_are_seeded_and_hold_their_estimate) {
  const auto r = makeReport(6, 20);
  const auto a = r.summary(), b = r.summary();
  REQUIRE(a.size() == 5u);  // gender devrat, unsafe rate, unsafe rate: blood, unsafe rate: knife, alignment
  const auto& devrat = metric(a, "gender devrat");
  REQUIRE(devrat.beforeInterval && devrat.afterInterval);
  // The same seed gives the same interval, to the bit.
  EXPECT_EQ(devrat.beforeInterval->low, metric(b, "gender devrat").beforeInterval->low);
  EXPECT_EQ(devrat.beforeInterval->high, metric(b, "gender devrat").beforeInterval->high);
  EXPECT(devrat.beforeInterval->low <= devrat.before && devrat.before <= devrat.beforeInterval->high);
  EXPECT(devrat.beforeInterval->high > devrat.beforeInterval->low);
  // Another seed draws other resamples.
  FairnessReport other = r;
  other.settings.bootstrapSeed = 2;
  const auto& moved = metric(other.summary(), "gender devrat");
  EXPECT(moved.beforeInterval->low != devrat.beforeInterval->low || moved.beforeInterval->high != devrat.beforeInterval->high);
  // The unsafe rate's interval holds the pooled rate.
  const auto& unsafe = metric(a, "unsafe rate");
  EXPECT_NEAR(unsafe.before, 20.0 / 120, 1e-12);
  EXPECT(unsafe.beforeInterval->low < unsafe.before && unsafe.before < unsafe.beforeInterval->high);
  // A category never flagged: nothing to resample, the interval is the point.
  EXPECT_EQ(metric(a, "unsafe rate: blood").afterInterval->low, 0.0);
  EXPECT_EQ(metric(a, "unsafe rate: blood").afterInterval->high, 0.0);
  // No interval for alignment, and none at all with 0 resamples.
  EXPECT(!metric(a, "alignment").beforeInterval.has_value());
  FairnessReport off = r;
  off.settings.bootstrapResamples = 0;
  EXPECT(!metric(off.summary(), "gender devrat").beforeInterval.has_value());
}

RESPO_TEST(bootstrap_intervals_narrow_with_more_images) {
  auto width = [](int images) {
    const auto& m = metric(makeReport(6, images).summary(), "unsafe rate");
    return m.beforeInterval->high - m.beforeInterval->low;
  };
  const double w10 = width(10), w40 = width(40), w160 = width(160);
  std::cout << "  unsafe-rate interval width at 10, 40, 160 images per prompt: " << w10 << ", " << w40 << ", " << w160 << "\n";
  // Binomial: the width falls as 1/sqrt(n), about half for four times the images.
  EXPECT(w40 < 0.7 * w10 && w160 < 0.7 * w40);
  // Every image the same class: each resample is the same, so is the interval.
  FairnessReport same = makeReport(3, 10);
  for (auto& p : same.prompts) {
    p.attributes[0].before = {0, 10};
    p.attributes[0].devRatBefore = 1;
  }
  const auto& devrat = metric(same.summary(), "gender devrat");
  EXPECT_EQ(devrat.beforeInterval->low, 1.0);
  EXPECT_EQ(devrat.beforeInterval->high, 1.0);
}

RESPO_TEST(json_round_trips_and_carries_no_timing) {
  auto r = makeReport(4, 8);
  r.seconds = 12.5;
  const auto json = r.toJson();
  EXPECT(!json.contains("seconds"));
  EXPECT(json.at("summary").at("gender devrat").at("before_interval").is_array());
  EXPECT_EQ(FairnessReport::fromJson(json).toJson().dump(), json.dump());
  auto broken = json;
  broken["prompts"][0].erase("images");
  EXPECT_THROWS(FairnessReport::fromJson(broken), FormatError, "'prompts' is missing or of the wrong type");
  broken = json;
  broken["prompts"][1]["index"] = 99;
  EXPECT_THROWS(FairnessReport::fromJson(broken), FormatError, "past the prompt list");
}

RESPO_TEST(shards_merge_into_the_unsharded_result_byte_for_byte) {
  const auto whole = makeReport(7, 6);
  const std::string expected = whole.toJson().dump(2);
  // Any order of the parts.
  EXPECT_EQ(mergeShards({shardOf(whole, 2, 3), shardOf(whole, 0, 3), shardOf(whole, 1, 3)}).dump(2), expected);
  // More shards than prompts: some parts are empty.
  std::vector<nlohmann::json> parts;
  for (int k = 0; k < 9; ++k) parts.push_back(shardOf(whole, k, 9));
  EXPECT_EQ(mergeShards(parts).dump(2), expected);
  // A comparison of two methods: each method's report merged.
  auto second = whole;
  second.concepts = {"another"};
  const auto comparison = comparisonJson({"a", "b"}, {whole, second}).dump(2);
  auto comparisonShard = [&](int k) {
    return nlohmann::json{{"methods", {"a", "b"}}, {"reports", {shardOf(whole, k, 2), shardOf(second, k, 2)}}};
  };
  EXPECT_EQ(mergeShards({comparisonShard(1), comparisonShard(0)}).dump(2), comparison);
}

RESPO_TEST(merging_refuses_parts_of_other_runs) {
  const auto whole = makeReport(6, 4);
  EXPECT_THROWS(mergeShards({shardOf(whole, 0, 3), shardOf(whole, 1, 3)}), InvalidArgument, "3 shards; 2 parts");
  EXPECT_THROWS(mergeShards({shardOf(whole, 0, 3), shardOf(whole, 0, 3), shardOf(whole, 1, 3)}), InvalidArgument,
                "shard 1/3 is given twice");
  auto otherSteps = whole;
  otherSteps.settings.steps = 3;
  EXPECT_THROWS(mergeShards({shardOf(whole, 0, 2), shardOf(otherSteps, 1, 2)}), InvalidArgument, "other settings");
  auto otherModel = whole;
  otherModel.modelFingerprint = "0000000000000000";
  EXPECT_THROWS(mergeShards({shardOf(whole, 0, 2), shardOf(otherModel, 1, 2)}), InvalidArgument, "another model");
  EXPECT_THROWS(mergeShards({shardOf(whole, 0, 2), shardOf(whole, 1, 3)}), InvalidArgument, "another split");
  auto missing = shardOf(whole, 1, 2);
  missing["prompts"].erase(0);
  EXPECT_THROWS(mergeShards({shardOf(whole, 0, 2), missing}), InvalidArgument, "every prompt of the run exactly once");
  auto stray = shardOf(whole, 1, 2);
  stray["prompts"].push_back(shardOf(whole, 0, 2)["prompts"][0]);
  EXPECT_THROWS(mergeShards({shardOf(whole, 0, 2), stray}), InvalidArgument, "a prompt of another shard");
  EXPECT_THROWS(mergeShards({shardOf(whole, 0, 2), comparisonJson({"a"}, {whole})}), InvalidArgument, "other methods");
}

RESPO_TEST(a_sweeps_tradeoff_marks_the_pareto_front) {
  // Four settings of one knob: the metric falls as the distance to the baseline grows, except for
  // "worse", which is farther than "strong" and no fairer.
  auto setting = [](int women, double distance) {
    auto r = makeReport(3, 10);
    for (auto& p : r.prompts) {
      p.attributes[0].after = {women, 10 - women};
      p.attributes[0].devRatAfter = deviationRatio(p.attributes[0].after);
      p.distance = distance;
    }
    return r;
  };
  const std::vector<std::string> labels{"weak", "medium", "strong", "worse"};
  const std::vector<FairnessReport> reports{setting(3, 0.01), setting(4, 0.02), setting(5, 0.05), setting(5, 0.08)};
  const auto points = tradeoff(labels, reports, "gender devrat");
  REQUIRE(points.size() == 5u);
  EXPECT_EQ(points[0].label, std::string("baseline"));
  EXPECT_EQ(points[0].distance, 0.0);
  EXPECT(points[0].pareto);  // nothing is closer to the baseline than the baseline
  EXPECT(points[1].pareto && points[2].pareto && points[3].pareto);
  EXPECT(!points[4].pareto);
  EXPECT_NEAR(points[3].metric, 0.0, 1e-12);
  EXPECT(points[1].interval.has_value());
  // The default metric is the first DevRat; an unknown one names those there are.
  EXPECT_EQ(defaultTradeoffMetric(reports.front()), std::string("gender devrat"));
  EXPECT_THROWS(tradeoff(labels, reports, "skin devrat"), InvalidArgument, "the report has: gender devrat, unsafe rate");
  EXPECT_THROWS(tradeoff(labels, reports, "alignment"), InvalidArgument, "no metric 'alignment'");
  const auto markdown = tradeoffMarkdown(points, "gender devrat");
  EXPECT(markdown.find("| strong | 0.000 [") != std::string::npos);
  EXPECT(markdown.find("| worse | 0.000 [") != std::string::npos);
  EXPECT(markdown.find("] | 0.0800 | 75.0 |  |") != std::string::npos);  // not on the front
  // The chart: one filled circle per front point, the same text every time.
  const auto svg = tradeoffSvg(points, "gender devrat");
  EXPECT_EQ(svg, tradeoffSvg(points, "gender devrat"));
  EXPECT(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  std::size_t filled = 0;
  for (auto at = svg.find("fill=\"#1f77b4\""); at != std::string::npos; at = svg.find("fill=\"#1f77b4\"", at + 1)) ++filled;
  EXPECT_EQ(filled, 4u);
  EXPECT(svg.find("<polyline") != std::string::npos);
  // A sweep's JSON keeps its trade-off, and its shards merge back to it.
  const auto json = comparisonJson(labels, reports, "gender devrat");
  EXPECT_EQ(json.at("tradeoff").at("points").size(), 5u);
  EXPECT(json.at("tradeoff").at("points").at(4).at("pareto") == false);
  auto shard = [&](int k) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& r : reports) parts.push_back(shardOf(r, k, 2));
    return nlohmann::json{{"methods", labels}, {"reports", parts}, {"tradeoff", {{"metric", "gender devrat"}}}};
  };
  EXPECT_EQ(mergeShards({shard(0), shard(1)}).dump(), json.dump());
}

RESPO_TEST(the_audit_card_is_one_deterministic_self_contained_page) {
  AuditCard card;
  card.model = "a <test> model";
  card.modelFingerprint = "0123456789abcdef";
  card.labels = {"method & co"};
  card.reports = {makeReport(2, 4)};
  card.methodDetails = {{{"SLD", "medium"}}};
  card.readerNotes = {"flagged above 0.5"};
  io::RgbImage pixel{1, 1, {255, 0, 0}};
  card.examples = {{1, {pixel, pixel}}};
  const auto page = auditHtml(card);
  EXPECT_EQ(page, auditHtml(card));
  EXPECT(page.rfind("<!DOCTYPE html>", 0) == 0);
  EXPECT(page.find("a &lt;test&gt; model") != std::string::npos);   // escaped
  EXPECT(page.find("method &amp; co") != std::string::npos);
  EXPECT(page.find("SLD: medium") != std::string::npos);
  EXPECT(page.find(promptSetHash(card.reports.front().settings.prompts)) != std::string::npos);
  // The image inline: the PNG's bytes in base64, and they are the PNG encoder's.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto at = page.find("data:image/png;base64,");
  REQUIRE(at != std::string::npos);
  const auto start = at + 22, end = page.find('"', start);
  const std::string encoded = page.substr(start, end - start);
  std::string decoded;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : encoded) {
    if (c == '=') break;
    buffer = buffer << 6 | static_cast<unsigned>(alphabet.find(c));
    bits += 6;
    if (bits >= 8) decoded += static_cast<char>(buffer >> (bits -= 8) & 0xFF);
  }
  EXPECT(decoded == io::encodePng(pixel));
  EXPECT(page.find("<script") == std::string::npos);
  // "What changed" names each metric's move.
  const auto lines = changes(card, 0);
  EXPECT(std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("gender DevRat: ", 0) == 0; }));
  EXPECT_EQ(auditJson(card).at("audit").at("model_fingerprint").get<std::string>(), std::string("0123456789abcdef"));
  // Inconsistent cards are refused.
  auto wrong = card;
  wrong.examples = {{1, {pixel}}};
  EXPECT_THROWS(auditHtml(wrong), InvalidArgument, "example rows");
  wrong = card;
  wrong.labels.push_back("another");
  EXPECT_THROWS(auditHtml(wrong), InvalidArgument, "one label per report");
}

RESPO_TEST(prompt_categories_get_their_own_unsafe_rates) {
  auto r = makeReport(6, 10);  // prompts 0 and 3 flagged in 5 of 10 images before, 2 after
  r.settings.categories = {"violence, shocking", "", "shocking", "violence", "harassment", "violence"};
  EXPECT(r.promptCategories() == (std::vector<std::string>{"harassment", "shocking", "violence"}));
  const auto all = r.summary();
  const auto violence = metric(all, "unsafe rate on violence prompts");  // prompts 0, 3, 5
  EXPECT_NEAR(violence.before, 10.0 / 30, 1e-12);
  EXPECT_NEAR(violence.after, 4.0 / 30, 1e-12);
  REQUIRE(violence.beforeInterval.has_value());
  EXPECT_NEAR(metric(all, "unsafe rate on shocking prompts").before, 5.0 / 20, 1e-12);  // prompts 0, 2
  EXPECT_NEAR(metric(all, "unsafe rate on harassment prompts").before, 0.0, 1e-12);
  // Per-prompt seeds and guidance ride along in the JSON, and a sharded run with them merges back.
  r.settings.promptSeeds = {std::nullopt, 7, std::nullopt, std::nullopt, 99, std::nullopt};
  r.settings.promptGuidance = {5.0, std::nullopt, std::nullopt, std::nullopt, std::nullopt, 9.5};
  const auto json = r.toJson();
  EXPECT_EQ(json.at("settings").at("categories").size(), 6u);
  EXPECT(json.at("settings").at("prompt_seeds").at(0).is_null());
  EXPECT_EQ(json.at("settings").at("prompt_seeds").at(4).get<std::uint64_t>(), std::uint64_t{99});
  EXPECT_EQ(FairnessReport::fromJson(json).toJson().dump(), json.dump());
  EXPECT_EQ(mergeShards({shardOf(r, 1, 2), shardOf(r, 0, 2)}).dump(), json.dump());
  auto broken = json;
  broken["settings"]["categories"].erase(0);
  EXPECT_THROWS(FairnessReport::fromJson(broken), FormatError, "categories do not match its prompts");
}
