#include "core/respo/concept_library.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "core/common/error.h"
#include "core/common/paths.h"

namespace fs = std::filesystem;

namespace respo::concepts {

std::vector<fs::path> ConceptLibrary::defaultFolders() {
  std::vector<fs::path> folders;
  folders.push_back(paths::userConcepts());
  folders.push_back(paths::shippedConcepts());
  return folders;
}

std::vector<fs::path> conceptFiles(const fs::path& folder) {
  std::vector<fs::path> files;
  std::error_code error;
  if (!fs::is_directory(folder, error)) return files;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".safetensors" && name.find(".checkpoint.") == std::string::npos)
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

ConceptLibrary ConceptLibrary::scan(const std::vector<fs::path>& folders) {
  ConceptLibrary library;
  for (const auto& folder : folders) {
    for (const auto& file : conceptFiles(folder)) {
      try {
        const auto module = loadConcept(file);
        library.entries_.push_back({file, module.settings, module.modelFingerprint, module.hShape(), module.fileHash});
      } catch (const Error& e) {
        library.problems_.push_back({file, e.what()});
      } catch (const std::bad_alloc&) {
        library.problems_.push_back({file, file.string() + ": cannot be read (out of memory)"});
      } catch (const std::exception& e) {  // not ours to throw, but one bad file must not hide the rest
        library.problems_.push_back({file, file.string() + ": cannot be read (" + firstLine(e.what()) + ")"});
      }
    }
  }
  return library;
}

std::vector<fs::path> ConceptLibrary::resolve(const std::string& item, const std::string& fingerprint) const {
  std::error_code error;
  if (fs::is_regular_file(item, error)) return {fs::path(item)};
  std::vector<fs::path> found;
  std::set<std::string> names;  // a module in the user's folder hides a shipped one of the same name
  bool otherModel = false;
  for (const auto& e : entries_) {
    if (e.settings.group != item && e.settings.name != item) continue;
    if (!fingerprint.empty() && e.modelFingerprint != fingerprint) {
      otherModel = true;
      continue;
    }
    if (names.insert(e.settings.group + "/" + e.settings.name).second) found.push_back(e.file);
  }
  if (found.empty())
    throw InvalidArgument("'" + item + "' is neither a concept file nor a group or concept in the library" +
                          (otherModel ? " (modules of that name exist, but for another model)" : ""));
  return found;
}

std::vector<const LibraryEntry*> ConceptLibrary::find(const ModuleIdentity& identity) const {
  std::vector<const LibraryEntry*> out;
  for (const auto& e : entries_)
    if (e.identity().matches(identity)) out.push_back(&e);
  return out;
}

}  // namespace respo::concepts
