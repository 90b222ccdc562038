#include "core/respo/clip_attribute_reader.h"

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::report {

std::vector<std::pair<std::string, std::vector<std::string>>> ClipAttributeReader::defaultClasses() {
  return {{"gender", {"a woman", "a man"}},
          {"race", {"a white-race person", "a black-race person", "an Asian-race person"}}};
}

ClipAttributeReader::ClipAttributeReader(models::ClipModel model, std::shared_ptr<const text::ClipTokenizer> tokenizer,
                                         std::vector<std::pair<std::string, std::vector<std::string>>> classes)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), classes_(std::move(classes)) {
  if (!tokenizer_) throw InvalidArgument("the CLIP reader needs a tokenizer");
  for (const auto& [attribute, names] : classes_) {
    if (names.size() < 2) throw InvalidArgument("attribute '" + attribute + "' needs at least two classes");
    classEmbeds_.push_back(encodeTexts(names));
  }
}

torch::Tensor ClipAttributeReader::encodeTexts(const std::vector<std::string>& texts) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> rows;
  for (const auto& t : texts) rows.push_back(torch::tensor((*tokenizer_)(t).ids, torch::kLong));
  return model_.textEmbeds(torch::stack(rows));
}

std::vector<std::string> ClipAttributeReader::attributes() const {
  std::vector<std::string> out;
  for (const auto& c : classes_) out.push_back(c.first);
  return out;
}

std::vector<std::string> ClipAttributeReader::classes(const std::string& attribute) const {
  for (const auto& c : classes_)
    if (c.first == attribute) return c.second;
  throw InvalidArgument("the CLIP reader has no attribute '" + attribute + "'");
}

AttributeReading ClipAttributeReader::read(const torch::Tensor& images, const std::string& prompt) {
  torch::NoGradGuard noGrad;
  const auto embeds = model_.imageEmbeds(model_.preprocess(images));
  AttributeReading out;
  for (const auto& classEmbeds : classEmbeds_) {
    const auto best = embeds.matmul(classEmbeds.t()).argmax(-1);
    std::vector<int> labels;
    for (int64_t i = 0; i < best.size(0); ++i) labels.push_back(static_cast<int>(best[i].item<int64_t>()));
    out.labels.push_back(std::move(labels));
  }
  const auto cosine = embeds.matmul(encodeTexts({prompt}).t()).squeeze(1);
  out.alignment.emplace();
  for (int64_t i = 0; i < cosine.size(0); ++i) out.alignment->push_back(100.0 * cosine[i].item<double>());
  return out;
}

std::unique_ptr<ClipAttributeReader> loadClipReader(const std::filesystem::path& folder) {
  if (!std::filesystem::exists(folder / "vocab.json") || !std::filesystem::exists(folder / "merges.txt"))
    throw FormatError(folder.string() + ": the CLIP folder needs its tokenizer (vocab.json and merges.txt)");
  auto tokenizer = std::make_shared<const text::ClipTokenizer>(text::ClipTokenizer::fromFolder(folder));
  return std::make_unique<ClipAttributeReader>(models::loadClipModel(folder), tokenizer);
}

}  // namespace respo::report
