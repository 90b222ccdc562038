#!/usr/bin/env bash
# CTest's packaging check: installs the main package's contents (component "studio", stripped, as
# CPack puts them in the .deb) into a temporary root and runs tests/packaging/install_check.sh on it
# with the source tree, the build tree and the cache holding the Python environment hidden.
#   install_test.sh BUILD_DIR SOURCE_DIR CACHE_DIR
set -euo pipefail
build="$1"; source="$2"; cache="$3"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
cmake --install "$build" --prefix "$root/usr" --component studio --strip >/dev/null
echo "install_test: installed $(du -sh "$root" | cut -f1) into a temporary root"
"$(dirname "${BASH_SOURCE[0]}")/install_check.sh" "$root" "$source" "$build" "$cache"
