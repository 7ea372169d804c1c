"""The reference points that `make bench` measures ddb2es against, in the same run.

    scan_ceiling(endpoint, table, limit, segments, cpu)  -> dict
    bulk_ceiling(es_url, bodies, concurrency, cpu)       -> dict
    old_way(endpoint, es_url, table, index, limit, sample, cpu) -> dict
    make_bulk_bodies(docs, index, max_docs, max_bytes)   -> [(bytes, ndocs)]

DESIGN
A ceiling is what a service does when the client costs almost nothing, so a
ceiling is only worth its name if the Python client is not the bottleneck.
Each result therefore carries the client's own CPU seconds (time.process_time,
all threads) beside the wall time, and the CPU seconds the service process
burned (read from /proc by the caller's meter), so the report can show who
was busy.

- Scan ceiling: the same Scan request ddb2es sends (same Limit,
  ReturnConsumedCapacity TOTAL, Segment/TotalSegments when > 1), one thread
  and one keep-alive connection per segment, each page chained by its
  LastEvaluatedKey. The page is NOT parsed: the item count and the
  LastEvaluatedKey are read from the tail of the answer ("...],"Count":N,
  "ScannedCount":N,"LastEvaluatedKey":{...},"ConsumedCapacity":{...}}"), so
  the client spends microseconds per 1 MB page and the figure is DynamoDB
  Local's own.
- Bulk ceiling: NDJSON bodies built beforehand (not timed) from the same
  documents, sent over keep-alive connections by `concurrency` threads; the
  answer is read whole but only its first bytes are looked at ("errors":false).
- The old system's way: scan pages (same Limit), map each item in Python
  (tests/lib/oracle.py, the written mapping specification) and send it alone,
  PUT /index/_doc/<id>, waiting for each answer before the next, on one
  keep-alive connection. Run on a sample and extrapolated as docs/s.
"""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import aws  # noqa: E402
import oracle  # noqa: E402

SCAN_TARGET = "DynamoDB_20120810.Scan"


class BenchError(Exception):
    pass


def _hostport(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port or 80


class ScanClient:
    """One keep-alive connection to DynamoDB (Local), signed like aws.py does."""

    def __init__(self, endpoint, region=aws.REGION):
        self.host, self.port = _hostport(endpoint)
        self.hosthdr = "%s:%d" % (self.host, self.port)
        self.region = region
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def scan_raw(self, body):
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        hdrs = aws.sigv4_headers(self.hosthdr, self.region, "dynamodb", SCAN_TARGET, payload,
                                 aws.DUMMY_ACCESS_KEY, aws.DUMMY_SECRET_KEY)
        self.conn.request("POST", "/", payload, hdrs)
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status != 200:
            raise BenchError("Scan: HTTP %d: %s" % (resp.status, raw[:300]))
        return raw

    def close(self):
        self.conn.close()


def scan_tail(raw):
    """(count, LastEvaluatedKey or None) from the tail of a Scan answer, without
    parsing the items."""
    pos = raw.rfind(b'],"Count":')
    if pos < 0:
        if raw.startswith(b'{"Items":[]'):
            pos = raw.find(b"]")
        else:
            raise BenchError("Scan answer without a Count after its Items: ...%r" % raw[-200:])
    tail = json.loads(b"{" + raw[pos + 2:])
    return tail.get("Count", 0), tail.get("LastEvaluatedKey")


def scan_ceiling(endpoint, table, limit, segments, cpu=None):
    """Scan the whole table with `segments` parallel segments; returns
    {items, pages, wall, client_cpu, service_cpu, bytes}."""
    results = [None] * segments
    errors = []

    def worker(seg):
        cl = ScanClient(endpoint)
        body = {"TableName": table, "ReturnConsumedCapacity": "TOTAL", "Limit": limit}
        if segments > 1:
            body["Segment"] = seg
            body["TotalSegments"] = segments
        items = pages = nbytes = 0
        try:
            while True:
                raw = cl.scan_raw(body)
                n, lek = scan_tail(raw)
                items += n
                pages += 1
                nbytes += len(raw)
                if not lek:
                    break
                body["ExclusiveStartKey"] = lek
        except Exception as e:  # reported by the caller
            errors.append(e)
        finally:
            cl.close()
        results[seg] = (items, pages, nbytes)

    c0 = cpu.snapshot() if cpu else {}
    p0 = time.process_time()
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(s,)) for s in range(segments)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    pcpu = time.process_time() - p0
    used = cpu.since(c0) if cpu else {}
    if errors:
        raise BenchError("scan ceiling: %s" % errors[0])
    return {"items": sum(r[0] for r in results), "pages": sum(r[1] for r in results),
            "bytes": sum(r[2] for r in results), "wall": wall, "client_cpu": pcpu,
            "service_cpu": used}


def scan_items(endpoint, table, limit, first_page=None):
    """Every item of the table, parsed (for building the bulk-ceiling documents).
    With first_page (a list), the raw text of the first answer is appended to it."""
    cl = ScanClient(endpoint)
    body = {"TableName": table, "Limit": limit, "ReturnConsumedCapacity": "TOTAL"}
    out = []
    try:
        while True:
            raw = cl.scan_raw(body)
            if first_page is not None and not first_page:
                first_page.append(raw)
            page = json.loads(raw)
            out += page.get("Items", [])
            lek = page.get("LastEvaluatedKey")
            if not lek:
                return out
            body["ExclusiveStartKey"] = lek
    finally:
        cl.close()


def _dumps(doc):
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def make_bulk_bodies(docs, index, max_docs=5000, max_bytes=5 * 1024 * 1024):
    """[(body bytes, ndocs)] cut like ddb2es cuts its batches: flush when the
    body reaches max_bytes or holds max_docs documents."""
    bodies, cur, n = [], [], 0
    size = 0
    for _id, src in docs:
        line = b'{"index":{"_index":' + _dumps(index) + b',"_id":' + _dumps(_id) + b"}}\n" + \
            _dumps(src) + b"\n"
        cur.append(line)
        size += len(line)
        n += 1
        if size >= max_bytes or n >= max_docs:
            bodies.append((b"".join(cur), n))
            cur, n, size = [], 0, 0
    if cur:
        bodies.append((b"".join(cur), n))
    return bodies


def bulk_ceiling(es_url, bodies, concurrency, cpu=None):
    """Send prepared bulk bodies with `concurrency` threads; returns
    {docs, bytes, wall, client_cpu, service_cpu, bulks_with_item_errors, answer}
    (answer: the raw text of the first _bulk answer)."""
    host, port = _hostport(es_url)
    lock = threading.Lock()
    state = {"next": 0, "docs": 0, "bytes": 0, "item_errors": 0, "answer": None}
    errors = []

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=300)
        try:
            while True:
                with lock:
                    i = state["next"]
                    state["next"] += 1
                if i >= len(bodies):
                    return
                body, n = bodies[i]
                conn.request("POST", "/_bulk", body, {"Content-Type": "application/x-ndjson"})
                resp = conn.getresponse()
                raw = resp.read()
                if resp.status != 200:
                    raise BenchError("_bulk: HTTP %d: %s" % (resp.status, raw[:300]))
                with lock:
                    state["docs"] += n
                    state["bytes"] += len(body)
                    if b'"errors":false' not in raw[:200]:
                        state["item_errors"] += 1
                    if state["answer"] is None:
                        state["answer"] = raw
        except Exception as e:
            errors.append(e)
        finally:
            conn.close()

    c0 = cpu.snapshot() if cpu else {}
    p0 = time.process_time()
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    pcpu = time.process_time() - p0
    used = cpu.since(c0) if cpu else {}
    if errors:
        raise BenchError("bulk ceiling: %s" % errors[0])
    return {"docs": state["docs"], "bytes": state["bytes"], "wall": wall, "client_cpu": pcpu,
            "service_cpu": used, "bulks_with_item_errors": state["item_errors"],
            "answer": state["answer"]}


def old_way(endpoint, es_url, table, index, limit, sample, cpu=None):
    """Scan and index `sample` items one by one (PUT /index/_doc/id); returns
    {docs, wall, client_cpu, service_cpu, scan_wall, map_cpu}."""
    host, port = _hostport(es_url)
    cl = ScanClient(endpoint)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    path_prefix = "/" + urllib.parse.quote(index, safe="") + "/_doc/"
    body = {"TableName": table, "ReturnConsumedCapacity": "TOTAL", "Limit": limit}
    done = 0
    scan_wall = 0.0
    c0 = cpu.snapshot() if cpu else {}
    p0 = time.process_time()
    t0 = time.monotonic()
    try:
        while done < sample:
            ts = time.monotonic()
            page = json.loads(cl.scan_raw(body))
            scan_wall += time.monotonic() - ts
            for item in page.get("Items", []):
                if done >= sample:
                    break
                doc = oracle.persons(item)
                conn.request("PUT", path_prefix + urllib.parse.quote(str(doc["id"]), safe=""),
                             _dumps(doc), {"Content-Type": "application/json"})
                resp = conn.getresponse()
                raw = resp.read()
                if resp.status not in (200, 201):
                    raise BenchError("PUT _doc: HTTP %d: %s" % (resp.status, raw[:300]))
                done += 1
            lek = page.get("LastEvaluatedKey")
            if not lek:
                break
            body["ExclusiveStartKey"] = lek
    finally:
        cl.close()
        conn.close()
    wall = time.monotonic() - t0
    return {"docs": done, "wall": wall, "client_cpu": time.process_time() - p0,
            "service_cpu": cpu.since(c0) if cpu else {}, "scan_wall": scan_wall}
