#!/usr/bin/env bash
# Reindex from a real store (issue 4): builds a repository of N Dokumente with the CLI
# (gen-corpus letters, seed 100 + k for chunk k, added with ingest, CHUNK Dokumente per
# Akte and per `akte add`), then measures on it, each in a process of its own:
#   - `akte ls` (opening the repository: the catalog cache is read and folded),
#   - `akte reindex` (the catalog rebuilt from the store, every record decrypted, then the
#     search index rebuilt: every Dokument's fields and extracted text read from the store),
#     into an empty index directory, as after a lost or replaced index.
# For each: wall time, CPU time, peak RSS (VmHWM), and the peaks of its anonymous and
# file-backed parts (sampled every 200 ms, so they miss what a run shorter than that
# peaks at; tantivy maps its segment files).
#   bash bench/reindex.sh [N] [WORKDIR]   (default N=1000000, WORKDIR /tmp/akte-bench-reindex)
#   bash bench/reindex.sh 20000           (a quick check, about 1 minute)
# The store is kept in WORKDIR and reused when it already holds N Dokumente (KEEP=0 deletes
# it at the end). Disk: about 13 KB of store and 4.5 KB of index per Dokument, plus one
# chunk of corpus files at a time. Environment: CHUNK (50000).
# Prints Markdown; docs/BENCHMARKS.md keeps the results.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
N="${N:-1000000}"; work="${WORKDIR:-/tmp/akte-bench-reindex}"
for arg in "$@"; do
  if [[ "${arg//_/}" =~ ^[0-9]+$ ]]; then N="${arg//_/}"; else work="$arg"; fi
done
CHUNK="${CHUNK:-50000}"; KEEP="${KEEP:-1}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
(cd "$here" && cargo build --release --locked -p akte-server -p akte-fixtures --bin akte --bin gen-corpus >&2)
bash "$here/plugins/build-guests.sh" >/dev/null
akte="$CARGO_TARGET_DIR/release/akte"; gen="$CARGO_TARGET_DIR/release/gen-corpus"
export AKTE_DATA="$work/data"
mkdir -p "$work"

# measure LABEL CMD...: prints "wall cpu maxrss anon-peak file-peak" (s, s, MiB, MiB, MiB).
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.$label" "$@" >"$work/out.$label" 2>&1 &
  local tpid=$! pid="" ma=0 mf=0 a f
  while kill -0 $tpid 2>/dev/null; do
    [ -z "$pid" ] && pid=$(pgrep -P $tpid | head -1 || true)
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
      a=$(awk '/RssAnon/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
      f=$(awk '/RssFile/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$a" ] && [ "$a" -gt "$ma" ] && ma=$a
      [ -n "$f" ] && [ "$f" -gt "$mf" ] && mf=$f
    fi
    sleep 0.2
  done
  wait $tpid || { echo "bench/reindex.sh: $label failed:" >&2; tail -3 "$work/out.$label" >&2; exit 1; }
  local e u s m
  read -r e u s m <"$work/time.$label"
  echo "$e $(printf '%.2f' "$(echo "$u + $s" | bc)") $((m / 1024)) $((ma / 1024)) $((mf / 1024))"
}

# 1. The store.
[ -d "$AKTE_DATA" ] || "$akte" init >/dev/null
have=$("$akte" --json ls | python3 -c 'import json,sys; print(sum(a["dokumente"] for a in json.load(sys.stdin)))')
build_s=0
if [ "$have" -ne "$N" ]; then
  if [ "$have" -ne 0 ]; then echo "bench/reindex.sh: $work holds $have Dokumente, not $N; delete it first" >&2; exit 1; fi
  echo "bench/reindex.sh: adding $N Dokumente in chunks of $CHUNK" >&2
  started=$(date +%s)
  for ((k = 0; k * CHUNK < N; k++)); do
    n=$((N - k * CHUNK < CHUNK ? N - k * CHUNK : CHUNK))
    az=$(printf 'B-%03d' "$k")
    "$akte" create --aktenzeichen "$az" --title "Akte $k" >/dev/null
    rm -rf "$work/c"; "$gen" --n "$n" --seed $((100 + k)) --out "$work/c" >/dev/null 2>&1
    # Relative names keep the argument list of 50,000 files under the kernel's limit.
    (cd "$work/c" && "$akte" add "$az" 0*/*.txt >/dev/null 2>>"$work/add.log")
    rm -rf "$work/c"
    echo "  $az: $(((k + 1) * CHUNK < N ? (k + 1) * CHUNK : N)) Dokumente after $(($(date +%s) - started)) s" >&2
  done
  build_s=$(($(date +%s) - started))
fi
store_mib=$(du -sm "$AKTE_DATA/store" | cut -f1)
entries=$(wc -l <"$AKTE_DATA/catalog.log")

# 2. Opening: `akte ls`.
read -r ls_e ls_c ls_m ls_a ls_f < <(measure ls "$akte" ls)
# 3. Reindex into an empty index directory.
rm -rf "$AKTE_DATA/index"
sync
read -r ri_e ri_c ri_m ri_a ri_f < <(measure reindex "$akte" reindex)
index_mib=$(du -sm "$AKTE_DATA/index" | cut -f1)
rate=$(echo "$N / $ri_e" | bc)

echo "# Reindex from a store of $N Dokumente"
echo
echo "$(date -u +%Y-%m-%d), $(git -C "$here" log -1 --format='%h' 2>/dev/null || echo 'no git'), $(nproc) cores"
echo
[ "$build_s" -gt 0 ] && echo "Store built with \`akte add\` (ingest on) in $build_s s."
echo "Store: $store_mib MiB, $entries journal entries; index after the rebuild: $index_mib MiB."
echo
echo "| what | wall | CPU | Dokumente/s | peak RSS | anon peak | file peak |"
echo "|---|---|---|---|---|---|---|"
echo "| \`akte ls\` (open: catalog cache read and folded) | $ls_e s | $ls_c s | | $ls_m MiB | $ls_a MiB | $ls_f MiB |"
echo "| \`akte reindex\` (catalog from the store, then the index) | $ri_e s | $ri_c s | $rate | $ri_m MiB | $ri_a MiB | $ri_f MiB |"
[ "$KEEP" = 1 ] || rm -rf "$work"
