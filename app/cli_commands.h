#pragma once
// The command line's larger subcommands, one file each; respodiff_main.cpp lists and dispatches them.
#include <string>
#include <vector>

namespace respo::app {

int generate(const std::vector<std::string>& args);
int trainConcept(const std::vector<std::string>& args);
int importReference(const std::vector<std::string>& args);
int editConcepts(const std::vector<std::string>& args);
int benchmark(const std::vector<std::string>& args);
// These need the toy world (OpenCV).
int toyworld(const std::vector<std::string>& args);
int evaluate(const std::vector<std::string>& args);
int report(const std::vector<std::string>& args);
// NudeNet's detections on images (OpenCV DNN).
int detect(const std::vector<std::string>& args);

}  // namespace respo::app
