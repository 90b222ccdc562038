#!/usr/bin/env bash
# Builds the Debian packages (CPack) and checks them as a user's machine would run them:
#   respodiff-studio_<v>_amd64.deb       the programs, data and LibTorch's CPU half (CPU-only users)
#   respodiff-studio-cuda_<v>_amd64.deb  LibTorch's CUDA half and NVIDIA's libraries (GPU users)
# Each is unpacked with `dpkg -x` into an empty root and tests/packaging/install_check.sh runs the
# installed programs with the source tree, the build tree and the Python environment hidden: first
# the main package alone, then with the CUDA package added. Prints the package sizes.
#   scripts/package.sh [BUILD_DIR]   (default build/, built with scripts/build.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
cache="${RESPODIFF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/respodiff}"
out="$build/packages"
mkdir -p "$out"
cmake --build "$build" -j2 >/dev/null
(cd "$out" && cpack --config "$build/CPackConfig.cmake" -B "$out" >/dev/null)
main="$(ls "$out"/respodiff-studio_*.deb)"; cuda="$(ls "$out"/respodiff-studio-cuda_*.deb)"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
dpkg -x "$main" "$root"
echo "== $(basename "$main"): $(du -h "$main" | cut -f1) packed, $(du -sh "$root" | cut -f1) installed"
dpkg-deb -f "$main" Package Version Section Depends | sed 's/^/   /'
"$here/tests/packaging/install_check.sh" "$root" "$here" "$build" "$cache"
before="$(du -sm "$root" | cut -f1)"
dpkg -x "$cuda" "$root"
echo "== $(basename "$cuda"): $(du -h "$cuda" | cut -f1) packed, $(( $(du -sm "$root" | cut -f1) - before )) MB installed"
dpkg-deb -f "$cuda" Package Version Section Depends | sed 's/^/   /'
"$here/tests/packaging/install_check.sh" "$root" "$here" "$build" "$cache" --cuda
