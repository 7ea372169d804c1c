"""Search REST endpoints of the Elasticsearch-compatible test server: _search, scroll,
_count, _delete_by_query and point in time (Elasticsearch's _pit, OpenSearch's
_search/point_in_time).

DESIGN: the request is parsed outside the lock; with the lock held the handler resolves the
targets (the current refreshed readers of each index, or the frozen readers of a point in
time) and binds the query; matching, sorting and rendering then run without the lock on the
immutable readers (es_search.py), so a long search does not hold up writes. A scroll context
keeps the whole sorted hit list of its first search and hands it out page by page; scroll
and PIT contexts expire after their keep-alive.
"""

import json
import time

from es_aggs import run_aggs, check_aggs
from es_cluster import SearchContext, make_ctx_id, parse_ctx_id, context_missing
from es_common import (EsError, illegal_argument, validation_error, parsing_error, bool_param, parse_time_ms,
                       now_ms, search_phase_error)
from es_docs import WriteOp, apply_delete
from es_hits import render_hit
from es_query import parse_query
from es_query_text import q_param_query
from es_rest import ok, expand_param, resolve_indices, check_keep_alive
from es_search import SearchRequest, parse_search, Target, bind_targets, collect, total_obj, run_count
from es_sort import after_key, apply_search_after, score_sort


# ---------------------------------------------------------------------------------------
# search, count, scroll, point in time

SEARCH_PARAMS = ("_source", "_source_excludes", "_source_includes", "allow_no_indices",
                 "allow_partial_search_results", "analyze_wildcard", "analyzer", "batched_reduce_size",
                 "ccs_minimize_roundtrips", "default_operator", "df", "docvalue_fields",
                 "expand_wildcards", "explain", "from", "ignore_throttled", "ignore_unavailable",
                 "lenient", "max_concurrent_shard_requests", "pre_filter_shard_size", "preference", "q",
                 "request_cache", "rest_total_hits_as_int", "routing", "scroll", "search_type",
                 "seq_no_primary_term", "size", "sort", "stats", "stored_fields", "suggest_field",
                 "suggest_mode", "suggest_size", "suggest_text", "terminate_after", "timeout",
                 "track_scores", "track_total_hits", "typed_keys", "version")
ES_SEARCH_EXTRA = ("min_compatible_shard_node", "include_named_queries_score", "force_synthetic_source",
                   "allow_partial_search_results")
OS_SEARCH_EXTRA = ("search_pipeline", "include_named_queries_score", "phase_took",
                   "cancel_after_time_interval", "verbose_pipeline")


def search_targets(c, req, expr, pit=None, for_write=False):
    """The Targets of a search: readers are the current refreshed views, or the frozen ones of
    a point in time."""
    if pit is not None:
        targets = []
        by_index = {}
        for r in pit.readers:
            if r.index.name not in by_index:
                by_index[r.index.name] = Target(r.index, [], pit.extra.get("filters", {}).get(r.index.name),
                                                rank=len(targets))
                targets.append(by_index[r.index.name])
            by_index[r.index.name].readers.append(r)
        return targets
    found = resolve_indices(req, expr)
    targets = []
    for rank, (idx, via) in enumerate(found):
        if idx.state != "open":
            if req.bool("ignore_unavailable"):
                continue
            raise EsError(400, "index_closed_exception", "closed", {"index_uuid": idx.uuid, "index": idx.name})
        idx.check_block("read", c.flavour)
        idx.maybe_scheduled_refresh()
        targets.append(Target(idx, [s.reader for s in idx.shards], _alias_filters(c, idx, via), rank))
    return targets


def _alias_filters(c, idx, via):
    """The filters of the aliases an index was reached through (via: alias names, None for the
    index itself), or None when one of them has no filter or the index was named directly."""
    if via and None not in via:
        fl = [c.aliases[a][idx.name].get("filter") for a in via if a in c.aliases and idx.name in c.aliases[a]]
        if fl and all(f is not None for f in fl):
            return fl
    return None


def _consume_search_params(req):
    for p in SEARCH_PARAMS + ES_SEARCH_EXTRA + OS_SEARCH_EXTRA:
        if p in req.params:
            req.used.add(p)


def h_search(req):
    c = req.cluster
    flavour = req.flavour
    body = req.json()
    _consume_search_params(req)
    has_index = req.parts.get("index") is not None
    sreq = parse_search(body, req.params, flavour, has_index)
    req.warnings.extend(sreq.allowed_warnings)
    start = time.monotonic()
    with c.lock:
        c.expire_contexts()
        pit_ctx = None
        if sreq.pit is not None:
            pit_ctx = _get_pit(c, sreq.pit.get("id"), flavour)
            ka = sreq.pit.get("keep_alive")
            if ka is not None:
                ms = parse_time_ms(ka, "keep_alive")
                check_keep_alive(c, ms, "point_in_time.max_keep_alive" if flavour.is_os else "search.max_keep_alive")
                if flavour.is_os:
                    # OpenSearch only extends a point in time; the reported keep_alive stays
                    pit_ctx.expires = max(pit_ctx.expires, time.monotonic() + ms / 1000.0)
                else:
                    pit_ctx.touch(ms)
        elif any(s.field == "_shard_doc" for s in (sreq.sort or [])) and flavour.shard_doc:
            if flavour.is_os:
                raise validation_error("_shard_doc is only supported with point-in-time (PIT)")
            raise validation_error("[_shard_doc] sort field cannot be used without [point in time]")
        if sreq.scroll_ms is not None:
            check_keep_alive(c, sreq.scroll_ms)
        targets = search_targets(c, req, req.parts.get("index"), pit_ctx)
        id_fd = c.cluster_setting("indices.id_field_data.enabled") == "true"
        bound = bind_targets(sreq, targets, flavour, id_fd, pit_ctx is not None, now_ms())
        if sreq.aggs:
            check_aggs(sreq.aggs, targets)
        nshards = sum(len(t.readers) for t in targets)
        cache_key = None
        if pit_ctx is not None and sreq.aggs is None:
            cache_key = json.dumps([body.get("query") if body else None, body.get("post_filter") if body else None,
                                    [s.json() for s in (sreq.sort or [])], sreq.min_score], sort_keys=True)
        cached = pit_ctx.extra.setdefault("cache", {}).get(cache_key) if cache_key else None
    # the readers are immutable snapshots: matching, sorting and rendering need no lock, so a
    # long search does not hold up writes from other connections
    if cached is not None:
        hits, max_score, agg_docs = cached
    else:
        hits, max_score, agg_docs = collect(sreq, bound, flavour, pit_ctx is not None)
        if cache_key:
            pit_ctx.extra["cache"] = {cache_key: (hits, max_score, agg_docs)}
    total = len(hits)
    sorts = bound[0].sorts if bound else []
    page = hits
    if sreq.search_after is not None:
        if not sorts and not (sreq.sort is None and bound):
            raise illegal_argument("Sort must contain at least one field.")
        key = after_key(sorts if sorts else [score_sort()], sreq.search_after)
        page = apply_search_after(hits, key)
    if sreq.terminate_after is not None:
        page = page[:int(sreq.terminate_after)]
    page = page[sreq.from_:sreq.from_ + sreq.size]
    aggs = run_aggs(sreq.aggs, agg_docs, None, flavour) if sreq.aggs else None
    scroll_id = None
    with c.lock:
        if sreq.scroll_ms is not None:
            if len([k for k, v in c.contexts.items() if v.kind == "scroll"]) >= int(
                    c.cluster_setting("search.max_open_scroll_context")):
                inner = EsError(500, "exception", "Trying to create too many scroll contexts. Must be less than or "
                                "equal to: [%s]. This limit can be set by changing the "
                                "[search.max_open_scroll_context] setting." % c.cluster_setting("search.max_open_scroll_context"))
                raise search_phase_error(inner, [(t.index.name, 0) for t in targets[:1]], status=500)
            n = c.next_ctx_id()
            scroll_id = make_ctx_id("scroll", n)
            ctx = SearchContext("scroll", n, [r for t in targets for r in t.readers], sreq.scroll_ms,
                                {"hits": hits, "pos": len(page), "size": sreq.size, "req": sreq, "total": total,
                                 "max_score": max_score, "sorted": bool(sreq.sort), "scroll_id": scroll_id})
            c.contexts[("scroll", n)] = ctx
    body_out = _search_body(sreq, page, total, max_score, nshards, start, flavour, aggs,
                            scroll_id=scroll_id, pit_id=sreq.pit.get("id") if sreq.pit else None,
                            sorted_hits=bool(sreq.sort) or pit_ctx is not None and flavour.pit_tiebreaker)
    return ok(body_out)


def _search_body(sreq, page, total, max_score, nshards, start, flavour, aggs=None, scroll_id=None,
                 pit_id=None, sorted_hits=False):
    out = {}
    if scroll_id is not None:
        out["_scroll_id"] = scroll_id
    if pit_id is not None:
        out["pit_id"] = pit_id
    out["took"] = int((time.monotonic() - start) * 1000)
    out["timed_out"] = False
    out["_shards"] = {"total": nshards, "successful": nshards, "skipped": 0, "failed": 0}
    hits = {}
    tot = total_obj(sreq, total)
    if sreq.rest_int:
        hits["total"] = -1 if tot is None else tot["value"]
    elif tot is not None:
        hits["total"] = tot
    with_score = (not sreq.sort) or sreq.track_scores or any(s.field == "_score" for s in sreq.sort or [])
    hits["max_score"] = max_score if with_score and page is not None and total else None
    if not with_score:
        hits["max_score"] = None
    hits["hits"] = [render_hit(h, sreq, flavour, with_score, sorted_hits) for h in page]
    out["hits"] = hits
    if aggs is not None:
        out["aggregations"] = aggs
    return out


def _get_pit(c, pit_id, flavour):
    n = parse_ctx_id("pit", str(pit_id)) if pit_id is not None else None
    if n is None:
        raise illegal_argument("invalid id")
    ctx = c.contexts.get(("pit", n))
    if ctx is None or ctx.expired():
        c.contexts.pop(("pit", n), None)
        raise context_missing(n)
    return ctx


def h_scroll(req):
    c = req.cluster
    body = req.json()
    scroll_id = req.param("scroll_id")
    scroll = req.param("scroll")
    rest_int = req.bool("rest_total_hits_as_int")
    if req.parts.get("scroll_id"):
        scroll_id = req.parts["scroll_id"]
    if isinstance(body, dict):
        for k in body:
            if k not in ("scroll_id", "scroll"):
                raise parsing_error("Unknown parameter [%s] in request body or parameter is of the wrong type[%s] "
                                    % (k, type(body[k]).__name__.upper()))
        scroll_id = body.get("scroll_id", scroll_id)
        scroll = body.get("scroll", scroll)
    if not scroll_id:
        raise validation_error("scrollId is missing")
    n = parse_ctx_id("scroll", str(scroll_id))
    if n is None:
        raise illegal_argument("Cannot parse scroll id")
    start = time.monotonic()
    with c.lock:
        c.expire_contexts()
        ctx = c.contexts.get(("scroll", n))
        if ctx is None:
            raise context_missing(n)
        if scroll is not None:
            ms = parse_time_ms(scroll, "scroll")
            check_keep_alive(c, ms)
            ctx.touch(ms)
        else:
            ctx.touch()
        e = ctx.extra
        page = e["hits"][e["pos"]:e["pos"] + e["size"]]
        e["pos"] += len(page)
        sreq = e["req"]
        sreq.rest_int = rest_int
        nshards = len(ctx.readers)
        out = _search_body(sreq, page, e["total"], e["max_score"], nshards, start, req.flavour,
                           scroll_id=e["scroll_id"], sorted_hits=e["sorted"])
    return ok(out)


def h_clear_scroll(req):
    c = req.cluster
    body = req.json()
    ids = req.param("scroll_id")
    if req.parts.get("scroll_id"):
        ids = req.parts["scroll_id"]
    ids = ids.split(",") if isinstance(ids, str) else []
    if isinstance(body, dict):
        for k in body:
            if k != "scroll_id":
                raise illegal_argument("Unknown parameter [%s] in request body or parameter is of the wrong type[%s] "
                                       % (k, type(body[k]).__name__.upper()))
        if "scroll_id" in body:
            v = body["scroll_id"]
            ids = v if isinstance(v, list) else [v]
    if not ids:
        raise validation_error("no scroll ids specified")
    freed = 0
    with c.lock:
        if ids == ["_all"]:
            for k in [k for k in c.contexts if k[0] == "scroll"]:
                del c.contexts[k]
                freed += 1
            return ok({"succeeded": True, "num_freed": freed})
        parsed = []
        for i in ids:
            n = parse_ctx_id("scroll", str(i))
            if n is None:
                raise illegal_argument("Cannot parse scroll id")
            parsed.append(n)
        for n in parsed:
            if c.contexts.pop(("scroll", n), None) is not None:
                freed += 1
    return ok({"succeeded": True, "num_freed": freed}, 200 if freed else 404)


def h_count(req):
    c = req.cluster
    flavour = req.flavour
    body = req.json()
    for p in ("analyze_wildcard", "analyzer", "ignore_throttled", "min_score", "preference", "routing",
              "terminate_after", "default_operator", "df", "lenient"):
        req.param(p)
    query = None
    if isinstance(body, dict):
        for k in body:
            if k != "query":
                raise parsing_error("request does not support [%s]" % k)
        if "query" in body:
            query = parse_query(body["query"], flavour)
    elif body is not None:
        raise parsing_error("request does not support [%s]" % body)
    q = req.param("q")
    if q is not None:
        query = q_param_query(q, req.params.get("df"), req.params.get("default_operator"),
                              None if req.params.get("lenient") is None else bool_param(req.params.get("lenient"), "lenient"),
                              req.params.get("analyze_wildcard"), flavour)
    with c.lock:
        targets = search_targets(c, req, req.parts.get("index"))
    n, shards = run_count(query, targets, flavour, req.params)
    return ok({"count": n, "_shards": {"total": shards, "successful": shards, "skipped": 0, "failed": 0}})


def h_delete_by_query(req):
    c = req.cluster
    flavour = req.flavour
    body = req.json(required=True)
    for p in ("conflicts", "scroll_size", "wait_for_completion", "requests_per_second", "slices", "timeout",
              "wait_for_active_shards", "max_docs", "scroll", "search_timeout", "search_type", "preference",
              "analyzer", "analyze_wildcard", "default_operator", "df", "lenient", "q", "routing",
              "terminate_after", "version", "request_cache"):
        req.param(p)
    if req.bool("wait_for_completion", True) is False:
        raise illegal_argument("[wait_for_completion=false] is not supported by this test server")
    refresh = req.bool("refresh")
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    for k in body:
        if k not in ("query", "max_docs", "slice", "conflicts"):
            raise parsing_error("Unknown key for a START_OBJECT in [%s]." % k)
    query = parse_query(body["query"], flavour) if "query" in body else None
    if req.params.get("q") is not None:
        query = q_param_query(req.params["q"], req.params.get("df"), req.params.get("default_operator"), None,
                              None, flavour)
    start = time.monotonic()
    deleted = 0
    with c.lock:
        targets = search_targets(c, req, req.parts.get("index"))
        sreq = SearchRequest()
        sreq.query = query
        sreq.size = 1000            # like a real delete-by-query: a scroll over the matches
        sreq.scroll_ms = 300000
        sreq.sort = []
        bound = bind_targets(sreq, targets, flavour, True, False, now_ms())
        hits, _, _ = collect(sreq, bound, flavour)
        maxd = body.get("max_docs", req.params.get("max_docs"))
        if maxd is not None:
            hits = hits[:int(maxd)]
        for h in hits:
            d = h.reader.docs[h.pos]
            idx = h.reader.index
            shard = idx.shard_of(d.id, d.routing)
            cur = shard.live.get(d.id)
            if cur is None or cur.seq_no != d.seq_no:
                continue
            op = WriteOp("delete")
            op.id = d.id
            op.routing = d.routing
            apply_delete(c, idx, op, flavour)
            deleted += 1
        if refresh:
            for t in targets:
                t.index.refresh()
    return ok({"took": int((time.monotonic() - start) * 1000), "timed_out": False, "total": deleted,
               "deleted": deleted, "batches": 1 if deleted else 0, "version_conflicts": 0, "noops": 0,
               "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0, "requests_per_second": -1.0,
               "throttled_until_millis": 0, "failures": []})


def _create_pit_ctx(req, keep_alive_param):
    c = req.cluster
    ka = keep_alive_param
    if ka is None:
        raise validation_error("[keep_alive] is not specified" if req.flavour.is_es else "keep_alive is missing")
    ms = parse_time_ms(ka, "keep_alive")
    check_keep_alive(c, ms, "point_in_time.max_keep_alive" if req.flavour.is_os else "search.max_keep_alive")
    found = c.resolve(req.parts["index"], ignore_unavailable=req.bool("ignore_unavailable"),
                      allow_no_indices=True, expand_wildcards=expand_param(req))
    readers = []
    filters = {}
    for idx, via in found:
        idx.check_open()
        idx.maybe_scheduled_refresh()
        readers.extend(s.reader for s in idx.shards)
        fl = _alias_filters(c, idx, via)
        if fl:
            filters[idx.name] = fl
    n = c.next_ctx_id()
    pid = make_ctx_id("pit", n)
    ctx = SearchContext("pit", n, readers, ms, {"pit_id": pid, "filters": filters})
    c.contexts[("pit", n)] = ctx
    return ctx


def h_pit_open_es(req):
    for p in ("routing", "preference", "allow_partial_search_results", "max_concurrent_shard_requests",
              "index_filter"):
        req.param(p)
    with req.cluster.lock:
        ctx = _create_pit_ctx(req, req.param("keep_alive"))
    body = {"id": ctx.extra["pit_id"]}
    if req.flavour.major >= 8:
        n = len(ctx.readers)
        body["_shards"] = {"total": n, "successful": n, "skipped": 0, "failed": 0}
    return ok(body)


def h_pit_close_es(req):
    c = req.cluster
    body = req.json(required=True)
    if not isinstance(body, dict) or "id" not in body:
        raise parsing_error("Required [id]", etype="x_content_parse_exception")
    n = parse_ctx_id("pit", str(body["id"]))
    if n is None:
        raise illegal_argument("invalid id")
    with c.lock:
        freed = 1 if c.contexts.pop(("pit", n), None) is not None else 0
    return ok({"succeeded": True, "num_freed": freed}, 200 if freed else 404)


def h_pit_open_os(req):
    for p in ("routing", "preference", "allow_partial_pit_creation", "expand_wildcards"):
        req.param(p)
    with req.cluster.lock:
        ctx = _create_pit_ctx(req, req.param("keep_alive"))
    n = len(ctx.readers)
    return ok({"pit_id": ctx.extra["pit_id"], "_shards": {"total": n, "successful": n, "skipped": 0, "failed": 0},
               "creation_time": ctx.created})


def h_pit_delete_os(req):
    c = req.cluster
    body = req.json(required=True)
    if not isinstance(body, dict) or "pit_id" not in body:
        raise validation_error("No pit ids specified")
    ids = body["pit_id"]
    ids = ids if isinstance(ids, list) else [ids]
    if not ids:
        raise validation_error("No pit ids specified")
    out = []
    with c.lock:
        for pid in ids:
            n = parse_ctx_id("pit", str(pid))
            okk = n is not None and c.contexts.pop(("pit", n), None) is not None
            out.append({"successful": okk, "pit_id": pid})
    return ok({"pits": out})


def h_pit_delete_all_os(req):
    c = req.cluster
    with c.lock:
        out = []
        for k in [k for k in c.contexts if k[0] == "pit"]:
            ctx = c.contexts.pop(k)
            out.append({"successful": True, "pit_id": ctx.extra["pit_id"]})
    return ok({"pits": out})


def h_pit_all_os(req):
    c = req.cluster
    with c.lock:
        c.expire_contexts()
        out = [{"pit_id": ctx.extra["pit_id"], "creation_time": ctx.created, "keep_alive": ctx.keep_alive_ms}
               for k, ctx in sorted(c.contexts.items()) if k[0] == "pit"]
    return ok({"pits": out})
