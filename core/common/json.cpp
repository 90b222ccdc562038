#include "core/common/json.h"

#include "core/common/error.h"

namespace respo::json {
int nestingDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool inString = false, escaped = false;
  for (const char c : text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') inString = false;
      continue;
    }
    if (c == '"') inString = true;
    else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > kMaxDepth) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

nlohmann::json parse(std::string_view text, const std::string& where) {
  if (nestingDepth(text) > kMaxDepth)
    throw FormatError(where + ": not valid JSON (nested more than " + std::to_string(kMaxDepth) + " levels deep)");
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(where + ": not valid JSON (" + e.what() + ")");
  }
}

const char* typeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "a list";
    case nlohmann::json::value_t::string: return "text";
    case nlohmann::json::value_t::boolean: return "true/false";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "a whole number";
    case nlohmann::json::value_t::number_float: return "a number";
    default: return "an unusual value";
  }
}

std::string brief(const nlohmann::json& value, std::size_t maxChars) {
  std::string text = dump(value);
  if (text.size() > maxChars) {
    text.resize(maxChars);
    text += "...";
  }
  return std::string(typeName(value)) + " " + text;
}

std::string dump(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string dump(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace respo::json
