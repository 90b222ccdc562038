#pragma once
// The CLIP byte-level BPE tokenizer as Stable Diffusion pipelines use it (transformers'
// CLIPTokenizer): special tokens matched in the raw text; NFC, whitespace runs collapsed to one
// space, per-character lower-casing; CLIP's split pattern; byte-to-unicode mapping; BPE with the
// "</w>" end-of-word suffix; <|startoftext|> ... <|endoftext|>, truncated and padded to the
// model's length with the configured pad token (SD1: <|endoftext|>; SD2/SDXL's OpenCLIP: "!", id 0).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace respo::text {

struct TokenizerSettings {
  int maxLength = 77;
  std::string bosToken = "<|startoftext|>";
  std::string eosToken = "<|endoftext|>";
  std::string padToken = "<|endoftext|>";
  std::string unkToken = "<|endoftext|>";

  static TokenizerSettings sd1() { return {}; }
  static TokenizerSettings openClip() {
    TokenizerSettings s;
    s.padToken = "!";
    return s;
  }
};

struct TokenizedText {
  std::vector<std::int64_t> ids;            // exactly maxLength entries
  std::vector<std::int64_t> attentionMask;  // 1 for real tokens (with bos/eos), 0 for padding
  bool truncated = false;                   // the prompt was longer than the model reads
};

using MergeList = std::vector<std::pair<std::string, std::string>>;

class ClipTokenizer {
 public:
  ClipTokenizer(std::unordered_map<std::string, std::int64_t> vocab, MergeList merges,
                TokenizerSettings settings);

  // A diffusers/transformers `tokenizer/` folder: vocab.json and merges.txt, or tokenizer.json alone
  // (the fast-tokenizer file transformers 5 saves), and, when present, tokenizer_config.json /
  // special_tokens_map.json for the special tokens and max length.
  static ClipTokenizer fromFolder(const std::filesystem::path& folder);
  // The gzipped BPE file that open_clip ships (bpe_simple_vocab_16e6.txt.gz): the same vocabulary
  // OpenAI's CLIP and Stable Diffusion use.
  static ClipTokenizer fromOpenClipBpe(const std::filesystem::path& gzFile, TokenizerSettings settings);

  // Writes vocab.json, merges.txt, tokenizer_config.json and special_tokens_map.json (atomically)
  // so that transformers' CLIPTokenizer.from_pretrained(folder) reads the same tokenizer.
  void saveFolder(const std::filesystem::path& folder) const;

  TokenizedText operator()(std::string_view utf8) const;
  std::vector<std::int64_t> encodeWithoutSpecialTokens(std::string_view utf8) const;
  std::string decode(const std::vector<std::int64_t>& ids, bool skipSpecialTokens = true) const;

  std::optional<std::int64_t> tokenId(const std::string& token) const;
  std::int64_t bosId() const { return bosId_; }
  std::int64_t eosId() const { return eosId_; }
  std::int64_t padId() const { return padId_; }
  std::int64_t unkId() const { return unkId_; }
  int maxLength() const { return settings_.maxLength; }
  std::size_t vocabSize() const { return vocab_.size(); }
  const TokenizerSettings& settings() const { return settings_; }

 private:
  // Appends the tokens of `utf8`, stopping once `out` holds `limit` tokens (the pipeline reads only
  // the first maxLength of them, so a huge prompt costs no more than a long one).
  void encode(std::string_view utf8, std::vector<std::int64_t>& out, std::size_t limit) const;
  void encodeSegment(std::u32string_view segment, std::vector<std::int64_t>& out, std::size_t limit) const;
  void bpe(const std::string& word, std::vector<std::int64_t>& out) const;
  std::int64_t requireId(const std::string& token, const char* role) const;

  std::unordered_map<std::string, std::int64_t> vocab_;
  std::vector<std::string> idToToken_;
  MergeList merges_;
  std::unordered_map<std::string, int> mergeRanks_;  // "left right" -> rank
  TokenizerSettings settings_;
  std::vector<std::u32string> specialTokens_;  // matched in raw text, longest first
  std::int64_t bosId_ = 0, eosId_ = 0, padId_ = 0, unkId_ = 0;
  std::string byteToUnicode_[256];  // UTF-8 of each byte's printable symbol
  std::unordered_map<char32_t, unsigned char> unicodeToByte_;

  // Word -> ids memo, shared by threads; behind a pointer so the tokenizer stays movable.
  struct Cache {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<std::int64_t>> words;
  };
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace respo::text
