// core/io/safetensors against Python's safetensors package, both directions:
//  - python_written.safetensors (from the reference script) must read back bit-exactly;
//  - cpp_written.safetensors and cpp_rewritten.safetensors are checked by the script afterwards.
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::io;
using nlohmann::json;

namespace {

fs::path folder() { return respo::testing::option("dir"); }

json readJson(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string toHex(std::span<const std::byte> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out.push_back(digits[static_cast<int>(b) >> 4]);
    out.push_back(digits[static_cast<int>(b) & 15]);
  }
  return out;
}

std::vector<std::byte> fromHex(const std::string& hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

RESPO_TEST(reads_python_written_file_bit_exactly) {
  const auto file = SafetensorsFile::open(folder() / "python_written.safetensors");
  const json manifest = readJson(folder() / "python_manifest.json");
  REQUIRE(file.tensors().size() == manifest["tensors"].size());
  std::set<DType> seen;
  for (const auto& [name, spec] : manifest["tensors"].items()) {
    REQUIRE(file.contains(name));
    const auto& info = file.tensor(name);
    EXPECT_EQ(std::string(dtypeName(info.dtype)), spec["dtype"].get<std::string>());
    EXPECT(info.shape == spec["shape"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(toHex(file.bytes(info)), spec["hex"].get<std::string>());
    seen.insert(info.dtype);
  }
  EXPECT_EQ(seen.size(), 15u);  // every dtype we support
  EXPECT(file.metadata() == manifest["metadata"].get<Metadata>());
}

RESPO_TEST(writes_files_python_reads) {
  // Our own tensors: a deterministic byte pattern for every dtype (BOOL limited to 0/1).
  const Metadata metadata{{"written_by", "respodiff"}, {"unicode", "naïve ✓"}};
  json manifest{{"metadata", metadata}, {"tensors", json::object()}};
  std::vector<std::vector<std::byte>> storage;
  std::vector<TensorBytes> tensors;
  int k = 0;
  for (DType d : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::F8_E4M3, DType::F8_E5M2, DType::I64,
                  DType::I32, DType::I16, DType::I8, DType::U64, DType::U32, DType::U16, DType::U8, DType::BOOL}) {
    const std::vector<std::int64_t> shape{3, 1 + k % 4};
    const std::size_t n = static_cast<std::size_t>(shape[0] * shape[1]) * dtypeSize(d);
    std::vector<std::byte> bytes(n);
    for (std::size_t i = 0; i < n; ++i)
      bytes[i] = static_cast<std::byte>(d == DType::BOOL ? (i * 7 + k) % 2 : (i * 37 + k * 11 + 5) % 251);
    // Keep float bit patterns finite-ish is unnecessary: Python compares raw bytes.
    const std::string name = "cpp." + std::string(dtypeName(d));
    manifest["tensors"][name] = {{"dtype", dtypeName(d)}, {"shape", shape}, {"hex", toHex(bytes)}};
    storage.push_back(std::move(bytes));
    tensors.push_back({name, d, shape, storage.back()});
    ++k;
  }
  writeSafetensors(folder() / "cpp_written.safetensors", tensors, metadata);
  std::ofstream(folder() / "cpp_manifest.json") << manifest.dump();

  // And Python's own tensors, re-emitted by our writer.
  const auto source = SafetensorsFile::open(folder() / "python_written.safetensors");
  std::vector<TensorBytes> copies;
  for (const auto& info : source.tensors()) copies.push_back({info.name, info.dtype, info.shape, source.bytes(info)});
  writeSafetensors(folder() / "cpp_rewritten.safetensors", copies, source.metadata());
  EXPECT(fs::file_size(folder() / "cpp_written.safetensors") > 0);
}
