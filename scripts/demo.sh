#!/usr/bin/env bash
# Quick start: set up, build, and run `akte demo` on the embedded default (local disk,
# generated keys, the Windpark Hohe Heide case from fixtures/). Extra arguments go to akte.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
cargo build --release --locked -p akte-server >&2
exec "$CARGO_TARGET_DIR/release/akte" "$@" demo
