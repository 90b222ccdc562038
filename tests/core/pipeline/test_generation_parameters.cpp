// The PNG "parameters" text: written in the format other SD front ends read, and read back.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <tuple>
#include <vector>

#include "core/common/error.h"
#include "core/io/image.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/model_hash.h"
#include "core/pipeline/safe_guidance.h"
#include "core/common/sha256.h"
#include "core/respo/selection.h"
#include "tests/support/testing.h"

using namespace respo::pipeline;

RESPO_TEST(round_trip_keeps_every_setting) {
  GenerationRequest r;
  r.prompt = "a photo of a doctor, 4k";
  r.negativePrompt = "blurry, low quality";
  r.steps = 30;
  r.scheduler = "euler_a";
  r.guidanceScale = 6.5;
  r.seed = 1234567890123ull;
  r.width = 640;
  r.height = 512;
  r.batch = 2;
  r.clipSkip = 1;
  const auto text = formatParameters(r, "toy", {{"RespoDiff", "gender: balanced, ram 1.0"}});
  std::map<std::string, std::string> extra;
  const auto back = parseParameters(text, &extra);
  EXPECT_EQ(back.prompt, r.prompt);
  EXPECT_EQ(back.negativePrompt, r.negativePrompt);
  EXPECT_EQ(back.steps, 30);
  EXPECT_EQ(back.scheduler, std::string("euler_a"));
  EXPECT_EQ(back.guidanceScale, 6.5);
  EXPECT_EQ(back.seed, r.seed);
  EXPECT_EQ(back.width, 640);
  EXPECT_EQ(back.height, 512);
  EXPECT_EQ(back.batch, 2);
  EXPECT_EQ(back.clipSkip, 1);
  EXPECT_EQ(extra.at("Model"), std::string("toy"));
  EXPECT_EQ(extra.at("RespoDiff"), std::string("gender: balanced, ram 1.0"));
}

RESPO_TEST(weighted_prompts_are_kept_as_typed) {
  // The weighting syntax, escapes and BREAK travel in the parameters text untouched, both ways.
  GenerationRequest r;
  r.prompt = "(masterpiece:1.2), a [blurry] \\(castle\\) BREAK (((sky))), Steps: 99";
  r.negativePrompt = "(ugly:1.3) BREAK [text]";
  const auto back = parseParameters(formatParameters(r, "toy"));
  EXPECT_EQ(back.prompt, r.prompt);
  EXPECT_EQ(back.negativePrompt, r.negativePrompt);
  EXPECT_EQ(back.steps, r.steps);  // the "Steps: 99" inside the prompt is text, not a setting
  // As A1111 writes it.
  const auto a1111 = parseParameters("(masterpiece:1.2), castle BREAK sky\nNegative prompt: [blurry]\n"
                                     "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512");
  EXPECT_EQ(a1111.prompt, std::string("(masterpiece:1.2), castle BREAK sky"));
  EXPECT_EQ(a1111.negativePrompt, std::string("[blurry]"));
}

RESPO_TEST(a_negative_prompt_with_a_line_like_its_own_label_reads_back_the_same) {
  // Found by fuzzing: a second "Negative prompt:" line used to lose its label on the next round trip.
  const std::string text = "a cat\nNegative prompt: blurry\nNegative prompt:Negative prompt: dark\n"
                           "Steps: 4, Sampler: DDIM, CFG scale: 7, Seed: 1, Size: 8x8";
  const auto first = parseParameters(text);
  EXPECT_EQ(first.prompt, std::string("a cat"));
  EXPECT_EQ(first.negativePrompt, std::string("blurry\nNegative prompt:Negative prompt: dark"));
  const auto again = parseParameters(formatParameters(first, "toy"));
  EXPECT_EQ(again.negativePrompt, first.negativePrompt);
  EXPECT_EQ(again.prompt, first.prompt);
}

RESPO_TEST(reads_text_written_by_another_front_end) {
  const auto r = parseParameters(
      "masterpiece, a castle\nNegative prompt: ugly\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 5, "
      "Size: 512x768, Model hash: abc, Model: v1-5");
  EXPECT_EQ(r.prompt, std::string("masterpiece, a castle"));
  EXPECT_EQ(r.scheduler, std::string("dpmpp_2m"));
  EXPECT_EQ(r.height, 768);
  EXPECT_THROWS(parseParameters("just a prompt"), respo::FormatError, "no 'Steps:' line");
  EXPECT_THROWS(parseParameters("p\nSteps: many"), respo::FormatError, "'Steps' has an unreadable value");
}

RESPO_TEST(concept_settings_round_trip_through_the_parameters_text) {
  using namespace respo::concepts;
  const std::string fp = "0123456789abcdef";
  Selection c;
  c.modules = {{{"a woman", fp, respo::hashing::sha256Hex("woman")}, {}, 1.0, 1.0},
               {{"a dark-skinned person", fp, respo::hashing::sha256Hex("dark")}, {}, 0.9, 1.2},
               {{"blood, red: (wet)", fp, respo::hashing::sha256Hex("blood")}, {}, 1.5, 0.0}};
  c.groups["gender"] = {FairnessPolicy::BalancedBatch, "", 1.0};
  c.groups["skin tone"] = {FairnessPolicy::Fixed, "a dark-skinned person", 0.6};
  GenerationRequest r;
  r.prompt = "a photo of a firefighter";
  const auto text = formatParameters(r, "toy", c.toParameters());
  EXPECT(text.find("RespoDiff: a woman [RAM 100% SAM 100%]; a dark-skinned person [RAM 90% SAM 120%]; "
                   "blood%2C red%3A %28wet%29 [RAM 150% SAM 0%]") != std::string::npos);
  EXPECT(text.find("RespoDiff hashes: \"a woman: " + respo::hashing::sha256Hex("woman").substr(0, 10) + ", ") !=
         std::string::npos);
  EXPECT(text.find("RespoDiff base: " + fp) != std::string::npos);
  std::map<std::string, std::string> extra;
  parseParameters(text, &extra);
  const auto back = Selection::fromParameters(extra);
  EXPECT_EQ(back.modules.size(), std::size_t{3});
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.modules[i].id.name, c.modules[i].id.name);
    EXPECT_EQ(back.modules[i].id.fileHash, c.modules[i].id.fileHash.substr(0, 10));
    EXPECT_EQ(back.modules[i].id.modelFingerprint, fp);
    // The short hash written identifies the module whose full hash the library knows.
    EXPECT(back.modules[i].id.matches(c.modules[i].id));
    EXPECT(!back.modules[i].id.matches(c.modules[(i + 1) % 3].id));
    EXPECT(back.modules[i].file.empty());
    EXPECT_NEAR(back.modules[i].ramStrength, c.modules[i].ramStrength, 1e-12);
    EXPECT_NEAR(back.modules[i].samStrength, c.modules[i].samStrength, 1e-12);
  }
  EXPECT_EQ(back.groups.size(), std::size_t{2});
  EXPECT(back.groups.at("gender").policy == FairnessPolicy::BalancedBatch);
  EXPECT(back.groups.at("skin tone").policy == FairnessPolicy::Fixed);
  EXPECT_EQ(back.groups.at("skin tone").fixedMember, std::string("a dark-skinned person"));
  EXPECT_NEAR(back.groups.at("skin tone").weight, 0.6, 1e-12);
  // No concept: no entries, and nothing read back.
  EXPECT(Selection{}.toParameters().empty());
  EXPECT(Selection::fromParameters({{"Model", "toy"}}).empty());
  // Pictures written before modules carried hashes restore by name.
  const auto old = Selection::fromParameters({{"RespoDiff", "a woman [RAM 100% SAM 100%]"}});
  EXPECT(!old.modules.front().id.hasHash());
  EXPECT(old.modules.front().id.matches(c.modules[0].id));
}

RESPO_TEST(module_identity_matches_on_name_base_model_and_hash) {
  using respo::concepts::ModuleIdentity;
  const std::string h1 = respo::hashing::sha256Hex("one"), h2 = respo::hashing::sha256Hex("two");
  const ModuleIdentity user{"a woman", "aa", h1}, shipped{"a woman", "aa", h2};
  EXPECT(user.matches(user));
  EXPECT(!user.matches(shipped));                           // same name, another file
  EXPECT(user.matches({"a woman", "aa", h1.substr(0, 10)}));  // a picture's short hash
  EXPECT(!user.matches({"a woman", "aa", h2.substr(0, 10)}));
  EXPECT(!user.matches({"a woman", "bb", h1}));             // trained on another model
  EXPECT(!user.matches({"a man", "aa", h1}));
  EXPECT(user.matches({"a woman", "", ""}));                // name only: an older picture
}

RESPO_TEST(sha256_matches_the_standard_vectors) {
  using respo::hashing::sha256Hex;
  EXPECT_EQ(sha256Hex(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_EQ(sha256Hex("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  // One million 'a' fed in uneven pieces crosses every buffering path.
  respo::hashing::Sha256 hash;
  const std::string a(1000, 'a');
  for (int i = 0, piece = 1; i < 1000000;) {
    const int n = std::min(piece, 1000000 - i);
    hash.update(a.data(), static_cast<std::size_t>(std::min(n, 1000)));
    i += std::min(n, 1000);
    piece = piece * 7 % 997 + 1;
  }
  EXPECT_EQ(hash.hexDigest(), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  const auto file = std::filesystem::temp_directory_path() / "respodiff-sha256-test.bin";
  { std::ofstream(file, std::ios::binary) << "abc"; }
  EXPECT_EQ(respo::hashing::fileSha256(file), sha256Hex("abc"));
  std::filesystem::remove(file);
  EXPECT_THROWS(respo::hashing::fileSha256(file), respo::IoError, "cannot be read");
  EXPECT_THROWS(respo::hashing::fileSha256(std::filesystem::temp_directory_path()), respo::IoError, "not a regular file");
}

RESPO_TEST(unreadable_concept_settings_are_reported) {
  auto parse = [](std::map<std::string, std::string> extra) { return respo::concepts::Selection::fromParameters(extra); };
  EXPECT_THROWS(parse({{"RespoDiff", "a woman"}}), respo::FormatError, "name [RAM n% SAM n%]");
  EXPECT_THROWS(parse({{"RespoDiff", "a woman [RAM lots SAM 100%]"}}), respo::FormatError, "strength 'lots'");
  EXPECT_THROWS(parse({{"RespoDiff groups", "gender=sometimes"}}), respo::FormatError, "unknown fairness policy");
  EXPECT_THROWS(parse({{"RespoDiff groups", "gender=fixed"}}), respo::FormatError, "names its member");
  EXPECT_THROWS(parse({{"RespoDiff groups", "gender"}}), respo::FormatError, "group=policy");
  const std::string one = "a woman [RAM 100% SAM 100%]";
  EXPECT_THROWS(parse({{"RespoDiff", one}, {"RespoDiff hashes", "a woman: 1a2b3c4d5e, a man: 1a2b3c4d5e"}}),
                respo::FormatError, "lists 2 modules");
  EXPECT_THROWS(parse({{"RespoDiff", one}, {"RespoDiff hashes", "a man: 1a2b3c4d5e"}}), respo::FormatError, "name: hash");
  EXPECT_THROWS(parse({{"RespoDiff", one}, {"RespoDiff hashes", "a woman: xyz"}}), respo::FormatError, "name: hash");
  EXPECT_THROWS(parse({{"RespoDiff", one}, {"RespoDiff base", "not hex!"}}), respo::FormatError, "fingerprint");
  // Strengths the engine cannot use are refused before anything is written.
  respo::concepts::Selection bad;
  bad.modules.push_back({{"a woman", "", ""}, {}, std::nan(""), 1.0});
  EXPECT_THROWS(bad.toParameters(), respo::InvalidArgument, "RAM strength of 'a woman'");
  bad.modules.front().ramStrength = 11;
  EXPECT_THROWS(bad.validate(), respo::InvalidArgument, "0-1000%");
}

RESPO_TEST(png_keeps_pixels_and_text) {
  respo::io::RgbImage image{3, 2, {255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9}};
  const auto path = std::filesystem::temp_directory_path() / "respodiff-png-test.png";
  respo::io::writePng(path, image, {{"parameters", "a photo\nSteps: 1"}, {"unicode", "café ✓"}});
  std::map<std::string, std::string> text;
  const auto back = respo::io::readPng(path, &text);
  EXPECT_EQ(back.width, 3);
  EXPECT(back.pixels == image.pixels);
  EXPECT_EQ(text.at("parameters"), std::string("a photo\nSteps: 1"));
  EXPECT_EQ(text.at("unicode"), std::string("café ✓"));
  EXPECT_THROWS(respo::io::readPng(std::filesystem::temp_directory_path()), respo::IoError, "cannot");
}

// ---- Safe Latent Diffusion settings ------------------------------------------------------------

RESPO_TEST(sld_presets_are_the_papers) {
  const auto weak = SafeLatentGuidance::preset("weak"), max = SafeLatentGuidance::preset("max");
  EXPECT_EQ(weak.warmupSteps, 15);
  EXPECT_EQ(weak.guidanceScale, 20.0);
  EXPECT_EQ(max.warmupSteps, 0);
  EXPECT_EQ(max.threshold, 1.0);
  EXPECT_EQ(SafeLatentGuidance::preset("strong").momentumBeta, 0.7);
  EXPECT(SafeLatentGuidance{} == SafeLatentGuidance::preset("medium"));  // the default is diffusers' default
  for (const auto& name : SafeLatentGuidance::presetNames()) EXPECT_EQ(SafeLatentGuidance::preset(name).presetName(), name);
  EXPECT_THROWS(SafeLatentGuidance::preset("extreme"), respo::InvalidArgument, "unknown SLD preset 'extreme'");
}

RESPO_TEST(sld_specs_parse_presets_overrides_and_concepts) {
  EXPECT(SafeLatentGuidance::parse("") == SafeLatentGuidance::preset("medium"));
  auto s = SafeLatentGuidance::parse("strong, warmup=5");
  EXPECT_EQ(s.guidanceScale, 2000.0);
  EXPECT_EQ(s.warmupSteps, 5);
  EXPECT_EQ(s.presetName(), std::string());
  s = SafeLatentGuidance::parse("guidance=1500,threshold=0.02,concept=blood, gore, a knife");
  EXPECT_EQ(s.guidanceScale, 1500.0);
  EXPECT_EQ(s.threshold, 0.02);
  EXPECT_EQ(s.safetyConcept, std::string("blood, gore, a knife"));
  EXPECT(SafeLatentGuidance::parse(s.spec()) == s);
  EXPECT(SafeLatentGuidance::parse(SafeLatentGuidance::preset("weak").spec()) == SafeLatentGuidance::preset("weak"));
  EXPECT_THROWS(SafeLatentGuidance::parse("warmup=3,strong"), respo::InvalidArgument, "may only come first");
  EXPECT_THROWS(SafeLatentGuidance::parse("guidance=lots"), respo::InvalidArgument, "must be a number");
  EXPECT_THROWS(SafeLatentGuidance::parse("guidance=1e9"), respo::InvalidArgument, "guidance scale must be between");
  EXPECT_THROWS(SafeLatentGuidance::parse("beta=-0.1"), respo::InvalidArgument, "momentum beta");
  EXPECT_THROWS(SafeLatentGuidance::parse("warmup=2.5"), respo::InvalidArgument, "whole number");
  EXPECT_THROWS(SafeLatentGuidance::parse("speed=3"), respo::InvalidArgument, "unknown SLD setting 'speed'");
  EXPECT_THROWS(SafeLatentGuidance::parse("concept=  "), respo::InvalidArgument, "concept is empty");
  EXPECT_THROWS(SafeLatentGuidance::parse("concept=\xff\xfe"), respo::InvalidArgument, "UTF-8");
}

RESPO_TEST(sld_settings_round_trip_through_the_parameters_text) {
  GenerationRequest r;
  r.prompt = "a knife fight";
  r.width = r.height = 64;
  auto custom = SafeLatentGuidance::parse("max,warmup=3,concept=blood, \"gore\", a knife: sharp");
  for (const auto& sld : {SafeLatentGuidance::preset("weak"), SafeLatentGuidance::preset("max"), custom}) {
    const auto text = formatParameters(r, "toy", sld.toParameters());
    std::map<std::string, std::string> extra;
    parseParameters(text, &extra);
    const auto back = SafeLatentGuidance::fromParameters(extra);
    REQUIRE(back.has_value());
    EXPECT(*back == sld);
  }
  EXPECT(!SafeLatentGuidance::fromParameters({{"RespoDiff", "x [RAM 100% SAM 100%]"}}).has_value());
  // Surrounding spaces are not part of a concept, so the spec of what was read parses back to it
  // (found by fuzzing: tests/fuzz/seeds/parameters/regression-sld-concept-spaces.txt).
  const auto spaced = SafeLatentGuidance::fromParameters({{"SLD", "medium"}, {"SLD concept", " blood, a knife "}});
  EXPECT_EQ(spaced->safetyConcept, std::string("blood, a knife"));
  EXPECT(SafeLatentGuidance::parse(spaced->spec()) == *spaced);
  EXPECT_THROWS(SafeLatentGuidance::fromParameters({{"SLD", "ultra"}}), respo::FormatError, "unknown SLD preset");
  EXPECT_THROWS(SafeLatentGuidance::fromParameters({{"SLD", "guidance 10, speed 3"}}), respo::FormatError,
                "cannot read the SLD setting 'speed 3'");
  EXPECT_THROWS(SafeLatentGuidance::fromParameters({{"SLD", "guidance 1e300, warmup 1"}}), respo::FormatError,
                "guidance scale must be between");
}

RESPO_TEST(group_target_shares_round_trip_through_the_parameters_text) {
  respo::concepts::Selection selection;
  respo::concepts::SelectedModule woman, man;
  woman.id.name = "a woman";
  man.id.name = "a man, 40=old";
  selection.modules = {woman, man};
  respo::concepts::GroupOptions gender;
  gender.policy = respo::concepts::FairnessPolicy::BalancedBatch;
  gender.shares = {{"a woman", 30}, {"a man, 40=old", 70.5}};
  gender.weight = 0.6;
  selection.groups["gender"] = gender;
  const auto extra = selection.toParameters();
  EXPECT(extra.at("RespoDiff groups").find("gender=balanced:a woman=30,a man%2C 40%3Dold=70.5 (weight 0.6)") !=
         std::string::npos);
  GenerationRequest r;
  r.prompt = "a doctor";
  std::map<std::string, std::string> back;
  parseParameters(formatParameters(r, "toy", extra), &back);
  const auto restored = respo::concepts::Selection::fromParameters(back);
  EXPECT(restored.groups.at("gender") == gender);
  EXPECT_THROWS(respo::concepts::Selection::fromParameters({{"RespoDiff groups", "gender=balanced:a woman=x"}}),
                respo::FormatError, "expected 'member=share'");
  selection.groups["gender"].shares = {{"a woman", -1}};
  EXPECT_THROWS(selection.validate(), respo::InvalidArgument, "must be 0 or more");
  selection.groups["gender"].shares = {{"a woman", 0}};
  EXPECT_THROWS(selection.validate(), respo::InvalidArgument, "add up to nothing");
}

// ---- what other front ends read: A1111 1.9+ names, model hash, true sizes, batch positions -------

RESPO_TEST(every_scheduler_is_written_with_a1111_sampler_and_schedule_names) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"ddim", "DDIM", "Automatic"},          {"euler", "Euler", "Automatic"},
      {"euler_a", "Euler a", "Automatic"},    {"dpmpp_2m", "DPM++ 2M", "Karras"},
      {"pndm", "PLMS", "Automatic"},          {"DPMSolverMultistepScheduler", "DPM++ 2M", "Uniform"}};
  for (const auto& [id, sampler, schedule] : cases) {
    GenerationRequest r;
    r.prompt = "a cat";
    r.scheduler = id;
    r.width = r.height = 64;
    const auto text = formatParameters(r, "toy", {}, "0123abcdef");
    EXPECT(text.find("Sampler: " + sampler + ", Schedule type: " + schedule + ",") != std::string::npos);
    EXPECT(text.find("Model hash: 0123abcdef, Model: toy") != std::string::npos);
    std::map<std::string, std::string> extra;
    EXPECT_EQ(parseParameters(text, &extra).scheduler, id);
    EXPECT(!extra.count("Sampler"));
    EXPECT_EQ(extra.at("Model hash"), std::string("0123abcdef"));
  }
}

RESPO_TEST(the_models_own_scheduler_is_named_by_what_it_is) {
  EXPECT_EQ(resolvedScheduler("", "DDIMScheduler", false), std::string("ddim"));
  EXPECT_EQ(resolvedScheduler("default", "PNDMScheduler", false), std::string("pndm"));
  EXPECT_EQ(resolvedScheduler("", "EulerAncestralDiscreteScheduler", false), std::string("euler_a"));
  EXPECT_EQ(resolvedScheduler("", "DPMSolverMultistepScheduler", true), std::string("dpmpp_2m"));
  EXPECT_EQ(resolvedScheduler("", "DPMSolverMultistepScheduler", false), std::string("DPMSolverMultistepScheduler"));
  EXPECT_EQ(resolvedScheduler("euler", "DDIMScheduler", false), std::string("euler"));  // asked for: kept
  EXPECT_EQ(resolvedScheduler("", "LMSDiscreteScheduler", false), std::string(""));    // not ours: unnamed
}

RESPO_TEST(sampler_names_of_every_front_end_are_understood) {
  // A1111 1.9+, A1111 before 1.9, ComfyUI savers, ours.
  EXPECT_EQ(schedulerFromLabel("DPM++ 2M", "Karras"), std::string("dpmpp_2m"));
  EXPECT_EQ(schedulerFromLabel("DPM++ 2M", "Automatic"), std::string("dpmpp_2m"));  // Karras is its own default
  EXPECT_EQ(schedulerFromLabel("DPM++ 2M", ""), std::string("dpmpp_2m"));
  EXPECT_EQ(schedulerFromLabel("DPM++ 2M", "Uniform"), std::string("DPMSolverMultistepScheduler"));
  EXPECT_EQ(schedulerFromLabel("DPM++ 2M Karras"), std::string("dpmpp_2m"));
  EXPECT_EQ(schedulerFromLabel("Euler a", "Automatic"), std::string("euler_a"));
  EXPECT_EQ(schedulerFromLabel("euler_ancestral"), std::string("euler_a"));
  EXPECT_EQ(schedulerFromLabel("euler_ancestral_karras"), std::string("euler_a"));
  EXPECT_EQ(schedulerFromLabel("dpmpp_2m_karras"), std::string("dpmpp_2m"));
  EXPECT_EQ(schedulerFromLabel("PLMS"), std::string("pndm"));
  EXPECT_EQ(schedulerFromLabel("ddim"), std::string("ddim"));
  EXPECT_EQ(schedulerFromLabel("UniPC", "Automatic"), std::string(""));
  EXPECT_EQ(schedulerFromLabel("DPM++ SDE", "Karras"), std::string(""));
  // Not ours: the request keeps the model's own, and the text's sampler is handed back to say so.
  std::map<std::string, std::string> extra;
  const auto r = parseParameters("a cat\nSteps: 20, Sampler: UniPC, Schedule type: Automatic, CFG scale: 7, Seed: 1, "
                                 "Size: 512x512", &extra);
  EXPECT_EQ(r.scheduler, std::string(""));
  EXPECT_EQ(extra.at("Sampler"), std::string("UniPC"));
}

RESPO_TEST(a_picture_text_states_its_true_size_and_batch_position) {
  GenerationRequest r;
  r.prompt = "a cat, sitting";
  r.scheduler = "ddim";
  r.width = 64;
  r.height = 48;
  r.batch = 3;
  r.seed = 9;
  const auto text = formatParameters(r, "toy");
  // One image of the batch.
  const auto second = pictureParameters(text, 64, 48, 1);
  EXPECT(second.find("Size: 64x48,") != std::string::npos);
  EXPECT(second.find("Batch size: 3") != std::string::npos);
  EXPECT(second.find(", Batch pos: 1") != std::string::npos);
  std::map<std::string, std::string> extra;
  const auto back = parseParameters(second, &extra);
  EXPECT_EQ(back.seed, 9u);
  EXPECT_EQ(back.batch, 3);
  EXPECT_EQ(extra.at("Batch pos"), std::string("1"));
  EXPECT_EQ(back.prompt, r.prompt);
  // Written again (a picture re-saved), the position is replaced, not repeated.
  const auto again = pictureParameters(second, 64, 48, 2);
  EXPECT(again.find("Batch pos: 1") == std::string::npos);
  EXPECT(again.find("Batch pos: 2") != std::string::npos);
  // A sheet of two images side by side: the file's size, and the images' size to restore.
  const auto sheet = pictureParameters(text, 136, 48);
  EXPECT(sheet.find("Size: 136x48, Sheet cell size: 64x48") != std::string::npos);
  extra.clear();
  const auto fromSheet = parseParameters(sheet, &extra);
  EXPECT_EQ(fromSheet.width, 64);
  EXPECT_EQ(fromSheet.height, 48);
  EXPECT_EQ(extra.at("Sheet size"), std::string("136x48"));
  // A single picture: nothing added.
  GenerationRequest one = r;
  one.batch = 1;
  const auto single = formatParameters(one, "toy");
  EXPECT_EQ(pictureParameters(single, 64, 48, 0), single);
}

RESPO_TEST(values_that_need_quoting_read_back_as_written) {
  GenerationRequest r;
  r.prompt = "p";
  r.scheduler = "euler";
  r.width = r.height = 8;
  for (const std::string name : {"toy \"quoted\" model", "back\\slash, comma", "colon: here", "\"starts with a quote",
                                 "ends with a quote\"", "tab\there", "\\\"mixed\\\", x"}) {
    std::map<std::string, std::string> extra;
    parseParameters(formatParameters(r, name, {{"Note", name}}), &extra);
    EXPECT_EQ(extra.at("Model"), name);
    EXPECT_EQ(extra.at("Note"), name);
  }
}

RESPO_TEST(texts_of_other_front_ends_restore) {
  const std::string dir = respo::testing::option("infotext");
  REQUIRE(!dir.empty());
  auto read = [&](const std::string& name) {
    std::ifstream in(dir + "/" + name, std::ios::binary);
    REQUIRE(static_cast<bool>(in));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  struct Case {
    std::string file, scheduler;
    int steps, width, height;
    std::uint64_t seed;
    double cfg;
  };
  const std::vector<Case> cases = {
      {"a1111-1.10-txt2img-dpmpp2m-karras-lora.txt", "dpmpp_2m", 28, 512, 768, 2387410572ull, 7},
      {"a1111-1.10-txt2img-euler-a-automatic-hires.txt", "euler_a", 25, 832, 1216, 1048576ull, 6},
      {"a1111-1.7-legacy-sampler-dpmpp2m-karras.txt", "dpmpp_2m", 20, 512, 512, 3405691582ull, 7},
      {"a1111-1.10-img2img-inpaint.txt", "dpmpp_2m", 30, 512, 512, 987654321ull, 7},
      {"a1111-1.10-txt2img-batch-image2.txt", "euler", 20, 512, 512, 12346ull, 7},
      {"a1111-2022-legacy-batch-image2.txt", "euler_a", 20, 512, 512, 12346ull, 7},
      {"comfyui-image-saver-alexopus-1.23.txt", "dpmpp_2m", 30, 1024, 1024, 156680208700286ull, 6.5},
      {"comfyui-image-saver-giriss.txt", "euler_a", 25, 512, 768, 42ull, 7}};
  for (const auto& c : cases) {
    std::map<std::string, std::string> extra;
    const auto r = parseParameters(read(c.file), &extra);
    EXPECT_EQ(r.scheduler, c.scheduler);
    EXPECT_EQ(r.steps, c.steps);
    EXPECT_EQ(r.width, c.width);
    EXPECT_EQ(r.height, c.height);
    EXPECT_EQ(r.seed, c.seed);
    EXPECT_NEAR(r.guidanceScale, c.cfg, 1e-12);
    EXPECT(!r.prompt.empty());
    EXPECT(!extra.count("Sampler"));  // every sampler understood
    EXPECT(extra.count("Model hash"));
  }
  std::map<std::string, std::string> extra;
  const auto lora = parseParameters(read("a1111-1.10-txt2img-dpmpp2m-karras-lora.txt"), &extra);
  EXPECT_EQ(lora.clipSkip, 1);
  EXPECT_EQ(extra.at("Lora hashes"), std::string("add_detail: 7c6bad76eb54"));
  const auto inpaint = parseParameters(read("a1111-1.10-img2img-inpaint.txt"));
  EXPECT_NEAR(inpaint.strength, 0.6, 1e-12);
  EXPECT_NEAR(inpaint.maskBlur, 4, 1e-12);
}

RESPO_TEST(model_hash_of_a_file_and_of_a_folder) {
  namespace fs = std::filesystem;
  const fs::path dir = respo::testing::scratchFolder("model-hash");
  auto write = [](const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  };
  // A single file: A1111's short hash, the whole file's SHA-256.
  write(dir / "model.safetensors", "weights of a single-file checkpoint");
  EXPECT_EQ(modelHash(dir / "model.safetensors"),
            respo::hashing::sha256Hex("weights of a single-file checkpoint").substr(0, 10));
  EXPECT_EQ(modelName(dir / "model.safetensors"), std::string("model"));
  // A folder: the SHA-256 of sha256sum's listing of its weights, configs and texts, in byte order.
  const fs::path folder = dir / "my model";
  write(folder / "unet" / "diffusion_pytorch_model.safetensors", "unet");
  write(folder / "model_index.json", "{}");
  write(folder / "tokenizer" / "vocab.json", "{\"a\": 0}");
  write(folder / "README.md", "not counted");
  write(folder / ".cache" / "x.json", "hidden: not counted");
  const std::string listing = respo::hashing::sha256Hex("{}") + "  model_index.json\n" +
                              respo::hashing::sha256Hex("{\"a\": 0}") + "  tokenizer/vocab.json\n" +
                              respo::hashing::sha256Hex("unet") + "  unet/diffusion_pytorch_model.safetensors\n";
  const auto hash = modelHash(folder);
  EXPECT_EQ(hash, respo::hashing::sha256Hex(listing).substr(0, 10));
  EXPECT_EQ(modelName(folder), std::string("my model"));
  EXPECT_EQ(modelName(folder / ""), std::string("my model"));
  // A changed file changes it (the remembered hash is keyed by size and time).
  write(folder / "unet" / "diffusion_pytorch_model.safetensors", "unet, retrained");
  EXPECT(modelHash(folder) != hash);
  EXPECT_THROWS(modelHash(dir / "missing.safetensors"), respo::IoError, "cannot read");
}
