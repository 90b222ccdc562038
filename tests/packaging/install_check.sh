#!/usr/bin/env bash
# Runs an installed RespoDiff Studio as a user's machine would: from ROOT (a `cmake --install`
# prefix's parent or a `dpkg -x` of the packages), with the build tree and the Python environment
# out of reach. Where mount namespaces are allowed they are covered with empty folders; in any case
# the dynamic loader's log must show no file loaded from them.
#   install_check.sh ROOT HIDE_DIR... [-- --cuda]
# Checks: every bundled library and program resolves its libraries; the programs are stripped and
# find LibTorch through their RUNPATH; `respodiff generate` on the embedded default model writes a
# PNG with its parameters; `respodiff-studio PICTURE --screenshot` (offscreen) restores the picture's
# settings, generates and saves the window; CUDA is
# reported as installed or not, as the root holds it; desktop entry and AppStream metadata validate.
set -euo pipefail
root="$(cd "$1" && pwd)"; shift
hide=(); cuda=no
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda=yes ;;
    *) [ -d "$1" ] && hide+=("$(cd "$1" && pwd -P)") ;;
  esac
  shift
done
# A folder inside another hidden one is hidden with it (and could not be mounted over).
outer=()
for d in "${hide[@]}"; do
  inside=no
  for e in "${hide[@]}"; do [ "$d" != "$e" ] && [[ "$d" == "$e"/* ]] && inside=yes; done
  [ $inside = no ] && outer+=("$d")
done
hide=("${outer[@]}")
for d in "${hide[@]}"; do
  [[ "$root" == "$d"/* ]] && { echo "install_check: $root lies in hidden $d" >&2; exit 2; }
done
usr="$root/usr"
fail() { echo "install_check: FAIL: $*" >&2; exit 1; }
pass() { echo "install_check: ok: $*"; }

[ -x "$usr/bin/respodiff" ] || fail "no usr/bin/respodiff under $root"
[ -x "$usr/bin/respodiff-studio" ] || fail "no usr/bin/respodiff-studio under $root"

# ---- static checks ------------------------------------------------------------------------------
for exe in "$usr/bin/respodiff" "$usr/bin/respodiff-studio"; do
  file -b "$exe" | grep -q ", stripped" || fail "$exe is not stripped"
  runpath="$(readelf -d "$exe" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')"
  [ "$runpath" = '$ORIGIN/../lib/respodiff' ] || fail "$exe has RUNPATH '$runpath'"
  readelf -d "$exe" | grep -q "libtorch_cuda" && fail "$exe links libtorch_cuda directly"
done
pass "programs stripped, RUNPATH \$ORIGIN/../lib/respodiff, CUDA half not linked"
count=0
for f in "$usr/bin/respodiff" "$usr/bin/respodiff-studio" "$usr"/lib/respodiff/*.so*; do
  # libcuda.so.1 is the NVIDIA driver's, the user's own.
  missing="$(ldd "$f" 2>/dev/null | grep "not found" | grep -v "libcuda.so.1 " || true)"
  [ -z "$missing" ] || fail "$(basename "$f") misses: $missing"
  count=$((count + 1))
done
pass "$count programs and bundled libraries resolve every library they need"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$usr/share/applications/org.respodiff.Studio.desktop" || fail "desktop entry"
  pass "desktop entry validates"
fi
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net "$usr/share/metainfo/org.respodiff.Studio.metainfo.xml" >/dev/null \
    || fail "AppStream metainfo"
  pass "AppStream metainfo validates"
fi
for size in 16 32 48 64 128 256; do
  [ -s "$usr/share/icons/hicolor/${size}x${size}/apps/respodiff-studio.png" ] || fail "no ${size}px icon"
done
[ -s "$usr/share/icons/hicolor/scalable/apps/respodiff-studio.svg" ] || fail "no SVG icon"
[ -s "$usr/share/doc/respodiff-studio/copyright" ] || fail "no copyright file"
[ -s "$usr/share/bash-completion/completions/respodiff" ] || fail "no bash completion"
pass "icons, copyright and bash completion installed"

# ---- running it, with the build tree and the Python environment out of reach --------------------
work="$(mktemp -d)"
[ -n "${KEEP_INSTALL_CHECK:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"
cat > "$work/run.sh" <<'EOF'
#!/usr/bin/env bash
# Runs inside the (possibly namespaced) environment: $1 = usr, $2 = work, $3 = cuda yes/no.
set -euo pipefail
usr="$1"; work="$2"; cuda="$3"
cd "$work"
export LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/ld"
"$usr/bin/respodiff" --version > version.txt
"$usr/bin/respodiff" devices > devices.txt
"$usr/bin/respodiff" generate --prompt "a person in a park" --steps 4 --seed 7 --out picture.png --quiet > generate.txt
# As "Open with" starts it: the picture's settings restored, then generated again (saved to saved/).
QT_QPA_PLATFORM=offscreen "$usr/bin/respodiff-studio" picture.png --output-folder saved \
  --screenshot window.png --exit-after-ms 240000 > studio.txt 2>&1
EOF
chmod +x "$work/run.sh"
environment=(env -i "HOME=$work/home" "PATH=/usr/bin:/bin" "LANG=C.UTF-8" "TMPDIR=$work")
how="loader log only"
if [ ${#hide[@]} -gt 0 ] && unshare -m true 2>/dev/null; then
  mounts=""
  for d in "${hide[@]}"; do mounts+="mount -t tmpfs none '$d' && "; done
  "${environment[@]}" unshare -m sh -c "$mounts '$work/run.sh' '$usr' '$work' '$cuda'" \
    || { cat "$work/studio.txt" 2>/dev/null; fail "running the installed programs"; }
  how="covered by empty mounts and checked in the loader log"
else
  "${environment[@]}" "$work/run.sh" "$usr" "$work" "$cuda" \
    || { cat "$work/studio.txt" 2>/dev/null; fail "running the installed programs"; }
fi
for d in "${hide[@]}"; do
  if grep -h "calling init: " "$work"/ld.* | grep -q -F "$d"; then fail "a library was loaded from $d"; fi
done
pass "hidden folders (${hide[*]:-none}): $how; nothing loaded from them"
loaded="$(grep -ho "calling init: .*libtorch_cpu.so" "$work"/ld.* | sed 's/^calling init: //' | sort -u | xargs -r realpath)"
[ "$loaded" = "$(realpath "$usr/lib/respodiff/libtorch_cpu.so")" ] \
  || fail "libtorch_cpu.so was loaded from '$loaded', not the package's folder"
pass "LibTorch loaded from usr/lib/respodiff"

grep -q "^respodiff " "$work/version.txt" || fail "--version printed: $(cat "$work/version.txt")"
if [ "$cuda" = yes ]; then
  grep -q "CUDA: not installed" "$work/devices.txt" && fail "CUDA package installed but not loaded: $(cat "$work/devices.txt")"
  grep -h "calling init: " "$work"/ld.* | grep -q "/lib/respodiff/libtorch_cuda.so" || fail "libtorch_cuda.so not loaded"
  pass "CUDA half installed and loaded ($(tr '\n' ' ' < "$work/devices.txt"))"
else
  grep -q "CUDA: not installed" "$work/devices.txt" || fail "devices without the CUDA package: $(cat "$work/devices.txt")"
  pass "without the CUDA package: $(grep CUDA "$work/devices.txt")"
fi
[ -s "$work/picture.png" ] || fail "generate wrote no picture: $(cat "$work/generate.txt")"
python3 - "$work/picture.png" <<'EOF' || fail "the picture has no parameters"
import sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
i, found = 8, False
while i < len(data):
    n = int.from_bytes(data[i:i + 4], "big"); kind = data[i + 4:i + 8]; body = data[i + 8:i + 8 + n]
    if kind in (b"tEXt", b"iTXt") and body.startswith(b"parameters\0"):
        found = b"Steps: 4" in body
    i += 12 + n
sys.exit(0 if found else 1)
EOF
pass "respodiff generate on the embedded model: $(cat "$work/generate.txt")"
[ -s "$work/window.png" ] || fail "the studio saved no screenshot: $(cat "$work/studio.txt")"
again="$(ls "$work"/saved/*.png 2>/dev/null | grep -v -- -baseline | head -1)"
[ -n "$again" ] || fail "the studio saved no generation: $(cat "$work/studio.txt")"
grep -a -q "a person in a park" "$again" && grep -a -q "Steps: 4, " "$again" && grep -a -q "Seed: 7, " "$again" \
  || fail "the studio did not restore picture.png's settings: $(grep -a -o 'Steps: [^\n]*' "$again" | head -1)"
pass "respodiff-studio picture.png restored its prompt, steps and seed and generated again"
pass "respodiff-studio --screenshot saved the window ($(stat -c %s "$work/window.png") bytes)"
