#pragma once
// A read-only view of a whole file, memory-mapped copy-on-write: tensors may point straight into
// it, and a caller that writes into such a tensor changes only its private copy of that page.
//
// A mapped file that another program truncates while it is mapped makes the vanished pages
// unreadable: touching them raises SIGBUS. Every copy out of a mapping goes through copyOut(),
// which turns that into an IoError naming the file. Views handed to LibTorch (the low-memory mode)
// cannot be guarded this way; that mode assumes the files stay as they are while in use.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

namespace respo::io {

class MappedFile {
 public:
  // Throws IoError naming the file and the OS reason; refuses what is not a regular file.
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<std::byte> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // Copies `source` (inside this mapping) to `target`; IoError when the file shrank underneath.
  void copyOut(void* target, std::span<const std::byte> source) const;
  // Drops the resident pages wholly inside `range` (they are re-read from the file if touched again).
  // Used after copying a tensor out, so copying a large file does not hold it in memory twice.
  void releasePages(std::span<const std::byte> range) const;

 private:
  MappedFile(std::filesystem::path path, std::byte* data, std::size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::filesystem::path path_;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace respo::io
