#pragma once
// The project's one error type hierarchy. Every failure a user can cause or fix (a bad file, a bad
// setting, a cancelled job) is thrown as a respo::Error subclass whose message says what went wrong
// and where ("unet/config.json: missing 'block_out_channels'"). Front ends (CLI, GUI) catch
// respo::Error at their edge and show what(); anything else escaping is a bug.
#include <stdexcept>
#include <string>

namespace respo {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file could not be opened, mapped, read or written (the OS said no).
class IoError : public Error {
 public:
  using Error::Error;
};

// A file was readable but its content is malformed or inconsistent (corrupt, truncated, foreign).
class FormatError : public Error {
 public:
  using Error::Error;
};

// A setting or argument is out of range or inconsistent with the model.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// The user (or a deadline) cancelled a running job. Not a failure; front ends show it quietly.
class Cancelled : public Error {
 public:
  using Error::Error;
};

// The first line of an exception's message, at most 300 characters: LibTorch appends C++ stack
// traces to its messages, which are for developers, not users.
inline std::string firstLine(const char* what) {
  std::string text = what ? what : "";
  if (const auto end = text.find('\n'); end != std::string::npos) text.resize(end);
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

}  // namespace respo
