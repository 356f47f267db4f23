#!/usr/bin/env bash
# Installs what Akte's build, demo and tests need on a fresh Debian machine. Idempotent:
# each step checks first and does nothing when its tool is already there.
#   scripts/setup.sh          build tools and OCR (enough for the demo)
#   scripts/setup.sh --test   also the test tools (Garage S3 server, fonts)
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
# OCR of scans: tesseract with German, and poppler's pdftoppm for PDF pages without text;
# prlimit and unshare (util-linux) bound and isolate them.
command -v tesseract >/dev/null || need_apt+=(tesseract-ocr)
ls /usr/share/tesseract-ocr/*/tessdata/deu.traineddata >/dev/null 2>&1 || need_apt+=(tesseract-ocr-deu)
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
command -v prlimit >/dev/null || need_apt+=(util-linux)
if [ "$want_test" = 1 ]; then
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
  command -v flock >/dev/null || need_apt+=(util-linux)
  # The windkraft example plugin in Python (componentize-py, in a venv) and JavaScript
  # (componentize-js, with npm).
  python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
  command -v node >/dev/null || need_apt+=(nodejs)
  command -v npm >/dev/null || need_apt+=(npm)
  # xmllint validates every xdomea message against the schema.
  command -v xmllint >/dev/null || need_apt+=(libxml2-utils)
  # strace watches the server's connect calls in the no-outbound-connection test.
  command -v strace >/dev/null || need_apt+=(strace)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${need_apt[@]}" >&2
fi
command -v cargo >/dev/null || { echo "setup: cargo is missing; install Rust with rustup first" >&2; exit 1; }
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "setup: adding the wasm32-wasip2 target (plugins are WebAssembly components)" >&2
  rustup target add wasm32-wasip2 >&2
fi
if [ "$want_test" = 1 ]; then
  bash scripts/install-garage.sh >/dev/null
  # bagit.py, ocfl-validate.py and schemathesis check our exports and the REST API.
  bash scripts/install-py-tools.sh >/dev/null
fi
