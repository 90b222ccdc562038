#include "core/respo/prompt_list.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "core/common/error.h"

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
std::vector<std::vector<std::string>> csvRecords(const std::string& text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false, wasQuoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"' && trimmed(field).empty()) {
      quoted = wasQuoted = true;
      field.clear();
    } else if (c == ',') {
      records.back().push_back(wasQuoted ? field : trimmed(field));
      field.clear();
      wasQuoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      records.back().push_back(wasQuoted ? field : trimmed(field));
      field.clear();
      wasQuoted = false;
      records.emplace_back();
    } else {
      field += c;
    }
  }
  if (quoted) throw FormatError("the CSV text ends inside a quoted field");
  if (!field.empty() || wasQuoted || !records.back().empty()) records.back().push_back(wasQuoted ? field : trimmed(field));
  if (records.back().empty()) records.pop_back();
  return records;
}

}  // namespace

std::vector<std::string> parsePromptList(const std::string& text, PromptListFormat format) {
  std::vector<std::string> prompts;
  if (format == PromptListFormat::Lines) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      line = trimmed(line);
      if (!line.empty() && line.front() != '#') prompts.push_back(line);
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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read the prompt list " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError("cannot read the prompt list " + path);
  const bool csv = path.size() >= 4 && lower(path.substr(path.size() - 4)) == ".csv";
  return parsePromptList(text.str(), csv ? PromptListFormat::Csv : PromptListFormat::Lines);
}

}  // namespace respo::concepts
