#!/usr/bin/env bash
# Search benchmark of issue 4: akte-index next to SQLite FTS5 and PostgreSQL full-text search
# on the same synthetic German corpus (gen-corpus, seed 42) and the same queries.
#   bash bench/search.sh [N] [WORKDIR]     (default N=1000000, WORKDIR /tmp/akte-bench-search;
#                                           both also as environment variables)
#   bash bench/search.sh 20000             (a quick check, 2-3 minutes)
# For each system: indexing throughput (docs/s, MB/s of text), CPU time, size on disk, peak
# RSS; then p50/p99 latency of 1-term, 2-term, phrase and facetted queries
# (bench/search/queries.json) for a user who may read READABLE of AKTEN Akten (document i
# belongs to Akte i % AKTEN; akte: reader tokens, the others: WHERE akte_id IN (...)).
# akte also does a full rebuild (delete all + index again, the 50 MB writer heap), as
# `akte reindex` does. Prints Markdown; docs/BENCHMARKS.md keeps the latest results.
# The systems run one after another and each one's data is deleted after its queries
# (KEEP=1 keeps it), so the disk must hold the corpus and the largest one (SQLite and
# PostgreSQL store the text: about 9 KB per document, akte about 5 KB). The corpus is kept in
# WORKDIR and reused; when the disk cannot hold it (CORPUS=auto) or with CORPUS=stream, each
# system reads it from gen-corpus through a pipe instead (generation then runs beside
# indexing, about 30 CPU-seconds per million documents).
# Environment: AKTEN (1000), READABLE (50), ROUNDS (20: rounds over the queries of a kind),
# BUDGET_S (60: a kind stops repeating after this many seconds, at least 3 rounds),
# SYSTEMS ("akte sqlite postgres"), REBUILD (1: also the akte full rebuild), CORPUS
# (auto|file|stream), KEEP (0), APPEND (0; 1 adds to the results of an earlier run with the
# same N, e.g. SYSTEMS=postgres APPEND=1 after a run that skipped it; the report takes the
# latest numbers of each system), AKTE_IN_MEMORY (0; 1 builds the akte index in RAM and
# queries it in the same process, for an N whose index the disk cannot hold: no rebuild, and
# the peak RSS then includes the index). A system is skipped when the disk lacks room for it.
# Installs what is missing: apt packages postgresql and time, psycopg 3 from PyPI into a
# virtualenv in WORKDIR. PostgreSQL runs as a throwaway cluster in WORKDIR/pg (as the user
# postgres when started by root), on a Unix socket only, and is stopped at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
N="${N:-1000000}"; work="${WORKDIR:-/tmp/akte-bench-search}"
for arg in "$@"; do  # a number is N, anything else the work directory
  if [[ "${arg//_/}" =~ ^[0-9]+$ ]]; then N="$arg"; else work="$arg"; fi
done
N="${N//_/}"
AKTEN="${AKTEN:-1000}"; READABLE="${READABLE:-50}"; ROUNDS="${ROUNDS:-20}"; BUDGET_S="${BUDGET_S:-60}"
SYSTEMS="${SYSTEMS:-akte sqlite postgres}"; REBUILD="${REBUILD:-1}"; CORPUS="${CORPUS:-auto}"; KEEP="${KEEP:-0}"
APPEND="${APPEND:-0}"; AKTE_IN_MEMORY="${AKTE_IN_MEMORY:-0}"
SEED=42
queries="$here/bench/search/queries.json"
started=$(date +%s)
log() { echo "bench/search.sh [$(( $(date +%s) - started )) s]: $*" >&2; }

# --- tools --------------------------------------------------------------------------
has() { case " $SYSTEMS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
missing=()
[ -x /usr/bin/time ] || missing+=(time)
if has postgres && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then missing+=(postgresql); fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
mkdir -p "$work"
if has sqlite; then
  python3 -c 'import sqlite3; sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize=\"unicode61 remove_diacritics 2\")")' \
    || { echo "python3's sqlite3 has no FTS5" >&2; exit 1; }
fi
py="$work/venv/bin/python"
if has postgres && ! { [ -x "$py" ] && "$py" -c 'import psycopg' 2>/dev/null; }; then
  log "installing psycopg into $work/venv"
  python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q 'psycopg[binary]>=3.1' >&2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/akte/target}"
log "building (release)"
(cd "$here" && cargo build --release --locked -p akte-fixtures --bin gen-corpus >&2)
(cd "$here" && cargo build --release --locked -p akte-index --example bench_search_corpus >&2)
gen="$CARGO_TARGET_DIR/release/gen-corpus"
akte_bench="$CARGO_TARGET_DIR/release/examples/bench_search_corpus"

# --- corpus ---------------------------------------------------------------------------
corpus="$work/corpus-$N.jsonl"
avail=$(df --output=avail -B1 "$work" | tail -1)
if [ "$CORPUS" = auto ]; then
  if [ -e "$corpus.done" ]; then CORPUS=file
  # the corpus (~6.1 KB a document as JSON) and the largest system (~10 KB a document)
  elif [ "$avail" -gt $(( N * 16300 + (2 << 30) )) ]; then CORPUS=file
  else CORPUS=stream; log "not enough disk for the corpus file: each system reads gen-corpus through a pipe"; fi
fi
if [ "$CORPUS" = file ] && [ ! -e "$corpus.done" ]; then
  log "generating $N documents into $corpus"
  rm -f "$corpus"; "$gen" --n "$N" --seed "$SEED" --format jsonl --out "$corpus" >&2 && touch "$corpus.done"
fi
# with_corpus CMD... : runs CMD with @CORPUS@ replaced by the corpus file, or by - with
# gen-corpus piped into it.
with_corpus() {
  local args=() a
  if [ "$CORPUS" = file ]; then
    for a in "$@"; do args+=("${a//@CORPUS@/$corpus}"); done
    "${args[@]}"
  else
    for a in "$@"; do args+=("${a//@CORPUS@/-}"); done
    "$gen" --n "$N" --seed "$SEED" --format jsonl --out - 2>/dev/null | "${args[@]}"
  fi
}

results="$work/results-$N.jsonl"
[ "$APPEND" = 1 ] || : > "$results"
python3 - "$N" "$CORPUS" "$AKTEN" "$READABLE" "$queries" "$SYSTEMS" "$(git -C "$here" log -1 --format='%h %s' 2>/dev/null || echo 'no git')" >> "$results" <<'EOF'
import json, os, sys, time
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) / 1048576
print(json.dumps({"phase": "meta", "n": int(sys.argv[1]), "corpus": "file" if sys.argv[2] == "file" else "piped from gen-corpus",
                  "akten": int(sys.argv[3]), "readable": int(sys.argv[4]), "queries": sys.argv[5], "systems": sys.argv[6],
                  "commit": sys.argv[7], "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "load": f"{os.getloadavg()[0]:.1f}", "machine": f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB"}))
EOF
# enough_disk SYSTEM BYTES_PER_DOC EXTRA: whether the disk holds SYSTEM's data with 1 GiB to
# spare for the others on this machine; records a skip in the results when not.
enough_disk() {
  local avail need
  avail=$(df --output=avail -B1 "$work" | tail -1)
  need=$(( N * $2 + $3 + (1 << 30) ))
  if [ "$avail" -lt "$need" ]; then
    log "$1: skipped, needs about $(( need >> 20 )) MiB free, $(( avail >> 20 )) MiB are"
    printf '{"system": "%s", "phase": "skipped", "why": "not enough free disk (%d MiB, needs about %d MiB)"}\n' \
      "$1" $(( avail >> 20 )) $(( need >> 20 )) >> "$results"
    return 1
  fi
}
common=(--akten "$AKTEN")
qargs=(--akten "$AKTEN" --readable "$READABLE" --rounds "$ROUNDS" --budget-s "$BUDGET_S")

# --- akte -----------------------------------------------------------------------------
if has akte && [ "$AKTE_IN_MEMORY" = 1 ]; then
  log "akte: indexing in RAM, then queries"
  with_corpus "$akte_bench" index --in-memory --corpus @CORPUS@ --queries "$queries" "${qargs[@]}" | tee -a "$results" >&2
elif has akte && { rm -rf "$work/akte"; enough_disk akte 5000 0; }; then
  log "akte: indexing"
  with_corpus "$akte_bench" index --corpus @CORPUS@ --dir "$work/akte" "${common[@]}" | tee -a "$results" >&2
  log "akte: queries"
  "$akte_bench" query --dir "$work/akte" --queries "$queries" "${qargs[@]}" | tee -a "$results" >&2
  if [ "$REBUILD" = 1 ]; then
    log "akte: full rebuild"
    with_corpus "$akte_bench" index --rebuild --corpus @CORPUS@ --dir "$work/akte" "${common[@]}" | tee -a "$results" >&2
  fi
  [ "$KEEP" = 1 ] || rm -rf "$work/akte"
fi

# --- SQLite FTS5 ----------------------------------------------------------------------
if has sqlite && { rm -f "$work/fts5.db"*; enough_disk sqlite 9500 0; }; then
  log "SQLite FTS5: indexing"
  with_corpus python3 "$here/bench/search/sqlite_fts5.py" index @CORPUS@ "$work/fts5.db" "${common[@]}" | tee -a "$results" >&2
  log "SQLite FTS5: queries"
  python3 "$here/bench/search/sqlite_fts5.py" query "$work/fts5.db" "$queries" "${qargs[@]}" | tee -a "$results" >&2
  [ "$KEEP" = 1 ] || rm -f "$work/fts5.db"*
fi

# --- PostgreSQL -----------------------------------------------------------------------
[ -d "$work/pg/data" ] && [ ! -e "$work/pg/data/postmaster.pid" ] && rm -rf "$work/pg"
if has postgres && enough_disk postgres 9000 $(( 512 << 20 )); then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pgdir="$work/pg"
  as_pg=()
  [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
  stop_pg() { [ -e "$pgdir/data/postmaster.pid" ] && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w stop >&2 || true; }
  stop_pg
  rm -rf "$pgdir"; mkdir -p "$pgdir"
  [ "$(id -u)" = 0 ] && chown postgres: "$pgdir"
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" --auth=trust -E UTF8 --locale=C.UTF-8 -U postgres >/dev/null
  # One process does the work, as in the other two: no parallel workers; no JIT (it
  # compiles for expensive plans and adds tens of milliseconds to them). wal_level minimal:
  # the table created and filled in one transaction is written without WAL (the manual's
  # advice for bulk loads; it also keeps the disk use near the table's size).
  cat >> "$pgdir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$pgdir'
max_parallel_workers_per_gather = 0
max_parallel_maintenance_workers = 0
jit = off
wal_level = minimal
max_wal_senders = 0
EOF
  trap stop_pg EXIT
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w start >&2
  dsn="host=$pgdir dbname=postgres user=postgres"
  log "PostgreSQL: indexing"
  with_corpus "$py" "$here/bench/search/postgres.py" index @CORPUS@ "$dsn" "${common[@]}" | tee -a "$results" >&2
  log "PostgreSQL: queries"
  "$py" "$here/bench/search/postgres.py" query "$dsn" "$queries" "${qargs[@]}" | tee -a "$results" >&2
  stop_pg
  trap - EXIT
  [ "$KEEP" = 1 ] || rm -rf "$pgdir"
fi

log "done; results in $results"
python3 "$here/bench/search/report.py" "$results" | tee "$work/report-$N.md"
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - started )) s in all."
