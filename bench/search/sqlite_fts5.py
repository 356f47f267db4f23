"""SQLite FTS5 side of bench/search.sh.

  python3 sqlite_fts5.py index CORPUS DB [--akten 1000]
  python3 sqlite_fts5.py query DB QUERIES [--akten 1000] [--readable 50] [--rounds 20] [--budget-s 60]

A table docs (id, akte_id, doc_type, year, plan, title, body) with an index on akte_id, and
an external-content FTS5 table over title and body (tokenizer unicode61 remove_diacritics 2),
filled row by row in transactions of 10,000 documents (WAL, synchronous=NORMAL). Queries:
the top 20 by bm25 (title weight 3) with count(*) OVER (), permission filter
akte_id IN (...); the facetted kind adds a document type filter and a second statement
counting document types, years and Aktenplan codes over all matches."""

import argparse
import os
import sqlite3
import time

import common


def index(a):
    if os.path.exists(a.db):
        os.remove(a.db)
    t0 = time.perf_counter()
    con = sqlite3.connect(a.db, isolation_level=None)
    con.executescript(
        """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE TABLE docs(id INTEGER PRIMARY KEY, akte_id INTEGER NOT NULL, doc_type TEXT NOT NULL,
                          year INTEGER NOT NULL, plan TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL);
        CREATE VIRTUAL TABLE fts USING fts5(title, body, content='docs', content_rowid='id',
                                            tokenize='unicode61 remove_diacritics 2');
        """
    )
    docs = text_bytes = 0
    batch = []

    def flush():
        con.execute("BEGIN")
        con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        con.executemany("INSERT INTO fts(rowid, title, body) VALUES (?, ?, ?)", [(r[0], r[5], r[6]) for r in batch])
        con.execute("COMMIT")
        batch.clear()

    for line in common.corpus_lines(a.corpus):
        r = common.row(line, a.akten)
        text_bytes += len(r[6].encode("utf-8"))
        batch.append(r)
        docs += 1
        if len(batch) == 10_000:
            flush()
    if batch:
        flush()
    con.execute("CREATE INDEX docs_akte ON docs(akte_id)")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    secs = time.perf_counter() - t0
    con = sqlite3.connect(a.db)
    fts_bytes = None
    try:
        fts_bytes = con.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('fts_data', 'fts_idx', 'fts_docsize', 'fts_config')"
        ).fetchone()[0]
    except sqlite3.OperationalError:
        pass  # no dbstat in this build
    con.close()
    common.emit(
        {
            "system": "sqlite",
            "phase": "index",
            "docs": docs,
            "text_bytes": text_bytes,
            "seconds": secs,
            "docs_per_s": docs / secs,
            "text_mb_per_s": text_bytes / 1e6 / secs,
            "index_bytes": os.path.getsize(a.db),
            "fts_bytes": fts_bytes,
            "peak_rss_mib": common.self_peak_rss_mib(),
            "cpu_s": common.self_cpu_s(),
            "sqlite_version": sqlite3.sqlite_version,
        }
    )


def match_expr(q):
    if q.get("phrase"):
        return '"' + q["phrase"].replace('"', "") + '"'
    return " ".join('"' + w.replace('"', "") + '"' for w in q["words"].split())


def query(a):
    con = sqlite3.connect(a.db)
    akten = ",".join(str(k) for k in common.readable_akten(a.akten, a.readable))
    top = (
        "SELECT id, score, count(*) OVER () FROM (SELECT d.id AS id, bm25(fts, 3.0, 1.0) AS score "
        "FROM fts JOIN docs d ON d.id = fts.rowid "
        f"WHERE fts MATCH ? AND d.akte_id IN ({akten}) {{type}}) ORDER BY score LIMIT 20"
    )
    facets = (
        "WITH m AS MATERIALIZED (SELECT d.doc_type, d.year, d.plan FROM fts JOIN docs d ON d.id = fts.rowid "
        f"WHERE fts MATCH ? AND d.akte_id IN ({akten}) AND d.doc_type = ?) "
        "SELECT 't', doc_type, count(*) FROM m GROUP BY 2 UNION ALL "
        "SELECT 'y', year, count(*) FROM m GROUP BY 2 UNION ALL "
        "SELECT 'p', plan, count(*) FROM m GROUP BY 2"
    )

    def search(q, with_facets):
        m = match_expr(q)
        if q.get("type"):
            rows = con.execute(top.format(type="AND d.doc_type = ?"), (m, q["type"])).fetchall()
        else:
            rows = con.execute(top.format(type=""), (m,)).fetchall()
        total = rows[0][2] if rows else 0
        if with_facets:
            f = con.execute(facets, (m, q["type"])).fetchall()
            assert sum(n for k, _, n in f if k == "t") == total
        return total

    kinds = common.load_kinds(a.queries)
    res = common.run_kinds(kinds, search, a.rounds, a.budget_s)
    common.emit(
        {
            "system": "sqlite",
            "phase": "query",
            "variants": {"bare": res},
            "peak_rss_mib": common.self_peak_rss_mib(),
        }
    )


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
        a.corpus, a.db = a.a, a.b
        index(a)
    else:
        a.db, a.queries = a.a, a.b
        query(a)


if __name__ == "__main__":
    main()
