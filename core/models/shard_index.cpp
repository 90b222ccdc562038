#include "core/models/shard_index.h"

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json.h"

namespace respo::models {

std::set<std::string> shardFiles(const nlohmann::json& index, const std::string& where) {
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw FormatError(where + ": missing 'weight_map'");
  std::set<std::string> shards;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string())
      throw FormatError(where + ": the shard of '" + name.substr(0, 80) + "' is not a file name but " + json::brief(shard));
    const std::string file = shard.get<std::string>();
    if (file.empty() || file.find('/') != std::string::npos || file.find('\\') != std::string::npos ||
        file.find('\0') != std::string::npos || file == "." || file == ".." || !file.ends_with(".safetensors"))
      throw FormatError(where + ": shard name '" + file.substr(0, 80) +
                        "' is not a .safetensors file name beside the index");
    shards.insert(file);
    if (shards.size() > 10'000) throw FormatError(where + ": lists more than 10000 shards");
  }
  if (shards.empty()) throw FormatError(where + ": 'weight_map' lists no shards");
  return shards;
}

}  // namespace respo::models
