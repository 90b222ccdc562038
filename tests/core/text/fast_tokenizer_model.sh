#!/bin/sh
# A model folder whose tokenizer/ holds only tokenizer.json (as diffusers 0.42 with transformers 5
# saves it) generates the same picture as the same model with vocab.json and merges.txt.
#   fast_tokenizer_model.sh RESPODIFF MODEL FAST_TOKENIZER_FOLDER WORKDIR
set -eu
respodiff="$1" model="$2" fast="$3" work="$4"
rm -rf "$work" && mkdir -p "$work/a" "$work/b"
cp -r "$model" "$work/a/model"
cp -r "$model" "$work/b/model"
rm -rf "$work/b/model/tokenizer"
cp -r "$fast" "$work/b/model/tokenizer"
test ! -e "$work/b/model/tokenizer/vocab.json"
for side in a b; do
  "$respodiff" generate --model "$work/$side/model" --prompt "a photo of a doctor, oil painting" --steps 3 \
    --seed 5 --out "$work/$side/out.png" --quiet >/dev/null
done
cmp "$work/a/out.png" "$work/b/out.png"
echo "tokenizer.json model: the same picture"
