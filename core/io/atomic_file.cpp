#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace respo::io {
namespace {

class TemporaryFile {
 public:
  explicit TemporaryFile(const std::filesystem::path& target) : target_(target) {
    std::string pattern = target.string() + ".tmp-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    fd_ = ::mkstemp(buffer.data());
    if (fd_ < 0)
      throw IoError(target.string() + ": cannot create a temporary file beside it: " +
                    std::strerror(errno));
    path_ = buffer.data();
    // mkstemp creates the file private (0600); a saved image or model is an ordinary user file.
    ::fchmod(fd_, 0644);
  }
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  void write(std::span<const std::byte> bytes) {
    const std::byte* data = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
      const ssize_t written = ::write(fd_, data, left);
      if (written < 0) {
        if (errno == EINTR) continue;
        fail("cannot write");
      }
      data += written;
      left -= static_cast<std::size_t>(written);
    }
  }

  void commit() {
    if (::fsync(fd_) != 0) fail("cannot flush to disk");
    if (::close(fd_) != 0) {
      fd_ = -1;
      fail("cannot close");
    }
    fd_ = -1;
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

void writeFileAtomically(const std::filesystem::path& path,
                         const std::function<void(const ByteSink&)>& produce) {
  TemporaryFile file(path);
  produce([&](std::span<const std::byte> bytes) { file.write(bytes); });
  file.commit();
}

}  // namespace respo::io

namespace respo::io {

void writeTextFileAtomically(const std::filesystem::path& path, std::string_view text) {
  writeFileAtomically(path, [&](const ByteSink& sink) { sink(std::as_bytes(std::span(text.data(), text.size()))); });
}

std::string readTextFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(path.string() + ": cannot open: " + std::strerror(errno));
  std::string content;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      throw IoError(path.string() + ": cannot read: " + std::strerror(saved));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

}  // namespace respo::io
