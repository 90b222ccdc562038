#pragma once
// Numbers typed by users or stored in text (command-line options, metadata, parameters text), read
// strictly: the whole text must be the number ("7abc" is not 7), integers must fit their type
// (4294967298 is not 2), and reals must be finite (no NaN or infinity).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace respo::numbers {

// A decimal integer with an optional sign; nothing else.
std::optional<std::int64_t> parseInteger(std::string_view text);
std::optional<std::uint64_t> parseUnsigned(std::string_view text);
// A finite decimal real ("7.5", "-1e-3", "+2"); no hex, no "nan", no "inf", no surrounding spaces.
std::optional<double> parseReal(std::string_view text);

// Shortest text that reads back as the same double.
std::string formatReal(double value);

}  // namespace respo::numbers
