// The zip reader of the reference importer (PyTorch's .pt files are zip archives).
#include "core/io/zip_reader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = respo::fuzz::writeScratch("input.pt", respo::fuzz::view(data, size));
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto archive = respo::io::ZipArchive::open(path);
    for (const auto& entry : archive.entries()) {
      if (archive.find(entry.name) == nullptr) std::abort();
      RESPO_FUZZ_EXPECT_ERRORS({
        const auto bytes = archive.read(entry);
        if (bytes.size() != entry.size) std::abort();
      });
    }
  });
  return 0;
}
