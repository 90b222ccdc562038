#include "app/command_line.h"

#include "core/common/error.h"
#include "core/common/numbers.h"

namespace respo::app {
namespace {

std::string shown(const std::string& text) { return text.size() > 40 ? text.substr(0, 40) + "..." : text; }

}  // namespace

CommandLine::CommandLine(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
                         const std::set<std::string>& flags, std::size_t maxPositional) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      if (positional_.size() == maxPositional)
        throw InvalidArgument("unexpected argument '" + shown(arg) + "' (options start with --; see --help)");
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inlineValue;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      inlineValue = name.substr(eq + 1);
      name.resize(eq);
    }
    if (flags.count(name)) {
      if (inlineValue) throw InvalidArgument("option --" + name + " takes no value");
      flagsSeen_.insert(name);
    } else if (valueOptions.count(name)) {
      if (values_.count(name)) throw InvalidArgument("option --" + name + " is given twice");
      if (inlineValue) {
        values_[name] = *inlineValue;
      } else {
        if (i + 1 >= args.size()) throw InvalidArgument("option --" + name + " needs a value");
        values_[name] = args[++i];
      }
    } else {
      throw InvalidArgument("unknown option --" + shown(name));
    }
  }
}

bool CommandLine::has(const std::string& name) const { return flagsSeen_.count(name) || values_.count(name); }

std::optional<std::string> CommandLine::value(const std::string& name) const {
  const auto found = values_.find(name);
  if (found == values_.end()) return std::nullopt;
  return found->second;
}

std::string CommandLine::require(const std::string& name) const {
  auto found = value(name);
  if (!found) throw InvalidArgument("missing required option --" + name);
  return *found;
}

long long CommandLine::integer(const std::string& name, long long fallback, long long lo, long long hi) const {
  const auto text = value(name);
  if (!text) return fallback;
  const auto parsed = numbers::parseInteger(*text);
  if (!parsed || *parsed < lo || *parsed > hi)
    throw InvalidArgument("--" + name + " expects a whole number from " + std::to_string(lo) + " to " +
                          std::to_string(hi) + ", got '" + shown(*text) + "'");
  return *parsed;
}

double CommandLine::real(const std::string& name, double fallback, double lo, double hi) const {
  const auto text = value(name);
  if (!text) return fallback;
  const auto parsed = numbers::parseReal(*text);
  if (!parsed || *parsed < lo || *parsed > hi)
    throw InvalidArgument("--" + name + " expects a number from " + numbers::formatReal(lo) + " to " +
                          numbers::formatReal(hi) + ", got '" + shown(*text) + "'");
  return *parsed;
}

std::uint64_t CommandLine::seed(const std::string& name, std::uint64_t fallback) const {
  const auto text = value(name);
  if (!text) return fallback;
  const auto parsed = numbers::parseUnsigned(*text);
  if (!parsed) throw InvalidArgument("--" + name + " expects a whole number from 0 to 18446744073709551615, got '" + shown(*text) + "'");
  return *parsed;
}

}  // namespace respo::app
