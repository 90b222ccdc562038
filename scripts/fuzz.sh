#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz") and runs each one for a time budget, starting from its
# committed seed corpus. Prints a table (target, executions, corpus size, result) and exits nonzero
# when any target found a crash, a leak, a timeout or an out-of-memory input.
#   scripts/fuzz.sh [seconds per target, default 20] [target ...]
#   FUZZ_CPU=1 counts the budget in CPU seconds of the target's process instead of wall seconds, so a
#   campaign on a machine that is busy with other work (or run under nice) still fuzzes each target
#   for its full budget.
#   FUZZ_JOBS=n runs n targets at once (default 1). Findings go to <work>/findings/<target>/, logs to
#   <work>/logs/; the grown corpus stays in <work>/corpus/<target>/ and the next run continues from
#   it. <work> is build/fuzz, or FUZZ_WORK (so a long campaign and the short CI run can coexist).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
budget="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(safetensors png parameters tokenizer tokenizer_folder bpe_gzip zip pickle concept_metadata
           prompt_list configs shard_index single_file lora_keys)
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null
bin="$here/build/fuzz/fuzz"
work="${FUZZ_WORK:-$here/build/fuzz}"
jobs="${FUZZ_JOBS:-1}"

run_one() {
  local t="$1" corpus="$work/corpus/$1" findings="$work/findings/$1" log="$work/logs/$1.log"
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  # The contract: only respo::Error escapes; 2 GB of memory (one allocation at most 1 GB); 10 s per input
  # (FUZZ_TIMEOUT; see below for FUZZ_CPU campaigns).
  # A target ends with an error status when it finds anything; the findings folder keeps the input.
  local wall="$budget" timeout="${FUZZ_TIMEOUT:-10}"
  # libFuzzer's per-input limit is wall-clock time; a campaign at low priority on a busy machine can
  # be starved for longer than that on a trivial input, so FUZZ_CPU mode allows 120 s by default.
  [ "${FUZZ_CPU:-0}" = 1 ] && wall=$((budget * 100)) && timeout="${FUZZ_TIMEOUT:-120}"
  set +e
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  "$bin/fuzz_$t" "$corpus" "$here/tests/fuzz/seeds/$t" \
    -max_total_time="$wall" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout="$timeout" \
    -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1 &
  local pid=$! interrupted=0
  if [ "${FUZZ_CPU:-0}" = 1 ]; then
    # libFuzzer stops cleanly on SIGINT (final statistics, exit status 72) once the process has used
    # the budget in CPU time (user + system, from /proc).
    local tick
    tick="$(getconf CLK_TCK)"
    while kill -0 "$pid" 2>/dev/null; do
      sleep 5
      local used
      used="$(awk -v hz="$tick" '{print int(($14 + $15) / hz)}' "/proc/$pid/stat" 2>/dev/null || echo 0)"
      if [ "$used" -ge "$budget" ]; then interrupted=1; kill -INT "$pid" 2>/dev/null; break; fi
    done
  fi
  wait "$pid"
  local rc=$?
  [ "$interrupted" = 1 ] && [ "$rc" = 72 ] && rc=0
  set -e
  echo "$rc" >"$log.rc"
}

pids=()
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz_$t" ] || { echo "unknown fuzz target: $t" >&2; exit 2; }
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait

status=0
printf '%-18s %14s %8s  %s\n' target executions corpus result
for t in "${targets[@]}"; do
  log="$work/logs/$t.log"
  rc="$(cat "$log.rc")"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  size="$(find "$work/corpus/$t" -type f | wc -l)"
  if [ "$rc" = 0 ]; then result=ok; else result="FINDING (exit $rc; see $log)"; status=1; fi
  printf '%-18s %14s %8s  %s\n' "$t" "${execs:-?}" "$size" "$result"
done
exit "$status"
