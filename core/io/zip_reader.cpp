#include "core/io/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/common/error.h"
#include "core/io/read_file.h"

namespace respo::io {
namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEndOfDirectory = 0x06054b50;
constexpr std::uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::uint32_t kSaturated32 = 0xFFFFFFFFu;
constexpr std::uint16_t kSaturated16 = 0xFFFFu;

// Little-endian fields of the mapped file, every read bounds-checked.
class Reader {
 public:
  Reader(std::span<const std::byte> bytes, std::string file) : bytes_(bytes), file_(std::move(file)) {}
  std::uint64_t size() const { return bytes_.size(); }
  std::uint64_t get(std::uint64_t offset, int width, const char* what) const {
    check(offset, static_cast<std::uint64_t>(width), what);
    std::uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | std::to_integer<std::uint8_t>(bytes_[offset + i]);
    return value;
  }
  std::uint16_t u16(std::uint64_t offset, const char* what) const { return static_cast<std::uint16_t>(get(offset, 2, what)); }
  std::uint32_t u32(std::uint64_t offset, const char* what) const { return static_cast<std::uint32_t>(get(offset, 4, what)); }
  std::uint64_t u64(std::uint64_t offset, const char* what) const { return get(offset, 8, what); }
  std::string text(std::uint64_t offset, std::uint64_t length, const char* what) const {
    check(offset, length, what);
    return std::string(reinterpret_cast<const char*>(bytes_.data() + offset), length);
  }
  void check(std::uint64_t offset, std::uint64_t length, const char* what) const {
    if (offset > bytes_.size() || length > bytes_.size() - offset)
      fail(std::string(what) + " runs past the end of the file (the archive is truncated or corrupt)");
  }
  [[noreturn]] void fail(const std::string& message) const { throw FormatError(file_ + ": " + message); }

 private:
  std::span<const std::byte> bytes_;
  std::string file_;
};

struct Directory {
  std::uint64_t count = 0, size = 0, offset = 0;
};

// Finds the end-of-central-directory record (and its zip64 twin when present).
Directory findDirectory(const Reader& in) {
  if (in.size() < 22) in.fail("too short to be a zip archive (" + std::to_string(in.size()) + " bytes)");
  const std::uint64_t lowest = in.size() > 22 + 65535 ? in.size() - 22 - 65535 : 0;
  std::uint64_t end = in.size() - 22;
  for (;; --end) {
    if (in.u32(end, "end record") == kEndOfDirectory && end + 22 + in.u16(end + 20, "comment length") == in.size()) break;
    if (end == lowest)
      in.fail("no end-of-central-directory record: the zip archive is truncated or this is not a zip file");
  }
  if (in.u16(end + 4, "disk number") != 0 || in.u16(end + 6, "directory disk") != 0)
    in.fail("multi-volume zip archives are not supported");
  Directory dir{in.u16(end + 10, "entry count"), in.u32(end + 12, "directory size"), in.u32(end + 16, "directory offset")};
  const bool saturated = dir.count == kSaturated16 || dir.size == kSaturated32 || dir.offset == kSaturated32;
  if (end >= 20 && in.u32(end - 20, "zip64 locator") == kZip64Locator) {
    const std::uint64_t at = in.u64(end - 12, "zip64 end record offset");
    if (in.u32(at, "zip64 end record") != kZip64EndOfDirectory)
      in.fail("the zip64 locator points at " + std::to_string(at) + ", where there is no zip64 end record");
    dir = {in.u64(at + 32, "zip64 entry count"), in.u64(at + 40, "zip64 directory size"),
           in.u64(at + 48, "zip64 directory offset")};
  } else if (saturated) {
    in.fail("the end record needs zip64 values but there is no zip64 end record");
  }
  in.check(dir.offset, dir.size, "the central directory");
  return dir;
}

// Applies a zip64 extended-information extra field to the values the header saturated.
void applyZip64(const Reader& in, std::uint64_t extra, std::uint64_t extraEnd, ZipEntry& entry,
                std::uint64_t& localOffset, bool needSize, bool needStored, bool needOffset) {
  while (extra + 4 <= extraEnd) {
    const std::uint16_t id = in.u16(extra, "extra field"), length = in.u16(extra + 2, "extra field");
    if (extra + 4 + length > extraEnd) in.fail("entry '" + entry.name + "': extra field runs past its header");
    if (id == 0x0001) {
      std::uint64_t at = extra + 4;
      const std::uint64_t stop = at + length;
      auto next = [&](std::uint64_t& value) {
        if (at + 8 > stop) in.fail("entry '" + entry.name + "': zip64 extra field is too short");
        value = in.u64(at, "zip64 extra field");
        at += 8;
      };
      if (needSize) next(entry.size);
      if (needStored) next(entry.storedSize);
      if (needOffset) next(localOffset);
      return;
    }
    extra += 4 + length;
  }
  if (needSize || needStored || needOffset) in.fail("entry '" + entry.name + "': saturated sizes without a zip64 extra field");
}

const char* methodName(std::uint16_t method) {
  switch (method) {
    case 8: return "deflate";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case 93: return "zstd";
    case 95: return "xz";
    default: return "unknown";
  }
}

}  // namespace

ZipArchive ZipArchive::open(const std::filesystem::path& path) {
  ZipArchive archive;
  archive.path_ = path;
  archive.bytes_ = std::make_shared<const std::string>(readFile(path, kMaxZipBytes));
  const Reader in(std::as_bytes(std::span(archive.bytes_->data(), archive.bytes_->size())), path.string());
  const Directory dir = findDirectory(in);
  std::set<std::string> seen;
  std::uint64_t at = dir.offset;
  const std::uint64_t directoryEnd = dir.offset + dir.size;
  for (std::uint64_t i = 0; i < dir.count; ++i) {
    if (at + 46 > directoryEnd || in.u32(at, "central directory entry") != kCentralHeader)
      in.fail("central directory entry " + std::to_string(i) + " of " + std::to_string(dir.count) + " is missing or damaged");
    ZipEntry entry;
    const std::uint16_t flags = in.u16(at + 8, "flags");
    entry.encrypted = (flags & 1u) != 0;
    entry.method = in.u16(at + 10, "method");
    entry.crc32 = in.u32(at + 16, "crc");
    entry.storedSize = in.u32(at + 20, "compressed size");
    entry.size = in.u32(at + 24, "size");
    const std::uint16_t nameLength = in.u16(at + 28, "name length"), extraLength = in.u16(at + 30, "extra length"),
                        commentLength = in.u16(at + 32, "comment length");
    std::uint64_t localOffset = in.u32(at + 42, "local header offset");
    entry.name = in.text(at + 46, nameLength, "entry name");
    const std::uint64_t extra = at + 46 + nameLength;
    if (extra + extraLength + commentLength > directoryEnd) in.fail("entry '" + entry.name + "' runs past the central directory");
    applyZip64(in, extra, extra + extraLength, entry, localOffset, entry.size == kSaturated32,
               entry.storedSize == kSaturated32, localOffset == kSaturated32);
    if (!seen.insert(entry.name).second) in.fail("entry '" + entry.name + "' appears twice");
    // The local header repeats the name; its extra field (torch's alignment padding) may differ.
    if (in.u32(localOffset, "local header") != kLocalHeader)
      in.fail("entry '" + entry.name + "': no local header at offset " + std::to_string(localOffset));
    if (in.text(localOffset + 30, in.u16(localOffset + 26, "local name length"), "local name") != entry.name)
      in.fail("entry '" + entry.name + "': the local header names a different file");
    entry.dataOffset = localOffset + 30 + nameLength + in.u16(localOffset + 28, "local extra length");
    in.check(entry.dataOffset, entry.storedSize, ("the data of entry '" + entry.name + "'").c_str());
    archive.index_.emplace(entry.name, archive.entries_.size());
    archive.entries_.push_back(std::move(entry));
    at = extra + extraLength + commentLength;
  }
  return archive;
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  const auto found = index_.find(name);
  return found == index_.end() ? nullptr : &entries_[found->second];
}

std::span<const std::byte> ZipArchive::read(const ZipEntry& entry) const {
  const std::string where = path().string() + ": entry '" + entry.name + "'";
  if (entry.encrypted) throw FormatError(where + " is encrypted; encrypted archives are not supported");
  if (entry.method != 0)
    throw FormatError(where + " is compressed (method " + std::to_string(entry.method) + ", " + methodName(entry.method) +
                      "); torch.save writes uncompressed (stored) entries, so the archive was repacked by another "
                      "tool: extract it and re-save it with torch.save");
  if (entry.storedSize != entry.size)
    throw FormatError(where + " is stored but its sizes disagree (" + std::to_string(entry.storedSize) + " vs " +
                      std::to_string(entry.size) + ")");
  const std::span<const std::byte> data(reinterpret_cast<const std::byte*>(bytes_->data()) + entry.dataOffset, entry.size);
  const auto crc = static_cast<std::uint32_t>(
      crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), data.size()));
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION  // fuzzers mutate entry bytes; let them past the CRC
  if (false) {
#else
  if (crc != entry.crc32) {
#endif
    char detail[64];
    std::snprintf(detail, sizeof detail, "%08x, expected %08x", crc, entry.crc32);
    throw FormatError(where + " is corrupt (CRC-32 " + detail + ")");
  }
  return data;
}

}  // namespace respo::io
