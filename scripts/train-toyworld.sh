#!/usr/bin/env bash
# Retrains everything the embedded default model ships, from a seed, on this machine's CPU:
# the SD-architecture model, the attribute classifier and the default concept modules, then runs
# the full evaluation. About 1.3 hours on 2 cores. Never part of CI.
#   scripts/train-toyworld.sh [OUT_DIR] [SEED]     (default: a fresh folder beside resources/toyworld)
# Each stage resumes from its checkpoints when run again with the same OUT_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$here/build/toyworld-retrained}"
seed="${2:-1}"
"$here/scripts/build.sh" default
python="$("$here/scripts/setup.sh" --print-venv)/bin/python"
bpe="$("$python" -c 'import open_clip.tokenizer as t; print(t.default_bpe())')"
bin="$here/build/bin/respodiff"
mkdir -p "$out"
# One torch job at a time: two of them on 2 cores slow each other down several times over.
[ -f "$out/model/model_index.json" ] ||
  "$bin" toyworld train --out "$out/model" --work "$out/work" --seed "$seed" --bpe "$bpe"
[ -f "$out/classifier.safetensors" ] ||
  "$bin" toyworld classifier --out "$out/classifier.safetensors" --seed "$((seed + 6))"
"$bin" toyworld concepts --model "$out/model" --out "$out/concepts" --seed "$((seed - 1))"
"$bin" eval toyworld --model "$out/model" --classifier "$out/classifier.safetensors" --concepts "$out/concepts" \
  --json "$out/eval.json" --markdown "$out/eval.md"
echo "retrained into $out; compare $out/eval.md with the table in README.md"
