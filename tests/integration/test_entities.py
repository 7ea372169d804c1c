#!/usr/bin/env python3
"""Entities as data, end to end, with one DynamoDB Local and one ES test server.

- The three Hackney tables (Persons, TenureInformation, Assets), seeded with
  realistic items (every awkward variant of tests/lib/seed.py included),
  sync into indices that do not exist yet: each index is created from its
  definition in assets/indices/ (its mapping covers the definition), holds
  exactly the table's ids, and every document equals the oracle's
  (tests/lib/oracle.py), tenures without a start date included.
- An extra entity added as ONE JSON file in a directory named by the
  config's "entities_dirs" is listed by `ddb2es entities` and syncs a new
  table without a rebuild (no index definition: dynamic mapping, and preview
  says so); a document Elasticsearch refuses (nesting beyond its mapping
  depth limit) is reported with its id and the field path.
- `ddb2es preview` prints the mapped documents of the first items (ndjson
  and pretty, with the source on request), reads only what it needs, and
  `--compare` marks new / unchanged / changed after an item changed in the
  table and a document was deleted from the index, with the field diff.
- A bad entity file gives a message naming the file and the JSON path; items
  that do not fit (a list where a map is expected, ids that are not strings,
  a 350 KB attribute, 32 levels of nesting, binary data) are reported one by
  one with the id and the attribute path, counted, kept in the dead-letter
  file, never crash, and the rest of the table still syncs (exit 1).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import oracle  # noqa: E402
import seed  # noqa: E402
from harness import REPO, Services, Suite, check, check_eq, info, make_config  # noqa: E402
from synctest import (check_exit, check_index_equals, prepare_services, read_json,  # noqa: E402
                      read_json_lines, run_sync, seed_table, sync_args, tail)

suite = Suite()
state = {}

# Enough items for every awkward variant of each generator (one every 25 items, cycling).
TABLES = [  # (table, index, entity, generator, n, oracle)
    ("Persons", "persons", "persons", seed.persons, 500, oracle.persons),
    ("TenureInformation", "tenures", "tenures", seed.tenures, 400, oracle.tenures),
    ("Assets", "assets", "assets", seed.assets, 300, oracle.assets),
]


def definition(entity):
    return read_json(os.path.join(REPO, "assets", "indices", "%s.json" % entity))


def mapping_problems(want, have, path=""):
    """Fields of a definition's properties that the index's properties lack or
    type differently, and ignore_malformed where the definition sets it."""
    out = []
    for name, spec in want.items():
        p = path + name
        got = (have or {}).get(name)
        if not isinstance(got, dict):
            out.append("%s: missing" % p)
            continue
        wt, gt = spec.get("type", "object"), got.get("type", "object")
        if wt != gt:
            out.append("%s: type %s, want %s" % (p, gt, wt))
            continue
        if "ignore_malformed" in spec and str(got.get("ignore_malformed")).lower() != \
                str(spec["ignore_malformed"]).lower():
            out.append("%s: ignore_malformed %r, want %r" % (p, got.get("ignore_malformed"),
                                                              spec["ignore_malformed"]))
        for sub in ("properties", "fields"):
            if sub in spec:
                out += mapping_problems(spec[sub], got.get(sub), p + ".")
    return out


def index_mapping(s, index):
    doc = s.es.get("/%s/_mapping" % index)
    (name, body), = doc.items()
    return body["mappings"]


def sync(s, table, index, *extra, config=None, name=None):
    """Runs ddb2es sync with a summary and a dead-letter file of its own.
    Returns (rc, out, err, summary, dead letters)."""
    name = name or index
    summary = s.path("summary-%s.json" % name)
    dead = s.path("dead-%s.ndjson" % name)
    if os.path.exists(dead):
        os.unlink(dead)
    args = sync_args(s, table, index, "--dead-letter", dead, "--progress", "none", *extra,
                     summary=summary, config=config)
    t0 = time.monotonic()
    rc, out, err, doc = run_sync(s, args, timeout=300)
    info("sync %s -> %s: exit %d in %.1f s" % (table, index, rc, time.monotonic() - t0))
    return rc, out, err, doc, read_json_lines(dead)


def preview(s, *args, config=None):
    return s.run_ddb2es(["preview", "--env", "local", "--config", config or s.config_path]
                        + [str(a) for a in args], timeout=120)


def ndjson(out):
    lines = [ln for ln in out.splitlines() if ln.strip()]
    try:
        return [json.loads(ln) for ln in lines]
    except ValueError as e:
        raise AssertionError("preview --format ndjson printed a line that is not JSON (%s): %s"
                             % (e, tail(out, 600)))


def setup(s):
    if "ready" not in state:
        prepare_services(s)
        state["ready"] = True


# -- the three Hackney tables ---------------------------------------------------------


def sync_hackney_table(s, table, index, entity, gen, n, mapper):
    setup(s)
    items = seed_table(s, table, gen(n, seed=5))
    state[table] = items
    check(not s.es.exists(index), "index %s exists before the sync" % index)
    rc, out, err, doc, dead = sync(s, table, index)
    check_exit(rc, 0, err)
    check(doc is not None, "no summary; stderr: %s" % tail(err, 600))
    check_eq((doc["scanned"], doc["indexed"], doc["failed"]), (n, n, 0),
             "summary (scanned, indexed, failed)")
    check_eq(dead, [], "dead letters")
    # the index was created from the definition, not by dynamic mapping
    problems = mapping_problems(definition(entity)["mappings"]["properties"],
                                index_mapping(s, index).get("properties"))
    check(not problems, "index %s does not cover assets/indices/%s.json: %s"
          % (index, entity, "; ".join(problems[:8])))
    check_index_equals(s, index, items, mapper=mapper)


@suite.test
def sync_persons_creates_the_index_from_its_definition(s):
    sync_hackney_table(s, *TABLES[0])


@suite.test
def sync_tenures_creates_the_index_from_its_definition(s):
    sync_hackney_table(s, *TABLES[1])
    # tenures without a start date ("" in a date field) are indexed, _source as the old job wrote it
    items = state["TenureInformation"]
    empty = [i for i, it in items.items() if "startOfTenureDate" not in it]
    check(len(empty) >= 2, "the seed has %d tenures without startOfTenureDate" % len(empty))
    for _id in empty:
        got = s.es.get("/tenures/_doc/%s" % _id)
        check_eq(got["_source"]["startOfTenureDate"], "", "startOfTenureDate of %s" % _id)


@suite.test
def sync_assets_creates_the_index_from_its_definition(s):
    sync_hackney_table(s, *TABLES[2])


@suite.test
def entities_lists_the_shipped_entities(s):
    rc, out, err = s.run_ddb2es(["entities", "--config", s.config_path], timeout=60)
    check_exit(rc, 0, err)
    for entity, table in (("persons", "Persons"), ("tenures", "TenureInformation"),
                          ("assets", "Assets")):
        rows = [ln.split() for ln in out.splitlines() if ln.split()[:1] == [entity]]
        check(len(rows) == 1, "one row for %s in: %s" % (entity, out))
        check_eq(rows[0][1], table, "tables of %s" % entity)
        check(rows[0][2].endswith("assets/entities/%s.json" % entity), "file of %s: %s"
              % (entity, rows[0][2]))


# -- preview ----------------------------------------------------------------------------


@suite.test
def preview_prints_the_first_documents(s):
    items = state.get("Persons")
    check(items is not None, "needs the Persons table of the sync test")
    first = [it["id"]["S"] for it in next(s.ddb.scan_pages("Persons", limit=5))["Items"]]
    rc, out, err = preview(s, "--table", "Persons", "--limit", 5, "--format", "ndjson")
    check_exit(rc, 0, err)
    docs = ndjson(out)
    check_eq([d.get("id") for d in docs], first, "ids of the previewed documents (scan order)")
    for d in docs:
        check_eq(d, oracle.persons(items[d["id"]]), "document %s" % d["id"])
    # the summary is on stderr: one Scan request of Limit 5, and the index outcome
    check("read 5 items in 1 Scan request" in err, "summary on stderr: %s" % tail(err, 800))
    check("mapped 5, failed mapping 0" in err, "summary on stderr: %s" % tail(err, 800))
    check("index 'persons' exists and its mapping covers" in err, "index outcome: %s" % tail(err, 800))

    rc, out, err = preview(s, "--table", "Persons", "--limit", 2, "--show-source")
    check_exit(rc, 0, err)
    for i, _id in enumerate(first[:2], 1):
        check("== item %d of 2: id %s ==" % (i, _id) in out, "pretty header of %s: %s"
              % (_id, tail(out, 600)))
    check(out.count("document:\n") == 2 and out.count("source (the DynamoDB item as JSON):\n") == 2,
          "documents and sources in: %s" % tail(out, 1200))
    check('\n    "id": "%s",' % first[0] in out, "indented document: %s" % out[:600])

    # a missing target index: will be created from the definition
    rc, out, err = preview(s, "--table", "TenureInformation", "--limit", 1, "--index", "tenures-next")
    check_exit(rc, 0, err)
    check("index 'tenures-next' does not exist: it will be created from" in out
          and "indices/tenures.json" in out, "index outcome: %s" % tail(out, 600))
    check(not s.es.exists("tenures-next"), "preview created an index")
    state["first"] = first


@suite.test
def preview_compare_shows_new_unchanged_changed(s):
    first = state.get("first")
    check(first is not None, "needs preview_prints_the_first_documents")
    changed, gone = first[1], first[2]
    item = s.ddb.get_item("Persons", {"id": {"S": changed}})
    old_title = oracle.persons(item)["title"]
    item["title"] = {"S": "Changed Title"}
    item.pop("placeOfBirth", None)
    s.ddb.put_item("Persons", item)
    s.es.delete("/persons/_doc/%s?refresh=true" % gone)

    rc, out, err = preview(s, "--table", "Persons", "--limit", 5, "--format", "ndjson",
                           "--compare", "persons")
    check_exit(rc, 0, err)
    recs = {r["id"]: r for r in ndjson(out)}
    check_eq(sorted(recs), sorted(first), "ids compared")
    for _id in first:
        want = "changed" if _id == changed else "new" if _id == gone else "unchanged"
        check_eq(recs[_id].get("change"), want, "change of %s" % _id)
    old_place = oracle.persons(state["Persons"][changed])["placeOfBirth"]
    want_diff = [{"op": "changed", "path": "title", "old": old_title, "new": "Changed Title"}]
    if old_place != "":
        want_diff.append({"op": "changed", "path": "placeOfBirth", "old": old_place, "new": ""})
    check_eq(recs[changed].get("diff"), want_diff, "diff of %s" % changed)
    check("compared with index 'persons': 1 new, 3 unchanged, 1 changed" in err,
          "summary: %s" % tail(err, 600))

    rc, out, err = preview(s, "--table", "Persons", "--limit", 5, "--compare", "persons")
    check_exit(rc, 0, err)
    check("== item 2 of 5: id %s: changed ==" % changed in out, "pretty: %s" % tail(out, 800))
    check("  ~ title: %s -> \"Changed Title\"" % json.dumps(old_title, ensure_ascii=False) in out,
          "diff line: %s" % tail(out, 800))
    check("== item 3 of 5: id %s: new ==" % gone in out, "pretty: %s" % tail(out, 800))


# -- an extra entity: one JSON file -----------------------------------------------------------

ROOMS_ENTITY = {
    "name": "rooms",
    "description": "test: a table no shipped entity knows",
    "tables": ["Rooms"],
    "id": "roomId",
    "index": "rooms-index.json",
    "fields": {
        "id": {"from": "roomId"},
        "name": {"from": "name", "missing": "default", "default": ""},
        "floor": {"from": "floor", "type": "number"},
        "beds": {"from": "beds", "type": "string_list", "missing": "default", "default": []},
        "accessible": {"from": "accessible", "type": "boolean"},
        "address": {"from": "address", "type": "object",
                    "fields": {"line1": {"from": "line1"}, "postCode": {"from": "postCode"}}},
        "details": {"from": "details", "type": "raw"},
        "kind": {"const": "room"},
    },
}


def room_item(i):
    it = {"roomId": {"S": "room-%03d" % i}, "name": {"S": "Room %d" % i},
          "floor": {"N": str(i % 7)}, "accessible": {"BOOL": i % 2 == 0},
          "beds": {"SS": ["single"] if i % 3 else ["double", "single"]},
          "address": {"M": {"line1": {"S": "%d Mare Street" % i}, "postCode": {"S": "E8 1HY"}}},
          "details": {"M": {"windows": {"N": str(i % 4)}, "notes": {"L": [{"S": "note"}]}}}}
    if i % 5 == 0:
        del it["name"]
        it["address"] = {"NULL": True}
    return it


def room_doc(it):
    """The rooms entity's document, by hand."""
    addr = it["address"].get("M")
    return {"id": it["roomId"]["S"], "name": it["name"]["S"] if "name" in it else "",
            "floor": int(it["floor"]["N"]), "beds": list(it["beds"]["SS"]),
            "accessible": it["accessible"]["BOOL"],
            "address": None if addr is None else {"line1": addr["line1"]["S"],
                                                  "postCode": addr["postCode"]["S"]},
            "details": {"windows": int(it["details"]["M"]["windows"]["N"]), "notes": ["note"]},
            "kind": "room"}


@suite.test
def extra_entity_file_syncs_a_new_table_without_a_rebuild(s):
    setup(s)
    edir = s.path("extra-entities")
    os.makedirs(edir, exist_ok=True)
    with open(os.path.join(edir, "rooms.json"), "w", encoding="utf-8") as f:
        json.dump(ROOMS_ENTITY, f, indent=2)
    cfg_doc = make_config(s.ddb_endpoint, s.es_url)
    cfg_doc["entities_dirs"] = [edir]
    cfg = s.write_config(cfg_doc, "config-extra.json")

    rc, out, err = s.run_ddb2es(["entities", "--config", cfg], timeout=60)
    check_exit(rc, 0, err)
    row = [ln.split() for ln in out.splitlines() if ln.split()[:1] == ["rooms"]]
    check(row == [["rooms", "Rooms", os.path.join(edir, "rooms.json")]], "entities: %s" % out)

    s.ddb.call("CreateTable", {"TableName": "Rooms", "BillingMode": "PAY_PER_REQUEST",
                               "KeySchema": [{"AttributeName": "roomId", "KeyType": "HASH"}],
                               "AttributeDefinitions": [{"AttributeName": "roomId",
                                                         "AttributeType": "S"}]})
    s.ddb.wait_active("Rooms")
    s.ddb.batch_write("Rooms", [room_item(i) for i in range(30)])
    items = {it["roomId"]["S"]: it for it in s.ddb.scan_all("Rooms")}

    rc, out, err = preview(s, "--table", "Rooms", "--limit", 3, config=cfg)
    check_exit(rc, 0, err)
    check("there is no index definition at %s" % os.path.join(edir, "rooms-index.json") in out
          and "map their fields dynamically" in out, "preview says dynamic mapping: %s"
          % tail(out, 600))

    rc, out, err, doc, dead = sync(s, "Rooms", "rooms", config=cfg)
    check_exit(rc, 0, err)
    check_eq(doc["indexed"], 30, "rooms indexed")
    check_index_equals(s, "rooms", items, mapper=room_doc)

    # A document Elasticsearch refuses: 32 levels in a raw field exceed its mapping depth limit (20).
    deep = {"S": "bottom"}
    for _ in range(31):
        deep = {"M": {"x": deep}}
    bad = dict(room_item(100), details=deep)
    s.ddb.put_item("Rooms", bad)
    rc, out, err, doc, dead = sync(s, "Rooms", "rooms", config=cfg, name="rooms-deep")
    check_exit(rc, 1, err)
    check_eq((doc["indexed"], doc["index_failed"], doc["map_failed"]), (30, 1, 0),
             "summary (indexed, index_failed, map_failed)")
    check_eq(len(dead), 1, "dead letters")
    check_eq(dead[0].get("id"), "room-100", "dead letter id")
    reason = json.dumps(dead[0].get("error"))
    check("depth" in reason and "details.x" in reason, "the reason names the field path: %s" % reason)


# -- what does not fit ----------------------------------------------------------------------------


BAD_ENTITY = {"name": "bad", "tables": ["Bad"], "id": "id", "index": "bad-index.json",
              "fields": {"id": {"from": "id"}, "title": {"from": "title", "defualt": ""}}}


@suite.test
def bad_entity_files_are_named_with_the_json_path(s):
    setup(s)
    bdir = s.path("bad-entities")
    os.makedirs(bdir, exist_ok=True)
    path = os.path.join(bdir, "bad.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(BAD_ENTITY, f)
    cfg_doc = make_config(s.ddb_endpoint, s.es_url)
    cfg_doc["entities_dirs"] = [bdir]
    cfg = s.write_config(cfg_doc, "config-bad.json")
    for args in (["entities"], ["sync", "--env", "local", "--table", "Persons", "--index", "never"],
                 ["preview", "--env", "local", "--table", "Persons"]):
        rc, out, err = s.run_ddb2es(args + ["--config", cfg], timeout=60)
        check_exit(rc, 2, err, "exit code of %s" % args[0])
        check(path in err and "$.fields.title" in err and "defualt" in err,
              "%s: the message names the file, the JSON path and the key: %s" % (args[0], tail(err, 500)))
    check(not s.es.exists("never"), "an index was created despite the bad entity")

    with open(path, "w", encoding="utf-8") as f:
        f.write('{"name": "bad",\n  "tables": ["Bad"],\n  "id": }\n')
    rc, out, err = s.run_ddb2es(["entities", "--config", cfg], timeout=60)
    check_exit(rc, 2, err)
    check(path + ":3:" in err, "line and column of the JSON error: %s" % tail(err, 500))


def deep_value(levels):
    """An M nested `levels` deep (the S inside is level `levels`+1)."""
    v = {"S": "bottom"}
    for _ in range(levels):
        v = {"M": {"x": v}}
    return v


@suite.test
def misfit_items_are_reported_and_the_rest_syncs(s):
    setup(s)
    table, index = "PersonsMisfits", "misfits"
    s.ddb.call("CreateTable", {"TableName": table, "BillingMode": "PAY_PER_REQUEST",
                               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                               "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
    s.ddb.wait_active(table)
    good = seed.persons(40, seed=9)
    for it in good:
        it["pk"] = it["id"]

    def person(pk, **attrs):
        it = {"pk": {"S": pk}, "id": {"S": pk}, "title": {"S": "Mx"}, "surname": {"S": "Okafor"}}
        it.update(attrs)
        return it

    big = "Hackney " * (350 * 1024 // 8)  # 350 KB in a text field
    tolerated = [
        person("misfit-350kb", title={"S": big}),
        # 32 levels: tenures (1) > element (2) > uprn (3) > ... 30 levels: a map where a string
        # is expected, which the persons entity turns into null; plus an ignored 32-level attribute
        person("misfit-32-levels", tenures={"L": [{"M": {"id": {"S": "t1"}, "uprn": deep_value(29)}}]},
               reason=deep_value(31)),
        person("misfit-binary-title", title={"B": "AAECAwQ="}),
    ]
    refused = {  # pk -> (id shown in the message, attribute path)
        "misfit-list-for-map": ("misfit-list-for-map", "tenures[0]"),
        "misfit-map-for-list": ("misfit-map-for-list", "tenures"),
        "misfit-binary-types": ("misfit-binary-types", "personTypes"),
        "misfit-id-bool": (None, "id"),
        "misfit-id-map": (None, "id"),
        "misfit-id-missing": (None, "id"),
    }
    bad_items = [
        person("misfit-list-for-map", tenures={"L": [{"L": [{"S": "not a map"}]}]}),
        person("misfit-map-for-list", tenures={"M": {"id": {"S": "t1"}}}),
        person("misfit-binary-types", personTypes={"B": "AAECAwQ="}),
        dict(person("misfit-id-bool"), id={"BOOL": True}),
        dict(person("misfit-id-map"), id={"M": {"S": {"S": "x"}}}),
        {k: v for k, v in person("misfit-id-missing").items() if k != "id"},
    ]
    s.ddb.batch_write(table, good + tolerated + bad_items)
    back = {it["pk"]["S"]: it for it in s.ddb.scan_all(table)}
    check_eq(len(back), 49, "items in the table")

    rc, out, err, doc, dead = sync(s, table, index, "--entity", "persons")
    check_exit(rc, 1, err)
    check(doc is not None, "no summary; stderr: %s" % tail(err, 600))
    check_eq((doc["scanned"], doc["indexed"], doc["map_failed"], doc["index_failed"]),
             (49, 43, 6, 0), "summary (scanned, indexed, map_failed, index_failed)")
    check("6 documents failed" in err and s.path("dead-%s.ndjson" % index) in err,
          "stderr names the count and the dead-letter file: %s" % tail(err, 600))

    # one dead letter per misfit, with the item, the id (when it has one) and the path
    check_eq(len(dead), 6, "dead letters")
    by_pk = {}
    for d in dead:
        check(isinstance(d.get("item"), dict), "dead letter without the item: %s" % json.dumps(d)[:300])
        by_pk[d["item"]["pk"]["S"]] = d
    check_eq(sorted(by_pk), sorted(refused), "dead letters by pk")
    for pk, (shown_id, path) in refused.items():
        reason = by_pk[pk]["error"]["reason"]
        check(path in reason, "%s: the reason names the path %s: %s" % (pk, path, reason))
        if shown_id:
            check('"%s"' % shown_id in reason, "%s: the reason names the id: %s" % (pk, reason))
        check_eq(by_pk[pk]["error"]["type"], "mapping", "%s: error type" % pk)

    # the rest of the table is indexed, the tolerated misfits included
    expected = {it["id"]["S"]: it for pk, it in back.items() if pk not in refused}
    check_index_equals(s, index, expected, mapper=oracle.persons)
    got = s.es.get("/%s/_doc/misfit-350kb" % index)["_source"]["title"]
    check_eq(len(got), len(big), "length of the 350 KB title")

    # preview lists the misfits one by one with id and path, exit 0
    rc, out, err = preview(s, "--table", table, "--entity", "persons", "--limit", 100, "--show-source")
    check_exit(rc, 0, err)
    check("read 49 items" in out and "mapped 43, failed mapping 6" in out,
          "preview counts: %s" % tail(out, 1500))
    for pk, (shown_id, path) in refused.items():
        line = [ln for ln in out.splitlines() if ln.startswith("    not mapped: ")
                and path in ln and (shown_id is None or '"%s"' % shown_id in ln)]
        check(line, "preview names %s with its path %s: %s" % (pk, path, tail(out, 1500)))
    check("source (the DynamoDB item as JSON)" in out, "sources shown")


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
