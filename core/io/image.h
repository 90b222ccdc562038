#pragma once
// Plain 8-bit RGB images, the form in which pictures leave the engine (to files, to the UI), and a
// PNG writer that stores text chunks (the "parameters" chunk other SD front ends read).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace respo::io {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // row-major, 3 bytes per pixel
  bool empty() const { return pixels.empty(); }
};

// Written atomically. Text chunks are tEXt when Latin-1 is enough, iTXt (UTF-8) otherwise.
void writePng(const std::filesystem::path& path, const RgbImage& image,
              const std::map<std::string, std::string>& text = {});
// The PNG file's bytes (what writePng writes); InvalidArgument for an empty image or bad text.
std::string encodePng(const RgbImage& image, const std::map<std::string, std::string>& text = {});
// Reads an 8-bit RGB/RGBA/grey PNG (non-interlaced) and its text chunks (as UTF-8; tEXt is Latin-1
// in the file); FormatError when malformed. Bounded: at most 64 megapixels, 256 MB files, 1 MB of
// text, CRCs checked; nothing larger than the header promises is ever decompressed.

RgbImage readPng(const std::filesystem::path& path, std::map<std::string, std::string>* text = nullptr);
// Only the text chunks (the image data is not decompressed): what restoring settings needs.
std::map<std::string, std::string> readPngText(const std::filesystem::path& path);

// Images side by side (same height), separated by `gap` white pixels.
RgbImage sideBySide(const std::vector<RgbImage>& images, int gap = 8);

}  // namespace respo::io
