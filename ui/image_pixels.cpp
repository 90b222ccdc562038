#include "ui/image_pixels.h"

#include <cstring>

namespace respo::ui {

QImage toQImage(const respo::io::RgbImage& image) {
  if (image.empty()) return {};
  QImage out(image.width, image.height, QImage::Format_RGB888);
  const int rowBytes = image.width * 3;
  for (int y = 0; y < image.height; ++y)
    std::memcpy(out.scanLine(y), image.pixels.data() + static_cast<std::size_t>(y) * rowBytes, rowBytes);
  return out;
}

respo::io::RgbImage fromQImage(const QImage& image) {
  const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
  respo::io::RgbImage out{rgb.width(), rgb.height(), {}};
  out.pixels.resize(static_cast<std::size_t>(rgb.width()) * rgb.height() * 3);
  const int rowBytes = rgb.width() * 3;
  for (int y = 0; y < rgb.height(); ++y)
    std::memcpy(out.pixels.data() + static_cast<std::size_t>(y) * rowBytes, rgb.constScanLine(y), rowBytes);
  return out;
}

}  // namespace respo::ui
