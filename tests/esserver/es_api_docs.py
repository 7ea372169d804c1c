"""Single-document REST endpoints of the Elasticsearch-compatible test server: index,
create, get, exists, delete, update, _source and _mget.

DESIGN: a handler parses its URL parameters and body into a WriteOp outside the cluster
lock, validates it, then applies it with the lock held through the same document operations
as _bulk (es_docs.py). Reads are realtime by default (the live document, as a real GET is)
or go through the refreshed reader with realtime=false.
"""

from urllib.parse import quote

from es_common import (EsError, RawJson, illegal_argument, validation_error, parsing_error, loads_strict,
                       JsonSyntaxError, bool_param, int_param, mapper_error)
from es_docs import (WriteOp, validate_op, apply_index, apply_delete, apply_update, parse_update_body,
                     check_routing_required, alias_routing, version_conflict)
from es_hits import SourceFilter, parse_source_filter, source_value, stored_fields
from es_rest import (ApiResponse, ok, with_doc_type, refresh_param, refresh_after_write,
                     source_filter_param)


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
    refresh = refresh_param(req)
    validate_op(op)
    op.source, op.source_obj = _parse_source(req, op.id)
    with c.lock:
        idx, alias_props = c.write_target(req.parts["index"], op.require_alias)
        alias_routing(op, alias_props)
        status, res, shard = apply_index(c, idx, op, req.flavour)
        res = refresh_after_write(shard, refresh, res)
    headers = {"Location": "/%s/_doc/%s" % (_quote(idx.name), _quote(res["_id"]))} if status == 201 else {}
    return ApiResponse(status, res, headers=headers)


def _quote(s):
    return quote(s, safe="")


def h_doc_delete(req):
    c = req.cluster
    for p in ("timeout", "wait_for_active_shards"):
        req.param(p)
    op = _doc_op(req, "delete")
    refresh = refresh_param(req)
    validate_op(op)
    with c.lock:
        idx, props = c.index_for_read(req.parts["index"])
        alias_routing(op, props)
        status, res, shard = apply_delete(c, idx, op, req.flavour)
        res = refresh_after_write(shard, refresh, res)
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
    sf = source_filter_param(req, SourceFilter())
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
    out = with_doc_type(req.flavour, {"_index": idx.name})
    out["_id"] = doc_id
    if d is None:
        out["found"] = False
        return ok(out, 404)
    _found(out, d)
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


def _found(out, d):
    """The fields of a GET or _mget answer that found document d."""
    out["_version"] = d.version
    out["_seq_no"] = d.seq_no
    out["_primary_term"] = 1
    if d.routing is not None:
        out["_routing"] = d.routing
    out["found"] = True


def _check_get_version(idx, d, version, vt):
    shard = idx.shard_of(d.id, d.routing)
    # a GET with a version only succeeds when it is the current one, whatever the version type
    if vt in ("internal", "external", "external_gte") and d.version != version:
        raise version_conflict(idx, shard, d.id, "current version [%d] is different than the one provided [%d]"
                               % (d.version, version))


def h_doc_head(req):
    return h_doc_get(req, head=True)


def h_source_get(req):
    return h_doc_get(req, source_only=True)


def h_source_head(req):
    return h_doc_get(req, head=True)


def h_doc_update(req):
    c = req.cluster
    for p in ("timeout", "wait_for_active_shards", "lang", "retry_on_conflict"):
        req.param(p)
    op = _doc_op(req, "update")
    if op.version is not None or op.version_type != "internal":
        raise validation_error("Update requests do not support versioning. Please use `if_seq_no` and "
                               "`if_primary_term` instead")
    refresh = refresh_param(req)
    fetch = source_filter_param(req)
    body = req.json(required=True)
    op.update = parse_update_body(body)
    op.fetch_source = fetch
    validate_op(op)
    with c.lock:
        idx, props = c.write_target(req.parts["index"], op.require_alias)
        status, res, shard = apply_update(c, idx, op, req.flavour)
        res = refresh_after_write(shard, refresh, res)
    return ApiResponse(status, res)


def h_mget(req):
    c = req.cluster
    body = req.json(required=True)
    realtime = bool_param(req.param("realtime"), "realtime", True)
    refresh = req.bool("refresh")
    req.param("preference")
    default_sf = source_filter_param(req, SourceFilter())
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
                item = with_doc_type(req.flavour, {"_index": name})
                item["_id"] = doc_id
                item["error"] = {"root_cause": [e.cause_obj(with_cause=False)], **e2}
                out.append(item)
                continue
            item = with_doc_type(req.flavour, {"_index": idx.name})
            item["_id"] = doc_id
            if doc is None:
                item["found"] = False
            else:
                _found(item, doc)
                names = d.get("stored_fields", stored.split(",") if stored else None)
                if names is not None and "_source" not in names and "_source" not in d:
                    sf = parse_source_filter(False)
                sv = source_value(doc, sf)
                if sv is not None:
                    item["_source"] = sv
            out.append(item)
    return ok({"docs": out})
