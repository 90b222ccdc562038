#!/usr/bin/env bash
# The test command: sets up, builds and runs every test, then the io and text tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer. Extra arguments go to ctest (e.g. -L parity).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/build.sh default
ctest --preset default "$@"
if [ $# -eq 0 ]; then
  scripts/build.sh asan
  ctest --preset asan
fi
