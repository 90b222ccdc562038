#include "core/io/picture_files.h"

#include <system_error>

#include "core/common/error.h"
#include "core/pipeline/generation_parameters.h"

namespace respo::io {

namespace fs = std::filesystem;

fs::path batchImagePath(const fs::path& target, std::size_t index, std::size_t count) {
  if (count <= 1) return target;
  return target.parent_path() / (target.stem().string() + "-" + std::to_string(index) + target.extension().string());
}

fs::path baselineCompanion(const fs::path& picture) {
  return picture.parent_path() / (picture.stem().string() + "-baseline" + picture.extension().string());
}

bool isBaselineCompanion(const fs::path& picture) {
  const std::string stem = picture.stem().string();
  const std::string suffix = "-baseline";
  return stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<fs::path> writePictures(const fs::path& target, const PictureSet& pictures) {
  if (!pictures.baseline.empty() && pictures.baseline.size() != pictures.responsible.size())
    throw InvalidArgument("writePictures: " + std::to_string(pictures.baseline.size()) + " baseline images for " +
                          std::to_string(pictures.responsible.size()) + " responsible ones");
  std::vector<fs::path> written;
  const auto count = pictures.responsible.size();
  for (std::size_t i = 0; i < count; ++i) {
    const fs::path file = batchImagePath(target, i, count);
    const int pos = static_cast<int>(i);
    const auto& image = pictures.responsible[i];
    writePng(file, image, {{"parameters", pipeline::pictureParameters(pictures.parameters, image.width, image.height, pos)}});
    if (!pictures.baseline.empty()) {
      const auto& other = pictures.baseline[i];
      writePng(baselineCompanion(file), other,
               {{"parameters", pipeline::pictureParameters(pictures.baselineParameters, other.width, other.height, pos)}});
    }
    written.push_back(file);
  }
  return written;
}

fs::path freshPicturePath(const fs::path& folder, const std::string& stem) {
  std::error_code ec;
  auto taken = [&](const fs::path& p) {
    return fs::exists(p, ec) || fs::exists(batchImagePath(p, 0, 2), ec);
  };
  fs::path path = folder / (stem + ".png");
  for (int n = 2; taken(path); ++n) path = folder / (stem + "-" + std::to_string(n) + ".png");
  return path;
}

}  // namespace respo::io
