"""Freshness of search (issue 4: an upload is searchable within 1 s, OCR aside): uploads N
small text documents one after another, each with a word of its own in the file name
(metadata) and another only in its text, and polls the search every 10 ms until each word
is found. Optionally BACKGROUND connections upload other small documents all the while.
Prints p50/p99/max of the time from the upload's answer to the first hit, for each word.
Usage: fresh.py API TOKEN AKTE_ID N [BACKGROUND]"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

api, token, akte, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
background = int(sys.argv[5]) if len(sys.argv) > 5 else 0
url = urllib.parse.urlparse(api)
auth = {"Authorization": f"Bearer {token}"}
rng = random.Random(11)
# Words the corpus has nowhere else: a syllable soup, no digits (numbers are split).
syllables = "ba be bi bo bu da de di do du fa fe fi fo fu ka ke ki ko ku la le li lo lu ma me mi mo mu".split()


def word():
    return "".join(rng.choice(syllables) for _ in range(6))


def request(c, method, path, body=None, headers=None):
    c.request(method, path, body=body, headers={**auth, **(headers or {})})
    r = c.getresponse()
    return r.status, r.read()


stop = threading.Event()
uploaded = [0]


def noise():
    c = http.client.HTTPConnection(url.hostname, url.port)
    text = " ".join(["Antrag Genehmigung Windenergieanlage Schallgutachten"] * 60).encode()
    i = 0
    while not stop.is_set():
        i += 1
        request(c, "POST", f"{url.path}/akten/{akte}/dokumente?file_name=hintergrund{threading.get_ident()}x{i}.txt",
                text, {"Content-Type": "text/plain"})
        uploaded[0] += 1


threads = [threading.Thread(target=noise) for _ in range(background)]
for t in threads:
    t.start()
c = http.client.HTTPConnection(url.hostname, url.port)
waits = {"metadata": [], "text": []}
misses = 0
for i in range(n):
    name, inner = word(), word()
    body = f"Vermerk zur Ortsbesichtigung. Stichwort {inner}. Mit freundlichen Grüßen".encode()
    status, _ = request(c, "POST", f"{url.path}/akten/{akte}/dokumente?file_name={name}.txt", body,
                        {"Content-Type": "text/plain"})
    assert status == 201, status
    answered = time.perf_counter()
    pending = {"metadata": name, "text": inner}
    while pending and time.perf_counter() - answered < 10:
        for kind, w in list(pending.items()):
            status, out = request(c, "GET", f"{url.path}/search?q={w}&limit=1")
            if status == 200 and json.loads(out)["total"] >= 1:
                waits[kind].append(time.perf_counter() - answered)
                del pending[kind]
        time.sleep(0.01)
    misses += len(pending)
stop.set()
for t in threads:
    t.join()


def ms(v, q):
    return f"{sorted(v)[min(len(v) - 1, int(len(v) * q))] * 1000:.0f}"


what = f"{n} uploads" + (f", {background} connections uploading meanwhile ({uploaded[0]} documents)" if background else "")
for kind, v in waits.items():
    if v:
        print(f"searchable by {kind} ({what}): p50 {ms(v, 0.5)} ms, p99 {ms(v, 0.99)} ms, max {max(v) * 1000:.0f} ms")
print(f"not found within 10 s: {misses}")
