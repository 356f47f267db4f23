#!/usr/bin/env bash
# HTTP benchmarks of `akte serve` on loopback (docs/BENCHMARKS.md, "REST API"):
#   1 GiB upload (raw body, curl) and download, next to `akte add` / `akte get` on the CLI,
#   and `akte migrate` of that repository to another file store;
#   the server's peak RSS during a 2 GiB upload;
#   10,000 small documents uploaded over HTTP (16 connections, bench/http/small.py);
#   requests per second and latency percentiles of a metadata read (wrk, 2 threads, 32 connections);
#   how soon an upload is searchable, by its file name and by its text (bench/http/fresh.py).
# Usage: bash bench/http.sh [WORKDIR]   (default: a fresh directory under /tmp; needs ~8 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
cargo build --release --locked -p akte-server >&2
akte="$CARGO_TARGET_DIR/release/akte"
work="${1:-$(mktemp -d /tmp/akte-bench-http.XXXXXX)}"
mkdir -p "$work"
export AKTE_INGEST=off
secs() { python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.2f}")' "$1"; }
now() { python3 -c 'import time; print(time.time())'; }

echo "# REST API over loopback ($(nproc) cores, $(date -u +%F))"
head -c $((1 << 30)) /dev/urandom >"$work/1g.bin"
head -c $((2 << 30)) /dev/urandom >"$work/2g.bin"

# CLI baseline.
"$akte" --data "$work/cli" init >/dev/null
"$akte" --data "$work/cli" create --aktenzeichen B-1 --title Bench >/dev/null
sync; t=$(now)
dok=$("$akte" --data "$work/cli" add B-1 "$work/1g.bin" --no-ingest --json | python3 -c 'import sys,json;print(json.load(sys.stdin)[0]["id"])')
sync; echo "cli add 1 GiB: $(secs "$t") s"
t=$(now); "$akte" --data "$work/cli" get "$dok" >/dev/null; echo "cli get 1 GiB: $(secs "$t") s"
# Store-to-store migration of that repository (file -> file, then verified).
sync; t=$(now)
"$akte" --data "$work/cli" migrate --to "file://$work/migrated" | head -2
echo "migrate 1 GiB repository (copy and verify): $(secs "$t") s"
rm -rf "$work/migrated"

# The server.
data="$work/srv"
"$akte" --data "$data" init >/dev/null
token=$("$akte" --data "$data" token create --role admin --name bench 2>/dev/null)
"$akte" --data "$data" --json serve --listen 127.0.0.1:18480 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18480/healthz >/dev/null && break; sleep 0.1; done
api=http://127.0.0.1:18480/api/v1
auth="Authorization: Bearer $token"
akte_id=$(curl -sf -H "$auth" -H 'content-type: application/json' -d '{"aktenzeichen":"B-1","title":"Bench"}' "$api/akten" | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')

sync; t=$(now)
dok=$(curl -sSf -H "$auth" -H 'content-type: application/octet-stream' -T "$work/1g.bin" -X POST "$api/akten/$akte_id/dokumente?file_name=1g.bin" | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
sync; echo "http upload 1 GiB: $(secs "$t") s"
t=$(now); curl -sf -H "$auth" "$api/dokumente/$dok/content" -o "$work/back.bin"; echo "http download 1 GiB: $(secs "$t") s"
cmp "$work/back.bin" "$work/1g.bin" && echo "downloaded bytes identical"
rm -f "$work/back.bin"

curl -sf -H "$auth" -T "$work/2g.bin" -X POST "$api/akten/$akte_id/dokumente?file_name=2g.bin" >/dev/null
echo "server peak RSS after a 2 GiB upload: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$pid/status)"

python3 bench/http/small.py "$api" "$token" "$akte_id" 10000 16

wrk -t2 -c32 -d10s --latency -H "$auth" "$api/akten/$akte_id" | sed -n '/Latency Distribution/,/Requests\/sec/p'
wrk -t2 -c32 -d10s --latency -H "$auth" "$api/dokumente/$dok" | grep -E "Requests/sec|99%"
kill $pid; wait $pid 2>/dev/null || true
rm -f "$work/1g.bin" "$work/2g.bin"

# Freshness of search (issue 4): a server with ingest on (text extracted by the txt plugin),
# one upload at a time, then the same while 8 connections upload other documents.
fresh="$work/fresh"
"$akte" --data "$fresh" init >/dev/null
token=$("$akte" --data "$fresh" token create --role admin --name bench 2>/dev/null)
env -u AKTE_INGEST "$akte" --data "$fresh" --json serve --listen 127.0.0.1:18481 >"$work/fresh.out" 2>"$work/fresh.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:18481/healthz >/dev/null && break; sleep 0.1; done
api=http://127.0.0.1:18481/api/v1
auth="Authorization: Bearer $token"
akte_id=$(curl -sf -H "$auth" -H 'content-type: application/json' -d '{"aktenzeichen":"F-1","title":"Frische"}' "$api/akten" | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
python3 bench/http/fresh.py "$api" "$token" "$akte_id" 50
python3 bench/http/fresh.py "$api" "$token" "$akte_id" 30 8
kill $pid; wait $pid 2>/dev/null || true
