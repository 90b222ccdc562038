#pragma once
// Pillow's GaussianBlur, reproduced to the byte: three passes of an extended box blur (fractional
// radius, 8.24 fixed point, edges extended) per axis, the box radius derived from the Gaussian's
// radius as Pillow derives it (Gwosdek et al., SSVM 2011). Inpainting masks are blurred with it
// before they are split at one half, as diffusers' mask processor and A1111 blur them.
#include "core/io/image.h"

namespace respo::io {

// The picture blurred with Pillow's ImageFilter.GaussianBlur(radius) (each channel alike). radius 0
// returns it unchanged; InvalidArgument for a negative or non-finite radius or one above 1024.
RgbImage gaussianBlurLikePillow(const RgbImage& image, double radius);

}  // namespace respo::io
