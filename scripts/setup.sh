#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine needs to build and test RespoDiff Studio.
# Idempotent: a second run only checks stamps and finishes in seconds.
#   - Debian packages (Qt 6, OpenCV, nlohmann_json, CLI11, ninja, ccache, ICU, zlib, Xvfb, clang + libFuzzer,
#     and the packaging checks' tools: dpkg-dev, appstream, desktop-file-utils)
#   - a pinned Python virtual environment OUTSIDE the clone holding torch (whose LibTorch
#     we link), diffusers, transformers, open_clip_torch, safetensors (the parity references)
#   - audit data in the same cache: NudeNet's detector and the I2P / UnlearnDiffAtk prompt sets
#     (scripts/fetch-audit-data.sh)
# Prints the venv path on the last line of stdout when called with --print-venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$here/tests/reference/requirements.txt"

log() { printf '[setup] %s\n' "$*" >&2; }

# ---- Debian packages -------------------------------------------------------
debs=(cmake ninja-build ccache g++ pkg-config
      qt6-base-dev qt6-base-dev-tools qt6-charts-dev libqt6opengl6-dev qt6-svg-dev
      libopencv-dev nlohmann-json3-dev libicu-dev zlib1g-dev libgl-dev
      xvfb xauth clang libclang-rt-14-dev
      libcli11-dev file dpkg-dev appstream desktop-file-utils)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  log "Debian packages present"
fi

# ---- Python reference environment (outside the clone) ----------------------
cache="${RESPODIFF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/respodiff}"
reqhash="$(sha256sum "$req" | cut -c1-12)"
venv="${RESPODIFF_VENV:-$cache/venv-$reqhash}"
. "$here/scripts/python-env.sh"
python_env "$venv" "$req" "import torch, diffusers, transformers, open_clip, safetensors" \
  "about 3.5 GB: torch with its CUDA libraries"
# PEFT for the LoRA parity reference, added to the same environment (a few MB; idempotent).
if ! "$venv/bin/python" -c "import peft, accelerate" 2>/dev/null; then
  log "adding PEFT to the Python environment"
  "$venv/bin/pip" install --quiet --no-input --no-deps -r "$here/tests/reference/lora-requirements.txt" >&2
fi

# ---- Audit data (outside the clone): NudeNet's detector and public prompt sets --
"$here/scripts/fetch-audit-data.sh"

# Vocabulary for the embedded default model comes from the open_clip_torch wheel, reproducibly.
if [ "${1:-}" = "--print-venv" ]; then
  printf '%s\n' "$venv"
fi
