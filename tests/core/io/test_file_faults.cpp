// Fault injection on the file writers and readers: a failing create/write/fsync/close/rename (ENOSPC,
// EIO) while saving a PNG or a safetensors file, a process killed in the middle of a write, a file
// truncated while it is memory-mapped. Each must leave the previous file intact, leave no temporary
// file behind (except after a kill, where nothing can run) and say clearly what happened.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/io/image.h"
#include "core/io/mapped_file.h"
#include "core/io/safetensors.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;

namespace {

fs::path scratch() { return respo::testing::scratchFolder("respodiff-faults"); }

std::string bytesOf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::size_t temporaries(const fs::path& folder) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(folder))
    if (e.path().filename().string().rfind(".respodiff-", 0) == 0) ++n;
  return n;
}

io::RgbImage image(int w, int h, std::uint8_t seed) {
  io::RgbImage img{w, h, std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h * 3)};
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<std::uint8_t>(i * 7 + seed);
  return img;
}

struct InjectorReset {
  ~InjectorReset() { io::setFaultInjector({}); }
};

void writeTensorFile(const fs::path& path, float value, std::size_t count) {
  std::vector<float> data(count, value);
  io::writeSafetensors(path, {{"w", io::DType::F32, {static_cast<std::int64_t>(count)},
                               std::as_bytes(std::span(data.data(), data.size()))}},
                       {{"note", "v" + std::to_string(value)}});
}

}  // namespace

RESPO_TEST(a_failing_system_call_keeps_the_previous_png_and_safetensors_file) {
  InjectorReset reset;
  const auto png = scratch() / "picture.png";
  const auto tensors = scratch() / "module.safetensors";
  io::writePng(png, image(8, 6, 1), {{"parameters", "first"}});
  writeTensorFile(tensors, 1.0f, 64);
  const auto pngBefore = bytesOf(png), tensorsBefore = bytesOf(tensors);
  for (const char* call : {"create", "write", "fsync", "close", "rename"}) {
    for (const int error : {ENOSPC, EIO}) {
      io::setFaultInjector([&](std::string_view c, const fs::path&) { return c == call ? error : 0; });
      const std::string reason = std::strerror(error);
      EXPECT_THROWS(io::writePng(png, image(8, 6, 2), {{"parameters", "second"}}), IoError, reason);
      EXPECT_THROWS(writeTensorFile(tensors, 2.0f, 64), IoError, reason);
      io::setFaultInjector({});
      EXPECT(bytesOf(png) == pngBefore);
      EXPECT(bytesOf(tensors) == tensorsBefore);
      EXPECT_EQ(temporaries(scratch()), 0u);
    }
  }
  // The messages say the old file is still there, and it still reads.
  io::setFaultInjector([](std::string_view c, const fs::path&) { return c == "write" ? ENOSPC : 0; });
  EXPECT_THROWS(io::writePng(png, image(8, 6, 3)), IoError, "the previous file, if any, is unchanged");
  io::setFaultInjector({});
  std::map<std::string, std::string> text;
  const auto back = io::readPng(png, &text);
  EXPECT_EQ(back.width, 8);
  EXPECT_EQ(text.at("parameters"), std::string("first"));
  EXPECT_EQ(io::SafetensorsFile::open(tensors).metadata().at("note"), std::string("v1.000000"));
}

RESPO_TEST(a_failure_on_a_later_write_call_still_keeps_the_previous_file) {
  InjectorReset reset;
  const auto path = scratch() / "big.safetensors";
  writeTensorFile(path, 1.0f, 1 << 16);
  const auto before = bytesOf(path);
  int writes = 0;
  io::setFaultInjector([&](std::string_view c, const fs::path&) { return c == "write" && ++writes == 2 ? ENOSPC : 0; });
  EXPECT_THROWS(writeTensorFile(path, 2.0f, 1 << 16), IoError, "No space left on device");
  io::setFaultInjector({});
  EXPECT(writes >= 2);
  EXPECT(bytesOf(path) == before);
  EXPECT_EQ(temporaries(scratch()), 0u);
}

RESPO_TEST(a_process_killed_while_writing_leaves_the_previous_file_whole) {
  const auto path = scratch() / "killed.safetensors";
  writeTensorFile(path, 1.0f, 1 << 16);
  const auto before = bytesOf(path);
  for (const char* at : {"write", "fsync", "rename"}) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      io::setFaultInjector([&](std::string_view c, const fs::path&) {
        if (c == at) ::raise(SIGKILL);
        return 0;
      });
      writeTensorFile(path, 2.0f, 1 << 16);
      ::_exit(0);  // not reached
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT(bytesOf(path) == before);
    EXPECT_EQ(io::SafetensorsFile::open(path).tensors().size(), 1u);
    // The killed writer's temporary file stays (nothing ran to remove it); it is hidden and
    // never mistaken for the target.
    for (const auto& e : fs::directory_iterator(scratch()))
      if (e.path().filename().string().rfind(".respodiff-", 0) == 0) fs::remove(e.path());
  }
}

RESPO_TEST(a_file_truncated_under_its_mapping_is_an_io_error_not_a_crash) {
  const auto path = scratch() / "shrinking.safetensors";
  writeTensorFile(path, 3.0f, 1 << 18);  // 1 MB of data
  const auto file = io::SafetensorsFile::open(path);
  const auto& info = file.tensor("w");
  fs::resize_file(path, 4096);  // another program cuts the file while we hold the mapping
  std::vector<float> out(static_cast<std::size_t>(info.numel()));
  EXPECT_THROWS(file.mapping()->copyOut(out.data(), file.bytes(info)), IoError, "truncated");
  // Reopened, the truncated file is refused by its header check.
  EXPECT_THROWS(io::SafetensorsFile::open(path), FormatError, "");
}

RESPO_TEST(saved_files_respect_the_umask_and_an_existing_files_mode) {
  const auto fresh = scratch() / "fresh.png";
  const mode_t old = ::umask(027);
  io::writePng(fresh, image(2, 2, 0));
  ::umask(old);
  // The writer reads the umask once per process; 027 or the process's own umask applies.
  const auto mode = fs::status(fresh).permissions();
  EXPECT((mode & fs::perms::others_write) == fs::perms::none);
  EXPECT((mode & fs::perms::owner_read) != fs::perms::none);
  const auto kept = scratch() / "private.png";
  io::writePng(kept, image(2, 2, 0));
  fs::permissions(kept, fs::perms::owner_read | fs::perms::owner_write);
  io::writePng(kept, image(2, 2, 9));
  EXPECT(fs::status(kept).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
}

RESPO_TEST(names_up_to_the_file_system_limit_are_written_and_longer_ones_are_clear_errors) {
  const long limit = ::pathconf(scratch().c_str(), _PC_NAME_MAX);
  REQUIRE(limit > 8);
  const auto longest = scratch() / (std::string(static_cast<std::size_t>(limit) - 4, 'n') + ".png");
  io::writePng(longest, image(2, 2, 0));
  EXPECT(fs::exists(longest));
  const auto tooLong = scratch() / (std::string(static_cast<std::size_t>(limit) - 3, 'n') + ".png");
  EXPECT_THROWS(io::writePng(tooLong, image(2, 2, 0)), IoError, "longer than");
  EXPECT_EQ(temporaries(scratch()), 0u);
}
