#include "core/respo/side_methods.h"

#include <algorithm>

#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/io/safetensors.h"

namespace fs = std::filesystem;

namespace respo::responsible {

EditInfo readEditInfo(const fs::path& file) {
  EditInfo info;
  info.file = file;
  info.name = file.stem().string();
  std::error_code error;
  info.size = fs::file_size(file, error);
  if (!error) info.stamp = fs::last_write_time(file, error);
  try {
    const auto header = io::SafetensorsFile::open(file);
    const auto& meta = header.metadata();
    auto field = [&](const char* key) {
      const auto it = meta.find(key);
      return it == meta.end() ? std::string() : it->second;
    };
    if (field("format") != "respodiff-concept-edit") {
      info.problem = "not a concept edit";
      return info;
    }
    if (!field("name").empty()) info.name = field("name");
    info.method = field("method");
    info.modelFingerprint = field("model_fingerprint");
    info.fileHash = hashing::fileSha256(file);
  } catch (const std::exception& e) {
    info.problem = e.what();
  }
  return info;
}

std::vector<EditInfo> listEdits(const std::vector<fs::path>& folders, const std::vector<EditInfo>& known) {
  std::vector<EditInfo> out;
  auto reuse = [&](const fs::path& file) -> const EditInfo* {
    std::error_code error;
    const auto size = fs::file_size(file, error);
    if (error) return nullptr;
    const auto stamp = fs::last_write_time(file, error);
    if (error) return nullptr;
    for (const auto& info : known)
      if (info.file == file && info.size == size && info.stamp == stamp) return &info;
    return nullptr;
  };
  for (const auto& folder : folders) {
    std::error_code error;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(folder / "edits", error), end; !error && it != end; it.increment(error))
      if (it->path().extension() == ".safetensors" && it->is_regular_file(error)) files.push_back(it->path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const EditInfo* same = reuse(file);
      out.push_back(same ? *same : readEditInfo(file));
    }
  }
  return out;
}

SideRecord sideFromParameters(const std::map<std::string, std::string>& extra, const std::string& prefix) {
  SideRecord out;
  std::map<std::string, std::string> own;
  for (const auto& [key, value] : extra)
    if (key.compare(0, prefix.size(), prefix) == 0) own[key.substr(prefix.size())] = value;
  // The responsible side's own keys must not pick up the other side's ("Baseline SLD").
  if (prefix.empty())
    for (auto it = own.begin(); it != own.end();) it = it->first.rfind("Baseline ", 0) == 0 ? own.erase(it) : std::next(it);
  out.sld = pipeline::SafeLatentGuidance::fromParameters(own);
  if (const auto it = own.find("Negative method"); it != own.end()) out.negativeText = it->second;
  if (const auto it = own.find("Prompt edit"); it != own.end()) out.promptText = it->second;
  if (const auto it = own.find("Concept edit"); it != own.end()) {
    // "NAME (method)"
    const auto& text = it->second;
    const auto open = text.rfind(" (");
    out.editName = open != std::string::npos && text.back() == ')' ? text.substr(0, open) : text;
    if (out.editName.empty()) throw FormatError("parameters: 'Concept edit' names no edit");
    if (const auto hash = own.find("Concept edit hash"); hash != own.end()) {
      const auto& h = hash->second;
      if (h.size() < 8 || h.size() > 64 || h.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw FormatError("parameters: 'Concept edit hash' is not a hash: '" + h.substr(0, 80) + "'");
      out.editHash = h;
    }
  }
  return out;
}

}  // namespace respo::responsible
