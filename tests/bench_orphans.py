#!/usr/bin/env python3
"""Figures for `ddb2es orphans` (prints them; never fails on a number; not a test).

    /usr/bin/python3 tests/bench_orphans.py        (after make; BENCH_ORPHANS_ITEMS=100000)

Question: does listing the orphans of a table cost little more than its two
unavoidable reads, scanning the table's keys and reading the index's ids?

Setup (one DynamoDB Local, one ES test server, es8): a table of N items
(about 1 KB each: an id and padding), an index holding the N ids plus 100
documents whose items do not exist (the orphans).

Measured, each the median of RUNS runs (the order of ddb2es and the plain reads alternates):
  - ddb2es orphans --strategy a: wall time, and its own stage times (table
    key scan into the set; index id stream with the look-ups), peak RSS,
    the set's size;
  - the two reads alone, done by a plain client with nothing else to do:
    a parallel Scan of the keys (same segments and page Limit as ddb2es) and
    a PIT + search_after stream of the ids (_source false, 5000 a page);
  - ddb2es orphans --strategy b and ddb2es verify, for comparison.
The lower bound for strategy A is max(scan, stream) if the two overlapped and
scan + stream as they run (one after the other); the report gives the ratio
of ddb2es's wall time to that sum.
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import Services, ddb2es_bin, make_config  # noqa: E402

N = int(os.environ.get("BENCH_ORPHANS_ITEMS", "100000"))
EXTRA = 100
RUNS = int(os.environ.get("BENCH_ORPHANS_RUNS", "4"))
SEGMENTS = 4
TABLE, INDEX = "BenchOrphans", "bench-orphans"


TIME = "/usr/bin/time"


def run(s, args):
    """Runs ddb2es; returns (rc, stdout, stderr, seconds, peak RSS in MiB or None). The peak RSS comes
    from /usr/bin/time: the rusage of a child forked from this (large) Python process would count the
    parent's pages up to the exec."""
    cmd = [ddb2es_bin()] + args
    if os.access(TIME, os.X_OK):
        cmd = [TIME, "-f", "MAXRSS_KB %M"] + cmd
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(s.env),
                          stdin=subprocess.DEVNULL)
    took = time.monotonic() - t0
    err = proc.stderr.decode("utf-8", "replace")
    rss = None
    lines = err.rstrip("\n").split("\n")
    if lines and lines[-1].startswith("MAXRSS_KB "):
        rss = int(lines[-1].split()[1]) / 1024.0
        err = "\n".join(lines[:-1]) + "\n"
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), err, took, rss


def load(s):
    body = {"TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}
    s.ddb.call("CreateTable", body)
    s.ddb.wait_active(TABLE)
    ids = [str(uuid.UUID(int=(i * 2654435761) << 64 | i)) for i in range(N)]
    pad = "x" * 900

    def put(part):
        s.ddb.batch_write(TABLE, [{"id": {"S": i}, "pad": {"S": pad[: 800 + len(i) % 200]}} for i in part])

    t0 = time.monotonic()
    threads = [threading.Thread(target=put, args=(ids[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("# table: %d items loaded in %.1f s" % (N, time.monotonic() - t0), flush=True)
    t0 = time.monotonic()
    s.es.put("/" + INDEX, {"mappings": {"properties": {"id": {"type": "keyword"}}}})
    docs = ids + ["orphan-%d" % i for i in range(EXTRA)]
    for k in range(0, len(docs), 10000):
        lines = []
        for i in docs[k:k + 10000]:
            lines.append(json.dumps({"index": {"_index": INDEX, "_id": i}}))
            lines.append(json.dumps({"id": i}))
        r = s.es.post("/_bulk", "\n".join(lines) + "\n", ndjson=True)
        assert not r.get("errors"), "bulk errors"
    s.es.refresh(INDEX)
    print("# index: %d documents loaded in %.1f s" % (len(docs), time.monotonic() - t0), flush=True)


def scan_keys_alone(s):
    """The table's keys with a plain client: parallel Scan, projection on the key, same Limit."""
    d = s.ddb.describe_table(TABLE)
    avg = max(1, d.get("TableSizeBytes", 0) // max(1, d.get("ItemCount", 1)))
    limit = max(10, min(10000, (1024 * 1024) // avg)) if d.get("ItemCount") else 1000
    counts = [0] * SEGMENTS

    def seg(k):
        for page in s.ddb.scan_pages(TABLE, limit=limit, segment=k, total_segments=SEGMENTS,
                                     ProjectionExpression="#k", ExpressionAttributeNames={"#k": "id"}):
            counts[k] += len(page.get("Items", []))

    t0 = time.monotonic()
    threads = [threading.Thread(target=seg, args=(k,)) for k in range(SEGMENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0, sum(counts)


def read_ids_alone(s):
    """The index's ids with a plain client: PIT + search_after, _source false, 5000 a page."""
    t0 = time.monotonic()
    pit = s.es.post("/%s/_pit?keep_alive=5m" % INDEX)["id"]
    n, after = 0, None
    while True:
        body = {"size": 5000, "_source": False, "track_total_hits": False, "seq_no_primary_term": True,
                "sort": [{"_shard_doc": "asc"}], "pit": {"id": pit, "keep_alive": "5m"}}
        if after:
            body["search_after"] = after
        r = s.es.post("/_search", body)
        hits = r["hits"]["hits"]
        n += len(hits)
        pit = r.get("pit_id", pit)
        if len(hits) < 5000:
            break
        after = hits[-1]["sort"]
    s.es.delete("/_pit", {"id": pit})
    return time.monotonic() - t0, n


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    harness.install_signal_exit()
    with Services(flavour="es8") as s:
        cfg = s.write_config(make_config(s.ddb_endpoint, s.es_url), "bench.json")
        load(s)
        base = ["--env", "local", "--config", cfg, "--table", TABLE, "--entity", "tenures", "--index", INDEX]
        fig = {k: [] for k in ("a", "a_table", "a_index", "b", "verify", "scan", "stream")}
        rss, set_bytes, set_ids = 0.0, 0, 0
        # one run unmeasured: DynamoDB Local (a JVM) is slow on its first scan of a table
        run(s, ["orphans"] + base + ["--segments", str(SEGMENTS)])
        scan_keys_alone(s)
        for r in range(RUNS):
            if r % 2:  # alternate the order: a warm JVM favours whoever comes second
                fig["scan"].append(scan_keys_alone(s)[0])
                fig["stream"].append(read_ids_alone(s)[0])
            rc, out, err, took, mib = run(s, ["orphans"] + base + ["--strategy", "a", "--segments",
                                                                   str(SEGMENTS), "--progress", "json"])
            assert rc == 0 and len(out.split()) == EXTRA, "orphans a: rc %d, %s" % (rc, err[-500:])
            last = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")][-1]
            fig["a"].append(took)
            fig["a_table"].append(last["stage_seconds"]["table"])
            fig["a_index"].append(last["stage_seconds"]["index"])
            rss, set_bytes, set_ids = max(rss, mib or 0.0), last["set_bytes"], last["set_ids"]
            if not r % 2:
                fig["scan"].append(scan_keys_alone(s)[0])
                fig["stream"].append(read_ids_alone(s)[0])
            rc, out, err, took, _ = run(s, ["orphans"] + base + ["--strategy", "b"])
            assert rc == 0 and len(out.split()) == EXTRA, "orphans b: rc %d, %s" % (rc, err[-500:])
            fig["b"].append(took)
            rc, out, err, took, _ = run(s, ["verify"] + base + ["--segments", str(SEGMENTS)])
            assert rc == 1, "verify: rc %d (the orphans make it differ)" % rc
            fig["verify"].append(took)
            print("# run %d: orphans a %.2f s, b %.2f s, verify %.2f s; scan alone %.2f s, stream alone %.2f s"
                  % (r + 1, fig["a"][-1], fig["b"][-1], fig["verify"][-1], fig["scan"][-1], fig["stream"][-1]),
                  flush=True)
        m = {k: median(v) for k, v in fig.items()}
        both = m["scan"] + m["stream"]
        print()
        print("orphans of a %d-item table (index: %d documents, %d orphans), medians of %d runs:"
              % (N, N + EXTRA, EXTRA, RUNS))
        print("  scan the keys alone (plain client, %d segments)   %7.2f s" % (SEGMENTS, m["scan"]))
        print("  read the index ids alone (plain client, PIT)      %7.2f s" % m["stream"])
        print("  the two, one after the other                      %7.2f s" % both)
        print("  ddb2es orphans --strategy a                       %7.2f s  (%.2fx the two reads)"
              % (m["a"], m["a"] / both if both else float("nan")))
        print("    its table stage (keys into the set)             %7.2f s" % m["a_table"])
        print("    its index stage (ids streamed, looked up)       %7.2f s" % m["a_index"])
        print("    the rest (process start, DescribeTable, GET /)  %7.2f s" % (m["a"] - m["a_table"] - m["a_index"]))
        print("  ddb2es orphans --strategy b                       %7.2f s" % m["b"])
        print("  ddb2es verify (ids only)                          %7.2f s" % m["verify"])
        print("  id set: %d ids in %.1f MiB = %.1f bytes per id; peak RSS of orphans a: %.1f MiB"
              % (set_ids, set_bytes / 1048576.0, set_bytes / max(1, set_ids), rss))


if __name__ == "__main__":
    main()
