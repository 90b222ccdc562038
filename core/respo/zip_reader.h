#pragma once
// A read-only zip reader for the containers torch.save writes: STORED (uncompressed) entries, with
// the zip64 records torch adds to large files. Compressed or encrypted entries are refused with a
// FormatError, as are truncated or inconsistent archives. The file is memory-mapped; entry data are
// views into the mapping (checked against their CRC-32 when read).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/io/mapped_file.h"

namespace respo::concepts {

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
  // Maps the file and reads its central directory. Throws IoError (cannot read) or FormatError.
  static ZipArchive open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_->path(); }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr when absent.
  const ZipEntry* find(const std::string& name) const;
  // The bytes of a stored entry (a view into the mapping, valid while mapping() lives). Throws
  // FormatError for compressed entries and for data whose CRC-32 does not match.
  std::span<const std::byte> read(const ZipEntry& entry) const;
  const std::shared_ptr<io::MappedFile>& mapping() const { return file_; }

 private:
  std::shared_ptr<io::MappedFile> file_;
  std::vector<ZipEntry> entries_;
};

}  // namespace respo::concepts
