#!/usr/bin/env bash
# A training run killed with SIGKILL while it writes a checkpoint every step: the checkpoint on disk
# is always a whole file (the old one or the new one, never a mix), and the same command with
# --resume continues from it and finishes.
#   kill_and_resume.sh RESPODIFF MODEL WORKDIR
set -euo pipefail
bin="$1"; model="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
out="$work/woman.safetensors"; checkpoint="$out.checkpoint.safetensors"
args=(train-concept --model "$model" --preset gender-woman --steps 400 --trajectory-steps 6 --checkpoint-every 1
      --quiet --out "$out")
for round in 1 2 3; do
  "$bin" "${args[@]}" --resume 2>"$work/run$round.log" &
  pid=$!
  # Wait for checkpoints to be under way, then kill at an arbitrary moment of the run.
  for _ in $(seq 1 1200); do [ -f "$checkpoint" ] && break; sleep 0.05; done
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -f "$checkpoint" ] || { echo "round $round: no checkpoint was written before the kill"; cat "$work/run$round.log"; exit 1; }
  [ ! -f "$out" ] || { echo "round $round: the run finished before the kill; make it longer"; exit 1; }
  # The checkpoint reads whole.
  "$bin" inspect "$checkpoint" >"$work/inspect$round.txt"
  done_steps="$(sed -n 's/^metadata\tsteps_done\t//p' "$work/inspect$round.txt")"
  echo "round $round: killed; the checkpoint holds $done_steps steps"
done
"$bin" "${args[@]}" --resume 2>"$work/final.log"
grep -q "resumed from" "$work/final.log" || { echo "the last run did not resume"; cat "$work/final.log"; exit 1; }
"$bin" inspect "$out" | grep -q "^metadata	steps_done	400$" || { echo "the finished module does not record 400 steps"; exit 1; }
[ ! -f "$checkpoint" ] || { echo "the checkpoint was not removed after the module was saved"; exit 1; }
echo "the killed run resumed and finished: $(grep 'resumed from' "$work/final.log")"
