#!/usr/bin/env python3
"""Parallel segments, several processes sharing a table, and the rate limit.

- `--segments 1, 3, 4, 7`: the parallel scan covers the table exactly once
  through ddb2es: the summary counts every item once, the server received
  every document once (bulk_items), and the index equals the table.
- Two processes with `--segment-range 0-1/4` and `2-3/4`, run at the same
  time, each with its own checkpoint, together cover the table exactly once.
- `--workers N --segments M` takes this process's share from
  JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX
  (AWS Batch array job): the shares partition the segments.
- `--max-rate N` is honoured within 10%: docs/s measured from the summary
  (indexed / seconds, and its docs_per_sec), over a run of about 5 s.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import seed  # noqa: E402
from harness import Services, Suite, check, check_eq, info  # noqa: E402
from synctest import (BgSync, check_checkpoint_valid, check_exit, check_index_equals,  # noqa: E402
                      es_stats, prepare_services, read_json, reset_es, run_sync, seed_table,
                      set_faults, sync_args, tail)

N = 3000
TABLE, INDEX = "Persons", "persons"
suite = Suite()
state = {}


def items(s):
    if "items" not in state:
        prepare_services(s)
        t0 = time.monotonic()
        state["items"] = seed_table(s, TABLE, seed.persons(N, seed=71))
        info("seeded %d Persons in %.1f s" % (N, time.monotonic() - t0))
    return state["items"]


@suite.test
def segments_cover_the_table_exactly_once(s):
    its = items(s)
    for n in (1, 3, 4, 7):
        reset_es(s)
        summary = s.path("summary-seg%d.json" % n)
        rc, out, err, doc = run_sync(s, sync_args(s, TABLE, INDEX, "--segments", n,
                                                  "--bulk-docs", 250, summary=summary))
        check_exit(rc, 0, err, "--segments %d: exit code" % n)
        stats = es_stats(s)
        info("--segments %d: %.2f s, %d bulk requests, %d DynamoDB requests"
             % (n, doc["seconds"], doc["bulk_requests"], doc["ddb_requests"]))
        for key, want in (("scanned", N), ("mapped", N), ("indexed", N), ("failed", 0),
                          ("segments_total", n), ("segments_done", n), ("segment_first", 0),
                          ("segment_last", n - 1)):
            check_eq(doc.get(key), want, "--segments %d: summary %s" % (n, key))
        # one scanner thread per segment: the segments are read at the same time
        check_eq(doc.get("scanner_threads"), n, "--segments %d: scanner threads" % n)
        per = doc.get("segments") or []
        check_eq([p["segment"] for p in per], list(range(n)), "--segments %d: per-segment entries" % n)
        check_eq(sum(p["scanned"] for p in per), N, "--segments %d: per-segment counts add up" % n)
        check(all(p["done"] for p in per), "--segments %d: every segment done: %s" % (n, per))
        if n > 1:
            check(all(p["scanned"] > 0 for p in per), "--segments %d: each segment read items: %s" % (n, per))
        check_eq(stats["bulk_items"], N, "--segments %d: documents the server received" % n)
        check_index_equals(s, INDEX, its, what="--segments %d" % n)


@suite.test
def two_processes_with_segment_ranges(s):
    its = items(s)
    reset_es(s)
    # a little latency so that the two runs really overlap
    set_faults(s, {"latency_ms": {"ms": 30, "paths": ["/_bulk"]}})
    runs = []
    try:
        for rng in ("0-1/4", "2-3/4"):
            tag = rng.replace("/", "of")
            args = sync_args(s, TABLE, INDEX, "--segment-range", rng, "--bulk-docs", 100,
                             "--checkpoint", s.path("ck-%s.json" % tag),
                             summary=s.path("summary-%s.json" % tag))
            runs.append((rng, tag, BgSync(s, args)))
        results = [(rng, tag, b.wait()) for rng, tag, b in runs]
    finally:
        for _, _, b in runs:
            b.stop()
    s.es.delete("/_test/faults")
    scanned = 0
    for (rng, tag, (rc, out, err)), want in zip(results, ((0, 1), (2, 3))):
        check_exit(rc, 0, err, "--segment-range %s: exit code" % rng)
        doc = read_json(s.path("summary-%s.json" % tag))
        check_eq((doc["segment_first"], doc["segment_last"], doc["segments_total"]),
                 (want[0], want[1], 4), "--segment-range %s: range in the summary" % rng)
        check_eq(doc["segments_done"], 2, "--segment-range %s: segments done" % rng)
        check_eq([p["segment"] for p in doc["segments"]], list(want),
                 "--segment-range %s: per-segment entries" % rng)
        check_eq(doc["scanned"], doc["indexed"], "--segment-range %s: scanned = indexed" % rng)
        ck = check_checkpoint_valid(s.path("ck-%s.json" % tag), TABLE, INDEX)
        check_eq(sorted(ck["segments"]), [str(want[0]), str(want[1])],
                 "--segment-range %s: segments in its checkpoint" % rng)
        check(all(v.get("done") for v in ck["segments"].values()),
              "--segment-range %s: checkpoint not all done: %s" % (rng, ck["segments"]))
        scanned += doc["scanned"]
        info("--segment-range %s: %d items in %.2f s" % (rng, doc["scanned"], doc["seconds"]))
    check_eq(scanned, N, "items scanned by the two processes together")
    check_eq(es_stats(s)["bulk_items"], N, "documents the server received")
    check_index_equals(s, INDEX, its)


def run_workers(s, its, var, workers, segments):
    """Runs every worker of a --workers/--segments job concurrently; returns
    their (first, last) ranges in worker order."""
    reset_es(s)
    runs = []
    try:
        for i in range(workers):
            args = sync_args(s, TABLE, INDEX, "--workers", workers, "--segments", segments,
                             "--bulk-docs", 200, "--checkpoint", s.path("ck-w%d.json" % i),
                             summary=s.path("summary-w%d.json" % i))
            runs.append(BgSync(s, args, env_extra={var: str(i)}))
        results = [b.wait() for b in runs]
    finally:
        for b in runs:
            b.stop()
    ranges, scanned = [], 0
    for i, (rc, out, err) in enumerate(results):
        check_exit(rc, 0, err, "%s=%d: exit code" % (var, i))
        doc = read_json(s.path("summary-w%d.json" % i))
        check_eq(doc["segments_total"], segments, "%s=%d: segments_total" % (var, i))
        ranges.append((doc["segment_first"], doc["segment_last"]))
        scanned += doc["scanned"]
    covered = [seg for a, b in ranges for seg in range(a, b + 1)]
    check_eq(sorted(covered), list(range(segments)),
             "%s: segments of %d workers (ranges %s)" % (var, workers, ranges))
    check_eq(scanned, N, "%s: items scanned by all workers" % var)
    check_eq(es_stats(s)["bulk_items"], N, "%s: documents the server received" % var)
    check_index_equals(s, INDEX, its, what="%s workers" % var)
    return ranges


@suite.test
def workers_from_job_completion_index(s):
    ranges = run_workers(s, items(s), "JOB_COMPLETION_INDEX", 2, 4)
    check_eq(ranges, [(0, 1), (2, 3)], "ranges of worker 0 and 1")


@suite.test
def workers_from_aws_batch_array_index(s):
    ranges = run_workers(s, items(s), "AWS_BATCH_JOB_ARRAY_INDEX", 3, 7)
    info("--workers 3 --segments 7: ranges %s" % ranges)
    check_eq(ranges[0][0], 0, "worker 0 starts at segment 0")


@suite.test
def workers_without_an_index_is_a_usage_error(s):
    rc, out, err, doc = run_sync(s, sync_args(s, TABLE, INDEX, "--workers", 2, "--segments", 4))
    check_exit(rc, 2, err)
    check("JOB_COMPLETION_INDEX" in err, "the message names JOB_COMPLETION_INDEX: %s" % tail(err, 300))


RATE = 600


@suite.test
def rate_limit_within_10_percent(s):
    its = items(s)
    reset_es(s)
    t0 = time.monotonic()
    rc, out, err, doc = run_sync(s, sync_args(s, TABLE, INDEX, "--max-rate", RATE, "--segments", 2,
                                              summary=s.path("summary-rate.json")))
    wall = time.monotonic() - t0
    check_exit(rc, 0, err)
    check_index_equals(s, INDEX, its)
    measured = doc["indexed"] / doc["seconds"]
    info("--max-rate %d over %d items: %.2f s in the summary (%.2f s wall) = %.0f docs/s (%+.1f%%); "
         "summary docs_per_sec %.0f"
         % (RATE, N, doc["seconds"], wall, measured, 100.0 * (measured - RATE) / RATE,
            doc["docs_per_sec"]))
    check(abs(measured - RATE) <= 0.10 * RATE,
          "measured %.0f docs/s (%d in %.2f s) for --max-rate %d: outside +-10%%"
          % (measured, doc["indexed"], doc["seconds"], RATE))
    check(abs(doc["docs_per_sec"] - RATE) <= 0.10 * RATE,
          "the summary's docs_per_sec %.0f for --max-rate %d: outside +-10%%"
          % (doc["docs_per_sec"], RATE))


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
