// The CLIP tokenizer on arbitrary prompts: text normalisation, the pre-tokenizer pattern, special
// tokens and byte-level BPE; and the prompt-weighting parser and chunker on the same prompt. A small
// byte-level vocabulary with a few merges stands in for CLIP's.
#include <algorithm>
#include <memory>

#include "core/text/clip_tokenizer.h"
#include "core/text/prompt_weights.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
const respo::text::ClipTokenizer& tokenizer() {
  static const auto instance = [] {
    // The printable symbols CLIP maps bytes to (GPT-2's byte-to-unicode table), rebuilt here.
    std::vector<int> printable;
    for (int b = 33; b <= 126; ++b) printable.push_back(b);
    for (int b = 161; b <= 172; ++b) printable.push_back(b);
    for (int b = 174; b <= 255; ++b) printable.push_back(b);
    std::vector<std::string> symbols(256);
    int extra = 0;
    auto utf8 = [](char32_t c) {
      std::string s;
      if (c < 0x80) s += static_cast<char>(c);
      else {
        s += static_cast<char>(0xC0 | (c >> 6));
        s += static_cast<char>(0x80 | (c & 0x3F));
      }
      return s;
    };
    for (int b = 0; b < 256; ++b) {
      const bool direct = std::find(printable.begin(), printable.end(), b) != printable.end();
      symbols[static_cast<std::size_t>(b)] = utf8(direct ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++));
    }
    std::unordered_map<std::string, std::int64_t> vocab;
    for (const auto& s : symbols) vocab.emplace(s, static_cast<std::int64_t>(vocab.size()));
    for (const auto& s : symbols) vocab.emplace(s + "</w>", static_cast<std::int64_t>(vocab.size()));
    respo::text::MergeList merges{{"a", "n"}, {"an", "d</w>"}, {"t", "h"}, {"th", "e</w>"}, {"o", "n</w>"}};
    for (const auto& [l, r] : merges) vocab.emplace(l + r, static_cast<std::int64_t>(vocab.size()));
    vocab.emplace("<|startoftext|>", static_cast<std::int64_t>(vocab.size()));
    vocab.emplace("<|endoftext|>", static_cast<std::int64_t>(vocab.size()));
    return std::make_unique<respo::text::ClipTokenizer>(std::move(vocab), std::move(merges),
                                                         respo::text::TokenizerSettings::sd1());
  }();
  return *instance;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = respo::fuzz::view(data, size);
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto& tok = tokenizer();
    const auto tokens = tok(text);
    if (tokens.ids.size() != 77 || tokens.attentionMask.size() != 77) std::abort();
    if (tokens.ids.front() != tok.bosId()) std::abort();
    for (const auto id : tokens.ids)
      if (id < 0 || static_cast<std::size_t>(id) >= tok.vocabSize()) std::abort();
    (void)tok.decode(tokens.ids);
  });
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto runs = respo::text::parsePromptWeights(text);
    if (runs.empty()) std::abort();
    const auto chunks = respo::text::chunkPrompt(tokenizer(), runs);
    if (chunks.chunks.empty() || chunks.chunks.size() != chunks.weights.size() ||
        chunks.chunks.size() > static_cast<std::size_t>(respo::text::kMaxPromptChunks))
      std::abort();
    for (std::size_t i = 0; i < chunks.chunks.size(); ++i) {
      if (chunks.chunks[i].size() != 77 || chunks.weights[i].size() != 77) std::abort();
      for (const auto id : chunks.chunks[i])
        if (id < 0 || static_cast<std::size_t>(id) >= tokenizer().vocabSize()) std::abort();
    }
  });
  return 0;
}
