#!/usr/bin/python3
"""Direct tests of the test server: strictness (status codes, bodies, headers) and every
fault of the fault injector, checked against the reference examples in
/work/shared/reference/elasticsearch/ where they exist. Last line: "N passed, N failed"."""

import gzip
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REF = "/work/shared/reference/elasticsearch"

from server import EsTestServer  # noqa: E402

TESTS = []


def test(flavour="opensearch", faults=None):
    def deco(fn):
        TESTS.append((fn.__name__, flavour, faults, fn))
        return fn
    return deco


class Resp(object):
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.raw[:300])


class Client(object):
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def req(self, method, path, body=None, ctype="application/json", headers=None, raw=False):
        h = dict(headers or {})
        data = None
        if body is not None:
            if isinstance(body, (bytes, bytearray)):
                data = bytes(body)
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = json.dumps(body).encode()
            if ctype is not None:
                h.setdefault("Content-Type", ctype)
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        return Resp(r.status, r.getheaders(), r.read())

    def bulk(self, lines, params=""):
        data = "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines)
        return self.req("POST", "/_bulk" + params, data, "application/x-ndjson")

    def close(self):
        self.conn.close()


def ref(name):
    with open(os.path.join(REF, name)) as f:
        return json.load(f)


def eq(a, b, what=""):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


def err_type(r):
    return r.json["error"]["type"] if r.json and isinstance(r.json.get("error"), dict) else None


def assert_error(r, status, etype, reason=None, root=None):
    eq(r.status, status, "status")
    eq(err_type(r), etype, "error.type")
    eq(r.json["status"], status, "body status")
    rc = r.json["error"]["root_cause"]
    if root is not None:
        eq(rc[0]["type"], root, "root_cause type")
    if reason is not None:
        eq(r.json["error"]["reason"], reason, "reason")


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


# ---------------------------------------------------------------------------------------
# search

def _load(c, index, n, extra=None):
    lines = []
    for i in range(n):
        lines.append({"index": {"_index": index, "_id": "d%05d" % i}})
        doc = {"id": "d%05d" % i, "n": i, "g": i % 3, "t": "word%d common" % i}
        doc.update(extra or {})
        lines.append(doc)
    r = c.bulk(lines, "?refresh=true")
    assert not r.json["errors"], r.raw[:300]


@test()
def search_basics(c, srv):
    c.req("PUT", "/s", {"mappings": {"properties": {"id": {"type": "keyword"}, "n": {"type": "long"},
                                                    "g": {"type": "integer"}, "t": {"type": "text"}}}})
    _load(c, "s", 50)
    r = c.req("POST", "/s/_search", {"query": {"term": {"g": 1}}, "sort": [{"n": "desc"}], "size": 3,
                                    "_source": ["id"], "seq_no_primary_term": True})
    h = r.json["hits"]
    eq(h["total"], {"value": 17, "relation": "eq"})
    eq([x["_id"] for x in h["hits"]], ["d00049", "d00046", "d00043"])
    eq(h["hits"][0]["_source"], {"id": "d00049"})
    eq(h["hits"][0]["sort"], [49])
    assert "_seq_no" in h["hits"][0] and h["hits"][0]["_primary_term"] == 1
    eq(h["max_score"], None)
    r = c.req("POST", "/s/_search", {"query": {"bool": {"filter": [{"terms": {"g": [0, 2]}}, {"range": {"n": {"lt": 10}}}],
                                                        "must_not": [{"ids": {"values": ["d00000"]}}]}},
                                    "sort": ["_id"], "_source": False, "track_total_hits": 2})
    eq(r.json["hits"]["total"], {"value": 2, "relation": "gte"})
    eq([x["_id"] for x in r.json["hits"]["hits"]], ["d00002", "d00003", "d00005", "d00006", "d00008", "d00009"])
    assert "_source" not in r.json["hits"]["hits"][0]
    eq(c.req("POST", "/s/_search", {"query": {"match": {"t": "WORD7"}}}).json["hits"]["total"]["value"], 1)
    r = c.req("POST", "/s/_search", {"from": 9995, "size": 10})
    assert_error(r, 400, "search_phase_execution_exception", root="illegal_argument_exception")
    eq(r.json["error"]["root_cause"][0]["reason"],
       "Result window is too large, from + size must be less than or equal to: [10000] but was [10005]. See the "
       "scroll api for a more efficient way to request large data sets. This limit can be set by changing the "
       "[index.max_result_window] index level setting.")
    r = c.req("POST", "/s/_search", {"sort": [{"t": "asc"}]})
    eq(r.json["error"]["root_cause"][0]["type"], "illegal_argument_exception")
    r = c.req("POST", "/s/_search", {"sort": [{"nope": "asc"}]})
    eq(r.json["error"]["root_cause"][0]["reason"], "No mapping found for [nope] in order to sort on")
    r = c.req("POST", "/s/_search", {"query": {"bogus": {}}})
    assert_error(r, 400, "parsing_exception", "no [query] registered for [bogus]")
    r = c.req("POST", "/s/_search", {"match": {"t": "x"}})
    assert_error(r, 400, "parsing_exception", "Unknown key for a START_OBJECT in [match].")
    # search_after paging over everything
    seen, after = [], None
    while True:
        body = {"size": 7, "sort": [{"g": "asc"}, {"id": "desc"}]}
        if after:
            body["search_after"] = after
        hits = c.req("POST", "/s/_search", body).json["hits"]["hits"]
        if not hits:
            break
        seen.extend(x["_id"] for x in hits)
        after = hits[-1]["sort"]
    eq(len(seen), 50)
    eq(len(set(seen)), 50)
    eq(seen[:2], ["d00048", "d00045"])


@test()
def aggregations_and_delete_by_query(c, srv):
    _load(c, "ag", 30)
    r = c.req("POST", "/ag/_search", {"size": 0, "aggs": {"by_g": {"terms": {"field": "g"}},
                                                           "max_n": {"max": {"field": "n"}},
                                                           "ids": {"cardinality": {"field": "id.keyword"}}}})
    a = r.json["aggregations"]
    eq(a["by_g"]["buckets"], [{"key": 0, "doc_count": 10}, {"key": 1, "doc_count": 10}, {"key": 2, "doc_count": 10}])
    eq(a["max_n"], {"value": 29.0})
    eq(a["ids"], {"value": 30})
    r = c.req("POST", "/ag/_search", {"aggs": {"x": {"terms": {"field": "t"}}}})
    eq(r.json["error"]["root_cause"][0]["type"], "illegal_argument_exception")
    c.bulk([{"index": {"_index": "ag", "_id": "late"}}, {"g": 1}])       # not refreshed: not seen
    r = c.req("POST", "/ag/_delete_by_query?refresh=true", {"query": {"term": {"g": 1}}})
    eq((r.json["deleted"], r.json["failures"]), (10, []))
    eq(c.req("GET", "/ag/_count").json["count"], 21)


@test("es8")
def sort_on_id_refused_by_es8(c, srv):
    c.req("PUT", "/s/_doc/1?refresh=true", {"a": 1})
    r = c.req("POST", "/s/_search", {"sort": ["_id"]})
    eq(r.status, 400)
    eq(r.json["error"]["root_cause"][0]["reason"],
       "Fielddata access on the _id field is disallowed, you can re-enable it by updating the dynamic cluster "
       "setting: indices.id_field_data.enabled")


@test()
def scroll_and_clear(c, srv):
    _load(c, "sc", 25)
    r = c.req("POST", "/sc/_search?scroll=1m", {"size": 10, "sort": ["_doc"]})
    sid = r.json["_scroll_id"]
    eq(list(r.json)[0], "_scroll_id")
    ids = [x["_id"] for x in r.json["hits"]["hits"]]
    c.bulk([{"index": {"_index": "sc", "_id": "late"}}, {"n": 1}], "?refresh=true")
    while True:
        r = c.req("POST", "/_search/scroll", {"scroll_id": sid, "scroll": "1m"})
        eq(r.json["hits"]["total"]["value"], 25)
        if not r.json["hits"]["hits"]:
            break
        ids.extend(x["_id"] for x in r.json["hits"]["hits"])
    eq(len(ids), 25)
    eq(c.req("DELETE", "/_search/scroll", {"scroll_id": [sid]}).json, ref("clear-scroll-response.json"))
    r = c.req("DELETE", "/_search/scroll", {"scroll_id": sid})
    eq((r.status, r.json), (404, {"succeeded": True, "num_freed": 0}))
    r = c.req("POST", "/_search/scroll", {"scroll_id": sid})
    assert_error(r, 404, "search_phase_execution_exception", root="search_context_missing_exception")
    r = c.req("POST", "/_search/scroll", {"scroll_id": "bm9wZQ=="})
    assert_error(r, 400, "illegal_argument_exception", "Cannot parse scroll id")
    r = c.req("POST", "/sc/_search?scroll=1s", {"size": 5})
    time.sleep(1.2)
    eq(c.req("POST", "/_search/scroll", {"scroll_id": r.json["_scroll_id"]}).status, 404)
    r = c.req("POST", "/sc/_search?scroll=25h", {"size": 5})
    eq(r.status, 400)
    assert "Keep alive for request (1d) is too large" in r.json["error"]["reason"], r


@test("es8")
def pit_es(c, srv):
    _load(c, "p", 12)
    r = c.req("POST", "/p/_pit?keep_alive=1m")
    eq(sorted(r.json), sorted(ref("pit-open-response.es.json")))
    pid = r.json["id"]
    c.bulk([{"index": {"_index": "p", "_id": "new"}}, {"n": 99}], "?refresh=true")
    body = {"size": 5, "pit": {"id": pid, "keep_alive": "1m"}, "sort": [{"n": "asc"}]}
    r = c.req("POST", "/_search", body)
    eq(r.json["pit_id"], pid)
    eq(r.json["hits"]["total"]["value"], 12)
    eq(len(r.json["hits"]["hits"][0]["sort"]), 2)           # the implicit _shard_doc tie-breaker
    body["search_after"] = r.json["hits"]["hits"][-1]["sort"]
    eq([x["_source"]["n"] for x in c.req("POST", "/_search", body).json["hits"]["hits"]], [5, 6, 7, 8, 9])
    r = c.req("POST", "/p/_search", body)
    assert_error(r, 400, "action_request_validation_exception")
    eq(c.req("DELETE", "/_pit", {"id": pid}).json, {"succeeded": True, "num_freed": 1})
    r = c.req("DELETE", "/_pit", {"id": pid})
    eq((r.status, r.json), (404, {"succeeded": True, "num_freed": 0}))
    assert_error(c.req("POST", "/_search", body), 404, "search_phase_execution_exception",
                 root="search_context_missing_exception")


@test("es7")
def pit_es7(c, srv):
    _load(c, "p", 3)
    r = c.req("POST", "/p/_pit?keep_alive=1m")
    eq(list(r.json), ["id"])
    r = c.req("POST", "/_search", {"pit": {"id": r.json["id"]}, "sort": [{"n": "asc"}]})
    eq(len(r.json["hits"]["hits"][0]["sort"]), 1)
    eq(c.req("POST", "/p/_search/point_in_time?keep_alive=1m").status, 400)


@test("opensearch")
def pit_opensearch(c, srv):
    _load(c, "p", 4)
    r = c.req("POST", "/p/_search/point_in_time?keep_alive=1h")
    eq(sorted(r.json), sorted(ref("pit-open-response.opensearch.json")))
    pid = r.json["pit_id"]
    eq(c.req("GET", "/_search/point_in_time/_all").json["pits"][0]["keep_alive"], 3600000)
    r = c.req("POST", "/_search", {"pit": {"id": pid}, "sort": [{"n": "desc"}], "size": 1})
    eq(r.json["hits"]["hits"][0]["_source"]["n"], 3)
    r = c.req("DELETE", "/_search/point_in_time", {"pit_id": [pid, pid]})
    eq(r.json, {"pits": [{"successful": True, "pit_id": pid}, {"successful": False, "pit_id": pid}]})
    eq(c.req("POST", "/p/_pit?keep_alive=1m").status, 400)


@test()
def aliases(c, srv):
    c.req("PUT", "/i1")
    c.req("PUT", "/i2")
    r = c.req("POST", "/_aliases", {"actions": [{"add": {"index": "i1", "alias": "a"}},
                                                {"add": {"index": "missing", "alias": "b"}}]})
    eq(r.status, 404)
    eq(c.req("HEAD", "/_alias/a").status, 404)        # nothing applied
    eq(c.req("POST", "/_aliases", {"actions": [{"add": {"index": "i1", "alias": "a"}}]}).json, {"acknowledged": True})
    eq(c.req("HEAD", "/_alias/a").status, 200)
    eq(c.req("GET", "/_alias/a").json, {"i1": {"aliases": {"a": {}}}})
    r = c.req("PUT", "/a/_doc/1?refresh=true", {"x": 1})
    eq((r.status, r.json["_index"]), (201, "i1"))
    eq(c.req("GET", "/a/_doc/1").json["_index"], "i1")
    c.req("PUT", "/i2/_alias/a")
    r = c.req("PUT", "/a/_doc/2", {"x": 1})
    assert_error(r, 400, "illegal_argument_exception")
    assert r.json["error"]["reason"].startswith("no write index is defined for alias [a]."), r
    c.req("POST", "/_aliases", {"actions": [{"remove": {"index": "i2", "alias": "a"}},
                                            {"add": {"index": "i2", "alias": "w", "is_write_index": True}}]})
    eq(c.req("GET", "/i2/_alias").json, {"i2": {"aliases": {"w": {"is_write_index": True}}}})
    eq(c.req("GET", "/_alias/nope").json, {"error": "alias [nope] missing", "status": 404})
    eq(c.req("GET", "/a/_count").json["count"], 1)
    r = c.req("PUT", "/i1/_alias/i2")
    assert_error(r, 400, "invalid_alias_name_exception")


@test()
def mget_and_update(c, srv):
    c.req("PUT", "/u/_doc/1", {"a": 1, "o": {"x": 1}})
    r = c.req("POST", "/_mget", {"docs": [{"_index": "u", "_id": "1"}, {"_index": "u", "_id": "2"},
                                          {"_index": "nope", "_id": "1"}]})
    d = r.json["docs"]
    eq((d[0]["found"], d[1]["found"]), (True, False))
    eq(d[2]["error"]["type"], "index_not_found_exception")
    r = c.req("POST", "/u/_update/1?_source=true", {"doc": {"o": {"y": 2}}})
    eq(r.json["get"]["_source"], {"a": 1, "o": {"x": 1, "y": 2}})
    r = c.req("POST", "/u/_update/1", {"doc": {"a": 1}})
    eq(r.json["result"], "noop")
    assert_error(c.req("POST", "/u/_update/9", {"doc": {"a": 1}}), 404, "document_missing_exception",
                 "[9]: document missing")
    assert_error(c.req("POST", "/u/_update/1", {"nope": 1}), 400, "x_content_parse_exception")


# ---------------------------------------------------------------------------------------
# faults

@test(faults={"bulk_item_reject": {"every": 2}})
def fault_item_reject_every(c, srv):
    r = c.bulk([x for i in range(6) for x in ({"index": {"_index": "f", "_id": str(i)}}, {"n": i})])
    st = [i["index"]["status"] for i in r.json["items"]]
    eq(st, [201, 429, 201, 429, 201, 429])
    eq(r.json["errors"], True)
    e = r.json["items"][1]["index"]
    want = ref("bulk-response-errors.json")["items"][2]["index"]
    eq(e["error"], want["error"], "429 item error")
    eq(sorted(e), sorted(want))
    c.req("POST", "/f/_refresh")
    eq(c.req("GET", "/f/_count").json["count"], 3)         # rejected items were not applied
    s = c.req("GET", "/_test/stats").json
    eq((s["bulk_requests"], s["bulk_items"], s["items_rejected"], s["items_ok"]), (1, 6, 3, 3))
    eq(s["faults"]["bulk_item_reject"], 3)


@test(faults={"seed": 7, "bulk_item_reject": {"rate": 0.3}})
def fault_item_reject_rate_is_seeded(c, srv):
    def run():
        r = c.bulk([x for i in range(200) for x in ({"index": {"_index": "f", "_id": str(i)}}, {"n": i})])
        return [i["index"]["status"] == 429 for i in r.json["items"]]
    a = run()
    srv.set_faults({"seed": 7, "bulk_item_reject": {"rate": 0.3}})
    b = run()
    eq(a, b, "same seed, same decisions")
    n = a.count(True)
    assert 30 < n < 90, n


@test(faults={"request_reject": {"every": 2, "paths": ["/_bulk"]}})
def fault_request_reject_429(c, srv):
    line = [{"index": {"_index": "f"}}, {"n": 1}]
    eq(c.bulk(line).status, 200)
    r = c.bulk(line)
    eq(r.status, 429)
    eq(r.json, ref("error-rejected-execution-429.json"))
    eq(c.req("GET", "/").status, 200)          # other paths unaffected
    eq(c.bulk(line).status, 200)


@test(faults={"request_reject": {"every": 1, "status": 503, "times": 1}})
def fault_request_reject_503(c, srv):
    r = c.req("GET", "/")
    assert_error(r, 503, "cluster_block_exception")
    eq(c.req("GET", "/").status, 200)


@test(faults={"drop_before_body": {"every": 2, "paths": ["/_bulk"]}})
def fault_drop_before_body(c, srv):
    line = [{"index": {"_index": "f"}}, {"n": 1}]
    eq(c.bulk(line).status, 200)
    try:
        c.bulk(line)
    except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
        pass
    else:
        raise AssertionError("connection not dropped")
    c.conn.close()
    eq(c.bulk(line).status, 200)


@test(faults={"drop_mid_response": {"every": 1, "bytes": 20, "paths": ["/_search"]}})
def fault_drop_mid_response(c, srv):
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"GET /_search HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    declared = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    eq(len(body), 20)
    assert declared > 20, declared


@test(faults={"latency_ms": 150, "stall": {"every": 3, "ms": 400}})
def fault_latency_and_stall(c, srv):
    times = []
    for _ in range(3):
        t = time.monotonic()
        eq(c.req("GET", "/").status, 200)
        times.append(time.monotonic() - t)
    assert all(x >= 0.14 for x in times), times
    assert times[2] >= 0.53, times
    assert times[0] < 0.5, times


@test(faults={"max_content_length": 1000})
def fault_max_content_length(c, srv):
    r = c.req("PUT", "/f/_doc/1", {"a": "x" * 2000})
    eq((r.status, r.raw), (413, b""))
    eq(r.headers.get("connection"), "close")
    c.conn.close()
    eq(c.req("PUT", "/f/_doc/1", {"a": "x" * 10}).status, 201)
    srv.set_faults({"max_content_length": 1000, "max_content_length_style": "aws"})
    r = c.req("PUT", "/f/_doc/1", {"a": "x" * 2000})
    eq((r.status, r.json), (413, {"Message": "Request size exceeded 1000 bytes"}))


@test()
def control_endpoint(c, srv):
    eq(c.req("GET", "/_test/faults").json, {})
    r = c.req("PUT", "/_test/faults", {"bulk_item_reject": {"every": 1, "after": 1, "times": 1}})
    eq(r.json["acknowledged"], True)
    line = [x for i in range(3) for x in ({"index": {"_index": "f", "_id": str(i)}}, {"n": i})]
    eq([i["index"]["status"] for i in c.bulk(line).json["items"]], [201, 429, 201])
    eq(c.req("PUT", "/_test/faults", {"nonsense": 1}).status, 400)
    eq(c.req("DELETE", "/_test/faults").status, 200)
    eq([i["index"]["status"] for i in c.bulk(line).json["items"]], [200, 201, 200])
    s = c.req("GET", "/_test/stats").json
    eq(s["docs"], {"f": 3})
    assert s["requests"] >= 2 and s["by_route"]["POST /_bulk"] == 2, s
    eq(c.req("POST", "/_test/stats/reset").status, 200)
    eq(c.req("GET", "/_test/stats").json["requests"], 0)
    eq(c.req("POST", "/_test/reset").status, 200)
    eq(c.req("HEAD", "/f").status, 404)


@test()
def read_only_allow_delete_block(c, srv):
    c.req("PUT", "/blk/_doc/1", {"a": 1})
    c.req("PUT", "/blk/_settings", {"index.blocks.read_only_allow_delete": True})
    r = c.bulk([{"index": {"_index": "blk", "_id": "2"}}, {"a": 1}, {"delete": {"_index": "blk", "_id": "1"}}])
    it = r.json["items"]
    eq((it[0]["index"]["status"], it[0]["index"]["error"]["type"]), (429, "cluster_block_exception"))
    eq(it[1]["delete"]["status"], 200)


def cli_lifecycle():
    """server.py as a program: ready file written atomically, SIGTERM stops it."""
    tmp = tempfile.mkdtemp()
    ready = os.path.join(tmp, "ready")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--host", "127.0.0.1", "--port", "0",
                          "--ready-file", ready, "--flavour", "es8",
                          "--faults", '{"request_reject": {"every": 2}}'], stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if os.path.exists(ready):
                break
            time.sleep(0.05)
        port = int(open(ready).read())
        eq(os.listdir(tmp), ["ready"], "no temporary file left")
        c = Client(port)
        eq(c.req("GET", "/").json["version"]["number"], "8.12.1")
        eq(c.req("GET", "/").status, 429)
        c.close()
        p.send_signal(signal.SIGTERM)
        eq(p.wait(10), 0, "exit status")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


def main():
    passed = failed = 0
    servers = {}
    try:
        for name, flavour, faults, fn in TESTS:
            srv = servers.get(flavour)
            if srv is None:
                srv = servers[flavour] = EsTestServer(flavour).start()
            srv.reset()
            srv.set_faults(faults or {})
            srv.stats.reset()
            c = Client(srv.port)
            try:
                fn(c, srv)
                passed += 1
                print("ok   %s [%s]" % (name, flavour))
            except Exception as e:
                failed += 1
                print("FAIL %s [%s]: %s" % (name, flavour, e))
                traceback.print_exc(limit=3, file=sys.stdout)
            finally:
                c.close()
                srv.set_faults({})
        try:
            cli_lifecycle()
            passed += 1
            print("ok   cli_lifecycle")
        except Exception as e:
            failed += 1
            print("FAIL cli_lifecycle: %s" % e)
    finally:
        for srv in servers.values():
            srv.stop()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
