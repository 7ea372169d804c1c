"""The _bulk endpoint of the Elasticsearch-compatible test server.

DESIGN: the NDJSON body is parsed completely before anything is applied: a malformed
action/metadata line, an unknown parameter or a request-level validation error fails the
whole request with the status and message a real node sends (action lines and update bodies
are parsed strictly up front; the source of an index or create is parsed only when its item
runs, so a bad document fails only its item with mapper_parsing_exception). The items are
then applied in order under one hold of the cluster lock through the document operations
shared with the single-document APIs (es_docs.py); each failing item gets its own error
object, and the bulk_item_reject fault turns chosen items into 429
es_rejected_execution_exception without applying them.
"""

import time

from es_common import (EsError, illegal_argument, validation_error, loads_strict, JsonSyntaxError, auto_id,
                       mapper_error, rejected_execution)
from es_docs import (WriteOp, validate_op, apply_index, apply_delete, apply_update, parse_update_body,
                     alias_routing)
from es_hits import parse_source_filter
from es_rest import ok, refresh_param, forced_refresh, body_parse_error, source_filter_param


# ---------------------------------------------------------------------------------------
# bulk

BULK_META = {"_index", "_type", "_id", "routing", "op_type", "version", "version_type", "if_seq_no",
             "if_primary_term", "retry_on_conflict", "pipeline", "_source", "require_alias",
             "dynamic_templates", "list_executed_pipelines", "require_data_stream"}


def parse_bulk(data, req):
    """Parses an NDJSON bulk body into WriteOps. Raises EsError for a malformed request."""
    flavour = req.flavour
    default_index = req.parts.get("index")
    default_routing = req.param("routing")
    default_pipeline = req.param("pipeline")
    default_require_alias = req.bool("require_alias")
    default_fetch = source_filter_param(req)
    req.param("type")
    lines = data.split(b"\n")
    # data ends with \n so the last element is empty
    n = len(lines) - 1
    ops = []
    i = 0
    line_no = 0
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
            raise body_parse_error(flavour, e)
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
                e = rejected_execution()
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
                    idx, props = c.write_target(op.index, op.require_alias, auto_create=op.version_type
                                                in ("external", "external_gte"))
                    idx_name = idx.name
                    alias_routing(op, props)
                    status, res, shard = apply_delete(c, idx, op, flavour)
                elif op.action == "update":
                    idx, props = c.write_target(op.index, op.require_alias)
                    idx_name = idx.name
                    alias_routing(op, props)
                    status, res, shard = apply_update(c, idx, op, flavour)
                else:
                    tk = (op.index, op.require_alias)
                    tgt = targets.get(tk)
                    if tgt is None:
                        tgt = targets[tk] = c.write_target(op.index, op.require_alias)
                    idx, props = tgt
                    idx_name = idx.name
                    alias_routing(op, props)
                    try:
                        op.source_obj = loads(op.source)
                    except JsonSyntaxError as je:
                        raise mapper_error("failed to parse", caused_by=EsError(400, "json_parse_exception",
                                                                                 je.message))
                    if op.id is None:
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
    refresh = refresh_param(req)
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
                    it[k] = forced_refresh(v)
    took = int((time.monotonic() - start) * 1000)
    return ok({"took": took, "errors": errors, "items": items})
