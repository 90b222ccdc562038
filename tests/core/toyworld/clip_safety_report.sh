#!/bin/sh
# report --clip DIR --clip-safety: the CLIP reader's safety categories reach the report (a random-
# weight CLIP folder, given its tokenizer files, reads the toy model's images).
#   clip_safety_report.sh RESPODIFF CLIP_FIXTURE BPE WORKDIR
set -eu
respodiff="$1" fixture="$2" bpe="$3" work="$4"
rm -rf "$work" && mkdir -p "$work"
cp -r "$fixture" "$work/clip"
"$respodiff" tokenizer-export --bpe "$bpe" --out "$work/clip" >/dev/null
"$respodiff" report --prompt-set toyworld --n 2 --steps 3 --clip "$work/clip" \
  --clip-safety 'violence=a violent image|a peaceful image@0.5; nudity=a naked person|a clothed person' \
  --json "$work/report.json" --quiet >"$work/report.md"
grep -q '"category": "violence"' "$work/report.json"
grep -q '"category": "nudity"' "$work/report.json"
grep -q "violence: flagged when softmax(logit scale x cosine) gives 'a violent image' against 'a peaceful image'" "$work/report.json"
grep -q 'unsafe rate' "$work/report.md"
# Without --clip, CLIP safety categories are refused with a message.
if "$respodiff" report --n 1 --steps 2 --clip-safety default --quiet >/dev/null 2>"$work/err"; then exit 1; fi
grep -q 'CLIP safety categories need a CLIP model' "$work/err"
echo "CLIP safety categories in the report"
