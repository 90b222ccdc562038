#!/usr/bin/env bash
# A fairness and safety report over many GPUs as a Slurm job array: task K of N runs the K-th slice
# of the prompts (respodiff report --shard K/N), and a dependent job merges the slices into the
# result of one unsharded run.
#
#   sbatch --array=1-N deploy/slurm/report-array.sh            # the slices
#   sbatch --dependency=afterok:JOBID deploy/slurm/report-array.sh merge   # then the merge
#
# Settings come from the environment (exported by sbatch): RESPODIFF (the binary, default
# respodiff), MODEL, PROMPTS, N_IMAGES, STEPS, METHODS, CONCEPTS, OUT (a shared folder), and
# SHARDS, which must equal the array's size.
#SBATCH --job-name=respodiff-report
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=04:00:00
#SBATCH --output=%x-%A_%a.log
set -euo pipefail
respodiff="${RESPODIFF:-respodiff}"
out="${OUT:?set OUT to a folder every node can write}"
shards="${SHARDS:?set SHARDS to the array size}"
mkdir -p "$out"

if [ "${1:-}" = "merge" ]; then
  parts=()
  for k in $(seq 1 "$shards"); do parts+=("$out/part-$k-of-$shards.json"); done
  exec "$respodiff" report merge --json "$out/report.json" --markdown "$out/report.md" "${parts[@]}"
fi

k="${SLURM_ARRAY_TASK_ID:?run as a job array: sbatch --array=1-$shards}"
args=(report --model "${MODEL:?set MODEL}" --prompts "${PROMPTS:?set PROMPTS}" --n "${N_IMAGES:-10}"
      --steps "${STEPS:-25}" --shard "$k/$shards" --quiet --json "$out/part-$k-of-$shards.json.tmp")
[ -n "${CONCEPTS:-}" ] && args+=(--concept "$CONCEPTS")
[ -n "${METHODS:-}" ] && args+=(--methods "$METHODS")
"$respodiff" "${args[@]}"
# A slice that was cut short leaves no part behind, so the merge cannot take it.
mv "$out/part-$k-of-$shards.json.tmp" "$out/part-$k-of-$shards.json"
