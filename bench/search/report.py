"""Prints the Markdown tables of bench/search.sh from its results file (one JSON object a line)."""

import json
import sys

KINDS = ["1 term", "2 terms", "phrase", "facetted"]


def mib(b):
    return f"{b / 1048576:,.0f} MiB" if b is not None else "–"


def main(path):
    rs = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip().startswith("{")]
    metas = [r for r in rs if r.get("phase") == "meta"]
    meta = metas[0] if metas else {}

    def get(system, phase):  # the last record wins (APPEND=1 re-runs a system)
        return next((r for r in reversed(rs) if r.get("system") == system and r.get("phase") == phase), None)

    print(f"N = {meta.get('n', '?'):,} documents, {meta.get('akten')} Akten, "
          f"the user may read {meta.get('readable')} of them; {meta.get('machine', '')}.")
    for m in metas:
        print(f"Run {m.get('when', '')} ({m.get('systems', 'all systems')}; corpus {m.get('corpus', '')}; "
              f"load average at start {m.get('load', '?')}; commit {m.get('commit', '?')}).")
    for r in rs:
        if r.get("phase") == "skipped" and not get(r["system"], "index"):
            print(f"{r['system']}: skipped, {r['why']}.")
    print()
    print("Indexing (all documents, one commit or transaction stream, then what each needs before the first query):")
    print()
    print("| system | time | docs/s | MB/s (text) | CPU time | size on disk | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    rows = [
        ("akte, index in RAM (AKTE_IN_MEMORY=1)" if (get("akte", "index") or {}).get("in_memory")
         else "akte, index into an empty directory", get("akte", "index")),
        ("akte, full rebuild (delete all + index, 50 MB heap)", get("akte", "rebuild")),
        ("SQLite FTS5", get("sqlite", "index")),
        ("PostgreSQL (COPY + GIN + B-tree + ANALYZE)", get("postgres", "index")),
    ]
    for name, r in rows:
        if not r:
            continue
        cpu = r.get("cpu_s")
        if r["system"] == "postgres":
            cpu = r["backend_cpu_s"] + r.get("client_cpu_s", 0)
        size = mib(r["index_bytes"])
        if r["system"] == "akte" and r.get("in_memory"):
            size = "in RAM"
        elif r["system"] == "akte":
            size += f" ({r['segments']} segments)"
        elif r["system"] == "sqlite" and r.get("fts_bytes"):
            size += f" (FTS5 {mib(r['fts_bytes'])})"
        elif r["system"] == "postgres":
            size += f" (GIN {mib(r['gin_bytes'])})"
        rss = f"{r['peak_rss_mib']:,.0f} MiB"
        if r.get("peak_rss_anon_mib") is not None:
            rss += f" (peaks: anon {r['peak_rss_anon_mib']:,.0f}, file {r['peak_rss_file_mib']:,.0f})"
        if r["system"] == "postgres":
            rss += " (backend)"
        print(f"| {name} | {r['seconds']:,.1f} s | {r['docs_per_s']:,.0f} | {r['text_mb_per_s']:.1f} | "
              f"{cpu:,.0f} s | {size} | {rss} |")
    print()
    print("Query latency, p50 / p99 in ms, permission filter on (warm cache, one client, queries of a kind in rounds):")
    print()
    print("| system | " + " | ".join(KINDS) + " |")
    print("|---|" + "---|" * len(KINDS))
    qrows = []
    a = get("akte", "query")
    if a:
        qrows.append(("akte, bare (total + top 20; facets in the facetted kind)", a["variants"]["bare"]))
        qrows.append(("akte, as served (total + top 20 + facets + 20 snippets)", a["variants"]["served"]))
    for system, name in [("sqlite", "SQLite FTS5 (total + top 20 by bm25)"), ("postgres", "PostgreSQL (total + top 20 by ts_rank)")]:
        r = get(system, "query")
        if r:
            qrows.append((name, r["variants"]["bare"]))
    for name, v in qrows:
        cells = []
        for k in KINDS:
            x = v.get(k)
            cells.append(f"{x['p50_ms']:.2f} / {x['p99_ms']:.2f}" if x else "–")
        print(f"| {name} | " + " | ".join(cells) + " |")
    if qrows:
        print()
        print("Samples per kind (queries × rounds): " + ", ".join(
            f"{name.split(',')[0].split(' (')[0]} " + "/".join(str(v[k]["n"]) for k in KINDS if k in v)
            for name, v in qrows[:1] + qrows[2:]))
        print()
        print("Matches the user may read, per query (the analysis differs: akte stems, folds and splits "
              "compounds; FTS5 matches words as written, diacritics removed; PostgreSQL stems, no compounds):")
        print()
        print("| kind | akte | SQLite FTS5 | PostgreSQL |")
        print("|---|---|---|---|")
        sys_v = {"akte": a and a["variants"]["bare"]}
        for s in ("sqlite", "postgres"):
            r = get(s, "query")
            sys_v[s] = r and r["variants"]["bare"]
        for k in KINDS:
            cells = []
            for s in ("akte", "sqlite", "postgres"):
                v = sys_v.get(s)
                cells.append(" ".join(f"{t:,}" for t in v[k]["totals"]) if v and k in v else "–")
            print(f"| {k} | " + " | ".join(cells) + " |")
        print()
        print("Median per query in ms (bare; akte as served in brackets):")
        print()
        print("| kind | query | akte | SQLite FTS5 | PostgreSQL |")
        print("|---|---|---|---|---|")
        kinds = json.load(open(meta["queries"], encoding="utf-8"))["kinds"] if meta.get("queries") else []
        served = a and a["variants"]["served"]
        for kind in kinds:
            k = kind["kind"]
            for i, q in enumerate(kind["queries"]):
                text = f'"{q["phrase"]}"' if q.get("phrase") else q["words"]
                if q.get("type"):
                    text += f", type {q['type']}"
                cells = []
                for s in ("akte", "sqlite", "postgres"):
                    v = sys_v.get(s)
                    c = f"{v[k]['query_p50_ms'][i]:.2f}" if v and k in v and "query_p50_ms" in v[k] else "–"
                    if s == "akte" and served and "query_p50_ms" in served.get(k, {}):
                        c += f" ({served[k]['query_p50_ms'][i]:.1f})"
                    cells.append(c)
                print(f"| {k} | {text} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
