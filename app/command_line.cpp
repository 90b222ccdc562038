#include "app/command_line.h"

#include <iostream>
#include <random>

#include <CLI/CLI.hpp>

#include "core/common/numbers.h"
#include "core/common/paths.h"

namespace respo::app {
namespace {

std::string contextCommand, contextSummary;

std::string shown(const std::string& text) { return text.size() > 40 ? text.substr(0, 40) + "..." : text; }

}  // namespace

CommandLine::CommandLine(const std::string& command, const std::string& summary, const std::vector<OptionHelp>& options,
                         const std::vector<std::string>& args, const std::string& positionalName,
                         std::size_t maxPositional) {
  parse(command, summary, options, args, positionalName, maxPositional);
}

CommandLine::CommandLine(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
                         const std::set<std::string>& flags, std::size_t maxPositional) {
  std::vector<OptionHelp> options;
  for (const auto& name : valueOptions) {
    const auto* known = describeOption(name);
    options.push_back(known && !known->value.empty() ? *known : OptionHelp{name, "VALUE", "", ""});
  }
  for (const auto& name : flags) {
    const auto* known = describeOption(name);
    options.push_back(known && known->value.empty() ? *known : OptionHelp{name, "", "", ""});
  }
  parse(contextCommand, contextSummary, options, args, maxPositional ? "ARG" : "", maxPositional);
}

void CommandLine::setContext(const std::string& command, const std::string& summary) {
  contextCommand = command;
  contextSummary = summary;
}

void CommandLine::parse(const std::string& command, const std::string& summary, const std::vector<OptionHelp>& options,
                        const std::vector<std::string>& args, const std::string& positionalName,
                        std::size_t maxPositional) {
  CLI::App app(summary, command.empty() ? "respodiff" : "respodiff " + command);
  app.set_help_flag("-h,--help", "show this help and exit");
  std::map<std::string, CLI::Option*> declared;
  std::map<std::string, std::int64_t> flagCounts;  // stable addresses for CLI11 to count into
  for (const auto& o : options) {
    std::string help = o.help;
    if (!o.fallback.empty()) help += (help.empty() ? "" : " ") + std::string("(default: ") + o.fallback + ")";
    if (o.value.empty()) {
      declared[o.name] = app.add_flag("--" + o.name, flagCounts[o.name], help);
    } else {
      declared[o.name] = app.add_option("--" + o.name, values_[o.name], help)->type_name(o.value);
    }
  }
  if (maxPositional > 0)
    app.add_option(positionalName.empty() ? "args" : positionalName, positional_, "")
        ->expected(0, static_cast<int>(maxPositional));
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    throw HelpShown{};
  } catch (const CLI::ExtrasError&) {
    std::string extra;
    for (const auto& a : app.remaining()) extra += (extra.empty() ? "" : " ") + shown(a);
    throw UsageError("unexpected argument(s) '" + extra + "' (options start with --; see --help)");
  } catch (const CLI::ParseError& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
  for (auto it = values_.begin(); it != values_.end();)
    it = declared.at(it->first)->count() > 0 ? std::next(it) : values_.erase(it);
  for (const auto& o : options)
    if (o.value.empty() && declared.at(o.name)->count() > 0) flagsSeen_.insert(o.name);
}

bool CommandLine::has(const std::string& name) const { return flagsSeen_.count(name) || values_.count(name); }

std::optional<std::string> CommandLine::value(const std::string& name) const {
  const auto found = values_.find(name);
  if (found == values_.end()) return std::nullopt;
  return found->second;
}

std::string CommandLine::require(const std::string& name) const {
  auto found = value(name);
  if (!found) throw UsageError("missing required option --" + name);
  return *found;
}

std::string CommandLine::model() const { return value("model").value_or(paths::toyModel().string()); }

long long CommandLine::integer(const std::string& name, long long fallback, long long lo, long long hi) const {
  const auto text = value(name);
  if (!text) return fallback;
  const auto parsed = numbers::parseInteger(*text);
  if (!parsed || *parsed < lo || *parsed > hi)
    throw UsageError("--" + name + " expects a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                     ", got '" + shown(*text) + "'");
  return *parsed;
}

double CommandLine::real(const std::string& name, double fallback, double lo, double hi) const {
  const auto text = value(name);
  if (!text) return fallback;
  const auto parsed = numbers::parseReal(*text);
  if (!parsed || *parsed < lo || *parsed > hi)
    throw UsageError("--" + name + " expects a number from " + numbers::formatReal(lo) + " to " +
                     numbers::formatReal(hi) + ", got '" + shown(*text) + "'");
  return *parsed;
}

std::uint64_t CommandLine::seed(const std::string& name, std::uint64_t fallback) const {
  const auto text = value(name);
  if (!text) return fallback;
  if (*text == "-1") {
    // Random, as other front ends read -1; drawn once, so the recorded seed is the one used.
    auto& drawn = randomSeeds_[name];
    while (drawn == 0) drawn = std::random_device{}();  // 32 bits, as A1111's; 0 marks "not drawn yet"
    return drawn;
  }
  const auto parsed = numbers::parseUnsigned(*text);
  if (!parsed)
    throw UsageError("--" + name + " expects a whole number from 0 to 18446744073709551615 (or -1: random), got '" +
                     shown(*text) + "'");
  return *parsed;
}

}  // namespace respo::app
