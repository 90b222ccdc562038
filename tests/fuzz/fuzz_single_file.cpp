// Single-file checkpoints: detecting the family from the keys and mapping every key and shape onto
// the diffusers layout the configs imply. The input is "key\tdim,dim,..." lines.
#include "core/common/numbers.h"
#include "core/models/single_file_keys.h"
#include "core/pipeline/builtin_configs.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using respo::fuzz::splitOnce;
  respo::models::CheckpointIndex index;
  std::vector<std::string> keys;
  std::string_view rest = respo::fuzz::view(data, size);
  while (!rest.empty()) {
    auto [line, after] = splitOnce(rest, "\n");
    auto [key, dims] = splitOnce(line, "\t");
    respo::models::StoredTensor t;
    while (!dims.empty()) {
      auto [d, more] = splitOnce(dims, ",");
      t.shape.push_back(respo::numbers::parseInteger(d).value_or(1));
      if (more.data() == nullptr) break;
      dims = more;
    }
    keys.emplace_back(key);
    index[std::string(key)] = std::move(t);
    if (after.data() == nullptr) break;
    rest = after;
  }
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto family = respo::models::detectFamily(keys);
    const char* name = family == respo::models::CheckpointFamily::SDXL  ? "sdxl"
                       : family == respo::models::CheckpointFamily::SD2 ? "sd2"
                                                                        : "sd1";
    const auto builtin = respo::pipeline::builtinConfigs(name);
    const respo::models::CheckpointConfigs configs{builtin.unet, builtin.vae, builtin.textEncoder, builtin.textEncoder2};
    const auto mapping = respo::models::mapSingleFile(index, configs);
    for (const auto* part : {&mapping.unet, &mapping.vae, &mapping.textEncoder, &mapping.textEncoder2})
      for (const auto& m : *part)
        if (index.count(m.ldm) == 0) std::abort();
  });
  return 0;
}
