#!/usr/bin/env bash
# Benchmarks of the plugin host (issue 3), all in release builds:
#   1. per-call overhead of a small Rust plugin (fresh store + instance + call + checks),
#      compile and cache-load times: the akte-plugins example bench_calls;
#   2. extraction throughput of the built-in extractors (txt, html, office, pdf, eml) in
#      the sandbox against the same crates run natively, with the outputs compared byte for
#      byte: the fixture documents plus large generated ones (bench_extract, akte-bench-native);
#   3. how long after its deadline a runaway plugin is stopped (bench_runaway).
#   bash bench/plugins.sh [WORKDIR]      (default /tmp/akte-bench-plugins; needs ~150 MB)
# Prints Markdown; docs/BENCHMARKS.md keeps the latest results. Takes 3-4 minutes on 2 cores
# once built. Environment: BENCH_RUNS (default 20: runs per runaway case).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/akte-bench-plugins}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
export AKTE_GUESTS_DIR="${AKTE_GUESTS_DIR:-$CARGO_TARGET_DIR/wasm/components}"
started=$(date +%s)

echo "bench/plugins.sh: building (release)" >&2
bash "$here/plugins/build-guests.sh" >/dev/null
(cd "$here" && cargo build --release --locked -p akte-plugins \
  --example bench_calls --example bench_extract --example bench_runaway >&2)
(cd "$here" && cargo build --release --locked -p akte-fixtures --bin gen-corpus >&2)
# The native half: the same guest crates for the host, with the guests' release profile
# (opt-level "s", LTO), as the components are built.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/wasm" cargo build --release --locked \
  --manifest-path "$here/plugins/guests/Cargo.toml" -p akte-bench-native >&2
examples="$CARGO_TARGET_DIR/release/examples"
native="$CARGO_TARGET_DIR/wasm/release/akte-bench-native"

rm -rf "$work"; mkdir -p "$work/out"
echo "# Plugin benchmarks"
echo
echo "$(date -u +%Y-%m-%d), $(git -C "$here" log -1 --format='%h %s' 2>/dev/null || echo 'no git'),"
echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"

echo "1/3 per-call overhead (bench_calls)" >&2
echo
echo "## Per call"
echo
echo "| what | measured |"
echo "|---|---|"
"$examples/bench_calls" | tee "$work/bench_calls.txt" | sed -nE \
  -e 's/^load ([a-z-]+) *\( *([0-9]+) KiB\): compile +([^,]+), from cache +(.*)$/| `\1` (\2 KiB): compile; load from the compile cache | \3; \4 |/p' \
  -e '/^stop delay/d' \
  -e 's/^(.*[^ ]) +n=([0-9]+) +mean +([^ ]+) +p50 +([^ ]+) +p99 +([^ ]+)$/| call overhead, \1, n = \2 | p50 \4, p99 \5 (mean \3) |/p' \
  -e 's/^txt throughput on 1 MiB inputs: (.*)$/| txt, 1 MiB inputs back to back | \1 |/p'

echo "2/3 extraction, sandbox and native (bench_extract, akte-bench-native)" >&2
"$CARGO_TARGET_DIR/release/gen-corpus" --n 4000 --seed 7 --format jsonl --out "$work/corpus.jsonl" >/dev/null
"$examples/bench_extract" gen "$work/in" "$work/corpus.jsonl"
echo
echo "## Extraction, sandbox and native"
echo
"$examples/bench_extract" run "$work/in" "$work/out" "$native" 2>"$work/extract.log"

echo "3/3 runaway plugins (bench_runaway)" >&2
echo
echo "## Runaway plugins"
echo
"$examples/bench_runaway"

echo "bench/plugins.sh: done in $(( $(date +%s) - started )) s; per-file times in $work/extract.log" >&2
