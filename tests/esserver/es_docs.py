"""Document operations of the Elasticsearch-compatible test server.

DESIGN: index, create, update and delete are parsed into a WriteOp (by the single-document
APIs or by _bulk) and applied here with the cluster lock held, so both paths share one
implementation of what a real engine checks: request validation
(action_request_validation_exception with its numbered list), routing required by the
mapping, versioning (internal, external, external_gte, if_seq_no / if_primary_term against
the live document or its tombstone), write blocks, the mapping (a document that does not
parse changes nothing; a dynamic mapping update is merged only when it does), and the result
body of each operation.
"""

import json
import time

from es_common import (EsError, illegal_argument, validation_error, parsing_error, auto_id)
from es_docparse import DocParser
from es_hits import parse_source_filter, filter_source
from es_index import Doc


class WriteOp(object):
    """One index/create/update/delete operation after parsing."""
    __slots__ = ("action", "index", "id", "routing", "version", "version_type", "if_seq_no",
                 "if_primary_term", "require_alias", "source", "source_obj", "pipeline",
                 "update", "fetch_source", "op_type_create", "auto_id")

    def __init__(self, action):
        self.action = action
        self.index = None
        self.id = None
        self.routing = None
        self.version = None
        self.version_type = "internal"
        self.if_seq_no = None
        self.if_primary_term = None
        self.require_alias = False
        self.source = None
        self.source_obj = None
        self.pipeline = None
        self.update = None
        self.fetch_source = None
        self.op_type_create = False
        self.auto_id = False


def validate_op(op):
    """Request-level validation (ActionRequestValidationException) of one op."""
    if op.version_type == "internal" and op.version is None and op.if_seq_no is None and \
            op.if_primary_term is None and op.pipeline is None and op.id is not None and \
            0 < len(op.id) <= 128:
        return      # the common case: nothing to check
    errs = []
    vt = op.version_type
    if vt not in ("internal", "external", "external_gte", "force"):
        raise illegal_argument("No version type match [%s]" % vt)
    if vt == "force":
        errs.append("version type [force] may no longer be used")
    if op.action == "create" or op.op_type_create:
        if vt != "internal":
            errs.append("create operations only support internal versioning. use index instead")
        if op.version is not None and vt == "internal" and op.version != -3:
            errs.append("create operations do not support explicit versions. use index instead")
    if op.action in ("index", "delete") and not op.op_type_create:
        if vt == "internal" and op.version is not None:
            errs.append("internal versioning can not be used for optimistic concurrency control. "
                        "Please use `if_seq_no` and `if_primary_term` instead")
        if vt in ("external", "external_gte"):
            if op.version is None:
                errs.append("version type [%s] requires a version" % vt)
            elif op.version < 0:
                errs.append("illegal version value [%d] for version type [%s]" % (op.version, vt.upper()))
    if op.if_seq_no is not None or op.if_primary_term is not None:
        if op.version is not None:
            errs.append("compare and write operations can not use versioning")
        if op.if_seq_no is not None and op.if_seq_no < 0:
            errs.append("sequence number must be non negative. got [%d]." % op.if_seq_no)
        if op.if_primary_term is not None and op.if_primary_term <= 0 and op.if_seq_no is not None:
            errs.append("primary term must be positive. got [%d]." % op.if_primary_term)
        if op.if_seq_no is not None and op.if_primary_term is None:
            errs.append("ifSeqNo is set, but primary term is [0]")
        if op.if_primary_term is not None and op.if_seq_no is None:
            errs.append("ifPrimaryTerm [%d] is set but ifSeqNo is not" % op.if_primary_term)
    if op.id is not None:
        if op.id == "":
            raise illegal_argument("if _id is specified it must not be empty")
        n = len(op.id.encode("utf-8"))
        if n > 512:
            errs.append("id [%s] is too long, must be no longer than 512 bytes but was: %d" % (op.id, n))
    elif op.action in ("delete", "update"):
        errs.append("id is missing")
    if op.pipeline is not None and op.pipeline != "_none":
        raise illegal_argument("pipeline with id [%s] does not exist" % op.pipeline)
    if errs:
        raise validation_error(errs)


def version_conflict(idx, shard, doc_id, reason):
    return EsError(409, "version_conflict_engine_exception", "[%s]: version conflict, %s" % (doc_id, reason),
                   {"index_uuid": idx.uuid, "shard": str(shard.num), "index": idx.name})


def _check_seq_no(idx, shard, op, cur):
    """if_seq_no / if_primary_term: the write applies only to that version of the document."""
    if op.if_seq_no is None:
        return
    if cur is None:
        raise version_conflict(idx, shard, op.id, "required seqNo [%d], primary term [%d]. but no document "
                                                  "was found" % (op.if_seq_no, op.if_primary_term))
    if cur.seq_no != op.if_seq_no or op.if_primary_term != 1:
        raise version_conflict(idx, shard, op.id, "required seqNo [%d], primary term [%d]. current document "
                                                  "has seqNo [%d] and primary term [1]"
                               % (op.if_seq_no, op.if_primary_term, cur.seq_no))


def _new_version(idx, shard, op, cur_version):
    """The version a write gives the document (cur_version: the live or deleted one, or None)."""
    if op.version_type == "external":
        if cur_version is not None and cur_version >= op.version:
            raise version_conflict(idx, shard, op.id, "current version [%d] is higher or equal to the one "
                                                      "provided [%d]" % (cur_version, op.version))
        return op.version
    if op.version_type == "external_gte":
        if cur_version is not None and cur_version > op.version:
            raise version_conflict(idx, shard, op.id, "current version [%d] is higher than the one provided [%d]"
                                   % (cur_version, op.version))
        return op.version
    return (cur_version or 0) + 1


def document_missing(idx, shard_num, doc_id):
    return EsError(404, "document_missing_exception", "[%s]: document missing" % doc_id,
                   {"index_uuid": idx.uuid, "shard": str(shard_num), "index": idx.name})


def check_routing_required(idx, op_routing, doc_id):
    r = idx.mapping.root.get("_routing")
    if isinstance(r, dict) and r.get("required") in (True, "true") and op_routing is None:
        raise EsError(400, "routing_missing_exception",
                      "routing is required for [%s]/[%s]" % (idx.name, doc_id),
                      {"index_uuid": idx.uuid, "index": idx.name})


def alias_routing(op, alias_props):
    """A write through an alias with index_routing takes that routing unless it has its own."""
    if alias_props and op.routing is None and alias_props.get("index_routing") is not None:
        op.routing = alias_props["index_routing"]


def apply_index(cluster, idx, op, flavour):
    """Executes an index/create op on idx (lock held). Returns (status, result dict)."""
    idx.check_open()
    idx.check_block("write", flavour)
    if op.id is None:
        op.id = auto_id()
        op.auto_id = True
    if idx.settings.get("index.append_only.enabled") == "true" and not op.auto_id:
        raise EsError(400, "validation_exception",
                      "Validation Failed: 1: Operation [%s] is not allowed with a custom document id %s as setting "
                      "`index.append_only.enabled` is enabled for this index: %s;"
                      % ("CREATE" if op.action == "create" else "INDEX", op.id, idx.name))
    check_routing_required(idx, op.routing, op.id)
    shard = idx.shard_of(op.id, op.routing)
    now = time.monotonic()
    cur = shard.live.get(op.id)
    create = op.action == "create" or op.op_type_create
    # versioning and concurrency control
    _check_seq_no(idx, shard, op, cur)
    if create and cur is not None:
        raise version_conflict(idx, shard, op.id, "document already exists (current version [%d])" % cur.version)
    tomb = shard.tombstone(op.id, now) if cur is None else None
    cur_version = cur.version if cur is not None else (tomb[0] if tomb else None)
    new_version = _new_version(idx, shard, op, cur_version)
    # mapping
    parser = DocParser(idx.mapping, idx.settings, op.id, flavour.is_os)
    update = parser.parse(op.source_obj)
    if update:
        idx.mapping.merge({"properties": update}, validate=False)
    seq = shard.next_seq_no
    shard.next_seq_no += 1
    doc = Doc(op.id, op.source, new_version, seq, op.routing)
    if cur is not None:
        del shard.live[op.id]
        shard.deleted += 1
    elif tomb is not None:
        del shard.tombstones[op.id]
    shard.live[op.id] = doc
    shard.dirty = True
    res = write_result(idx, op.id, doc.version, "updated" if cur is not None else "created", seq, flavour)
    return (200 if cur is not None else 201), res, shard


def apply_delete(cluster, idx, op, flavour):
    idx.check_open()
    idx.check_block("write", flavour) if idx.settings.get("index.blocks.read_only_allow_delete") != "true" \
        else idx.check_block("metadata", flavour)
    check_routing_required(idx, op.routing, op.id)
    shard = idx.shard_of(op.id, op.routing)
    now = time.monotonic()
    cur = shard.live.get(op.id)
    _check_seq_no(idx, shard, op, cur)
    tomb = shard.tombstone(op.id, now) if cur is None else None
    cur_version = cur.version if cur is not None else (tomb[0] if tomb else None)
    new_version = _new_version(idx, shard, op, cur_version)
    seq = shard.next_seq_no
    shard.next_seq_no += 1
    shard.tombstones[op.id] = (new_version, seq, now)
    if cur is not None:
        del shard.live[op.id]
        shard.deleted += 1
        shard.dirty = True
        result, status = "deleted", 200
    else:
        result, status = "not_found", 404
    return status, write_result(idx, op.id, new_version, result, seq, flavour), shard


def deep_merge(base, patch):
    """Partial update merge: objects merge recursively, everything else is replaced.
    Returns (merged, changed)."""
    out = dict(base)
    changed = False
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            m, c = deep_merge(out[k], v)
            if c:
                out[k] = m
                changed = True
        elif k not in out or out[k] != v or type(out[k]) is not type(v):
            out[k] = v
            changed = True
    return out, changed


def write_result(idx, doc_id, version, result, seq, flavour, shards=None):
    r = {"_index": idx.name}
    if flavour.doc_type_in_responses:
        r["_type"] = "_doc"
    r["_id"] = doc_id
    r["_version"] = version
    r["result"] = result
    r["_shards"] = shards if shards is not None else idx.shards_header()
    r["_seq_no"] = seq
    r["_primary_term"] = 1
    return r


# ---------------------------------------------------------------------------------------
# partial updates and upserts

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
    if op.if_seq_no is not None and cur is None:
        raise document_missing(idx, shard.num, op.id)
    _check_seq_no(idx, shard, op, cur)
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
