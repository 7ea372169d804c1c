"""Cluster-level REST endpoints of the Elasticsearch-compatible test server: GET /, cluster
health, state and settings, and the _cat APIs (indices, count, health, aliases).

DESIGN: health is computed from the indices (a single node: replicas are unassigned, so an
index with replicas is yellow) and wait_for_status polls until it is reached or the timeout
passes (408 with timed_out). _cat answers in RestTable's text form (columns padded, numbers
right-aligned, h= and s= and v like a real node) or JSON, chosen by format= or the Accept
header.
"""

import time

from es_api_search import search_targets
from es_common import illegal_argument, parsing_error, bool_param, parse_time_ms, format_bytes, iso_ms, glob_match
from es_rest import ApiResponse, ok, expand_param
from es_settings import CLUSTER_SETTINGS, flatten_settings, nest_settings, setting_str


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
        found = c.resolve(expr, expand_wildcards=expand_param(req, "open,closed"))
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
        targets = search_targets(c, req, req.parts.get("index"))
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
