#pragma once
// Pixels between the engine's plain RGB images and Qt's: the only place they change form. Files are
// read and written by the engine's PNG codec (core/io/image.h), never by Qt's, so what the studio
// saves, lists and restores goes through the same bounded reader as the command line.
#include <QImage>

#include "core/io/image.h"

namespace respo::ui {

QImage toQImage(const respo::io::RgbImage& image);
respo::io::RgbImage fromQImage(const QImage& image);

}  // namespace respo::ui
