// respodiff edit-concepts: a closed-form cross-attention edit (UCE family) computed on a model and
// saved as a small file that `generate --method uce:FILE` (and the app) apply without touching the model.

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "app/cli_commands.h"
#include "app/command_line.h"
#include "core/common/error.h"
#include "core/common/numbers.h"
#include "core/io/atomic_file.h"
#include "core/pipeline/stable_diffusion_model.h"
#include "core/respo/concept_edit.h"
#include "gpu/compute_device.h"

namespace respo::app {
namespace {

// "a; b; c" -> {"a", "b", "c"} (texts may hold commas, so lists are split at ';').
std::vector<std::string> textList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    auto item = text.substr(start, end - start);
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

}  // namespace

int editConcepts(const std::vector<std::string>& args) {
  const CommandLine cl(args,
                       {"model", "name", "erase", "destination", "debias", "attributes", "strength", "preserve", "lambda",
                        "erase-scale", "preserve-scale", "out", "device", "precision"},
                       {"quiet"});
  edits::EditRecipe recipe;
  recipe.name = cl.value("name").value_or("");
  if (auto v = cl.value("erase")) recipe.erase = textList(*v);
  if (auto v = cl.value("debias")) recipe.debias = textList(*v);
  if (auto v = cl.value("preserve")) recipe.preserve = textList(*v);
  recipe.destination = cl.value("destination").value_or("");
  if (auto v = cl.value("attributes")) {
    // "a man=50; a woman=50" (shares in any unit; they are normalised)
    for (const auto& item : textList(*v)) {
      const auto eq = item.rfind('=');
      const auto share = eq == std::string::npos ? std::nullopt : numbers::parseReal(item.substr(eq + 1));
      if (!share) throw UsageError("--attributes: expected 'TEXT=SHARE; TEXT=SHARE', got '" + item.substr(0, 60) + "'");
      auto text = item.substr(0, eq);
      text.erase(text.find_last_not_of(" \t") + 1);
      recipe.attributes.push_back({text, *share});
    }
  }
  recipe.strength = cl.real("strength", recipe.strength, 0, 100);
  recipe.lambda = cl.real("lambda", recipe.lambda, 1e-6, 1e4);
  recipe.eraseScale = cl.real("erase-scale", recipe.eraseScale, 0, 1e4);
  recipe.preserveScale = cl.real("preserve-scale", recipe.preserveScale, 0, 1e4);
  const std::filesystem::path out = cl.require("out");
  if (recipe.name.empty()) recipe.name = out.stem().string();
  recipe.validate();
  io::checkWritableTarget(out);

  const auto compute = gpu::chooseDevice(gpu::parseDevicePreference(cl.value("device").value_or("auto")),
                                         gpu::parsePrecision(cl.value("precision").value_or("auto")));
  pipeline::LoadOptions load;
  load.device = compute.device;
  load.dtype = compute.dtype;
  auto model = pipeline::loadStableDiffusion(cl.model(), load);
  const auto edit = edits::computeEdit(model, recipe);
  edits::saveEdit(out, edit);
  std::cout << "wrote " << out.string() << " (" << recipe.method() << ", " << edit.deltas.size()
            << " cross-attention projections)\n";
  return 0;
}

}  // namespace respo::app
