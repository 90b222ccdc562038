#pragma once
// What one side of a comparison runs besides RespoDiff's concept modules, as plain values (no
// LibTorch) that the app's forms and the job queue carry: Safe Latent Diffusion settings and a concept
// edit file (UCE family). And how a picture's text names them, so a restore finds them again.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline/safe_guidance.h"

namespace respo::responsible {

struct SideMethods {
  std::optional<pipeline::SafeLatentGuidance> sld;
  std::filesystem::path conceptEdit;  // a file made by `respodiff edit-concepts`; empty: none
  std::string negativeText;           // the negative-prompt method: added to the side's negative prompt
  std::string promptText;             // prompt editing: added to the side's prompt
  bool empty() const { return !sld && conceptEdit.empty() && negativeText.empty() && promptText.empty(); }
  bool operator==(const SideMethods&) const = default;
};

// A concept edit file as a list shows it, read from its header only (no tensors).
struct EditInfo {
  std::filesystem::path file;
  std::string name, method, modelFingerprint;
  std::string fileHash;  // SHA-256 (hex)
  std::string problem;   // why it cannot be used; empty when it reads
  std::uintmax_t size = 0;  // the file's size and time when it was read
  std::filesystem::file_time_type stamp{};
};
// Throws nothing: a file that is not a concept edit comes back with `problem` set.
EditInfo readEditInfo(const std::filesystem::path& file);
// The concept edits in <folder>/edits/*.safetensors of each folder, by file name. An entry of
// `known` whose file still has the same size and time is reused as it is (no reading, no hashing).
std::vector<EditInfo> listEdits(const std::vector<std::filesystem::path>& folders, const std::vector<EditInfo>& known = {});

// What a picture's text says one side ran: `prefix` "" for the side the text belongs to, "Baseline "
// for the other side of its comparison. Throws FormatError for entries it cannot read.
struct SideRecord {
  std::optional<pipeline::SafeLatentGuidance> sld;
  std::string editName;  // "" when no concept edit
  std::string editHash;  // the first hex digits of its SHA-256 (may be empty in foreign texts)
  std::string negativeText, promptText;  // "Negative method", "Prompt edit"
};
SideRecord sideFromParameters(const std::map<std::string, std::string>& extra, const std::string& prefix = "");

}  // namespace respo::responsible
