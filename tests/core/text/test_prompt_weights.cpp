// Prompt weighting (core/text/prompt_weights.h): the runs and weights of A1111's syntax, and the
// 75-token chunks with their per-token weights, against a Python re-implementation of A1111's rules
// (tests/reference/prompt_weights_reference.py) on >= 200 prompts, for both padding conventions.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/text/clip_tokenizer.h"
#include "core/text/prompt_weights.h"
#include "tests/support/json_file.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::text;
using nlohmann::json;

namespace {

const json& cases() { return respo::testing::referenceCases(); }

bool sameWeight(double a, double b) { return a == b || std::abs(a - b) <= 1e-12 * std::abs(b); }

std::string shown(const std::vector<WeightedText>& runs) {
  std::string out;
  for (const auto& r : runs) out += "[" + json(r.text).dump() + " " + std::to_string(r.weight) + "]";
  return out;
}

}  // namespace

RESPO_TEST(a1111_examples_parse_as_documented) {
  const auto runs = parsePromptWeights("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).");
  REQUIRE(runs.size() == 9);
  EXPECT_EQ(runs[1].text, std::string("house"));
  EXPECT(runs[1].weight == 1.1 * 1.1 * 1.3);
  EXPECT_EQ(runs[3].text, std::string("on"));
  EXPECT(runs[3].weight == 1.1 * (1 / 1.1));  // [on] inside the outer ( : 1.1 / 1.1
  EXPECT_EQ(runs[5].text, std::string("hill"));
  EXPECT_EQ(parsePromptWeights("\\(literal\\]").front().text, std::string("(literal]"));
  EXPECT_EQ(parsePromptWeights("(unnecessary)(parens)").size(), std::size_t{1});
  EXPECT(parsePromptWeights("").front().text.empty());
  const auto broken = parsePromptWeights("a BREAK b");
  REQUIRE(broken.size() == 3);
  EXPECT(broken[1].isBreak());
  // Inside brackets BREAK is weighted text, as in A1111.
  for (const auto& r : parsePromptWeights("(a BREAK b)")) EXPECT(!r.isBreak());
  EXPECT_THROWS(parsePromptWeights("(word:1.2.3)"), respo::InvalidArgument, "not a number");
  EXPECT_EQ(parsePromptWeights("word:1.2.3)").front().text, std::string("word:1.2.3)"));  // no bracket open: text
  EXPECT(isPlainPrompt("a photo of a doctor, 4k"));
  EXPECT(!isPlainPrompt("a (photo)"));
  EXPECT(!isPlainPrompt("a BREAK b"));
}

RESPO_TEST(runs_match_the_reference_on_the_corpus) {
  const auto& all = cases();
  REQUIRE(all.size() >= 200);
  int refused = 0, checked = 0;
  for (const auto& c : all) {
    const auto prompt = c["prompt"].get<std::string>();
    if (c.contains("error")) {
      EXPECT_THROWS(parsePromptWeights(prompt), respo::InvalidArgument, "not a number");
      ++refused;
      continue;
    }
    const auto runs = parsePromptWeights(prompt);
    const auto& expected = c["runs"];
    bool same = runs.size() == expected.size();
    for (std::size_t i = 0; same && i < runs.size(); ++i)
      same = runs[i].text == expected[i][0].get<std::string>() && sameWeight(runs[i].weight, expected[i][1].get<double>());
    if (!same) respo::testing::recordFailure(__FILE__, __LINE__, json(prompt).dump() + ": " + shown(runs) + " expected " + expected.dump());
    ++checked;
  }
  EXPECT(refused >= 3);
  EXPECT(checked >= 200);
}

RESPO_TEST(chunks_match_the_reference_for_both_paddings) {
  for (const std::string name : {"sd1", "sd2"}) {
    const auto tokenizer = ClipTokenizer::fromFolder(fs::path(respo::testing::option("tokenizers")) / name);
    int multiChunk = 0, checked = 0, reported = 0;
    for (const auto& c : cases()) {
      if (c.contains("error")) continue;
      const auto prompt = c["prompt"].get<std::string>();
      const auto& expected = c[name];
      if (expected.contains("error")) {
        EXPECT_THROWS(chunkPrompt(tokenizer, parsePromptWeights(prompt)), respo::InvalidArgument, "chunks");
        continue;
      }
      const auto out = chunkPrompt(tokenizer, parsePromptWeights(prompt));
      const auto chunks = expected["chunks"].get<std::vector<std::vector<std::int64_t>>>();
      const auto weights = expected["weights"].get<std::vector<std::vector<double>>>();
      bool same = out.chunks == chunks && out.weights.size() == weights.size() &&
                  out.tokenCount == expected["token_count"].get<int>();
      for (std::size_t i = 0; same && i < weights.size(); ++i) {
        same = out.weights[i].size() == weights[i].size();
        for (std::size_t j = 0; same && j < weights[i].size(); ++j) same = sameWeight(out.weights[i][j], weights[i][j]);
      }
      if (!same && reported++ < 5)
        respo::testing::recordFailure(__FILE__, __LINE__, name + " " + json(prompt).dump() + ": " +
                                                              std::to_string(out.chunks.size()) + " chunks, expected " +
                                                              std::to_string(chunks.size()));
      for (const auto& chunk : out.chunks) EXPECT_EQ(chunk.size(), std::size_t{77});
      multiChunk += out.chunks.size() > 1;
      ++checked;
    }
    EXPECT(checked >= 200);
    EXPECT(multiChunk >= 30);  // BREAK, long prompts and comma backtracking are exercised
  }
}
