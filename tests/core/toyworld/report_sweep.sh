#!/bin/sh
# report sweep --method M --values V is the same run as report --methods M --sweep V: the same JSON,
# byte for byte; and its misuse is refused with a message.
#   report_sweep.sh RESPODIFF PROMPTS WORKDIR
set -eu
respodiff="$1" prompts="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
"$respodiff" report sweep --prompts "$prompts" --n 2 --steps 4 --method "sld:max,guidance={}" --values=500,3000 \
  --json "$work/subcommand.json" --quiet >/dev/null
"$respodiff" report --prompts "$prompts" --n 2 --steps 4 --methods "sld:max,guidance={}" --sweep 500,3000 \
  --json "$work/flags.json" --quiet >/dev/null
cmp "$work/subcommand.json" "$work/flags.json"
grep -q '"tradeoff"' "$work/subcommand.json"
if "$respodiff" report sweep --prompts "$prompts" --method "sld:max,guidance={}" 2>"$work/err"; then exit 1; fi
grep -q 'report sweep needs --method' "$work/err"
if "$respodiff" report sweep --prompts "$prompts" --methods x --values 1 2>"$work/err"; then exit 1; fi
grep -q 'belongs to plain report' "$work/err"
echo "report sweep: the same JSON as --sweep"
