#!/usr/bin/env bash
# One prepared run of the GPU checks: the parity tests on CUDA in fp32, fp16 and bf16, text to image on
# the GPU, and the benchmark against diffusers (eager and compiled) on the same card, with short tables.
#
#   scripts/gpu-check.sh                  on a GPU machine with CMake, Ninja and a Python with torch:
#                                         builds the engine and command line (no Qt, no OpenCV), then checks
#   scripts/gpu-check.sh --cpu-only       here: configure and build the same way, CUDA off, CPU checks
#   scripts/gpu-check.sh --bundle FILE    here: build the same way and pack the programs the checks run
#                                         (and the libraries they need beyond LibTorch and the C library)
#                                         into FILE, for a GPU machine with the same torch but no compiler
#   scripts/gpu-check.sh --prebuilt FILE [--cpu-only]
#                                         on that machine: unpack FILE and check with it (--cpu-only: the
#                                         same run on the CPU, to try a bundle where it was made)
#
# The reference models and outputs come from diffusers/transformers on the machine that checks (with
# diffusers, transformers and open_clip_torch importable). The CUDA half of LibTorch is loaded at run
# time, as an installed app does. Each stage has a time limit and prints its rows as it ends, so a stage
# that fails or runs out of time leaves the others' figures. RESPODIFF_GPU_CHECK_OUT names a folder for
# the logs (default: a temporary one).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-gpu}"
log="${RESPODIFF_GPU_CHECK_OUT:-$(mktemp -d)}"  # logs, tables and pictures
work="$(mktemp -d)"                               # reference models and outputs (gigabytes on CUDA)
mkdir -p "$log"

# The Python whose torch is linked (a build) or loaded (a bundle): RESPODIFF_PYTHON, else the project's
# environment where this machine builds (scripts/setup.sh), else python3.
python=""
candidates=("${RESPODIFF_PYTHON:-}")
[ -z "${RESPODIFF_PYTHON:-}" ] && [ "$mode" != --prebuilt ] &&
  candidates+=("$(scripts/setup.sh --print-venv 2>/dev/null | tail -n1)/bin/python")
for candidate in "${candidates[@]}" python3; do
  if [ -n "$candidate" ] && "$candidate" -c "import torch" 2>/dev/null; then python="$candidate"; break; fi
done
[ -n "$python" ] || { echo "gpu-check: no Python with torch found" >&2; exit 1; }

build_here() {  # $1: ON or OFF (link LibTorch's CUDA half at build time)
  cmake -S . -B "$here/build-gpu" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRESPODIFF_WITH_QT=OFF \
    -DRESPODIFF_WITH_OPENCV=OFF -DRESPODIFF_WITH_CUDA="$1" -DRESPODIFF_PYTHON="$python" \
    -DRESPODIFF_BUILD_TESTS=ON >/dev/null || exit 1
  cmake --build "$here/build-gpu" --target respodiff test_model_parity test_pipeline_parity || exit 1
}

cuda=ON
case "$mode" in
  gpu) build_here ON; bin="$here/build-gpu/bin"; tests="$here/build-gpu/tests" ;;
  --cpu-only) cuda=OFF; build_here OFF; bin="$here/build-gpu/bin"; tests="$here/build-gpu/tests" ;;
  --bundle)
    out="${2:?--bundle FILE}"
    build_here OFF
    stage="$(mktemp -d)"
    mkdir -p "$stage/bin" "$stage/lib"
    cp build-gpu/bin/respodiff build-gpu/tests/test_model_parity build-gpu/tests/test_pipeline_parity "$stage/bin/"
    strip "$stage/bin/"*
    # The libraries the programs need besides LibTorch's and the C and C++ runtimes (ICU, whose
    # versioned symbols another distribution's ICU does not have).
    ldd "$stage/bin/"* | awk '/=> \// {print $3}' | sort -u |
      grep -Ev '/(libc|libm|libdl|librt|libpthread|libutil|libresolv|libstdc\+\+|libgcc_s|libz|ld-linux[^/]*)\.so' |
      grep -v '/torch/lib/' | while read -r lib; do cp -L "$lib" "$stage/lib/"; done
    tar -C "$stage" -cJf "$out" bin lib
    rm -rf "$stage"
    echo "gpu-check: bundle $out ($(du -h "$out" | cut -f1)): $(tar -tJf "$out" | tr '\n' ' ')"
    exit 0 ;;
  --prebuilt)
    bundle="${2:?--prebuilt FILE}"
    [ "${3:-}" = --cpu-only ] && cuda=OFF  # the bundle's dry run on a machine without a GPU
    unpacked="$(mktemp -d)"
    tar -C "$unpacked" -xJf "$bundle" || exit 1
    bin="$unpacked/bin"; tests="$unpacked/bin"
    torchlib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
    export LD_LIBRARY_PATH="$unpacked/lib:$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    if ldd "$bin/respodiff" | grep -q "not found"; then
      echo "gpu-check: the bundled programs miss libraries:" >&2; ldd "$bin/respodiff" | grep "not found" >&2; exit 1
    fi ;;
  *) echo "gpu-check: unknown mode $mode" >&2; exit 2 ;;
esac

status=0
# run LIMIT NAME COMMAND...: runs a stage's command under a time limit, its output in $log/NAME.log.
run() {
  local limit="$1" name="$2"; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" >"$log/$name.log" 2>&1
  local rc=$?
  echo "[$name: rc $rc, $((SECONDS - start)) s]" >>"$log/stages.txt"
  [ $rc -eq 0 ] || { status=1; echo "gpu-check: $name failed (rc $rc), last lines:" >&2; tail -n 5 "$log/$name.log" >&2; }
  return $rc
}
value() { awk -v k="$1:" '$1 == k {print $2}' "$log/$2.log" 2>/dev/null | head -n1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a"}'; }
# vram LIMIT NAME COMMAND...: like run, and records the GPU's peak memory in use above what it held
# before (nvidia-smi every 50 ms: a whole-process figure, the CUDA context included) in the log.
vram() {
  local name="$2"
  if [ "$cuda" != ON ] || ! command -v nvidia-smi >/dev/null; then run "$@"; return; fi
  local before; before=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -n1)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 50 >"$work/$name.smi" 2>/dev/null &
  local sampler=$!
  run "$@"; local rc=$?
  kill $sampler 2>/dev/null; wait $sampler 2>/dev/null
  local peak; peak=$(sort -n "$work/$name.smi" | tail -n1)
  echo "vram_peak_mib: $((${peak:-0} - ${before:-0}))" >>"$log/$name.log"
  return $rc
}

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1
"$python" -c "import diffusers, transformers, open_clip" 2>/dev/null ||
  { echo "gpu-check: needs diffusers, transformers and open_clip_torch in $python" >&2; exit 1; }
bpe="$("$python" -c 'import open_clip.tokenizer as t; print(t.default_bpe())')"
refs="$work/reference"
(cd tests/reference && run 300 reference_small "$python" sd_reference.py "$refs" --bpe "$bpe") || exit 1
sd="$refs"

devices=(cpu:fp32)
[ "$cuda" = ON ] && devices=(cuda:fp32 cuda:fp16 cuda:bf16 cpu:fp32)
[ "$cuda" = ON ] && "$bin/respodiff" devices 2>&1 | sed 's/^/gpu-check: /'
for prec in fp32 fp16 bf16; do
  [ "$cuda" = ON ] || break
  run 120 "generate_$prec" "$bin/respodiff" generate --model "$sd/sd1" --prompt "a photo of a doctor" --steps 25 \
    --device cuda --precision "$prec" --out "$log/gpu-$prec.png" --quiet && echo "generate on cuda $prec: ok"
done
printf '\n| device | precision | components (max rel. error) | images (max rel. error) | result |\n|---|---|---|---|---|\n'
for d in "${devices[@]}"; do
  dev="${d%%:*}"; prec="${d##*:}"
  run 300 "parity_models_${dev}_$prec" "$tests/test_model_parity" --dir "$sd" --device "$dev" --precision "$prec" --skip full_size
  run 300 "parity_pipeline_${dev}_$prec" "$tests/test_pipeline_parity" --dir "$sd" --device "$dev" --precision "$prec"
  label="($dev $prec)"
  comp=$(grep -F "$label" "$log/parity_models_${dev}_$prec.log" | grep -o 'relative error [0-9.e+-]*' | awk '{print $3}' | sort -g | tail -n1)
  img=$(grep -F "$label" "$log/parity_pipeline_${dev}_$prec.log" | grep -o 'image relative error [0-9.e+-]*' | awk '{print $4}' | sort -g | tail -n1)
  verdict=$(tail -qn1 "$log/parity_models_${dev}_$prec.log" "$log/parity_pipeline_${dev}_$prec.log" | tr '\n' ';')
  printf '| %s | %s | %s | %s | %s |\n' "$dev" "$prec" "${comp:-n/a}" "${img:-n/a}" "$verdict"
done

# The benchmark against diffusers on the same device, weights and steps: ours, diffusers eager and
# diffusers compiled (channels-last + torch.compile), and compare mode over a single run. On CUDA: a
# full-size SD1.5-shaped model with random weights (made here by diffusers), 512x512, 50 DDIM steps;
# then one guided call (batch 2) of SDXL base's UNet at 1024x1024 in fp16. The CPU dry run times the
# small model at 5 steps, so that every line of it runs.
if [ "$cuda" = ON ]; then
  models="$work/models"
  (cd tests/reference && OMP_NUM_THREADS=$(nproc) run 300 reference_sd15_full "$python" sd_reference.py "$models" \
     --bpe "$bpe" --only-full-size-model) || status=1
  bmodel="$models/sd15_full"; bsteps=50; bdev=cuda; precisions="fp16 bf16 fp32"; brepeat=3
  compile_mode="${RESPODIFF_COMPILE_MODE:-default}"
else
  bmodel="$sd/sd1"; bsteps=5; bdev=cpu; precisions="fp32"; brepeat=3; compile_mode=""
fi
printf '\n| %s, %s steps | ours (s) | diffusers eager (s) | ours / eager | compare / single (ours) | VRAM peak ours / eager (MiB) |\n|---|---|---|---|---|---|\n' \
  "$(basename "$bmodel") on $bdev" "$bsteps"
for prec in $precisions; do
  common=(--model "$bmodel" --steps "$bsteps" --device "$bdev" --precision "$prec" --repeat "$brepeat" --threads 2)
  vram 240 "ours_$prec" "$bin/respodiff" benchmark "${common[@]}"
  vram 240 "eager_$prec" "$python" tests/reference/bench_reference.py "${common[@]}"
  # Compare mode only for the first precision (fp16 on CUDA).
  [ "$prec" = "${precisions%% *}" ] && run 240 "compare_$prec" "$bin/respodiff" benchmark "${common[@]}" --compare
  ours=$(value median_seconds "ours_$prec"); eager=$(value median_seconds "eager_$prec")
  printf '| %s | %s | %s | %s | %s | %s / %s |\n' "$prec" "${ours:-failed}" "${eager:-failed}" "$(ratio "$ours" "$eager")" \
    "$(value compare_over_single "compare_$prec")" "$(value vram_peak_mib "ours_$prec")" "$(value vram_peak_mib "eager_$prec")"
done

if [ "$cuda" = ON ]; then
  (cd tests/reference && OMP_NUM_THREADS=$(nproc) run 300 reference_sdxl_unet "$python" sdxl_reference.py "$models" \
     --only-full-size-unet) || status=1
  xl=(--model "$models/sdxl_unet" --unet-only --batch 2 --width 1024 --height 1024 --device cuda --precision fp16 --repeat 10)
  vram 240 ours_sdxl_unet "$bin/respodiff" benchmark "${xl[@]}"
  vram 240 eager_sdxl_unet "$python" tests/reference/bench_reference.py "${xl[@]}"
  ours=$(value median_seconds ours_sdxl_unet); eager=$(value median_seconds eager_sdxl_unet)
  printf '\n| SDXL UNet, 1024x1024, batch 2, fp16 | ours (ms) | diffusers eager (ms) | ours / eager | x 30 steps, ours (s) | VRAM peak ours / eager (MiB) |\n|---|---|---|---|---|---|\n'
  printf '| one guided call | %s | %s | %s | %s | %s / %s |\n' "$(awk -v s="$ours" 'BEGIN {printf "%.1f", s * 1000}')" \
    "$(awk -v s="$eager" 'BEGIN {printf "%.1f", s * 1000}')" "$(ratio "$ours" "$eager")" \
    "$(awk -v s="$ours" 'BEGIN {printf "%.2f", s * 30}')" "$(value vram_peak_mib ours_sdxl_unet)" "$(value vram_peak_mib eager_sdxl_unet)"
fi
# Compiling takes minutes, so it comes last and only for the first precision (fp16 on CUDA).
if [ -n "$compile_mode" ]; then
  prec="${precisions%% *}"
  common=(--model "$bmodel" --steps "$bsteps" --device "$bdev" --precision "$prec" --repeat "$brepeat" --threads 2)
  run "${RESPODIFF_COMPILE_LIMIT:-300}" "compiled_$prec" "$python" tests/reference/bench_reference.py "${common[@]}" \
    --compile --compile-mode "$compile_mode"
  ours=$(value median_seconds "ours_$prec"); compiled=$(value median_seconds "compiled_$prec")
  printf '\n| %s, %s steps, %s | ours (s) | diffusers compiled (s) | ours / compiled |\n|---|---|---|---|\n| torch.compile mode "%s", UNet in channels-last | %s | %s | %s |\n' \
    "$(basename "$bmodel")" "$bsteps" "$prec" "$compile_mode" "${ours:-failed}" "${compiled:-failed}" \
    "$(ratio "$ours" "$compiled")"
fi
echo; cat "$log/stages.txt"
rm -rf "$work"
exit $status
