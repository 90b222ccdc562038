// The JSON configs of a model folder: UNet, VAE, CLIP text encoder, scheduler. The first byte picks
// the reader; the rest is the file.
#include "core/common/json.h"
#include "core/models/clip_text_config.h"
#include "core/models/unet_config.h"
#include "core/models/vae_config.h"
#include "core/schedulers/scheduler_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto text = respo::fuzz::view(data + 1, size - 1);
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto json = respo::json::parse(text, "config.json");
    switch (data[0] % 4) {
      case 0: {
        const auto c = respo::models::UNetConfig::fromJson(json);
        (void)c.minimumParameters();
        if (c.blockOutChannels.empty() || c.normGroups <= 0) std::abort();
        break;
      }
      case 1: {
        const auto c = respo::models::VaeConfig::fromJson(json);
        (void)c.minimumParameters();
        if (c.blockOutChannels.empty() || c.normGroups <= 0) std::abort();
        break;
      }
      case 2: {
        const auto c = respo::models::ClipTextConfig::fromJson(json);
        (void)c.minimumParameters();
        if (c.heads <= 0 || c.hiddenSize % c.heads != 0) std::abort();
        break;
      }
      default: {
        const auto c = respo::sched::SchedulerConfig::fromJson(json);
        if (c.numTrainTimesteps <= 0) std::abort();
        (void)respo::sched::SchedulerConfig::fromJson(c.toJson());
        break;
      }
    }
  });
  return 0;
}
