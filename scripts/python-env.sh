# Sourced by setup.sh and fetch-audit-data.sh: prepares a pinned Python environment outside the clone.
#   python_env VENV REQUIREMENTS "import a, b" "what it downloads"
# Idempotent: a stamp marks a finished environment; an interrupted install simply continues on the
# next run (pip skips what is there).
python_env() {
  local venv="$1" req="$2" imports="$3" size="$4"
  if [ -f "$venv/.respodiff-ready" ]; then
    log "Python environment ready: $venv"
    return 0
  fi
  log "preparing Python environment $venv (first run downloads $size)"
  mkdir -p "$(dirname "$venv")"
  [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-input -r "$req" >&2
  "$venv/bin/python" -c "$imports" >&2
  touch "$venv/.respodiff-ready"
}
