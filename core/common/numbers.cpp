#include "core/common/numbers.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace respo::numbers {
namespace {

// from_chars accepts no leading '+'; users write it.
std::string_view withoutPlus(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  return text;
}

template <typename T>
std::optional<T> parseWhole(std::string_view text) {
  text = withoutPlus(text);
  if (text.empty()) return std::nullopt;
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::int64_t> parseInteger(std::string_view text) { return parseWhole<std::int64_t>(text); }

std::optional<std::uint64_t> parseUnsigned(std::string_view text) {
  if (!text.empty() && text.front() == '-') return std::nullopt;
  return parseWhole<std::uint64_t>(text);
}

std::optional<double> parseReal(std::string_view text) {
  text = withoutPlus(text);
  if (text.empty()) return std::nullopt;
  // from_chars also reads "inf", "nan" and hex digits after "0x"-less input in hex mode only; the
  // general format reads decimal and scientific notation.
  for (const char c : text)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == 'e' || c == 'E' || c == '+')) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::general);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string formatReal(double value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (error != std::errc()) return "nan";
  return std::string(buffer, end);
}

}  // namespace respo::numbers
