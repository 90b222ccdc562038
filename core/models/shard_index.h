#pragma once
// The index of a sharded component (`<name>.safetensors.index.json`): which files hold the weights.
// Shards must be .safetensors files beside the index; a name with a folder in it (absolute, "..",
// "a/b") would make the index open files elsewhere, so it is refused before anything is opened.
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace respo::models {

// The distinct shard file names of an index; FormatError naming `where` for anything else.
std::set<std::string> shardFiles(const nlohmann::json& index, const std::string& where);

}  // namespace respo::models
