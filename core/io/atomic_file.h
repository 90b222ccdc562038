#pragma once
// Writes a file so that readers see either the old content or the complete new one, never a torn
// file: the bytes go to a temporary file in the same folder, are flushed to disk, and the temporary
// is renamed over the target. On any failure (disk full, permission) the temporary is removed, the
// old file is untouched, and IoError says why.
//
// The new file gets the mode an ordinary new file would get (0666 less the umask), or the mode of
// the file it replaces. The temporary's name is short (".<pid>-<n>.tmp" style), so a target whose
// name is close to the file system's limit can still be written.
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
void writeTextFileAtomically(const std::filesystem::path& path, std::string_view text);

// Checks, before any work is done, that `path` can be written: its folder exists, it is not itself a
// folder, and its name fits the file system. Throws IoError saying which.
void checkWritableTarget(const std::filesystem::path& path);

// For fault-injection tests: each system call of the writer ("create", "write", "fsync", "close",
// "rename") asks this function first; a non-zero return makes the call fail with that errno. Unset
// (the default) in the program. Not thread-safe to change while writers run.
using FaultInjector = std::function<int(std::string_view call, const std::filesystem::path& target)>;
void setFaultInjector(FaultInjector injector);

}  // namespace respo::io
