#pragma once
// The command line of one subcommand, parsed by CLI11 with the usual conventions: `--name value` and
// `--name=value`, flags, positional arguments, `--help` (or -h) anywhere, with every option's
// description and default. Numbers are read strictly at their use: the whole text must be the
// number, it must fit, reals must be finite, and each option states its range.
// Mistakes in the command line throw UsageError (the program exits with 2); `--help` prints the help
// and throws HelpShown (exit 0).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace respo::app {

// What --help says about an option.
struct OptionHelp {
  std::string name;      // without the dashes
  std::string value;     // the value's placeholder ("N", "FILE"); empty: a flag
  std::string help;      // one line
  std::string fallback;  // the default, shown as "(default: ...)"; empty: none shown
};

// The catalog's entry for an option name (app/option_catalog.cpp); null when it has none.
const OptionHelp* describeOption(const std::string& name);

// The command line is wrong: exit code 2, as for any usage error.
class UsageError : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};
// --help was given and the help printed: exit code 0.
struct HelpShown {};

class CommandLine {
 public:
  // `options`: every option of the subcommand; `positional`: the placeholder of positional
  // arguments ("FILE ...") and how many are allowed (0: none).
  CommandLine(const std::string& command, const std::string& summary, const std::vector<OptionHelp>& options,
              const std::vector<std::string>& args, const std::string& positionalName = "",
              std::size_t maxPositional = 0);
  // Options by name: value options and flags, described by the catalog.
  CommandLine(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
              const std::set<std::string>& flags, std::size_t maxPositional = 0);

  // The subcommand being run, for the help of command lines built without help texts.
  static void setContext(const std::string& command, const std::string& summary);

  bool has(const std::string& name) const;
  std::optional<std::string> value(const std::string& name) const;
  std::string require(const std::string& name) const;  // throws UsageError when absent
  // --model, or the embedded default model.
  std::string model() const;
  // Numeric options: `fallback` when absent, UsageError naming the option and the range when
  // malformed or outside [lo, hi].
  long long integer(const std::string& name, long long fallback, long long lo, long long hi) const;
  double real(const std::string& name, double fallback, double lo, double hi) const;
  // A seed: any value from 0 to 2^64 - 1, or -1 for a random one (drawn once, so every use of the
  // seed agrees and it can be recorded).
  std::uint64_t seed(const std::string& name, std::uint64_t fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  void parse(const std::string& command, const std::string& summary, const std::vector<OptionHelp>& options,
             const std::vector<std::string>& args, const std::string& positionalName, std::size_t maxPositional);
  std::map<std::string, std::string> values_;
  std::set<std::string> flagsSeen_;
  std::vector<std::string> positional_;
  mutable std::map<std::string, std::uint64_t> randomSeeds_;
};

}  // namespace respo::app
