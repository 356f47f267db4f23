#!/usr/bin/env bash
# Store-to-store migration throughput between the local disk and S3 (docs/BENCHMARKS.md,
# "Migration to and from S3"): a repository holding one 1 GiB document is migrated
# file -> S3 (Garage on 127.0.0.1, started here) and back S3 -> file; each run copies every
# object as ciphertext and then verifies the copy as a fresh node.
# Usage: bash bench/migrate-s3.sh [WORKDIR]   (default: a fresh directory under /tmp; needs ~4 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test >/dev/null
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
cargo build --release --locked -p akte-server >&2
akte="$CARGO_TARGET_DIR/release/akte"
work="${1:-$(mktemp -d /tmp/akte-bench-migrate.XXXXXX)}"
mkdir -p "$work"
export AKTE_INGEST=off
secs() { python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.2f}")' "$1"; }
now() { python3 -c 'import time; print(time.time())'; }
eval "$(AKTE_WATCH_PID=$$ bash scripts/garage-test-server.sh "$work/garage")"
trap 'kill "$AKTE_GARAGE_PID" 2>/dev/null || true' EXIT

echo "# migration file <-> S3 (Garage on loopback; $(nproc) cores, $(date -u +%F))"
head -c $((1 << 30)) /dev/urandom >"$work/1g.bin"
"$akte" --data "$work/a" init >/dev/null
"$akte" --data "$work/a" create --aktenzeichen M-1 --title Umzug >/dev/null
"$akte" --data "$work/a" add M-1 "$work/1g.bin" --no-ingest >/dev/null
s3="s3://$AKTE_S3_BUCKET/bench-$(date +%s)"
sync; t=$(now)
"$akte" --data "$work/a" migrate --to "$s3" | tail -1
echo "migrate file -> S3, 1 GiB (copy and verify): $(secs "$t") s"
sync; t=$(now)
"$akte" --data "$work/b" --store "$s3" --identity "$work/a/identity.txt" migrate --to "file://$work/back" | tail -1
echo "migrate S3 -> file, 1 GiB (copy and verify): $(secs "$t") s"
rm -rf "$work/1g.bin" "$work/back"
