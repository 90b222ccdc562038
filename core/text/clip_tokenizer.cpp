#include "core/text/clip_tokenizer.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <queue>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/io/read_file.h"
#include "core/text/unicode.h"
#include "core/common/utf8.h"

namespace respo::text {
namespace {

using nlohmann::json;

constexpr std::string_view kEndOfWord = "</w>";
// CLIP's vocabulary: 256 byte symbols, their 256 end-of-word forms, 48894 merges, 2 specials.
constexpr std::size_t kOpenClipMerges = 49152 - 256 - 2;

// GPT-2/CLIP's reversible byte -> printable code point table.
std::vector<char32_t> byteCodePoints() {
  std::vector<int> printable;
  for (int b = '!'; b <= '~'; ++b) printable.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) printable.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) printable.push_back(b);
  std::vector<char32_t> table(256);
  std::vector<bool> used(256, false);
  for (int b : printable) {
    table[b] = static_cast<char32_t>(b);
    used[b] = true;
  }
  int next = 256;
  for (int b = 0; b < 256; ++b)
    if (!used[b]) table[b] = static_cast<char32_t>(next++);
  return table;
}

// The byte order in which CLIP lists its base symbols (printable bytes first).
std::vector<int> byteOrder() {
  std::vector<int> order;
  std::vector<bool> used(256, false);
  for (int b = '!'; b <= '~'; ++b) order.push_back(b), used[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) order.push_back(b), used[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) order.push_back(b), used[b] = true;
  for (int b = 0; b < 256; ++b)
    if (!used[b]) order.push_back(b);
  return order;
}

// The CLIP merge list is 1.6 MB of text; anything that expands much further is not one.
constexpr std::size_t kMaxBpeBytes = 32u << 20;

// CLIP has 48,894 merges; a list of many more lines is not a CLIP merge list.
constexpr std::size_t kMaxMergeLines = 1'000'000;

// At most `maxLines` lines (the rest is not read); more than kMaxMergeLines is a FormatError.
std::vector<std::string_view> splitLines(const std::filesystem::path& path, std::string_view text,
                                         std::size_t maxLines = kMaxMergeLines + 1) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size() && lines.size() < maxLines) {
    if (lines.size() == kMaxMergeLines + 1)
      throw FormatError(path.string() + ": has more than " + std::to_string(kMaxMergeLines) +
                        " lines, far more than a merge list");
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::pair<std::string, std::string> parseMerge(const std::filesystem::path& path, std::string_view line,
                                               std::size_t lineNumber) {
  const auto space = line.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 >= line.size() ||
      line.find(' ', space + 1) != std::string::npos)
    throw FormatError(path.string() + ": line " + std::to_string(lineNumber) + " is not a merge of two symbols: '" +
                      std::string(line.substr(0, 60)) + (line.size() > 60 ? "...'" : "'"));
  return {std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

json parseJsonFile(const std::filesystem::path& path) { return io::readJsonFile(path); }

// A special token in a transformers config is either a string or {"content": "..."}.
std::optional<std::string> tokenContent(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string())
    return value["content"].get<std::string>();
  return std::nullopt;
}

void applySpecialTokens(const json& config, TokenizerSettings& settings) {
  if (!config.is_object()) return;
  const std::pair<const char*, std::string*> fields[] = {{"bos_token", &settings.bosToken},
                                                         {"eos_token", &settings.eosToken},
                                                         {"pad_token", &settings.padToken},
                                                         {"unk_token", &settings.unkToken}};
  for (const auto& [key, target] : fields)
    if (config.contains(key))
      if (auto content = tokenContent(config[key])) *target = *content;
}

}  // namespace

ClipTokenizer::ClipTokenizer(std::unordered_map<std::string, std::int64_t> vocab, MergeList merges,
                             TokenizerSettings settings)
    : vocab_(std::move(vocab)), merges_(std::move(merges)), settings_(std::move(settings)) {
  if (settings_.maxLength < 2)
    throw InvalidArgument("tokenizer max length must be at least 2 (start and end tokens), got " +
                          std::to_string(settings_.maxLength));
  std::int64_t maxId = -1;
  for (const auto& [token, id] : vocab_) {
    if (id < 0) throw FormatError("tokenizer vocabulary: a token has a negative id (" + std::to_string(id) + ")");
    maxId = std::max(maxId, id);
  }
  // Ids index a table; a vocabulary whose ids run far past its size is damaged, not sparse.
  if (maxId >= static_cast<std::int64_t>(4 * vocab_.size() + 1024))
    throw FormatError("tokenizer vocabulary: id " + std::to_string(maxId) + " is far beyond its " +
                      std::to_string(vocab_.size()) + " tokens");
  idToToken_.assign(static_cast<std::size_t>(maxId + 1), std::string());
  for (const auto& [token, id] : vocab_) idToToken_[static_cast<std::size_t>(id)] = token;
  for (std::size_t i = 0; i < merges_.size(); ++i)
    mergeRanks_.emplace(merges_[i].first + ' ' + merges_[i].second, static_cast<int>(i));

  bosId_ = requireId(settings_.bosToken, "start");
  eosId_ = requireId(settings_.eosToken, "end");
  padId_ = requireId(settings_.padToken, "padding");
  unkId_ = requireId(settings_.unkToken, "unknown");
  for (const std::string* token : {&settings_.bosToken, &settings_.eosToken, &settings_.padToken, &settings_.unkToken}) {
    auto decoded = decodeUtf8(*token);
    if (!decoded.empty() && std::find(specialTokens_.begin(), specialTokens_.end(), decoded) == specialTokens_.end())
      specialTokens_.push_back(std::move(decoded));
  }
  std::sort(specialTokens_.begin(), specialTokens_.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });

  const auto table = byteCodePoints();
  for (int b = 0; b < 256; ++b) {
    byteToUnicode_[b] = encodeUtf8(std::u32string(1, table[b]));
    unicodeToByte_.emplace(table[b], static_cast<unsigned char>(b));
  }
}

std::int64_t ClipTokenizer::requireId(const std::string& token, const char* role) const {
  const auto found = vocab_.find(token);
  if (found == vocab_.end())
    throw FormatError(std::string("tokenizer: the ") + role + " token '" + token + "' is not in the vocabulary");
  return found->second;
}

namespace {

// token -> id, from vocab.json or tokenizer.json's model.vocab (`where` names it in errors).
std::unordered_map<std::string, std::int64_t> readVocab(const json& vocabJson, const std::string& where) {
  if (!vocabJson.is_object()) throw FormatError(where + ": expected an object of token -> id");
  std::unordered_map<std::string, std::int64_t> vocab;
  for (const auto& [token, id] : vocabJson.items()) {
    if (!id.is_number_integer()) throw FormatError(where + ": id of token '" + token.substr(0, 60) + "' is not an integer");
    vocab.emplace(token, id.get<std::int64_t>());
  }
  return vocab;
}

// The fast-tokenizer file (tokenizers' format, what transformers 5 saves alone): a BPE model with
// CLIP's end-of-word suffix; merges as "a b" strings or, in newer files, ["a", "b"] pairs.
void readTokenizerJson(const std::filesystem::path& path, std::unordered_map<std::string, std::int64_t>& vocab,
                       MergeList& merges) {
  const json file = parseJsonFile(path);
  const std::string where = path.string();
  if (!file.is_object() || !file.contains("model") || !file["model"].is_object())
    throw FormatError(where + ": expected an object with a 'model'");
  const json& model = file["model"];
  if (model.contains("type") && model["type"] != "BPE")
    throw FormatError(where + ": model.type is not BPE (a CLIP tokenizer is a BPE model)");
  if (model.contains("end_of_word_suffix") && !model["end_of_word_suffix"].is_null() &&
      model["end_of_word_suffix"] != std::string(kEndOfWord))
    throw FormatError(where + ": model.end_of_word_suffix is not '</w>' (not a CLIP tokenizer)");
  if (!model.contains("vocab")) throw FormatError(where + ": model.vocab is missing");
  vocab = readVocab(model["vocab"], where + ": model.vocab");
  if (!model.contains("merges") || !model["merges"].is_array()) throw FormatError(where + ": model.merges is not a list");
  const json& list = model["merges"];
  merges.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& m = list[i];
    if (m.is_string()) {
      merges.push_back(parseMerge(path, m.get<std::string>(), i + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string() &&
               !m[0].get_ref<const std::string&>().empty() && !m[1].get_ref<const std::string&>().empty()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw FormatError(where + ": model.merges[" + std::to_string(i) + "] is not a merge of two symbols");
    }
  }
  // Added tokens (the special ones) must agree with the vocabulary where both name them.
  if (file.contains("added_tokens") && file["added_tokens"].is_array())
    for (const auto& added : file["added_tokens"]) {
      if (!added.is_object() || !added.contains("content") || !added["content"].is_string() || !added.contains("id") ||
          !added["id"].is_number_integer())
        throw FormatError(where + ": an entry of added_tokens has no content and id");
      const auto content = added["content"].get<std::string>();
      const auto id = added["id"].get<std::int64_t>();
      const auto found = vocab.find(content);
      if (found == vocab.end()) vocab.emplace(content, id);
      else if (found->second != id)
        throw FormatError(where + ": added token '" + content.substr(0, 60) + "' has id " + std::to_string(id) +
                          " but the vocabulary says " + std::to_string(found->second));
    }
}

}  // namespace

ClipTokenizer ClipTokenizer::fromFolder(const std::filesystem::path& folder) {
  const auto vocabPath = folder / "vocab.json";
  const auto mergesPath = folder / "merges.txt";
  std::unordered_map<std::string, std::int64_t> vocab;
  MergeList merges;
  std::error_code ec;
  if (!std::filesystem::exists(vocabPath, ec) && std::filesystem::exists(folder / "tokenizer.json", ec)) {
    readTokenizerJson(folder / "tokenizer.json", vocab, merges);
  } else {
    vocab = readVocab(parseJsonFile(vocabPath), vocabPath.string());
    const std::string mergesText = io::readTextFile(mergesPath);
    const auto lines = splitLines(mergesPath, mergesText);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].empty() || (i == 0 && lines[i].rfind("#version", 0) == 0)) continue;
      merges.push_back(parseMerge(mergesPath, lines[i], i + 1));
    }
  }

  TokenizerSettings settings;
  if (std::filesystem::exists(folder / "special_tokens_map.json"))
    applySpecialTokens(parseJsonFile(folder / "special_tokens_map.json"), settings);
  if (std::filesystem::exists(folder / "tokenizer_config.json")) {
    const json config = parseJsonFile(folder / "tokenizer_config.json");
    applySpecialTokens(config, settings);
    if (config.is_object() && config.contains("model_max_length") && config["model_max_length"].is_number()) {
      const double length = config["model_max_length"].get<double>();
      // transformers writes a huge sentinel when a config has no real limit; CLIP reads 77.
      settings.maxLength = length >= 2 && length <= 4096 ? static_cast<int>(length) : 77;
    }
  }
  return ClipTokenizer(std::move(vocab), std::move(merges), std::move(settings));
}

ClipTokenizer ClipTokenizer::fromOpenClipBpe(const std::filesystem::path& gzFile, TokenizerSettings settings) {
  const std::string text = io::readGzipFile(gzFile, kMaxBpeBytes);
  const auto lines = splitLines(gzFile, text, kOpenClipMerges + 1);
  // Line 0 is a version comment; open_clip reads exactly the next kOpenClipMerges lines.
  if (lines.size() < kOpenClipMerges + 1)
    throw FormatError(gzFile.string() + ": has " + std::to_string(lines.size()) + " lines, expected at least " +
                      std::to_string(kOpenClipMerges + 1) + " (a CLIP BPE merge list)");
  MergeList merges;
  merges.reserve(kOpenClipMerges);
  for (std::size_t i = 1; i <= kOpenClipMerges; ++i) merges.push_back(parseMerge(gzFile, lines[i], i + 1));

  std::unordered_map<std::string, std::int64_t> vocab;
  std::int64_t next = 0;
  const auto table = byteCodePoints();
  const auto order = byteOrder();
  for (int b : order) vocab.emplace(encodeUtf8(std::u32string(1, table[b])), next++);
  for (int b : order) vocab.emplace(encodeUtf8(std::u32string(1, table[b])) + std::string(kEndOfWord), next++);
  for (const auto& [left, right] : merges) vocab.emplace(left + right, next++);
  vocab.emplace("<|startoftext|>", next++);
  vocab.emplace("<|endoftext|>", next++);
  return ClipTokenizer(std::move(vocab), std::move(merges), std::move(settings));
}

void ClipTokenizer::saveFolder(const std::filesystem::path& folder) const {
  std::filesystem::create_directories(folder);
  // In id order, like the reference files. (Built as text: ordered_json inserts in linear time.)
  std::string vocab = "{";
  for (std::size_t id = 0; id < idToToken_.size(); ++id) {
    if (idToToken_[id].empty()) continue;
    if (vocab.size() > 1) vocab += ',';
    vocab += json(idToToken_[id]).dump() + ':' + std::to_string(id);
  }
  vocab += '}';
  io::writeTextFileAtomically(folder / "vocab.json", vocab);

  std::string merges = "#version: 0.2\n";
  for (const auto& [left, right] : merges_) merges += left + ' ' + right + '\n';
  io::writeTextFileAtomically(folder / "merges.txt", merges);

  nlohmann::ordered_json special = {{"bos_token", settings_.bosToken},
                                    {"eos_token", settings_.eosToken},
                                    {"pad_token", settings_.padToken},
                                    {"unk_token", settings_.unkToken}};
  io::writeTextFileAtomically(folder / "special_tokens_map.json", special.dump(2));
  nlohmann::ordered_json config = special;
  config["model_max_length"] = settings_.maxLength;
  config["do_lower_case"] = true;
  config["tokenizer_class"] = "CLIPTokenizer";
  io::writeTextFileAtomically(folder / "tokenizer_config.json", config.dump(2));
}

std::optional<std::int64_t> ClipTokenizer::tokenId(const std::string& token) const {
  const auto found = vocab_.find(token);
  if (found == vocab_.end()) return std::nullopt;
  return found->second;
}

std::vector<std::int64_t> ClipTokenizer::encodeWithoutSpecialTokens(std::string_view utf8) const {
  std::vector<std::int64_t> ids;
  encode(utf8, ids, SIZE_MAX);
  return ids;
}

void ClipTokenizer::encode(std::string_view utf8, std::vector<std::int64_t>& ids, std::size_t limit) const {
  const std::u32string text = decodeUtf8(utf8);
  // Special tokens are recognised in the raw text, before normalization (leftmost, then longest).
  std::size_t segmentStart = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::u32string* match = nullptr;
    for (const auto& special : specialTokens_)
      if (text.compare(i, special.size(), special) == 0) {
        match = &special;
        break;  // sorted longest first
      }
    if (!match) {
      ++i;
      continue;
    }
    encodeSegment(std::u32string_view(text).substr(segmentStart, i - segmentStart), ids, limit);
    if (ids.size() >= limit) return;
    ids.push_back(vocab_.at(encodeUtf8(*match)));
    i += match->size();
    segmentStart = i;
  }
  encodeSegment(std::u32string_view(text).substr(segmentStart), ids, limit);
}

void ClipTokenizer::encodeSegment(std::u32string_view segment, std::vector<std::int64_t>& out,
                                  std::size_t limit) const {
  if (segment.empty() || out.size() >= limit) return;
  // Normalizer: NFC, whitespace runs -> one space, lower case.
  const std::u32string composed = unicode::nfc(std::u32string(segment));
  std::u32string text;
  text.reserve(composed.size());
  bool inSpace = false;
  for (char32_t cp : composed) {
    if (unicode::isWhitespace(cp)) {
      if (!inSpace) text.push_back(U' ');
      inSpace = true;
      continue;
    }
    inSpace = false;
    unicode::appendLowercase(text, cp);
  }

  // Pre-tokenizer, step 1: CLIP's split pattern, tried alternative by alternative at each position:
  //   <|startoftext|> | <|endoftext|> | 's|'t|'re|'ve|'m|'ll|'d | letters+ | one number | other+
  // Step 2 (the byte-level pre-tokenizer's GPT-2 pattern) changes none of those pieces except the
  // two literal tags, which it cuts into "<|", the word and "|>"; so a typed "<|endoftext|>" that
  // was not matched as a special token is encoded as three words, as the reference does.
  static const std::u32string kTags[] = {U"<|startoftext|>", U"<|endoftext|>"};
  static const std::u32string kContractions[] = {U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};
  const auto isOther = [](char32_t c) {
    return !unicode::isWhitespace(c) && !unicode::isLetter(c) && !unicode::isNumber(c);
  };
  const auto emit = [&](std::size_t at, std::size_t length) {
    // Byte-level: each UTF-8 byte of the piece becomes one printable symbol.
    std::string word;
    for (unsigned char byte : encodeUtf8(std::u32string_view(text).substr(at, length))) word += byteToUnicode_[byte];
    bpe(word, out);
  };
  std::size_t i = 0;
  while (i < text.size() && out.size() < limit) {
    bool tag = false;
    for (const auto& literal : kTags)
      if (text.compare(i, literal.size(), literal) == 0) {
        emit(i, 2);
        emit(i + 2, literal.size() - 4);
        emit(i + literal.size() - 2, 2);
        i += literal.size();
        tag = true;
        break;
      }
    if (tag) continue;
    std::size_t length = 0;
    for (const auto& literal : kContractions)
      if (text.compare(i, literal.size(), literal) == 0) {
        length = literal.size();
        break;
      }
    if (length == 0) {
      const char32_t c = text[i];
      if (unicode::isLetter(c)) {
        while (i + length < text.size() && unicode::isLetter(text[i + length])) ++length;
      } else if (unicode::isNumber(c)) {
        length = 1;
      } else if (isOther(c)) {
        while (i + length < text.size() && isOther(text[i + length])) ++length;
      } else {
        ++i;  // whitespace separates pieces and is dropped
        continue;
      }
    }
    emit(i, length);
    i += length;
  }
}

void ClipTokenizer::bpe(const std::string& word, std::vector<std::int64_t>& out) const {
  // Only short words are cached: a cache of long hostile words would be a memory leak.
  constexpr std::size_t kCachedWordBytes = 96;
  const bool cacheable = word.size() <= kCachedWordBytes;
  if (cacheable) {
    std::lock_guard lock(cache_->mutex);
    const auto cached = cache_->words.find(word);
    if (cached != cache_->words.end()) {
      out.insert(out.end(), cached->second.begin(), cached->second.end());
      return;
    }
  }
  // Symbols: one per code point of the byte-mapped word; the last carries the end-of-word suffix.
  // They form a linked list; candidate merges wait in a heap ordered by rank, then position, so
  // each step merges the leftmost occurrence of the lowest-ranked pair, as the reference's repeated
  // scans do, in O(n log n) rather than O(n^2).
  struct Symbol {
    std::string text;
    int prev = -1, next = -1;
    unsigned version = 0;  // bumped whenever the symbol changes or dies
    bool alive = true;
  };
  std::vector<Symbol> symbols;
  const std::u32string chars = decodeUtf8(word);
  symbols.reserve(chars.size());
  for (std::size_t k = 0; k < chars.size(); ++k) {
    Symbol s;
    s.text = encodeUtf8(std::u32string(1, chars[k]));
    if (k + 1 == chars.size()) s.text += kEndOfWord;
    s.prev = static_cast<int>(k) - 1;
    s.next = k + 1 < chars.size() ? static_cast<int>(k) + 1 : -1;
    symbols.push_back(std::move(s));
  }
  struct Candidate {
    int rank, left, right;
    unsigned leftVersion, rightVersion;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  std::string pair;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    pair.assign(symbols[left].text).append(1, ' ').append(symbols[right].text);
    const auto found = mergeRanks_.find(pair);
    if (found != mergeRanks_.end())
      heap.push({found->second, left, right, symbols[left].version, symbols[right].version});
  };
  for (std::size_t k = 0; k + 1 < symbols.size(); ++k) consider(static_cast<int>(k), static_cast<int>(k) + 1);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    if (!left.alive || !right.alive || left.next != c.right || left.version != c.leftVersion ||
        right.version != c.rightVersion)
      continue;  // stale: one side was merged away or changed since
    left.text += right.text;
    ++left.version;
    right.alive = false;
    ++right.version;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    consider(left.prev, c.left);
    consider(c.left, left.next);
  }
  std::vector<std::int64_t> ids;
  for (int k = symbols.empty() ? -1 : 0; k >= 0; k = symbols[k].next) {
    const auto found = vocab_.find(symbols[k].text);
    ids.push_back(found == vocab_.end() ? unkId_ : found->second);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  if (!cacheable) return;
  std::lock_guard lock(cache_->mutex);
  if (cache_->words.size() > 100'000) cache_->words.clear();
  cache_->words.emplace(word, std::move(ids));
}

TokenizedText ClipTokenizer::operator()(std::string_view utf8) const {
  const std::size_t room = static_cast<std::size_t>(settings_.maxLength) - 2;
  std::vector<std::int64_t> content;
  encode(utf8, content, room + 1);  // one more than fits tells whether the prompt was truncated
  TokenizedText result;
  result.truncated = content.size() > room;
  const std::size_t kept = std::min(content.size(), room);
  result.ids.reserve(static_cast<std::size_t>(settings_.maxLength));
  result.ids.push_back(bosId_);
  result.ids.insert(result.ids.end(), content.begin(), content.begin() + static_cast<std::ptrdiff_t>(kept));
  result.ids.push_back(eosId_);
  result.attentionMask.assign(result.ids.size(), 1);
  result.ids.resize(static_cast<std::size_t>(settings_.maxLength), padId_);
  result.attentionMask.resize(static_cast<std::size_t>(settings_.maxLength), 0);
  return result;
}

std::string ClipTokenizer::decode(const std::vector<std::int64_t>& ids, bool skipSpecialTokens) const {
  std::string joined;
  for (auto id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= idToToken_.size()) continue;
    if (skipSpecialTokens && (id == bosId_ || id == eosId_ || id == padId_)) continue;
    joined += idToToken_[static_cast<std::size_t>(id)];
  }
  std::string bytes;
  for (char32_t cp : decodeUtf8(joined)) {
    const auto found = unicodeToByte_.find(cp);
    if (found != unicodeToByte_.end()) bytes.push_back(static_cast<char>(found->second));
    else appendUtf8(bytes, cp);  // special tokens and "</w>" are plain text
  }
  std::string text;
  for (std::size_t pos = 0;;) {
    const auto next = bytes.find(kEndOfWord, pos);
    text += bytes.substr(pos, next - pos);
    if (next == std::string::npos) break;
    text += ' ';
    pos = next + kEndOfWord.size();
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace respo::text
