// A sharded checkpoint's index (diffusion_pytorch_model.safetensors.index.json): the shard names
// must stay inside the model folder.
#include "core/common/json.h"
#include "core/models/shard_index.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto json = respo::json::parse(respo::fuzz::view(data, size), "index.json");
    for (const auto& name : respo::models::shardFiles(json, "index.json")) {
      const std::filesystem::path p(name);
      if (name.empty() || p.is_absolute() || p.has_parent_path() || name == "." || name == "..") std::abort();
    }
  });
  return 0;
}
