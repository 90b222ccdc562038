#include "core/pipeline/generation_parameters.h"

#include <cctype>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json.h"
#include "core/common/numbers.h"
#include "core/pipeline/lora_keys.h"

namespace respo::pipeline {
namespace {

// Our schedulers by A1111 1.9+'s sampler and schedule type. "Automatic" is the sampler's own default
// schedule; for DPM++ 2M that is Karras, which is what our dpmpp_2m runs. A1111 has no PNDM: PLMS is
// the same multistep method (diffusers' PNDM with skip_prk_steps, as Stable Diffusion configures it).
struct KnownSampler {
  const char* id;
  const char* className;
  const char* sampler;
  const char* schedule;
};
const KnownSampler kSamplers[] = {
    {"ddim", "DDIMScheduler", "DDIM", "Automatic"},
    {"euler", "EulerDiscreteScheduler", "Euler", "Automatic"},
    {"euler_a", "EulerAncestralDiscreteScheduler", "Euler a", "Automatic"},
    {"dpmpp_2m", "", "DPM++ 2M", "Karras"},
    {"DPMSolverMultistepScheduler", "DPMSolverMultistepScheduler", "DPM++ 2M", "Uniform"},
    {"pndm", "PNDMScheduler", "PLMS", "Automatic"},
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A parameters text is a few hundred bytes; nothing read from a picture may cost more than this.
constexpr std::size_t kMaxParametersBytes = 1u << 20;

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n\f\v");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n\f\v") - begin + 1);
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
// Python's \w on text: letters, digits, '_' and every non-ASCII character (the letters of other scripts).
bool isWord(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) || c == '_';
}
bool isKeyChar(char c) { return isWord(c) || c == ' ' || c == '-' || c == '/'; }

// The settings line as other front ends read it: every match of
//   \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
// scanned left to right (a failed match moves on by one character). One linear pass: the key is a
// maximal run, a quoted value ends at its first unescaped quote, so nothing needs backtracking
// beyond falling back from the quoted form to the plain one.
std::vector<std::pair<std::string, std::string>> settingsOf(const std::string& line) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n) {
    std::size_t j = i;
    while (j < n && isSpace(line[j])) ++j;
    const std::size_t keyStart = j;
    if (j >= n || !isWord(line[j])) {
      ++i;
      continue;
    }
    ++j;
    const std::size_t keyRest = j;
    while (j < n && isKeyChar(line[j])) ++j;
    if (j == keyRest || j >= n || line[j] != ':') {
      ++i;
      continue;
    }
    std::string key = line.substr(keyStart, j - keyStart);
    ++j;
    while (j < n && isSpace(line[j])) ++j;
    std::size_t end = std::string::npos;
    if (j < n && line[j] == '"') {
      std::size_t k = j + 1;
      std::size_t units = 0;
      while (k < n && line[k] != '"') {
        if (line[k] == '\\') {
          if (k + 1 >= n || line[k + 1] == '\n') break;
          k += 2;
        } else {
          ++k;
        }
        ++units;
      }
      if (k < n && line[k] == '"' && units > 0 && (k + 1 == n || line[k + 1] == ',')) end = k + 1;
    }
    if (end == std::string::npos) {
      end = j;
      while (end < n && line[end] != ',') ++end;
    }
    out.emplace_back(std::move(key), line.substr(j, end - j));
    i = end < n ? end + 1 : n;
  }
  return out;
}

// Front ends quote a value that holds a comma, colon or line break as a JSON string; so do we, and
// also one that starts with a quote, so that it reads back as itself.
std::string quoted(const std::string& value) {
  const bool needs = value.find_first_of(",:\n\r") != std::string::npos || (!value.empty() && value.front() == '"');
  return needs ? json::dump(nlohmann::json(value)) : value;
}

std::string unquoted(const std::string& value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return value;
  try {
    const auto parsed = json::parse(value, "parameters");
    if (parsed.is_string()) return parsed.get<std::string>();
  } catch (const FormatError&) {
  }
  return value;
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

template <typename T>
T readNumber(const std::string& key, const std::string& value, std::optional<T> parsed, T lo, T hi) {
  if (!parsed || *parsed < lo || *parsed > hi)
    throw FormatError("generation parameters: '" + key + "' has an unreadable value '" + value.substr(0, 60) + "'");
  return *parsed;
}

}  // namespace

SamplerLabel samplerLabel(const std::string& scheduler) {
  for (const auto& k : kSamplers)
    if (scheduler == k.id || scheduler == k.className) return {k.sampler, k.schedule};
  return {scheduler.empty() ? "Automatic" : scheduler, "Automatic"};
}

std::string resolvedScheduler(const std::string& requested, const std::string& configClass, bool configKarras) {
  if (!requested.empty() && requested != "default") return requested;
  if (configClass == "DPMSolverMultistepScheduler" && configKarras) return "dpmpp_2m";
  for (const auto& k : kSamplers)
    if (configClass == k.className && *k.className) return k.id;
  return requested;
}

std::string schedulerFromLabel(const std::string& samplerText, const std::string& scheduleText) {
  std::string sampler = lower(trim(samplerText));
  std::string schedule = lower(trim(scheduleText));
  // A schedule written into the sampler's name: A1111 before 1.9 ("DPM++ 2M Karras") and ComfyUI
  // savers ("dpmpp_2m_karras"). As A1111 does, the name's suffix wins.
  for (const char* suffix : {" karras", "_karras", " exponential", "_exponential", " uniform", "_uniform"}) {
    const std::string s = suffix;
    if (sampler.size() > s.size() && sampler.compare(sampler.size() - s.size(), s.size(), s) == 0) {
      schedule = s.substr(1);
      sampler.resize(sampler.size() - s.size());
      break;
    }
  }
  // ComfyUI's sampler ids, and ours.
  if (sampler == "euler_ancestral" || sampler == "euler_a") sampler = "euler a";
  if (sampler == "dpmpp_2m") sampler = "dpm++ 2m";
  if (sampler == "pndm") sampler = "plms";
  if (sampler == "default" || sampler == "automatic") return "";
  if (sampler == "dpm++ 2m" || sampler == "dpmsolvermultistepscheduler")
    return schedule.empty() || schedule == "automatic" || schedule == "karras" ? "dpmpp_2m" : "DPMSolverMultistepScheduler";
  for (const auto& k : kSamplers)
    if (sampler == lower(k.sampler) || (*k.className && sampler == lower(k.className))) return k.id;
  return "";
}

std::string formatParameters(const GenerationRequest& r, const std::string& modelName,
                             const std::map<std::string, std::string>& extra, const std::string& modelHash) {
  std::string out = r.prompt + "\n";
  if (!r.negativePrompt.empty()) out += "Negative prompt: " + r.negativePrompt + "\n";
  const auto sampler = samplerLabel(r.scheduler);
  out += "Steps: " + std::to_string(r.steps) + ", Sampler: " + quoted(sampler.sampler) +
         ", Schedule type: " + quoted(sampler.schedule) + ", CFG scale: " + numbers::formatReal(r.guidanceScale) +
         ", Seed: " + std::to_string(r.seed) + ", Size: " + std::to_string(r.width) + "x" + std::to_string(r.height);
  if (!modelHash.empty()) out += ", Model hash: " + quoted(modelHash);
  out += ", Model: " + quoted(modelName);
  if (r.batch > 1) out += ", Batch size: " + std::to_string(r.batch);
  if (r.clipSkip > 0) out += ", Clip skip: " + std::to_string(r.clipSkip + 1);
  if (r.stepCache > 1) out += ", Step cache: " + std::to_string(r.stepCache);
  if (r.vaeTiling) out += ", VAE tiling: on";
  if (r.winogradConvolutions) out += ", Convolutions: winograd";
  if (r.initImage) out += ", Denoising strength: " + numbers::formatReal(r.strength);  // A1111's img2img key
  if (r.initImage && r.mask) out += ", Mask blur: " + numbers::formatReal(r.maskBlur);
  std::map<std::string, std::string> all = extra;
  if (!all.count("Lora hashes")) {
    try {
      const std::vector<std::filesystem::path> folders(r.loraFolders.begin(), r.loraFolders.end());
      if (auto hashes = lora::loraHashesParameter(r.prompt, folders); !hashes.empty()) all["Lora hashes"] = hashes;
    } catch (const Error&) {
      // A tag without its file: the picture was made without it (generation refuses that), so no hash.
    }
  }
  for (const auto& [key, value] : all) out += ", " + key + ": " + quoted(value);
  return out;
}

GenerationRequest parseParameters(const std::string& text, std::map<std::string, std::string>* extra) {
  if (text.size() > kMaxParametersBytes) throw FormatError("generation parameters are longer than 1 MB");
  auto lines = splitLines(trim(text));
  std::string last = lines.back();
  lines.pop_back();
  auto settings = settingsOf(last);
  // Like other front ends: the last line holds the settings when it has at least three of them (ours
  // always starts with Steps).
  if (settings.size() < 3 && trim(last).rfind("Steps:", 0) != 0) {
    lines.push_back(last);
    settings.clear();
  }
  if (settings.empty()) throw FormatError("generation parameters have no 'Steps:' line (no settings line)");
  GenerationRequest r;
  bool negative = false;
  for (const auto& raw : lines) {
    std::string line = trim(raw);
    // The first "Negative prompt:" line starts the negative prompt; later lines that happen to begin
    // the same way are its text (so what is written back reads back the same).
    if (!negative && line.rfind("Negative prompt:", 0) == 0) {
      negative = true;
      line = trim(line.substr(16));
    }
    std::string& target = negative ? r.negativePrompt : r.prompt;
    target += (target.empty() ? "" : "\n") + line;
  }
  std::string sampler, schedule, size, cellSize;
  for (auto& [key, rawValue] : settings) {
    const std::string value = unquoted(trim(rawValue));
    if (key == "Size") {
      size = value;
    } else if (key == "Sheet cell size") {
      cellSize = value;  // a comparison sheet: its images' size is the one to restore
    } else if (key == "Steps") {
      r.steps = readNumber<std::int64_t>(key, value, numbers::parseInteger(value), 1, 10'000);
    } else if (key == "Sampler") {
      sampler = value;
    } else if (key == "Schedule type") {
      schedule = value;
    } else if (key == "CFG scale" || key == "CFG Scale") {  // the second: a ComfyUI saver's spelling
      r.guidanceScale = readNumber<double>(key, value, numbers::parseReal(value), -1000, 1000);
    } else if (key == "Seed") {
      r.seed = readNumber<std::uint64_t>(key, value, numbers::parseUnsigned(value), 0, UINT64_MAX);
    } else if (key == "Batch size") {
      r.batch = readNumber<std::int64_t>(key, value, numbers::parseInteger(value), 1, 1000);
    } else if (key == "Clip skip") {
      r.clipSkip = readNumber<std::int64_t>(key, value, numbers::parseInteger(value), 1, 1000) - 1;
    } else if (key == "Step cache") {
      r.stepCache = readNumber<std::int64_t>(key, value, numbers::parseInteger(value), 0, kMaxStepCache);
    } else if (key == "VAE tiling") {
      if (value != "on" && value != "off")
        throw FormatError("generation parameters: 'VAE tiling' has an unreadable value '" + value.substr(0, 60) + "'");
      r.vaeTiling = value == "on";
    } else if (key == "Convolutions") {
      if (value != "winograd" && value != "direct")
        throw FormatError("generation parameters: 'Convolutions' has an unreadable value '" + value.substr(0, 60) + "'");
      r.winogradConvolutions = value == "winograd";
    } else if (key == "Mask blur") {
      r.maskBlur = readNumber<double>(key, value, numbers::parseReal(value), 0, 256);
    } else if (key == "Denoising strength") {
      // The picture itself is not in the text: the strength waits for one.
      r.strength = readNumber<double>(key, value, numbers::parseReal(value), 0, 1);
      if (r.strength <= 0) r.strength = 0.75;
    } else if (extra) {
      (*extra)[key] = value;
    }
  }
  if (!size.empty() || !cellSize.empty()) {
    const bool sheet = !cellSize.empty();
    const std::string key = sheet ? "Sheet cell size" : "Size";
    const std::string& value = sheet ? cellSize : size;
    const auto x = value.find('x');
    if (x == std::string::npos) readNumber<std::int64_t>(key, value, std::nullopt, 0, 0);
    // 0 is "the model's own size" in text written before the size was known.
    r.width = readNumber<std::int64_t>(key, value, numbers::parseInteger(value.substr(0, x)), 0, 65536);
    r.height = readNumber<std::int64_t>(key, value, numbers::parseInteger(value.substr(x + 1)), 0, 65536);
    if (sheet && !size.empty() && extra) (*extra)["Sheet size"] = size;
  }
  if (!sampler.empty()) {
    r.scheduler = schedulerFromLabel(sampler, schedule);
    if (r.scheduler.empty() && extra) {
      // Not one of ours: the model's own runs, and the caller can say so.
      (*extra)["Sampler"] = sampler;
      if (!schedule.empty()) (*extra)["Schedule type"] = schedule;
    }
  }
  return r;
}

std::string pictureParameters(const std::string& text, int width, int height, int batchPos) {
  const auto cut = text.rfind('\n');
  const std::string head = cut == std::string::npos ? "" : text.substr(0, cut + 1);
  const std::string last = cut == std::string::npos ? text : text.substr(cut + 1);
  auto settings = settingsOf(last);
  if (settings.size() < 3) return text;  // not a settings line: nothing to say about the picture
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  std::string line;
  bool batch = false;
  for (auto& [key, value] : settings) {
    if (key == "Batch pos" || key == "Sheet cell size") continue;
    if (key == "Batch size") batch = true;
    std::string v = trim(value);
    if (key == "Size" && v != size) {
      line += (line.empty() ? "" : ", ") + std::string("Size: ") + size + ", Sheet cell size: " + v;
      continue;
    }
    line += (line.empty() ? "" : ", ") + key + ": " + v;
  }
  if (batch && batchPos >= 0) line += ", Batch pos: " + std::to_string(batchPos);
  return head + line;
}

}  // namespace respo::pipeline
