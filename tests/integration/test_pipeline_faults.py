#!/usr/bin/env python3
"""The sync engine under the ES test server's faults: nothing is lost.

One table of 3,000 Persons (seeded once) is synced again and again into a
fresh index while the test server misbehaves in one way at a time: a share
of bulk items refused with 429, whole bulk requests refused with 503 or 429,
connections dropped before the body is read and in the middle of the
response, slow answers with long stalls, a body limit (413) that forces the
bulks to be split. Each run must exit 0 with every document indexed, and
the index must equal the table (ids, and every document equal to the
oracle's). The counters of the summary must show that the fault was met
(retried_docs, bulk_retries), and the server's counters that it fired.

Mapping errors (mapper_parsing_exception) are the exception: those
documents go to the dead-letter file (document, id, error), are counted as
failed, the run exits 1, and every other document is indexed.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import oracle  # noqa: E402
import seed  # noqa: E402
from harness import Services, Suite, check, check_eq, info  # noqa: E402
from synctest import (check_exit, check_index_equals, create_index, es_stats,  # noqa: E402
                      prepare_services, read_json_lines, reset_es, run_sync, seed_table,
                      set_faults, sync_args, tail)

N = 3000
TABLE, INDEX = "Persons", "persons"
suite = Suite()
state = {}


def items(s):
    if "items" not in state:
        prepare_services(s)
        t0 = time.monotonic()
        state["items"] = seed_table(s, TABLE, seed.persons(N, seed=61))
        info("seeded %d Persons in %.1f s" % (N, time.monotonic() - t0))
    return state["items"]


def sync_under(s, faults, *extra, name):
    """Reset the ES side, set the faults, sync; checks exit 0 and the index.
    Returns (summary, server stats)."""
    its = items(s)
    reset_es(s)
    if faults:
        set_faults(s, faults)
    summary = s.path("summary-%s.json" % name)
    t0 = time.monotonic()
    rc, out, err, doc = run_sync(s, sync_args(s, TABLE, INDEX, "--bulk-docs", 200, *extra,
                                              summary=summary))
    took = time.monotonic() - t0
    stats = es_stats(s)
    s.es.delete("/_test/faults")
    check_exit(rc, 0, err)
    check(doc is not None, "no summary written; stderr: %s" % tail(err, 500))
    info("%s: %.1f s; summary indexed %s retried_docs %s bulk_requests %s bulk_retries %s "
         "throttles %s; server faults %s"
         % (name, took, doc["indexed"], doc["retried_docs"], doc["bulk_requests"],
            doc["bulk_retries"], doc["throttles"], stats.get("faults")))
    check_eq(doc["scanned"], N, "summary scanned")
    check_eq(doc["indexed"], N, "summary indexed")
    check_eq(doc["failed"], 0, "summary failed")
    check_index_equals(s, INDEX, its)
    return doc, stats


def fired(stats, kind):
    return stats.get("faults", {}).get(kind, 0)


@suite.test
def bulk_items_rejected_with_429_are_resent(s):
    doc, stats = sync_under(s, {"seed": 7, "bulk_item_reject": {"rate": 0.1}}, name="item429")
    n = fired(stats, "bulk_item_reject")
    check(n > 50, "the server rejected only %d items" % n)
    # every rejected item is sent again, and only those
    check_eq(doc["retried_docs"], n, "summary retried_docs (items the server rejected: %d)" % n)
    check(doc["throttles"] >= n, "throttles %d < %d rejected items" % (doc["throttles"], n))


@suite.test
def whole_bulk_503_is_resent(s):
    doc, stats = sync_under(s, {"request_reject": {"every": 3, "status": 503, "paths": ["/_bulk"]}},
                            name="req503")
    n = fired(stats, "request_reject")
    check(n > 0, "no 503 was sent")
    check(doc["bulk_retries"] >= n, "bulk_retries %d < %d refused requests"
          % (doc["bulk_retries"], n))


@suite.test
def whole_bulk_429_is_resent(s):
    doc, stats = sync_under(s, {"request_reject": {"every": 2, "status": 429, "paths": ["/_bulk"]}},
                            name="req429")
    n = fired(stats, "request_reject")
    check(n > 0, "no 429 was sent")
    check(doc["bulk_retries"] >= n, "bulk_retries %d < %d refused requests"
          % (doc["bulk_retries"], n))
    check(doc["throttles"] >= n, "throttles %d < %d 429 answers" % (doc["throttles"], n))


@suite.test
def connection_dropped_before_the_body(s):
    doc, stats = sync_under(s, {"drop_before_body": {"every": 3, "paths": ["/_bulk"]}},
                            name="drop-request")
    check(fired(stats, "drop_before_body") > 0, "no connection was dropped")


@suite.test
def connection_dropped_mid_response(s):
    # The server indexed the documents and dropped the answer: they are sent again.
    doc, stats = sync_under(s, {"drop_mid_response": {"every": 3, "bytes": 40, "paths": ["/_bulk"]}},
                            name="drop-response")
    n = fired(stats, "drop_mid_response")
    check(n > 0, "no response was cut")
    check(doc["bulk_retries"] >= n, "bulk_retries %d < %d cut responses" % (doc["bulk_retries"], n))


@suite.test
def slow_answers_and_stalls(s):
    doc, stats = sync_under(s, {"latency_ms": {"ms": 40, "paths": ["/_bulk"]},
                                "stall": {"every": 5, "times": 2, "ms": 1500, "paths": ["/_bulk"]}},
                            name="slow")
    check_eq(fired(stats, "stall"), 2, "stalls")
    check(doc["seconds"] >= 1.5, "the run took %.2f s: the 1.5 s stalls were not waited for"
          % doc["seconds"])


@suite.test
def body_limit_413_splits_bulks(s):
    # 2 MB bulks against a 300 kB limit: each is halved until it fits.
    for style in ("es", "aws"):
        doc, stats = sync_under(s, {"max_content_length": 300000, "max_content_length_style": style},
                                "--bulk-bytes", 2000000, "--bulk-docs", 5000, name="413-" + style)
        n = fired(stats, "max_content_length")
        check(n > 0, "%s: no 413 was sent" % style)
        check(doc["bulk_requests"] > n, "%s: %d bulk requests for %d 413s" % (style, doc["bulk_requests"], n))


@suite.test
def all_faults_at_once_with_segments(s):
    sync_under(s, {"seed": 3, "bulk_item_reject": {"rate": 0.05},
                   "request_reject": {"every": 7, "status": 503, "paths": ["/_bulk"]},
                   "drop_before_body": {"every": 11, "paths": ["/_bulk"]},
                   "drop_mid_response": {"every": 13, "bytes": 64, "paths": ["/_bulk"]},
                   "latency_ms": {"ms": 10, "paths": ["/_bulk"]}},
               "--segments", 3, "--concurrency", 4, "--bulk-docs", 100, name="all")


# -- mapping errors ------------------------------------------------------------------

DL_TABLE, DL_INDEX, DL_N = "PersonsDeadLetter", "persons_dl", 400


@suite.test
def mapping_errors_go_to_the_dead_letter_file(s):
    prepare_services(s)
    # placeOfBirth is mapped as a date here; a few items hold a place name instead.
    gen = seed.persons(DL_N, seed=62)
    bad = set()
    for i, it in enumerate(gen):
        if i % 57 == 5:
            it["placeOfBirth"] = {"S": "Hackney %d" % i}
            bad.add(it["id"]["S"])
        else:
            it["placeOfBirth"] = {"S": "19%02d-0%d-1%d" % (i % 100, i % 9 + 1, i % 10)}
    its = seed_table(s, DL_TABLE, gen)
    reset_es(s)
    create_index(s, DL_INDEX, mappings={"placeOfBirth": {"type": "date"}})
    set_faults(s, {"seed": 5, "bulk_item_reject": {"rate": 0.05}})
    dl = s.path("dead-letter.ndjson")
    summary = s.path("summary-dl.json")
    rc, out, err, doc = run_sync(s, sync_args(s, DL_TABLE, DL_INDEX, "--entity", "persons",
                                              "--bulk-docs", 50, "--dead-letter", dl,
                                              summary=summary))
    s.es.delete("/_test/faults")
    check_exit(rc, 1, err, "exit code when documents failed")
    check(doc is not None, "no summary")
    info("dead letters: %d bad items; summary failed %s index_failed %s indexed %s"
         % (len(bad), doc.get("failed"), doc.get("index_failed"), doc.get("indexed")))
    check_eq(doc["failed"], len(bad), "summary failed")
    check_eq(doc["index_failed"], len(bad), "summary index_failed")
    check_eq(doc["indexed"], DL_N - len(bad), "summary indexed")
    check(dl in err, "stderr names the dead-letter file %s: %s" % (dl, tail(err, 400)))
    lines = read_json_lines(dl)
    check_eq(len(lines), len(bad), "dead-letter lines")
    check_eq(sorted(line.get("id") for line in lines), sorted(bad), "dead-letter ids")
    for line in lines:
        e = line.get("error") or {}
        check_eq(e.get("type"), "mapper_parsing_exception", "dead-letter error type of %s" % line["id"])
        check(e.get("reason"), "dead-letter error of %s has no reason" % line["id"])
        check_eq(e.get("status"), 400, "dead-letter status of %s" % line["id"])
        check_eq(line.get("document"), oracle.persons(its[line["id"]]),
                 "dead-letter document of %s" % line["id"])
    good = {k: v for k, v in its.items() if k not in bad}
    check_index_equals(s, DL_INDEX, good)


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
