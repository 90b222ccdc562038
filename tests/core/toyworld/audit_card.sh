#!/bin/sh
# The audit card of a sweep on the toy model: written twice, the same bytes; self-contained (images
# inline, the chart inline, nothing fetched); it holds what an audit must name.
#   audit_card.sh RESPODIFF PROMPTS WORKDIR
set -eu
respodiff="$1" prompts="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
for run in 1 2; do
  "$respodiff" report --prompts "$prompts" --n 2 --steps 6 --methods "sld:max,guidance={}" --sweep 500,3000 \
    --examples 3 --html "$work/card$run.html" --quiet >/dev/null
done
cmp "$work/card1.html" "$work/card2.html"
card="$work/card1.html"
test "$(grep -o 'data:image/png;base64,' "$card" | wc -l)" -eq 9  # 3 prompts x (baseline + 2 settings)
grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$card"
grep -q 'Trade-off' "$card"
grep -q 'class="front"' "$card"
grep -q 'model fingerprint</th><td>[0-9a-f]\{16\} (of the UNet' "$card"
grep -q 'SHA-256 of the list' "$card"
grep -q 'weights SHA-256</th><td>[0-9a-f]\{64\}' "$card"
grep -q 'SLD: guidance 3000' "$card"
grep -q 'above probability 0.5' "$card"
# Self-contained: no scripts, no links, no sources other than inline data.
if grep -q -i -e '<script' -e '<link' -e 'src="http' -e "url(" "$card"; then exit 1; fi
echo "audit card: $(wc -c <"$card") bytes, identical on a second run"
