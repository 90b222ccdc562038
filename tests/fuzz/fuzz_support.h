#pragma once
// Shared pieces of the fuzz targets. The contract every target asserts: whatever the bytes, a parser
// either succeeds or throws respo::Error. Any other exception escapes LLVMFuzzerTestOneInput, which
// terminates the process, and libFuzzer reports the input; so do sanitizer findings, the memory
// limit (-rss_limit_mb, -malloc_limit_mb) and the per-input time limit (-timeout).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

#include "core/common/error.h"

namespace respo::fuzz {

// One scratch folder per process (parallel jobs must not share files), removed at exit.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/respodiff-fuzz-XXXXXX";
    if (!::mkdtemp(pattern.data())) std::abort();
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(scratch(), ec); });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

inline std::filesystem::path writeScratch(const std::string& name, std::string_view bytes) {
  const auto path = scratch() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();
  return path;
}

inline std::string_view view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits the input at the first occurrence of `separator` (or returns everything as `first`).
inline std::pair<std::string_view, std::string_view> splitOnce(std::string_view text, std::string_view separator) {
  const auto at = text.find(separator);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at + separator.size())};
}

}  // namespace respo::fuzz

// Runs `body`; a respo::Error is the expected way to refuse an input.
#define RESPO_FUZZ_EXPECT_ERRORS(...) \
  do {                                \
    try {                             \
      __VA_ARGS__;                    \
    } catch (const respo::Error&) {   \
    }                                 \
  } while (0)
