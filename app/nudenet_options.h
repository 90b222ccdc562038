#pragma once
// The options `detect` and `report` share for NudeNet: --nudenet FILE|auto (default: the copy the
// setup puts in the cache), --unsafe-score X, --unsafe-labels LABEL,...
#include "app/command_line.h"
#include "core/respo/nudenet_detector.h"

namespace respo::app {

safety::NudeNetDetector nudeNetFromOptions(const CommandLine& cl);

}  // namespace respo::app
