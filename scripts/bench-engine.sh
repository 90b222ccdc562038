#!/usr/bin/env bash
# Engine benchmark (not a test): our pipeline against diffusers on the same weights, steps and
# size, on this CPU. The two run as separate processes, alternating, ROUNDS times; each process
# times REPEAT runs after a warm-up. Prints the median of the per-process medians and the ratio.
#   scripts/bench-engine.sh [ROUNDS] [REPEAT]     (builds first; models come from the parity references)
# FULL_STEPS (default 5) sets the steps of the full-size end-to-end case, which runs once per process
# after its warm-up (a 512x512 image takes 80 to 100 s at 5 steps on 2 cores).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"; repeat="${2:-5}"
"$here/scripts/build.sh" default >/dev/null
py="$("$here/scripts/setup.sh" --print-venv 2>/dev/null)/bin/python"
bpe="$("$py" -c 'import open_clip.tokenizer as t; print(t.default_bpe())')"
work="$here/build/bench"; mkdir -p "$work"
cd "$here/tests/reference"
[ -f "$work/sd/sd1/model_index.json" ] || "$py" sd_reference.py "$work/sd" --bpe "$bpe" >/dev/null 2>&1
[ -f "$work/sd/sd15_unet/unet/config.json" ] || "$py" sd_reference.py "$work/sd" --bpe "$bpe" --full-size-unet >/dev/null 2>&1
[ -f "$work/sd/sd15_full/model_index.json" ] || "$py" sd_reference.py "$work/sd" --bpe "$bpe" --only-full-size-model >/dev/null 2>&1
full_steps="${FULL_STEPS:-5}"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run_case() {  # name, args...   (CASE_REPEAT overrides REPEAT)
  local name="$1"; shift
  local ours=() theirs=() n="${CASE_REPEAT:-$repeat}"
  for ((r = 0; r < rounds; r++)); do
    ours+=("$("$here/build/bin/respodiff" benchmark "$@" --repeat "$n" --threads 2 | awk '/median_seconds/ {print $2}')")
    theirs+=("$(HF_HUB_OFFLINE=1 "$py" bench_reference.py "$@" --repeat "$n" --threads 2 2>/dev/null | awk '/median_seconds/ {print $2}')")
  done
  local a b
  a=$(printf '%s\n' "${ours[@]}" | median); b=$(printf '%s\n' "${theirs[@]}" | median)
  printf '| %-44s | %10.4f | %10.4f | %6.2f |\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print a / b}')"
}
echo "| case (2 threads, median of $rounds processes x $repeat runs) | ours (s) | diffusers (s) | ours/diffusers |"
echo "|---|---|---|---|"
run_case "small SD1-shaped model, 32 px, 25 DDIM steps, CFG" --model "$work/sd/sd1" --steps 25
run_case "small SD1-shaped UNet, one call" --model "$work/sd/sd1" --unet-only
run_case "full-size SD1.5 UNet, one call, 64x64 latent" --model "$work/sd/sd15_unet" --unet-only
run_case "RespoDiff training step (k = 10), small model" --model "$work/sd/sd1" --train-step --k 10
CASE_REPEAT=1 run_case "full-size SD1.5 pipeline, 512x512, $full_steps DDIM steps, CFG, text to pixels" \
  --model "$work/sd/sd15_full" --steps "$full_steps"
echo
echo "Inference overhead of an enabled concept module (same process, alternating):"
"$here/build/bin/respodiff" benchmark --model "$work/sd/sd1" --concept-overhead --steps 25 --repeat 9 --threads 2

ours() {  # median over ROUNDS processes of `respodiff benchmark ARGS` (its median_seconds)
  local values=()
  for ((r = 0; r < rounds; r++)); do
    values+=("$("$here/build/bin/respodiff" benchmark "$@" --repeat "$repeat" --threads 2 | awk '/median_seconds/ {print $2}')")
  done
  printf '%s\n' "${values[@]}" | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo
echo "This CPU's limit, and the full-size SD1.5 UNet's share of it (one call, 64x64 latent, 2 threads):"
"$here/build/bin/respodiff" benchmark --model "$work/sd/sd15_unet" --unet-only --peak --profile --repeat 3 --threads 2 |
  grep -v '^load_seconds\|^peak_rss\|^rss_after'

echo
echo "Step caching (speed mode), ours against ours with every step full:"
echo "| case | full (s) | every 2nd step (s) | every 3rd step (s) | speed-up 2 | speed-up 3 |"
echo "|---|---|---|---|---|---|"
f=$(ours --model "$work/sd/sd1" --steps 25); c2=$(ours --model "$work/sd/sd1" --steps 25 --step-cache 2)
c3=$(ours --model "$work/sd/sd1" --steps 25 --step-cache 3)
printf '| small SD1-shaped model, 25 DDIM steps | %.4f | %.4f | %.4f | %s | %s |\n' "$f" "$c2" "$c3" "$(ratio "$f" "$c2")" "$(ratio "$f" "$c3")"
f=$(ours --model "$work/sd/sd15_unet" --unet-only); r=$(ours --model "$work/sd/sd15_unet" --unet-only --step-cache 2)
# A run with every N-th step full costs (1 + (N-1) * reused/full) / N of a full run, in UNet time.
printf '| full-size SD1.5 UNet: full call %.3f s, reusing call %.3f s | - | - | - | %s | %s |\n' "$f" "$r" \
  "$(awk -v f="$f" -v r="$r" 'BEGIN {printf "%.2f", 2 * f / (f + r)}')" "$(awk -v f="$f" -v r="$r" 'BEGIN {printf "%.2f", 3 * f / (f + 2 * r)}')"

echo
echo "Compare mode (baseline + responsible side, one batch and side after side) against the responsible side alone:"
echo "small SD1-shaped model:"
"$here/build/bin/respodiff" benchmark --model "$work/sd/sd1" --compare --steps 25 --repeat "$repeat" --threads 2
echo "embedded toy-world model:"
"$here/build/bin/respodiff" benchmark --model "$here/resources/toyworld/model" --compare --steps 25 --repeat "$repeat" --threads 2

echo
echo "Winograd convolutions (--convolutions winograd), ours against ours with direct convolutions:"
echo "| case | direct (s) | winograd (s) | winograd/direct |"
echo "|---|---|---|---|"
d=$(ours --model "$work/sd/sd15_unet" --unet-only --batch 2 --convolutions direct)
w=$(ours --model "$work/sd/sd15_unet" --unet-only --batch 2 --convolutions winograd)
printf '| full-size SD1.5 UNet, one guided call (batch 2) | %.3f | %.3f | %s |\n' "$d" "$w" "$(ratio "$w" "$d")"
echo "Per convolution, one image:"
"$here/build/bin/respodiff" benchmark --winograd-sweep --repeat "$repeat" --threads 2
