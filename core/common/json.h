#pragma once
// JSON from untrusted files (configs, tokenizer files, shard indexes, safetensors headers, concept
// metadata). nlohmann::json throws several exception types (parse errors, numbers that overflow
// such as 1e999, type errors) and recurses when it destroys or prints a deeply nested value; every
// one of those is turned here into a FormatError that names the file, and nesting is bounded before
// the parser runs.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace respo::json {

// Configs and headers nest a few levels; anything deeper than this is refused unparsed.
inline constexpr int kMaxDepth = 64;

// The deepest nesting of lists and objects in `text` (strings skipped); counting stops just past
// kMaxDepth.
int nestingDepth(std::string_view text);

// Parses `text`. Throws FormatError "<where>: not valid JSON (...)" for every malformed input,
// including numbers out of the double range and nesting deeper than kMaxDepth.
nlohmann::json parse(std::string_view text, const std::string& where);
// A short description of a value for an error message: its type and at most `maxChars` of its text.
// Never prints a whole untrusted document.
std::string brief(const nlohmann::json& value, std::size_t maxChars = 60);
// The type as a user reads it: "a number", "a list", "text", ...
const char* typeName(const nlohmann::json& value);

// Serialises values that may hold text from users or files: invalid UTF-8 is replaced (U+FFFD)
// rather than thrown.
std::string dump(const nlohmann::json& value, int indent = -1);
std::string dump(const nlohmann::ordered_json& value, int indent = -1);

}  // namespace respo::json
