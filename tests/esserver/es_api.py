"""REST endpoints of the Elasticsearch-compatible test server.

DESIGN: a Router maps (method, path) to a handler the way Elasticsearch's PathTrie does
(literal segments win over {placeholders}; a known path with the wrong method is a 405 with
an Allow header; an unknown path is a 400 "no handler found"). Each route declares the URL
parameters it accepts; anything else is rejected with the "contains unrecognized parameter"
error a real node sends, so a client cannot rely on a parameter the server silently ignores.

Handlers receive an ApiRequest (path parts, parameters, body bytes) and return an
ApiResponse; they raise EsError for errors. Parsing happens outside the cluster lock; every
state change happens inside it.
"""

import difflib
import json
import time

from es_common import (EsError, RawJson, illegal_argument, validation_error,
                       parsing_error, index_not_found, loads_strict, JsonSyntaxError, bool_param,
                       int_param, parse_time_ms, format_time_ms, format_bytes, iso_ms, glob_match,
                       now_ms, search_phase_error, REJECTED_ITEM_REASON)
from es_cluster import (WriteOp, validate_op, apply_index, apply_delete, deep_merge, write_result,
                        document_missing, normalize_index_settings, check_setting_names,
                        check_setting_values, is_dynamic_setting, nest_settings, DEFAULT_SETTINGS,
                        CLUSTER_SETTINGS, SearchContext, check_routing_required,
                        flatten_settings, setting_str, FINAL_SETTINGS)
from es_mapping import mapper_error
from es_search import (parse_search, parse_source_filter, Target, bind_targets, collect, after_key,
                       apply_search_after, total_obj, render_hit, run_aggs, make_ctx_id, parse_ctx_id,
                       context_missing, run_count, filter_source, stored_fields, source_value)
from es_query import parse_query, q_param_query

COMMON_PARAMS = {"pretty", "human", "error_trace", "filter_path", "source", "source_content_type"}


class ApiRequest(object):
    def __init__(self, method, path, params, body, headers, cluster, flavour, server=None):
        self.method = method
        self.path = path
        self.params = params
        self.body = body
        self.headers = headers
        self.cluster = cluster
        self.flavour = flavour
        self.server = server
        self.parts = {}
        self.used = set()
        self.warnings = []
        self._json = None
        self._json_done = False

    def param(self, name, default=None):
        self.used.add(name)
        return self.params.get(name, default)

    def bool(self, name, default=False):
        return bool_param(self.param(name), name, default)

    def json(self, required=False):
        if not self._json_done:
            self._json_done = True
            data = self.body
            if not data:
                src = self.params.get("source")
                if src is not None:
                    data = src.encode("utf-8")
            if not data or not data.strip():
                if required:
                    raise EsError(400, "parse_exception", "request body is required")
                self._json = None
            else:
                try:
                    self._json = loads_strict(data)
                except JsonSyntaxError as e:
                    raise EsError(400, "json_parse_exception" if self.flavour.is_os or self.flavour.major < 8
                                  else "x_content_parse_exception", e.message)
        if self._json is None and required:
            raise EsError(400, "parse_exception", "request body is required")
        return self._json


class ApiResponse(object):
    def __init__(self, status, body, content_type=None, headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def ok(body, status=200):
    return ApiResponse(status, body)


# ---------------------------------------------------------------------------------------
# routing

class Route(object):
    def __init__(self, methods, path, handler, params=(), body=True, flavours=None):
        self.methods = set(methods)
        self.path = path
        self.segs = [s for s in path.split("/") if s]
        self.handler = handler
        self.params = set(params) | COMMON_PARAMS
        self.body = body
        self.flavours = flavours

    def match(self, segs):
        if len(segs) != len(self.segs):
            return None
        parts = {}
        for want, got in zip(self.segs, segs):
            if want.startswith("{"):
                parts[want[1:-1]] = got
            elif want != got:
                return None
        return parts

    def literal_score(self):
        return tuple(0 if s.startswith("{") else 1 for s in self.segs)


class Router(object):
    def __init__(self, flavour):
        self.flavour = flavour
        self.routes = [r for r in ROUTES if r.flavours is None or flavour.name in r.flavours]

    def find(self, method, segs):
        """Returns (route, parts) or raises PlainError (400 no handler / 405)."""
        cands = []
        for r in self.routes:
            p = r.match(segs)
            if p is not None:
                cands.append((r, p))
        if not cands:
            return None, None, set()
        cands.sort(key=lambda rp: rp[0].literal_score(), reverse=True)
        allowed = set()
        best = cands[0][0].literal_score()
        for r, p in cands:
            if r.literal_score() != best:
                # a less specific route only counts if no more specific one exists for the method
                pass
            if method in r.methods or (method == "HEAD" and "GET" in r.methods):
                return r, p, None
            allowed |= r.methods
        return None, None, allowed


def split_path(path):
    from urllib.parse import unquote
    return [unquote(s) for s in path.split("/") if s != ""]


def check_params(req, route):
    unknown = [p for p in req.params if p not in route.params and p not in req.parts]
    if unknown:
        unknown.sort()
        msgs = []
        for u in unknown:
            close = difflib.get_close_matches(u, sorted(route.params - COMMON_PARAMS), n=1, cutoff=0.75)
            msgs.append("[%s]%s" % (u, (" -> did you mean [%s]?" % close[0]) if close else ""))
        raise illegal_argument("request [%s] contains unrecognized parameter%s: %s"
                               % (req.path, "s" if len(unknown) > 1 else "", ", ".join(msgs)))


# ---------------------------------------------------------------------------------------
# helpers

def _doc_type(flavour, d):
    if flavour.doc_type_in_responses:
        d["_type"] = "_doc"
    return d


def _ack(extra=None):
    d = {"acknowledged": True}
    if extra:
        d.update(extra)
    return d


def _expand(req, default="open"):
    return req.param("expand_wildcards", default)


def _now():
    return time.monotonic()


def _keep_alive(cluster, ms, setting="search.max_keep_alive"):
    mx = parse_time_ms(cluster.cluster_setting(setting), setting)
    if ms > mx:
        raise illegal_argument(
            "Keep alive for request (%s) is too large. It must be less than (%s). This limit can be set by "
            "changing the [%s] cluster level setting." % (format_time_ms(ms), format_time_ms(mx), setting))


# ---------------------------------------------------------------------------------------
# info and cluster

def h_info(req):
    if req.method == "HEAD":
        return ApiResponse(200, b"", "text/plain; charset=UTF-8")
    return ok(req.flavour.root)


def h_cluster_health(req):
    c = req.cluster
    wait = req.param("wait_for_status")
    timeout = parse_time_ms(req.param("timeout", "30s"), "timeout")
    level = req.param("level", "cluster")
    for p in ("local", "master_timeout", "cluster_manager_timeout", "wait_for_active_shards",
              "wait_for_nodes", "wait_for_events", "wait_for_no_relocating_shards",
              "wait_for_no_initializing_shards", "expand_wildcards", "awareness_attribute",
              "ensure_node_weighed_in"):
        req.param(p)
    if wait is not None and wait not in ("green", "yellow", "red"):
        raise illegal_argument("unknown cluster health status [%s]" % wait)
    rank = {"green": 0, "yellow": 1, "red": 2}
    deadline = time.monotonic() + timeout / 1000.0
    while True:
        with c.lock:
            if req.parts.get("index"):
                targets = [i for i, _ in c.resolve(req.parts["index"], expand_wildcards="all")]
            else:
                targets = list(c.indices.values())
            body = _health_body(c, targets, level)
        if wait is None or rank[body["status"]] <= rank[wait] or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if wait is not None and rank[body["status"]] > rank[wait]:
        body["timed_out"] = True
        return ok(body, 408)
    return ok(body)


def _health_body(c, indices, level):
    prim = sum(i.num_shards for i in indices if i.state == "open")
    unassigned = sum(i.num_shards * i.replicas() for i in indices if i.state == "open")
    status = "green"
    for i in indices:
        if i.health() == "yellow":
            status = "yellow"
    total = prim + unassigned
    b = {"cluster_name": c.flavour.cluster_name, "status": status, "timed_out": False,
         "number_of_nodes": 1, "number_of_data_nodes": 1}
    if c.flavour.is_os:
        b["discovered_master"] = True
        b["discovered_cluster_manager"] = True
    b.update({"active_primary_shards": prim, "active_shards": prim, "relocating_shards": 0,
              "initializing_shards": 0, "unassigned_shards": unassigned})
    if c.flavour.name in ("es8", "es9"):
        b["unassigned_primary_shards"] = 0
    b.update({"delayed_unassigned_shards": 0, "number_of_pending_tasks": 0,
              "number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0,
              "active_shards_percent_as_number": 100.0 if total == 0 else prim * 100.0 / total})
    if level in ("indices", "shards"):
        b["indices"] = {}
        for i in indices:
            b["indices"][i.name] = {"status": i.health(), "number_of_shards": i.num_shards,
                                    "number_of_replicas": i.replicas(), "active_primary_shards": i.num_shards,
                                    "active_shards": i.num_shards, "relocating_shards": 0,
                                    "initializing_shards": 0, "unassigned_shards": i.num_shards * i.replicas()}
    return b


def h_cluster_state(req):
    c = req.cluster
    for p in ("local", "master_timeout", "cluster_manager_timeout", "flat_settings",
              "wait_for_metadata_version", "wait_for_timeout", "allow_no_indices",
              "ignore_unavailable", "expand_wildcards"):
        req.param(p)
    metrics = set((req.parts.get("metric") or "_all").split(","))
    with c.lock:
        if req.parts.get("index"):
            idxs = [i for i, _ in c.resolve(req.parts["index"], expand_wildcards="all")]
        else:
            idxs = list(c.indices.values())
        body = {"cluster_name": c.flavour.cluster_name, "cluster_uuid": c.flavour.root["cluster_uuid"]}
        if "_all" in metrics or "metadata" in metrics:
            md = {"cluster_uuid": c.flavour.root["cluster_uuid"], "indices": {}}
            for i in idxs:
                md["indices"][i.name] = {
                    "state": i.state, "settings": nest_settings(i.all_settings(c.flavour)),
                    "mappings": {"_doc": i.mapping.to_json()} if i.mapping.root else {},
                    "aliases": sorted(c.aliases_of(i.name)), "primary_terms": {str(s): 1 for s in range(i.num_shards)},
                    "in_sync_allocations": {str(s): [] for s in range(i.num_shards)},
                    "routing_num_shards": i.routing_shards}
            body["metadata"] = md
        if "_all" in metrics or "nodes" in metrics:
            body["nodes"] = {"tIJ7gfLWQKSk1xa1ZRzBcA": {"name": c.flavour.root["name"],
                                                        "transport_address": "127.0.0.1:9300"}}
    return ok(body)


def h_cluster_settings_get(req):
    c = req.cluster
    flat = req.bool("flat_settings")
    for p in ("include_defaults", "master_timeout", "cluster_manager_timeout", "timeout"):
        req.param(p)
    with c.lock:
        body = {"persistent": dict(c.persistent), "transient": dict(c.transient)}
        if bool_param(req.params.get("include_defaults"), "include_defaults"):
            body["defaults"] = {k: v for k, v in CLUSTER_SETTINGS.items() if v is not None}
    if not flat:
        body = {k: nest_settings(v) for k, v in body.items()}
    return ok(body)


def h_cluster_settings_put(req):
    c = req.cluster
    body = req.json(required=True)
    flat_out = req.bool("flat_settings")
    for p in ("master_timeout", "cluster_manager_timeout", "timeout"):
        req.param(p)
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    for k in body:
        if k not in ("persistent", "transient"):
            raise illegal_argument("unknown cluster settings key [%s]" % k)
    result = {"acknowledged": True, "persistent": {}, "transient": {}}
    with c.lock:
        for scope in ("persistent", "transient"):
            flat = flatten_settings(body.get(scope) or {})
            for k, v in flat.items():
                if k not in CLUSTER_SETTINGS and not k.startswith("logger.") and \
                        not k.startswith("cluster.routing.") and not k.startswith("indices.") and \
                        not k.startswith("search.") and not k.startswith("plugins.") and \
                        not k.startswith("cluster.") and not k.startswith("action.") and \
                        not k.startswith("opendistro") and not k.startswith("xpack."):
                    raise illegal_argument("%s setting [%s], not recognized" % (scope, k))
                if v is not None and k in ("search.max_keep_alive", "search.default_keep_alive",
                                           "point_in_time.max_keep_alive"):
                    parse_time_ms(v, k)
            target = c.persistent if scope == "persistent" else c.transient
            for k, v in flat.items():
                if v is None:
                    target.pop(k, None)
                else:
                    target[k] = setting_str(v)
                    result[scope][k] = setting_str(v)
    if not flat_out:
        result["persistent"] = nest_settings(result["persistent"])
        result["transient"] = nest_settings(result["transient"])
    return ok(result)


# ---------------------------------------------------------------------------------------
# indices

CREATE_KEYS = {"settings", "mappings", "aliases"}


def h_index_create(req):
    c = req.cluster
    name = req.parts["index"]
    for p in ("wait_for_active_shards", "timeout", "master_timeout", "cluster_manager_timeout",
              "include_type_name"):
        req.param(p)
    body = req.json() or {}
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    for k in body:
        if k not in CREATE_KEYS:
            raise EsError(400, "parse_exception", "unknown key [%s] for create index" % k)
    settings = normalize_index_settings(body.get("settings") or {})
    mappings = body.get("mappings")
    if isinstance(mappings, dict) and req.flavour.name == "es7" and len(mappings) == 1 \
            and "_doc" in mappings and bool_param(req.params.get("include_type_name"), "include_type_name"):
        mappings = mappings["_doc"]
    with c.lock:
        c.create_index(name, settings, mappings, body.get("aliases"))
    return ok({"acknowledged": True, "shards_acknowledged": True, "index": name})


def h_index_exists(req):
    c = req.cluster
    for p in ("allow_no_indices", "expand_wildcards", "flat_settings", "ignore_unavailable",
              "include_defaults", "local"):
        req.param(p)
    try:
        with c.lock:
            found = c.resolve(req.parts["index"], ignore_unavailable=req.bool("ignore_unavailable"),
                              allow_no_indices=bool_param(req.params.get("allow_no_indices"), "x", False),
                              expand_wildcards=req.params.get("expand_wildcards", "open"))
    except EsError as e:
        if e.status == 404:
            return ApiResponse(404, b"", "text/plain; charset=UTF-8")
        raise
    return ApiResponse(200 if found else 404, b"", "text/plain; charset=UTF-8")


def h_index_get(req):
    c = req.cluster
    flat = req.bool("flat_settings")
    defaults = req.bool("include_defaults")
    for p in ("local", "master_timeout", "cluster_manager_timeout", "include_type_name"):
        req.param(p)
    with c.lock:
        found = c.resolve(req.parts["index"], ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                          expand_wildcards=_expand(req, "open,closed"))
        out = {}
        for idx, _ in found:
            s = idx.all_settings(c.flavour)
            entry = {"aliases": {a: p for a, p in sorted(c.aliases_of(idx.name).items())},
                     "mappings": idx.mapping.to_json(),
                     "settings": s if flat else nest_settings(s)}
            if defaults:
                d = {k: v for k, v in DEFAULT_SETTINGS.items() if k not in s}
                entry["defaults"] = d if flat else nest_settings(d)
            out[idx.name] = entry
    return ok(out)


def h_index_delete(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    expr = req.parts["index"]
    with c.lock:
        if c.cluster_setting("action.destructive_requires_name") == "true":
            for part in expr.split(","):
                if part in ("_all", "*") or "*" in part:
                    raise illegal_argument("Wildcard expressions or all indices are not allowed")
        found = c.resolve(expr, ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                          expand_wildcards=_expand(req, "open,closed"), reject_aliases=True)
        for idx, via in found:
            if via and None not in via:
                continue
            idx.check_block("metadata", c.flavour)
        for idx, via in found:
            if via and None not in via:
                continue
            c.delete_index(idx)
    return ok(_ack())


def h_index_close(req, close=True):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout", "wait_for_active_shards",
              "task_execution_timeout", "wait_for_completion"):
        req.param(p)
    with c.lock:
        found = c.resolve(req.parts["index"], ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                          expand_wildcards=_expand(req, "open" if close else "closed"))
        res = {}
        for idx, _ in found:
            idx.state = "close" if close else "open"
            if close:
                res[idx.name] = {"closed": True}
                for cid in [k for k, ctx in c.contexts.items() if any(r.index is idx for r in ctx.readers)]:
                    del c.contexts[cid]
    if close:
        return ok({"acknowledged": True, "shards_acknowledged": True, "indices": res})
    return ok({"acknowledged": True, "shards_acknowledged": True})


def h_index_open(req):
    return h_index_close(req, close=False)


def h_mapping_get(req):
    c = req.cluster
    for p in ("local", "master_timeout", "cluster_manager_timeout", "include_type_name"):
        req.param(p)
    with c.lock:
        found = c.resolve(req.parts.get("index"), ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                          expand_wildcards=_expand(req))
        return ok({idx.name: {"mappings": idx.mapping.to_json()} for idx, _ in found})


def h_mapping_put(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout", "write_index_only",
              "include_type_name"):
        req.param(p)
    body = req.json(required=True)
    with c.lock:
        found = c.resolve(req.parts.get("index"), ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", False),
                          expand_wildcards=_expand(req))
        # validate on copies first so a failure changes nothing (the update is atomic)
        from es_mapping import Mapping
        for idx, _ in found:
            idx.check_block("metadata", c.flavour)
            trial = Mapping(None, idx.settings)
            trial.root = dict(idx.mapping.root)
            try:
                trial.merge(body)
            except EsError as e:
                if e.etype == "mapper_parsing_exception" and e.reason.startswith("Root mapping"):
                    raise mapper_error(e.reason)
                raise
        for idx, _ in found:
            idx.mapping.merge(body)
    return ok(_ack())


def h_settings_get(req):
    c = req.cluster
    flat = req.bool("flat_settings")
    defaults = req.bool("include_defaults")
    for p in ("local", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    names = req.parts.get("name")
    pats = [n for n in names.split(",")] if names and names != "_all" else None
    with c.lock:
        found = c.resolve(req.parts.get("index"), ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                          expand_wildcards=_expand(req, "open,closed"))
        out = {}
        for idx, _ in found:
            s = idx.all_settings(c.flavour)
            if pats:
                s = {k: v for k, v in s.items() if any(glob_match(p, k) for p in pats)}
            if not s and pats:
                continue
            entry = {"settings": s if flat else nest_settings(s)}
            if defaults:
                d = {k: v for k, v in DEFAULT_SETTINGS.items() if k not in s}
                if pats:
                    d = {k: v for k, v in d.items() if any(glob_match(p, k) for p in pats)}
                entry["defaults"] = d if flat else nest_settings(d)
            out[idx.name] = entry
    return ok(out)


def h_settings_put(req):
    c = req.cluster
    flat = req.bool("flat_settings")
    preserve = req.bool("preserve_existing")
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    body = req.json(required=True)
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    if "settings" in body and isinstance(body["settings"], dict) and len(body) == 1:
        body = body["settings"]
    new = normalize_index_settings(body)
    check_setting_names(new, is_update=True)
    check_setting_values({k: v for k, v in new.items() if v is not None})
    expr = req.parts.get("index")
    if expr is not None:
        expr = ",".join(p.strip() for p in expr.split(","))
    with c.lock:
        found = c.resolve(expr, ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                          expand_wildcards=_expand(req, "open"))
        for idx, _ in found:
            only_blocks = all(k.startswith("index.blocks.") for k in new)
            if not only_blocks:
                idx.check_block("metadata", c.flavour)
            for k in new:
                if k in FINAL_SETTINGS:
                    raise illegal_argument("final %s setting [%s], not updateable" % ("index", k))
            static = sorted(k for k in new if not is_dynamic_setting(k) and not (preserve and k in idx.settings))
            if static and idx.state == "open":
                raise illegal_argument("Can't update non dynamic settings [[%s]] for open indices [[%s/%s]]"
                                       % (", ".join(static), idx.name, idx.uuid))
        for idx, _ in found:
            for k, v in new.items():
                if preserve and k in idx.settings:
                    continue
                if v is None:
                    idx.settings.pop(k, None)
                    if k == "index.number_of_replicas":
                        idx.settings[k] = "1"
                else:
                    idx.settings[k] = v
            idx.mapping.settings = idx.settings
    return ok(_ack())


def h_refresh(req):
    c = req.cluster
    with c.lock:
        found = c.resolve(req.parts.get("index"), ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                          expand_wildcards=_expand(req))
        total = succ = 0
        for idx, _ in found:
            if idx.state != "open":
                continue
            idx.refresh()
            total += idx.num_shards * (1 + idx.replicas())
            succ += idx.num_shards
    return ok({"_shards": {"total": total, "successful": succ, "failed": 0}})


def h_flush(req):
    for p in ("force", "wait_if_ongoing"):
        req.param(p)
    return h_refresh(req)


def h_stats(req):
    c = req.cluster
    for p in ("level", "completion_fields", "fielddata_fields", "fields", "groups", "include_segment_file_sizes",
              "include_unloaded_segments", "forbid_closed_indices", "expand_wildcards"):
        req.param(p)
    with c.lock:
        found = c.resolve(req.parts.get("index"), expand_wildcards=req.params.get("expand_wildcards", "open"))
        indices = {}
        tot_docs = tot_del = tot_size = shards = 0
        for idx, _ in found:
            if idx.state != "open":
                continue
            idx.maybe_scheduled_refresh()
            d, dd, sz = idx.doc_count(), idx.deleted_count(), idx.store_bytes()
            prim = {"docs": {"count": d, "deleted": dd}, "store": {"size_in_bytes": sz},
                    "indexing": {"index_total": sum(s.next_seq_no for s in idx.shards)}}
            indices[idx.name] = {"uuid": idx.uuid, "health": idx.health(), "status": "open",
                                 "primaries": prim, "total": prim}
            tot_docs += d
            tot_del += dd
            tot_size += sz
            shards += idx.num_shards
        allp = {"docs": {"count": tot_docs, "deleted": tot_del}, "store": {"size_in_bytes": tot_size}}
    return ok({"_shards": {"total": shards, "successful": shards, "failed": 0},
               "_all": {"primaries": allp, "total": allp}, "indices": indices})


# ---------------------------------------------------------------------------------------
# aliases

def _alias_targets(c, expr, expand="open,closed"):
    return [i for i, _ in c.resolve(expr, expand_wildcards=expand)]


def h_aliases_update(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    body = req.json(required=True)
    if not isinstance(body, dict) or not isinstance(body.get("actions"), list):
        raise validation_error("no actions specified" if isinstance(body, dict) else "request body must be an object")
    if not body["actions"]:
        raise validation_error("no actions specified")
    plan = []
    removed = set()
    with c.lock:
        for act in body["actions"]:
            if isinstance(act, dict) and isinstance(act.get("remove_index"), dict):
                spec = act["remove_index"]
                names = spec.get("indices", [spec.get("index")])
                removed.update(n for n in (names if isinstance(names, list) else [names]) if n in c.indices)
        for act in body["actions"]:
            if not isinstance(act, dict) or len(act) != 1:
                raise parsing_error("[alias_action] malformed action", etype="x_content_parse_exception")
            (kind, spec), = act.items()
            if kind not in ("add", "remove", "remove_index"):
                raise parsing_error("[alias_action] unknown field [%s]" % kind, etype="x_content_parse_exception")
            if not isinstance(spec, dict):
                raise parsing_error("[%s] malformed" % kind, etype="x_content_parse_exception")
            idx_names = spec.get("indices", [spec["index"]] if "index" in spec else None)
            if isinstance(idx_names, str):
                idx_names = [idx_names]
            if not idx_names:
                raise validation_error("One of [index] or [indices] is required")
            if kind == "remove_index":
                for n in idx_names:
                    if n in c.aliases and n not in c.indices:
                        raise illegal_argument("The provided expression [%s] matches an alias, specify the "
                                               "corresponding concrete indices instead." % n)
                for idx, _ in c.resolve(",".join(idx_names), expand_wildcards="open,closed", reject_aliases=True):
                    plan.append(("remove_index", idx, None, None))
                    removed.add(idx.name)
                continue
            if "aliases" in spec:
                aliases = spec["aliases"]
                if isinstance(aliases, str):
                    aliases = [aliases]
                if not aliases:
                    raise illegal_argument("[aliases] can't be empty")
            elif "alias" in spec:
                aliases = [spec["alias"]]
            else:
                raise validation_error("One of [alias] or [aliases] is required")
            idxs = _alias_targets(c, ",".join(idx_names))
            if kind == "add":
                props = {k: v for k, v in spec.items() if k in ("filter", "routing", "index_routing",
                                                               "search_routing", "is_write_index", "is_hidden")}
                for k in spec:
                    if k not in ("index", "indices", "alias", "aliases", "filter", "routing", "index_routing",
                                 "search_routing", "is_write_index", "is_hidden", "must_exist"):
                        raise parsing_error("[add] unknown field [%s]" % k, etype="x_content_parse_exception")
                if props.get("filter") is not None:
                    parse_query(props["filter"], req.flavour)
                for idx in idxs:
                    for a in aliases:
                        c._check_alias_name(a, removed=removed)
                        plan.append(("add", idx, a, props))
            else:
                must_exist = spec.get("must_exist")
                missing = []
                any_found = False
                for a in aliases:
                    hit = False
                    for idx in idxs:
                        for name in list(c.aliases):
                            if glob_match(a, name) and idx.name in c.aliases[name]:
                                plan.append(("remove", idx, name, None))
                                hit = True
                    if hit:
                        any_found = True
                    else:
                        missing.append(a)
                if (must_exist in (True, "true") and missing) or (not any_found and must_exist is None):
                    raise EsError(404, "aliases_not_found_exception",
                                  "aliases [%s] missing" % ",".join(missing),
                                  {"resource.type": "aliases", "resource.id": ",".join(missing)})
        # apply atomically
        for kind, idx, alias, props in plan:
            if kind == "add":
                c.aliases.setdefault(alias, {})[idx.name] = c._alias_props(props or {}, alias)
            elif kind == "remove":
                if alias in c.aliases:
                    c.aliases[alias].pop(idx.name, None)
                    if not c.aliases[alias]:
                        del c.aliases[alias]
            elif kind == "remove_index":
                if idx.name in c.indices:
                    c.delete_index(idx)
    return ok(_ack())


def h_alias_put(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    body = req.json() or {}
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    index = body.pop("index", None) or req.parts.get("index")
    name = body.pop("alias", None) or req.parts.get("name")
    if index in (None, "null") or name in (None, "null"):
        raise validation_error(["index is missing" if index in (None, "null") else "alias is missing"])
    with c.lock:
        idxs = _alias_targets(c, index)
        if not idxs:
            raise index_not_found(index)
        props = c._alias_props(body, name)
        if props.get("filter") is not None:
            parse_query(props["filter"], req.flavour)
        c._check_alias_name(name)
        for idx in idxs:
            c.aliases.setdefault(name, {})[idx.name] = dict(props)
    return ok(_ack())


def h_alias_delete(req):
    c = req.cluster
    for p in ("timeout", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    with c.lock:
        idxs = _alias_targets(c, req.parts["index"])
        names = req.parts["name"].split(",")
        removed = False
        missing = []
        for n in names:
            hit = False
            for idx in idxs:
                for a in list(c.aliases):
                    if (n in ("_all", "*") or glob_match(n, a)) and idx.name in c.aliases[a]:
                        c.aliases[a].pop(idx.name)
                        if not c.aliases[a]:
                            del c.aliases[a]
                        hit = removed = True
            if not hit:
                missing.append(n)
        if not removed:
            raise EsError(404, "aliases_not_found_exception", "aliases [%s] missing" % ",".join(missing),
                          {"resource.type": "aliases", "resource.id": ",".join(missing)})
    return ok(_ack())


def h_alias_get(req, head=False):
    c = req.cluster
    for p in ("local", "master_timeout", "cluster_manager_timeout"):
        req.param(p)
    name_expr = req.parts.get("name")
    names = [n for n in name_expr.split(",")] if name_expr else []
    explicit = bool(names)
    with c.lock:
        idx_expr = req.parts.get("index")
        found = c.resolve(idx_expr, ignore_unavailable=req.bool("ignore_unavailable"),
                          allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                          expand_wildcards=_expand(req, "all"))
        resp = {}
        returned = set()
        for idx, _ in found:
            mine = c.aliases_of(idx.name)
            sel = {}
            for a in sorted(mine):
                if _alias_selected(a, names):
                    sel[a] = mine[a]
            if sel:
                returned.update(sel)
            if sel or not explicit:
                resp[idx.name] = {"aliases": sel}
        missing = _missing_aliases(names, returned) if explicit else []
    if head:
        return ApiResponse(200 if (resp and not missing and (returned or not explicit)) else 404, b"",
                           "text/plain; charset=UTF-8")
    if missing:
        msg = ("alias [%s] missing" if len(missing) == 1 else "aliases [%s] missing") % ",".join(missing)
        body = {"error": msg, "status": 404}
        body.update(resp)
        return ok(body, 404)
    return ok(resp)


def h_alias_exists(req):
    return h_alias_get(req, head=True)


def _alias_selected(alias, names):
    if not names:
        return True
    matched = False
    for n in names:
        if n.startswith("-"):
            if matched and glob_match(n[1:], alias):
                matched = False
        elif not matched:
            matched = n == "_all" or glob_match(n, alias)
    return matched


def _missing_aliases(names, returned):
    first_wc = len(names)
    for i, n in enumerate(names):
        if "*" in n:
            first_wc = i
            break
    missing = set()
    for i, n in enumerate(names):
        if n == "_all" or "*" in n or (i > first_wc and n.startswith("-")):
            continue
        j = max(i + 1, first_wc)
        excluded = False
        while j < len(names):
            if names[j].startswith("-") and (glob_match(names[j][1:], n) or names[j] == "_all"):
                excluded = True
                break
            j += 1
        if not excluded and n not in returned:
            missing.add(n)
    return sorted(missing)


# ---------------------------------------------------------------------------------------
# single documents

def _refresh_param(req):
    r = req.param("refresh")
    if r is None or r == "false":
        return None
    if r in ("", "true"):
        return "true"
    if r == "wait_for":
        return "wait_for"
    raise illegal_argument("Unknown value for refresh: [%s]." % r)


def _doc_op(req, action):
    op = WriteOp(action)
    op.id = req.parts.get("id")
    op.routing = req.param("routing")
    v = req.param("version")
    op.version = int_param(v, "version")
    op.version_type = req.param("version_type", "internal")
    op.if_seq_no = int_param(req.param("if_seq_no"), "if_seq_no")
    op.if_primary_term = int_param(req.param("if_primary_term"), "if_primary_term")
    op.require_alias = req.bool("require_alias")
    op.pipeline = req.param("pipeline")
    return op


def _parse_source(req, doc_id):
    body = req.body
    if not body or not body.strip():
        raise validation_error("source is missing")
    try:
        obj = loads_strict(body)
    except JsonSyntaxError as e:
        raise mapper_error("failed to parse", caused_by=EsError(400, "json_parse_exception", e.message))
    return bytes(body).strip(), obj


def h_doc_index(req):
    c = req.cluster
    action = "create" if "/_create/" in req.path else "index"
    for p in ("timeout", "wait_for_active_shards"):
        req.param(p)
    op = _doc_op(req, action)
    ot = req.param("op_type")
    if ot is not None:
        if ot not in ("index", "create"):
            raise illegal_argument("opType must be 'create' or 'index', found: [%s]" % ot)
        op.op_type_create = ot == "create"
    if req.method == "POST" and op.id is None and action == "index":
        op.op_type_create = True
    refresh = _refresh_param(req)
    if op.id is not None:
        validate_op_or_item(op, whole=True)
    else:
        validate_op_or_item(op, whole=True)
    op.source, op.source_obj = _parse_source(req, op.id)
    with c.lock:
        idx, alias_props = c.write_target(req.parts["index"], op.require_alias)
        if alias_props and op.routing is None and alias_props.get("index_routing") is not None:
            op.routing = alias_props["index_routing"]
        status, res, shard = apply_index(c, idx, op, req.flavour)
        if refresh:
            shard.refresh()
            if refresh == "true":
                res = _forced(res)
    headers = {"Location": "/%s/_doc/%s" % (_quote(idx.name), _quote(res["_id"]))} if status == 201 else {}
    return ApiResponse(status, res, headers=headers)


def _quote(s):
    from urllib.parse import quote
    return quote(s, safe="")


def _forced(res):
    out = {}
    for k, v in res.items():
        out[k] = v
        if k == "result":
            out["forced_refresh"] = True
    return out


def validate_op_or_item(op, whole=True):
    validate_op(op)


def h_doc_delete(req):
    c = req.cluster
    for p in ("timeout", "wait_for_active_shards"):
        req.param(p)
    op = _doc_op(req, "delete")
    refresh = _refresh_param(req)
    validate_op(op)
    with c.lock:
        idx, props = c.index_for_read(req.parts["index"])
        if props and op.routing is None and props.get("index_routing") is not None:
            op.routing = props["index_routing"]
        status, res, shard = apply_delete(c, idx, op, req.flavour)
        if refresh:
            shard.refresh()
            if refresh == "true":
                res = _forced(res)
    return ApiResponse(status, res)


def _get_doc(c, req, name, doc_id, routing, realtime=True, refresh=False):
    idx, props = c.index_for_read(name)
    idx.check_open()
    if props and routing is None and props.get("search_routing") is not None:
        routing = props["search_routing"]
    check_routing_required(idx, routing, doc_id)
    if refresh:
        idx.refresh()
    shard = idx.shard_of(doc_id, routing)
    if realtime:
        d = shard.live.get(doc_id)
    else:
        idx.maybe_scheduled_refresh()
        pos = shard.reader.position(doc_id)
        d = shard.reader.docs[pos] if pos is not None else None
    return idx, d


def h_doc_get(req, source_only=False, head=False):
    c = req.cluster
    doc_id = req.parts["id"]
    realtime = bool_param(req.param("realtime"), "realtime", True)
    refresh = req.bool("refresh")
    req.param("preference")
    sf = parse_source_filter(None, req.param("_source"), req.param("_source_includes"),
                             req.param("_source_excludes"))
    stored = req.param("stored_fields")
    version = int_param(req.param("version"), "version")
    vt = req.param("version_type", "internal")
    with c.lock:
        idx, d = _get_doc(c, req, req.parts["index"], doc_id, req.param("routing"), realtime, refresh)
        if d is not None and version is not None:
            _check_get_version(idx, d, version, vt)
    if head:
        return ApiResponse(200 if d is not None else 404, b"", "text/plain; charset=UTF-8")
    if source_only:
        if d is None:
            raise EsError(404, "resource_not_found_exception",
                          "Document not found [%s]/[_doc]/[%s]" % (idx.name, doc_id))
        if sf.trivial():
            return ApiResponse(200, RawJson(d.source))
        return ok(source_value(d, sf))
    out = _doc_type(req.flavour, {"_index": idx.name})
    out["_id"] = doc_id
    if d is None:
        out["found"] = False
        return ok(out, 404)
    out["_version"] = d.version
    out["_seq_no"] = d.seq_no
    out["_primary_term"] = 1
    if d.routing is not None:
        out["_routing"] = d.routing
    out["found"] = True
    names = [x for x in stored.split(",")] if stored is not None else None
    if names is not None and "_source" not in names and req.params.get("_source") is None:
        sf.fetch = False
    sv = source_value(d, sf)
    if sv is not None:
        out["_source"] = sv
    if names:
        f = stored_fields(idx, d, names)
        if f:
            out["fields"] = f
    return ok(out)


def _check_get_version(idx, d, version, vt):
    from es_cluster import _conflict
    shard = idx.shard_of(d.id, d.routing)
    # a GET with a version only succeeds when it is the current one, whatever the version type
    if vt in ("internal", "external", "external_gte") and d.version != version:
        raise _conflict(idx, shard, d.id, "current version [%d] is different than the one provided [%d]"
                        % (d.version, version))


def h_doc_head(req):
    return h_doc_get(req, head=True)


def h_source_get(req):
    return h_doc_get(req, source_only=True)


def h_source_head(req):
    return h_doc_get(req, head=True)


UPDATE_KEYS = {"doc", "upsert", "doc_as_upsert", "script", "scripted_upsert", "detect_noop", "_source",
               "lang", "params"}


def parse_update_body(obj):
    if not isinstance(obj, dict):
        raise parsing_error("[UpdateRequest] failed to parse", etype="x_content_parse_exception")
    for k in obj:
        if k not in UPDATE_KEYS:
            raise EsError(400, "x_content_parse_exception", "[1:2] [UpdateRequest] unknown field [%s]" % k)
    if "script" in obj:
        raise illegal_argument("[script] updates are not supported by this test server")
    if "doc" not in obj and "upsert" not in obj:
        raise validation_error("script or doc is missing")
    if "doc" in obj and not isinstance(obj["doc"], dict):
        raise parsing_error("[UpdateRequest] doc must be an object", etype="x_content_parse_exception")
    return obj


def apply_update(c, idx, op, flavour, default_fetch=None):
    """Partial update / upsert of one document (lock held)."""
    idx.check_open()
    idx.check_block("write", flavour)
    body = op.update
    shard = idx.shard_of(op.id, op.routing)
    cur = shard.live.get(op.id)
    if op.if_seq_no is not None:
        from es_cluster import _conflict
        if cur is None:
            raise document_missing(idx, shard.num, op.id)
        if cur.seq_no != op.if_seq_no or op.if_primary_term != 1:
            raise _conflict(idx, shard, op.id, "required seqNo [%d], primary term [%d]. current document has "
                                               "seqNo [%d] and primary term [1]"
                            % (op.if_seq_no, op.if_primary_term, cur.seq_no))
    fetch = op.fetch_source if op.fetch_source is not None else default_fetch
    if body.get("_source") is not None:
        fetch = parse_source_filter(body["_source"])
    if cur is None:
        if body.get("doc_as_upsert") in (True, "true") and "doc" in body:
            new_obj = body["doc"]
        elif "upsert" in body:
            new_obj = body["upsert"]
        else:
            raise document_missing(idx, shard.num, op.id)
        result_kind = "created"
    else:
        base = json.loads(cur.source)
        new_obj, changed = deep_merge(base, body.get("doc", {}))
        if not changed and body.get("detect_noop", True) not in (False, "false"):
            res = write_result(idx, op.id, cur.version, "noop", cur.seq_no, flavour,
                               shards={"total": 0, "successful": 0, "failed": 0})
            if fetch is not None and fetch.fetch:
                res["get"] = _update_get(cur, cur.seq_no, cur.version, fetch, base)
            return 200, res, shard
        result_kind = "updated"
    iop = WriteOp("index")
    iop.id = op.id
    iop.routing = op.routing
    iop.source_obj = new_obj
    iop.source = json.dumps(new_obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    status, res, shard = apply_index(c, idx, iop, flavour)
    res["result"] = result_kind
    if fetch is not None and fetch.fetch:
        d = shard.live[op.id]
        res["get"] = _update_get(d, d.seq_no, d.version, fetch, new_obj)
    return status, res, shard


def _update_get(d, seq, version, fetch, obj):
    g = {"_seq_no": seq, "_primary_term": 1, "found": True}
    if fetch.trivial():
        g["_source"] = obj
    else:
        g["_source"] = filter_source(obj, fetch.includes, fetch.excludes)
    return g


def h_doc_update(req):
    c = req.cluster
    for p in ("timeout", "wait_for_active_shards", "lang", "retry_on_conflict"):
        req.param(p)
    op = _doc_op(req, "update")
    if op.version is not None or op.version_type != "internal":
        raise validation_error("Update requests do not support versioning. Please use `if_seq_no` and "
                               "`if_primary_term` instead")
    refresh = _refresh_param(req)
    sp = req.param("_source")
    si = req.param("_source_includes")
    se = req.param("_source_excludes")
    fetch = parse_source_filter(None, sp, si, se) if (sp is not None or si is not None or se is not None) else None
    body = req.json(required=True)
    op.update = parse_update_body(body)
    op.fetch_source = fetch
    validate_op(op)
    with c.lock:
        idx, props = c.write_target(req.parts["index"], op.require_alias)
        status, res, shard = apply_update(c, idx, op, req.flavour)
        if refresh:
            shard.refresh()
            if refresh == "true":
                res = _forced(res)
    return ApiResponse(status, res)


def h_mget(req):
    c = req.cluster
    body = req.json(required=True)
    realtime = bool_param(req.param("realtime"), "realtime", True)
    refresh = req.bool("refresh")
    req.param("preference")
    default_sf = parse_source_filter(None, req.param("_source"), req.param("_source_includes"),
                                     req.param("_source_excludes"))
    default_routing = req.param("routing")
    stored = req.param("stored_fields")
    if not isinstance(body, dict):
        raise parsing_error("request body must be an object")
    for k in body:
        if k not in ("docs", "ids"):
            raise parsing_error("unknown parameter [%s], expected one of [docs, ids]" % k)
    items = []
    if "docs" in body:
        if not isinstance(body["docs"], list):
            raise parsing_error("docs array element should include an object")
        for d in body["docs"]:
            if not isinstance(d, dict):
                raise parsing_error("docs array element should include an object")
            items.append(d)
    if "ids" in body:
        if not isinstance(body["ids"], list):
            raise parsing_error("ids array element should only contain ids")
        items.extend({"_id": i} for i in body["ids"])
    default_index = req.parts.get("index")
    errs = []
    for i, d in enumerate(items):
        if d.get("_index", default_index) is None:
            errs.append("index is missing for doc %d" % i)
        if d.get("_id") is None:
            errs.append("id is missing for doc %d" % i)
    if not items:
        errs.append("no documents to get")
    if errs:
        raise validation_error(errs)
    out = []
    with c.lock:
        for d in items:
            name = d.get("_index", default_index)
            doc_id = str(d["_id"])
            sf = parse_source_filter(d["_source"]) if "_source" in d else default_sf
            try:
                idx, doc = _get_doc(c, req, name, doc_id, d.get("routing", default_routing), realtime, refresh)
            except EsError as e:
                e2 = e.cause_obj()
                item = _doc_type(req.flavour, {"_index": name})
                item["_id"] = doc_id
                item["error"] = {"root_cause": [e.cause_obj(with_cause=False)], **e2}
                out.append(item)
                continue
            item = _doc_type(req.flavour, {"_index": idx.name})
            item["_id"] = doc_id
            if doc is None:
                item["found"] = False
            else:
                item["_version"] = doc.version
                item["_seq_no"] = doc.seq_no
                item["_primary_term"] = 1
                if doc.routing is not None:
                    item["_routing"] = doc.routing
                item["found"] = True
                names = d.get("stored_fields", stored.split(",") if stored else None)
                if names is not None and "_source" not in names and "_source" not in d:
                    sf = parse_source_filter(False)
                sv = source_value(doc, sf)
                if sv is not None:
                    item["_source"] = sv
            out.append(item)
    return ok({"docs": out})


# ---------------------------------------------------------------------------------------
# bulk

BULK_META = {"_index", "_type", "_id", "routing", "op_type", "version", "version_type", "if_seq_no",
             "if_primary_term", "retry_on_conflict", "pipeline", "_source", "require_alias",
             "dynamic_templates", "list_executed_pipelines", "require_data_stream"}


class BulkItemReject(Exception):
    pass


def parse_bulk(data, req):
    """Parses an NDJSON bulk body into WriteOps. Raises EsError for a malformed request."""
    flavour = req.flavour
    default_index = req.parts.get("index")
    default_routing = req.param("routing")
    default_pipeline = req.param("pipeline")
    default_require_alias = req.bool("require_alias")
    sp, si, se = req.param("_source"), req.param("_source_includes"), req.param("_source_excludes")
    default_fetch = parse_source_filter(None, sp, si, se) if (sp is not None or si is not None or se is not None) \
        else None
    req.param("type")
    lines = data.split(b"\n")
    # data ends with \n so the last element is empty
    n = len(lines) - 1
    ops = []
    i = 0
    line_no = 0
    loads = json.loads
    while i < n:
        raw = lines[i]
        i += 1
        line_no += 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw.strip():
            continue
        try:
            meta = loads_strict(raw)
        except JsonSyntaxError as e:
            raise EsError(400, "json_parse_exception" if flavour.is_os or flavour.major < 8 else
                          "x_content_parse_exception", e.message)
        if not isinstance(meta, dict):
            tok = "START_ARRAY" if isinstance(meta, list) else "VALUE_STRING" if isinstance(meta, str) else \
                "VALUE_NUMBER" if isinstance(meta, (int, float)) else "VALUE_NULL"
            raise illegal_argument("Malformed action/metadata line [%d], expected START_OBJECT but found [%s]"
                                   % (line_no, tok))
        if len(meta) == 0:
            raise illegal_argument("Malformed action/metadata line [%d], expected FIELD_NAME but found "
                                   "[END_OBJECT]" % line_no)
        action, params = next(iter(meta.items()))
        if len(meta) > 1:
            raise illegal_argument("Malformed action/metadata line [%d], expected END_OBJECT but found "
                                   "[FIELD_NAME]" % line_no)
        if action not in ("index", "create", "update", "delete"):
            raise illegal_argument("Malformed action/metadata line [%d], expected field [create], [delete], "
                                   "[index] or [update] but found [%s]" % (line_no, action))
        if not isinstance(params, dict):
            raise illegal_argument("Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT "
                                   "but found [%s]" % (line_no, "VALUE_STRING" if isinstance(params, str) else
                                                       "START_ARRAY" if isinstance(params, list) else "VALUE_NUMBER"))
        op = WriteOp(action)
        op.index = default_index
        op.routing = default_routing
        op.pipeline = default_pipeline
        op.require_alias = default_require_alias
        op.fetch_source = default_fetch
        for k, v in params.items():
            if k not in BULK_META or (k == "_type" and flavour.reject_type_in_bulk):
                raise illegal_argument("Action/metadata line [%d] contains an unknown parameter [%s]" % (line_no, k))
            if isinstance(v, list):
                raise illegal_argument("Malformed action/metadata line [%d], expected a simple value for field "
                                       "[%s] but found [START_ARRAY]" % (line_no, k))
            if isinstance(v, dict) and k != "_source" and k != "dynamic_templates":
                raise illegal_argument("Malformed action/metadata line [%d], expected a simple value for field "
                                       "[%s] but found [START_OBJECT]" % (line_no, k))
            if v is None:
                continue
            if k == "_index":
                op.index = str(v)
            elif k == "_id":
                op.id = str(v) if not isinstance(v, bool) else str(v).lower()
            elif k == "routing":
                op.routing = str(v)
            elif k == "op_type":
                if v not in ("index", "create"):
                    raise illegal_argument("opType must be 'create' or 'index', found: [%s]" % v)
                op.op_type_create = v == "create"
                if op.op_type_create and action == "index":
                    op.action = "create"
            elif k == "version":
                op.version = int(v)
            elif k == "version_type":
                op.version_type = str(v)
            elif k == "if_seq_no":
                op.if_seq_no = int(v)
            elif k == "if_primary_term":
                op.if_primary_term = int(v)
            elif k == "pipeline":
                op.pipeline = str(v)
            elif k == "_source":
                op.fetch_source = parse_source_filter(v)
            elif k == "require_alias":
                op.require_alias = v in (True, "true")
        if op.index is None:
            raise validation_error("index is missing")
        if action != "delete":
            if i >= n:
                break
            src = lines[i]
            i += 1
            line_no += 1
            if src.endswith(b"\r"):
                src = src[:-1]
            if action == "update":
                if op.version is not None or op.version_type != "internal":
                    raise illegal_argument("Update requests do not support versioning. Please use `if_seq_no` and "
                                           "`if_primary_term` instead")
                try:
                    ub = loads_strict(src)
                except JsonSyntaxError as e:
                    raise EsError(400, "json_parse_exception", e.message)
                op.update = parse_update_body(ub)
            else:
                op.source = src
        ops.append(op)
    if not ops:
        raise validation_error("no requests added")
    errs = []
    for op in ops:
        try:
            validate_op(op)
        except EsError as e:
            if e.etype == "action_request_validation_exception":
                errs.extend(x.strip() for x in e.reason[len("Validation Failed: "):].split(";") if x.strip())
                continue
        if op.action != "delete" and op.action != "update" and (op.source is None or not op.source.strip()):
            errs.append("source is missing")
    if errs:
        errs = [e.split(": ", 1)[1] if e[:1].isdigit() and ": " in e else e for e in errs]
        raise validation_error(errs)
    return ops


def _item_error(op, idx_name, e, flavour, doc_id=None):
    d = {"_index": idx_name}
    if flavour.doc_type_in_responses:
        d["_type"] = "_doc"
    d["_id"] = doc_id if doc_id is not None else op.id
    d["status"] = e.status
    d["error"] = e.item_obj()
    return d


def execute_bulk(req, ops, faults=None, stats=None):
    """Applies parsed ops in order. Returns (items, errors, touched indices)."""
    c = req.cluster
    flavour = req.flavour
    items = []
    errors = False
    touched = {}
    error_trace = req.bool("error_trace")
    loads = loads_strict
    n_ok = n_failed = n_rejected = 0
    targets = {}        # write targets resolved in this request (the lock is held throughout)
    may_reject = faults is not None and faults.has("bulk_item_reject")
    with c.lock:
        for op in ops:
            key = "create" if op.action == "create" else op.action
            if may_reject and faults.reject_item():
                n_rejected += 1
                e = EsError(429, "es_rejected_execution_exception", REJECTED_ITEM_REASON)
                items.append({key: _item_error(op, op.index, e, flavour)})
                errors = True
                continue
            idx_name = op.index
            try:
                if op.id is not None and op.id == "":
                    raise illegal_argument("if _id is specified it must not be empty")
                if op.pipeline is not None and op.pipeline != "_none":
                    raise illegal_argument("pipeline with id [%s] does not exist" % op.pipeline)
                if op.action == "delete":
                    try:
                        idx, props = c.write_target(op.index, op.require_alias, auto_create=op.version_type
                                                    in ("external", "external_gte"))
                    except EsError as e:
                        raise
                    idx_name = idx.name
                    if props and op.routing is None and props.get("index_routing") is not None:
                        op.routing = props["index_routing"]
                    status, res, shard = apply_delete(c, idx, op, flavour)
                elif op.action == "update":
                    idx, props = c.write_target(op.index, op.require_alias)
                    idx_name = idx.name
                    if props and op.routing is None and props.get("index_routing") is not None:
                        op.routing = props["index_routing"]
                    status, res, shard = apply_update(c, idx, op, flavour)
                else:
                    tk = (op.index, op.require_alias)
                    tgt = targets.get(tk)
                    if tgt is None:
                        tgt = targets[tk] = c.write_target(op.index, op.require_alias)
                    idx, props = tgt
                    idx_name = idx.name
                    if props and op.routing is None and props.get("index_routing") is not None:
                        op.routing = props["index_routing"]
                    try:
                        op.source_obj = loads(op.source)
                    except JsonSyntaxError as je:
                        raise mapper_error("failed to parse", caused_by=EsError(400, "json_parse_exception",
                                                                                 je.message))
                    if op.id is None:
                        from es_common import auto_id
                        op.id = auto_id()
                        op.auto_id = True
                    status, res, shard = apply_index(c, idx, op, flavour)
                touched[id(shard)] = shard
                res["status"] = status
                items.append({key: res})
                n_ok += 1
            except EsError as e:
                errors = True
                n_failed += 1
                it = _item_error(op, idx_name, e, flavour)
                if error_trace:
                    it["error"]["stack_trace"] = _stack_trace(e, it)
                items.append({key: it})
    if stats is not None:
        stats.count("items_ok", n_ok)
        stats.count("items_failed", n_failed)
        stats.count("items_rejected", n_rejected)
    return items, errors, touched


def _stack_trace(e, item):
    cls = "".join(p.capitalize() for p in e.etype.split("_"))
    cls = cls.replace("Exception", "Exception")
    return ("[%s][0]] %s[%s]\n\tat org.opensearch.action.bulk.TransportShardBulkAction.executeBulkItemRequest"
            "(TransportShardBulkAction.java)\n" % ("[" + item.get("_index", ""), cls, e.reason))


def h_bulk(req):
    data = req.body
    server = req.server
    stats = server.stats if server else None
    faults = server.faults if server else None
    if not data:
        raise EsError(400, "parse_exception", "request body is required")
    if data[-1:] != b"\n":
        raise illegal_argument("The bulk request must be terminated by a newline [\\n]")
    for p in ("timeout", "wait_for_active_shards", "batch_size", "list_executed_pipelines",
              "require_data_stream"):
        req.param(p)
    refresh = _refresh_param(req)
    start = time.monotonic()
    ops = parse_bulk(data, req)
    if stats is not None:
        stats.count("bulk_requests")
        stats.count("bulk_items", len(ops))
    items, errors, touched = execute_bulk(req, ops, faults, stats)
    if refresh:
        with req.cluster.lock:
            for shard in touched.values():
                shard.refresh()
        if refresh == "true":
            for it in items:
                (k, v), = it.items()
                if "result" in v:
                    it[k] = _forced(v)
    took = int((time.monotonic() - start) * 1000)
    return ok({"took": took, "errors": errors, "items": items})


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


def _targets(c, req, expr, pit=None, for_write=False):
    """(targets, shards total) for a search: readers are the current refreshed views, or the
    frozen ones of a point in time."""
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
    found = c.resolve(expr, ignore_unavailable=req.bool("ignore_unavailable"),
                      allow_no_indices=bool_param(req.param("allow_no_indices"), "x", True),
                      expand_wildcards=_expand(req))
    targets = []
    for rank, (idx, via) in enumerate(found):
        if idx.state != "open":
            if req.bool("ignore_unavailable"):
                continue
            raise EsError(400, "index_closed_exception", "closed", {"index_uuid": idx.uuid, "index": idx.name})
        idx.check_block("read", c.flavour)
        idx.maybe_scheduled_refresh()
        filters = None
        if via and None not in via:
            fl = [c.aliases[a][idx.name].get("filter") for a in via if a in c.aliases and idx.name in c.aliases[a]]
            if fl and all(f is not None for f in fl):
                filters = fl
        targets.append(Target(idx, [s.reader for s in idx.shards], filters, rank))
    return targets


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
                _keep_alive(c, ms, "point_in_time.max_keep_alive" if flavour.is_os else "search.max_keep_alive")
                if flavour.is_os:
                    # OpenSearch only extends a point in time; the reported keep_alive stays
                    pit_ctx.expires = max(pit_ctx.expires, _now() + ms / 1000.0)
                else:
                    pit_ctx.touch(ms)
        elif any(s.field == "_shard_doc" for s in (sreq.sort or [])) and flavour.shard_doc:
            if flavour.is_os:
                raise validation_error("_shard_doc is only supported with point-in-time (PIT)")
            raise validation_error("[_shard_doc] sort field cannot be used without [point in time]")
        if sreq.scroll_ms is not None:
            _keep_alive(c, sreq.scroll_ms)
        targets = _targets(c, req, req.parts.get("index"), pit_ctx)
        id_fd = c.cluster_setting("indices.id_field_data.enabled") == "true"
        bound = bind_targets(sreq, targets, flavour, id_fd, pit_ctx is not None, now_ms())
        if sreq.aggs:
            from es_search import check_aggs
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
        key = after_key(sorts if sorts else [_score_sb()], sreq.search_after)
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


def _score_sb():
    from es_search import SortBinding, SortSpec
    return SortBinding(SortSpec("_score"), "score")


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
            _keep_alive(c, ms)
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
        targets = _targets(c, req, req.parts.get("index"))
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
        targets = _targets(c, req, req.parts.get("index"))
        from es_search import SearchRequest
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
        from es_cluster import WriteOp as _W
        for h in hits:
            d = h.reader.docs[h.pos]
            idx = h.reader.index
            shard = idx.shard_of(d.id, d.routing)
            cur = shard.live.get(d.id)
            if cur is None or cur.seq_no != d.seq_no:
                continue
            op = _W("delete")
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
    _keep_alive(c, ms, "point_in_time.max_keep_alive" if req.flavour.is_os else "search.max_keep_alive")
    found = c.resolve(req.parts["index"], ignore_unavailable=req.bool("ignore_unavailable"),
                      allow_no_indices=True, expand_wildcards=_expand(req))
    readers = []
    filters = {}
    for idx, via in found:
        idx.check_open()
        idx.maybe_scheduled_refresh()
        readers.extend(s.reader for s in idx.shards)
        if via and None not in via:
            fl = [c.aliases[a][idx.name].get("filter") for a in via]
            if fl and all(f is not None for f in fl):
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


# ---------------------------------------------------------------------------------------
# _cat

CAT_INDICES_COLS = [
    ("health", ("h",)), ("status", ("s",)), ("index", ("i", "idx")), ("uuid", ("id", "uuid")),
    ("pri", ("p", "shards.primary", "shardsPrimary")), ("rep", ("r", "shards.replica", "shardsReplica")),
    ("docs.count", ("dc", "docsCount")), ("docs.deleted", ("dd", "docsDeleted")),
    ("creation.date", ("cd",)), ("creation.date.string", ("cds",)),
    ("store.size", ("ss", "storeSize")), ("pri.store.size", ()), ("dataset.size", ()),
]
CAT_DEFAULT = ["health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted",
               "store.size", "pri.store.size"]
NUMERIC_COLS = {"pri", "rep", "docs.count", "docs.deleted", "creation.date", "store.size", "pri.store.size",
                "dataset.size"}


def _cat_col(name):
    for col, aliases in CAT_INDICES_COLS:
        if name == col or name in aliases:
            return col
    return None


def _bytes_in(n, unit):
    div = {"b": 1, "k": 1024, "kb": 1024, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30,
           "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50}.get(unit)
    if div is None:
        raise illegal_argument("Unsupported bytes unit [%s]" % unit)
    return str(n // div)


def _cat_format(req):
    """format=json|txt|...; without it the Accept header decides, as RestTable does."""
    fmt = req.param("format")
    if fmt is not None:
        return fmt
    accept = (req.headers.get("Accept") or "").lower()
    first = accept.split(",")[0].split(";")[0].strip()
    if first in ("application/json", "application/vnd.elasticsearch+json"):
        return "json"
    if first in ("application/yaml",):
        return "yaml"
    return "txt"


def h_cat_indices(req):
    c = req.cluster
    fmt = _cat_format(req)
    h = req.param("h")
    v = req.bool("v")
    s = req.param("s")
    health = req.param("health")
    unit = req.param("bytes")
    pri_only = req.bool("pri")
    for p in ("local", "master_timeout", "cluster_manager_timeout", "time", "include_unloaded_segments", "help"):
        req.param(p)
    if health is not None and health not in ("green", "yellow", "red"):
        raise illegal_argument("unknown health status [%s]" % health)
    if req.bool("help"):
        return ApiResponse(200, "".join("%s | %s\n" % (col, ",".join(a)) for col, a in CAT_INDICES_COLS).encode(),
                           "text/plain; charset=UTF-8")
    cols = CAT_DEFAULT + (["dataset.size"] if req.flavour.cat_dataset_size else [])
    display = list(cols)
    if h:
        cols, display = [], []
        for name in (h if isinstance(h, list) else h.split(",")):
            name = name.strip()
            col = _cat_col(name)
            if col is None:
                if "*" in name:
                    for cc, aliases in CAT_INDICES_COLS:
                        if (glob_match(name, cc) or any(glob_match(name, a) for a in aliases)) and cc not in cols:
                            cols.append(cc)
                            display.append(cc)
                # an unknown header is silently left out, as _cat does
                continue
            cols.append(col)
            display.append(name)        # shown as requested: h=i,dc gives columns "i" and "dc"
    with c.lock:
        expr = req.parts.get("index")
        found = c.resolve(expr, expand_wildcards=_expand(req, "open,closed"))
        rows = []
        for idx, _ in found:
            if idx.state == "open":
                idx.maybe_scheduled_refresh()
            if health is not None and idx.health() != health:
                continue
            closed = idx.state != "open"
            size = idx.store_bytes()
            tot = size * (1 if pri_only else 1)

            def sz(n):
                return _bytes_in(n, unit) if unit else format_bytes(n)
            row = {"health": idx.health(), "status": "open" if not closed else "close", "index": idx.name,
                   "uuid": idx.uuid, "pri": str(idx.num_shards), "rep": str(idx.replicas()),
                   "docs.count": None if closed else str(idx.doc_count()),
                   "docs.deleted": None if closed else str(idx.deleted_count()),
                   "creation.date": str(idx.created), "creation.date.string": iso_ms(idx.created),
                   "store.size": None if closed else sz(tot), "pri.store.size": None if closed else sz(size),
                   "dataset.size": None if closed else sz(size)}
            rows.append(row)
    if s:
        for key in reversed(s if isinstance(s, list) else s.split(",")):
            name, _, direction = key.partition(":")
            col = _cat_col(name)
            if col is None:
                raise illegal_argument("Unable to sort by unknown sort key `%s`" % name)
            rows.sort(key=lambda r: _cat_sort_key(col, r.get(col)), reverse=(direction == "desc"))
    if fmt == "json":
        return ok([{d: r.get(col) for col, d in zip(cols, display)} for r in rows])
    if fmt not in ("txt", "text"):
        if fmt == "yaml":
            raise illegal_argument("[format=yaml] is not supported by this test server")
        raise illegal_argument("Unsupported format [%s]" % fmt)
    return ApiResponse(200, _cat_text(cols, rows, v, display).encode("utf-8"), "text/plain; charset=UTF-8")


def _cat_sort_key(col, v):
    if v is None:
        return (1, 0)
    if col in NUMERIC_COLS:
        try:
            return (0, float(v.rstrip("kmgtpb")) if not v.isdigit() else int(v))
        except ValueError:
            return (0, 0)
    return (0, v)


def _cat_text(cols, rows, header, display=None):
    """RestTable's text form: columns padded to their widest cell, numbers right-aligned, no
    padding after a left-aligned last column."""
    table = [[("" if r.get(c) is None else r.get(c)) for c in cols] for r in rows]
    if header:
        table.insert(0, list(display or cols))
    if not table:
        return ""
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    last = len(cols) - 1
    out = []
    for row in table:
        cells = []
        for i, cell in enumerate(row):
            if cols[i] in NUMERIC_COLS:
                cells.append(cell.rjust(widths[i]))
            else:
                cells.append(cell if i == last else cell.ljust(widths[i]))
        out.append(" ".join(cells) + "\n")
    return "".join(out)


def h_cat_count(req):
    c = req.cluster
    fmt = _cat_format(req)
    v = req.bool("v")
    for p in ("h", "s", "local", "master_timeout"):
        req.param(p)
    with c.lock:
        targets = _targets(c, req, req.parts.get("index"))
        n = sum(len(r.docs) for t in targets for r in t.readers)
    ts = int(time.time())
    row = {"epoch": str(ts), "timestamp": time.strftime("%H:%M:%S", time.gmtime(ts)), "count": str(n)}
    if fmt == "json":
        return ok([row])
    return ApiResponse(200, _cat_text(["epoch", "timestamp", "count"], [row], v).encode(), "text/plain; charset=UTF-8")


def h_cat_health(req):
    c = req.cluster
    fmt = _cat_format(req)
    v = req.bool("v")
    for p in ("h", "s", "local", "master_timeout", "ts", "time"):
        req.param(p)
    with c.lock:
        b = _health_body(c, list(c.indices.values()), "cluster")
    ts = int(time.time())
    row = {"epoch": str(ts), "timestamp": time.strftime("%H:%M:%S", time.gmtime(ts)),
           "cluster": b["cluster_name"], "status": b["status"], "node.total": "1", "node.data": "1",
           "shards": str(b["active_shards"]), "pri": str(b["active_primary_shards"]), "relo": "0", "init": "0",
           "unassign": str(b["unassigned_shards"]), "pending_tasks": "0", "max_task_wait_time": "-",
           "active_shards_percent": "%.1f%%" % b["active_shards_percent_as_number"]}
    cols = list(row)
    if fmt == "json":
        return ok([row])
    return ApiResponse(200, _cat_text(cols, [row], v).encode(), "text/plain; charset=UTF-8")


def h_cat_aliases(req):
    c = req.cluster
    fmt = _cat_format(req)
    v = req.bool("v")
    for p in ("h", "s", "local", "master_timeout", "expand_wildcards"):
        req.param(p)
    rows = []
    with c.lock:
        for a in sorted(c.aliases):
            if req.parts.get("name") and not any(glob_match(n, a) for n in req.parts["name"].split(",")):
                continue
            for i, props in sorted(c.aliases[a].items()):
                rows.append({"alias": a, "index": i, "filter": "*" if props.get("filter") else "-",
                             "routing.index": props.get("index_routing", "-"),
                             "routing.search": props.get("search_routing", "-"),
                             "is_write_index": str(props["is_write_index"]).lower() if "is_write_index" in props else "-"})
    cols = ["alias", "index", "filter", "routing.index", "routing.search", "is_write_index"]
    if fmt == "json":
        return ok(rows)
    return ApiResponse(200, _cat_text(cols, rows, v).encode(), "text/plain; charset=UTF-8")


# ---------------------------------------------------------------------------------------
# route table

IDX_OPTS = ("allow_no_indices", "expand_wildcards", "ignore_unavailable")
MASTER = ("master_timeout", "timeout", "cluster_manager_timeout")

ROUTES = [
    Route(["GET", "HEAD"], "/", h_info, body=False),
    Route(["GET"], "/_cluster/health", h_cluster_health,
          ("wait_for_status", "timeout", "level", "local", "master_timeout", "cluster_manager_timeout",
           "wait_for_active_shards", "wait_for_nodes", "wait_for_events", "wait_for_no_relocating_shards",
           "wait_for_no_initializing_shards", "expand_wildcards", "awareness_attribute", "ensure_node_weighed_in",
           "return_200_for_cluster_health_timeout")),
    Route(["GET"], "/_cluster/health/{index}", h_cluster_health,
          ("wait_for_status", "timeout", "level", "local", "master_timeout", "cluster_manager_timeout",
           "wait_for_active_shards", "wait_for_nodes", "wait_for_events", "wait_for_no_relocating_shards",
           "wait_for_no_initializing_shards", "expand_wildcards", "awareness_attribute", "ensure_node_weighed_in")),
    Route(["GET"], "/_cluster/state", h_cluster_state, MASTER + IDX_OPTS + ("local", "flat_settings",
          "wait_for_metadata_version", "wait_for_timeout")),
    Route(["GET"], "/_cluster/state/{metric}", h_cluster_state, MASTER + IDX_OPTS + ("local", "flat_settings",
          "wait_for_metadata_version", "wait_for_timeout")),
    Route(["GET"], "/_cluster/state/{metric}/{index}", h_cluster_state, MASTER + IDX_OPTS + ("local",
          "flat_settings", "wait_for_metadata_version", "wait_for_timeout")),
    Route(["GET"], "/_cluster/settings", h_cluster_settings_get, MASTER + ("flat_settings", "include_defaults")),
    Route(["PUT"], "/_cluster/settings", h_cluster_settings_put, MASTER + ("flat_settings",)),
    # documents
    Route(["PUT", "POST"], "/{index}/_doc/{id}", h_doc_index,
          ("if_primary_term", "if_seq_no", "op_type", "pipeline", "refresh", "require_alias", "routing",
           "timeout", "version", "version_type", "wait_for_active_shards")),
    Route(["POST"], "/{index}/_doc", h_doc_index,
          ("if_primary_term", "if_seq_no", "op_type", "pipeline", "refresh", "require_alias", "routing",
           "timeout", "version", "version_type", "wait_for_active_shards")),
    Route(["PUT", "POST"], "/{index}/_create/{id}", h_doc_index,
          ("pipeline", "refresh", "routing", "timeout", "version", "version_type", "wait_for_active_shards",
           "require_alias")),
    Route(["GET"], "/{index}/_doc/{id}", h_doc_get,
          ("_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing",
           "stored_fields", "version", "version_type"), body=False),
    Route(["HEAD"], "/{index}/_doc/{id}", h_doc_head,
          ("_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing",
           "stored_fields", "version", "version_type"), body=False),
    Route(["DELETE"], "/{index}/_doc/{id}", h_doc_delete,
          ("if_primary_term", "if_seq_no", "refresh", "routing", "timeout", "version", "version_type",
           "wait_for_active_shards"), body=False),
    Route(["GET"], "/{index}/_source/{id}", h_source_get,
          ("_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing",
           "version", "version_type", "stored_fields"), body=False),
    Route(["HEAD"], "/{index}/_source/{id}", h_source_head,
          ("_source", "_source_excludes", "_source_includes", "preference", "realtime", "refresh", "routing",
           "version", "version_type"), body=False),
    Route(["POST"], "/{index}/_update/{id}", h_doc_update,
          ("_source", "_source_excludes", "_source_includes", "if_primary_term", "if_seq_no", "lang", "refresh",
           "require_alias", "retry_on_conflict", "routing", "timeout", "wait_for_active_shards", "version",
           "version_type")),
    Route(["GET", "POST"], "/_mget", h_mget, ("_source", "_source_excludes", "_source_includes", "preference",
                                              "realtime", "refresh", "routing", "stored_fields")),
    Route(["GET", "POST"], "/{index}/_mget", h_mget, ("_source", "_source_excludes", "_source_includes",
                                                      "preference", "realtime", "refresh", "routing",
                                                      "stored_fields")),
    Route(["POST", "PUT"], "/_bulk", h_bulk, ("_source", "_source_excludes", "_source_includes", "pipeline",
                                              "refresh", "require_alias", "routing", "timeout", "type",
                                              "wait_for_active_shards", "batch_size", "list_executed_pipelines",
                                              "require_data_stream")),
    Route(["POST", "PUT"], "/{index}/_bulk", h_bulk, ("_source", "_source_excludes", "_source_includes",
                                                      "pipeline", "refresh", "require_alias", "routing",
                                                      "timeout", "type", "wait_for_active_shards", "batch_size",
                                                      "list_executed_pipelines", "require_data_stream")),
    # search
    Route(["GET", "POST"], "/_search", h_search, SEARCH_PARAMS),
    Route(["GET", "POST"], "/{index}/_search", h_search, SEARCH_PARAMS),
    Route(["GET", "POST"], "/_count", h_count, IDX_OPTS + ("analyze_wildcard", "analyzer", "default_operator",
                                                           "df", "ignore_throttled", "lenient", "min_score",
                                                           "preference", "q", "routing", "terminate_after")),
    Route(["GET", "POST"], "/{index}/_count", h_count, IDX_OPTS + ("analyze_wildcard", "analyzer",
                                                                   "default_operator", "df", "ignore_throttled",
                                                                   "lenient", "min_score", "preference", "q",
                                                                   "routing", "terminate_after")),
    Route(["GET", "POST"], "/_search/scroll", h_scroll, ("rest_total_hits_as_int", "scroll", "scroll_id")),
    Route(["GET", "POST"], "/_search/scroll/{scroll_id}", h_scroll, ("rest_total_hits_as_int", "scroll")),
    Route(["DELETE"], "/_search/scroll", h_clear_scroll, ("scroll_id",)),
    Route(["DELETE"], "/_search/scroll/{scroll_id}", h_clear_scroll, ()),
    Route(["POST"], "/{index}/_delete_by_query", h_delete_by_query, IDX_OPTS + (
        "refresh", "conflicts", "scroll_size", "wait_for_completion", "requests_per_second", "slices",
        "timeout", "wait_for_active_shards", "max_docs", "scroll", "search_timeout", "search_type",
        "preference", "analyzer", "analyze_wildcard", "default_operator", "df", "lenient", "q", "routing",
        "terminate_after", "version", "request_cache")),
    Route(["POST"], "/{index}/_pit", h_pit_open_es, IDX_OPTS + ("keep_alive", "routing", "preference",
                                                               "allow_partial_search_results",
                                                               "max_concurrent_shard_requests"),
          flavours=("es7", "es8", "es9")),
    Route(["DELETE"], "/_pit", h_pit_close_es, (), flavours=("es7", "es8", "es9")),
    Route(["POST"], "/{index}/_search/point_in_time", h_pit_open_os,
          ("keep_alive", "routing", "preference", "allow_partial_pit_creation", "expand_wildcards"),
          flavours=("opensearch",)),
    Route(["DELETE"], "/_search/point_in_time", h_pit_delete_os, (), flavours=("opensearch",)),
    Route(["DELETE"], "/_search/point_in_time/_all", h_pit_delete_all_os, (), flavours=("opensearch",)),
    Route(["GET"], "/_search/point_in_time/_all", h_pit_all_os, (), flavours=("opensearch",)),
    # indices
    Route(["PUT"], "/{index}", h_index_create, ("wait_for_active_shards", "timeout", "master_timeout",
                                                "cluster_manager_timeout", "include_type_name")),
    Route(["HEAD"], "/{index}", h_index_exists, IDX_OPTS + ("flat_settings", "include_defaults", "local"),
          body=False),
    Route(["GET"], "/{index}", h_index_get, IDX_OPTS + ("flat_settings", "include_defaults", "local",
                                                        "master_timeout", "cluster_manager_timeout",
                                                        "include_type_name", "features"), body=False),
    Route(["DELETE"], "/{index}", h_index_delete, IDX_OPTS + MASTER, body=False),
    Route(["POST"], "/{index}/_close", h_index_close, IDX_OPTS + MASTER + ("wait_for_active_shards",)),
    Route(["POST"], "/{index}/_open", h_index_open, IDX_OPTS + MASTER + ("wait_for_active_shards",
                                                                         "task_execution_timeout",
                                                                         "wait_for_completion")),
    Route(["GET"], "/_mapping", h_mapping_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout",
                                                           "include_type_name")),
    Route(["GET"], "/{index}/_mapping", h_mapping_get, IDX_OPTS + ("local", "master_timeout",
                                                                   "cluster_manager_timeout", "include_type_name")),
    Route(["PUT", "POST"], "/{index}/_mapping", h_mapping_put, IDX_OPTS + MASTER + ("write_index_only",
                                                                                    "include_type_name")),
    Route(["GET"], "/_settings", h_settings_get, IDX_OPTS + ("flat_settings", "include_defaults", "local",
                                                             "master_timeout", "cluster_manager_timeout")),
    Route(["GET"], "/{index}/_settings", h_settings_get, IDX_OPTS + ("flat_settings", "include_defaults",
                                                                     "local", "master_timeout",
                                                                     "cluster_manager_timeout")),
    Route(["GET"], "/{index}/_settings/{name}", h_settings_get, IDX_OPTS + ("flat_settings", "include_defaults",
                                                                            "local", "master_timeout",
                                                                            "cluster_manager_timeout")),
    Route(["GET"], "/_settings/{name}", h_settings_get, IDX_OPTS + ("flat_settings", "include_defaults", "local",
                                                                    "master_timeout", "cluster_manager_timeout")),
    Route(["PUT"], "/_settings", h_settings_put, IDX_OPTS + MASTER + ("flat_settings", "preserve_existing")),
    Route(["PUT"], "/{index}/_settings", h_settings_put, IDX_OPTS + MASTER + ("flat_settings",
                                                                              "preserve_existing")),
    Route(["GET", "POST"], "/_refresh", h_refresh, IDX_OPTS),
    Route(["GET", "POST"], "/{index}/_refresh", h_refresh, IDX_OPTS),
    Route(["GET", "POST"], "/_flush", h_flush, IDX_OPTS + ("force", "wait_if_ongoing")),
    Route(["GET", "POST"], "/{index}/_flush", h_flush, IDX_OPTS + ("force", "wait_if_ongoing")),
    Route(["GET"], "/_stats", h_stats, ("level", "expand_wildcards", "completion_fields", "fielddata_fields",
                                        "fields", "groups", "include_segment_file_sizes",
                                        "include_unloaded_segments", "forbid_closed_indices")),
    Route(["GET"], "/{index}/_stats", h_stats, ("level", "expand_wildcards", "completion_fields",
                                                "fielddata_fields", "fields", "groups",
                                                "include_segment_file_sizes", "include_unloaded_segments",
                                                "forbid_closed_indices")),
    # aliases
    Route(["POST"], "/_aliases", h_aliases_update, MASTER),
    Route(["GET"], "/_alias", h_alias_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout")),
    Route(["GET"], "/_aliases", h_alias_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout")),
    Route(["GET"], "/_alias/{name}", h_alias_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout")),
    Route(["HEAD"], "/_alias/{name}", h_alias_exists, IDX_OPTS + ("local",)),
    Route(["GET"], "/{index}/_alias", h_alias_get, IDX_OPTS + ("local", "master_timeout", "cluster_manager_timeout")),
    Route(["GET"], "/{index}/_aliases", h_alias_get, IDX_OPTS + ("local", "master_timeout",
                                                                 "cluster_manager_timeout")),
    Route(["GET"], "/{index}/_alias/{name}", h_alias_get, IDX_OPTS + ("local", "master_timeout",
                                                                      "cluster_manager_timeout")),
    Route(["HEAD"], "/{index}/_alias/{name}", h_alias_exists, IDX_OPTS + ("local",)),
    Route(["PUT", "POST"], "/{index}/_alias/{name}", h_alias_put, MASTER),
    Route(["PUT", "POST"], "/{index}/_aliases/{name}", h_alias_put, MASTER),
    Route(["PUT"], "/{index}/_alias", h_alias_put, MASTER),
    Route(["PUT"], "/{index}/_aliases", h_alias_put, MASTER),
    Route(["PUT", "POST"], "/_alias/{name}", h_alias_put, MASTER),
    Route(["PUT", "POST"], "/_aliases/{name}", h_alias_put, MASTER),
    Route(["PUT"], "/_alias", h_alias_put, MASTER),
    Route(["DELETE"], "/{index}/_alias/{name}", h_alias_delete, MASTER),
    Route(["DELETE"], "/{index}/_aliases/{name}", h_alias_delete, MASTER),
    # cat
    Route(["GET"], "/_cat/indices", h_cat_indices, ("bytes", "cluster_manager_timeout", "expand_wildcards",
                                                    "format", "h", "health", "help", "include_unloaded_segments",
                                                    "local", "master_timeout", "pri", "s", "time", "v")),
    Route(["GET"], "/_cat/indices/{index}", h_cat_indices, ("bytes", "cluster_manager_timeout",
                                                            "expand_wildcards", "format", "h", "health", "help",
                                                            "include_unloaded_segments", "local",
                                                            "master_timeout", "pri", "s", "time", "v")),
    Route(["GET"], "/_cat/count", h_cat_count, ("format", "h", "help", "s", "v", "local", "master_timeout")),
    Route(["GET"], "/_cat/count/{index}", h_cat_count, ("format", "h", "help", "s", "v", "local",
                                                        "master_timeout")),
    Route(["GET"], "/_cat/health", h_cat_health, ("format", "h", "help", "s", "v", "ts", "time", "local",
                                                  "master_timeout")),
    Route(["GET"], "/_cat/aliases", h_cat_aliases, ("format", "h", "help", "s", "v", "local", "master_timeout",
                                                    "expand_wildcards")),
    Route(["GET"], "/_cat/aliases/{name}", h_cat_aliases, ("format", "h", "help", "s", "v", "local",
                                                           "master_timeout", "expand_wildcards")),
]
