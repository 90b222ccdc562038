// core/io/safetensors: round trips and a corpus of crafted bad files, each rejected with its own
// message naming the file (and the tensor, where one is at fault).
#include <cstring>
#include <optional>
#include <set>
#include <filesystem>
#include <fstream>
#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

#include "core/common/error.h"
#include "core/io/safetensors.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::io;

namespace {

fs::path scratch() {
  static const fs::path dir = [] {
    auto d = fs::temp_directory_path() / ("respodiff-st-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string lengthPrefix(std::uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

// A file made of a header (padded as given) and `data` bytes.
fs::path craft(const std::string& name, const std::string& header, std::size_t dataBytes,
               std::optional<std::uint64_t> declaredLength = std::nullopt) {
  const fs::path path = scratch() / name;
  std::ofstream out(path, std::ios::binary);
  const std::string prefix = lengthPrefix(declaredLength.value_or(header.size()));
  out << prefix << header << std::string(dataBytes, '\x01');
  return path;
}

fs::path raw(const std::string& name, const std::string& bytes) {
  const fs::path path = scratch() / name;
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return path;
}

std::vector<std::byte> bytesOf(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

}  // namespace

RESPO_TEST(round_trip_keeps_bytes_shapes_and_metadata) {
  const auto a = bytesOf({1, 2, 3, 4, 5, 6, 7, 8});
  const auto b = bytesOf({9, 10, 11});
  const auto c = bytesOf({1, 0});
  const fs::path path = scratch() / "round_trip.safetensors";
  writeSafetensors(path,
                   {{"weight", DType::F32, {2}, a}, {"odd", DType::U8, {3}, b}, {"flags", DType::BOOL, {1, 2}, c},
                    {"empty", DType::F16, {0, 4}, {}}},
                   {{"name", "test"}, {"unicode", "é✓"}});
  const auto file = SafetensorsFile::open(path);
  REQUIRE(file.tensors().size() == 4);
  EXPECT_EQ(file.metadata().at("name"), std::string("test"));
  EXPECT_EQ(file.metadata().at("unicode"), std::string("é✓"));
  const auto& w = file.tensor("weight");
  EXPECT(w.dtype == DType::F32);
  EXPECT(w.shape == std::vector<std::int64_t>{2});
  EXPECT(std::memcmp(file.bytes(w).data(), a.data(), a.size()) == 0);
  EXPECT(std::memcmp(file.bytes(file.tensor("odd")).data(), b.data(), b.size()) == 0);
  EXPECT_EQ(file.tensor("empty").numel(), 0);
  EXPECT(!file.contains("missing"));
  EXPECT_THROWS(file.tensor("missing"), respo::FormatError, "no tensor named 'missing'");
  // An ordinary user file, not the private mode of the temporary it was written through.
  const auto perms = fs::status(path).permissions();
  EXPECT((perms & fs::perms::owner_read) != fs::perms::none);
  EXPECT((perms & fs::perms::others_read) != fs::perms::none);
}

RESPO_TEST(writer_aligns_each_tensor_to_its_element_size) {
  const auto one = bytesOf({1});
  std::vector<std::byte> eight(8, std::byte{2});
  const fs::path path = scratch() / "aligned.safetensors";
  writeSafetensors(path, {{"a_byte", DType::U8, {1}, one}, {"b_double", DType::F64, {1}, eight}});
  const auto file = SafetensorsFile::open(path);
  for (const auto& t : file.tensors()) {
    const auto address = reinterpret_cast<std::uintptr_t>(file.bytes(t).data());
    EXPECT_EQ(address % dtypeSize(t.dtype), 0u);
  }
}

RESPO_TEST(writer_rejects_inconsistent_input_and_keeps_the_old_file) {
  const auto four = bytesOf({1, 2, 3, 4});
  const fs::path path = scratch() / "keep.safetensors";
  writeSafetensors(path, {{"x", DType::U8, {4}, four}});
  EXPECT_THROWS(writeSafetensors(path, {{"x", DType::F32, {2}, four}}), respo::InvalidArgument, "need 8");
  EXPECT_THROWS(writeSafetensors(path, {{"x", DType::U8, {4}, four}, {"x", DType::U8, {4}, four}}),
               respo::InvalidArgument, "given twice");
  EXPECT_THROWS(writeSafetensors(path, {{"__metadata__", DType::U8, {4}, four}}), respo::InvalidArgument,
               "cannot be a tensor name");
  EXPECT_EQ(SafetensorsFile::open(path).tensor("x").numel(), 4);
  // No temporary files are left behind.
  int leftovers = 0;
  for (const auto& entry : fs::directory_iterator(scratch()))
    if (entry.path().string().find(".tmp-") != std::string::npos) ++leftovers;
  EXPECT_EQ(leftovers, 0);
}

RESPO_TEST(writer_reports_an_unwritable_destination) {
  const auto four = bytesOf({1, 2, 3, 4});
  EXPECT_THROWS(writeSafetensors(scratch() / "no-such-folder" / "x.safetensors", {{"x", DType::U8, {4}, four}}),
               respo::IoError, "cannot create a temporary file");
}

RESPO_TEST(a_failed_write_keeps_the_previous_file) {
  // Simulate a disk that fills up: a file-size limit makes write() fail part-way (EFBIG).
  const auto four = bytesOf({1, 2, 3, 4});
  const fs::path path = scratch() / "previous.safetensors";
  writeSafetensors(path, {{"x", DType::U8, {4}, four}});
  std::vector<std::byte> big(1 << 20, std::byte{7});
  struct rlimit saved {};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  const auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &small);
  EXPECT_THROWS(writeSafetensors(path, {{"x", DType::U8, {1 << 20}, big}}), respo::IoError,
               "the previous file, if any, is unchanged");
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previousHandler);
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file.tensor("x").numel(), 4);
}

RESPO_TEST(reader_reports_a_missing_file) {
  EXPECT_THROWS(SafetensorsFile::open(scratch() / "absent.safetensors"), respo::IoError, "cannot open");
}

// Each entry: file bytes, and the distinct piece of the message it must produce.
struct BadFile {
  const char* name;
  fs::path path;
  const char* message;
};

RESPO_TEST(bad_files_are_rejected_with_specific_messages) {
  const std::string okTensor = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::vector<BadFile> cases = {
      {"empty file", raw("empty.st", ""), "too short to be safetensors"},
      {"7 bytes", raw("seven.st", "1234567"), "too short to be safetensors"},
      {"length past end", craft("past_end.st", "{}", 0, 4096), "runs past the end of the file"},
      {"absurd length", craft("absurd.st", "{}", 0, 1ull << 60), "absurdly large"},
      {"zero length", craft("zero.st", "", 0), "header is empty"},
      {"not json", craft("notjson.st", "{this is not json}", 0), "header is not valid JSON"},
      {"not utf8", craft("notutf8.st", "{\"\xff\xfe\":1}", 0), "not valid UTF-8"},
      {"not an object", craft("array.st", "[1,2,3]", 0), "does not start with '{'"},
      {"json not object", craft("string.st", "{}  \"x\"", 0), "not valid JSON"},
      {"unknown dtype", craft("dtype.st", R"({"t":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})", 8),
       "tensor 't': unknown dtype 'F7'"},
      {"dtype not string", craft("dtype2.st", R"({"t":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8),
       "'dtype' must be a string"},
      {"missing dtype", craft("nodtype.st", R"({"t":{"shape":[2],"data_offsets":[0,8]}})", 8), "missing 'dtype'"},
      {"missing shape", craft("noshape.st", R"({"t":{"dtype":"F32","data_offsets":[0,8]}})", 8), "missing 'shape'"},
      {"shape not ints", craft("shapestr.st", R"({"t":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8),
       "'shape' must be an array of integers"},
      {"negative dim", craft("negdim.st", R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
       "negative dimension"},
      {"overflowing shape",
       craft("overflow.st", R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", 8),
       "too large"},
      {"missing offsets", craft("nooffsets.st", R"({"t":{"dtype":"F32","shape":[2]}})", 8), "missing 'data_offsets'"},
      {"three offsets", craft("offsets3.st", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", 8),
       "must be two non-negative integers"},
      {"begin after end", craft("backwards.st", R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8),
       "is after end"},
      {"size mismatch", craft("mismatch.st", R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       "need 12 bytes but 'data_offsets' span 8"},
      {"truncated data", craft("truncated.st", "{" + okTensor + "}", 5), "reach past the data section"},
      {"overlap",
       craft("overlap.st",
             R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
             12),
       "tensor 'b': data overlaps tensor 'a'"},
      {"gap", craft("gap.st", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       "gap of 4 unused bytes"},
      {"trailing bytes", craft("trailing.st", "{" + okTensor + "}", 12), "4 trailing bytes"},
      {"duplicate names", craft("dup.st", "{" + okTensor + "," + okTensor + "}", 8),
       "tensor 't': appears more than once"},
      {"metadata not object", craft("meta.st", R"({"__metadata__":[1]})", 0), "'__metadata__' must be an object"},
      {"metadata value not string", craft("meta2.st", R"({"__metadata__":{"k":1}})", 0),
       "'__metadata__' entry 'k' must be a string"},
      {"entry not object", craft("entry.st", R"({"t":[1,2]})", 0), "tensor 't': entry must be an object"},
  };
  EXPECT(cases.size() >= 20);
  std::set<std::string> distinct;
  for (const auto& c : cases) {
    bool rejected = false;
    try {
      SafetensorsFile::open(c.path);
    } catch (const respo::FormatError& e) {
      rejected = true;
      const std::string message = e.what();
      if (message.find(c.message) == std::string::npos || message.find(c.path.filename().string()) == std::string::npos)
        respo::testing::recordFailure(__FILE__, __LINE__, std::string(c.name) + ": unexpected message: " + message);
      distinct.insert(message);
    } catch (const std::exception& e) {
      rejected = true;
      respo::testing::recordFailure(__FILE__, __LINE__, std::string(c.name) + ": wrong error type: " + e.what());
    }
    if (!rejected) respo::testing::recordFailure(__FILE__, __LINE__, std::string(c.name) + ": accepted");
  }
  EXPECT_EQ(distinct.size(), cases.size());
}

RESPO_TEST(every_truncation_of_a_valid_file_is_rejected_cleanly) {
  const auto data = bytesOf({1, 2, 3, 4, 5, 6, 7, 8});
  const fs::path path = scratch() / "whole.safetensors";
  writeSafetensors(path, {{"t", DType::F32, {2}, data}}, {{"k", "v"}});
  std::ifstream in(path, std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), {});
  for (std::size_t n = 0; n < whole.size(); ++n) {
    const auto cut = raw("cut.st", whole.substr(0, n));
    EXPECT_THROWS(SafetensorsFile::open(cut), respo::FormatError, "cut.st");
  }
}
