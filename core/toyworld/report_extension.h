#pragma once
// The toy world's part of the fairness report: its classifier reads the embedded model's images
// (gender presentation, skin tone, profession), and its profession prompts are offered as a set.
#include <filesystem>

#include "core/respo/report_extension.h"

namespace respo::toyworld {

// `classifier`: the classifier file (empty: the shipped one).
report::ReportExtension reportExtension(const std::filesystem::path& classifier = {});

}  // namespace respo::toyworld
