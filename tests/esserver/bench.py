#!/usr/bin/python3
"""Ingest benchmark of the test server: docs/s and MB/s of 5 MiB _bulk bodies of ~1 KB
documents, with 1 and with 4 concurrent clients, against server.py running as its own
process (as ddb2es's tests run it).

    bench.py [--flavour opensearch] [--requests N] [--doc-bytes 1000] [--body-mib 5]

Bodies are built before timing, so the figures measure the server (HTTP, NDJSON parsing,
mapping checks, storage, response) and not the client. The server's resident memory after
the run is printed too (the documents stay in memory).
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from server_testlib import read_ready_file  # noqa: E402


def make_doc(i, size):
    doc = {"id": "%08d-4e5f-8a9b-%012d" % (i, i), "title": "Mr", "firstname": "Firstname %d" % i,
           "surname": "Surname %d" % (i * 7), "dateOfBirth": "1970-01-01T00:00:00Z", "placeOfBirth": "London",
           "personTypes": ["Tenant", "HouseholdMember"], "isActive": i % 2 == 0, "version": i,
           "score": i / 3.0,
           "tenures": [{"id": "t-%d" % i, "paymentReference": "%09d" % i, "type": "Secure",
                        "startDate": "2020-01-01T00:00:00Z", "endDate": None,
                        "assetFullAddress": "Flat %d Some Street London E8 1AA" % i,
                        "uprn": "1000%08d" % i, "assetId": "asset-%d" % i}]}
    pad = size - len(json.dumps(doc)) - 12
    if pad > 0:
        doc["notes"] = "n" * pad
    return doc


def make_bodies(count, start, doc_bytes, body_bytes, index):
    bodies = []
    i = start
    ndocs = 0
    for _ in range(count):
        parts = []
        size = 0
        while size < body_bytes:
            a = json.dumps({"index": {"_index": index, "_id": str(i)}})
            d = json.dumps(make_doc(i, doc_bytes))
            parts.append(a)
            parts.append(d)
            size += len(a) + len(d) + 2
            i += 1
            ndocs += 1
        bodies.append(("\n".join(parts) + "\n").encode())
    return bodies, ndocs, i


def post_all(port, bodies, errors):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    for b in bodies:
        c.request("POST", "/_bulk", b, {"Content-Type": "application/x-ndjson"})
        r = c.getresponse()
        data = r.read()
        if r.status != 200 or b'"errors":false' not in data[:200]:
            errors.append((r.status, data[:200]))
    c.close()


def run(port, clients, bodies_per_client, doc_bytes, body_bytes, start, index):
    per = []
    ndocs = 0
    for _ in range(clients):
        b, n, start = make_bodies(bodies_per_client, start, doc_bytes, body_bytes, index)
        per.append(b)
        ndocs += n
    nbytes = sum(len(x) for b in per for x in b)
    errors = []
    threads = [threading.Thread(target=post_all, args=(port, b, errors)) for b in per]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    dt = time.perf_counter() - t
    if errors:
        raise SystemExit("bulk errors: %r" % errors[:3])
    return ndocs, nbytes, dt, start


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flavour", default="opensearch")
    ap.add_argument("--requests", type=int, default=4, help="bodies per client")
    ap.add_argument("--doc-bytes", type=int, default=1000)
    ap.add_argument("--body-mib", type=float, default=5.0)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="esserver-bench-")
    ready = os.path.join(tmp, "ready")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--ready-file", ready,
                          "--flavour", a.flavour])
    try:
        port = read_ready_file(ready)
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("PUT", "/bench", json.dumps({"settings": {"number_of_shards": 1, "number_of_replicas": 0}}),
                  {"Content-Type": "application/json"})
        c.getresponse().read()
        body_bytes = int(a.body_mib * 1024 * 1024)
        start = 0
        # warm-up: mappings are created by the first document
        _, _, _, start = run(port, 1, 1, a.doc_bytes, 64 * 1024, start, "bench")
        print("server %s, %d-byte documents, %.0f MiB bodies, load average %s" %
              (a.flavour, a.doc_bytes, a.body_mib, " ".join(open("/proc/loadavg").read().split()[:3])))
        total_docs = 0
        for clients in (1, 4):
            n, nbytes, dt, start = run(port, clients, a.requests, a.doc_bytes, body_bytes, start, "bench")
            total_docs += n
            print("%d client%s: %7d docs in %5.2f s = %7.0f docs/s, %5.1f MB/s (%d requests of %.1f MB)"
                  % (clients, " " if clients == 1 else "s", n, dt, n / dt, nbytes / dt / 1e6, clients * a.requests,
                     nbytes / (clients * a.requests) / 1e6))
        c.request("POST", "/bench/_refresh")
        c.getresponse().read()
        c.request("GET", "/bench/_count")
        count = json.loads(c.getresponse().read())["count"]
        print("documents held: %d, server RSS %.0f MB" % (count, rss_mb(p.pid)))
        c.close()
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
