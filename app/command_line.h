#pragma once
// A small command-line parser: `--name value`, `--flag`, and positional arguments, with
// errors that name the offending option.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace respo::app {

class CommandLine {
 public:
  // `flags` take no value; every other --option takes one.
  CommandLine(const std::vector<std::string>& args, const std::set<std::string>& valueOptions,
              const std::set<std::string>& flags);

  bool has(const std::string& name) const;
  std::optional<std::string> value(const std::string& name) const;
  std::string require(const std::string& name) const;  // throws InvalidArgument when absent
  // Numeric options: `fallback` when absent, InvalidArgument naming the option when malformed.
  long long integer(const std::string& name, long long fallback) const;
  double real(const std::string& name, double fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flagsSeen_;
  std::vector<std::string> positional_;
};

}  // namespace respo::app
