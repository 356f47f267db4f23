"""PostgreSQL side of bench/search.sh (needs psycopg 3; the cluster is started by search.sh).

  python3 postgres.py index CORPUS DSN [--akten 1000]
  python3 postgres.py query DSN QUERIES [--akten 1000] [--readable 50] [--rounds 20] [--budget-s 60]

A table docs (id, akte_id, doc_type, year, plan, title, body) with a stored generated column
tsv = setweight(to_tsvector('german', title), 'A') || to_tsvector('german', body), filled
by one COPY in the transaction that creates the table; then a GIN index on tsv, a B-tree on akte_id, ANALYZE. The time covers all of
it. Peak RSS and CPU time are those of the server backend that did the work. Queries: the
top 20 by ts_rank with count(*) OVER (), plainto_tsquery('german', …) for words and
phraseto_tsquery('german', …) for phrases, permission filter akte_id IN (...); the facetted
kind adds a document type filter and a second statement counting document types, years
and Aktenplan codes over all matches."""

import argparse
import time

import psycopg

import common


def index(a):
    t0 = time.perf_counter()
    con = psycopg.connect(a.dsn, autocommit=True)
    pid = con.execute("SELECT pg_backend_pid()").fetchone()[0]
    cpu0 = common.proc_cpu_s(pid)
    con.execute("DROP TABLE IF EXISTS docs")
    # CREATE TABLE and COPY in one transaction: with wal_level = minimal (search.sh) the
    # table is written without WAL and synced at commit, as the manual advises for bulk loads.
    con.execute("BEGIN")
    con.execute(
        """CREATE TABLE docs (
             id integer PRIMARY KEY, akte_id integer NOT NULL, doc_type text NOT NULL, year integer NOT NULL,
             plan text NOT NULL, title text NOT NULL, body text NOT NULL,
             tsv tsvector GENERATED ALWAYS AS
               (setweight(to_tsvector('german', title), 'A') || to_tsvector('german', body)) STORED)"""
    )
    docs = text_bytes = 0
    steps = {}
    with con.cursor() as cur:
        with cur.copy("COPY docs (id, akte_id, doc_type, year, plan, title, body) FROM STDIN") as cp:
            for line in common.corpus_lines(a.corpus):
                r = common.row(line, a.akten)
                text_bytes += len(r[6].encode("utf-8"))
                cp.write_row(r)
                docs += 1
    con.execute("COMMIT")
    steps["copy_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    con.execute("CREATE INDEX docs_tsv ON docs USING gin (tsv)")
    steps["gin_s"] = time.perf_counter() - t
    t = time.perf_counter()
    con.execute("CREATE INDEX docs_akte ON docs (akte_id)")
    con.execute("ANALYZE docs")
    steps["btree_analyze_s"] = time.perf_counter() - t
    secs = time.perf_counter() - t0
    backend_rss = common.proc_peak_rss_mib(pid)
    backend_cpu = common.proc_cpu_s(pid) - cpu0
    total, table, gin = con.execute(
        "SELECT pg_total_relation_size('docs'), pg_table_size('docs'), pg_relation_size('docs_tsv')"
    ).fetchone()
    settings = dict(
        con.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('shared_buffers', 'maintenance_work_mem', 'work_mem', 'jit', 'max_parallel_workers_per_gather', "
            "'max_parallel_maintenance_workers', 'server_version', 'wal_level', 'max_wal_size')"
        ).fetchall()
    )
    con.close()
    common.emit(
        {
            "system": "postgres",
            "phase": "index",
            "docs": docs,
            "text_bytes": text_bytes,
            "seconds": secs,
            "docs_per_s": docs / secs,
            "text_mb_per_s": text_bytes / 1e6 / secs,
            "steps": steps,
            "index_bytes": total,
            "table_bytes": table,
            "gin_bytes": gin,
            "peak_rss_mib": backend_rss,
            "backend_cpu_s": backend_cpu,
            "client_peak_rss_mib": common.self_peak_rss_mib(),
            "client_cpu_s": common.self_cpu_s(),
            "settings": settings,
        }
    )


def query(a):
    con = psycopg.connect(a.dsn, autocommit=True)
    akten = ",".join(str(k) for k in common.readable_akten(a.akten, a.readable))
    top = (
        "SELECT id, ts_rank(tsv, q) AS score, count(*) OVER () FROM docs, {fn}('german', %s) q "
        f"WHERE tsv @@ q AND akte_id IN ({akten}) {{type}} ORDER BY score DESC LIMIT 20"
    )
    facets = (
        "WITH m AS MATERIALIZED (SELECT doc_type, year, plan FROM docs "
        f"WHERE tsv @@ {{fn}}('german', %s) AND akte_id IN ({akten}) AND doc_type = %s) "
        "SELECT 't', doc_type, count(*) FROM m GROUP BY 2 UNION ALL "
        "SELECT 'y', year::text, count(*) FROM m GROUP BY 2 UNION ALL "
        "SELECT 'p', plan, count(*) FROM m GROUP BY 2"
    )

    def search(q, with_facets):
        fn, text = ("phraseto_tsquery", q["phrase"]) if q.get("phrase") else ("plainto_tsquery", q["words"])
        if q.get("type"):
            rows = con.execute(top.format(fn=fn, type="AND doc_type = %s"), (text, q["type"])).fetchall()
        else:
            rows = con.execute(top.format(fn=fn, type=""), (text,)).fetchall()
        total = rows[0][2] if rows else 0
        if with_facets:
            f = con.execute(facets.format(fn=fn), (text, q["type"])).fetchall()
            assert sum(n for k, _, n in f if k == "t") == total
        return total

    kinds = common.load_kinds(a.queries)
    res = common.run_kinds(kinds, search, a.rounds, a.budget_s)
    common.emit({"system": "postgres", "phase": "query", "variants": {"bare": res}})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["index", "query"])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--akten", type=int, default=1000)
    p.add_argument("--readable", type=int, default=50)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--budget-s", type=float, default=60.0)
    a = p.parse_args()
    if a.cmd == "index":
        a.corpus, a.dsn = a.a, a.b
        index(a)
    else:
        a.dsn, a.queries = a.a, a.b
        query(a)


if __name__ == "__main__":
    main()
