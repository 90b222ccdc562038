#pragma once
// A small command-line parser: `--name value`, `--name=value`, `--flag`, and positional arguments,
// with errors that name the offending option. Numbers are read strictly: the whole text must be the
// number, it must fit, reals must be finite, and each option states its range.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace respo::app {

class CommandLine {
 public:
  // `flags` take no value; every other --option takes one. More than `maxPositional` arguments
  // that are not options (a stray word, a forgotten --) is an error, not silently ignored.
  CommandLine(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
              const std::set<std::string>& flags, std::size_t maxPositional = 0);

  bool has(const std::string& name) const;
  std::optional<std::string> value(const std::string& name) const;
  std::string require(const std::string& name) const;  // throws InvalidArgument when absent
  // Numeric options: `fallback` when absent, InvalidArgument naming the option and the range when
  // malformed or outside [lo, hi].
  long long integer(const std::string& name, long long fallback, long long lo, long long hi) const;
  double real(const std::string& name, double fallback, double lo, double hi) const;
  // A seed: any value from 0 to 2^64 - 1.
  std::uint64_t seed(const std::string& name, std::uint64_t fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flagsSeen_;
  std::vector<std::string> positional_;
};

}  // namespace respo::app
