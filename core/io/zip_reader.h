#pragma once
// A read-only zip reader for the containers torch.save writes: STORED (uncompressed) entries, with
// the zip64 records torch adds to large files. Compressed or encrypted entries are refused with a
// FormatError, as are truncated or inconsistent archives. The file is read into memory once (up to
// kMaxZipBytes); entry data are views into that copy, checked against their CRC-32 when read.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>


namespace respo::io {

struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;       // 0 = stored; anything else is refused when read
  bool encrypted = false;         // refused when read
  std::uint32_t crc32 = 0;
  std::uint64_t size = 0;         // uncompressed size
  std::uint64_t storedSize = 0;   // size inside the archive
  std::uint64_t dataOffset = 0;   // where the entry's bytes start in the file
};

class ZipArchive {
 public:
  // Reference checkpoints are megabytes; a larger file is refused before it is read.
  static constexpr std::size_t kMaxZipBytes = std::size_t{1} << 30;

  // Maps the file and reads its central directory. Throws IoError (cannot read) or FormatError.
  static ZipArchive open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr when absent.
  const ZipEntry* find(const std::string& name) const;
  // The bytes of a stored entry (a view into the archive's memory, valid while it lives). Throws
  // FormatError for compressed entries and for data whose CRC-32 does not match.
  std::span<const std::byte> read(const ZipEntry& entry) const;

 private:
  std::filesystem::path path_;
  std::shared_ptr<const std::string> bytes_;
  std::vector<ZipEntry> entries_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace respo::io
