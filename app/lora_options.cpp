#include "app/lora_options.h"

#include <filesystem>
#include <sstream>

#include "core/common/error.h"
#include "core/common/numbers.h"
#include "core/common/paths.h"
#include "core/pipeline/lora_keys.h"

namespace respo::app {

void addLoras(const CommandLine& cl, pipeline::GenerationRequest& request) {
  namespace fs = std::filesystem;
  if (const auto dirs = cl.value("lora-dir")) {
    std::istringstream list(*dirs);
    for (std::string dir; std::getline(list, dir, ';');) {
      if (dir.empty()) continue;
      if (!fs::is_directory(dir)) throw UsageError("--lora-dir: '" + dir + "' is not a folder");
      request.loraFolders.push_back(dir);
    }
  }
  if (const auto files = cl.value("lora")) {
    std::istringstream list(*files);
    for (std::string item; std::getline(list, item, ',');) {
      std::string weight = "1";
      // FILE:W, where W is a number (a ':' inside the path stays part of it).
      if (const auto colon = item.rfind(':'); colon != std::string::npos && numbers::parseReal(item.substr(colon + 1))) {
        weight = item.substr(colon + 1);
        item = item.substr(0, colon);
      }
      const fs::path file(item);
      if (file.extension() != ".safetensors" || !fs::is_regular_file(file))
        throw UsageError("--lora: '" + item + "' is not a .safetensors file");
      request.loraFolders.push_back(fs::absolute(file).parent_path().string());
      request.prompt += " <lora:" + file.stem().string() + ":" + weight + ">";
    }
  }
  request.loraFolders.push_back(paths::userLoras().string());
  std::vector<pipeline::lora::PromptLora> tags;
  pipeline::lora::extractLoraTags(request.prompt, &tags);  // a malformed tag fails before the model loads
  std::vector<fs::path> folders(request.loraFolders.begin(), request.loraFolders.end());
  for (const auto& tag : tags) pipeline::lora::findLoraFile(tag.name, folders);
}

}  // namespace respo::app
