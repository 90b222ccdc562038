#!/usr/bin/env bash
# Makes the docs' screenshots of the training wizard's training page and of the fairness report:
# under a virtual X server (Xvfb), the wizard GUI test trains a short "a man" module on the embedded
# toy-world model (pausing and resuming it), then runs the report on two female-biased professions,
# and saves both windows as they look at the end.
#   scripts/screenshot-wizard.sh [OUT_DIR]     (default: docs/images; writes wizard-training.png,
#                                               fairness-report.png and report-tradeoff.png)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(realpath -m "${1:-$here/docs/images}")"
mkdir -p "$out"
"$here/scripts/build.sh" default >/dev/null
RESPODIFF_SCREENSHOT_DIR="$out" QT_QPA_PLATFORM=xcb \
  xvfb-run -a -s "-screen 0 1400x1000x24" "$here/build/tests/test_wizard" >/dev/null
echo "wrote $out/wizard-training.png, $out/fairness-report.png and $out/report-tradeoff.png"
