#pragma once
// Reads fields of a diffusers/transformers config.json with errors that name the file and the key
// ("unet/config.json: 'block_out_channels' must be a list of integers").
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/error.h"

namespace respo::models {

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& json, std::string where) : json_(json), where_(std::move(where)) {
    if (!json_.is_object()) throw FormatError(where_ + ": expected a JSON object");
  }

  bool has(const std::string& key) const { return json_.contains(key) && !json_[key].is_null(); }

  template <typename T>
  T get(const std::string& key, const T& fallback) const {
    if (!has(key)) return fallback;
    return read<T>(key);
  }

  template <typename T>
  T require(const std::string& key) const {
    if (!has(key)) throw FormatError(where_ + ": missing '" + key + "'");
    return read<T>(key);
  }

  // An int or a list of ints (diffusers allows both for per-block settings), expanded to `count`.
  std::vector<int> perBlock(const std::string& key, int fallback, std::size_t count) const {
    if (!has(key)) return std::vector<int>(count, fallback);
    const auto& value = json_[key];
    if (value.is_number_integer()) return std::vector<int>(count, value.get<int>());
    auto list = read<std::vector<int>>(key);
    if (list.size() != count)
      throw FormatError(where_ + ": '" + key + "' has " + std::to_string(list.size()) + " entries, expected " +
                        std::to_string(count) + " (one per block)");
    return list;
  }

  const std::string& where() const { return where_; }
  const nlohmann::json& json() const { return json_; }

 private:
  template <typename T>
  T read(const std::string& key) const {
    try {
      return json_[key].get<T>();
    } catch (const nlohmann::json::exception&) {
      throw FormatError(where_ + ": '" + key + "' has the wrong type (" + json_[key].dump() + ")");
    }
  }
  const nlohmann::json& json_;
  std::string where_;
};

// Parses a JSON file; IoError when unreadable, FormatError naming the file when not JSON.
nlohmann::json readJsonFile(const std::filesystem::path& path);

}  // namespace respo::models
