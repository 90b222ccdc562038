#pragma once
// Prompt lists as users bring them: pasted text or a .txt file (one prompt per line, '#' starts a
// comment line), or a .csv file (the column headed "prompt", else the first column; quoted fields
// with commas, doubled quotes and line breaks are read as CSV writes them).
#include <cstddef>
#include <string>
#include <vector>

namespace respo::concepts {

enum class PromptListFormat { Lines, Csv };

// A list is for training or a report: thousands of prompts at most, a few megabytes.
inline constexpr std::size_t kMaxPrompts = 100'000;
inline constexpr std::size_t kMaxPromptListBytes = 16u << 20;

// Trims each prompt, drops empty ones. Throws FormatError for an unterminated quoted CSV field or
// more than kMaxPrompts prompts.
std::vector<std::string> parsePromptList(const std::string& text, PromptListFormat format);
// By extension: ".csv" is CSV, anything else lines. Throws IoError when the file cannot be read, is
// not a regular file or is larger than kMaxPromptListBytes.
std::vector<std::string> readPromptList(const std::string& path);

}  // namespace respo::concepts
