#pragma once
// What a user chose to make an image responsible: the enabled concept modules with their strengths,
// and how each fairness group draws its member. One plain value (no LibTorch) that every front end
// builds (the app's concept panel, the command line, a restored picture) and the engine resolves.
//
// A module is known by its identity: its name, the model it was trained on (fingerprint) and the
// SHA-256 of its file. Names are not unique (the user's folder and the shipped one may both hold
// "a woman"); the hash is. A picture's parameters record all three, so restoring it selects the
// exact module, or says that it is missing:
//   RespoDiff: a woman [RAM 100% SAM 100%]; blood [RAM 80% SAM 100%]
//   RespoDiff groups: gender=balanced:a woman=30,a man=70; skin tone=fixed:a dark-skinned person (weight 0.6)
//   RespoDiff hashes: a woman: 1a2b3c4d5e, blood: 0f1e2d3c4b
//   RespoDiff base: 0123456789abcdef
// Strengths are fractions (1 = as trained); the text writes whole percents, the app's resolution.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/respo/fairness_policy.h"

namespace respo::concepts {

struct ModuleIdentity {
  std::string name;              // "a woman"
  std::string modelFingerprint;  // of the UNet the module was trained on
  std::string fileHash;          // SHA-256 of the module file (hex), or a prefix of it; empty: unknown
  // The same name, and hashes that agree on their common prefix (at least 8 digits). An identity
  // without a hash (older pictures) matches by name alone; so does one without a fingerprint.
  bool matches(const ModuleIdentity& other) const;
  bool hasHash() const { return fileHash.size() >= 8; }
};

struct SelectedModule {
  ModuleIdentity id;
  std::filesystem::path file;  // where it was found; empty when chosen by identity only (restored)
  double ramStrength = 1.0;    // 0 = off, 1 = as trained, up to kMaxStrength
  double samStrength = 1.0;
};

constexpr double kMaxStrength = 10.0;

struct Selection {
  std::vector<SelectedModule> modules;
  std::map<std::string, GroupOptions> groups;  // by fairness group name
  GroupOptions defaults;                       // for groups not in `groups`
  bool empty() const { return modules.empty(); }

  // Throws InvalidArgument for non-finite or out-of-range strengths and weights.
  void validate() const;
  // The parameters entries above (none when no module is selected).
  std::map<std::string, std::string> toParameters() const;
  // Reads those entries back from the extras parseParameters collects. Entries it cannot read throw
  // FormatError naming the text; missing entries mean no module. Restored modules have no file.
  static Selection fromParameters(const std::map<std::string, std::string>& extra);
};

}  // namespace respo::concepts
