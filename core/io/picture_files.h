#pragma once
// Where a generation's pictures go on disk, one rule for the app and the command line:
//   <name>.png            the responsible image (a batch: <name>-0.png, <name>-1.png, ...)
//   <name>-baseline.png   its baseline companion, when the two differ
// Each PNG carries its own "parameters" text, so either one restores its settings.
#include <filesystem>
#include <string>
#include <vector>

#include "core/io/image.h"

namespace respo::io {

// The file of image `index` of `count` written to `target`.
std::filesystem::path batchImagePath(const std::filesystem::path& target, std::size_t index, std::size_t count);
std::filesystem::path baselineCompanion(const std::filesystem::path& picture);
bool isBaselineCompanion(const std::filesystem::path& picture);

struct PictureSet {
  std::vector<RgbImage> responsible, baseline;  // baseline empty: not written
  std::string parameters, baselineParameters;
};
// Writes every image (atomically) and returns the responsible images' files.
std::vector<std::filesystem::path> writePictures(const std::filesystem::path& target, const PictureSet& pictures);

// A new file in `folder` named `<stem>.png` (or `<stem>-2.png`, ...) that neither exists nor collides
// with the numbered files of a batch written to it.
std::filesystem::path freshPicturePath(const std::filesystem::path& folder, const std::string& stem);

}  // namespace respo::io
