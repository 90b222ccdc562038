#include "core/pipeline/model_hash.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/pipeline/lora_keys.h"

namespace respo::pipeline {
namespace {

namespace fs = std::filesystem;

bool counted(const fs::path& relative) {
  for (const auto& part : relative)
    if (!part.empty() && part.string().front() == '.') return false;
  const auto ext = relative.extension().string();
  return ext == ".safetensors" || ext == ".json" || ext == ".txt";
}

}  // namespace

std::string rememberedFileSha256(const fs::path& file, std::uint64_t from) {
  static std::mutex mutex;
  static std::map<std::string, std::pair<std::string, std::string>> cache;  // path@from -> (stamp, hex)
  const std::string stamp = lora::fileStamp(file);
  if (stamp.empty()) throw IoError(file.string() + ": cannot read");
  const std::string key = file.string() + "@" + std::to_string(from);
  {
    std::lock_guard lock(mutex);
    const auto it = cache.find(key);
    if (it != cache.end() && it->second.first == stamp) return it->second.second;
  }
  const auto hex = hashing::fileSha256(file, from);
  std::lock_guard lock(mutex);
  cache[key] = {stamp, hex};
  return hex;
}

std::string modelHash(const fs::path& source) {
  std::error_code ec;
  if (!fs::is_directory(source, ec)) return rememberedFileSha256(source).substr(0, 10);
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(source, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const auto relative = fs::relative(it->path(), source, ec);
    if (!ec && counted(relative)) files.push_back(relative.generic_string());
  }
  if (ec) throw IoError(source.string() + ": cannot list the folder (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  std::string listing;
  for (const auto& name : files) listing += rememberedFileSha256(source / name) + "  " + name + "\n";
  hashing::Sha256 sha;
  sha.update(listing);
  return sha.hexDigest().substr(0, 10);
}

std::string modelName(const fs::path& source) {
  std::error_code ec;
  const fs::path path = source.filename().empty() ? source.parent_path() : source;
  return fs::is_directory(path, ec) ? path.filename().string() : path.stem().string();
}

}  // namespace respo::pipeline
