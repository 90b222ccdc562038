#include "core/io/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json.h"

namespace respo::io {
namespace {

const char* fileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a pipe (FIFO)";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string megabytes(std::size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MB"; }

struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

int openRegularFile(const std::filesystem::path& path, std::size_t& size) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw IoError(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int saved = errno;
    ::close(fd);
    throw IoError(path.string() + ": cannot read its size: " + std::strerror(saved));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw IoError(path.string() + ": cannot read: it is " + fileKind(info.st_mode) + ", not a file");
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  size = static_cast<std::size_t>(info.st_size);
  return fd;
}

std::string readHead(const std::filesystem::path& path, std::size_t count) {
  std::size_t size = 0;
  Descriptor file{openRegularFile(path, size)};
  std::string head(std::min(size, count), '\0');
  std::size_t done = 0;
  while (done < head.size()) {
    const ssize_t n = ::read(file.fd, head.data() + done, head.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(path.string() + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  head.resize(done);
  return head;
}

std::string readFile(const std::filesystem::path& path, std::size_t maxBytes) {
  std::size_t size = 0;
  Descriptor file{openRegularFile(path, size)};
  if (size > maxBytes)
    throw IoError(path.string() + ": is " + megabytes(size) + ", more than the " + megabytes(maxBytes) +
                  " a file of this kind may have");
  std::string content;
  content.reserve(size);
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(file.fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path.string() + ": cannot read: " + std::strerror(errno));
    }
    if (n == 0) break;
    if (content.size() + static_cast<std::size_t>(n) > maxBytes)  // it grew while we read
      throw IoError(path.string() + ": is more than the " + megabytes(maxBytes) + " a file of this kind may have");
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

nlohmann::json readJsonFile(const std::filesystem::path& path, std::size_t maxBytes) {
  return json::parse(readFile(path, maxBytes), path.string());
}

std::string readGzipFile(const std::filesystem::path& path, std::size_t maxBytes) {
  std::size_t size = 0;
  const int fd = openRegularFile(path, size);
  gzFile file = gzdopen(fd, "rb");
  if (!file) {
    ::close(fd);
    throw IoError(path.string() + ": cannot open");
  }
  std::string content;
  char buffer[1 << 16];
  int n = 0;
  bool tooLarge = false;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) {
    if (content.size() + static_cast<std::size_t>(n) > maxBytes) {
      tooLarge = true;
      break;
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  int error = Z_OK;
  const char* message = gzerror(file, &error);
  const bool failed = !tooLarge && (n < 0 || (error != Z_OK && error != Z_STREAM_END));
  const std::string reason = failed && message ? message : "";
  gzclose(file);  // closes fd too
  if (tooLarge)
    throw FormatError(path.string() + ": expands to more than " + megabytes(maxBytes) +
                      " when decompressed, more than a file of this kind holds");
  if (failed) throw FormatError(path.string() + ": not a readable gzip file (" + reason + ")");
  return content;
}

}  // namespace respo::io
