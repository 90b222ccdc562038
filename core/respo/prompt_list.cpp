#include "core/respo/prompt_list.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "core/common/error.h"
#include "core/common/numbers.h"
#include "core/common/utf8.h"
#include "core/io/read_file.h"
#include "core/pipeline/generation_request.h"

namespace respo::concepts {
namespace {

std::string trimmed(const std::string& s) {
  std::size_t begin = 0, end = s.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(s[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
  return s.substr(begin, end - begin);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// RFC 4180 records: fields separated by commas, records by line breaks, quotes around fields that
// hold either (a quote inside is doubled).
// One pass, constant work per character (a field's "only blanks so far" is tracked, not re-scanned).
std::vector<std::vector<std::string>> csvRecords(const std::string& text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false, wasQuoted = false, blank = true;
  auto endField = [&] {
    records.back().push_back(wasQuoted ? field : trimmed(field));
    field.clear();
    wasQuoted = false;
    blank = true;
  };
  auto append = [&](char c) {
    if (!std::isspace(static_cast<unsigned char>(c))) blank = false;
    field += c;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') append('"'), ++i;
      else if (c == '"') quoted = false;
      else append(c);
    } else if (c == '"' && blank) {  // a quote that opens the field (only blanks before it)
      quoted = wasQuoted = true;
      field.clear();
    } else if (c == ',') {
      endField();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      endField();
      records.emplace_back();
      if (records.size() > kMaxPrompts + 1) throw FormatError("the CSV text has more than " + std::to_string(kMaxPrompts) + " rows");
    } else {
      append(c);
    }
  }
  if (quoted) throw FormatError("the CSV text ends inside a quoted field");
  if (!field.empty() || wasQuoted || !records.back().empty()) endField();
  if (records.back().empty()) records.pop_back();
  return records;
}

}  // namespace

std::vector<PromptRow> parsePromptTable(const std::string& text, PromptListFormat format) {
  // A prompt list is text: a NUL byte or invalid UTF-8 means a binary (or wrongly encoded) file.
  if (text.find('\0') != std::string::npos) throw FormatError("the prompt list is not a text file (it holds NUL bytes)");
  if (!isValidUtf8(text)) throw FormatError("the prompt list is not UTF-8 text (save it as UTF-8)");
  std::vector<PromptRow> rows;
  if (format == PromptListFormat::Lines) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      line = trimmed(line);
      if (!line.empty() && line.front() != '#') rows.push_back({line, {}, {}, {}});
      if (rows.size() > kMaxPrompts) throw FormatError("the list has more than " + std::to_string(kMaxPrompts) + " prompts");
    }
    return rows;
  }
  const auto records = csvRecords(text);
  if (records.empty()) return rows;
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t column = 0, first = 0, category = kNone, seed = kNone, guidance = kNone;
  const auto& header = records.front();
  auto find = [&](std::initializer_list<const char*> names) {
    for (std::size_t i = 0; i < header.size(); ++i)
      for (const char* name : names)
        if (lower(trimmed(header[i])) == name) return i;
    return kNone;
  };
  if (const auto named = find({"prompt"}); named != kNone) {
    column = named, first = 1;
    category = find({"category", "categories"});
    seed = find({"seed", "sd_seed", "evaluation_seed"});
    guidance = find({"guidance", "guidance_scale", "sd_guidance_scale", "evaluation_guidance"});
  }
  for (std::size_t r = first; r < records.size(); ++r) {
    const auto& record = records[r];
    if (column >= record.size()) continue;
    PromptRow row{trimmed(record[column]), {}, {}, {}};
    if (row.prompt.empty()) continue;
    auto cell = [&](std::size_t c) { return c < record.size() ? trimmed(record[c]) : std::string(); };
    auto where = [&](std::size_t c) {
      return "row " + std::to_string(r + 1) + ", column '" + trimmed(header[c]).substr(0, 40) + "'";
    };
    if (category != kNone) row.category = cell(category);
    if (seed != kNone && !cell(seed).empty()) {
      const auto text = cell(seed);
      const bool digits = text.size() <= 20 && text.find_first_not_of("0123456789") == std::string::npos;
      errno = 0;
      const unsigned long long value = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
      if (!digits || errno == ERANGE)
        throw FormatError(where(seed) + ": '" + text.substr(0, 40) + "' is not a seed (a whole number from 0 to 2^64 - 1)");
      row.seed = static_cast<std::uint64_t>(value);
    }
    if (guidance != kNone && !cell(guidance).empty()) {
      const auto value = numbers::parseReal(cell(guidance));
      if (!value || *value < 0 || *value > pipeline::kMaxGuidanceScale)
        throw FormatError(where(guidance) + ": '" + cell(guidance).substr(0, 40) + "' is not a guidance scale (0 to 1000)");
      row.guidance = *value;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> parsePromptList(const std::string& text, PromptListFormat format) {
  std::vector<std::string> prompts;
  for (auto& row : parsePromptTable(text, format)) prompts.push_back(std::move(row.prompt));
  return prompts;
}

std::vector<PromptRow> readPromptTable(const std::string& path) {
  std::string text;
  try {
    text = io::readFile(path, kMaxPromptListBytes);
  } catch (const IoError& e) {
    throw IoError(std::string("cannot read the prompt list: ") + e.what());
  }
  const bool csv = path.size() >= 4 && lower(path.substr(path.size() - 4)) == ".csv";
  try {
    return parsePromptTable(text, csv ? PromptListFormat::Csv : PromptListFormat::Lines);
  } catch (const FormatError& e) {
    throw FormatError(path + ": " + e.what());
  }
}

std::vector<std::string> readPromptList(const std::string& path) {
  std::vector<std::string> prompts;
  for (auto& row : readPromptTable(path)) prompts.push_back(std::move(row.prompt));
  return prompts;
}

}  // namespace respo::concepts
