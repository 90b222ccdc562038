#pragma once
// What a build adds to the fairness report for models it knows: a reader of their images'
// attributes and prompt sets to go with it. The toy world provides one for the embedded model
// (core/toyworld/report_extension.h); the app hands it to the engine, so the engine itself knows no
// world. Torch-free: only declarations cross here.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace respo::pipeline {
struct StableDiffusionModel;
}

namespace respo::report {

class AttributeReader;

struct ReportExtension {
  std::string name;  // "toy world"
  // A reader for `model`'s images, or null when this extension does not read them.
  std::function<std::unique_ptr<AttributeReader>(const pipeline::StableDiffusionModel& model)> reader;
  // Named prompt lists the report offers (before the built-in WinoBias sets).
  std::vector<std::pair<std::string, std::vector<std::string>>> promptSets;
};

}  // namespace respo::report
