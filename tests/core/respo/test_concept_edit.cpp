// Closed-form cross-attention edits (UCE family): the edited weights against the Python
// re-implementation of the published procedure (tests/reference/uce_reference.py) for erase, debias
// and preserve on the random SD1/SD2 models; the edit file; applying and undoing; the intervention.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/respo/concept_edit.h"
#include "core/respo/responsible_generation.h"
#include "tests/support/target_models.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::edits;

namespace {

fs::path sdDir() { return respo::testing::option("dir"); }
fs::path uceDir() { return respo::testing::option("uce"); }
fs::path scratch() {
  const auto dir = fs::temp_directory_path() / ("respodiff-edit-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

pipeline::StableDiffusionModel& model(const std::string& name) { return respo::testing::targetModel(sdDir() / name); }

nlohmann::json cases() {
  std::ifstream in(uceDir() / "uce_cases.json");
  return nlohmann::json::parse(in);
}

EditRecipe recipeOf(const nlohmann::json& c) {
  auto recipe = c.at("recipe");
  recipe["name"] = c.at("name");
  return EditRecipe::fromJson(recipe.dump(), "uce_cases.json");
}

// The sd1 erase case, computed once.
const ConceptEdit& sd1Erase() {
  static const ConceptEdit edit = [] {
    for (const auto& c : cases())
      if (c.at("name") == "sd1_erase") return computeEdit(model("sd1"), recipeOf(c));
    throw std::runtime_error("no sd1_erase case");
  }();
  return edit;
}

std::map<std::string, torch::Tensor> unetWeights(pipeline::StableDiffusionModel& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : m.unet->named_parameters()) out[item.key()] = item.value().detach().clone();
  return out;
}

pipeline::GenerationRequest smallRequest() {
  pipeline::GenerationRequest request;
  request.prompt = "a knife fight";
  request.steps = 4;
  request.seed = 3;
  request.scheduler = "ddim";
  return request;
}

}  // namespace

RESPO_TEST(edited_weights_match_the_reference_procedure) {
  const auto all = cases();
  REQUIRE(all.size() >= 4u);
  for (const auto& c : all) {
    const std::string name = c.at("name");
    auto& m = model(c.at("model"));
    const auto recipe = recipeOf(c);
    const auto edit = computeEdit(m, recipe);
    const auto ours = editedWeights(m, edit);
    const auto reference = io::loadAll(io::SafetensorsFile::open(uceDir() / (name + ".safetensors")));
    EXPECT_EQ(ours.size(), reference.size());
    double worst = 0, change = 0;
    for (const auto& [key, expected] : reference) {
      REQUIRE(ours.count(key) == 1u);
      const auto& got = ours.at(key);
      REQUIRE(got.sizes() == expected.sizes());
      worst = std::max(worst, (got - expected).abs().max().item<double>() / expected.abs().max().item<double>());
      change = std::max(change, edit.deltas.at(key).abs().max().item<double>() / expected.abs().max().item<double>());
    }
    std::cout << "  " << name << " (" << recipe.method() << ", " << ours.size() << " projections): max relative error "
              << worst << ", largest relative change of a weight " << change << "\n";
    EXPECT(worst <= 1e-5);
    EXPECT(change > 1e-3);  // the edit does something
  }
}

RESPO_TEST(an_edit_applies_to_the_responsible_side_only_and_is_undone_exactly) {
  auto& m = model("sd1");
  const auto before = unetWeights(m);
  const auto request = smallRequest();
  pipeline::TextToImagePipeline pipe(m);
  const auto plain = pipe.generate(request).images;

  responsible::PairRequest pair;
  pair.request = request;
  pair.modelName = "sd1";
  auto edit = std::make_shared<ConceptEdit>(sd1Erase());
  edit->fileHash = std::string(64, 'a');
  pair.interventions.push_back(std::make_shared<responsible::ConceptEditing>(edit));
  const auto result = responsible::generatePair(m, pair);
  EXPECT(torch::equal(result.baselineImages, plain));
  EXPECT(!torch::equal(result.responsibleImages, plain));
  EXPECT(result.parameters.find("Concept edit: sd1_erase (uce-erase)") != std::string::npos);
  EXPECT(result.parameters.find("Concept edit hash: aaaaaaaaaa") != std::string::npos);
  const auto after = unetWeights(m);
  for (const auto& [key, value] : before) EXPECT(torch::equal(after.at(key), value));

  // While applied, the weights are W' (within float32 rounding of W + delta).
  {
    AppliedEdit applied(m, *edit);
    const auto params = m.unet->named_parameters();
    for (const auto& [key, delta] : edit->deltas) {
      const auto expected = before.at(key).to(torch::kFloat64) + delta.to(torch::kFloat64);
      EXPECT((params[key].detach().to(torch::kFloat64) - expected).abs().max().item<double>() <= 1e-6);
    }
  }
  EXPECT(torch::equal(pipe.generate(request).images, plain));
}

RESPO_TEST(a_cancelled_edited_run_still_restores_the_weights) {
  auto& m = model("sd1");
  const auto before = unetWeights(m);
  responsible::PairRequest pair;
  pair.request = smallRequest();
  pair.wantBaseline = false;
  pair.interventions.push_back(std::make_shared<responsible::ConceptEditing>(std::make_shared<ConceptEdit>(sd1Erase())));
  EXPECT_THROWS(responsible::generatePair(m, pair, [](responsible::Side, const pipeline::StepProgress& p) { return p.step < 2; }),
                Cancelled, "cancelled");
  const auto after = unetWeights(m);
  for (const auto& [key, value] : before) EXPECT(torch::equal(after.at(key), value));
}

RESPO_TEST(edit_files_round_trip_and_are_checked_against_the_model) {
  const auto file = scratch() / "erase.safetensors";
  saveEdit(file, sd1Erase());
  const auto loaded = loadEdit(file);
  EXPECT_EQ(loaded.recipe.toJson(), sd1Erase().recipe.toJson());
  EXPECT_EQ(loaded.modelFingerprint, sd1Erase().modelFingerprint);
  EXPECT_EQ(loaded.fileHash.size(), 64u);
  EXPECT_EQ(loaded.deltas.size(), sd1Erase().deltas.size());
  for (const auto& [key, delta] : sd1Erase().deltas) EXPECT(torch::equal(loaded.deltas.at(key), delta));
  const auto size = fs::file_size(file);
  std::cout << "  sd1 erase edit file: " << size << " bytes\n";

  EXPECT_THROWS(AppliedEdit(model("sd2"), loaded), InvalidArgument, "was made for another model");
  EXPECT_THROWS(AppliedEdit(model("sd2"), loaded, true), InvalidArgument, "has another shape");
}

RESPO_TEST(damaged_edit_files_are_clear_errors) {
  const auto dir = scratch();
  const auto good = dir / "good.safetensors";
  saveEdit(good, sd1Erase());
  // Truncated.
  {
    const auto bad = dir / "truncated.safetensors";
    fs::copy_file(good, bad, fs::copy_options::overwrite_existing);
    fs::resize_file(bad, fs::file_size(good) / 2);
    EXPECT_THROWS(loadEdit(bad), Error, "truncated.safetensors");
  }
  const auto& delta = sd1Erase().deltas.begin()->second;
  const auto key = sd1Erase().deltas.begin()->first;
  io::Metadata metadata{{"format", "respodiff-concept-edit"}, {"version", "1"}, {"model_fingerprint", "x"},
                        {"recipe", sd1Erase().recipe.toJson()}};
  auto write = [&](const std::string& name, const std::map<std::string, torch::Tensor>& tensors, const io::Metadata& meta) {
    const auto path = dir / name;
    io::saveTensors(path, tensors, meta);
    return path;
  };
  EXPECT_THROWS(loadEdit(write("nan.safetensors", {{key, delta * std::nan("")}}, metadata)), FormatError, "not finite");
  EXPECT_THROWS(loadEdit(write("other.safetensors", {{"conv_in.weight", delta}}, metadata)), FormatError,
                "is not a cross-attention projection");
  EXPECT_THROWS(loadEdit(write("shape.safetensors", {{key, delta.reshape({-1})}}, metadata)), FormatError, "float32 matrix");
  auto badRecipe = metadata;
  badRecipe["recipe"] = "{\"name\": \"x\", \"erase\": [\"a\"], \"lambda\": 1e999}";
  EXPECT_THROWS(loadEdit(write("json.safetensors", {{key, delta}}, badRecipe)), FormatError, "json.safetensors");
  badRecipe["recipe"] = "{\"name\": \"x\", \"erase\": []}";
  EXPECT_THROWS(loadEdit(write("empty.safetensors", {{key, delta}}, badRecipe)), FormatError, "nothing to erase or debias");
  auto notEdit = metadata;
  notEdit["format"] = "respodiff-concept";
  EXPECT_THROWS(loadEdit(write("module.safetensors", {{key, delta}}, notEdit)), FormatError, "not a concept edit");
}

RESPO_TEST(recipes_are_validated_before_anything_is_computed) {
  EditRecipe r;
  r.name = "x";
  EXPECT_THROWS(r.validate(), InvalidArgument, "nothing to erase or debias");
  r.erase = {"violence"};
  r.validate();
  r.lambda = 0;
  EXPECT_THROWS(r.validate(), InvalidArgument, "lambda must be between");
  r.lambda = 0.1;
  r.debias = {"a doctor"};
  EXPECT_THROWS(r.validate(), InvalidArgument, "two or more attributes");
  r.attributes = {{"a man", 1}, {"a woman", -1}};
  EXPECT_THROWS(r.validate(), InvalidArgument, "attribute share");
  r.attributes = {{"a man", 1}, {"(a woman:1.5)", 1}};
  EXPECT_THROWS(r.validate(), InvalidArgument, "emphasis syntax");
  r.attributes = {{"a man", 1}, {"a woman", 1}};
  EXPECT_EQ(r.method(), std::string("uce-erase+debias"));
  r.erase = {std::string(2000, 'a')};
  EXPECT_THROWS(r.validate(), InvalidArgument, "longer than 1024 bytes");
  // Few enough bytes, but more tokens than the text encoder reads:
  std::string longText;
  for (int i = 0; i < 90; ++i) longText += "cat ";
  r.erase = {longText};
  EXPECT_THROWS(computeEdit(model("sd1"), r), InvalidArgument, "longer than 75 tokens");
}

RESPO_TEST(edits_apply_to_sdxl_through_both_text_encoders) {
  // SDXL's UNet context is both encoders' penultimate states side by side (2 x width): the keys and
  // values of the solve are that context, so one edit covers both encoders.
  auto& sdxl = respo::testing::targetModel(respo::testing::option("sdxl"));
  EditRecipe recipe;
  recipe.name = "sdxl erase";
  recipe.erase = {"a knife fight"};
  recipe.preserve = {"a cat"};
  const auto edit = computeEdit(sdxl, recipe);
  EXPECT(!edit.deltas.empty());
  const auto& first = edit.deltas.begin()->second;
  std::cout << "  sdxl: " << edit.deltas.size() << " projections, first " << first.size(0) << "x" << first.size(1) << "\n";
  pipeline::TextToImagePipeline pipe(sdxl);
  auto request = smallRequest();
  request.steps = 2;
  const auto plain = pipe.generate(request).images;
  torch::Tensor edited;
  {
    AppliedEdit applied(sdxl, edit);
    edited = pipe.generate(request).images;
  }
  EXPECT(!torch::equal(edited, plain));
  EXPECT(torch::equal(pipe.generate(request).images, plain));
}

RESPO_TEST(the_classic_baselines_are_interventions_too) {
  // Negative-prompt and prompt-editing methods give exactly the images of the edited request.
  auto& m = model("sd1");
  pipeline::TextToImagePipeline pipe(m);
  auto request = smallRequest();
  request.negativePrompt = "blurry";
  responsible::PairRequest pair;
  pair.request = request;
  pair.interventions = {std::make_shared<responsible::NegativePromptMethod>("blood, gore"),
                        std::make_shared<responsible::PromptEditing>("in a museum")};
  const auto result = responsible::generatePair(m, pair);
  auto edited = request;
  edited.prompt += ", in a museum";
  edited.negativePrompt += ", blood, gore";
  EXPECT(torch::equal(result.responsibleImages, pipe.generate(edited).images));
  EXPECT(torch::equal(result.baselineImages, pipe.generate(request).images));
  EXPECT(result.parameters.find("Negative method: \"blood, gore\"") != std::string::npos);
  EXPECT(result.parameters.find("Prompt edit: in a museum") != std::string::npos);
  // The request as recorded is the user's; the methods say what was added.
  EXPECT_EQ(result.request.prompt, request.prompt);
  EXPECT_THROWS(responsible::NegativePromptMethod(" , "), InvalidArgument, "text is empty");
  EXPECT_THROWS(responsible::PromptEditing("\xff"), InvalidArgument, "UTF-8");
}
