#pragma once
// Prompt lists as users bring them: pasted text or a .txt file (one prompt per line, '#' starts a
// comment line), or a .csv file (the column headed "prompt", else the first column; quoted fields
// with commas, doubled quotes and line breaks are read as CSV writes them).
#include <string>
#include <vector>

namespace respo::concepts {

enum class PromptListFormat { Lines, Csv };

// Trims each prompt, drops empty ones. Throws FormatError for an unterminated quoted CSV field.
std::vector<std::string> parsePromptList(const std::string& text, PromptListFormat format);
// By extension: ".csv" is CSV, anything else lines. Throws IoError when the file cannot be read.
std::vector<std::string> readPromptList(const std::string& path);

}  // namespace respo::concepts
