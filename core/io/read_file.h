#pragma once
// Reading whole files that come from users: only regular files (a FIFO, a device such as /dev/zero
// or a folder is refused before anything blocks or grows), and never more than a stated size, so
// that no input can make the program wait forever or fill memory.
#include <cstddef>
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace respo::io {

// Default caps: text and JSON files users hand us are small (configs, vocabularies, prompt lists).
inline constexpr std::size_t kMaxTextFileBytes = 64u << 20;

// The whole file. IoError naming the file when it cannot be opened, is not a regular file, or is
// larger than maxBytes.
std::string readFile(const std::filesystem::path& path, std::size_t maxBytes = kMaxTextFileBytes);
inline std::string readTextFile(const std::filesystem::path& path, std::size_t maxBytes = kMaxTextFileBytes) {
  return readFile(path, maxBytes);
}
// The whole file parsed as JSON (FormatError naming the file when malformed; see core/common/json.h).
nlohmann::json readJsonFile(const std::filesystem::path& path, std::size_t maxBytes = kMaxTextFileBytes);
// A gzip file, decompressed; FormatError when damaged or when it expands past maxBytes.
std::string readGzipFile(const std::filesystem::path& path, std::size_t maxBytes);

// Opens `path` read-only without blocking on FIFOs and checks that it is a regular file; returns
// the descriptor (blocking mode restored) and its size. The caller closes it.
// The first `count` bytes of a regular file (fewer when it is shorter); for sniffing a format.
std::string readHead(const std::filesystem::path& path, std::size_t count);

int openRegularFile(const std::filesystem::path& path, std::size_t& size);

}  // namespace respo::io
