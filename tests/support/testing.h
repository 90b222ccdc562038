#pragma once
// A small test harness for the engine's tests. core/ tests must build and run where Qt is absent
// (the GPU machine, the sanitizer build), so they use this instead of Qt Test; GUI tests use Qt Test.
//
//   RESPO_TEST(reads_every_dtype) { EXPECT_EQ(a, b); REQUIRE(ok); EXPECT_THROWS(expr, respo::FormatError, "substring"); }
//
// main() runs every test (or those whose name contains --filter, minus those containing --skip,
// which another CTest entry runs), prints one line per
// failure and closes with "N passed, N failed". Options given as --name value are readable
// through respo::testing::option("name").
#include <cmath>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace respo::testing {

struct Case {
  std::string name;
  std::function<void()> body;
};

std::vector<Case>& registry();
struct Registrar {
  Registrar(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

// Throws to abort the current test after a failed REQUIRE.
struct AbortTest {};

void recordFailure(const char* file, int line, const std::string& message);
// Value of --name on the command line; empty if absent.
std::string option(const std::string& name);
// An empty folder of this test process's own under the system's temporary folder ("<tag>-<pid>",
// emptied on first use), for files a test writes.
std::string scratchFolder(const std::string& tag);

template <typename T>
std::string show(const T& value) {
  std::ostringstream out;
  if constexpr (requires { out << value; }) out << value;
  else out << "<unprintable>";
  return out.str();
}

}  // namespace respo::testing

#define RESPO_TEST(name)                                                            \
  static void name();                                                               \
  static const ::respo::testing::Registrar name##_registrar(#name, name);           \
  static void name()

#define EXPECT(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) ::respo::testing::recordFailure(__FILE__, __LINE__, "EXPECT(" #cond ")"); \
  } while (0)

#define REQUIRE(cond)                                                               \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      ::respo::testing::recordFailure(__FILE__, __LINE__, "REQUIRE(" #cond ")");    \
      throw ::respo::testing::AbortTest{};                                          \
    }                                                                               \
  } while (0)

// Operands are copied: a reference could dangle when (a) is e.g. *optional_temporary.
#define EXPECT_EQ(a, b)                                                              \
  do {                                                                              \
    const auto va_ = (a);                                                           \
    const auto vb_ = (b);                                                           \
    if (!(va_ == vb_))                                                              \
      ::respo::testing::recordFailure(__FILE__, __LINE__,                           \
          std::string("EXPECT_EQ(" #a ", " #b "): ") + ::respo::testing::show(va_) + \
          " != " + ::respo::testing::show(vb_));                                    \
  } while (0)

#define EXPECT_NEAR(a, b, tol)                                                       \
  do {                                                                              \
    const double va_ = (a), vb_ = (b);                                              \
    if (!(std::fabs(va_ - vb_) <= (tol)))                                           \
      ::respo::testing::recordFailure(__FILE__, __LINE__,                           \
          std::string("EXPECT_NEAR(" #a ", " #b "): ") + std::to_string(va_) +       \
          " vs " + std::to_string(vb_));                                            \
  } while (0)

// Expects `expr` to throw `Type` whose what() contains `substring`.
#define EXPECT_THROWS(expr, Type, substring)                                         \
  do {                                                                              \
    bool thrown_ = false;                                                           \
    try {                                                                           \
      (void)(expr);                                                                 \
    } catch (const Type& e_) {                                                      \
      thrown_ = true;                                                               \
      if (std::string(e_.what()).find(substring) == std::string::npos)              \
        ::respo::testing::recordFailure(__FILE__, __LINE__,                         \
            std::string("message of " #expr " lacks '") + (substring) + "': " + e_.what()); \
    } catch (const std::exception& e_) {                                            \
      thrown_ = true;                                                               \
      ::respo::testing::recordFailure(__FILE__, __LINE__,                           \
          std::string(#expr " threw the wrong type: ") + e_.what());                \
    }                                                                               \
    if (!thrown_)                                                                   \
      ::respo::testing::recordFailure(__FILE__, __LINE__, #expr " did not throw");  \
  } while (0)
