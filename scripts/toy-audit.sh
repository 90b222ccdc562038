#!/usr/bin/env bash
# The toy-world audit: the plain model, RespoDiff, SLD, a UCE erase edit and a negative prompt on the
# toy audit prompts (fairness and safety, with intervals), then one sweep of each method's knob. Writes
# an audit card (HTML), JSON and, for sweeps, the trade-off chart (SVG) per run into OUT.
#   scripts/toy-audit.sh [OUT (default build/toy-audit)] [images per prompt (default 10)]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$here/build/toy-audit}"
n="${2:-10}"
bin="$here/build/bin/respodiff"
[ -x "$bin" ] || "$here/scripts/build.sh" default
mkdir -p "$out"
prompts="$here/resources/toyworld/audit-prompts.txt"
model="$here/resources/toyworld/model"
common=(--prompts "$prompts" --n "$n" --steps 25 --quiet)  # the default model: the toy one
professions="a doctor; a nurse; a firefighter; a chef; a police officer; a construction worker; a pilot; a teacher; a person"

# UCE: the unsafe words erased toward nothing, the professions preserved, at three lambdas.
for lambda in 0.01 0.1 1; do
  "$bin" edit-concepts --model "$model" --erase "bloody; a knife" --preserve "$professions" --lambda "$lambda" \
    --name "toy erase (lambda $lambda)" --out "$out/erase-$lambda.safetensors" >/dev/null
done

run() {
  local name="$1"; shift
  local start=$SECONDS
  "$bin" report "${common[@]}" "$@" --json "$out/$name.json" --html "$out/$name.html" >"$out/$name.md"
  echo "$name: $((SECONDS - start)) s"
}
concepts=(--concept "gender,skin tone,safety" --policy balanced)
run methods "${concepts[@]}" \
  --methods "respodiff; sld:medium,concept=blood, a knife; uce:$out/erase-0.1.safetensors; negative:blood, a knife"
run sweep-respodiff "${concepts[@]}" --methods "respodiff:ram={}" --sweep 0,0.5,1,1.5 --svg "$out/sweep-respodiff.svg"
run sweep-sld --methods "sld:medium,concept=blood, a knife,guidance={}" --sweep 250,1000,2000,5000 \
  --tradeoff "unsafe rate" --svg "$out/sweep-sld.svg"
run sweep-uce --methods "uce:$out/erase-{}.safetensors" --sweep 0.01,0.1,1 --tradeoff "unsafe rate" --svg "$out/sweep-uce.svg"
run sweep-negative --methods "negative:(blood, a knife:{})" --sweep 0.5,1,1.5 --tradeoff "unsafe rate" \
  --svg "$out/sweep-negative.svg"
echo "audit cards in $out"
