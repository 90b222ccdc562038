#include "core/pipeline/generation_parameters.h"

#include <sstream>
#include <vector>

#include "core/common/error.h"

namespace respo::pipeline {
namespace {

const std::vector<std::pair<std::string, std::string>> kSamplers = {
    {"ddim", "DDIM"}, {"euler", "Euler"}, {"euler_a", "Euler a"}, {"dpmpp_2m", "DPM++ 2M Karras"}, {"pndm", "PLMS"}};

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// Splits "a: 1, b: \"x, y\", c: 3" at top-level commas.
std::vector<std::pair<std::string, std::string>> splitSettings(const std::string& line) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string current;
  bool quoted = false;
  auto flush = [&] {
    const auto colon = current.find(':');
    if (colon != std::string::npos) out.emplace_back(trim(current.substr(0, colon)), trim(current.substr(colon + 1)));
    current.clear();
  };
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) flush();
    else current += c;
  }
  flush();
  return out;
}

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

std::string samplerLabel(const std::string& scheduler) {
  for (const auto& [name, label] : kSamplers)
    if (name == scheduler) return label;
  return scheduler.empty() ? "default" : scheduler;
}

std::string schedulerFromLabel(const std::string& label) {
  for (const auto& [name, known] : kSamplers)
    if (known == label || name == label) return name;
  if (label == "default") return "";
  return label;
}

std::string formatParameters(const GenerationRequest& r, const std::string& modelName,
                             const std::map<std::string, std::string>& extra) {
  std::ostringstream out;
  out << r.prompt << "\n";
  if (!r.negativePrompt.empty()) out << "Negative prompt: " << r.negativePrompt << "\n";
  out << "Steps: " << r.steps << ", Sampler: " << samplerLabel(r.scheduler) << ", CFG scale: " << number(r.guidanceScale)
      << ", Seed: " << r.seed << ", Size: " << r.width << "x" << r.height << ", Model: " << modelName;
  if (r.batch > 1) out << ", Batch size: " << r.batch;
  if (r.clipSkip > 0) out << ", Clip skip: " << r.clipSkip + 1;
  for (const auto& [key, value] : extra) {
    const bool quote = value.find(',') != std::string::npos || value.find(':') != std::string::npos;
    out << ", " << key << ": " << (quote ? "\"" + value + "\"" : value);
  }
  return out.str();
}

GenerationRequest parseParameters(const std::string& text, std::map<std::string, std::string>* extra) {
  const auto settingsStart = text.rfind("\nSteps: ");
  const auto start = text.rfind("Steps: ", 0) == 0 ? 0 : settingsStart == std::string::npos ? std::string::npos : settingsStart + 1;
  if (start == std::string::npos) throw FormatError("generation parameters have no 'Steps:' line");
  GenerationRequest r;
  const std::string head = start == 0 ? "" : text.substr(0, start - 1);
  const auto negative = head.find("\nNegative prompt: ");
  if (head.rfind("Negative prompt: ", 0) == 0) {
    r.negativePrompt = trim(head.substr(17));
  } else if (negative != std::string::npos) {
    r.prompt = head.substr(0, negative);
    r.negativePrompt = trim(head.substr(negative + 18));
  } else {
    r.prompt = head;
  }
  auto line = text.substr(start);
  line = line.substr(0, line.find('\n'));
  for (const auto& [key, value] : splitSettings(line)) {
    try {
      if (key == "Steps") r.steps = std::stoi(value);
      else if (key == "Sampler") r.scheduler = schedulerFromLabel(value);
      else if (key == "CFG scale") r.guidanceScale = std::stod(value);
      else if (key == "Seed") r.seed = std::stoull(value);
      else if (key == "Size") {
        const auto x = value.find('x');
        r.width = std::stoi(value.substr(0, x));
        r.height = std::stoi(value.substr(x + 1));
      } else if (key == "Batch size") r.batch = std::stoi(value);
      else if (key == "Clip skip") r.clipSkip = std::max(0, std::stoi(value) - 1);
      else if (extra) {
        std::string v = value;
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        (*extra)[key] = v;
      }
    } catch (const std::exception&) {
      throw FormatError("generation parameters: '" + key + "' has an unreadable value '" + value + "'");
    }
  }
  return r;
}

}  // namespace respo::pipeline
