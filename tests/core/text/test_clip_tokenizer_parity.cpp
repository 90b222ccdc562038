// The CLIP tokenizer against transformers' CLIPTokenizer on a corpus of >= 2000 varied prompts, for
// both padding conventions, and against open_clip's tokenizer; ids and masks must be identical.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/text/clip_tokenizer.h"
#include "tests/support/json_file.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::text;
using nlohmann::json;

namespace {

const json& cases() { return respo::testing::referenceCases(); }

std::string escaped(const std::string& text) { return json(text).dump(); }

void checkConvention(const std::string& name) {
  const auto tokenizer = ClipTokenizer::fromFolder(fs::path(respo::testing::option("dir")) / name);
  const auto& prompts = cases()["prompts"];
  const auto& expected = cases()[name];
  REQUIRE(prompts.size() >= 2000);
  std::size_t identical = 0, reported = 0;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto prompt = prompts[i].get<std::string>();
    const auto out = tokenizer(prompt);
    const auto ids = expected["ids"][i].get<std::vector<std::int64_t>>();
    const auto mask = expected["mask"][i].get<std::vector<std::int64_t>>();
    if (out.ids == ids && out.attentionMask == mask) {
      ++identical;
    } else if (reported++ < 5) {
      respo::testing::recordFailure(__FILE__, __LINE__, name + " differs on " + escaped(prompt) + "\n    ours: " +
                                                            json(out.ids).dump() + "\n    ref:  " + json(ids).dump());
    }
  }
  std::cout << name << ": " << identical << "/" << prompts.size() << " prompts identical\n";
  EXPECT_EQ(identical, prompts.size());
}

}  // namespace

RESPO_TEST(matches_transformers_sd1_padding) { checkConvention("sd1"); }
RESPO_TEST(matches_transformers_openclip_padding) { checkConvention("sd2"); }

RESPO_TEST(matches_open_clip_tokenizer_on_plain_prompts) {
  const auto tokenizer = ClipTokenizer::fromOpenClipBpe(respo::testing::option("bpe"), TokenizerSettings::openClip());
  const auto& reference = cases()["open_clip"];
  REQUIRE(reference["prompts"].size() > 50);
  std::size_t identical = 0, reported = 0;
  for (std::size_t i = 0; i < reference["prompts"].size(); ++i) {
    const auto prompt = reference["prompts"][i].get<std::string>();
    const auto ours = tokenizer(prompt).ids;
    const auto expected = reference["ids"][i].get<std::vector<std::int64_t>>();
    if (ours == expected) ++identical;
    else if (reported++ < 3)
      respo::testing::recordFailure(__FILE__, __LINE__, "open_clip differs on " + escaped(prompt) + "\n    ours: " +
                                                            json(ours).dump() + "\n    ref:  " + json(expected).dump());
  }
  std::cout << "open_clip: " << identical << "/" << reference["prompts"].size() << " prompts identical\n";
  EXPECT_EQ(identical, reference["prompts"].size());
}

RESPO_TEST(vocabulary_built_from_the_wheel_equals_the_reference_folder) {
  const auto fromWheel = ClipTokenizer::fromOpenClipBpe(respo::testing::option("bpe"), TokenizerSettings::sd1());
  std::ifstream in(fs::path(respo::testing::option("dir")) / "sd1" / "vocab.json");
  const json vocab = json::parse(in);
  REQUIRE(vocab.size() == fromWheel.vocabSize());
  std::size_t same = 0;
  for (const auto& [token, id] : vocab.items()) same += fromWheel.tokenId(token) == id.get<std::int64_t>();
  EXPECT_EQ(same, vocab.size());
}
