#!/usr/bin/env python3
"""ddb2es orphans and verify against DynamoDB Local and the ES test server.

Persons: N realistic items (tests/lib/seed.py) synced with `ddb2es sync`,
then M of them deleted from the table: exactly those M ids are reported, in
every format (text, json, bulk) and with both strategies. Listing changes
nothing. Deleting: the cap refuses an oversized deletion (and a wrong, empty
table); a reviewed bulk listing is deleted later with --from, and an item
re-created since the listing, and a document re-indexed since, both
survive; every deleted id is in the audit log; --delete --yes leaves the
index equal to the table, so verify exits 0; an item changed (or added) in
the table without a sync makes verify --content (verify) name it.
A table of 21,000 keys against an index of 21,007 documents pages beyond the
10,000 result window (es8: PIT + _shard_doc; OpenSearch: PIT sorted on the
id keyword, and a scroll when the id has no keyword field), and a table with
a sort key is re-checked with consistent Queries. The guard (a protected
environment needs --confirm; the table's account must be the environment's)
stops a delete before anything happens; on a terminal, --delete asks.
One DynamoDB Local for the whole file.
"""

import json
import os
import pty
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import aws  # noqa: E402
import seed  # noqa: E402
from harness import (ESServer, Services, Suite, check, check_eq, ddb2es_bin, info,  # noqa: E402
                     make_config, run_ddb2es, tail)

N_ITEMS, M_GONE = 600, 15
TABLE, INDEX = "Persons", "persons"
BIG_TABLE, BIG_INDEX, BIG_N, BIG_EXTRA = "TenuresBig", "tenures-big", 21000, 7
suite = Suite()
state = {}




def index_body(name):
    path = os.path.join(aws.shared_dir(), "reference", "hackney", "es-index", name)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def create_simple_table(s, name, range_key=None):
    body = {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}
    if range_key:
        body["KeySchema"].append({"AttributeName": range_key, "KeyType": "RANGE"})
        body["AttributeDefinitions"].append({"AttributeName": range_key, "AttributeType": "S"})
    s.ddb.call("CreateTable", body)
    s.ddb.wait_active(name)


def orphans(s, *args, config=None, timeout=300, input=None):
    return s.run_ddb2es(["orphans", "--env", "local", "--config", config or state["config"]] + list(args),
                        timeout=timeout, input=input)


def verify(s, *args, config=None):
    return s.run_ddb2es(["verify", "--env", "local", "--config", config or state["config"]] + list(args),
                        timeout=300)


def parse_bulk(out):
    acts = [json.loads(line) for line in out.splitlines() if line.strip()]
    for a in acts:
        check_eq(list(a), ["delete"], "bulk action keys")
    return [a["delete"] for a in acts]


def audit_records():
    try:
        with open(state["audit"], encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def bulk_docs(es, index, docs, chunk=5000):
    items = list(docs.items())
    for i in range(0, len(items), chunk):
        lines = []
        for _id, src in items[i:i + chunk]:
            lines.append(json.dumps({"index": {"_index": index, "_id": _id}}))
            lines.append(json.dumps(src))
        r = es.post("/_bulk", "\n".join(lines) + "\n", ndjson=True)
        check(not r.get("errors"), "bulk load of %s had errors" % index)
    es.refresh(index)


# -- without services ----------------------------------------------------------------


@suite.test
def help_lists_both_commands():
    rc, out, err = run_ddb2es(["--help"], timeout=30)
    check_eq(rc, 0, "exit code of --help")
    check("orphans" in out and "verify" in out, "--help names orphans and verify: %r" % out[:600])
    for cmd in ("orphans", "verify"):
        rc, out, err = run_ddb2es([cmd, "--help"], timeout=30)
        check_eq(rc, 0, "exit code of %s --help" % cmd)
        check("--index" in out, "%s --help documents --index" % cmd)
    rc, out, err = run_ddb2es(["orphans", "--table", "T", "--index", "i", "--yes"], timeout=30)
    check_eq(rc, 2, "--yes without --delete (stderr %s)" % tail(err, 300))
    rc, out, err = run_ddb2es(["orphans", "--table", "T", "--index", "i", "--format", "xml"], timeout=30)
    check_eq(rc, 2, "--format xml")


# -- Persons: N synced, M deleted from the table ----------------------------------------


@suite.test
def setup_sync_and_delete_m(s):
    state["audit"] = s.path("audit.jsonl")
    cfg = make_config(s.ddb_endpoint, s.es_url)
    cfg["audit_log"] = state["audit"]
    state["config"] = s.write_config(cfg, "orphans.json")
    s.ddb.create_table(TABLE)
    items = seed.persons(N_ITEMS, seed=7)
    s.ddb.batch_write(TABLE, items)
    s.es.put("/" + INDEX, index_body("personIndex.json"))
    t0 = time.monotonic()
    rc, out, err = s.run_ddb2es(["sync", "--env", "local", "--table", TABLE, "--index", INDEX,
                                 "--config", state["config"], "--progress", "none"], timeout=300)
    info("sync of %d persons: %.2f s" % (N_ITEMS, time.monotonic() - t0))
    check_eq(rc, 0, "sync exit code (stderr %s)" % tail(err))
    s.es.refresh(INDEX)
    check_eq(s.es.count(INDEX), N_ITEMS, "documents after the sync")
    ids = sorted(it["id"]["S"] for it in items)
    gone = ids[::N_ITEMS // M_GONE][:M_GONE]
    state["items"] = {it["id"]["S"]: it for it in items}
    for _id in gone:
        s.ddb.delete_item(TABLE, {"id": {"S": _id}})
    state["gone"] = set(gone)
    check_eq(len(state["gone"]), M_GONE, "distinct deleted ids")


@suite.test
def text_lists_exactly_the_deleted_ids_with_both_strategies(s):
    for strategy in ("a", "b"):
        t0 = time.monotonic()
        rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--strategy", strategy)
        info("orphans --strategy %s: %.2f s; %s" % (strategy, time.monotonic() - t0,
                                                     err.strip().splitlines()[-1:]))
        check_eq(rc, 0, "exit code (strategy %s, stderr %s)" % (strategy, tail(err)))
        got = out.split()
        check_eq(len(got), len(set(got)), "no id twice (strategy %s)" % strategy)
        check_eq(set(got), state["gone"], "orphans (strategy %s)" % strategy)
        check("strategy %s" % strategy in err, "the summary names strategy %s: %r" % (strategy, tail(err, 300)))
    check_eq(s.es.count(INDEX), N_ITEMS, "documents after listing: listing changes nothing")


@suite.test
def auto_strategy_picks_a_for_a_full_index(s):
    rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--progress", "json")
    check_eq(rc, 0, "exit code (stderr %s)" % tail(err))
    check_eq(set(out.split()), state["gone"], "orphans (auto)")
    check("strategy a" in err, "an index as big as its table is read with strategy a: %r" % tail(err, 300))
    progress = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
    check(progress, "--progress json prints JSON lines")
    last = progress[-1]
    check_eq((last["keys_scanned"], last["ids_checked"], last["orphans"]),
             (N_ITEMS - M_GONE, N_ITEMS, M_GONE), "final progress counters")
    check(0 < last["set_bytes"] <= 64 * last["set_ids"] + 4096,
          "set memory %d for %d ids" % (last["set_bytes"], last["set_ids"]))


@suite.test
def json_and_bulk_formats_carry_sequence_numbers(s):
    for strategy in ("a", "b"):
        rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--strategy", strategy,
                               "--format", "json", "--with-source")
        check_eq(rc, 0, "json exit code (stderr %s)" % tail(err))
        arr = json.loads(out)
        check_eq({e["id"] for e in arr}, state["gone"], "json ids (strategy %s)" % strategy)
        for e in arr:
            check(type(e["seq_no"]) is int and e["seq_no"] >= 0, "seq_no %r" % e)
            check(type(e["primary_term"]) is int and e["primary_term"] >= 1, "primary_term %r" % e)
            doc = s.es.get("/%s/_doc/%s" % (INDEX, e["id"]))
            check_eq(e["_source"], doc["_source"], "the _source of %s" % e["id"])
            check_eq(e["seq_no"], doc["_seq_no"], "the seq_no of %s" % e["id"])
        rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--strategy", strategy,
                               "--format", "bulk")
        check_eq(rc, 0, "bulk exit code (stderr %s)" % tail(err))
        acts = parse_bulk(out)
        check_eq({a["_id"] for a in acts}, state["gone"], "bulk ids (strategy %s)" % strategy)
        for a in acts:
            check_eq(a["_index"], INDEX, "bulk _index")
            check(type(a["if_seq_no"]) is int and type(a["if_primary_term"]) is int,
                  "bulk action carries if_seq_no/if_primary_term: %r" % a)
    rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--format", "json")
    check("_source" not in out, "json without --with-source has no _source")
    check_eq(s.es.count(INDEX), N_ITEMS, "documents after listing")


@suite.test
def cap_refuses_an_oversized_deletion(s):
    before = s.es.count(INDEX)
    rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--delete", "--yes",
                           "--max-delete-percent", "1")
    check_eq(rc, 3, "exit code of a deletion over the cap (stderr %s)" % tail(err))
    check("max-delete-percent" in err, "the refusal says how to raise the cap: %r" % tail(err, 400))
    check_eq(s.es.count(INDEX), before, "nothing deleted")
    # a wrong (empty) table: every document looks orphaned; the default cap refuses
    create_simple_table(s, "PersonsEmpty")
    rc, out, err = orphans(s, "--table", "PersonsEmpty", "--entity", "persons", "--index", INDEX,
                           "--delete", "--yes")
    check_eq(rc, 3, "exit code with an empty table (stderr %s)" % tail(err))
    check_eq(s.es.count(INDEX), before, "nothing deleted")
    # an index that does not exist is an error naming it, not an empty listing
    rc, out, err = orphans(s, "--table", TABLE, "--index", "no-such-index")
    check_eq(rc, 2, "exit code for a missing index (stderr %s)" % tail(err, 300))
    check("no-such-index" in err and out == "", "the error names the index: %r" % tail(err, 300))
    # and without a terminal, --delete needs --yes
    rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--delete")
    check_eq(rc, 2, "--delete without --yes and without a terminal (stderr %s)" % tail(err, 300))
    # a plain id list cannot be deleted from
    path = s.path("ids.txt")
    with open(path, "w") as f:
        f.write("\n".join(sorted(state["gone"])) + "\n")
    rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--delete", "--yes", "--from", path)
    check_eq(rc, 2, "--from a text list (stderr %s)" % tail(err, 300))
    check_eq(s.es.count(INDEX), before, "nothing deleted")


@suite.test
def reviewed_listing_deleted_later_keeps_what_changed(s):
    rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--format", "bulk")
    check_eq(rc, 0, "listing exit code (stderr %s)" % tail(err))
    path = s.path("reviewed.ndjson")
    with open(path, "w") as f:
        f.write(out)
    gone = sorted(state["gone"])
    back, changed = gone[0], gone[1]
    # between listing and deletion: an item comes back, a document is re-indexed
    s.ddb.put_item(TABLE, state["items"][back])
    doc = s.es.get("/%s/_doc/%s" % (INDEX, changed))["_source"]
    doc["firstName"] = "Re-indexed"
    s.es.put("/%s/_doc/%s?refresh=true" % (INDEX, changed), doc)
    n_audit = len(audit_records())
    rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--delete", "--yes", "--from", path)
    check_eq(rc, 0, "delete exit code (stderr %s)" % tail(err))
    check("deleted %d," % (M_GONE - 2) in err, "summary: %r" % tail(err, 500))
    check("came back 1," in err and "changed 1," in err, "summary: %r" % tail(err, 500))
    s.es.refresh(INDEX)
    check_eq(s.es.count(INDEX), N_ITEMS - (M_GONE - 2), "documents after deleting")
    check_eq(s.es.request("GET", "/%s/_doc/%s" % (INDEX, back))[0], 200, "the re-created item's document")
    check_eq(s.es.get("/%s/_doc/%s" % (INDEX, changed))["_source"]["firstName"], "Re-indexed",
             "the re-indexed document")
    for _id in gone[2:]:
        check_eq(s.es.request("GET", "/%s/_doc/%s" % (INDEX, _id))[0], 404, "deleted document %s" % _id)
    recs = audit_records()[n_audit:]
    deleted = [i for r in recs for i in r.get("deleted", [])]
    check_eq(sorted(deleted), gone[2:], "deleted ids in the audit log")
    check_eq([i for r in recs for i in r.get("kept_came_back", [])], [back], "audit: came back")
    check_eq([i for r in recs for i in r.get("kept_changed", [])], [changed], "audit: changed")
    check(all(r.get("environment") == "local" and r.get("index") == INDEX for r in recs),
          "audit records name the environment and index: %r" % recs[:2])
    state["gone"] = {changed}  # its item is still absent: still an orphan


@suite.test
def delete_yes_leaves_index_equal_and_verify_exits_0(s):
    rc, out, err = verify(s, "--table", TABLE, "--index", INDEX)
    check_eq(rc, 1, "verify before (stderr %s)" % tail(err))
    check(sorted(state["gone"])[0] in out, "verify names the orphan: %r" % tail(out, 500))
    rc, out, err = orphans(s, "--table", TABLE, "--index", INDEX, "--delete", "--yes")
    check_eq(rc, 0, "orphans --delete --yes (stderr %s)" % tail(err))
    check_eq(out.split(), sorted(state["gone"]), "what it listed")
    check("deleted 1," in err, "summary: %r" % tail(err, 400))
    rc, out, err = verify(s, "--table", TABLE, "--index", INDEX)
    check_eq(rc, 0, "verify after (stdout %s, stderr %s)" % (tail(out, 500), tail(err)))
    check(out.startswith("equal"), "verify says equal: %r" % out[:300])
    rc, out, err = verify(s, "--table", TABLE, "--index", INDEX, "--content", "--format", "json",
                          "--segments", "3")
    check_eq(rc, 0, "verify --content after (stdout %s, stderr %s)" % (tail(out, 800), tail(err)))
    rep = json.loads(out)
    check(rep["equal"] is True and rep["compared"] == rep["table_items"] > 0, "report %r" % rep)


@suite.test
def verify_names_changed_missing_and_orphan_ids(s):
    ids = sorted(state["items"])
    changed = ids[5]
    item = dict(state["items"][changed])
    item["firstName"] = {"S": "Changed Without Sync"}
    s.ddb.put_item(TABLE, item)
    added = dict(state["items"][ids[6]])
    added["id"] = {"S": str(uuid.UUID(int=12345))}
    s.ddb.put_item(TABLE, added)
    rc, out, err = verify(s, "--table", TABLE, "--index", INDEX, "--content", "--segments", "4")
    check_eq(rc, 1, "verify --content (stderr %s)" % tail(err))
    check("%s: firstname" % changed in out, "verify --content names the changed item and field: %r"
          % tail(out, 800))
    check("missing from the index: 1" in out and added["id"]["S"] in out,
          "verify names the item missing from the index: %r" % tail(out, 800))
    rc, out, err = verify(s, "--table", TABLE, "--index", INDEX, "--format", "json")
    check_eq(rc, 1, "verify without --content (stderr %s)" % tail(err))
    rep = json.loads(out)
    check_eq((rep["missing"]["count"], rep["missing"]["first"], rep["orphans"]["count"]),
             (1, [added["id"]["S"]], 0), "verify ids only")
    s.ddb.delete_item(TABLE, {"id": added["id"]})
    s.ddb.put_item(TABLE, state["items"][changed])
    rc, out, err = verify(s, "--table", TABLE, "--index", INDEX, "--content")
    check_eq(rc, 0, "verify --content once restored (stdout %s)" % tail(out, 600))


# -- beyond the 10,000 result window ----------------------------------------------------


@suite.test
def big_index_pages_beyond_the_result_window(s):
    create_simple_table(s, BIG_TABLE)
    ids = [str(uuid.UUID(int=(i * 7919) << 64 | i)) for i in range(BIG_N)]
    t0 = time.monotonic()
    s.ddb.batch_write(BIG_TABLE, [{"id": {"S": i}, "tenure": {"S": "x"}} for i in ids])
    extra = ["extra-%d" % i for i in range(BIG_EXTRA)]
    s.es.put("/" + BIG_INDEX, index_body("tenureIndex.json"))
    bulk_docs(s.es, BIG_INDEX, {i: {"id": i} for i in ids + extra})
    info("loading %d items and %d documents: %.1f s" % (BIG_N, BIG_N + BIG_EXTRA, time.monotonic() - t0))
    state["big_ids"], state["big_extra"] = ids, extra
    for strategy, extra_args in (("a", ["--segments", "4"]), ("a", []), ("b", [])):
        t0 = time.monotonic()
        rc, out, err = orphans(s, "--table", BIG_TABLE, "--entity", "tenures", "--index", BIG_INDEX,
                               "--strategy", strategy, *extra_args)
        info("orphans of %d documents, strategy %s: %.2f s; %s" % (BIG_N + BIG_EXTRA, strategy,
             time.monotonic() - t0, err.strip().splitlines()[-1:]))
        check_eq(rc, 0, "exit code (strategy %s, stderr %s)" % (strategy, tail(err)))
        check_eq(sorted(out.split()), sorted(extra), "orphans of the big index (strategy %s)" % strategy)
        check("pit+search_after" in err, "es8 pages with a point in time: %r" % tail(err, 300))


def other_flavour(s, flavour, method):
    with ESServer(flavour, workdir=s.path(flavour)) as es:
        cfg = make_config(s.ddb_endpoint, es.url)
        path = s.write_config(cfg, "%s.json" % flavour)
        es.client.put("/" + BIG_INDEX, index_body("tenureIndex.json"))
        bulk_docs(es.client, BIG_INDEX, {i: {"id": i} for i in state["big_ids"] + state["big_extra"]})
        rc, out, err = orphans(s, "--table", BIG_TABLE, "--entity", "tenures", "--index", BIG_INDEX,
                               config=path)
        info("%s: %s" % (flavour, err.strip().splitlines()[-1:]))
        check_eq(rc, 0, "exit code on %s (stderr %s)" % (flavour, tail(err)))
        check_eq(sorted(out.split()), sorted(state["big_extra"]), "orphans on %s" % flavour)
        check(method in err, "%s pages with %s: %r" % (flavour, method, tail(err, 300)))
        # an id mapped as text only cannot be sorted on: the scan falls back to a scroll
        es.client.put("/ids-text", {"mappings": {"properties": {"id": {"type": "text"}}}})
        some = state["big_ids"][:6000 - BIG_EXTRA] + state["big_extra"]
        bulk_docs(es.client, "ids-text", {i: {"id": i} for i in some})
        rc, out, err = orphans(s, "--table", BIG_TABLE, "--entity", "tenures", "--index", "ids-text",
                               config=path)
        check_eq(rc, 0, "exit code on %s, id as text (stderr %s)" % (flavour, tail(err)))
        check_eq(sorted(out.split()), sorted(state["big_extra"]), "orphans on %s, id as text" % flavour)
        check("scroll" in err, "%s pages with a scroll when the id is text: %r" % (flavour, tail(err, 300)))


@suite.test
def opensearch_pit_sorted_on_the_id_keyword(s):
    os.makedirs(s.path("opensearch"), exist_ok=True)
    other_flavour(s, "opensearch", "pit+search_after")


@suite.test
def sort_key_table_is_rechecked_with_queries(s):
    create_simple_table(s, "Notes", range_key="ts")
    keep = ["note-%02d" % i for i in range(10)]
    for i in keep:
        for ts in ("a", "b"):
            s.ddb.put_item("Notes", {"id": {"S": i}, "ts": {"S": ts}})
    orphan_ids = ["note-x%d" % i for i in range(2)]
    s.es.put("/notes", {"mappings": {"properties": {"id": {"type": "keyword"}}}})
    bulk_docs(s.es, "notes", {i: {"id": i} for i in keep + orphan_ids})
    rc, out, err = orphans(s, "--table", "Notes", "--entity", "tenures", "--index", "notes", "--strategy", "b")
    check_eq(rc, 2, "strategy b on a table with a sort key is refused (stderr %s)" % tail(err, 300))
    rc, out, err = orphans(s, "--table", "Notes", "--entity", "tenures", "--index", "notes", "--format", "bulk")
    check_eq(rc, 0, "listing (stderr %s)" % tail(err))
    path = s.path("notes.ndjson")
    with open(path, "w") as f:
        f.write(out)
    check_eq({a["_id"] for a in parse_bulk(out)}, set(orphan_ids), "orphans of the sort-key table")
    s.ddb.put_item("Notes", {"id": {"S": orphan_ids[0]}, "ts": {"S": "z"}})  # comes back
    # the guard first: a protected environment needs --confirm, and the table's account must be the env's
    cfg = make_config(s.ddb_endpoint, s.es_url, protected=True)
    cfg["audit_log"] = state["audit"]
    protected = s.write_config(cfg, "protected.json")
    cfg2 = json.loads(json.dumps(cfg))
    cfg2["environments"]["local"]["account_id"] = "123456789012"
    other_account = s.write_config(cfg2, "other-account.json")
    args = ["--table", "Notes", "--entity", "tenures", "--index", "notes", "--delete", "--yes", "--from", path,
            "--max-delete-percent", "50"]
    rc, out, err = orphans(s, *args, config=protected)
    check_eq(rc, 3, "a protected environment without --confirm (stderr %s)" % tail(err, 300))
    rc, out, err = orphans(s, *args, "--confirm", "local", config=other_account)
    check_eq(rc, 3, "a table of another account (stderr %s)" % tail(err, 300))
    check("123456789012" in err, "the refusal names the account: %r" % tail(err, 300))
    check_eq(s.es.count("notes"), len(keep) + len(orphan_ids), "nothing deleted by refused runs")
    rc, out, err = orphans(s, *args, "--confirm", "local", config=protected)
    check_eq(rc, 0, "delete (stderr %s)" % tail(err))
    check("deleted 1," in err and "came back 1," in err, "summary %r" % tail(err, 400))


@suite.test
def delete_asks_on_a_terminal(s):
    s.es.put("/asked", {"mappings": {"properties": {"id": {"type": "keyword"}}}})
    ids = sorted(it["id"]["S"] for it in s.ddb.scan_all(TABLE, ProjectionExpression="id"))
    bulk_docs(s.es, "asked", dict({i: {"id": i} for i in ids}, **{"asked-orphan": {"id": "asked-orphan"}}))
    args = ["orphans", "--env", "local", "--config", state["config"], "--table", TABLE, "--index", "asked",
            "--delete", "--progress", "none"]
    for answer, want_rc, want_count in (("no\n", 130, len(ids) + 1), ("yes\n", 0, len(ids))):
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([ddb2es_bin()] + args, stdin=slave, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=s.env, start_new_session=True)
            os.write(master, answer.encode())
            out, err = proc.communicate(timeout=120)
        finally:
            os.close(master)
            os.close(slave)
        err = err.decode("utf-8", "replace")
        check_eq(proc.returncode, want_rc, "answering %r (stderr %s)" % (answer, tail(err, 400)))
        check("Type yes" in err, "it asked: %r" % tail(err, 400))
        s.es.refresh("asked")
        check_eq(s.es.count("asked"), want_count, "documents after answering %r" % answer)


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
