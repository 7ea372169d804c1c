"""Direct tests of the test server (run by test_server.py): search, sort, result window,
aggregations, delete by query, scroll, point in time (Elasticsearch and OpenSearch), aliases,
_mget and _update, checked against the reference examples where they exist."""

import time

from server_testlib import test, ref, eq, assert_error


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
