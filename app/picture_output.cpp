#include "app/picture_output.h"

#include <cctype>
#include <cstdint>
#include <vector>

#ifdef RESPODIFF_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "app/command_line.h"
#include "core/common/utf8.h"

namespace respo::app {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void put16(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 8 & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v >> 16);
  put16(out, v & 0xffff);
}
void put32le(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
}

// "Exif\0\0" + a big-endian TIFF with IFD0 -> Exif IFD -> UserComment ("UNICODE\0" + UTF-16BE).
std::string exifWithUserComment(const std::string& text) {
  std::string comment = std::string("UNICODE", 7) + '\0';
  for (char32_t c : decodeUtf8(text)) {
    if (c >= 0x10000) {
      const char32_t v = c - 0x10000;
      put16(comment, 0xD800 + (v >> 10));
      put16(comment, 0xDC00 + (v & 0x3FF));
    } else {
      put16(comment, c);
    }
  }
  std::string tiff = "MM";
  put16(tiff, 42);
  put32(tiff, 8);
  put16(tiff, 1);        // IFD0: one entry
  put16(tiff, 0x8769);   // Exif IFD pointer
  put16(tiff, 4);        // LONG
  put32(tiff, 1);
  put32(tiff, 26);       // where the Exif IFD starts
  put32(tiff, 0);        // no next IFD
  put16(tiff, 1);        // Exif IFD: one entry
  put16(tiff, 0x9286);   // UserComment
  put16(tiff, 7);        // UNDEFINED
  put32(tiff, static_cast<std::uint32_t>(comment.size()));
  put32(tiff, 44);       // where the comment starts
  put32(tiff, 0);
  return std::string("Exif\0\0", 6) + tiff + comment;
}

#ifdef RESPODIFF_WITH_OPENCV
std::string encodeWithOpenCv(const io::RgbImage& image, const std::string& extension) {
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<int> params = extension == ".webp" ? std::vector<int>{cv::IMWRITE_WEBP_QUALITY, 95}
                                                 : std::vector<int>{cv::IMWRITE_JPEG_QUALITY, 95};
  std::vector<std::uint8_t> bytes;
  if (!cv::imencode(extension == ".webp" ? ".webp" : ".jpg", bgr, bytes, params))
    throw IoError("cannot encode the picture as " + extension);
  return std::string(bytes.begin(), bytes.end());
}
#endif

std::string jpegWithExif(const std::string& jpeg, const std::string& exif) {
  if (jpeg.size() < 2 || static_cast<unsigned char>(jpeg[0]) != 0xFF || static_cast<unsigned char>(jpeg[1]) != 0xD8)
    throw IoError("the JPEG encoder wrote no JPEG");
  if (exif.size() + 2 > 0xFFFF) throw InvalidArgument("the parameters text is too long for a JPEG's EXIF (64 KB)");
  std::string segment = "\xFF\xE1";
  put16(segment, static_cast<std::uint32_t>(exif.size() + 2));
  return jpeg.substr(0, 2) + segment + exif + jpeg.substr(2);
}

// RIFF "WEBP" with a VP8X header (EXIF flag, canvas size), the encoder's image chunk, and "EXIF".
std::string webpWithExif(const std::string& webp, const std::string& exif, int width, int height) {
  if (webp.size() < 20 || webp.compare(0, 4, "RIFF") != 0 || webp.compare(8, 4, "WEBP") != 0)
    throw IoError("the WebP encoder wrote no WebP");
  const std::string image = webp.substr(12);  // VP8 or VP8L chunk (simple format)
  std::string vp8x = "VP8X";
  put32le(vp8x, 10);
  vp8x.push_back(0x08);  // EXIF present
  vp8x.append(3, '\0');
  for (int v : {width - 1, height - 1})
    for (int i = 0; i < 3; ++i) vp8x.push_back(static_cast<char>(v >> (8 * i) & 0xff));
  const std::string payload = exif.substr(6);  // WebP's EXIF chunk holds the TIFF without "Exif\0\0"
  std::string chunk = "EXIF";
  put32le(chunk, static_cast<std::uint32_t>(payload.size()));
  chunk += payload;
  if (payload.size() % 2) chunk.push_back('\0');
  std::string body = "WEBP" + vp8x + image + chunk;
  std::string out = "RIFF";
  put32le(out, static_cast<std::uint32_t>(body.size()));
  return out + body;
}

}  // namespace

bool pictureFormatOffered(const std::string& extension) {
  const auto e = lower(extension);
#ifdef RESPODIFF_WITH_OPENCV
  if (e == ".jpg" || e == ".jpeg" || e == ".webp") return true;
#endif
  return e == ".png";
}

std::string encodePicture(const io::RgbImage& image, const std::string& parameters, const std::string& extension) {
  const auto e = lower(extension);
  if (e == ".png") return io::encodePng(image, {{"parameters", parameters}});
#ifdef RESPODIFF_WITH_OPENCV
  if (e == ".jpg" || e == ".jpeg") return jpegWithExif(encodeWithOpenCv(image, ".jpg"), exifWithUserComment(parameters));
  if (e == ".webp")
    return webpWithExif(encodeWithOpenCv(image, ".webp"), exifWithUserComment(parameters), image.width, image.height);
  throw UsageError("cannot write '" + extension + "' pictures: name the file .png, .jpg, .jpeg or .webp");
#else
  throw UsageError("cannot write '" + extension + "' pictures: this build writes .png only");
#endif
}

}  // namespace respo::app
