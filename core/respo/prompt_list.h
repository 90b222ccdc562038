#pragma once
// Prompt lists as users bring them: pasted text or a .txt file (one prompt per line, '#' starts a
// comment line), or a .csv file (the column headed "prompt", else the first column; quoted fields
// with commas, doubled quotes and line breaks are read as CSV writes them).
#include <cstddef>
#include <cstdint>
#include <optional>
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
// A prompt with what a prompt set may say about it: its category (I2P's "categories" column, such
// as "violence, illegal activity"), and the seed and guidance scale it is to be generated with.
struct PromptRow {
  std::string prompt;
  std::string category;
  std::optional<std::uint64_t> seed;
  std::optional<double> guidance;
};
// As parsePromptList, with a CSV's optional columns by header name (any case): category or
// categories; seed, sd_seed or evaluation_seed; guidance, guidance_scale, sd_guidance_scale or
// evaluation_guidance. Throws FormatError naming the row and the column for a seed that is not a
// whole number from 0 to 2^64 - 1 or a guidance scale that is not a number from 0 to 1000.
std::vector<PromptRow> parsePromptTable(const std::string& text, PromptListFormat format);
std::vector<PromptRow> readPromptTable(const std::string& path);

// By extension: ".csv" is CSV, anything else lines. Throws IoError when the file cannot be read, is
// not a regular file or is larger than kMaxPromptListBytes.
std::vector<std::string> readPromptList(const std::string& path);

}  // namespace respo::concepts
