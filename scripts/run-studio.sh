#!/usr/bin/env bash
# The run command: sets up, builds and opens RespoDiff Studio. Arguments go to the app.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/build.sh" default
exec "$here/build/bin/respodiff-studio" "$@"
