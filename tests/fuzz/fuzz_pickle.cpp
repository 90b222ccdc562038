// The restricted pickle reader (data.pkl of a PyTorch archive): it interprets opcodes, never runs
// code, and builds only plain values, storages and tensor records.
#include "core/io/pickle_reader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto pickle = respo::io::readTorchPickle(bytes, "data.pkl");
    if (pickle.root == nullptr) std::abort();
    (void)respo::io::describe(*pickle.root);
  });
  return 0;
}
