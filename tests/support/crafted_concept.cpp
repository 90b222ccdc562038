#include "tests/support/crafted_concept.h"

#include <torch/torch.h>

#include "core/pipeline/stable_diffusion_model.h"
#include "core/respo/concept_module.h"
#include "core/respo/trainer.h"

namespace respo::testing {

void writeCraftedConcept(const std::filesystem::path& file, const std::filesystem::path& modelDir,
                         const CraftedConcept& c) {
  auto model = pipeline::loadStableDiffusion(modelDir);
  const int latent = model.nativeImageSize() / model.vaeScaleFactor();
  const auto h = model.unet->bottleneckShape(latent, latent);
  concepts::ConceptModule module;
  module.settings.name = c.name;
  module.settings.group = c.group;
  module.settings.kind = c.safety ? concepts::ConceptKind::Safety : concepts::ConceptKind::Fairness;
  module.settings.targetPrompt = c.safety ? "a person" : c.name;
  module.settings.negativePrompt = c.safety ? c.name : "";
  module.settings.steps = 1;
  module.settings.seed = c.seed;
  auto generator = at::detail::createCPUGenerator(c.seed);
  module.ram = torch::randn({1, h[0], h[1], h[2]}, generator) * c.scale;
  module.sam = torch::randn({1, h[0], h[1], h[2]}, generator) * (c.scale / 10);
  module.stepsDone = 1;
  module.modelFingerprint = c.foreignFingerprint ? "0000foreign0000" : concepts::modelFingerprint(model.unet);
  std::filesystem::create_directories(file.parent_path());
  concepts::saveConcept(file, module);
}

}  // namespace respo::testing
