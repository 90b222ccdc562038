#include <zlib.h>

#include <array>
#include <cstdlib>
#include <cstring>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
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
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3)
    throw InvalidArgument(path.string() + ": image has no pixels or the wrong number of them");
  std::string png(kSignature.begin(), kSignature.end());
  std::string header;
  put32(header, static_cast<std::uint32_t>(image.width));
  put32(header, static_cast<std::uint32_t>(image.height));
  header += std::string{8, 2, 0, 0, 0};  // 8-bit, truecolour, deflate, adaptive filter, no interlace
  chunk(png, "IHDR", header);
  for (const auto& [key, value] : text) {
    if (key.empty() || key.size() > 79) throw InvalidArgument("PNG text key must be 1-79 characters");
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
  writeTextFileAtomically(path, png);
}

RgbImage readPng(const std::filesystem::path& path, std::map<std::string, std::string>* text) {
  const std::string file = readTextFile(path);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(file.data());
  auto fail = [&](const std::string& why) -> RgbImage { throw FormatError(path.string() + ": " + why); };
  if (file.size() < 8 || std::memcmp(bytes, kSignature.data(), 8) != 0) return fail("not a PNG file");
  std::size_t pos = 8;
  int width = 0, height = 0, colorType = -1, channels = 0;
  std::string compressed;
  while (pos + 12 <= file.size()) {
    const std::uint32_t length = get32(bytes + pos);
    if (length > file.size() - pos - 12) return fail("truncated chunk");
    const std::string type(file.data() + pos + 4, 4);
    const std::string data(file.data() + pos + 8, length);
    pos += 12 + length;
    if (type == "IHDR") {
      if (length != 13) return fail("bad header");
      width = static_cast<int>(get32(bytes + 16)), height = static_cast<int>(get32(bytes + 20));
      const int depth = data[8];
      colorType = data[9];
      if (depth != 8 || data[12] != 0) return fail("only 8-bit non-interlaced PNGs are supported");
      channels = colorType == 2 ? 3 : colorType == 6 ? 4 : colorType == 0 ? 1 : colorType == 4 ? 2 : 0;
      if (channels == 0) return fail("palette PNGs are not supported");
      if (width <= 0 || height <= 0 || static_cast<long long>(width) * height > (1LL << 28)) return fail("bad size");
    } else if (type == "IDAT") {
      compressed += data;
    } else if (text && (type == "tEXt" || type == "iTXt")) {
      const auto zero = data.find('\0');
      if (zero == std::string::npos) continue;
      const std::string key = data.substr(0, zero);
      if (type == "tEXt") {
        (*text)[key] = data.substr(zero + 1);
      } else {  // key\0 flag method language\0 translated\0 text (uncompressed only)
        if (zero + 2 >= data.size() || data[zero + 1] != 0) continue;
        const auto lang = data.find('\0', zero + 3);
        const auto translated = lang == std::string::npos ? lang : data.find('\0', lang + 1);
        if (translated != std::string::npos) (*text)[key] = data.substr(translated + 1);
      }
    } else if (type == "IEND") {
      break;
    }
  }
  if (channels == 0) return fail("missing header");
  const std::size_t stride = static_cast<std::size_t>(width) * channels;
  std::string raw((stride + 1) * height, '\0');
  uLongf rawSize = static_cast<uLongf>(raw.size());
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &rawSize, reinterpret_cast<const Bytef*>(compressed.data()),
                 static_cast<uLong>(compressed.size())) != Z_OK || rawSize != raw.size())
    return fail("corrupt image data");
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
