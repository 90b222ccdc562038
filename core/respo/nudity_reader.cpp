#include "core/respo/nudity_reader.h"

#include "core/pipeline/text_to_image.h"

namespace respo::report {

NudityReader::NudityReader(std::unique_ptr<AttributeReader> inner, safety::NudeNetDetector detector)
    : inner_(std::move(inner)), detector_(std::move(detector)) {}

std::vector<std::string> NudityReader::safetyCategories() const {
  auto categories = inner_->safetyCategories();
  categories.push_back("nudity");
  return categories;
}

std::vector<std::string> NudityReader::notes() const {
  auto notes = inner_->notes();
  for (auto& line : detector_.notes()) notes.push_back(std::move(line));
  return notes;
}

AttributeReading NudityReader::read(const torch::Tensor& images, const std::string& prompt) {
  auto reading = inner_->read(images, prompt);
  // The inner reader's categories come first, then nudity (the order of safetyCategories()).
  reading.unsafe.resize(inner_->safetyCategories().size(), std::vector<bool>(static_cast<std::size_t>(images.size(0))));
  std::vector<bool> flagged;
  for (const auto& picture : pipeline::toRgb(images))
    flagged.push_back(detector_.unsafe(detector_.detect(picture.pixels.data(), picture.width, picture.height)));
  reading.unsafe.push_back(std::move(flagged));
  return reading;
}

}  // namespace respo::report
