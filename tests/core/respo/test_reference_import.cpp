// core/respo/reference_import: torch.save checkpoints written by tests/reference/respo_import_reference.py
// read back bit for bit without unpickling (contiguous and strided views, parameters, bfloat16 and
// float16, pickle protocol 4, zip64 records, the full-size layout), concepts land under the right names
// and columns, and every bad file (code execution, non-tensor values, damaged archives) is refused with
// its own message.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include <unistd.h>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/io/pickle_reader.h"
#include "core/respo/reference_import.h"
#include "core/io/zip_reader.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::concepts;
using namespace respo::io;
using TensorMap = std::map<std::string, torch::Tensor>;

namespace {

fs::path file(const std::string& name) { return fs::path(respo::testing::option("dir")) / name; }

TensorMap expected(const std::string& stem) {
  return respo::io::loadAll(respo::io::SafetensorsFile::open(file(stem + "_expected.safetensors")));
}

bool sameBits(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || !a.sizes().equals(b.sizes())) return false;
  const auto ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

// Every stored tensor comes back contiguous and bit-identical; nothing more, nothing less.
void checkAllTensors(const std::string& checkpoint, const std::string& stem) {
  const TensorMap got = readTorchZipTensors(file(checkpoint));
  const TensorMap want = expected(stem);
  std::size_t stored = 0;
  for (const auto& [name, tensor] : want) {
    if (name.rfind("ram.", 0) == 0 || name.rfind("sam.", 0) == 0) continue;
    ++stored;
    const auto found = got.find(name);
    REQUIRE(found != got.end());
    EXPECT(found->second.is_contiguous());
    if (!sameBits(found->second, tensor)) respo::testing::recordFailure(__FILE__, __LINE__, checkpoint + ": " + name + " differs");
  }
  EXPECT_EQ(got.size(), stored);
}

void checkConcepts(const std::vector<ImportedConcept>& concepts, const TensorMap& want,
                   const std::vector<std::pair<std::string, int>>& columns, std::vector<int64_t> shape) {
  REQUIRE(concepts.size() == columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto& c = concepts[i];
    EXPECT_EQ(c.name, columns[i].first);
    EXPECT_EQ(c.column, columns[i].second);
    const std::string index = std::to_string(c.column);
    EXPECT(c.ram.scalar_type() == torch::kFloat32 && c.ram.is_contiguous());
    EXPECT(c.ram.sizes().equals(shape) && c.sam.sizes().equals(shape));
    EXPECT(sameBits(c.ram, want.at("ram." + index).reshape(shape)));
    EXPECT(sameBits(c.sam, want.at("sam." + index).reshape(shape)));
    EXPECT(!sameBits(c.ram, c.sam));
  }
}

std::string messageOf(const std::string& name) {
  try {
    readTorchZipTensors(file(name));
  } catch (const respo::FormatError& e) {
    return e.what();
  }
  return "(no FormatError)";
}

}  // namespace

RESPO_TEST(reads_every_tensor_bit_exactly) {
  checkAllTensors("small.pt", "small");          // a parameter, bfloat16, OrderedDict with _metadata
  checkAllTensors("strided.pt", "strided");      // transposed, offset, shared-storage and permuted views
  checkAllTensors("half.pt", "half");
  checkAllTensors("protocol4.pt", "small");      // FRAME, MEMOIZE, STACK_GLOBAL
  checkAllTensors("zip64.pt", "small");          // zip64 extra fields and end records
  checkAllTensors("full.pt", "full");
  const TensorMap small = readTorchZipTensors(file("small.pt"));
  EXPECT(small.at("controlnet.other.bias").scalar_type() == torch::kBFloat16);
  EXPECT(small.at(kReferenceRamName).sizes().equals({32, 10}));
  EXPECT(readTorchZipTensors(file("strided.pt")).at("other.permuted").sizes().equals({4, 2, 3}));
}

RESPO_TEST(imports_the_reference_index_map) {
  const auto columns = referenceColumns();
  EXPECT_EQ(columns.size(), std::size_t{8});
  EXPECT_EQ(columns[3].first, std::string("a white-race person"));
  EXPECT_EQ(columns[5].first, std::string("a Asian-race person"));
  EXPECT_EQ(columns[7].second, 7);
  checkConcepts(importReferenceCheckpoint(file("small.pt"), {}, {8, 2, 2}), expected("small"), columns, {1, 8, 2, 2});
  checkConcepts(importReferenceCheckpoint(file("strided.pt"), {}, {8, 2, 2}), expected("strided"), columns, {1, 8, 2, 2});
  checkConcepts(importReferenceCheckpoint(file("half.pt"), {}, {8, 2, 2}), expected("half"), columns, {1, 8, 2, 2});
  checkConcepts(importReferenceCheckpoint(file("full.pt")), expected("full"), columns, {1, 1280, 8, 8});
}

RESPO_TEST(age_naming_and_custom_columns) {
  const auto age = referenceColumns(true);
  EXPECT_EQ(age[3].first, std::string("old"));
  EXPECT_EQ(age[3].second, 3);
  for (const auto& [name, column] : age) EXPECT(name != "a white-race person");
  checkConcepts(importReferenceCheckpoint(file("small.pt"), age, {8, 2, 2}), expected("small"), age, {1, 8, 2, 2});
  const std::vector<std::pair<std::string, int>> custom = {{"unused nine", 9}, {"a woman", 0}, {"eight", 8}};
  checkConcepts(importReferenceCheckpoint(file("small.pt"), custom, {8, 2, 2}), expected("small"), custom, {1, 8, 2, 2});
}

RESPO_TEST(shape_option) {
  // Any (C, H, W) with C*H*W = 32 views the same column differently.
  checkConcepts(importReferenceCheckpoint(file("small.pt"), {}, {2, 4, 4}), expected("small"), referenceColumns(), {1, 2, 4, 4});
  EXPECT_THROWS(importReferenceCheckpoint(file("small.pt")), respo::FormatError,
                "'controlnet.fc1.weight' has 32 rows, but the concept shape 1280x8x8 needs 81920");
  EXPECT_THROWS(importReferenceCheckpoint(file("full.pt"), {}, {1280, 8, 4}), respo::FormatError, "has 81920 rows");
  EXPECT_THROWS(importReferenceCheckpoint(file("small.pt"), {}, {8, 4}), respo::InvalidArgument, "three positive sizes");
  EXPECT_THROWS(importReferenceCheckpoint(file("small.pt"), {}, {8, 0, 4}), respo::InvalidArgument, "three positive sizes");
}

RESPO_TEST(bad_column_maps) {
  const std::vector<int64_t> shape = {8, 2, 2};
  EXPECT_THROWS(importReferenceCheckpoint(file("small.pt"), {{"x", 10}}, shape), respo::InvalidArgument,
                "concept 'x' is column 10, but the checkpoint has 10 columns");
  EXPECT_THROWS(importReferenceCheckpoint(file("small.pt"), {{"x", -1}}, shape), respo::InvalidArgument, "negative column");
  EXPECT_THROWS(importReferenceCheckpoint(file("small.pt"), {{"x", 1}, {"x", 2}}, shape), respo::InvalidArgument,
                "concept 'x' is listed twice");
  EXPECT_THROWS(importReferenceCheckpoint(file("small.pt"), {{"", 1}}, shape), respo::InvalidArgument, "name is empty");
  EXPECT_THROWS(importReferenceCheckpoint(file("plain.pt"), {}, shape), respo::FormatError,
                "no tensor 'controlnet.fc1.weight', so this is not a RespoDiff reference checkpoint (it holds unet.conv.weight)");
}

RESPO_TEST(refuses_code_execution) {
  const fs::path marker = file("pwned.txt");
  EXPECT_THROWS(readTorchZipTensors(file("malicious.pt")), respo::FormatError,
                "refers to the Python global 'posix.system'");
  EXPECT_THROWS(importReferenceCheckpoint(file("malicious.pt")), respo::FormatError, "could run code");
  EXPECT(!fs::exists(marker));
  EXPECT_THROWS(readTorchZipTensors(file("inst.pt")), respo::FormatError,
                "pickle opcode INST (0x69) is not one torch.save writes for a dict of tensors; the file is refused "
                "because unpickling it could run code");
}

RESPO_TEST(each_bad_file_has_its_own_message) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"malicious.pt", "global 'posix.system'"},
      {"set.pt", "global '__builtin__.set'"},  // protocol 2 spells builtins this way
      {"custom.pt", "global '__main__.Custom'"},
      {"int_entry.pt", "entry 'epoch' is an int (3), not a tensor"},
      {"inst.pt", "opcode INST"},
      {"expanded.pt", "(expanded views are not supported)"},
      {"legacy.pt", "legacy torch.save format"},
      {"deflated.pt", "entry 'small/data.pkl' is compressed (method 8, deflate)"},
      {"truncated.pt", "no end-of-central-directory record: the zip archive is truncated"},
      {"missing_storage.pt", "storage record 'small/data/1' is missing from the archive"},
      {"corrupt.pt", "entry 'small/data/0' is corrupt (CRC-32"},
  };
  std::set<std::string> messages;
  for (const auto& [name, text] : cases) {
    const std::string message = messageOf(name);
    if (message.find(text) == std::string::npos || message.find(file(name).string()) == std::string::npos)
      respo::testing::recordFailure(__FILE__, __LINE__, name + ": expected '" + text + "', got: " + message);
    std::cout << "  " << name << " -> " << message << "\n";
    messages.insert(message);
  }
  EXPECT_EQ(messages.size(), cases.size());
  for (const char* name : {"set.pt", "custom.pt", "malicious.pt"}) EXPECT(messageOf(name).find("could run code") != std::string::npos);
  EXPECT_THROWS(readTorchZipTensors(file("no_such_file.pt")), respo::IoError, "no_such_file.pt");
  EXPECT(!fs::exists(file("pwned.txt")));
}

// Damaged input never crashes and never escapes as anything but a FormatError: every truncation and
// many byte substitutions of small.pt's pickle, and truncations and byte flips of the archive.
RESPO_TEST(survives_damaged_input) {
  const auto zip = ZipArchive::open(file("small.pt"));
  const auto pickle = zip.read(*zip.find("small/data.pkl"));
  std::vector<std::byte> copy(pickle.begin(), pickle.end());
  static const int kSubstitutes[] = {0x00, 0xff, 0x01, 0x8a, 0x85, 'q', 'h', 'R', 'Q', 'u', 's', 't', '(', ')', '}', 'X', 'b', '.'};
  int refused = 0, accepted = 0;
  auto parse = [&](std::span<const std::byte> data) {
    try {
      readTorchPickle(data, "fuzz");
      ++accepted;
    } catch (const respo::FormatError&) {
      ++refused;
    }
  };
  for (std::size_t n = 0; n < copy.size(); ++n) parse({copy.data(), n});
  for (std::size_t i = 0; i < copy.size(); ++i)
    for (int v : kSubstitutes) {
      const std::byte saved = copy[i];
      copy[i] = std::byte(v);
      parse(copy);
      copy[i] = saved;
    }
  EXPECT(refused > 0 && accepted > 0);

  std::ifstream in(file("small.pt"), std::ios::binary);
  const std::string archive((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path scratch = fs::temp_directory_path() / ("respo_import_fuzz_" + std::to_string(::getpid()) + ".pt");
  auto load = [&](const std::string& bytes) {
    std::ofstream(scratch, std::ios::binary | std::ios::trunc) << bytes;
    try {
      readTorchZipTensors(scratch);
    } catch (const respo::FormatError&) {
    }
  };
  // Every byte of the central directory and end record (the last 800 bytes), every 6th elsewhere.
  for (std::size_t n = 0; n < archive.size(); n += 9) load(archive.substr(0, n));
  for (std::size_t i = 0; i < archive.size(); i += (i + 800 >= archive.size() ? 1 : 6)) {
    std::string flipped = archive;
    flipped[i] = static_cast<char>(flipped[i] ^ (i % 2 ? 0xff : 0x01));
    load(flipped);
  }
  fs::remove(scratch);
}
