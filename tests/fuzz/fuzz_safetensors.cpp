// safetensors: the header (JSON, offsets, dtypes, shapes, metadata) and the data section bounds.
#include "core/io/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = respo::fuzz::writeScratch("input.safetensors", respo::fuzz::view(data, size));
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto file = respo::io::SafetensorsFile::open(path);
    std::size_t total = 0;
    for (const auto& info : file.tensors()) {
      const auto bytes = file.bytes(info);
      // Every byte of a tensor the header accepted lies inside the mapping.
      if (!bytes.empty()) total += static_cast<std::size_t>(bytes.front()) + static_cast<std::size_t>(bytes.back());
      if (info.numel() < 0) std::abort();
    }
    for (const auto& [key, value] : file.metadata()) total += key.size() + value.size();
    (void)total;
  });
  return 0;
}
