#include "core/models/config_reader.h"

#include <cmath>

#include "core/common/error.h"
#include "core/common/json.h"

namespace respo::models {
namespace {

std::string range(double lo, double hi) {
  auto show = [](double v) {
    std::string s = std::to_string(v);
    if (v == std::floor(v) && std::fabs(v) < 1e15) s = std::to_string(static_cast<long long>(v));
    return s;
  };
  return show(lo) + " to " + show(hi);
}

// A JSON number that is a whole number in [lo, hi] (1000.0 counts, as Python would use it).
bool wholeIn(const nlohmann::json& v, long long lo, long long hi, long long& out) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<unsigned long long>();
    if (u > static_cast<unsigned long long>(hi)) return false;
    out = static_cast<long long>(u);
    return out >= lo;
  }
  if (v.is_number_integer()) {
    out = v.get<long long>();
    return out >= lo && out <= hi;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi)) return false;
    out = static_cast<long long>(d);
    return true;
  }
  return false;
}

}  // namespace

ConfigReader::ConfigReader(const nlohmann::json& json, std::string where) : json_(json), where_(std::move(where)) {
  if (!json_.is_object()) fail("expected a JSON object, not " + std::string(json::typeName(json_)));
}

void ConfigReader::fail(const std::string& message) const { throw FormatError(where_ + ": " + message); }

bool ConfigReader::has(const std::string& key) const {
  const auto found = json_.find(key);
  return found != json_.end() && !found->is_null();
}

int ConfigReader::integer(const std::string& key, int fallback, int lo, int hi) const {
  if (!has(key)) return fallback;
  long long value = 0;
  const auto& v = json_.at(key);
  if (!v.is_number()) fail("'" + key + "' has the wrong type (it must be a whole number, not " + json::brief(v) + ")");
  if (!wholeIn(v, lo, hi, value))
    fail("'" + key + "' must be a whole number from " + range(lo, hi) + ", not " + json::brief(v));
  return static_cast<int>(value);
}

double ConfigReader::real(const std::string& key, double fallback, double lo, double hi) const {
  if (!has(key)) return fallback;
  const auto& v = json_.at(key);
  if (!v.is_number()) fail("'" + key + "' has the wrong type (it must be a number, not " + json::brief(v) + ")");
  const double value = v.get<double>();
  if (!(value >= lo && value <= hi))
    fail("'" + key + "' must be a number from " + range(lo, hi) + ", not " + json::brief(v));
  return value;
}

bool ConfigReader::boolean(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!json_.at(key).is_boolean())
    fail("'" + key + "' has the wrong type (it must be true or false, not " + json::brief(json_.at(key)) + ")");
  return json_.at(key).get<bool>();
}

std::string ConfigReader::text(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  if (!json_.at(key).is_string())
    fail("'" + key + "' has the wrong type (it must be text, not " + json::brief(json_.at(key)) + ")");
  return json_.at(key).get<std::string>();
}

std::vector<int> ConfigReader::integers(const std::string& key, const std::vector<int>& fallback, int lo, int hi,
                                        std::size_t maxCount) const {
  if (!has(key)) return fallback;
  const auto& v = json_.at(key);
  auto bad = [&] {
    fail("'" + key + "' must be a list of at most " + std::to_string(maxCount) + " whole numbers from " +
         range(lo, hi) + ", not " + json::brief(v));
  };
  if (!v.is_array())
    fail("'" + key + "' has the wrong type (it must be a list of whole numbers, not " + json::brief(v) + ")");
  if (v.size() > maxCount) bad();
  std::vector<int> out;
  for (const auto& item : v) {
    long long value = 0;
    if (!item.is_number())
      fail("'" + key + "' has the wrong type (it must be a list of whole numbers, not " + json::brief(v) + ")");
    if (!wholeIn(item, lo, hi, value)) bad();
    out.push_back(static_cast<int>(value));
  }
  return out;
}

std::vector<std::string> ConfigReader::texts(const std::string& key, const std::vector<std::string>& fallback,
                                             std::size_t maxCount) const {
  if (!has(key)) return fallback;
  const auto& v = json_.at(key);
  if (!v.is_array()) fail("'" + key + "' has the wrong type (it must be a list of texts, not " + json::brief(v) + ")");
  if (v.size() > maxCount) fail("'" + key + "' has more than " + std::to_string(maxCount) + " entries");
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) fail("'" + key + "' has the wrong type (it must be a list of texts, not " + json::brief(v) + ")");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<int> ConfigReader::perBlock(const std::string& key, int fallback, std::size_t count, int lo, int hi) const {
  if (!has(key)) return std::vector<int>(count, fallback);
  if (json_.at(key).is_number()) return std::vector<int>(count, integer(key, fallback, lo, hi));
  auto list = integers(key, {}, lo, hi, 64);
  if (list.size() != count)
    fail("'" + key + "' has " + std::to_string(list.size()) + " entries, expected one per block (" +
         std::to_string(count) + ")");
  return list;
}

}  // namespace respo::models
