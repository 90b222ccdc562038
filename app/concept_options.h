#pragma once
// The command line's concept options, shared by `generate` and `report`:
//   --concept FILE_OR_GROUP_OR_NAME[,...] --ram-strength X --sam-strength Y
//   --policy random|balanced|fixed --fixed-member NAME --group-weight gender=0.6,skin tone=0.4
//   --ignore-fingerprint
#include <cstdint>
#include <string>

#include "app/command_line.h"
#include "core/respo/composition.h"

namespace respo::app {

// An empty composition without --concept. Throws InvalidArgument for modules of another model
// (unless --ignore-fingerprint), unknown names and malformed weights.
respo::concepts::Composition conceptsFromCommandLine(const CommandLine& cl, const std::string& fingerprint,
                                                     std::uint64_t seed);

}  // namespace respo::app
