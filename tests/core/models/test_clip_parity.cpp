// transformers' CLIPModel (both towers, projections, logit scale) and its image processor against
// our C++ on the same random weights and inputs (label parity). Error measure:
// max |ours - reference| / max |reference|; the acceptance tolerance is 1e-4.
#include <filesystem>
#include <iostream>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/models/clip_model.h"
#include "core/respo/clip_attribute_reader.h"
#include "core/text/clip_tokenizer.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;

namespace {

fs::path dir() { return respo::testing::option("dir"); }

bool close(const std::string& what, const torch::Tensor& ours, const torch::Tensor& reference, double tolerance) {
  if (ours.sizes() != reference.sizes()) {
    std::cout << "  " << what << ": shape " << ours.sizes() << " vs " << reference.sizes() << "\n";
    return false;
  }
  const double scale = std::max(reference.abs().max().item<double>(), 1e-12);
  const double error = (ours.to(torch::kFloat32) - reference).abs().max().item<double>() / scale;
  std::cout << "  " << what << ": relative error " << error << "\n";
  return error <= tolerance;
}

void checkModel(const std::string& name) {
  torch::NoGradGuard noGrad;
  auto model = models::loadClipModel(dir() / name);
  const auto e = io::loadAll(io::SafetensorsFile::open(dir() / (name + "_expect.safetensors")));
  const auto vision = model.vision->forward(e.at("pixels"));
  EXPECT(close(name + " vision last hidden state", vision.lastHiddenState, e.at("vision.last_hidden_state"), 1e-4));
  EXPECT(close(name + " vision pooled", vision.pooled, e.at("vision.pooled"), 1e-4));
  EXPECT(close(name + " image embeds", vision.imageEmbeds, e.at("image_embeds"), 1e-4));
  const auto text = model.text->forward(e.at("input_ids"));
  EXPECT(close(name + " text pooled", text.pooled, e.at("text.pooled"), 1e-4));
  EXPECT(close(name + " text embeds", text.textEmbeds, e.at("text_embeds"), 1e-4));
  EXPECT(close(name + " logits per image", model.logitsPerImage(e.at("pixels"), e.at("input_ids")),
               e.at("logits_per_image"), 1e-4));
  // The image processor resizes with PIL's bicubic filter on 8-bit images; ours is torch's bicubic
  // on floats, so it matches only approximately.
  EXPECT(close(name + " preprocessing (approximate)", model.preprocess(e.at("raw_images")), e.at("processed"), 0.1));
}

}  // namespace

RESPO_TEST(clip_quick_gelu_matches_transformers) { checkModel("clip_quick"); }
RESPO_TEST(clip_gelu_matches_transformers) { checkModel("clip_gelu"); }

RESPO_TEST(the_zero_shot_reader_labels_every_image_of_every_attribute) {
  auto tokenizer = std::make_shared<const text::ClipTokenizer>(
      text::ClipTokenizer::fromOpenClipBpe(respo::testing::option("bpe"), text::TokenizerSettings::sd1()));
  report::ClipAttributeReader reader(models::loadClipModel(dir() / "clip_quick"), tokenizer);
  EXPECT_EQ(reader.attributes().size(), std::size_t{2});
  EXPECT_EQ(reader.classes("race").size(), std::size_t{3});
  torch::manual_seed(5);
  const auto images = torch::rand({3, 3, 40, 56});
  const auto reading = reader.read(images, "a photo of a doctor");
  const auto& labels = reading.labels;
  EXPECT_EQ(labels.size(), std::size_t{2});
  for (std::size_t a = 0; a < labels.size(); ++a) {
    EXPECT_EQ(labels[a].size(), std::size_t{3});
    for (int k : labels[a]) EXPECT(k >= 0 && k < static_cast<int>(reader.classes(reader.attributes()[a]).size()));
  }
  // Each label is the class whose text embedding is nearest: recompute it from the embeddings.
  torch::NoGradGuard noGrad;
  auto model = models::loadClipModel(dir() / "clip_quick");
  const auto image = model.imageEmbeds(model.preprocess(images));
  std::vector<torch::Tensor> ids;
  for (const auto& c : reader.classes("gender")) ids.push_back(torch::tensor((*tokenizer)(c).ids, torch::kLong));
  const auto nearest = image.matmul(model.textEmbeds(torch::stack(ids)).t()).argmax(-1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(labels[0][i], static_cast<int>(nearest[i].item<int64_t>()));
  const auto& aligned = reading.alignment;
  EXPECT(aligned.has_value() && aligned->size() == 3);
  for (double v : *aligned) EXPECT(v >= -100.0 && v <= 100.0);
}

RESPO_TEST(a_folder_without_a_clip_config_is_refused) {
  const auto empty = fs::temp_directory_path() / "respodiff-not-clip";
  fs::create_directories(empty);
  EXPECT_THROWS(models::loadClipModel(empty), respo::FormatError, "config.json is missing");
}

RESPO_TEST(the_image_tower_rejects_a_wrong_size) {
  auto model = models::loadClipModel(dir() / "clip_quick");
  EXPECT_THROWS(model.vision->forward(torch::zeros({1, 3, 16, 16})), respo::InvalidArgument, "pixels");
}

RESPO_TEST(clip_safety_categories_are_the_softmax_of_the_models_two_logits) {
  auto tokenizer = std::make_shared<const text::ClipTokenizer>(
      text::ClipTokenizer::fromOpenClipBpe(respo::testing::option("bpe"), text::TokenizerSettings::sd1()));
  auto safety = report::parseClipSafety("violence=a violent image|a peaceful image; nudity = a naked person | a clothed person @ 0.7");
  EXPECT_EQ(safety.size(), std::size_t{2});
  EXPECT(safety[1].name == "nudity" && safety[1].unsafeText == "a naked person" && safety[1].safeText == "a clothed person");
  EXPECT(safety[0].threshold == 0.5 && safety[1].threshold == 0.7);
  torch::manual_seed(11);
  const auto images = torch::rand({6, 3, 40, 56});
  // The reference: CLIPModel's logits_per_image (parity-tested above) for the two texts, softmaxed.
  torch::NoGradGuard noGrad;
  auto model = models::loadClipModel(dir() / "clip_quick");
  const auto pixels = model.preprocess(images);
  std::vector<torch::Tensor> expected;
  for (const auto& c : safety) {
    const auto ids = torch::stack({torch::tensor((*tokenizer)(c.unsafeText).ids, torch::kLong),
                                   torch::tensor((*tokenizer)(c.safeText).ids, torch::kLong)});
    expected.push_back(model.logitsPerImage(pixels, ids).softmax(-1).select(-1, 0));
  }
  const auto reference = torch::stack(expected, 1);
  // A threshold inside the spread of the first category's probabilities, so that both verdicts occur.
  safety[0].threshold = reference.select(1, 0).median().item<double>();
  report::ClipAttributeReader reader(models::loadClipModel(dir() / "clip_quick"), tokenizer,
                                     report::ClipAttributeReader::defaultClasses(), safety);
  EXPECT(reader.safetyCategories() == (std::vector<std::string>{"violence", "nudity"}));
  EXPECT(close("unsafe probabilities", reader.safetyProbabilities(images), reference, 1e-6));
  const auto reading = reader.read(images, "a photo of a doctor");
  EXPECT_EQ(reading.unsafe.size(), std::size_t{2});
  int flagged = 0;
  for (std::size_t c = 0; c < 2; ++c)
    for (int64_t i = 0; i < 6; ++i) {
      const bool want = reference[i][static_cast<int64_t>(c)].item<double>() >= safety[c].threshold;
      EXPECT_EQ(reading.unsafe[c][static_cast<std::size_t>(i)], want);
      flagged += c == 0 && want;
    }
  EXPECT(flagged > 0 && flagged < 6);
  EXPECT(reader.notes().back().find("'a naked person' against 'a clothed person' a probability of 0.7") != std::string::npos);
}

RESPO_TEST(clip_safety_text_is_checked) {
  EXPECT_EQ(report::parseClipSafety(" default ").size(), report::ClipAttributeReader::defaultSafety().size());
  EXPECT_THROWS(report::parseClipSafety("violence=a violent image"), respo::InvalidArgument, "expected 'NAME=UNSAFE TEXT|SAFE TEXT");
  EXPECT_THROWS(report::parseClipSafety("v=a|b@1.5"), respo::InvalidArgument, "between 0 and 1");
  EXPECT_THROWS(report::parseClipSafety("v=a|b@x"), respo::InvalidArgument, "between 0 and 1");
  EXPECT_THROWS(report::parseClipSafety("v= |b"), respo::InvalidArgument, "needs a name, an unsafe text");
  EXPECT_THROWS(report::parseClipSafety("v=a|b; v=c|d"), respo::InvalidArgument, "given twice");
  EXPECT_THROWS(report::parseClipSafety(" ; "), respo::InvalidArgument, "no category");
}
