#!/usr/bin/env bash
# Ingest and read-back benchmark of the repository, side by side with `cp` (the physical
# limit) and `restic backup` on the same data, plus peak RSS and a chunk-size sweep.
#   bash bench/store.sh [WORKDIR]      (default /tmp/akte-bench; needs ~8 GiB free)
# Prints a Markdown table; docs/BENCHMARKS.md keeps the latest results. `akte add` runs with
# --no-ingest: this measures the repository; extraction and OCR are measured on their own.
# Environment: BIG_MIB (default 1024), SMALL_N (default 10000), HUGE_MIB (default 2048,
# the bounded-memory check; 0 skips it), SWEEP (default "1 4 16", chunk sizes in MiB; "" skips it),
# REPS (default 3: each comparison row is the median of REPS fresh rounds).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/akte-bench}"
BIG_MIB="${BIG_MIB:-1024}"; SMALL_N="${SMALL_N:-10000}"; HUGE_MIB="${HUGE_MIB:-2048}"; SWEEP="${SWEEP-1 4 16}"
command -v restic >/dev/null || { apt-get update -qq && apt-get install -y -qq restic; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
(cd "$here" && cargo build --release --locked -p akte-server -p akte-fixtures >&2)
akte="$CARGO_TARGET_DIR/release/akte"
corpus="$CARGO_TARGET_DIR/release/gen-corpus"
rm -rf "$work"; mkdir -p "$work/in"
echo "generating data in $work" >&2
head -c $((BIG_MIB << 20)) /dev/urandom > "$work/in/big.bin"
"$corpus" --n "$SMALL_N" --out "$work/in/small" --seed 7 >/dev/null
small_files=$(find "$work/in/small" -name '*.txt' | sort)
small_bytes=$(cat $small_files | wc -c)

# time_cmd NAME CMD... : runs CMD then sync, prints "seconds peak_rss_kib"
time_cmd() {
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null
  sync
  t1=$(date +%s.%N)
  rss=$(tail -1 "$work/rss")
  echo "$(echo "$t1 - $t0" | bc -l) $rss"
}
row() { # name bytes seconds rss
  printf '| %s | %.2f s | %.0f MiB/s | %d MiB |\n' "$1" "$3" "$(echo "$2 / 1048576 / $3" | bc -l)" $(( $4 / 1024 ))
}

export RESTIC_PASSWORD=bench AKTE_DATA="$work/akte"
REPS="${REPS:-3}"
# median_of "t rss" lines on stdin -> the line with the median time
median_of() { sort -n | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }

# One ingest + read-back round of each tool on a fresh target, the tools in the order
# given by the rotation $1 (0, 1, 2), so that over three rounds each tool runs once first,
# once second and once third (a disk that slows after gigabytes of writes would otherwise
# favour whichever tool runs first). Prints
# "cp_in_t cp_in_rss cp_out_t cp_out_rss restic_… akte_…".
round() {
  local rot=$1; shift
  local src=("$@")
  rm -rf "$work/cp" "$work/restic" "$work/akte" "$work/out"; mkdir -p "$work/cp" "$work/out/akte"
  local a b c d e f g h i j k l
  local tools=(cp restic akte)
  for n in 0 1 2; do
    case "${tools[$(( (n + rot) % 3 ))]}" in
      cp)
        read -r a b < <(time_cmd cp "${src[@]}" "$work/cp/")
        read -r c d < <(time_cmd cp -r "$work/cp" "$work/out/cp") ;;
      restic)
        restic init -q --repo "$work/restic" >/dev/null
        read -r e f < <(time_cmd restic -q --repo "$work/restic" backup "${src[@]}")
        read -r g h < <(time_cmd restic -q --repo "$work/restic" restore latest --target "$work/out/restic") ;;
      akte)
        "$akte" init >/dev/null
        "$akte" create --aktenzeichen B-1 --title Bench >/dev/null
        read -r i j < <(time_cmd "$akte" add --no-ingest B-1 "${src[@]}")
        local ids
        ids=$("$akte" ls B-1 --json | python3 -c 'import json,sys; print(" ".join(d["id"] for d in json.load(sys.stdin)))')
        # shellcheck disable=SC2086
        read -r k l < <(time_cmd "$akte" get $ids -o "$work/out/akte") ;;
    esac
  done
  echo "$a $b $c $d $e $f $g $h $i $j $k $l"
}

echo "| operation | time (median of $REPS) | throughput | peak RSS |"
echo "|---|---|---|---|"
for what in big small; do
  if [ "$what" = big ]; then src=("$work/in/big.bin"); bytes=$((BIG_MIB << 20)); label="1 file, $BIG_MIB MiB";
  else mapfile -t src < <(echo "$small_files"); bytes=$small_bytes; label="$SMALL_N files, $((small_bytes >> 20)) MiB"; fi
  rounds=$(for rep in $(seq "$REPS"); do round $((rep % 3)) "${src[@]}"; done)
  col() { echo "$rounds" | awk -v t="$1" -v r="$2" '{ print $t, $r }' | median_of; }
  n=1
  for name in "cp" "cp back" "restic backup" "restic restore" "akte add" "akte get"; do
    read -r t r < <(col $n $((n + 1)))
    row "$name, $label" "$bytes" "$t" "$r"
    n=$((n + 2))
  done
  rm -rf "$work/out"
done

if [ "$HUGE_MIB" -gt 0 ]; then
  rm -rf "$work/akte" "$work/cp" "$work/restic"; mkdir -p "$work/out"
  head -c $((HUGE_MIB << 20)) /dev/urandom > "$work/in/huge.bin"
  "$akte" init >/dev/null; "$akte" create --aktenzeichen H-1 --title Huge >/dev/null
  read -r t r < <(time_cmd "$akte" add --no-ingest H-1 "$work/in/huge.bin")
  row "akte add, 1 file, $HUGE_MIB MiB (memory bound)" $((HUGE_MIB << 20)) "$t" "$r"
  id=$("$akte" ls H-1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  read -r t r < <(time_cmd "$akte" get "$id" -o "$work/out/huge.bin")
  row "akte get, 1 file, $HUGE_MIB MiB (memory bound)" $((HUGE_MIB << 20)) "$t" "$r"
  cmp "$work/in/huge.bin" "$work/out/huge.bin" && echo "(huge file read back byte-identical)" >&2
  rm -rf "$work/out" "$work/in/huge.bin"
fi

if [ -n "$SWEEP" ]; then
  echo
  echo "Chunk-size sweep, akte add of the $BIG_MIB MiB file:"
  echo
  echo "| chunk size | add | get | objects |"
  echo "|---|---|---|---|"
fi
for mib in $SWEEP; do
  rm -rf "$work/akte"; mkdir -p "$work/out"
  "$akte" init >/dev/null; "$akte" create --aktenzeichen C-1 --title Chunks >/dev/null
  read -r ta _ < <(time_cmd env AKTE_CHUNK_SIZE=$((mib << 20)) "$akte" add --no-ingest C-1 "$work/in/big.bin")
  id=$("$akte" ls C-1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  read -r tg _ < <(time_cmd "$akte" get "$id" -o "$work/out/big.bin")
  n=$(find "$work/akte/store/objects" -type f | wc -l)
  printf '| %d MiB | %.0f MiB/s | %.0f MiB/s | %d |\n' "$mib" "$(echo "$BIG_MIB / $ta" | bc -l)" "$(echo "$BIG_MIB / $tg" | bc -l)" "$n"
  rm -rf "$work/out"
done
rm -rf "$work"
