#pragma once
// Reads fields of a diffusers/transformers config.json with errors that name the file and the key
// ("unet/config.json: 'block_out_channels' must be a list of whole numbers from 1 to 8192"). Every
// number is range-checked as it is read, so a module is never built from a value that would crash
// it (zero groups), exhaust memory (2^30 channels) or take forever (10^7 layers).
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace respo::models {

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& json, std::string where);

  bool has(const std::string& key) const;
  int integer(const std::string& key, int fallback, int lo, int hi) const;
  double real(const std::string& key, double fallback, double lo, double hi) const;  // finite
  bool boolean(const std::string& key, bool fallback) const;
  std::string text(const std::string& key, const std::string& fallback) const;
  std::vector<int> integers(const std::string& key, const std::vector<int>& fallback, int lo, int hi,
                            std::size_t maxCount) const;
  std::vector<std::string> texts(const std::string& key, const std::vector<std::string>& fallback,
                                 std::size_t maxCount) const;
  // An int or a list of ints (diffusers allows both for per-block settings), expanded to `count`.
  std::vector<int> perBlock(const std::string& key, int fallback, std::size_t count, int lo, int hi) const;

  const std::string& where() const { return where_; }
  const nlohmann::json& json() const { return json_; }
  [[noreturn]] void fail(const std::string& message) const;

 private:
  const nlohmann::json& json_;
  std::string where_;
};

}  // namespace respo::models
