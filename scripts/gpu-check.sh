#!/usr/bin/env bash
# One prepared run of the GPU checks: builds the engine and command line (no Qt, no OpenCV) against
# the LibTorch of the Python found on the machine, runs the parity tests on CUDA in fp32, fp16 and
# bf16, times generation against diffusers (eager and compiled) on the same device, and prints
# short tables.
#
#   scripts/gpu-check.sh               on a GPU machine
#   scripts/gpu-check.sh --cpu-only    here: configure and build the same way, CUDA off, CPU tests
#
# The reference outputs come from the pinned Python environment when it is present (this machine);
# a GPU machine without diffusers uses the copy that `scripts/gpu-check.sh --prepare` leaves in
# gpu-reference/ (carried along with the working tree).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-gpu}"
build="$here/build-gpu"
refs="$here/build/reference"

python=""
for candidate in "${RESPODIFF_PYTHON:-}" "$(scripts/setup.sh --print-venv 2>/dev/null | tail -n1)/bin/python" python3; do
  if [ -n "$candidate" ] && "$candidate" -c "import torch" 2>/dev/null; then python="$candidate"; break; fi
done
[ -n "$python" ] || { echo "gpu-check: no Python with torch found" >&2; exit 1; }

if [ "$mode" = "--prepare" ]; then
  # Regenerate the small reference models and outputs here and keep a copy for the GPU machine.
  scripts/build.sh default >/dev/null
  ctest --preset default -R "reference_sd_models" >/dev/null
  rm -rf gpu-reference && mkdir -p gpu-reference && cp -r "$refs/sd" gpu-reference/
  echo "gpu-check: reference outputs copied to gpu-reference/ ($(du -sh gpu-reference | cut -f1))"
  exit 0
fi

cuda=ON; [ "$mode" = "--cpu-only" ] && cuda=OFF
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRESPODIFF_WITH_QT=OFF -DRESPODIFF_WITH_OPENCV=OFF \
  -DRESPODIFF_WITH_CUDA=$cuda -DRESPODIFF_PYTHON="$python" -DRESPODIFF_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --target respodiff test_model_parity test_pipeline_parity

if "$python" -c "import diffusers, transformers, open_clip" 2>/dev/null; then
  ctest --test-dir "$build" -R "reference_sd_models" >/dev/null
  sd="$build/reference/sd"
elif [ -d gpu-reference/sd ]; then
  sd="$here/gpu-reference/sd"
else
  echo "gpu-check: no diffusers here and no gpu-reference/ (run scripts/gpu-check.sh --prepare first)" >&2; exit 1
fi

devices=(cpu:fp32)
[ "$cuda" = ON ] && devices+=(cuda:fp32 cuda:fp16 cuda:bf16)
printf '\n| device | precision | components (max rel. error) | images (max rel. error) | result |\n|---|---|---|---|---|\n'
status=0
for d in "${devices[@]}"; do
  dev="${d%%:*}"; prec="${d##*:}"
  comp_out=$("$build/tests/test_model_parity" --dir "$sd" --device "$dev" --precision "$prec" --skip full_size 2>&1) || status=1
  pipe_out=$("$build/tests/test_pipeline_parity" --dir "$sd" --device "$dev" --precision "$prec" 2>&1) || status=1
  label="($dev $prec)"
  comp=$(grep -F "$label" <<<"$comp_out" | grep -o 'relative error [0-9.e+-]*' | awk '{print $3}' | sort -g | tail -n1)
  img=$(grep -F "$label" <<<"$pipe_out" | grep -o 'image relative error [0-9.e+-]*' | awk '{print $4}' | sort -g | tail -n1)
  verdict=$(tail -n1 <<<"$comp_out"; tail -n1 <<<"$pipe_out")
  printf '| %s | %s | %s | %s | %s |\n' "$dev" "$prec" "${comp:-n/a}" "${img:-n/a}" "$(tr '\n' ';' <<<"$verdict")"
done

# The benchmark against diffusers on the same device, weights and steps, in one run: ours, diffusers
# eager and diffusers compiled (channels-last + torch.compile, on CUDA), and compare mode over a single
# run. On CUDA: a full-size SD1.5-shaped model with random weights (made here by diffusers), 512x512,
# 50 DDIM steps. The CPU dry run times the small model, 5 steps, so that every line of it runs.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 > 0) printf "%.2f", a / b; else print "n/a"}'; }
if "$python" -c "import diffusers, transformers, open_clip" 2>/dev/null; then
  if [ "$cuda" = ON ]; then
    bmodel="$build/bench/sd15_full"; bsteps=50; bdev=cuda; precisions="fp16 bf16 fp32"; brepeat=3
    if [ ! -f "$bmodel/model_index.json" ]; then
      bpe="$("$python" -c 'import open_clip.tokenizer as t; print(t.default_bpe())')"
      (cd tests/reference && "$python" sd_reference.py "$build/bench" --bpe "$bpe" --only-full-size-model >/dev/null)
    fi
  else
    bmodel="$sd/sd1"; bsteps=5; bdev=cpu; precisions="fp32"; brepeat=3
  fi
  printf '\n| %s, %s steps | ours (s) | diffusers eager (s) | diffusers compiled (s) | ours / eager | ours / compiled | compare / single (ours) |\n|---|---|---|---|---|---|---|\n' \
    "$(basename "$bmodel") on $bdev" "$bsteps"
  for prec in $precisions; do
    common=(--model "$bmodel" --steps "$bsteps" --device "$bdev" --precision "$prec" --repeat "$brepeat" --threads 2)
    ours=$("$build/bin/respodiff" benchmark "${common[@]}" | awk '/^median_seconds/ {print $2}') || status=1
    single_vs=$("$build/bin/respodiff" benchmark "${common[@]}" --compare | awk '/^compare_over_single/ {print $2}') || status=1
    eager=$(cd tests/reference && HF_HUB_OFFLINE=1 "$python" bench_reference.py "${common[@]}" 2>/dev/null |
            awk '/^median_seconds/ {print $2}') || status=1
    compiled="n/a"
    if [ "$bdev" = cuda ]; then
      compiled=$(cd tests/reference && HF_HUB_OFFLINE=1 "$python" bench_reference.py "${common[@]}" --compile 2>/dev/null |
                 awk '/^median_seconds/ {print $2}') || compiled="failed"
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$prec" "${ours:-failed}" "${eager:-failed}" "${compiled:-failed}" \
      "$(ratio "$ours" "$eager")" "$(ratio "$ours" "$compiled")" "${single_vs:-failed}"
  done
else
  echo "gpu-check: no diffusers here: the benchmark against diffusers is skipped"
fi

if [ "$cuda" = ON ]; then
  echo
  for prec in fp32 fp16; do
    "$build/bin/respodiff" generate --model "$sd/sd1" --prompt "a photo of a doctor" --steps 25 --device cuda \
      --precision "$prec" --out "$build/gpu-$prec.png" --quiet >/dev/null && echo "generate on cuda $prec: ok"
  done
fi
exit $status
