#pragma once
// A picture file in the format its name asks for, with the parameters text where the format has a
// place for it, where other front ends look:
//   .png          a "parameters" text chunk
//   .jpg / .jpeg  EXIF UserComment (UNICODE, UTF-16BE), as A1111 writes it
//   .webp         the same EXIF, in an extended (VP8X) WebP
// JPEG and WebP are encoded by OpenCV at quality 95.
#include <string>

#include "core/io/image.h"

namespace respo::app {

// Throws UsageError for another extension (naming the ones offered).
std::string encodePicture(const io::RgbImage& image, const std::string& parameters, const std::string& extension);
// Whether `extension` (".png", ...) is one encodePicture writes.
bool pictureFormatOffered(const std::string& extension);

}  // namespace respo::app
