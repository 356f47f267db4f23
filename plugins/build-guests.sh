#!/usr/bin/env bash
# Builds the guest plugins in plugins/guests/ (the built-in extractors, the demo enricher and
# validator, and the hostile test guests) as WebAssembly components for wasm32-wasip2, in
# release mode, into "$CARGO_TARGET_DIR/wasm" (outside the repository), then copies each
# component and its manifest to the guests directory and prints their paths:
#   "${AKTE_GUESTS_DIR:-$CARGO_TARGET_DIR/wasm/components}/<name>.wasm" (+ <name>.toml)
# CARGO_TARGET_DIR defaults to ~/.cache/akte/target, as in scripts/test.sh. The tests of
# akte-plugins read the same directory and fail with a clear message when it is empty.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
out="${AKTE_GUESTS_DIR:-$target/wasm/components}"

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "build-guests: adding the wasm32-wasip2 target" >&2
  rustup target add wasm32-wasip2 >&2
fi

# From the repository root, where cargo finds .cargo/config.toml (the guests' rustflags).
(cd "$here/.." && CARGO_TARGET_DIR="$target/wasm" cargo build --locked --release --target wasm32-wasip2 \
  --manifest-path "$here/guests/Cargo.toml" >&2)

mkdir -p "$out"
built="$target/wasm/wasm32-wasip2/release"
for crate in "$here"/guests/*/; do
  crate="$(basename "$crate")"
  wasm="$built/akte_guest_${crate//-/_}.wasm"
  [ -f "$here/guests/$crate/src/lib.rs" ] && grep -q '"cdylib"' "$here/guests/$crate/Cargo.toml" || continue
  [ -f "$wasm" ] || { echo "build-guests: $wasm was not built" >&2; exit 1; }
  cp "$wasm" "$out/$crate.wasm"
  [ -f "$here/guests/$crate/plugin.toml" ] && cp "$here/guests/$crate/plugin.toml" "$out/$crate.toml"
  echo "$out/$crate.wasm"
done
