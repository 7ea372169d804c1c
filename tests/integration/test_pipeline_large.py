#!/usr/bin/env python3
"""A 100,000-item sync under faults: flat memory, no lost documents.

100,000 realistic Persons (about 80 MB in DynamoDB) are synced with 4
segments and the default bulk sizes while the test server rejects a share
of bulk items (429), refuses whole bulks (503) and drops connections before
the body and in the middle of the response. The run must exit 0 with every
document indexed, the index must equal the table (ids and documents), and
memory must stay flat: the process's RSS is sampled every 0.1 s, and the
peak over the second half of the run may not exceed the peak over the first
half by more than a small margin (a pipeline that kept what it read would
grow with the table). The summary's peak_rss_kb, the RSS curve and the time
of each phase are printed.

DDB2ES_LARGE_ITEMS overrides the number of items (e.g. for a quick look).
"""

import os
import random
import resource
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import seed  # noqa: E402
from harness import Services, Suite, check, check_eq, info  # noqa: E402
from synctest import (BgSync, check_exit, check_index_equals, es_stats, prepare_services,  # noqa: E402
                      read_json, reset_es, seed_table, set_faults, sync_args, write_items)

N = int(os.environ.get("DDB2ES_LARGE_ITEMS") or 100000)
BASE = 10000  # distinct generated items; the rest are copies under new ids
TABLE, INDEX = "Persons", "persons"
FAULTS = {"seed": 11,
          "bulk_item_reject": {"rate": 0.01},
          "request_reject": {"every": 12, "status": 503, "paths": ["/_bulk"]},
          "drop_before_body": {"every": 16, "paths": ["/_bulk"]},
          "drop_mid_response": {"every": 20, "bytes": 200, "paths": ["/_bulk"]}}
# RSS over the second half of the run may exceed the first half's peak by this much
GROWTH_SLACK_KB = 32 * 1024
suite = Suite()
state = {}


def seed_large(s):
    """BASE realistic items, written and read back; then N - BASE copies of them
    under new ids, built from the read-back items (DynamoDB's normal form), so
    the expected documents are known without reading 100,000 items back."""
    t0 = time.monotonic()
    base = seed_table(s, TABLE, seed.persons(min(BASE, N), seed=111))
    t_base = time.monotonic() - t0
    rnd = random.Random(112)
    originals = list(base.values())
    copies = []
    for i in range(N - len(base)):
        it = dict(originals[i % len(originals)])  # nested values shared: never changed
        it["id"] = {"S": str(uuid.UUID(int=rnd.getrandbits(128), version=4))}
        copies.append(it)
    t0 = time.monotonic()
    write_items(s.ddb, TABLE, copies, threads=6)
    t_copies = time.monotonic() - t0
    items = dict(base)
    items.update((it["id"]["S"], it) for it in copies)
    check_eq(len(items), N, "distinct ids")
    d = s.ddb.describe_table(TABLE)
    check_eq(d.get("ItemCount"), N, "ItemCount of the table")
    info("%d Persons: %d generated, written and read back in %.1f s, %d copies written in %.1f s "
         "(%.0f items/s); table %.1f MB"
         % (N, len(base), t_base, len(copies), t_copies, len(copies) / max(t_copies, 1e-9),
            d.get("TableSizeBytes", 0) / 1e6))
    return items


@suite.test
def large_sync_under_faults(s):
    prepare_services(s)
    state["items"] = seed_large(s)
    reset_es(s)
    set_faults(s, FAULTS)
    summary = s.path("summary-large.json")
    state["parent_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    run = BgSync(s, sync_args(s, TABLE, INDEX, "--segments", 4, summary=summary), sample_rss=True)
    try:
        rc, out, err = run.wait(1200)
    finally:
        run.stop()
    t_sync = time.monotonic() - t0
    stats = es_stats(s)
    s.es.delete("/_test/faults")
    state["rss"] = run.rss
    check_exit(rc, 0, err)
    doc = state["summary"] = read_json(summary)
    info("sync: %.1f s (summary %.1f s, %.0f docs/s); peak_rss_kb %d; bulk_requests %d "
         "bulk_retries %d retried_docs %d; server faults %s"
         % (t_sync, doc["seconds"], doc["indexed"] / max(doc["seconds"], 1e-9), doc["peak_rss_kb"],
            doc["bulk_requests"], doc["bulk_retries"], doc["retried_docs"], stats.get("faults")))
    check_eq(doc["scanned"], N, "summary scanned")
    check_eq(doc["indexed"], N, "summary indexed")
    check_eq(doc["failed"], 0, "summary failed")
    if N >= 100000:  # fewer items make too few bulks for every fault to come round
        for kind in ("bulk_item_reject", "request_reject", "drop_before_body", "drop_mid_response"):
            check(stats.get("faults", {}).get(kind, 0) > 0, "fault %s never fired" % kind)


@suite.test
def no_document_lost(s):
    check("items" in state, "no table (the first test failed)")
    t0 = time.monotonic()
    check_index_equals(s, INDEX, state["items"], page=10000)
    info("check of %d documents against the oracle: %.1f s" % (N, time.monotonic() - t0))


@suite.test
def memory_stays_flat(s):
    rss = state.get("rss") or []
    check(len(rss) >= 10, "only %d RSS samples" % len(rss))
    end = rss[-1][0]
    first = max(kb for t, kb in rss if t <= end / 2)
    second = max(kb for t, kb in rss if t > end / 2)
    curve = [kb // 1024 for t, kb in rss[:: max(1, len(rss) // 12)]]
    info("RSS (MB) over the run: %s; peak first half %d MB, second half %d MB"
         % (curve, first // 1024, second // 1024))
    if os.environ.get("DDB2ES_SANITIZER"):
        # a sanitizer's shadow memory and history grow with the work done: the
        # figure says nothing about ddb2es's own buffers there
        info("memory flatness not judged under %s" % os.environ["DDB2ES_SANITIZER"])
        return
    check(second <= first + GROWTH_SLACK_KB,
          "memory grows with the table: peak RSS %d kB in the second half against %d kB in the "
          "first" % (second, first))


@suite.test
def summary_peak_rss_is_the_process_own(s):
    # The summary's figure must be this process's peak. (getrusage's ru_maxrss
    # is not: Linux carries it over execve() from the process that forked,
    # here this Python test holding the whole table in memory.)
    rss, doc = state.get("rss") or [], state.get("summary")
    check(rss and doc, "no run to look at (the first test failed)")
    sampled = max(kb for t, kb in rss)
    check(doc["peak_rss_kb"] <= sampled + max(32 * 1024, sampled // 4),
          "summary peak_rss_kb %d kB, but the process's RSS never went above %d kB (sampled "
          "every 0.1 s); this test's peak RSS when it started ddb2es was %d kB"
          % (doc["peak_rss_kb"], sampled, state["parent_rss_kb"]))


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
