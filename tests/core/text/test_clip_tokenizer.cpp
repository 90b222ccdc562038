// core/text: UTF-8 handling and the CLIP tokenizer's behaviour on known cases.
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <unistd.h>

#include "core/common/error.h"
#include "core/text/clip_tokenizer.h"
#include "core/common/utf8.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::text;
using namespace respo;

namespace {
const ClipTokenizer& sd1() {
  static const ClipTokenizer tokenizer =
      ClipTokenizer::fromOpenClipBpe(respo::testing::option("bpe"), TokenizerSettings::sd1());
  return tokenizer;
}
}  // namespace

RESPO_TEST(utf8_validation) {
  EXPECT(isValidUtf8("plain"));
  EXPECT(isValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT(!isValidUtf8("\xc3"));              // truncated
  EXPECT(!isValidUtf8("\xc0\xaf"));          // overlong
  EXPECT(!isValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT(!isValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT(encodeUtf8(decodeUtf8("é😀x")) == "é😀x");
  EXPECT_THROWS(decodeUtf8("ab\xff"), respo::InvalidArgument, "offset 2");
}

RESPO_TEST(vocabulary_from_open_clip_has_clip_layout) {
  EXPECT_EQ(sd1().vocabSize(), 49408u);
  EXPECT_EQ(sd1().bosId(), 49406);
  EXPECT_EQ(sd1().eosId(), 49407);
  EXPECT_EQ(sd1().padId(), 49407);
  EXPECT_EQ(*sd1().tokenId("!"), 0);
  EXPECT_EQ(*sd1().tokenId("a</w>"), 320);
}

RESPO_TEST(known_prompt_ids) {
  // Well-known SD1 ids: "a photo of a cat" -> 320 1125 539 320 2368.
  const auto out = sd1()("a photo of a cat");
  const std::vector<std::int64_t> head(out.ids.begin(), out.ids.begin() + 8);
  EXPECT(head == (std::vector<std::int64_t>{49406, 320, 1125, 539, 320, 2368, 49407, 49407}));
  EXPECT_EQ(std::count(out.attentionMask.begin(), out.attentionMask.end(), 1), 7);
  EXPECT(!out.truncated);
  EXPECT_EQ(out.ids.size(), 77u);
}

RESPO_TEST(case_and_whitespace_do_not_matter) {
  EXPECT(sd1()("A   Photo\tOF a\nCAT").ids == sd1()("a photo of a cat").ids);
}

RESPO_TEST(long_prompts_are_truncated_keeping_the_end_token) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "cat ";
  const auto out = sd1()(text);
  EXPECT(out.truncated);
  EXPECT_EQ(out.ids.size(), 77u);
  EXPECT_EQ(out.ids.front(), 49406);
  EXPECT_EQ(out.ids.back(), 49407);
  EXPECT_EQ(std::count(out.attentionMask.begin(), out.attentionMask.end(), 1), 77);
}

RESPO_TEST(openclip_padding_uses_id_zero) {
  const auto tokenizer = ClipTokenizer::fromOpenClipBpe(respo::testing::option("bpe"), TokenizerSettings::openClip());
  const auto out = tokenizer("a cat");
  EXPECT_EQ(out.ids[3], 49407);
  EXPECT_EQ(out.ids[4], 0);
  EXPECT_EQ(out.attentionMask[4], 0);
}

RESPO_TEST(decode_inverts_encode_for_plain_text) {
  const auto ids = sd1().encodeWithoutSpecialTokens("A photo of a doctor, 4k!");
  EXPECT_EQ(sd1().decode(ids), std::string("a photo of a doctor , 4 k !"));
}

RESPO_TEST(invalid_utf8_is_a_clear_error) {
  EXPECT_THROWS(sd1()("bad \xff byte"), respo::InvalidArgument, "not valid UTF-8");
}

RESPO_TEST(folder_round_trip_and_bad_folders) {
  const fs::path dir = fs::temp_directory_path() / ("respodiff-tok-" + std::to_string(::getpid()));
  sd1().saveFolder(dir / "tokenizer");
  const auto reloaded = ClipTokenizer::fromFolder(dir / "tokenizer");
  EXPECT(reloaded("a photo of a doctor").ids == sd1()("a photo of a doctor").ids);
  EXPECT_THROWS(ClipTokenizer::fromFolder(dir / "missing"), respo::IoError, "vocab.json");
  fs::create_directories(dir / "bad");
  std::ofstream(dir / "bad" / "vocab.json") << "{not json";
  EXPECT_THROWS(ClipTokenizer::fromFolder(dir / "bad"), respo::FormatError, "vocab.json: not valid JSON");
  std::ofstream(dir / "bad" / "vocab.json") << R"({"a": 0, "b": 1})";
  std::ofstream(dir / "bad" / "merges.txt") << "#version: 0.2\na b\n";
  EXPECT_THROWS(ClipTokenizer::fromFolder(dir / "bad"), respo::FormatError, "'<|startoftext|>' is not in the vocabulary");
  std::ofstream(dir / "bad" / "merges.txt") << "#version: 0.2\nabc\n";
  EXPECT_THROWS(ClipTokenizer::fromFolder(dir / "bad"), respo::FormatError, "line 2 is not a merge");
  EXPECT_THROWS(ClipTokenizer::fromOpenClipBpe(dir / "bad" / "merges.txt", TokenizerSettings::sd1()),
               respo::FormatError, "expected at least");
  fs::remove_all(dir);
}

RESPO_TEST(unknown_symbols_map_to_the_unknown_token) {
  // A tiny vocabulary without most byte symbols: unknown pieces become <|endoftext|>.
  std::unordered_map<std::string, std::int64_t> vocab{
      {"a", 0}, {"a</w>", 1}, {"<|startoftext|>", 2}, {"<|endoftext|>", 3}};
  const ClipTokenizer tiny(vocab, {}, TokenizerSettings::sd1());
  EXPECT(tiny.encodeWithoutSpecialTokens("a b") == (std::vector<std::int64_t>{1, 3}));
}
