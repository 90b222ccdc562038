#!/usr/bin/env bash
# The test command: sets up, builds and runs every test, then the torch-free readers and writers
# again under AddressSanitizer + UndefinedBehaviorSanitizer, then every fuzz target for a short
# fixed budget (FUZZ_SECONDS, default 20 each). Extra arguments go to ctest (e.g. -L parity) and
# skip the sanitizer and fuzz stages.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/build.sh default
ctest --preset default "$@"
if [ $# -eq 0 ]; then
  scripts/build.sh asan
  ctest --preset asan
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
