// LoRA files against diffusers' load_lora_weights + fuse_lora (tests/reference/lora_reference.py): the
// fused weights and one UNet call per format (kohya, LoCon, PEFT) on the random SD1 and SDXL models;
// undoing restores the exact weights; <lora:...> tags, hashes, and files that must be refused.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/io/safetensors_torch.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/lora.h"
#include "core/pipeline/text_to_image.h"
#include "tests/support/target_models.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;
using namespace respo::pipeline;

namespace {

fs::path refDir() { return respo::testing::option("lora"); }
fs::path modelDir(const std::string& model) {
  return model == "sdxl" ? fs::path(respo::testing::option("sdxl")) / "sdxl" : fs::path(respo::testing::option("sd")) / "sd1";
}
StableDiffusionModel& model(const std::string& name) { return respo::testing::targetModel(modelDir(name)); }

nlohmann::json cases() {
  std::ifstream in(refDir() / "lora_cases.json");
  return nlohmann::json::parse(in);
}

std::map<std::string, torch::Tensor> reference(const std::string& name) {
  const auto file = io::SafetensorsFile::open(refDir() / (name + ".fused.safetensors"));
  std::map<std::string, torch::Tensor> out;
  for (const auto& info : file.tensors()) out[info.name] = io::copyTensor(file, info);
  return out;
}

std::map<std::string, torch::Tensor> parameters(StableDiffusionModel& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : m.unet->named_parameters()) out["unet." + item.key()] = item.value();
  for (const auto& item : m.textEncoder->named_parameters()) out["text_encoder." + item.key()] = item.value();
  if (m.textEncoder2)
    for (const auto& item : m.textEncoder2->named_parameters()) out["text_encoder_2." + item.key()] = item.value();
  return out;
}

// transformers 5 saves CLIP text models without the text_model level; ours keep it.
std::string ourName(const std::string& key) {
  for (const char* prefix : {"text_encoder_2.", "text_encoder."}) {
    const std::string p = prefix;
    if (key.rfind(p, 0) == 0 && key.rfind(p + "text_model.", 0) != 0 && key.rfind(p + "text_projection", 0) != 0)
      return p + "text_model." + key.substr(p.size());
  }
  return key;
}

double relError(const torch::Tensor& ours, const torch::Tensor& expected) {
  const auto a = ours.detach().to(torch::kCPU, torch::kFloat64);
  const auto b = expected.to(torch::kFloat64);
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-30);
}

double tolerance() { return respo::testing::target().dtype == torch::kFloat32 ? 1e-5 : 2e-2; }

torch::Tensor unetCall(StableDiffusionModel& m, const std::map<std::string, torch::Tensor>& ref) {
  torch::InferenceMode guard;
  const auto& t = respo::testing::target();
  auto in = [&](const char* key) { return ref.at(key).to(t.device, t.dtype); };
  models::UNetExtras extras;
  if (ref.count("call.text_embeds")) {
    extras.textEmbeds = in("call.text_embeds");
    extras.timeIds = in("call.time_ids");
  }
  return m.unet->forward(in("call.sample"), ref.at("call.timestep").to(t.device), in("call.context"), extras)
      .to(torch::kCPU, torch::kFloat32);
}

fs::path scratch() { return respo::testing::scratchFolder("lora"); }

void writeLora(const fs::path& path, const std::map<std::string, torch::Tensor>& tensors,
               const io::Metadata& metadata = {}) {
  io::saveTensors(path, tensors, metadata);
}

}  // namespace

RESPO_TEST(fused_weights_and_a_unet_call_match_diffusers_for_every_format) {
  const auto all = cases();
  REQUIRE(all.size() >= 6u);
  for (const auto& c : all) {
    const std::string name = c.at("name");
    auto& m = model(c.at("model"));
    const auto ref = reference(name);
    const auto file = std::make_shared<const LoraFile>(loadLoraFile(refDir() / (name + ".safetensors")));
    EXPECT_EQ(file->format, std::string(c.at("format")) == "locon" ? std::string("kohya") : std::string(c.at("format")));
    const double scale = c.at("scale");
    auto params = parameters(m);
    std::map<std::string, torch::Tensor> before;
    for (const auto& [key, p] : params) before[key] = p.detach().clone();
    const auto base = unetCall(m, ref);
    double worstWeight = 0, worstCall = 0;
    std::size_t changed = 0;
    {
      const AppliedLoras applied(m, {{file, scale, scale}});
      for (const auto& [key, p] : params)
        if (!torch::equal(p.detach(), before[key])) ++changed;
      for (const auto& [key, expected] : ref) {
        if (key.rfind("call.", 0) == 0) continue;
        const auto ours = ourName(key);
        REQUIRE(params.count(ours));
        worstWeight = std::max(worstWeight, relError(params.at(ours), expected));
      }
      worstCall = relError(unetCall(m, ref), ref.at("call.out"));
      EXPECT_EQ(applied.changedWeights(), static_cast<std::size_t>(c.at("weights")));
    }
    EXPECT_EQ(changed, static_cast<std::size_t>(c.at("weights")));
    bool restored = true;
    for (const auto& [key, p] : params) restored = restored && torch::equal(p.detach(), before[key]);
    EXPECT(restored);
    const double effect = relError(base, ref.at("call.out"));
    std::cout << name << ": " << changed << " weights, fused weights max rel. error " << worstWeight
              << ", UNet call " << worstCall << " (the LoRA moves it by " << effect << ")\n";
    EXPECT(worstWeight <= tolerance());
    EXPECT(worstCall <= tolerance());
    EXPECT(effect > 100 * worstCall);  // the comparison sees the LoRA, not just the base model
  }
}

RESPO_TEST(several_loras_add_up_and_weights_split_text_and_unet) {
  auto& m = model("sd1");
  const auto kohya = std::make_shared<const LoraFile>(loadLoraFile(refDir() / "sd1_kohya.safetensors"));
  const auto peft = std::make_shared<const LoraFile>(loadLoraFile(refDir() / "sd1_peft.safetensors"));
  const auto a = loraDeltas(m, *kohya, 0.5, 0.7);
  const auto b = loraDeltas(m, *peft, 1.0, 1.0);
  auto params = parameters(m);
  std::map<std::string, torch::Tensor> before;
  for (const auto& [key, p] : params) before[key] = p.detach().clone();
  {
    const AppliedLoras both(m, {{kohya, 0.5, 0.7}, {peft, 1.0, 1.0}});
    double worst = 0;
    for (const auto& [key, p] : params) {
      auto expected = before[key].to(torch::kFloat32);
      if (a.count(key)) expected = expected + a.at(key);
      if (b.count(key)) expected = expected + b.at(key);
      worst = std::max(worst, relError(p, expected));
    }
    EXPECT(worst <= 1e-6);
  }
  // The text weight scales the text encoders' layers only.
  const auto textOnly = loraDeltas(m, *kohya, 1.0, 0.0);
  const auto unetHalf = loraDeltas(m, *kohya, 0.0, 0.5);
  double unetInText = 0, textInUnet = 0;
  for (const auto& [key, d] : textOnly)
    if (key.rfind("unet.", 0) == 0) unetInText = std::max(unetInText, d.abs().max().item<double>());
  for (const auto& [key, d] : unetHalf)
    if (key.rfind("text_encoder.", 0) == 0) textInUnet = std::max(textInUnet, d.abs().max().item<double>());
  EXPECT_EQ(unetInText, 0.0);
  EXPECT_EQ(textInUnet, 0.0);
  for (const auto& [key, d] : a)
    if (key.rfind("unet.", 0) == 0) EXPECT(relError(unetHalf.at(key) * 1.4, d) <= 1e-6);
}

RESPO_TEST(prompt_tags_apply_loras_and_are_recorded_with_their_hashes) {
  std::vector<lora::PromptLora> tags;
  EXPECT_EQ(lora::extractLoraTags("a cat <lora:style:0.8>, <lyco:sub/x> (red:1.2) <hypernet:y:1>", &tags),
            std::string("a cat ,  (red:1.2) <hypernet:y:1>"));
  REQUIRE(tags.size() == 2u);
  EXPECT_EQ(tags[0].name, std::string("style"));
  EXPECT_EQ(tags[0].textWeight, 0.8);
  EXPECT_EQ(tags[1].name, std::string("sub/x"));
  EXPECT_EQ(tags[1].unetWeight, 1.0);
  tags.clear();
  lora::extractLoraTags("<lora:a: 0.5 :-1>", &tags);
  EXPECT_EQ(tags.at(0).textWeight, 0.5);
  EXPECT_EQ(tags.at(0).unetWeight, -1.0);
  EXPECT_THROWS(lora::extractLoraTags("<lora::1>"), InvalidArgument, "names no LoRA");
  EXPECT_THROWS(lora::extractLoraTags("<lora:a:heavy>"), InvalidArgument, "use a number");
  EXPECT_THROWS(lora::extractLoraTags("<lora:a:1e9>"), InvalidArgument, "use a number");
  EXPECT_THROWS(lora::findLoraFile("../x", {refDir()}), InvalidArgument, "not a plain name");
  EXPECT_THROWS(lora::findLoraFile("missing", {refDir()}), InvalidArgument, "no LoRA named 'missing'");

  // The hash other front ends use: SHA-256 of the file after the header.
  const auto path = refDir() / "sd1_kohya.safetensors";
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  EXPECT_EQ(lora::loraFileHash(path), hashing::sha256Hex(std::string_view(bytes).substr(8 + header)));

  // Generation with the tag equals generation with the LoRA applied by hand and the tag left out.
  auto& m = model("sd1");
  GenerationRequest request;
  request.prompt = "a photo of a doctor <lora:sd1_kohya:0.9>";
  request.steps = 3;
  request.seed = 11;
  request.scheduler = "ddim";
  request.loraFolders = {refDir().string()};
  TextToImagePipeline pipe(m);
  const auto tagged = pipe.generate(request).images;
  GenerationRequest plain = request;
  plain.prompt = "a photo of a doctor ";
  plain.loraFolders.clear();
  torch::Tensor byHand;
  {
    const AppliedLoras applied(m, promptLoras(request.prompt, {refDir()}));
    byHand = pipe.generate(plain).images;
  }
  const auto without = pipe.generate(plain).images;
  EXPECT(torch::equal(tagged, byHand));
  EXPECT((tagged - without).abs().max().item<double>() > 1e-3);
  const auto text = formatParameters(request, "sd1");
  EXPECT(text.find("a photo of a doctor <lora:sd1_kohya:0.9>\n") == 0);
  EXPECT(text.find("Lora hashes: \"sd1_kohya: " + lora::loraFileHash(path).substr(0, 12) + "\"") != std::string::npos);
  std::map<std::string, std::string> extra;
  const auto back = parseParameters(text, &extra);
  EXPECT_EQ(back.prompt, request.prompt);
  EXPECT_EQ(extra["Lora hashes"], "sd1_kohya: " + lora::loraFileHash(path).substr(0, 12));
  request.prompt = "a photo <lora:not_there:1>";
  EXPECT_THROWS(pipe.generate(request), InvalidArgument, "no LoRA named 'not_there'");
}

RESPO_TEST(bad_lora_files_are_refused_with_a_reason_and_change_nothing) {
  auto& m = model("sd1");
  const auto dir = scratch();
  auto params = parameters(m);
  std::map<std::string, torch::Tensor> before;
  for (const auto& [key, p] : params) before[key] = p.detach().clone();
  const auto down = torch::randn({4, 32});
  const auto up = torch::randn({32, 4});
  const std::string layer = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
  struct Bad {
    const char* file;
    std::map<std::string, torch::Tensor> tensors;
    const char* message;
  };
  const std::vector<Bad> bad = {
      {"loha.safetensors", {{layer + ".hada_w1_a", down}, {layer + ".hada_w1_b", up}}, "LoHa"},
      {"lokr.safetensors", {{layer + ".lokr_w1", down}}, "LoKr"},
      {"dora.safetensors", {{layer + ".lora_down.weight", down}, {layer + ".lora_up.weight", up}, {layer + ".dora_scale", up}}, "DoRA"},
      {"orphan.safetensors", {{layer + ".lora_down.weight", down}}, "has no matching"},
      {"none.safetensors", {{"model.weight", down}}, "holds no LoRA layers"},
      {"rank.safetensors", {{layer + ".lora_down.weight", down}, {layer + ".lora_up.weight", torch::randn({32, 3})}}, "do not multiply"},
      {"nan.safetensors", {{layer + ".lora_down.weight", down / 0}, {layer + ".lora_up.weight", up}}, "not finite"},
  };
  for (const auto& b : bad) {
    writeLora(dir / b.file, b.tensors);
    EXPECT_THROWS(loadLoraFile(dir / b.file), FormatError, b.message);
  }
  // Made for another model: a layer it lacks, a shape it does not have, a second text encoder.
  writeLora(dir / "other.safetensors", {{"lora_unet_no_such_block.lora_down.weight", down},
                                        {"lora_unet_no_such_block.lora_up.weight", up}});
  const auto other = std::make_shared<const LoraFile>(loadLoraFile(dir / "other.safetensors"));
  EXPECT_THROWS(AppliedLoras(m, {{other, 1, 1}}), InvalidArgument, "which this model lacks");
  writeLora(dir / "shape.safetensors", {{layer + ".lora_down.weight", torch::randn({4, 48})},
                                        {layer + ".lora_up.weight", up}});
  const auto shape = std::make_shared<const LoraFile>(loadLoraFile(dir / "shape.safetensors"));
  EXPECT_THROWS(AppliedLoras(m, {{shape, 1, 1}}), InvalidArgument, "made for another model");
  const auto sdxl = std::make_shared<const LoraFile>(loadLoraFile(refDir() / "sdxl_kohya.safetensors"));
  EXPECT_THROWS(AppliedLoras(m, {{sdxl, 1, 1}}), InvalidArgument, "SDXL LoRA");
  // A good LoRA listed with a bad one changes nothing.
  const auto good = std::make_shared<const LoraFile>(loadLoraFile(refDir() / "sd1_kohya.safetensors"));
  EXPECT_THROWS(AppliedLoras(m, {{good, 1, 1}, {other, 1, 1}}), InvalidArgument, "which this model lacks");
  bool same = true;
  for (const auto& [key, p] : params) same = same && torch::equal(p.detach(), before[key]);
  EXPECT(same);
  // Pickle files are not read.
  std::ofstream(dir / "x.ckpt") << "not read";
  EXPECT_THROWS(loadLoraFile(dir / "x.ckpt"), FormatError, "safetensors only");
}

