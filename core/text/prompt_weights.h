#pragma once
// Prompt weighting in the syntax users of other Stable Diffusion front ends type (A1111's "emphasis"):
//   (word)        weight x 1.1          [word]        weight / 1.1
//   (word:1.3)    weight x 1.3          \( \) \[ \] \\  the literal characters
//   nesting multiplies; an unclosed bracket applies to the rest of the prompt; BREAK (a word of its
//   own) starts a new 75-token chunk.
// The text between the markers is what is tokenized; the weights scale the text encoder's output
// for those tokens (see WeightedTokens and core/pipeline/prompt_conditioning.h).
//
// The rules follow A1111's parser to the letter, quirks included, so that a prompt copied from
// there means the same here: a BREAK inside brackets is weighted like text and no longer breaks;
// ")" or "]" without an opening bracket is literal text; "(word:1.2.3)" is refused (A1111 fails too).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace respo::text {

class ClipTokenizer;

struct WeightedText {
  std::string text;  // UTF-8
  double weight = 1.0;
  // A chunk break (A1111 marks it by the text "BREAK" with weight -1).
  bool isBreak() const { return weight == -1.0 && text == "BREAK"; }
};

// Splits a prompt into runs of text with their weights (runs of equal weight merged). Never empty: a
// prompt without text gives one empty run. Throws InvalidArgument for a weight that is not a number
// and for text that is not UTF-8.
std::vector<WeightedText> parsePromptWeights(std::string_view prompt);

// True when the prompt uses no weighting syntax at all (no bracket, no backslash, no BREAK): then it
// means exactly what the plain text means.
bool isPlainPrompt(std::string_view prompt);

// A prompt as chunks of token ids, each chunk 77 tokens: start, 75 tokens of the prompt (padded with
// the end token), end; and one weight per token (1 for start, end and padding).
struct WeightedTokens {
  std::vector<std::vector<std::int64_t>> chunks;
  std::vector<std::vector<double>> weights;
  int tokenCount = 0;  // prompt tokens, as A1111 counts them for its "75/150" display
  bool weighted() const;  // any weight other than 1
};

constexpr int kChunkTokens = 75;
constexpr int kMaxPromptChunks = 16;  // 1,200 tokens; longer prompts are refused, not cut silently

// Tokenizes each run (without start/end tokens) and fills 75-token chunks as A1111 does: a BREAK
// closes the chunk; when a chunk is full and a comma came within the last `commaBacktrack` tokens,
// the tokens after that comma move to the next chunk. Throws InvalidArgument when the prompt needs
// more than kMaxPromptChunks chunks.
WeightedTokens chunkPrompt(const ClipTokenizer& tokenizer, const std::vector<WeightedText>& runs, int commaBacktrack = 20);

}  // namespace respo::text
