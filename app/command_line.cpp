#include "app/command_line.h"

#include "core/common/error.h"

namespace respo::app {

CommandLine::CommandLine(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
                         const std::set<std::string>& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional_.push_back(arg);
      continue;
    }
    const std::string name = arg.substr(2);
    if (flags.count(name)) {
      flagsSeen_.insert(name);
    } else if (valueOptions.count(name)) {
      if (i + 1 >= args.size()) throw InvalidArgument("option --" + name + " needs a value");
      values_[name] = args[++i];
    } else {
      throw InvalidArgument("unknown option --" + name);
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

long long CommandLine::integer(const std::string& name, long long fallback) const {
  const auto text = value(name);
  if (!text) return fallback;
  std::size_t used = 0;
  long long result = 0;
  try {
    result = std::stoll(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text->size())
    throw InvalidArgument("--" + name + " expects a whole number, got '" + *text + "'");
  return result;
}

double CommandLine::real(const std::string& name, double fallback) const {
  const auto text = value(name);
  if (!text) return fallback;
  std::size_t used = 0;
  double result = 0;
  try {
    result = std::stod(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text->size()) throw InvalidArgument("--" + name + " expects a number, got '" + *text + "'");
  return result;
}

}  // namespace respo::app
