#pragma once
// The expectations a reference script wrote, read once per test process.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/testing.h"

namespace respo::testing {

// `--dir`/cases.json, parsed on first use and kept.
inline const nlohmann::json& referenceCases() {
  static const nlohmann::json data = [] {
    std::ifstream in(std::filesystem::path(option("dir")) / "cases.json");
    return nlohmann::json::parse(in);
  }();
  return data;
}

}  // namespace respo::testing
