#!/usr/bin/env bash
# The full soak (the CI runs a shorter one): 200 generations with concepts toggling, the model
# loaded and unloaded 20 times, a 1,000-step training run paused and resumed, each printing resident
# memory and open files after its warm-up and at its end. Builds first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/build.sh default
build/tests/test_soak --generations 200 --loads 20 --training-steps 1000
