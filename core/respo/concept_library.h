#pragma once
// The concept library: the concept modules installed on this machine. It is the user's folder
// ($XDG_DATA_HOME/respodiff/concepts, by default ~/.local/share/respodiff/concepts), where the
// training wizard saves, followed by the shipped defaults (<data>/toyworld/concepts). A module is
// found by file, by its group ("gender", "skin tone", "safety") or by its name ("a woman").
#include <filesystem>
#include <string>
#include <vector>

#include "core/respo/concept_module.h"

namespace respo::concepts {

struct LibraryEntry {
  std::filesystem::path file;
  ConceptSettings settings;
  std::string modelFingerprint;
  std::vector<int64_t> hShape;
  std::string fileHash;  // SHA-256 of the file

  ModuleIdentity identity() const { return {settings.name, modelFingerprint, fileHash}; }
};

// The concept modules in one folder, sorted: every .safetensors except training checkpoints
// (*.checkpoint.safetensors). A missing folder has none.
std::vector<std::filesystem::path> conceptFiles(const std::filesystem::path& folder);

// A file in a library folder that is not a usable concept module, and why.
struct LibraryProblem {
  std::filesystem::path file;
  std::string message;
};

class ConceptLibrary {
 public:
  // The user's folder first, then the shipped one.
  static std::vector<std::filesystem::path> defaultFolders();
  // Reads the metadata of every .safetensors in `folders` (missing folders are skipped). Files that
  // are not concept modules are listed in problems(), not thrown.
  static ConceptLibrary scan(const std::vector<std::filesystem::path>& folders);

  const std::vector<LibraryEntry>& entries() const { return entries_; }
  const std::vector<LibraryProblem>& problems() const { return problems_; }
  // `item` is a file path, a group or a concept name. With a fingerprint, only modules trained on
  // that model are taken when a group or name is asked for. Throws InvalidArgument when nothing matches.
  std::vector<std::filesystem::path> resolve(const std::string& item, const std::string& fingerprint = "") const;
  // The entries an identity matches (a picture's record of a module), the user's folder first.
  std::vector<const LibraryEntry*> find(const ModuleIdentity& identity) const;

 private:
  std::vector<LibraryEntry> entries_;
  std::vector<LibraryProblem> problems_;
};

}  // namespace respo::concepts
