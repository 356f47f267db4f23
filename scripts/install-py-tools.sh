#!/usr/bin/env bash
# Installs the Python test tools (bagit, ocfl-py, schemathesis; pinned in py-tools.txt)
# into ${AKTE_PY_TOOLS:-~/.cache/akte/py-tools}, a venv outside the clone. Idempotent:
# nothing happens when the installed set matches the pins. Prints the venv's bin directory.
set -euo pipefail
cd "$(dirname "$0")"
venv="${AKTE_PY_TOOLS:-$HOME/.cache/akte/py-tools}"
stamp="$venv/.pins"
if [ ! -f "$stamp" ] || ! cmp -s py-tools.txt "$stamp"; then
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2
  echo "setup: installing $(grep -v '^#' py-tools.txt | tr '\n' ' ')into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r py-tools.txt >&2
  cp py-tools.txt "$stamp"
fi
echo "$venv/bin"
