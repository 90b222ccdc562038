#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include "core/common/error.h"
#include "core/common/utf8.h"
#include "core/io/atomic_file.h"
#include "core/io/read_file.h"
#include "core/io/image.h"

namespace respo::io {
namespace {

constexpr std::array<std::uint8_t, 8> kSignature{137, 80, 78, 71, 13, 10, 26, 10};

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, static_cast<std::uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put32(out, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

std::string deflate(const std::string& raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 6) != Z_OK)
    throw Error("PNG: compression failed");
  out.resize(size);
  return out;
}

bool isLatin1Printable(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

}  // namespace

void writePng(const std::filesystem::path& path, const RgbImage& image, const std::map<std::string, std::string>& text) {
  try {
    writeTextFileAtomically(path, encodePng(image, text));
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(path.string() + ": " + e.what());
  }
}

std::string encodePng(const RgbImage& image, const std::map<std::string, std::string>& text) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3)
    throw InvalidArgument("image has no pixels or the wrong number of them");
  std::string png(kSignature.begin(), kSignature.end());
  std::string header;
  put32(header, static_cast<std::uint32_t>(image.width));
  put32(header, static_cast<std::uint32_t>(image.height));
  header += std::string{8, 2, 0, 0, 0};  // 8-bit, truecolour, deflate, adaptive filter, no interlace
  chunk(png, "IHDR", header);
  for (const auto& [key, value] : text) {
    if (key.empty() || key.size() > 79 || !isLatin1Printable(key))
      throw InvalidArgument("PNG text key must be 1-79 ASCII characters");
    if (!isValidUtf8(value)) throw InvalidArgument("PNG text '" + key + "' is not valid UTF-8");
    if (isLatin1Printable(value)) chunk(png, "tEXt", key + '\0' + value);
    else chunk(png, "iTXt", key + std::string{'\0', '\0', '\0', '\0', '\0'} + value);
  }
  std::string raw;
  const std::size_t stride = static_cast<std::size_t>(image.width) * 3;
  raw.reserve((stride + 1) * image.height);
  for (int y = 0; y < image.height; ++y) {
    raw.push_back('\0');  // filter: none
    raw.append(reinterpret_cast<const char*>(image.pixels.data() + y * stride), stride);
  }
  chunk(png, "IDAT", deflate(raw));
  chunk(png, "IEND", "");
  return png;
}

namespace {

// Limits for PNGs we read: pictures of up to 64 megapixels, 256 MB files, and text chunks that
// together hold at most 1 MB (a parameters text is a few hundred bytes).
constexpr std::size_t kMaxPngBytes = 256u << 20;
constexpr std::uint64_t kMaxPixels = std::uint64_t{1} << 26;
constexpr std::size_t kMaxTextBytes = 1u << 20;

std::string latin1ToUtf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size());
  for (const unsigned char c : latin1) appendUtf8(out, c);
  return out;
}

struct PngChunks {
  int width = 0, height = 0, channels = 0;
  std::string compressed;
  std::map<std::string, std::string> text;
};

// Walks the chunks (CRCs checked, IHDR first, sizes bounded). Image data is collected only when
// `withPixels`.
PngChunks readChunks(const std::filesystem::path& path, bool withPixels) {
  const std::string file = readFile(path, kMaxPngBytes);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(file.data());
  auto fail = [&](const std::string& why) { throw FormatError(path.string() + ": " + why); };
  if (file.size() < 8 || std::memcmp(bytes, kSignature.data(), 8) != 0) fail("not a PNG file");
  PngChunks out;
  std::size_t pos = 8, textBytes = 0;
  bool header = false, ended = false;
  while (!ended) {
    if (pos + 12 > file.size()) fail("truncated (the file ends before its IEND chunk)");
    const std::uint32_t length = get32(bytes + pos);
    if (length > file.size() - pos - 12) fail("truncated chunk");
    const std::string type(file.data() + pos + 4, 4);
    const std::string_view data(file.data() + pos + 8, length);
    const auto crc = static_cast<std::uint32_t>(crc32(0, bytes + pos + 4, length + 4));
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION  // fuzzers mutate chunk bodies; let them past the CRC
    if (crc != get32(bytes + pos + 8 + length)) fail("chunk '" + type + "' is corrupt (CRC mismatch)");
#else
    (void)crc;
#endif
    pos += 12 + length;
    if (!header && type != "IHDR") fail("the first chunk is not IHDR");
    if (type == "IHDR") {
      if (header) fail("has two IHDR chunks");
      header = true;
      if (length != 13) fail("bad header");
      const auto* h = reinterpret_cast<const std::uint8_t*>(data.data());
      const std::uint32_t width = get32(h), height = get32(h + 4);
      const int depth = h[8], colorType = h[9];
      if (depth != 8 || h[12] != 0) fail("only 8-bit non-interlaced PNGs are supported");
      out.channels = colorType == 2 ? 3 : colorType == 6 ? 4 : colorType == 0 ? 1 : colorType == 4 ? 2 : 0;
      if (out.channels == 0) fail("palette PNGs are not supported");
      if (width == 0 || height == 0 || width > 65535 || height > 65535 ||
          std::uint64_t{width} * height > kMaxPixels)
        fail("size " + std::to_string(width) + "x" + std::to_string(height) + " is not supported (at most 64 megapixels)");
      out.width = static_cast<int>(width), out.height = static_cast<int>(height);
    } else if (type == "IDAT") {
      if (withPixels) out.compressed.append(data);
    } else if (type == "tEXt" || type == "iTXt") {
      textBytes += length;
      if (textBytes > kMaxTextBytes) fail("its text chunks hold more than 1 MB");
      const auto zero = data.find('\0');
      if (zero == std::string_view::npos || zero == 0 || zero > 79) continue;  // malformed key: ignored
      const std::string key = latin1ToUtf8(data.substr(0, zero));
      if (type == "tEXt") {
        out.text[key] = latin1ToUtf8(data.substr(zero + 1));
      } else {  // key\0 flag method language\0 translated\0 text (uncompressed only)
        if (zero + 2 >= data.size() || data[zero + 1] != 0) continue;
        const auto lang = data.find('\0', zero + 3);
        const auto translated = lang == std::string_view::npos ? lang : data.find('\0', lang + 1);
        if (translated == std::string_view::npos) continue;
        const auto value = data.substr(translated + 1);
        if (isValidUtf8(value)) out.text[key] = std::string(value);
      }
    } else if (type == "IEND") {
      ended = true;
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> readPngText(const std::filesystem::path& path) {
  return readChunks(path, false).text;
}

RgbImage readPng(const std::filesystem::path& path, std::map<std::string, std::string>* text) {
  PngChunks png = readChunks(path, true);
  auto fail = [&](const std::string& why) -> RgbImage { throw FormatError(path.string() + ": " + why); };
  const int width = png.width, height = png.height, channels = png.channels;
  const std::size_t stride = static_cast<std::size_t>(width) * channels;
  // Inflate into a buffer of exactly the size the header promises, and no further: a small file
  // claiming a huge picture fails as soon as its data runs out, a deflate bomb as soon as it overflows.
  const std::size_t expected = (stride + 1) * static_cast<std::size_t>(height);
  std::string raw;
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) return fail("cannot start decompression");
  stream.next_in = reinterpret_cast<Bytef*>(png.compressed.data());
  stream.avail_in = static_cast<uInt>(png.compressed.size());
  int status = Z_OK;
  while (status == Z_OK) {
    const std::size_t have = raw.size();
    const std::size_t grow = std::min<std::size_t>(std::max<std::size_t>(have, 1u << 16), expected + 1 - have);
    if (grow == 0) break;
    raw.resize(have + grow);
    stream.next_out = reinterpret_cast<Bytef*>(raw.data() + have);
    stream.avail_out = static_cast<uInt>(grow);
    status = inflate(&stream, Z_NO_FLUSH);
    raw.resize(have + grow - stream.avail_out);
    if (status == Z_BUF_ERROR && stream.avail_in == 0) break;  // the data ran out
    if (raw.size() > expected) break;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END || raw.size() != expected) return fail("corrupt image data");
  std::vector<std::uint8_t> rows(stride * height);
  std::vector<std::uint8_t> previous(stride, 0);
  for (int y = 0; y < height; ++y) {
    const auto filter = static_cast<std::uint8_t>(raw[y * (stride + 1)]);
    auto* line = reinterpret_cast<std::uint8_t*>(raw.data()) + y * (stride + 1) + 1;
    for (std::size_t x = 0; x < stride; ++x) {
      const int a = x >= static_cast<std::size_t>(channels) ? line[x - channels] : 0;
      const int b = previous[x];
      const int c = x >= static_cast<std::size_t>(channels) ? previous[x - channels] : 0;
      int predicted = 0;
      switch (filter) {
        case 0: predicted = 0; break;
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: return fail("bad filter type");
      }
      line[x] = static_cast<std::uint8_t>(line[x] + predicted);
    }
    std::memcpy(rows.data() + y * stride, line, stride);
    std::memcpy(previous.data(), line, stride);
  }
  RgbImage image{width, height, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3)};
  for (std::size_t i = 0; i < static_cast<std::size_t>(width) * height; ++i)
    for (int k = 0; k < 3; ++k)
      image.pixels[i * 3 + k] = rows[i * channels + (channels >= 3 ? k : 0)];
  if (text) *text = std::move(png.text);
  return image;
}

RgbImage sideBySide(const std::vector<RgbImage>& images, int gap) {
  if (images.empty()) return {};
  int width = 0;
  const int height = images[0].height;
  for (const auto& im : images) {
    if (im.height != height) throw InvalidArgument("side-by-side images must have the same height");
    width += im.width;
  }
  width += gap * static_cast<int>(images.size() - 1);
  RgbImage out{width, height, std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3, 255)};
  int x0 = 0;
  for (const auto& im : images) {
    for (int y = 0; y < height; ++y)
      std::memcpy(out.pixels.data() + (static_cast<std::size_t>(y) * width + x0) * 3,
                  im.pixels.data() + static_cast<std::size_t>(y) * im.width * 3, static_cast<std::size_t>(im.width) * 3);
    x0 += im.width + gap;
  }
  return out;
}

}  // namespace respo::io
