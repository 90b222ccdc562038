// The CLIP tokenizer against transformers' CLIPTokenizer on a corpus of >= 2000 varied prompts, for
// both padding conventions, and against open_clip's tokenizer; ids and masks must be identical.
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
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
// Folders as transformers 5 saves them: tokenizer.json and tokenizer_config.json only.
RESPO_TEST(reads_the_fast_tokenizer_file_sd1) { checkConvention("sd1_json"); }
RESPO_TEST(reads_the_fast_tokenizer_file_sd2) { checkConvention("sd2_json"); }

RESPO_TEST(a_damaged_fast_tokenizer_file_is_a_clear_error) {
  const auto folder = fs::temp_directory_path() / ("respodiff-tokenizer-json-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  auto write = [&](const std::string& text) {
    std::ofstream(folder / "tokenizer.json", std::ios::binary | std::ios::trunc) << text;
  };
  write(R"({"model": {"type": "WordPiece", "vocab": {}}})");
  EXPECT_THROWS(ClipTokenizer::fromFolder(folder), respo::FormatError, "model.type is not BPE");
  write(R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})");
  EXPECT_THROWS(ClipTokenizer::fromFolder(folder), respo::FormatError, "model.vocab: id of token 'a' is not an integer");
  write(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}})");
  EXPECT_THROWS(ClipTokenizer::fromFolder(folder), respo::FormatError, "model.merges[0] is not a merge of two symbols");
  write(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": "a b"}})");
  EXPECT_THROWS(ClipTokenizer::fromFolder(folder), respo::FormatError, "model.merges is not a list");
  write(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": [{"content": "a", "id": 5}]})");
  EXPECT_THROWS(ClipTokenizer::fromFolder(folder), respo::FormatError, "added token 'a' has id 5");
  write("[1, 2");
  EXPECT_THROWS(ClipTokenizer::fromFolder(folder), respo::FormatError, "tokenizer.json");
  fs::remove_all(folder);
}

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
