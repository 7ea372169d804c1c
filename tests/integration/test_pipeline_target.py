#!/usr/bin/env python3
"""What a sync does to its target: external versions, alias swaps, fast-load.

- `--external-version`: an item updated in the table while the sync runs
  (a higher versionNumber), whose newer document the application indexes
  with version_type=external before the sync's older copy arrives, keeps its
  newer document; the 409 is counted as newer_in_index, not as a failure. An
  item whose newer document is already in the index at the same version is
  simply indexed again (external_gte).
- `--alias NAME`: the run loads NAME-<UTC timestamp>, the alias keeps
  pointing to the previous index while it runs, then moves with one POST
  _aliases; with --delete-old the previous index is gone, without it it
  stays; the alias counts the table's items.
- `--fast-load`: refresh_interval -1 and number_of_replicas 0 during the load
  (read through the server while the run is slowed down), the previous values
  back after success, after a failure (bulks refused for good, connections
  dropped for good) and after a SIGINT cancel.
"""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import oracle  # noqa: E402
import seed  # noqa: E402
from harness import Services, Suite, check, check_eq, info  # noqa: E402
from synctest import (BgSync, check_exit, check_index_equals, create_index, es_stats,  # noqa: E402
                      index_settings, prepare_services, read_json, reset_es, run_sync,
                      seed_table, set_faults, sync_args, table_items, tail)

N = 1500
TABLE, INDEX = "Persons", "persons"
suite = Suite()
state = {}


def items(s):
    if "items" not in state:
        prepare_services(s)
        gen = seed.persons(N, seed=91)
        for it in gen:  # --external-version needs the version on every item
            it.setdefault("versionNumber", {"N": "1"})
        state["items"] = seed_table(s, TABLE, gen)
    return state["items"]


# -- external versions -----------------------------------------------------------------


def newer(item, tag):
    """A copy of the item with versionNumber + 1 and another surname."""
    it = dict(item)
    it["versionNumber"] = {"N": str(int(item["versionNumber"]["N"]) + 1)}
    it["surname"] = {"S": "Newer-%s" % tag}
    return it


def index_direct(s, item):
    """What the application does: index the item's document with its version, external."""
    v = int(item["versionNumber"]["N"])
    return s.es.put("/%s/_doc/%s?version=%d&version_type=external&refresh=true"
                    % (INDEX, item["id"]["S"], v), oracle.persons(item))


@suite.test
def external_version_keeps_the_newer_document(s):
    its = items(s)
    reset_es(s)
    create_index(s, INDEX)
    order = [it["id"]["S"] for it in s.ddb.scan_all(TABLE, limit=100)]
    x_id, z_id = order[0], order[len(order) // 2]
    try:
        external_version_run(s, its, x_id, z_id)
    finally:
        # the two items as they were, for the other tests
        s.ddb.put_item(TABLE, its[x_id])
        s.ddb.put_item(TABLE, its[z_id])


def external_version_run(s, its, x_id, z_id):
    # Z: updated and indexed by the application before the sync starts
    z_new = newer(its[z_id], "Z")
    s.ddb.put_item(TABLE, z_new)
    index_direct(s, z_new)
    # the first bulk (it holds X, the first item of the scan) waits 4 s at the server
    set_faults(s, {"stall": {"every": 1, "times": 1, "ms": 4000, "paths": ["/_bulk"]}})
    run = BgSync(s, sync_args(s, TABLE, INDEX, "--external-version", "--segments", 1,
                              "--scan-limit", 100, "--bulk-docs", 100, "--concurrency", 1,
                              "--progress", "json", summary=s.path("summary-ext.json")))
    try:
        run.wait_until(lambda: (run.last_progress() or {}).get("scanned", 0) > 0, timeout=60,
                       what="the first Scan page")
        p = run.last_progress()
        check(p.get("indexed", 0) == 0, "the first bulk was answered already: %s" % p)
        # X: updated by the application while the sync holds its older copy
        x_new = newer(its[x_id], "X")
        s.ddb.put_item(TABLE, x_new)
        index_direct(s, x_new)
        rc, out, err = run.wait(120)
    finally:
        run.stop()
        s.es.delete("/_test/faults")
    check_exit(rc, 0, err)
    doc = read_json(s.path("summary-ext.json"))
    info("external versions: summary indexed %d newer_in_index %d failed %d"
         % (doc["indexed"], doc["newer_in_index"], doc["failed"]))
    check_eq(doc["newer_in_index"], 1, "summary newer_in_index (X's older copy)")
    check_eq(doc["failed"], 0, "summary failed")
    check_eq(doc["indexed"], N - 1, "summary indexed")
    got = s.es.get("/%s/_doc/%s" % (INDEX, x_id))
    check_eq(got["_source"]["surname"], "Newer-X", "X's surname in the index")
    check_eq(got["_version"], int(x_new["versionNumber"]["N"]), "X's _version")
    got = s.es.get("/%s/_doc/%s" % (INDEX, z_id))
    check_eq(got["_source"]["surname"], "Newer-Z", "Z's surname in the index")
    check_eq(got["_version"], int(z_new["versionNumber"]["N"]), "Z's _version")
    check_index_equals(s, INDEX, table_items(s.ddb, TABLE))


# -- alias swaps ---------------------------------------------------------------------

ALIAS = "persons_live"


def aliased_indices(s):
    st, doc = s.es.request("GET", "/_alias/%s" % ALIAS)
    return sorted(doc) if st == 200 else []


def alias_run(s, *extra, slow=False):
    """One --alias run; returns (new index, stderr, the alias's indices seen mid-run)."""
    # the new index is named after the second: never two runs in the same one
    time.sleep(1.05 - (time.time() % 1.0))
    s.es.post("/_test/stats/reset")
    if slow:
        set_faults(s, {"latency_ms": {"ms": 150, "paths": ["/_bulk"]}})
    before = aliased_indices(s)
    run = BgSync(s, sync_args(s, TABLE, INDEX, "--alias", ALIAS, "--bulk-docs", 200,
                              "--concurrency", 1 if slow else 4, *extra))
    mid = None
    try:
        if slow:
            run.wait_until(lambda: es_stats(s)["bulk_requests"] >= 2, timeout=60,
                           what="two bulk requests")
            mid = aliased_indices(s)
        rc, out, err = run.wait(120)
    finally:
        run.stop()
    s.es.delete("/_test/faults")
    check_exit(rc, 0, err)
    stats = es_stats(s)
    m = re.search(r"alias %s now points to (\S+)" % ALIAS, err)
    check(m, "stderr says where the alias points: %s" % tail(err, 400))
    new = m.group(1)
    check(re.match(r"^%s-\d{14}$" % ALIAS, new), "new index name %r is not %s-<UTC timestamp>"
          % (new, ALIAS))
    check(new not in before, "the new index %s was there before" % new)
    check_eq(aliased_indices(s), [new], "indices behind the alias")
    # one atomic POST _aliases, no alias removed on its own
    check_eq(stats["by_route"].get("POST /_aliases", 0), 1, "POST /_aliases requests")
    removes = {k: v for k, v in stats["by_route"].items() if k.startswith("DELETE") and "alias" in k}
    check(not removes, "alias removed outside the atomic swap: %s" % removes)
    check_eq(s.es.count(ALIAS), N, "documents behind the alias")
    check_index_equals(s, ALIAS, items(s), what="alias %s" % ALIAS)
    return new, before, mid


@suite.test
def alias_swap_keep_then_delete_old(s):
    items(s)
    reset_es(s)
    first, before, _ = alias_run(s)
    check_eq(before, [], "alias before the first run")
    second, before, mid = alias_run(s, slow=True)
    check_eq(mid, [first], "the alias while the second run loads")
    check(s.es.exists(first), "without --delete-old the previous index %s is kept" % first)
    third, before, mid = alias_run(s, "--delete-old", slow=True)
    check_eq(mid, [second], "the alias while the third run loads")
    check(not s.es.exists(second), "with --delete-old the previous index %s is gone" % second)
    check(s.es.exists(first), "an index the alias did not point to (%s) was deleted" % first)
    info("alias %s: %s -> %s -> %s" % (ALIAS, first, second, third))


# -- fast-load -----------------------------------------------------------------------

ORIG = ("2s", "1")


def fast_load_index(s):
    reset_es(s)
    create_index(s, INDEX, settings={"refresh_interval": ORIG[0], "number_of_replicas": int(ORIG[1])})


@suite.test
def fast_load_during_the_load_and_restored_after_success(s):
    its = items(s)
    fast_load_index(s)
    set_faults(s, {"latency_ms": {"ms": 100, "paths": ["/_bulk"]}})
    run = BgSync(s, sync_args(s, TABLE, INDEX, "--fast-load", "--bulk-docs", 100, "--concurrency", 1))
    try:
        run.wait_until(lambda: es_stats(s)["bulk_requests"] >= 2, timeout=60, what="two bulks")
        during = index_settings(s, INDEX)
        rc, out, err = run.wait(120)
    finally:
        run.stop()
    s.es.delete("/_test/faults")
    check_exit(rc, 0, err)
    check_eq(during, ("-1", "0"), "refresh_interval, number_of_replicas during the load")
    check_eq(index_settings(s, INDEX), ORIG, "settings after the run")
    check_index_equals(s, INDEX, its)


@suite.test
def fast_load_on_an_index_with_default_settings(s):
    items(s)
    reset_es(s)  # ddb2es creates the index from the entity's definition
    rc, out, err, _ = run_sync(s, sync_args(s, TABLE, INDEX, "--bulk-docs", 500))
    check_exit(rc, 0, err)
    before = index_settings(s, INDEX)
    rc, out, err, _ = run_sync(s, sync_args(s, TABLE, INDEX, "--fast-load", "--bulk-docs", 500))
    check_exit(rc, 0, err)
    check_eq(index_settings(s, INDEX), before, "settings after a fast load (before: %s)" % (before,))


@suite.test
def fast_load_restored_after_a_failure(s):
    items(s)
    for name, faults in (
            ("bulks refused for good", {"request_reject": {"every": 1, "after": 2, "status": 503,
                                                           "paths": ["/_bulk"]}}),
            ("connections dropped for good", {"drop_before_body": {"every": 1, "after": 2,
                                                                   "paths": ["/_bulk"]}})):
        fast_load_index(s)
        set_faults(s, faults)
        rc, out, err, doc = run_sync(s, sync_args(s, TABLE, INDEX, "--fast-load", "--bulk-docs", 100,
                                                  "--max-attempts", 2,
                                                  summary=s.path("summary-fail.json")))
        s.es.delete("/_test/faults")
        info("%s: exit %d; %s" % (name, rc, (err.strip().splitlines() or [""])[-1][:200]))
        check_exit(rc, 2, err, "%s: exit code" % name)
        check(doc and doc.get("state") == "failed", "%s: summary state %s" % (name, doc and doc.get("state")))
        check_eq(index_settings(s, INDEX), ORIG, "%s: settings after the failed run" % name)


@suite.test
def fast_load_restored_after_sigint(s):
    items(s)
    fast_load_index(s)
    set_faults(s, {"latency_ms": {"ms": 100, "paths": ["/_bulk"]}})
    run = BgSync(s, sync_args(s, TABLE, INDEX, "--fast-load", "--bulk-docs", 100, "--concurrency", 1))
    try:
        run.wait_until(lambda: es_stats(s)["bulk_requests"] >= 2, timeout=60, what="two bulks")
        during = index_settings(s, INDEX)
        run.signal(signal.SIGINT)
        rc, out, err = run.wait(120)
    finally:
        run.stop()
    s.es.delete("/_test/faults")
    check_exit(rc, 130, err)
    check_eq(during, ("-1", "0"), "settings during the load")
    check_eq(index_settings(s, INDEX), ORIG, "settings after the cancel")


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
