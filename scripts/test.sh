#!/usr/bin/env bash
# Quick start: set up and run every test: lints, unit and integration tests, the S3 tests
# against a Garage server started here on 127.0.0.1, and the licence check.
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads a terminal.
exec < /dev/null
bash scripts/setup.sh --test
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
export CARGO_TERM_COLOR=never
# CI builds a fresh clone: incremental caches would only fill the disk.
export CARGO_INCREMENTAL=0

garage_dir="$(mktemp -d /tmp/akte-garage.XXXXXX)"
eval "$(AKTE_WATCH_PID=$$ bash scripts/garage-test-server.sh "$garage_dir")"
trap 'kill "$AKTE_GARAGE_PID" 2>/dev/null || true; rm -rf "$garage_dir"' EXIT

echo "== format and lints" >&2
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "== licences" >&2
python3 scripts/check-licences.py
echo "== plugin guests and examples (wasm32-wasip2; Python and JavaScript components)" >&2
bash plugins/build-guests.sh >/dev/null
bash plugins/build-examples.sh >/dev/null
# The guests are a workspace of their own: their lints (for wasm32-wasip2, as shipped) and
# their unit tests (natively; each guest is also a plain library).
guest_checks() {
  (cd plugins/guests && cargo fmt --all --check \
    && CARGO_TARGET_DIR="$CARGO_TARGET_DIR/wasm" cargo clippy --locked --workspace --all-targets --target wasm32-wasip2 -- -D warnings \
    && CARGO_TARGET_DIR="$CARGO_TARGET_DIR/wasm" cargo test --locked --workspace)
}
# Cargo caches its probe of rustc (`rustc - --print=…`, which reads stdin) in the target
# directory, a failed probe too, and replays it in every later run there. It failed once
# when /dev/null had become a regular file (`akte get -o /dev/null` did that before
# ecce485). Should the cache hold such a failure, it is cleared and the checks run once
# more; a real lint or test failure fails both times.
if ! guest_checks; then
  echo "== plugin guests: checks again, with cargo's rustc probe cache cleared" >&2
  rm -f "$CARGO_TARGET_DIR/wasm/.rustc_info.json"
  guest_checks
fi
echo "== tests" >&2
cargo test --locked --workspace --no-fail-fast
# Old test binaries of earlier clones would otherwise pile up in the shared target directory.
python3 scripts/prune-target.py "$CARGO_TARGET_DIR"
