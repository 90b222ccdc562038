// The torch-free readers of untrusted files, on good files and on the hostile shapes the robustness
// work found (tests/hostile): PNG chunks, the zip and pickle readers of the reference importer,
// concept metadata, non-regular files. Runs in the sanitizer build too.
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "core/common/error.h"
#include "core/io/image.h"
#include "core/io/picture_files.h"
#include "core/io/pickle_reader.h"
#include "core/io/read_file.h"
#include "core/io/safetensors.h"
#include "core/io/zip_reader.h"
#include "core/respo/concept_metadata.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;

namespace {

fs::path scratch() { return respo::testing::scratchFolder("respodiff-formats"); }

fs::path seeds() { return respo::testing::option("seeds"); }

std::string bytesOf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

fs::path put(const std::string& name, const std::string& bytes) {
  const auto p = scratch() / name;
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p;
}

void put32(std::string& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xFF);
}

std::string chunk(const std::string& type, const std::string& body) {
  std::string out;
  put32(out, static_cast<std::uint32_t>(body.size()));
  const std::string tb = type + body;
  out += tb;
  put32(out, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(tb.data()), static_cast<uInt>(tb.size()))));
  return out;
}

std::string ihdr(std::uint32_t w, std::uint32_t h) {
  std::string body;
  put32(body, w);
  put32(body, h);
  body += std::string("\x08\x02\x00\x00\x00", 5);
  return chunk("IHDR", body);
}

const std::string kSignature = "\x89PNG\r\n\x1a\n";

}  // namespace

// ---- PNG -----------------------------------------------------------------------------------------

RESPO_TEST(png_round_trip_keeps_pixels_and_text) {
  io::RgbImage img{5, 3, std::vector<std::uint8_t>(45)};
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<std::uint8_t>(i * 11);
  const auto p = scratch() / "round.png";
  io::writePng(p, img, {{"parameters", "a cat\nSteps: 4, Seed: 1, Size: 8x8"}, {"Comment", "café ☕"}});
  std::map<std::string, std::string> text;
  const auto back = io::readPng(p, &text);
  EXPECT_EQ(back.width, 5);
  EXPECT_EQ(back.height, 3);
  EXPECT(back.pixels == img.pixels);
  EXPECT_EQ(text.at("Comment"), std::string("café ☕"));
  EXPECT(io::readPngText(p) == text);
}

RESPO_TEST(picture_files_name_a_batch_and_its_baseline_companions_one_way) {
  EXPECT(io::batchImagePath("out/cat.png", 0, 1) == fs::path("out/cat.png"));
  EXPECT(io::batchImagePath("out/cat.png", 1, 3) == fs::path("out/cat-1.png"));
  EXPECT(io::baselineCompanion("out/cat-1.png") == fs::path("out/cat-1-baseline.png"));
  EXPECT(io::isBaselineCompanion("out/cat-1-baseline.png"));
  EXPECT(!io::isBaselineCompanion("out/cat.png"));
  EXPECT(!io::isBaselineCompanion("out/-baseline.png"));  // nothing before the suffix: a picture's own name

  const auto folder = scratch() / "pictures";
  fs::create_directories(folder);
  io::PictureSet set;
  for (std::uint8_t v : {10, 20}) set.responsible.push_back({1, 1, {v, v, v}});
  for (std::uint8_t v : {30, 40}) set.baseline.push_back({1, 1, {v, v, v}});
  set.parameters = "a cat\nSteps: 4, Seed: 1, Size: 1x1, RespoDiff: blood [RAM 100% SAM 100%]";
  set.baselineParameters = "a cat\nSteps: 4, Seed: 1, Size: 1x1";
  const auto written = io::writePictures(folder / "cat.png", set);
  EXPECT(written == (std::vector<fs::path>{folder / "cat-0.png", folder / "cat-1.png"}));
  std::map<std::string, std::string> text;
  EXPECT(io::readPng(folder / "cat-1.png", &text).pixels == set.responsible[1].pixels);
  EXPECT_EQ(text.at("parameters"), set.parameters);
  EXPECT(io::readPng(folder / "cat-1-baseline.png", &text).pixels == set.baseline[1].pixels);
  EXPECT_EQ(text.at("parameters"), set.baselineParameters);

  // A fresh name avoids the single picture and the batch written above.
  EXPECT(io::freshPicturePath(folder, "cat") == folder / "cat-2.png");
  EXPECT(io::freshPicturePath(folder, "dog") == folder / "dog.png");
  set.baseline.pop_back();
  EXPECT_THROWS(io::writePictures(folder / "x.png", set), InvalidArgument, "1 baseline images for 2");
}

RESPO_TEST(png_damage_is_a_format_error) {
  const auto good = bytesOf(seeds() / "png" / "parameters.png");
  REQUIRE(good.size() > 60);
  auto flipped = good;
  flipped[40] = static_cast<char>(flipped[40] ^ 0x55);  // inside a chunk body: CRC mismatch
  EXPECT_THROWS(io::readPng(put("crc.png", flipped)), FormatError, "CRC");
  EXPECT_THROWS(io::readPng(put("cut.png", good.substr(0, good.size() / 2))), FormatError, "");
  EXPECT_THROWS(io::readPng(put("empty.png", "")), FormatError, "");
  EXPECT_THROWS(io::readPng(put("text.png", "not a png at all")), FormatError, "");
}

RESPO_TEST(png_dimensions_are_checked_before_anything_is_allocated) {
  // 100000 x 100000 RGB would be 30 GB; refused from the header alone.
  const auto huge = kSignature + ihdr(100000, 100000) + chunk("IDAT", "") + chunk("IEND", "");
  EXPECT_THROWS(io::readPng(put("huge.png", huge)), FormatError, "");
  const auto zero = kSignature + ihdr(0, 5) + chunk("IEND", "");
  EXPECT_THROWS(io::readPng(put("zero.png", zero)), FormatError, "");
  // IHDR must come first.
  const auto late = kSignature + chunk("tEXt", std::string("a\0b", 3)) + ihdr(1, 1) + chunk("IEND", "");
  EXPECT_THROWS(io::readPng(put("late.png", late)), FormatError, "IHDR");
}

RESPO_TEST(png_image_data_that_inflates_past_the_image_is_refused) {
  // 1x1 pixel, but the IDAT inflates to 10 MB of zeros.
  std::string raw(10u << 20, '\0');
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(size, '\0');
  REQUIRE(compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                    static_cast<uLong>(raw.size()), 9) == Z_OK);
  packed.resize(size);
  const auto bomb = kSignature + ihdr(1, 1) + chunk("IDAT", packed) + chunk("IEND", "");
  EXPECT_THROWS(io::readPng(put("bomb.png", bomb)), FormatError, "");
}

RESPO_TEST(png_latin1_text_is_read_as_utf8) {
  const auto pixel = std::string("\0\x10\x20\x30", 4);
  uLongf size = compressBound(4);
  std::string packed(size, '\0');
  compress(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(pixel.data()), 4);
  packed.resize(size);
  const auto file = kSignature + ihdr(1, 1) + chunk("tEXt", std::string("Comment\0caf\xe9", 12)) +
                    chunk("IDAT", packed) + chunk("IEND", "");
  const auto text = io::readPngText(put("latin1.png", file));
  EXPECT_EQ(text.at("Comment"), std::string("café"));
}

// ---- non-regular files ---------------------------------------------------------------------------

RESPO_TEST(a_fifo_or_a_folder_is_refused_without_waiting) {
  const auto fifo = scratch() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  EXPECT_THROWS(io::readFile(fifo), IoError, "pipe");
  EXPECT_THROWS(io::readHead(fifo, 3), IoError, "pipe");
  EXPECT_THROWS(io::readPng(fifo), IoError, "pipe");
  EXPECT_THROWS(io::SafetensorsFile::open(fifo), IoError, "pipe");
  EXPECT_THROWS(io::ZipArchive::open(fifo), IoError, "pipe");
  EXPECT_THROWS(io::readFile(scratch()), IoError, "folder");
  EXPECT_THROWS(io::readFile(scratch() / "missing"), IoError, "No such file");
}

RESPO_TEST(read_file_caps_the_size) {
  const auto p = put("big.txt", std::string(5000, 'x'));
  EXPECT_EQ(io::readFile(p, 5000).size(), 5000u);
  EXPECT_THROWS(io::readFile(p, 4999), IoError, "more than");
  EXPECT_EQ(io::readHead(p, 3), std::string("xxx"));
}

// ---- zip and pickle (the reference importer) ---------------------------------------------------

RESPO_TEST(a_torch_save_archive_reads_and_its_pickle_describes_its_tensors) {
  const auto archive = io::ZipArchive::open(seeds() / "zip" / "tensors.pt");
  const io::ZipEntry* pickle = nullptr;
  for (const auto& e : archive.entries())
    if (e.name.size() > 9 && e.name.substr(e.name.size() - 9) == "/data.pkl") pickle = &e;
  REQUIRE(pickle != nullptr);
  const auto parsed = io::readTorchPickle(archive.read(*pickle), "data.pkl");
  REQUIRE(parsed.root != nullptr);
  REQUIRE(parsed.root->kind == io::PickleValue::Kind::Dict);
  EXPECT_EQ(io::describe(*parsed.root), std::string("a dict of 3"));
  // {"state": {"ram": tensor [1, 2, 3], "p": parameter [2]}, "step": 3, "name": "x"}
  const io::PickleValue* state = nullptr;
  for (const auto& [key, value] : parsed.root->dict)
    if (key->kind == io::PickleValue::Kind::String && key->text == "state") state = value;
  REQUIRE(state != nullptr && state->kind == io::PickleValue::Kind::Dict);
  bool sawRam = false, sawParameter = false;
  for (const auto& [key, value] : state->dict) {
    REQUIRE(value->kind == io::PickleValue::Kind::Tensor);
    if (key->text == "ram") {
      sawRam = true;
      EXPECT(value->tensor.size == (std::vector<std::int64_t>{1, 2, 3}));
      EXPECT_EQ(value->tensor.storage.type, std::string("FloatStorage"));
      EXPECT(!value->tensor.parameter);
    }
    if (key->text == "p") sawParameter = value->tensor.parameter;
  }
  EXPECT(sawRam);
  EXPECT(sawParameter);
}

RESPO_TEST(damaged_archives_and_pickles_are_format_errors) {
  const auto good = bytesOf(seeds() / "zip" / "tensors.pt");
  EXPECT_THROWS(io::ZipArchive::open(put("cut.pt", good.substr(0, good.size() - 30))), FormatError, "");
  EXPECT_THROWS(io::ZipArchive::open(put("noise.pt", std::string(300, '\x50'))), FormatError, "");
  EXPECT_THROWS(io::ZipArchive::open(put("empty.pt", "")), FormatError, "");
  const auto pkl = bytesOf(seeds() / "pickle" / "data.pkl");
  auto span = [](const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); };
  EXPECT_THROWS(io::readTorchPickle(span(pkl.substr(0, pkl.size() / 2)), "data.pkl"), FormatError, "data.pkl");
  // A pickle that would call os.system: the reader builds values, it never imports or calls.
  const std::string evil = "\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00id" "\x85" "R.";
  EXPECT_THROWS(io::readTorchPickle(span(evil), "data.pkl"), FormatError, "os");
  // Deep nesting of empty lists does not recurse without bound.
  std::string deep = "\x80\x02";
  for (int i = 0; i < 200000; ++i) deep += "]";  // EMPTY_LIST
  for (int i = 0; i < 199999; ++i) deep += "a";  // APPEND
  deep += ".";
  try {
    (void)io::readTorchPickle(span(deep), "data.pkl");
  } catch (const Error&) {
  }
}

// ---- concept metadata ------------------------------------------------------------------------------

RESPO_TEST(concept_metadata_reads_a_shipped_module_and_refuses_bad_fields) {
  const auto file = io::SafetensorsFile::open(respo::testing::option("concepts") + "/gender-woman.safetensors");
  const auto record = concepts::parseConceptMetadata(file.metadata(), "gender-woman");
  EXPECT_EQ(record.settings.name, std::string("a woman"));
  EXPECT_EQ(record.hShape.size(), 3u);
  auto with = [&](const std::string& key, const std::string& value) {
    auto md = file.metadata();
    md[key] = value;
    return md;
  };
  EXPECT_THROWS(concepts::parseConceptMetadata(with("steps_done", "1e999"), "m"), FormatError, "steps_done");
  EXPECT_THROWS(concepts::parseConceptMetadata(with("steps", "4294967298"), "m"), FormatError, "steps");
  EXPECT_THROWS(concepts::parseConceptMetadata(with("w_tar", "nan"), "m"), FormatError, "w_tar");
  EXPECT_THROWS(concepts::parseConceptMetadata(with("ram_lr", "7abc"), "m"), FormatError, "ram_lr");
  EXPECT_THROWS(concepts::parseConceptMetadata(with("h_shape", "64x4x4x4"), "m"), FormatError, "h_shape");
  EXPECT_THROWS(concepts::parseConceptMetadata(with("format", "something-else"), "m"), FormatError, "not a RespoDiff");
  EXPECT_THROWS(concepts::parseConceptMetadata(with("more_neutral_prompts", "[[[[1]]]]"), "m"), FormatError, "");
  EXPECT_THROWS(concepts::parseConceptMetadata(with("name", "bad\xff\xfe"), "m"), FormatError, "");
  EXPECT_THROWS(concepts::checkConceptShape({1000000, 4, 4}, "m", "ram"), FormatError, "ram");
  EXPECT_THROWS(concepts::checkConceptShape({64, 0, 4}, "m", "sam"), FormatError, "sam");
}
