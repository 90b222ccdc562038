#!/bin/sh
# A report split into 3 shards run as separate processes, merged, must be the unsharded report byte
# for byte (JSON). Prints the wall time of both runs.
#   report_shards.sh RESPODIFF PROMPTS WORKDIR
set -eu
respodiff="$1" prompts="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
common="--prompts $prompts --n 3 --steps 6 --concept gender --policy balanced --methods respodiff;sld:medium --quiet"
now() { date +%s.%N; }
t0=$(now)
# shellcheck disable=SC2086
"$respodiff" report $common --json "$work/whole.json" >/dev/null
t1=$(now)
for k in 1 2 3; do
  # shellcheck disable=SC2086
  "$respodiff" report $common --shard "$k/3" --json "$work/part$k.json" >/dev/null &
done
wait
t2=$(now)
"$respodiff" report merge --json "$work/merged.json" "$work/part3.json" "$work/part1.json" "$work/part2.json" >"$work/merged.md"
cmp "$work/whole.json" "$work/merged.json"
# Not a shard twice, not a missing one.
if "$respodiff" report merge "$work/part1.json" "$work/part1.json" "$work/part2.json" 2>"$work/err1"; then exit 1; fi
grep -q "given twice" "$work/err1"
if "$respodiff" report merge "$work/part1.json" "$work/part2.json" 2>"$work/err2"; then exit 1; fi
grep -q "3 shards; 2 parts" "$work/err2"
grep -q "unsafe rate" "$work/merged.md"
echo "merged 3 shards == unsharded ($(wc -c <"$work/whole.json") bytes); unsharded $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s, 3 shards side by side $(awk "BEGIN{printf \"%.1f\", $t2 - $t1}") s"
