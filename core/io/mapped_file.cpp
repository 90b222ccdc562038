#include "core/io/mapped_file.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <atomic>
#include <mutex>

#include "core/common/error.h"
#include "core/io/read_file.h"

namespace respo::io {
namespace {

// SIGBUS while this thread copies out of a mapping jumps back to the copy; any other SIGBUS goes
// to whoever handled it before us (by default: the process dies, as it would have anyway).
// volatile, and fenced around the copy: the compiler knows memcpy never reads this pointer and would
// otherwise drop the store before the copy as dead.
thread_local sigjmp_buf* volatile activeCopy = nullptr;
struct sigaction previousAction {};

void onBusError(int signal, siginfo_t* info, void* context) {
  if (activeCopy) siglongjmp(*activeCopy, 1);
  if (previousAction.sa_flags & SA_SIGINFO) {
    if (previousAction.sa_sigaction) return previousAction.sa_sigaction(signal, info, context);
  } else if (previousAction.sa_handler != SIG_DFL && previousAction.sa_handler != SIG_IGN) {
    return previousAction.sa_handler(signal);
  }
  ::signal(SIGBUS, SIG_DFL);
  ::raise(SIGBUS);
}

void installBusErrorHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = onBusError;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &previousAction);
  });
}

}  // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::filesystem::path& path) {
  std::size_t size = 0;
  const int fd = openRegularFile(path, size);
  std::byte* data = nullptr;
  if (size > 0) {
    void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      const int saved = errno;
      ::close(fd);
      throw IoError(path.string() + ": cannot map into memory: " + std::strerror(saved));
    }
    data = static_cast<std::byte*>(mapped);
  }
  ::close(fd);  // the mapping keeps the file alive
  installBusErrorHandler();
  return std::shared_ptr<MappedFile>(new MappedFile(path, data, size));
}

void MappedFile::copyOut(void* target, std::span<const std::byte> source) const {
  sigjmp_buf jump;
  sigjmp_buf* const outer = activeCopy;
  if (sigsetjmp(jump, 1) != 0) {
    activeCopy = outer;
    throw IoError(path_.string() + ": the file changed (it was truncated or replaced) while it was being read");
  }
  activeCopy = &jump;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(target, source.data(), source.size());
  std::atomic_signal_fence(std::memory_order_seq_cst);
  activeCopy = outer;
}

void MappedFile::releasePages(std::span<const std::byte> range) const {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto begin = reinterpret_cast<std::uintptr_t>(range.data());
  auto end = begin + range.size();
  const auto lo = reinterpret_cast<std::uintptr_t>(data_), hi = lo + size_;
  if (begin < lo || end > hi) return;  // not ours
  begin = (begin + page - 1) / page * page;
  end = end / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

}  // namespace respo::io
