// respodiff detect: NudeNet's detections on PNG files, as text, JSON, and (for parity checks) the
// head's raw predictions.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <span>

#include <nlohmann/json.hpp>

#include "app/cli_commands.h"
#include "app/command_line.h"
#include "app/nudenet_options.h"
#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/io/image.h"
#include "core/io/safetensors.h"
#include "core/respo/nudenet_detector.h"

namespace respo::app {

safety::NudeNetDetector nudeNetFromOptions(const CommandLine& cl) {
  std::filesystem::path model;
  if (auto file = cl.value("nudenet"); file && *file != "auto") {
    model = *file;
  } else if (auto found = safety::findNudeNet()) {
    model = *found;
  } else {
    throw InvalidArgument("no NudeNet model: give --nudenet FILE, or run scripts/setup.sh, which fetches it into the cache");
  }
  safety::NudeNetSettings settings;
  settings.unsafeScore = cl.real("unsafe-score", settings.unsafeScore, 0, 1);
  if (auto text = cl.value("unsafe-labels")) {
    settings.unsafeLabels.clear();
    std::stringstream list(*text);
    for (std::string label; std::getline(list, label, ',');) {
      const auto& known = safety::NudeNetDetector::labels();
      if (std::find(known.begin(), known.end(), label) == known.end()) {
        std::string all;
        for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
        throw UsageError("--unsafe-labels: unknown label '" + label + "' (NudeNet's labels: " + all + ")");
      }
      settings.unsafeLabels.push_back(label);
    }
    if (settings.unsafeLabels.empty()) throw UsageError("--unsafe-labels: name at least one label");
  }
  return safety::NudeNetDetector(model, settings);
}

int detect(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"nudenet", "json", "raw", "unsafe-score", "unsafe-labels"}, {}, 100000);
  if (cl.positional().empty()) throw UsageError("detect needs at least one IMAGE.png");
  const auto detector = nudeNetFromOptions(cl);
  nlohmann::json images = nlohmann::json::array();
  std::vector<std::vector<float>> raw;
  std::vector<std::string> rawNames;
  for (const auto& file : cl.positional()) {
    const auto image = io::readPng(file);
    const auto detections = detector.detect(image.pixels.data(), image.width, image.height);
    const bool unsafe = detector.unsafe(detections);
    std::cout << file << ": " << (unsafe ? "unsafe" : "safe");
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : detections) {
      char line[160];
      std::snprintf(line, sizeof line, "%s %.3f [%d %d %d %d]", d.label.c_str(), d.score, d.box[0], d.box[1], d.box[2],
                    d.box[3]);
      std::cout << (list.empty() ? "  " : ", ") << line;
      list.push_back({{"class", d.label},
                      {"score", d.score},
                      {"box", {d.box[0], d.box[1], d.box[2], d.box[3]}},
                      {"box_exact", {d.x, d.y, d.width, d.height}}});
    }
    std::cout << "\n";
    images.push_back({{"file", file}, {"width", image.width}, {"height", image.height}, {"unsafe", unsafe},
                      {"detections", std::move(list)}});
    if (cl.value("raw")) {
      raw.push_back(detector.predict(image.pixels.data(), image.width, image.height));
      rawNames.push_back("image_" + std::to_string(raw.size() - 1));
    }
  }
  if (auto f = cl.value("json")) {
    const nlohmann::json doc{{"detector", detector.notes()}, {"images", std::move(images)}};
    io::writeTextFileAtomically(*f, doc.dump(2) + "\n");
  }
  if (auto f = cl.value("raw")) {
    // The head's predictions per image, [4 + classes, anchors] float32 (what the package's output0 holds).
    std::vector<io::TensorBytes> tensors;
    const auto rows = static_cast<std::int64_t>(4 + safety::NudeNetDetector::labels().size());
    for (std::size_t i = 0; i < raw.size(); ++i)
      tensors.push_back({rawNames[i], io::DType::F32, {rows, detector.anchors()}, std::as_bytes(std::span(raw[i]))});
    io::writeSafetensors(*f, tensors);
  }
  return 0;
}

}  // namespace respo::app
