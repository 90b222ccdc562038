#!/usr/bin/env bash
# Makes the docs' screenshot of the main window: under a virtual X server (Xvfb), the studio opens the
# embedded toy-world model, generates "a photo of a nurse" with the "a man" concept on, and
# saves a picture of the whole window after the result is shown.
#   scripts/screenshot-studio.sh [OUT.png]     (default: docs/images/studio-main.png)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(realpath -m "${1:-$here/docs/images/studio-main.png}")"
"$here/scripts/build.sh" default >/dev/null
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# Fresh settings and an empty user library, so the picture shows the defaults.
XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" \
  xvfb-run -a -s "-screen 0 1400x900x24" \
  "$here/build/bin/respodiff-studio" --prompt "a photo of a nurse" --seed 3 --concept "a man" \
  --output-folder "$scratch/pictures" --screenshot "$out"
echo "wrote $out"
