#include "core/respo/prompt_list.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/common/error.h"
#include "core/common/utf8.h"
#include "core/io/read_file.h"

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

std::vector<std::string> parsePromptList(const std::string& text, PromptListFormat format) {
  // A prompt list is text: a NUL byte or invalid UTF-8 means a binary (or wrongly encoded) file.
  if (text.find('\0') != std::string::npos) throw FormatError("the prompt list is not a text file (it holds NUL bytes)");
  if (!isValidUtf8(text)) throw FormatError("the prompt list is not UTF-8 text (save it as UTF-8)");
  std::vector<std::string> prompts;
  if (format == PromptListFormat::Lines) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      line = trimmed(line);
      if (!line.empty() && line.front() != '#') prompts.push_back(line);
      if (prompts.size() > kMaxPrompts) throw FormatError("the list has more than " + std::to_string(kMaxPrompts) + " prompts");
    }
    return prompts;
  }
  const auto records = csvRecords(text);
  if (records.empty()) return prompts;
  std::size_t column = 0, first = 0;
  const auto& header = records.front();
  const auto named = std::find_if(header.begin(), header.end(), [](const std::string& h) { return lower(trimmed(h)) == "prompt"; });
  if (named != header.end()) column = static_cast<std::size_t>(named - header.begin()), first = 1;
  for (std::size_t r = first; r < records.size(); ++r) {
    if (column >= records[r].size()) continue;
    auto prompt = trimmed(records[r][column]);
    if (!prompt.empty()) prompts.push_back(std::move(prompt));
  }
  return prompts;
}

std::vector<std::string> readPromptList(const std::string& path) {
  std::string text;
  try {
    text = io::readFile(path, kMaxPromptListBytes);
  } catch (const IoError& e) {
    throw IoError(std::string("cannot read the prompt list: ") + e.what());
  }
  const bool csv = path.size() >= 4 && lower(path.substr(path.size() - 4)) == ".csv";
  try {
    return parsePromptList(text, csv ? PromptListFormat::Csv : PromptListFormat::Lines);
  } catch (const FormatError& e) {
    throw FormatError(path + ": " + e.what());
  }
}

}  // namespace respo::concepts
