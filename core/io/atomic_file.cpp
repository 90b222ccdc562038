#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace respo::io {
namespace {

FaultInjector& injector() {
  static FaultInjector instance;
  return instance;
}

// errno to fail with, or 0.
int injected(std::string_view call, const std::filesystem::path& target) {
  const auto& inject = injector();
  return inject ? inject(call, target) : 0;
}

mode_t currentUmask() {
  // umask can only be read by setting it; the two calls are close together and the value restored.
  static std::atomic<int> cached{-1};
  int value = cached.load();
  if (value < 0) {
    const mode_t mask = ::umask(022);
    ::umask(mask);
    value = static_cast<int>(mask);
    cached.store(value);
  }
  return static_cast<mode_t>(value);
}

class TemporaryFile {
 public:
  explicit TemporaryFile(const std::filesystem::path& target) : target_(target) {
    static std::atomic<unsigned> counter{0};
    const auto folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    // A short name beside the target: ".respodiff-<pid>-<n>-XXXXXX" fits wherever the target fits
    // as long as the folder does.
    std::string pattern = (folder / (".respodiff-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(counter++) + "-XXXXXX")).string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (const int error = injected("create", target)) errno = error;
    else fd_ = ::mkstemp(buffer.data());
    if (fd_ < 0)
      throw IoError(target.string() + ": cannot create a temporary file beside it: " + std::strerror(errno));
    path_ = buffer.data();
    // mkstemp creates the file private (0600). The result should look like any file the user
    // writes: the mode of the file it replaces, else 0666 less the umask.
    struct stat existing {};
    const mode_t mode = ::stat(target.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)
                            ? (existing.st_mode & 07777)
                            : (0666 & ~currentUmask());
    ::fchmod(fd_, mode);
  }
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  void write(std::span<const std::byte> bytes) {
    const std::byte* data = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
      ssize_t written = -1;
      if (const int error = injected("write", target_)) errno = error;
      else written = ::write(fd_, data, left);
      if (written < 0) {
        if (errno == EINTR) continue;
        fail("cannot write");
      }
      data += written;
      left -= static_cast<std::size_t>(written);
    }
  }

  void commit() {
    if (const int error = injected("fsync", target_)) {
      errno = error;
      fail("cannot flush to disk");
    }
    if (::fsync(fd_) != 0) fail("cannot flush to disk");
    const int closed = ::close(fd_);
    fd_ = -1;
    if (const int error = injected("close", target_)) {
      errno = error;
      fail("cannot close");
    }
    if (closed != 0) fail("cannot close");
    if (const int error = injected("rename", target_)) {
      errno = error;
      fail("cannot replace the file");
    }
    if (::rename(path_.c_str(), target_.c_str()) != 0) fail("cannot replace the file");
    committed_ = true;
    // Make the rename itself durable.
    const auto folder = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }

 private:
  [[noreturn]] void fail(const char* what) {
    throw IoError(target_.string() + ": " + what + ": " + std::strerror(errno) +
                  " (the previous file, if any, is unchanged)");
  }
  std::filesystem::path target_;
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

void setFaultInjector(FaultInjector inject) { injector() = std::move(inject); }

void checkWritableTarget(const std::filesystem::path& path) {
  std::error_code error;
  if (path.empty() || !path.has_filename()) throw IoError("'" + path.string() + "': give a file name to write");
  if (std::filesystem::is_directory(path, error))
    throw IoError(path.string() + ": is a folder; give a file name to write");
  const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(folder, error))
    throw IoError(path.string() + ": cannot create a temporary file beside it: the folder " + folder.string() +
                  " does not exist");
  const long limit = ::pathconf(folder.c_str(), _PC_NAME_MAX);
  if (limit > 0 && path.filename().string().size() > static_cast<std::size_t>(limit))
    throw IoError(path.string() + ": cannot write: the file name is longer than the " + std::to_string(limit) +
                  " bytes this file system allows");
}

void writeFileAtomically(const std::filesystem::path& path,
                         const std::function<void(const ByteSink&)>& produce) {
  checkWritableTarget(path);
  TemporaryFile file(path);
  produce([&](std::span<const std::byte> bytes) { file.write(bytes); });
  file.commit();
}

void writeTextFileAtomically(const std::filesystem::path& path, std::string_view text) {
  writeFileAtomically(path, [&](const ByteSink& sink) { sink(std::as_bytes(std::span(text.data(), text.size()))); });
}

}  // namespace respo::io
