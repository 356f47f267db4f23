"""Shared parts of the SQLite FTS5 and PostgreSQL sides of bench/search.sh: the corpus
reader, the Akte of a document, the reader's Akten, the query loop and percentiles. They
mirror index/examples/bench_search_corpus.rs, the akte side."""

import json
import os
import resource
import sys
import time


def corpus_lines(path):
    """Lines of a gen-corpus JSONL file ('-': standard input)."""
    f = sys.stdin.buffer if path == "-" else open(path, "rb", buffering=1 << 20)
    for line in f:
        yield line


def row(line, akten):
    """(id, akte, document type, year, Aktenplan code, title, text) of one JSONL line;
    document i belongs to Akte i % akten, as on the akte side."""
    d = json.loads(line)
    i = int(d["id"])
    return (i, i % akten, d["document_type"], int(d["date"][:4]), d["aktenplan"], d["title"], d["text"])


def readable_akten(akten, readable):
    step = max(akten // max(readable, 1), 1)
    return list(range(0, akten, step))[:readable]


def load_kinds(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["kinds"]


def percentile(sorted_ms, p):
    return sorted_ms[round((len(sorted_ms) - 1) * p)]


def run_kinds(kinds, search, rounds, budget_s):
    """search(query_dict, facets) -> total. Each query once to warm up (its total is
    reported), then rounds over all queries of a kind until `rounds` or `budget_s`
    seconds (at least 3 rounds)."""
    out = {}
    for kind in kinds:
        qs = kind["queries"]
        totals = [search(q, kind["facets"]) for q in qs]
        times = []
        per_query = [[] for _ in qs]
        t0 = time.perf_counter()
        n = 0
        while n < rounds and (n < 3 or time.perf_counter() - t0 < budget_s):
            for i, q in enumerate(qs):
                t = time.perf_counter()
                search(q, kind["facets"])
                ms = (time.perf_counter() - t) * 1e3
                times.append(ms)
                per_query[i].append(ms)
            n += 1
        times.sort()
        out[kind["kind"]] = {
            "p50_ms": percentile(times, 0.5),
            "p99_ms": percentile(times, 0.99),
            "max_ms": times[-1],
            "mean_ms": sum(times) / len(times),
            "n": len(times),
            "rounds": n,
            "totals": totals,
            "query_p50_ms": [percentile(sorted(t), 0.5) for t in per_query],
        }
    return out


def self_peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def self_cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def proc_peak_rss_mib(pid):
    """VmHWM of another process (the PostgreSQL backend), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def proc_cpu_s(pid):
    """User + system CPU seconds of another process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def emit(obj):
    print(json.dumps(obj), flush=True)
