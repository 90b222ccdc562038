#include "core/text/prompt_weights.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "core/common/error.h"
#include "core/common/utf8.h"
#include "core/text/clip_tokenizer.h"
#include "core/text/unicode.h"

namespace respo::text {
namespace {

// Python's \w and \s for str patterns, which A1111's BREAK rule uses.
bool isWordChar(char32_t c) { return c == U'_' || unicode::isLetter(c) || unicode::isNumber(c); }
bool isSpaceChar(char32_t c) { return unicode::isWhitespace(c) || (c >= 0x1c && c <= 0x1f); }

bool isMarker(char32_t c) { return c == U'\\' || c == U'(' || c == U')' || c == U'[' || c == U']' || c == U':'; }

// "[+-]?[.\d]+" as Python's float() reads it; nullopt-like failure via `ok`.
double parseWeight(const std::u32string& digits, bool& ok) {
  const std::string ascii = encodeUtf8(digits);
  std::size_t i = (ascii[0] == '+' || ascii[0] == '-') ? 1 : 0;
  const auto dot = ascii.find('.', i);
  const bool oneDot = dot == std::string::npos || ascii.find('.', dot + 1) == std::string::npos;
  const bool hasDigit = ascii.find_first_of("0123456789", i) != std::string::npos;
  ok = oneDot && hasDigit;
  if (!ok) return 0;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(ascii.c_str(), &end);
  ok = end == ascii.c_str() + ascii.size() && errno != ERANGE;
  return value;
}

class Parser {
 public:
  std::vector<WeightedText> run(const std::u32string& s) {
    std::vector<std::size_t> round, square;
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
      const char32_t c = s[i];
      if (c == U'\\') {
        // An escaped bracket or backslash is that character; a lone backslash vanishes.
        const bool escapes = i + 1 < n && (s[i + 1] == U'(' || s[i + 1] == U')' || s[i + 1] == U'[' || s[i + 1] == U']' ||
                                           s[i + 1] == U'\\');
        push(escapes ? std::u32string(1, s[i + 1]) : std::u32string(), 1.0);
        i += escapes ? 2 : 1;
      } else if (c == U'(') {
        round.push_back(res_.size());
        ++i;
      } else if (c == U'[') {
        square.push_back(res_.size());
        ++i;
      } else if (c == U':') {
        // ":<number>)" closes the innermost round bracket with that weight; otherwise ':' is text.
        std::size_t j = i + 1;
        if (j < n && (s[j] == U'+' || s[j] == U'-')) ++j;
        std::size_t k = j;
        while (k < n && (s[k] == U'.' || (s[k] >= U'0' && s[k] <= U'9'))) ++k;
        if (k > j && k < n && s[k] == U')') {
          const std::u32string token = s.substr(i, k + 1 - i);
          if (!round.empty()) {
            bool ok = false;
            const double weight = parseWeight(s.substr(i + 1, k - i - 1), ok);
            if (!ok) throw InvalidArgument("prompt: the weight in '(..." + encodeUtf8(token) + "' is not a number");
            multiply(round.back(), weight);
            round.pop_back();
          } else {
            text(token);
          }
          i = k + 1;
        } else {
          text(U":");
          ++i;
        }
      } else if (c == U')') {
        if (!round.empty()) multiply(round.back(), 1.1), round.pop_back();
        else text(U")");
        ++i;
      } else if (c == U']') {
        if (!square.empty()) multiply(square.back(), 1 / 1.1), square.pop_back();
        else text(U"]");
        ++i;
      } else {
        std::size_t k = i;
        while (k < n && !isMarker(s[k])) ++k;
        text(s.substr(i, k - i));
        i = k;
      }
    }
    // Unclosed brackets weigh everything after them.
    for (const auto position : round) multiply(position, 1.1);
    for (const auto position : square) multiply(position, 1 / 1.1);
    if (res_.empty()) res_.push_back({U"", 1.0});
    std::vector<WeightedText> out;
    for (auto& [run, weight] : res_) {
      if (!out.empty() && out.back().weight == weight) out.back().text += encodeUtf8(run);
      else out.push_back({encodeUtf8(run), weight});
    }
    return out;
  }

 private:
  void push(std::u32string run, double weight) { res_.emplace_back(std::move(run), weight); }

  void multiply(std::size_t from, double factor) {
    for (std::size_t p = from; p < res_.size(); ++p) res_[p].second *= factor;
  }

  // Text, split at BREAK: the word BREAK with the whitespace around it.
  void text(const std::u32string& s) {
    std::size_t start = 0;  // of the current part
    std::size_t searchFrom = 0;
    for (;;) {
      std::size_t found = s.find(U"BREAK", searchFrom);
      if (found == std::u32string::npos) break;
      const bool before = found == 0 || !isWordChar(s[found - 1]);
      const bool after = found + 5 == s.size() || !isWordChar(s[found + 5]);
      if (!before || !after) {
        searchFrom = found + 1;
        continue;
      }
      // The match starts where the whitespace in front of BREAK starts (but not before this part).
      std::size_t matchStart = found;
      while (matchStart > start && isSpaceChar(s[matchStart - 1])) --matchStart;
      std::size_t matchEnd = found + 5;
      while (matchEnd < s.size() && isSpaceChar(s[matchEnd])) ++matchEnd;
      push(s.substr(start, matchStart - start), 1.0);
      push(U"BREAK", -1.0);
      start = searchFrom = matchEnd;
    }
    push(s.substr(start), 1.0);
  }

  std::vector<std::pair<std::u32string, double>> res_;
};

}  // namespace

std::vector<WeightedText> parsePromptWeights(std::string_view prompt) {
  return Parser().run(decodeUtf8(prompt));
}

bool isPlainPrompt(std::string_view prompt) {
  if (prompt.find_first_of("()[]\\") != std::string_view::npos) return false;
  return prompt.find("BREAK") == std::string_view::npos;
}

bool WeightedTokens::weighted() const {
  for (const auto& chunk : weights)
    for (const double w : chunk)
      if (w != 1.0) return true;
  return false;
}

WeightedTokens chunkPrompt(const ClipTokenizer& tokenizer, const std::vector<WeightedText>& runs, int commaBacktrack) {
  WeightedTokens out;
  const auto comma = tokenizer.tokenId(",</w>");
  const std::int64_t start = tokenizer.bosId(), end = tokenizer.eosId(), pad = tokenizer.padId();
  std::vector<std::int64_t> tokens;
  std::vector<double> weights;
  int lastComma = -1;

  auto nextChunk = [&](bool isLast) {
    if (static_cast<int>(out.chunks.size()) >= kMaxPromptChunks)
      throw InvalidArgument("the prompt needs more than " + std::to_string(kMaxPromptChunks) + " chunks of " +
                            std::to_string(kChunkTokens) + " tokens; shorten it");
    out.tokenCount += isLast ? static_cast<int>(tokens.size()) : kChunkTokens;
    tokens.resize(kChunkTokens, end);
    weights.resize(kChunkTokens, 1.0);
    tokens.insert(tokens.begin(), start);
    tokens.push_back(end);
    weights.insert(weights.begin(), 1.0);
    weights.push_back(1.0);
    // Tokenizers whose padding differs from the end token (SD2, SDXL's second encoder) pad after the
    // first end token.
    if (pad != end) {
      const auto first = std::find(tokens.begin() + 1, tokens.end(), end);
      if (first != tokens.end()) std::fill(first + 1, tokens.end(), pad);
    }
    out.chunks.push_back(std::move(tokens));
    out.weights.push_back(std::move(weights));
    tokens.clear();
    weights.clear();
    lastComma = -1;
  };

  for (const auto& run : runs) {
    if (run.isBreak()) {
      nextChunk(false);
      continue;
    }
    const auto ids = tokenizer.encodeWithoutSpecialTokens(run.text);
    for (const auto token : ids) {
      const int length = static_cast<int>(tokens.size());
      if (comma && token == *comma) {
        lastComma = length;
      } else if (commaBacktrack != 0 && length == kChunkTokens && lastComma != -1 && length - lastComma <= commaBacktrack) {
        // The chunk is full: what came after its last comma starts the next chunk instead.
        const auto cut = static_cast<std::ptrdiff_t>(lastComma + 1);
        std::vector<std::int64_t> movedTokens(tokens.begin() + cut, tokens.end());
        std::vector<double> movedWeights(weights.begin() + cut, weights.end());
        tokens.resize(static_cast<std::size_t>(cut));
        weights.resize(static_cast<std::size_t>(cut));
        nextChunk(false);
        tokens = std::move(movedTokens);
        weights = std::move(movedWeights);
      }
      if (static_cast<int>(tokens.size()) == kChunkTokens) nextChunk(false);
      tokens.push_back(token);
      weights.push_back(run.weight);
    }
  }
  if (!tokens.empty() || out.chunks.empty()) nextChunk(true);
  return out;
}

}  // namespace respo::text
