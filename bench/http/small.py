"""Uploads N small documents (1-8 KiB of German-looking text) over HTTP with C connections
and prints the rate. Usage: small.py API TOKEN AKTE_ID N C"""
import http.client
import random
import sys
import threading
import time
import urllib.parse

api, token, akte, n, conns = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
url = urllib.parse.urlparse(api)
words = "Antrag Genehmigung Windenergieanlage Schallgutachten Nachtbetrieb Abstand Bescheid Auflage".split()
rng = random.Random(7)
bodies = [" ".join(rng.choice(words) for _ in range(rng.randint(150, 1200))).encode() for _ in range(256)]
lock = threading.Lock()
next_i = [0]
lat = []
errors = [0]


def worker():
    c = http.client.HTTPConnection(url.hostname, url.port)
    while True:
        with lock:
            i = next_i[0]
            next_i[0] += 1
        if i >= n:
            return
        t = time.perf_counter()
        c.request("POST", f"{url.path}/akten/{akte}/dokumente?file_name=d{i}.txt", body=bodies[i % 256],
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"})
        r = c.getresponse()
        r.read()
        with lock:
            lat.append(time.perf_counter() - t)
            if r.status != 201:
                errors[0] += 1


start = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
took = time.perf_counter() - start
lat.sort()
print(f"http upload {n} small documents ({conns} connections): {took:.2f} s, {n / took:.0f} docs/s, "
      f"p50 {lat[len(lat) // 2] * 1000:.1f} ms, p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms, {errors[0]} errors")
