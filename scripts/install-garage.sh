#!/usr/bin/env bash
# Installs the Garage S3 server used by the S3 tests into a cache outside the
# clone, keyed by its version, so that only the first run pays the ~25 minute
# cold build. Idempotent: prints the binary's path and exits 0 when present.
# Garage is AGPL-3.0; it is a test tool only and never shipped with Akte.
set -euo pipefail
GARAGE_VERSION="${GARAGE_VERSION:-2.5.0}"
CACHE="${AKTE_CACHE:-$HOME/.cache/akte}"
root="$CACHE/garage-$GARAGE_VERSION"
bin="$root/bin/garage"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$root"
lock="$CACHE/garage-$GARAGE_VERSION.lock"
exec 9>"$lock"
flock 9
if [ ! -x "$bin" ]; then
  echo "building garage $GARAGE_VERSION into $root (one time, about 25 minutes on 2 cores)" >&2
  CARGO_TARGET_DIR="$CACHE/garage-build" nice -n 10 \
    cargo install garage --locked --version "$GARAGE_VERSION" --root "$root" >&2
  rm -rf "$CACHE/garage-build"
fi
echo "$bin"
