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
# The pixels (IDAT) must be the same; the parameters differ in "Model hash", as the folders do.
idat() { python3 -c 'import sys,zlib
d=open(sys.argv[1],"rb").read(); i=8; out=b""
while i < len(d):
    n=int.from_bytes(d[i:i+4],"big"); t=d[i+4:i+8]
    if t==b"IDAT": out+=d[i+8:i+8+n]
    i+=12+n
sys.stdout.buffer.write(zlib.decompress(out))' "$1"; }
idat "$work/a/out.png" > "$work/a/pixels"
idat "$work/b/out.png" > "$work/b/pixels"
test -s "$work/a/pixels"
cmp "$work/a/pixels" "$work/b/pixels"
echo "tokenizer.json model: the same picture"
