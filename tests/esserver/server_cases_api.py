"""Direct tests of the test server (run by test_server.py): the root body, index management,
_cat, HTTP strictness (unknown parameters, media types, gzip, chunked bodies, Expect), _bulk,
mapping enforcement, versions and near-real-time visibility, checked against the reference
examples in /work/shared/reference/elasticsearch/ where they exist."""

import gzip
import json
import os
import socket
import time

from server_testlib import REF, test, ref, eq, err_type, assert_error


# ---------------------------------------------------------------------------------------
# info and index management

@test("es7")
def root_es7(c, srv):
    r = c.req("GET", "/")
    eq(r.status, 200)
    eq(r.json, ref("root-es-7.10.json"), "body")
    eq(r.headers.get("content-type"), "application/json; charset=UTF-8")
    assert "x-elastic-product" not in r.headers


@test("es8")
def root_es8(c, srv):
    r = c.req("GET", "/")
    eq(r.json, ref("root-es-8.12.json"), "body")
    eq(r.headers.get("x-elastic-product"), "Elasticsearch")


@test("opensearch")
def root_opensearch(c, srv):
    eq(c.req("GET", "/").json, ref("root-opensearch-2.13.json"), "body")
    eq(c.req("HEAD", "/").status, 200)


@test()
def index_name_validation(c, srv):
    chars = "[ , \", *, \\, <, |, ,, >, /, ?]"
    for name, reason in [("Persons", "must be lowercase"), ("_x", "must not start with '_', '-', or '+'"),
                         ("-x", "must not start with '_', '-', or '+'"), ("+x", "must not start with '_', '-', or '+'"),
                         ("a*b", "must not contain the following characters " + chars),
                         ("a%3Fb", "must not contain the following characters " + chars),
                         ("a%23b", "must not contain '#'"), ("a:b", "must not contain ':'"),
                         ("..", "must not be '.' or '..'"), ("a" * 256, "index name is too long, (256 > 255)")]:
        r = c.req("PUT", "/" + name)
        shown = name.replace("%3F", "?").replace("%23", "#")
        assert_error(r, 400, "invalid_index_name_exception", "Invalid index name [%s], %s" % (shown, reason))
        eq(r.json["error"]["index"], shown, "error.index")
        eq(r.json["error"]["index_uuid"], "_na_", "error.index_uuid")


@test()
def create_get_delete_index(c, srv):
    body = json.load(open("/work/shared/reference/hackney/es-index/personIndex.json"))
    r = c.req("PUT", "/persons", body)
    eq(r.json, {"acknowledged": True, "shards_acknowledged": True, "index": "persons"})
    eq(c.req("HEAD", "/persons").status, 200)
    eq(c.req("HEAD", "/persons").raw, b"")
    eq(c.req("HEAD", "/nope").status, 404)
    r = c.req("PUT", "/persons", body)
    assert_error(r, 400, "resource_already_exists_exception")
    uuid = r.json["error"]["index_uuid"]
    eq(r.json["error"]["reason"], "index [persons/%s] already exists" % uuid)
    shape = ref("error-resource-already-exists.json")
    eq(sorted(r.json["error"]), sorted(shape["error"]), "error keys")
    g = c.req("GET", "/persons").json["persons"]
    eq(g["mappings"]["properties"]["tenures"]["type"], "nested")
    eq(g["settings"]["index"]["number_of_shards"], "1")
    eq(g["settings"]["index"]["number_of_replicas"], "1")
    assert_error(c.req("DELETE", "/nope"), 404, "index_not_found_exception", "no such index [nope]")
    eq(c.req("DELETE", "/persons").json, {"acknowledged": True})
    eq(c.req("HEAD", "/persons").status, 404)


@test()
def index_not_found_body(c, srv):
    r = c.req("GET", "/students1/_search")
    eq(r.status, 404)
    eq(r.json, ref("error-index-not-found.json"), "body")


@test()
def settings_are_strings(c, srv):
    c.req("PUT", "/s", {"settings": {"number_of_replicas": 0, "refresh_interval": -1}})
    s = c.req("GET", "/s/_settings").json["s"]["settings"]["index"]
    eq(s["number_of_replicas"], "0")
    eq(s["refresh_interval"], "-1")
    eq(c.req("PUT", "/s/_settings", {"index": {"refresh_interval": "5s", "number_of_replicas": 1}}).status, 200)
    s = c.req("GET", "/s/_settings?flat_settings=true").json["s"]["settings"]
    eq(s["index.refresh_interval"], "5s")
    eq(s["index.number_of_replicas"], "1")
    assert_error(c.req("PUT", "/s/_settings", {"index": {"number_of_shards": 3}}), 400, "illegal_argument_exception",
                 "final index setting [index.number_of_shards], not updateable")
    r = c.req("PUT", "/t", {"settings": {"foo": 1}})
    assert_error(r, 400, "illegal_argument_exception")
    assert r.json["error"]["reason"].startswith("unknown setting [index.foo]")
    assert_error(c.req("PUT", "/t", {"settings": {"number_of_shards": 0}}), 400, "illegal_argument_exception")


@test()
def cat_indices_and_health(c, srv):
    c.req("PUT", "/green1", {"settings": {"number_of_replicas": 0}})
    eq(c.req("GET", "/_cluster/health").json["status"], "green")
    c.req("PUT", "/yellow1")
    h = c.req("GET", "/_cluster/health").json
    eq(h["status"], "yellow")
    eq(h["number_of_nodes"], 1)
    eq(h["unassigned_shards"], 1)
    r = c.req("GET", "/_cluster/health?wait_for_status=green&timeout=100ms")
    eq(r.status, 408)
    eq(r.json["timed_out"], True)
    rows = c.req("GET", "/_cat/indices?format=json").json
    eq([x["index"] for x in rows], ["green1", "yellow1"])
    for row in rows:
        assert all(isinstance(v, str) for v in row.values()), row
    eq(rows[0]["health"], "green")
    eq(rows[1]["health"], "yellow")
    eq(sorted(rows[0]), sorted(ref("cat-indices.opensearch.json")[0]), "columns")
    txt = c.req("GET", "/_cat/indices?v&s=index:desc").raw.decode()
    lines = txt.splitlines()
    assert lines[0].split()[:3] == ["health", "status", "index"], lines
    assert lines[1].split()[2] == "yellow1", lines


@test()
def cat_headers_and_accept(c, srv):
    c.req("PUT", "/ci", {"settings": {"number_of_replicas": 0}})
    eq(c.req("GET", "/_cat/indices?h=i,dc,bogus&format=json").json, [{"i": "ci", "dc": "0"}])
    r = c.req("GET", "/_cat/indices?h=i,dc", headers={"Accept": "application/json"})
    eq(r.json, [{"i": "ci", "dc": "0"}])
    eq(c.req("GET", "/_cat/indices?h=index,health&v").raw.decode(), "index health\nci    green\n")
    eq(c.req("GET", "/_cat/indices?h=index,docs.count&v").raw.decode(), "index docs.count\nci             0\n")


@test("es8")
def cat_indices_es8_columns(c, srv):
    c.req("PUT", "/a1")
    eq(sorted(c.req("GET", "/_cat/indices?format=json").json[0]), sorted(ref("cat-indices.es8.json")[0]))


# ---------------------------------------------------------------------------------------
# HTTP strictness

@test()
def transport_errors(c, srv):
    r = c.req("GET", "/_search?foo=1")
    assert_error(r, 400, "illegal_argument_exception", "request [/_search] contains unrecognized parameter: [foo]")
    r = c.req("GET", "/_search?szie=1")
    eq(r.json["error"]["reason"], "request [/_search] contains unrecognized parameter: [szie] -> did you mean [size]?")
    r = c.req("GET", "/a/b/c/d")
    eq((r.status, r.json), (400, {"error": "no handler found for uri [/a/b/c/d] and method [GET]"}))
    r = c.req("POST", "/_cluster/health")
    eq(r.status, 405)
    eq(r.json, {"error": "Incorrect HTTP method for uri [/_cluster/health] and method [POST], allowed: [GET]",
                "status": 405})
    eq(r.headers.get("allow"), "GET")
    r = c.req("POST", "/x/_doc", b'{"a":1}', ctype="text/plain")
    eq((r.status, r.json), (406, {"error": "Content-Type header [text/plain] is not supported", "status": 406}))
    r = c.req("POST", "/x/_doc", b'{"a":1}', ctype=None)
    eq((r.status, r.json), (406, {"error": "Content-Type header is missing", "status": 406}))
    r = c.req("PUT", "/x", b'{"settings": ', ctype="application/json")
    eq(r.status, 400)
    eq(err_type(r), "json_parse_exception")
    r = c.req("PUT", "/x/_doc/1", b'{"a": 1, "a": 2}')
    eq(r.status, 400)
    eq(r.json["error"]["caused_by"]["reason"], "Duplicate field 'a'")
    r = c.req("GET", "/?pretty")
    assert r.raw.startswith(b'{\n  "name" : '), r.raw[:40]
    r = c.req("GET", "/?filter_path=version.number,tagline")
    eq(r.json, {"version": {"number": "2.13.0"}, "tagline": "The OpenSearch Project: https://opensearch.org/"})


@test()
def gzip_chunked_expect(c, srv):
    body = gzip.compress(b'{"a": 1}')
    r = c.req("PUT", "/g/_doc/1", body, headers={"Content-Encoding": "gzip"})
    eq(r.status, 201)
    s = socket.create_connection(("127.0.0.1", srv.port))
    f = s.makefile("rb")
    s.sendall(b"PUT /g/_doc/2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n4\r\n: 2}\r\n0\r\n\r\n")
    status, body = _read_response(f)
    eq(status, 201)
    s.sendall(b"PUT /g/_doc/3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8\r\n"
              b"Expect: 100-continue\r\n\r\n")
    eq(f.readline(), b"HTTP/1.1 100 Continue\r\n")
    eq(f.readline(), b"\r\n")
    s.sendall(b'{"a": 3}')
    status, body = _read_response(f)
    eq(status, 201)
    f.close()
    s.close()
    eq(c.req("GET", "/g/_doc/2").json["_source"], {"a": 2})
    r = c.req("GET", "/g/_doc/1", headers={"Accept-Encoding": "gzip"})
    eq(r.headers.get("content-encoding"), "gzip")
    eq(json.loads(gzip.decompress(r.raw))["_source"], {"a": 1})


def _read_response(f):
    status = int(f.readline().split()[1])
    n = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    return status, f.read(n)


@test("es8")
def compat_headers_es8(c, srv):
    v8 = "application/vnd.elasticsearch+json; compatible-with=8"
    r = c.req("PUT", "/x", {}, ctype=v8, headers={"Accept": v8})
    eq(r.status, 200)
    eq(r.headers.get("content-type"), "application/vnd.elasticsearch+json;compatible-with=8")
    v7 = "application/vnd.elasticsearch+json; compatible-with=7"
    eq(c.req("GET", "/x", headers={"Accept": v7}).status, 200)
    v9 = "application/vnd.elasticsearch+json; compatible-with=9"
    r = c.req("PUT", "/y", {}, ctype=v9, headers={"Accept": v9})
    assert_error(r, 400, "media_type_header_exception", "Invalid media-type value on headers [Accept, Content-Type]")
    eq(r.json["error"]["caused_by"]["reason"],
       "Accept version must be either version 8 or 7, but found 9. Accept=" + v9)
    eq(r.headers.get("x-elastic-product"), "Elasticsearch")
    r = c.req("PUT", "/y", {}, ctype=v8, headers={"Accept": v7})
    assert "must match" in r.json["error"]["caused_by"]["reason"], r


@test("opensearch")
def vendor_types_unknown_to_opensearch(c, srv):
    v = "application/vnd.elasticsearch+json; compatible-with=7"
    r = c.req("PUT", "/x", {}, ctype=v)
    eq((r.status, r.json["error"]), (406, "Content-Type header [%s] is not supported" % v))


# ---------------------------------------------------------------------------------------
# bulk

@test()
def bulk_reference_response(c, srv):
    """The reference request answered like the reference response: created, updated (an
    index over an existing id), 429 (a fault on the 3rd item), 400 mapper_parsing_exception."""
    c.req("PUT", "/assets", json.load(open("/work/shared/reference/hackney/es-index/assetIndex.json")))
    c.req("PUT", "/tenures/_doc/830a2845-6dc1-4140-80f4-6a61579f9544", {"id": "old"})
    srv.set_faults({"bulk_item_reject": {"every": 3, "times": 1}})
    data = open(os.path.join(REF, "bulk-request.ndjson"), "rb").read()
    r = c.req("POST", "/_bulk", data, "application/x-ndjson")
    want = ref("bulk-response-errors.json")
    eq(r.status, 200)
    got = r.json
    assert isinstance(got["took"], int)
    eq(got["errors"], True)
    for i, (g, w) in enumerate(zip(got["items"], want["items"])):
        g, w = g["index"], w["index"]
        for k in w:
            if k in ("_shards", "_seq_no"):
                continue
            eq(g.get(k), w[k], "item %d %s" % (i, k))
        eq(sorted(g), sorted(w), "item %d keys" % i)
    eq(got["items"][0]["index"]["_shards"], {"total": 2, "successful": 1, "failed": 0})


@test("es7")
def bulk_es7_type(c, srv):
    data = open(os.path.join(REF, "bulk-request.ndjson"), "rb").read()
    r = c.req("POST", "/_bulk", data, "application/x-ndjson")
    want = ref("bulk-response-errors.es7.json")
    for g, w in zip(r.json["items"], want["items"]):
        eq(g["index"]["_type"], "_doc")
    r = c.bulk([{"index": {"_index": "t", "_type": "_doc", "_id": "1"}}, {"a": 1}])
    eq(r.json["items"][0]["index"]["status"], 201)


@test("es8")
def bulk_es8_rejects_type(c, srv):
    r = c.bulk([{"index": {"_index": "t", "_type": "_doc", "_id": "1"}}, {"a": 1}])
    assert_error(r, 400, "illegal_argument_exception", "Action/metadata line [1] contains an unknown parameter [_type]")


@test()
def bulk_format_errors(c, srv):
    r = c.req("POST", "/_bulk", b'{"index":{"_index":"a"}}\n{"a":1}', "application/x-ndjson")
    assert_error(r, 400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
    r = c.req("POST", "/_bulk", b'{"index":{"_index":"a"}}\n{"a":1}\n', "text/plain")
    eq(r.status, 406)
    eq(c.req("POST", "/_bulk", b'{"index":{"_index":"a"}}\n{"a":1}\n', "application/json").status, 200)
    assert_error(c.req("POST", "/_bulk", b"", "application/x-ndjson"), 400, "parse_exception", "request body is required")
    assert_error(c.bulk([{"foo": {"_index": "a"}}, {}]), 400, "illegal_argument_exception",
                 "Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [foo]")
    assert_error(c.bulk([{"index": {"_index": "a", "bogus": 1}}, {}]), 400, "illegal_argument_exception",
                 "Action/metadata line [1] contains an unknown parameter [bogus]")
    assert_error(c.bulk(["[1]"]), 400, "illegal_argument_exception",
                 "Malformed action/metadata line [1], expected START_OBJECT but found [START_ARRAY]")
    assert_error(c.bulk([{"index": {}}, {"a": 1}]), 400, "action_request_validation_exception",
                 "Validation Failed: 1: index is missing;")
    assert_error(c.bulk([{"create": {"_index": "a", "_id": "1", "version_type": "external", "version": 3}}, {"a": 1}]),
                 400, "action_request_validation_exception",
                 "Validation Failed: 1: create operations only support internal versioning. use index instead;")


@test()
def bulk_actions(c, srv):
    r = c.bulk([{"index": {"_index": "b", "_id": "1"}}, {"n": 1},
                {"create": {"_index": "b", "_id": "1"}}, {"n": 2},
                {"update": {"_index": "b", "_id": "1"}}, {"doc": {"m": 1}},
                {"update": {"_index": "b", "_id": "1"}}, {"doc": {"m": 1}},
                {"update": {"_index": "b", "_id": "9"}}, {"doc": {"m": 1}},
                {"update": {"_index": "b", "_id": "8"}}, {"doc": {"m": 1}, "doc_as_upsert": True},
                {"delete": {"_index": "b", "_id": "1"}},
                {"delete": {"_index": "b", "_id": "1"}},
                {"index": {"_index": "b"}}, {"n": 3}])
    items = r.json["items"]
    eq(r.json["errors"], True)
    eq([list(i)[0] for i in items], ["index", "create", "update", "update", "update", "update", "delete", "delete",
                                     "index"])
    st = [list(i.values())[0]["status"] for i in items]
    eq(st, [201, 409, 200, 200, 404, 201, 200, 404, 201])
    res = [list(i.values())[0].get("result") for i in items]
    eq(res, ["created", None, "updated", "noop", None, "created", "deleted", "not_found", "created"])
    eq(items[1]["create"]["error"]["type"], "version_conflict_engine_exception")
    eq(items[1]["create"]["error"]["reason"], "[1]: version conflict, document already exists (current version [1])")
    eq(items[4]["update"]["error"]["type"], "document_missing_exception")
    eq(items[4]["update"]["error"]["reason"], "[9]: document missing")
    eq(len(items[8]["index"]["_id"]), 20)
    eq([list(i.values())[0].get("_version") for i in items][6:8], [3, 4])


@test()
def bulk_auto_create_and_mapping(c, srv):
    r = c.bulk([{"index": {"_index": "auto", "_id": "1"}}, {"n": 5, "s": "x", "d": "2020-01-01T00:00:00Z"},
                {"index": {"_index": "auto", "_id": "2"}}, {"n": "five"},
                {"index": {"_index": "Bad", "_id": "1"}}, {"n": 1}])
    st = [i["index"]["status"] for i in r.json["items"]]
    eq(st, [201, 400, 400])
    e = r.json["items"][1]["index"]["error"]
    eq(e["type"], "mapper_parsing_exception")
    eq(e["reason"], "failed to parse field [n] of type [long] in document with id '2'. Preview of field's value: 'five'")
    eq(e["caused_by"], {"type": "number_format_exception", "reason": "For input string: \"five\""})
    eq(r.json["items"][2]["index"]["error"]["type"], "invalid_index_name_exception")
    m = c.req("GET", "/auto/_mapping").json["auto"]["mappings"]["properties"]
    eq(m["n"], {"type": "long"})
    eq(m["s"], {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}})
    eq(m["d"], {"type": "date"})


@test()
def mapping_enforcement(c, srv):
    c.req("PUT", "/m", {"mappings": {"properties": {"age": {"type": "integer"}, "k": {"type": "keyword"},
                                                    "b": {"type": "boolean"}, "o": {"properties": {"x": {"type": "long"}}},
                                                    "d": {"type": "date"}}}})
    r = c.req("PUT", "/m/_doc/1", {"age": "twenty"})
    want = ref("error-mapper-parsing.json")
    eq(r.status, 400)
    eq(r.json, want, "reference body")
    r = c.req("PUT", "/m/_doc/1", {"k": {"a": 1}})
    eq(err_type(r), "mapper_parsing_exception")
    eq(r.json["error"]["reason"], "failed to parse field [k] of type [keyword] in document with id '1'. "
                                  "Preview of field's value: '{a=1}'")
    r = c.req("PUT", "/m/_doc/1", {"b": "yes"})
    eq(r.json["error"]["caused_by"]["reason"], "Failed to parse value [yes] as only [true] or [false] are allowed.")
    r = c.req("PUT", "/m/_doc/1", {"o": "flat"})
    eq(r.json["error"]["reason"], "object mapping for [o] tried to parse field [o] as object, but found a concrete value")
    r = c.req("PUT", "/m/_doc/1", {"d": "yesterday"})
    eq(r.json["error"]["caused_by"]["type"], "illegal_argument_exception")
    r = c.req("PUT", "/m/_doc/1", {"age": 3000000000})
    eq(r.status, 400)
    eq(c.req("PUT", "/m/_doc/1", {"age": "42", "k": 7, "b": "true", "o": [{"x": 1}, {"x": "2"}]}).status, 201)
    eq(c.req("PUT", "/m/_mapping", {"properties": {"age": {"type": "keyword"}}}).json["error"]["reason"],
       "mapper [age] cannot be changed from type [integer] to [keyword]")
    eq(c.req("PUT", "/m/_mapping", {"properties": {"new": {"type": "keyword"}}}).status, 200)
    eq(c.req("GET", "/m/_mapping").json["m"]["mappings"]["properties"]["new"], {"type": "keyword"})
    c.req("PUT", "/strict", {"mappings": {"dynamic": "strict", "properties": {"a": {"type": "keyword"}}}})
    r = c.req("PUT", "/strict/_doc/1", {"a": "x", "z": 1})
    assert_error(r, 400, "strict_dynamic_mapping_exception",
                 "mapping set to strict, dynamic introduction of [z] within [_doc] is not allowed")
    r = c.req("PUT", "/m/_doc/1", {"_id": "x"})
    eq(r.json["error"]["reason"], "Field [_id] is a metadata field and cannot be added inside a document. "
                                  "Use the index API request parameters.")


@test()
def versions_and_cas(c, srv):
    r = c.req("PUT", "/v/_doc/1?version=5&version_type=external", {"a": 1})
    eq((r.status, r.json["_version"]), (201, 5))
    r = c.req("PUT", "/v/_doc/1?version=4&version_type=external", {"a": 1})
    assert_error(r, 409, "version_conflict_engine_exception",
                 "[1]: version conflict, current version [5] is higher or equal to the one provided [4]")
    eq(r.json["error"]["shard"], "0")
    eq(r.json["error"]["index"], "v")
    eq(c.req("PUT", "/v/_doc/1?version=5&version_type=external_gte", {"a": 2}).json["_version"], 5)
    r = c.req("PUT", "/v/_doc/1?version=1", {"a": 1})
    assert_error(r, 400, "action_request_validation_exception")
    d = c.req("PUT", "/v/_doc/2", {"a": 1}).json
    r = c.req("PUT", "/v/_doc/2?if_seq_no=%d&if_primary_term=2" % d["_seq_no"], {"a": 2})
    assert_error(r, 409, "version_conflict_engine_exception",
                 "[2]: version conflict, required seqNo [%d], primary term [2]. current document has seqNo [%d] and "
                 "primary term [1]" % (d["_seq_no"], d["_seq_no"]))
    eq(c.req("PUT", "/v/_doc/2?if_seq_no=%d&if_primary_term=1" % d["_seq_no"], {"a": 2}).json["result"], "updated")
    r = c.bulk([{"delete": {"_index": "v", "_id": "2", "if_seq_no": 0, "if_primary_term": 1}}])
    eq(r.json["items"][0]["delete"]["status"], 409)
    r = c.req("PUT", "/v/_create/2", {"a": 1})
    eq(r.status, 409)
    eq(c.req("DELETE", "/v/_doc/2").json["result"], "deleted")
    r = c.req("PUT", "/v/_doc/2", {"a": 1})
    eq((r.json["result"], r.json["_version"]), ("created", 4))


@test()
def near_real_time(c, srv):
    c.req("PUT", "/n", {"settings": {"refresh_interval": "-1"}})
    c.req("PUT", "/n/_doc/1", {"a": 1})
    eq(c.req("GET", "/n/_count").json["count"], 0)
    eq(c.req("GET", "/n/_search").json["hits"]["total"]["value"], 0)
    eq(c.req("GET", "/n/_doc/1").json["found"], True)             # realtime get
    eq(c.req("GET", "/n/_doc/1?realtime=false").status, 404)
    r = c.req("PUT", "/n/_doc/2?refresh=true", {"a": 2})
    eq(r.json["forced_refresh"], True)
    eq(c.req("GET", "/n/_count").json["count"], 2)
    c.req("PUT", "/n/_doc/3?refresh=wait_for", {"a": 3})
    eq(c.req("GET", "/n/_count").json["count"], 3)
    c.bulk([{"index": {"_index": "n", "_id": "4"}}, {"a": 4}])
    eq(c.req("GET", "/n/_count").json["count"], 3)
    eq(c.req("POST", "/n/_refresh").json["_shards"], {"total": 2, "successful": 1, "failed": 0})
    eq(c.req("GET", "/n/_count").json["count"], 4)
    c.req("PUT", "/n/_settings", {"index": {"refresh_interval": "200ms"}})
    c.req("PUT", "/n/_doc/5", {"a": 5})
    eq(c.req("GET", "/n/_count").json["count"], 4)
    time.sleep(0.3)
    eq(c.req("GET", "/n/_count").json["count"], 5)
