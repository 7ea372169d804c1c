"""The fetch phase of the Elasticsearch-compatible test server: what a hit or a document shows.

DESIGN: _source is returned as the stored bytes spliced in verbatim (RawJson) unless a
source filter asks for part of it; filter_source() selects paths the way
XContentMapValues.filter does (an object path selects the whole object, * wildcards, an
exclude wins over an include). docvalue_fields read the normalised columns
(es_docview.py), fields reads _source and formats dates, stored_fields shows fields mapped
with store. The same functions serve searches, GET, mget and the "get" of an update.
"""

import json

from es_common import (RawJson, parsing_error, glob_match, glob_could_extend, float32_repr, text_fielddata_error,
                       str_list)
from es_dates import date_format
from es_docview import ensure_columns, extract
from es_values import NUMERIC, value_for


class SourceFilter(object):
    def __init__(self, fetch=True, includes=None, excludes=None):
        self.fetch = fetch
        self.includes = includes or []
        self.excludes = excludes or []

    def trivial(self):
        return self.fetch and not self.includes and not self.excludes


def parse_source_filter(body_val, p_source=None, p_includes=None, p_excludes=None):
    """_source in a body (bool, string, list, {includes, excludes}) overridden by the
    _source / _source_includes / _source_excludes URL parameters."""
    sf = SourceFilter()
    if body_val is not None:
        if isinstance(body_val, bool):
            sf.fetch = body_val
        elif isinstance(body_val, str):
            sf.includes = [body_val]
        elif isinstance(body_val, list):
            sf.includes = [str(x) for x in body_val]
        elif isinstance(body_val, dict):
            for k in body_val:
                if k not in ("includes", "include", "excludes", "exclude"):
                    raise parsing_error("Unknown key for a START_OBJECT in [%s]." % k)
            sf.includes = str_list(body_val.get("includes", body_val.get("include")))
            sf.excludes = str_list(body_val.get("excludes", body_val.get("exclude")))
        else:
            raise parsing_error("Expected one of [VALUE_BOOLEAN, VALUE_STRING, START_ARRAY, START_OBJECT] "
                                "but found [%s]" % type(body_val).__name__)
    if p_source is not None:
        if p_source in ("true", ""):
            sf = SourceFilter(True)
        elif p_source == "false":
            sf = SourceFilter(False)
        else:
            sf = SourceFilter(True, str_list(p_source))
    if p_includes is not None or p_excludes is not None:
        sf = SourceFilter(True, str_list(p_includes) if p_includes is not None else
                          (sf.includes if p_source is not None else []),
                          str_list(p_excludes) if p_excludes is not None else [])
    return sf


# ---------------------------------------------------------------------------------------
# rendering hits

def filter_source(obj, includes, excludes):
    """XContentMapValues.filter: includes select paths (an object path selects the whole
    object), excludes remove paths; both take * wildcards."""
    def walk(node, prefix, included):
        if isinstance(node, list):
            out = []
            for x in node:
                if isinstance(x, (dict, list)):
                    r = walk(x, prefix, included)
                    if r or included:
                        out.append(r)
                elif included or _include_leaf(prefix.rstrip("."), includes, excludes):
                    out.append(x)
            return out
        out = {}
        for k, v in node.items():
            path = prefix + k
            if any(glob_match(e, path) for e in excludes):
                continue
            full = included or not includes or any(glob_match(i, path) for i in includes)
            if full:
                if isinstance(v, (dict, list)) and excludes:
                    out[k] = walk(v, path + ".", True)
                else:
                    out[k] = v
                continue
            if isinstance(v, (dict, list)) and any(glob_could_extend(i, path + ".") for i in includes):
                r = walk(v, path + ".", False)
                if r:
                    out[k] = r
        return out

    def _include_leaf(path, inc, exc):
        if any(glob_match(e, path) for e in exc):
            return False
        return not inc or any(glob_match(i, path) for i in inc)
    return walk(obj, "", False)


def source_value(doc, sf):
    if not sf.fetch:
        return None
    if sf.trivial():
        return RawJson(doc.source)
    obj = json.loads(doc.source)
    return filter_source(obj, sf.includes, sf.excludes)


def render_hit(h, req, flavour, with_score, sort_out):
    d = h.reader.docs[h.pos]
    idx = h.reader.index
    out = {"_index": idx.name}
    if flavour.doc_type_in_responses:
        out["_type"] = "_doc"
    out["_id"] = d.id
    if req.version:
        out["_version"] = d.version
    if req.seq_no:
        out["_seq_no"] = d.seq_no
        out["_primary_term"] = 1
    out["_score"] = h.score if with_score else None
    if d.routing is not None:
        out["_routing"] = d.routing
    sv = source_value(d, req.source)
    if sv is not None:
        out["_source"] = sv
    fields = {}
    if req.docvalue_fields:
        fields.update(docvalue_fields(h, req.docvalue_fields))
    if req.fields:
        fields.update(fetch_fields(h, req.fields))
    if req.stored_fields:
        fields.update(stored_fields(h.reader.index, d, req.stored_fields))
    if fields:
        out["fields"] = fields
    if req.explain:
        out["_explanation"] = {"value": h.score, "description": "score", "details": []}
    if sort_out and h.sortvals is not None:
        out["sort"] = h.sortvals
    return out


def _field_out(f, v, fmt=None):
    t = f.type
    if t in ("date", "date_nanos"):
        df = date_format(fmt) if fmt and fmt != "use_field_mapping" else f.fmt
        return df.format_millis(v) if t == "date" else df.format_nanos(v)
    if t == "float" or t == "half_float":
        v = float32_repr(v)
    if fmt and fmt != "use_field_mapping" and t in NUMERIC:
        return _decimal_format(v, fmt)
    return v


def _decimal_format(v, fmt):
    if "." in fmt:
        decimals = len(fmt.split(".")[1])
        return ("%." + str(decimals) + "f") % v
    return str(int(round(v)))


def docvalue_fields(h, specs):
    idx = h.reader.index
    out = {}
    for name, fmt in specs:
        for fname in ([name] if "*" not in name else [n for n in idx.mapping.field_names() if glob_match(name, n)]):
            f = idx.mapping.lookup(fname)
            if f is None:
                continue
            if f.type in ("text", "match_only_text"):
                raise text_fielddata_error(fname)
            vals = ensure_columns(h.reader, [f])[f.path][h.pos]
            if vals:
                out[fname] = [_field_out(f, v, fmt) for v in sorted(vals)]
    return out


def fetch_fields(h, specs):
    idx = h.reader.index
    d = h.reader.docs[h.pos]
    obj = json.loads(d.source)
    out = {}
    for name, fmt in specs:
        names = [name] if "*" not in name else [n for n in idx.mapping.field_names() if glob_match(name, n)]
        for fname in names:
            f = idx.mapping.lookup(fname)
            if f is None:
                continue
            raw = [x for x in extract(obj, f.source_path) if x is not None and not isinstance(x, dict)]
            flat = []
            for x in raw:
                flat.extend(x if isinstance(x, list) else [x])
            if flat:
                if f.type in ("date", "date_nanos"):
                    flat = [_field_out(f, value_for(f, x), fmt) for x in flat]
                elif f.is_multi and f.type == "keyword":
                    ia = f.params.get("ignore_above")
                    flat = [str(x) for x in flat if ia is None or len(str(x)) <= int(ia)]
                if flat:
                    out[fname] = flat
    return out


def stored_fields(idx, doc, names):
    out = {}
    obj = None
    for name in names:
        if name in ("_source", "_none_", "_id", "_routing", "*"):
            continue
        f = idx.mapping.lookup(name)
        if f is None or f.params.get("store") not in (True, "true"):
            continue
        if obj is None:
            obj = json.loads(doc.source)
        vals = [value_for(f, x) for x in extract(obj, f.source_path)]
        vals = [v for v in vals if v is not None]
        if vals:
            out[name] = vals
    return out
