#pragma once
// Writes a file so that readers see either the old content or the complete new one, never a torn
// file: the bytes go to a temporary file in the same folder, are flushed to disk, and the temporary
// is renamed over the target. On any failure (disk full, permission) the temporary is removed, the
// old file is untouched, and IoError says why.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace respo::io {

// `produce` is called once with a sink; it may call the sink any number of times.
using ByteSink = std::function<void(std::span<const std::byte>)>;
void writeFileAtomically(const std::filesystem::path& path,
                         const std::function<void(const ByteSink&)>& produce);

}  // namespace respo::io

namespace respo::io {
void writeTextFileAtomically(const std::filesystem::path& path, std::string_view text);
// Reads a whole file; throws IoError naming the file.
std::string readTextFile(const std::filesystem::path& path);
}  // namespace respo::io
