#include "core/toyworld/attribute_reader.h"

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::toyworld {

std::vector<std::string> ToyAttributeReader::attributes() const { return {"gender", "skin tone"}; }

std::vector<std::string> ToyAttributeReader::classes(const std::string& attribute) const {
  std::vector<std::string> out;
  if (attribute == "gender")
    for (int g = 0; g < kGenderCount; ++g) out.emplace_back(genderName(static_cast<Gender>(g)));
  else if (attribute == "skin tone")
    for (int s = 0; s < kSkinToneCount; ++s) out.emplace_back(skinToneName(static_cast<SkinTone>(s)));
  else
    throw InvalidArgument("the toy-world classifier does not read '" + attribute + "'");
  return out;
}

std::vector<Prediction> ToyAttributeReader::predict(const torch::Tensor& images) {
  torch::NoGradGuard noGrad;
  auto x = images.to(torch::kFloat32);
  if (x.size(-1) != 64 || x.size(-2) != 64)
    x = torch::nn::functional::interpolate(
        x, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{64, 64}).mode(torch::kArea));
  return predictions(classifier_->forward(x * 2 - 1));
}

std::vector<std::vector<int>> ToyAttributeReader::read(const torch::Tensor& images) {
  std::vector<std::vector<int>> out(2);
  for (const auto& p : predict(images)) {
    out[0].push_back(static_cast<int>(p.attributes.gender));
    out[1].push_back(static_cast<int>(p.attributes.skin));
  }
  return out;
}

std::optional<std::vector<double>> ToyAttributeReader::alignment(const torch::Tensor& images, const std::string& prompt) {
  const auto named = professionInPrompt(prompt);
  if (!named) return std::nullopt;
  std::vector<double> out;
  for (const auto& p : predict(images)) out.push_back(p.attributes.profession == *named ? 100.0 : 0.0);
  return out;
}

std::optional<Profession> professionInPrompt(const std::string& prompt) {
  std::optional<Profession> best;
  std::size_t bestLength = 0;
  for (int p = 1; p < kProfessionCount; ++p) {
    const std::string name(professionName(static_cast<Profession>(p)));
    if (name.size() > bestLength && prompt.find(name) != std::string::npos) {
      best = static_cast<Profession>(p);
      bestLength = name.size();
    }
  }
  return best;
}

}  // namespace respo::toyworld
