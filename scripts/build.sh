#!/usr/bin/env bash
# Sets up (idempotent), configures and builds one preset (default: "default").
#   scripts/build.sh [preset]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset="${1:-default}"
RESPODIFF_PYTHON="$("$here/scripts/setup.sh" --print-venv)/bin/python"
export RESPODIFF_PYTHON
cd "$here"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
