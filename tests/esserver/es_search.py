"""Search execution of the Elasticsearch-compatible test server.

DESIGN: parse_search() turns a request (URL parameters + body) into a SearchRequest,
raising the errors a real node raises while parsing (unknown keys, negative from/size,
result window, scroll/PIT/search_after conflicts). execute() then runs it over a list of
Targets (one per index: its readers and the alias filter that applies). Matching hits are
collected with a sort key built so that plain tuple comparison gives Elasticsearch's order
(asc/desc per field, missing _first/_last, then shard and document order as tie-breaks);
search_after is a comparison against the same key. A scroll keeps the complete sorted hit
list of its first search, a point in time keeps the readers: both are frozen views like on a
real node. Results are rendered with the stored _source bytes spliced in verbatim.

Sorted hit lists of a point in time are cached per (query, sort) on the frozen readers so
that paging through 100,000 documents with search_after costs one sort, not one per page.
"""

import base64
import json
import math
import os
import struct

from es_common import (EsError, RawJson, illegal_argument, validation_error, parsing_error,
                       search_phase_error, glob_match, glob_could_extend, parse_time_ms, bool_param,
                       float32_repr, int_param)
from es_mapping import date_format, NUMERIC, INT_RANGES, _float_value
from es_query import (parse_query, Binder, DocView, ensure_columns, shard_error, q_param_query,
                      _UNREACHABLE)

BODY_KEYS = {"query", "from", "size", "sort", "search_after", "_source", "track_total_hits",
             "version", "seq_no_primary_term", "stored_fields", "docvalue_fields", "fields",
             "post_filter", "min_score", "terminate_after", "track_scores", "aggs",
             "aggregations", "pit", "timeout", "explain", "highlight", "rescore", "script_fields",
             "suggest", "collapse", "profile", "indices_boost", "slice", "stats", "ext",
             "runtime_mappings", "knn", "search_pipeline", "verbose_pipeline", "include_named_queries_score"}
UNSUPPORTED_KEYS = {"highlight", "suggest", "collapse", "profile", "indices_boost", "ext",
                    "runtime_mappings", "knn", "rescore", "script_fields"}
INT_MAX = (1 << 31) - 1


class Desc(object):
    """Reverses the order of a string inside a sort key."""
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __lt__(self, o):
        return self.v > o.v

    def __gt__(self, o):
        return self.v < o.v

    def __eq__(self, o):
        return self.v == o.v

    def __le__(self, o):
        return self.v >= o.v

    def __ge__(self, o):
        return self.v <= o.v

    def __hash__(self):
        return hash(self.v)


# ---------------------------------------------------------------------------------------
# the request

class SortSpec(object):
    def __init__(self, field, order=None, mode=None, missing=None, unmapped_type=None,
                 fmt=None, nested=None, numeric_type=None):
        self.field = field
        self.order = order or ("desc" if field == "_score" else "asc")
        self.mode = mode
        self.missing = missing if missing is not None else "_last"
        self.unmapped_type = unmapped_type
        self.format = fmt
        self.nested = nested
        self.numeric_type = numeric_type

    def json(self):
        return [self.field, self.order, self.mode, self.missing, self.unmapped_type, self.format,
                json.dumps(self.nested, sort_keys=True) if self.nested else None]


def _parse_sort(v):
    specs = []
    items = v if isinstance(v, list) else [v]
    for it in items:
        if isinstance(it, str):
            specs.append(SortSpec(it))
        elif isinstance(it, dict):
            for field, o in it.items():
                if isinstance(o, str):
                    if o.lower() not in ("asc", "desc"):
                        raise illegal_argument("Unknown SortOrder [%s]" % o)
                    specs.append(SortSpec(field, o.lower()))
                elif isinstance(o, dict):
                    for k in o:
                        if k not in ("order", "mode", "missing", "unmapped_type", "format", "nested",
                                     "numeric_type", "nested_path", "nested_filter", "ignore_unmapped"):
                            raise parsing_error("[field_sort] unknown field [%s]" % k, etype="x_content_parse_exception")
                    order = o.get("order")
                    if order is not None and str(order).lower() not in ("asc", "desc"):
                        raise illegal_argument("Unknown SortOrder [%s]" % order)
                    mode = o.get("mode")
                    if mode is not None and mode not in ("min", "max", "sum", "avg", "median"):
                        raise illegal_argument("Unknown MultiValueMode [%s]" % mode)
                    specs.append(SortSpec(field, order and str(order).lower(), mode, o.get("missing"),
                                          o.get("unmapped_type"), o.get("format"), o.get("nested"),
                                          o.get("numeric_type")))
                else:
                    raise parsing_error("[sort] malformed sort format")
        else:
            raise parsing_error("[sort] malformed sort format")
    return specs


def _parse_sort_param(s):
    specs = []
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            f, _, o = part.rpartition(":")
            if o.lower() not in ("asc", "desc"):
                raise illegal_argument("Unknown SortOrder [%s]" % o)
            specs.append(SortSpec(f, o.lower()))
        else:
            specs.append(SortSpec(part))
    return specs


class SourceFilter(object):
    def __init__(self, fetch=True, includes=None, excludes=None):
        self.fetch = fetch
        self.includes = includes or []
        self.excludes = excludes or []

    def trivial(self):
        return self.fetch and not self.includes and not self.excludes


def _as_list(v):
    if v is None:
        return []
    if isinstance(v, list):
        return [str(x) for x in v]
    return [x for x in str(v).split(",") if x]


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
            sf.includes = _as_list(body_val.get("includes", body_val.get("include")))
            sf.excludes = _as_list(body_val.get("excludes", body_val.get("exclude")))
        else:
            raise parsing_error("Expected one of [VALUE_BOOLEAN, VALUE_STRING, START_ARRAY, START_OBJECT] "
                                "but found [%s]" % type(body_val).__name__)
    if p_source is not None:
        if p_source in ("true", ""):
            sf = SourceFilter(True)
        elif p_source == "false":
            sf = SourceFilter(False)
        else:
            sf = SourceFilter(True, _as_list(p_source))
    if p_includes is not None or p_excludes is not None:
        sf = SourceFilter(True, _as_list(p_includes) if p_includes is not None else
                          (sf.includes if p_source is not None else []),
                          _as_list(p_excludes) if p_excludes is not None else [])
    return sf


class SearchRequest(object):
    def __init__(self):
        self.query = None
        self.post_filter = None
        self.from_ = 0
        self.size = 10
        self.sort = None
        self.search_after = None
        self.source = SourceFilter()
        self.track_total_hits = 10000
        self.version = False
        self.seq_no = False
        self.stored_fields = None
        self.docvalue_fields = []
        self.fields = []
        self.min_score = None
        self.terminate_after = None
        self.track_scores = False
        self.aggs = None
        self.pit = None
        self.scroll_ms = None
        self.rest_int = False
        self.explain = False
        self.slice = None
        self.body = {}
        self.request_cache = None
        self.allowed_warnings = []


def parse_search(body, params, flavour, has_index):
    """Builds a SearchRequest; raises parsing / validation errors like a real node."""
    r = SearchRequest()
    body = body or {}
    if not isinstance(body, dict):
        raise parsing_error("Unexpected token, expected START_OBJECT")
    r.body = body
    for k, v in body.items():
        if k not in BODY_KEYS:
            kind = "START_OBJECT" if isinstance(v, dict) else "START_ARRAY" if isinstance(v, list) else \
                "VALUE_STRING" if isinstance(v, str) else "VALUE_NUMBER" if isinstance(v, (int, float)) \
                and not isinstance(v, bool) else "VALUE_BOOLEAN"
            raise parsing_error("Unknown key for a %s in [%s]." % (kind, k))
    if "query" in body:
        r.query = parse_query(body["query"], flavour)
    if params.get("q") is not None:
        r.query = q_param_query(params["q"], params.get("df"), params.get("default_operator"),
                                None if params.get("lenient") is None else bool_param(params.get("lenient"), "lenient"),
                                params.get("analyze_wildcard"), flavour)
    if "post_filter" in body:
        r.post_filter = parse_query(body["post_filter"], flavour)
    # from / size
    errors = []
    for name in ("from", "size"):
        v = body.get(name)
        if v is not None:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                try:
                    v = int(v)
                except (TypeError, ValueError):
                    raise parsing_error("[%s] failed to parse field [%s]" % ("search_source", name),
                                        etype="x_content_parse_exception")
            if isinstance(v, float):
                v = int(v)
            if v > INT_MAX or v < -INT_MAX - 1:
                raise EsError(400, "input_coercion_exception",
                              "Numeric value (%d) out of range of int (-2147483648 - 2147483647)" % v)
            setattr(r, "from_" if name == "from" else "size", v)
    if params.get("from") is not None:
        r.from_ = int_param(params["from"], "from")
    if params.get("size") is not None:
        r.size = int_param(params["size"], "size")
    if r.from_ < 0:
        raise illegal_argument("[from] parameter cannot be negative, found [%d]" % r.from_)
    if r.size < 0:
        raise illegal_argument("[size] parameter cannot be negative, found [%d]" % r.size)
    # sort
    if "sort" in body:
        r.sort = _parse_sort(body["sort"])
    if params.get("sort") is not None:
        r.sort = _parse_sort_param(params["sort"])
    if "search_after" in body:
        sa = body["search_after"]
        if not isinstance(sa, list):
            raise parsing_error("Unknown key for a VALUE_STRING in [search_after].")
        r.search_after = sa
    r.source = parse_source_filter(body.get("_source"), params.get("_source"),
                                   params.get("_source_includes"), params.get("_source_excludes"))
    # total hits
    tth = body.get("track_total_hits")
    if params.get("track_total_hits") is not None:
        tth = params["track_total_hits"]
    r.rest_int = bool_param(params.get("rest_total_hits_as_int"), "rest_total_hits_as_int")
    if tth is not None:
        if tth in (True, "true"):
            r.track_total_hits = True
        elif tth in (False, "false"):
            r.track_total_hits = False
        else:
            try:
                n = int(tth)
            except (TypeError, ValueError):
                raise illegal_argument("Failed to parse value [%s] as only [true] or [false] are allowed." % tth)
            if n < -1:
                raise illegal_argument("[track_total_hits] parameter must be positive or equals to -1, got %d" % n)
            r.track_total_hits = True if n == -1 else n
    if r.rest_int:
        if tth is None:
            r.track_total_hits = True
        elif r.track_total_hits is not True and r.track_total_hits is not False:
            raise illegal_argument("[rest_total_hits_as_int] cannot be used if the tracking of total hits is "
                                   "not accurate, got %d" % r.track_total_hits)
    r.version = bool_param(params.get("version"), "version") or body.get("version") is True
    r.seq_no = bool_param(params.get("seq_no_primary_term"), "seq_no_primary_term") or \
        body.get("seq_no_primary_term") is True
    sfl = body.get("stored_fields", params.get("stored_fields"))
    if sfl is not None:
        r.stored_fields = _as_list(sfl)
        if "_source" not in r.stored_fields and body.get("_source") is None and params.get("_source") is None:
            r.source = SourceFilter(False)
    dv = body.get("docvalue_fields")
    if params.get("docvalue_fields") is not None:
        dv = _as_list(params["docvalue_fields"])
    r.docvalue_fields = []
    for x in dv or []:
        if isinstance(x, str):
            r.docvalue_fields.append((x, None))
        elif isinstance(x, dict):
            r.docvalue_fields.append((x.get("field"), x.get("format")))
    if any(f == "use_field_mapping" for _, f in r.docvalue_fields):
        r.allowed_warnings.append("[use_field_mapping] is a special format that was only used to ease the "
                                  "transition to 7.x. It has become the default and shouldn't be set "
                                  "explicitly anymore.")
    for x in body.get("fields") or []:
        r.fields.append((x, None) if isinstance(x, str) else (x.get("field"), x.get("format")))
    r.min_score = body.get("min_score")
    r.terminate_after = body.get("terminate_after", params.get("terminate_after"))
    r.track_scores = body.get("track_scores") is True or bool_param(params.get("track_scores"), "track_scores")
    r.explain = body.get("explain") is True or bool_param(params.get("explain"), "explain")
    r.aggs = body.get("aggs", body.get("aggregations"))
    if r.aggs is not None:
        r.aggs = parse_aggs(r.aggs, flavour)
    r.slice = body.get("slice")
    r.request_cache = params.get("request_cache")
    # point in time and scroll
    if "pit" in body:
        pit = body["pit"]
        if not isinstance(pit, dict) or "id" not in pit:
            raise parsing_error("[point_in_time] required [id]" if flavour.is_es else "[pit] required [id]",
                                etype="x_content_parse_exception")
        r.pit = pit
        if has_index:
            if flavour.is_os:
                raise validation_error("[indices] cannot be used with point in time")
            raise validation_error("[indices] cannot be used with point in time. Do not specify any index "
                                   "with point in time.")
    if params.get("scroll") is not None:
        r.scroll_ms = parse_time_ms(params["scroll"], "scroll")
        if r.pit is not None:
            raise validation_error("using [point in time] is not allowed in a scroll context")
        verrs = []
        if r.request_cache is not None and bool_param(r.request_cache, "request_cache"):
            verrs.append("[request_cache] cannot be used in a scroll context")
        if r.size == 0:
            verrs.append("[size] cannot be [0] in a scroll context")
        if r.search_after is not None:
            verrs.append("[search_after] cannot be used in a scroll context")
        if verrs:
            raise validation_error(verrs)
    if r.search_after is not None and r.from_ > 0:
        raise validation_error("[from] parameter must be set to 0 when [search_after] is used")
    # limits whose checks a real node runs before executing
    for key in UNSUPPORTED_KEYS:
        if key in body and key not in ("rescore", "script_fields"):
            raise illegal_argument("[%s] is not supported by this test server" % key)
    return r


def check_limits(r, index, flavour):
    """Index-level request limits (checked per shard on a real node)."""
    mrw = int(index.setting("index.max_result_window"))
    if r.scroll_ms is not None:
        if r.size > mrw:
            raise illegal_argument(
                "Batch size is too large, size must be less than or equal to: [%d] but was [%d]. Scroll batch "
                "sizes cost as much memory as result windows so they are controlled by the "
                "[index.max_result_window] index level setting." % (mrw, r.size))
    elif r.from_ + r.size > mrw:
        raise illegal_argument(
            "Result window is too large, from + size must be less than or equal to: [%d] but was [%d]. See "
            "the scroll api for a more efficient way to request large data sets. This limit can be set by "
            "changing the [index.max_result_window] index level setting." % (mrw, r.from_ + r.size))
    if "rescore" in r.body:
        rs = r.body["rescore"]
        rs = rs if isinstance(rs, list) else [rs]
        limit = int(index.setting("index.max_rescore_window"))
        for x in rs:
            w = int(x.get("window_size", 10)) if isinstance(x, dict) else 10
            if w > limit:
                raise illegal_argument(
                    "Rescore window [%d] is too large. It must be less than [%d]. This prevents allocating "
                    "massive heaps for storing the results to be rescored. This limit can be set by changing "
                    "the [index.max_rescore_window] index level setting." % (w, limit))
    limit = int(index.setting("index.max_docvalue_fields_search"))
    if len(r.docvalue_fields) > limit:
        raise illegal_argument(
            "Trying to retrieve too many docvalue_fields. Must be less than or equal to: [%d] but was [%d]. "
            "This limit can be set by changing the [index.max_docvalue_fields_search] index level setting."
            % (limit, len(r.docvalue_fields)))
    if "script_fields" in r.body:
        limit = int(index.setting("index.max_script_fields"))
        n = len(r.body["script_fields"] or {})
        if n > limit:
            raise illegal_argument(
                "Trying to retrieve too many script_fields. Must be less than or equal to: [%d] but was [%d]. "
                "This limit can be set by changing the [index.max_script_fields] index level setting."
                % (limit, n))
    if r.slice is not None:
        limit = int(index.setting("index.max_slices_per_scroll"))
        mx = int(r.slice.get("max", 1))
        if mx > limit:
            raise illegal_argument(
                "The number of slices [%d] is too large. It must be less than [%d]. This limit can be set by "
                "changing the [index.max_slices_per_scroll] index level setting." % (mx, limit))


def check_unsupported_after_limits(r):
    for key in ("rescore", "script_fields"):
        if key in r.body:
            raise illegal_argument("[%s] is not supported by this test server" % key)


# ---------------------------------------------------------------------------------------
# targets and binding

class Target(object):
    """One index of a search: its readers (frozen shard views) and alias filters."""

    def __init__(self, index, readers, filters=None, rank=0):
        self.index = index
        self.readers = readers
        self.filters = filters      # list of filter query dicts (OR-ed) or None
        self.rank = rank


class Bound(object):
    def __init__(self, target, matcher, post, sorts, binder):
        self.target = target
        self.matcher = matcher
        self.post = post
        self.sorts = sorts
        self.binder = binder


class SortBinding(object):
    __slots__ = ("spec", "kind", "field", "desc", "missing_flag", "missing_value", "out_type")

    def __init__(self, spec, kind, field=None):
        self.spec = spec
        self.kind = kind
        self.field = field
        self.desc = spec.order == "desc"
        self.missing_flag = 0
        self.missing_value = None
        self.out_type = None


def _sort_type(f):
    t = f.type
    if t in INT_RANGES or t in ("date", "date_nanos", "boolean"):
        return "long" if t != "unsigned_long" else "unsigned_long"
    if t in NUMERIC:
        return "double" if t != "float" and t != "half_float" else "float"
    return "string"


def bind_sort(spec, b, flavour, has_pit, shards):
    idx = b.index
    f = spec.field
    if f == "_score":
        return SortBinding(spec, "score")
    if f == "_doc":
        return SortBinding(spec, "doc")
    if f == "_shard_doc":
        if not flavour.shard_doc:
            raise shard_error("No mapping found for [_shard_doc] in order to sort on", idx)
        return SortBinding(spec, "shard_doc")
    if f in ("_id", "_index", "_routing"):
        if f == "_id" and b.flavour and _id_fielddata_off(b):
            raise illegal_argument("Fielddata access on the _id field is disallowed, you can re-enable it by "
                                   "updating the dynamic cluster setting: indices.id_field_data.enabled")
        sb = SortBinding(spec, f)
        sb.out_type = "string"
        return sb
    if f in ("_seq_no", "_version", "_primary_term"):
        sb = SortBinding(spec, f)
        sb.out_type = "long"
        return sb
    fld = b.mapping.lookup(f)
    if fld is None:
        if spec.unmapped_type:
            sb = SortBinding(spec, "unmapped")
            sb.out_type = "long" if spec.unmapped_type in ("long", "integer", "short", "byte", "date",
                                                           "boolean") else \
                "double" if spec.unmapped_type in NUMERIC else "string"
            _missing(sb)
            return sb
        raise shard_error("No mapping found for [%s] in order to sort on" % f, idx)
    if fld.type in ("text", "match_only_text") and fld.params.get("fielddata") not in (True, "true"):
        raise illegal_argument(
            "Text fields are not optimised for operations that require per-document field data like "
            "aggregations and sorting, so these operations are disabled by default. Please use a keyword "
            "field instead. Alternatively, set fielddata=true on [%s] in order to load field data by "
            "uninverting the inverted index. Note that this can use significant memory." % f)
    if fld.type in ("geo_point", "geo_shape", "binary", "flat_object"):
        raise illegal_argument("can't sort on geo_point field without using specific sorting feature, like "
                               "geo_distance" if fld.type == "geo_point" else
                               "Field [%s] of type [%s] does not support sorting" % (f, fld.type))
    if fld.nested_path is not None and not spec.nested:
        raise shard_error("it is mandatory to set the [nested] context on the nested sort field: [%s]." % f, idx)
    sb = SortBinding(spec, "field", fld)
    sb.out_type = _sort_type(fld)
    if spec.mode in ("sum", "avg", "median") and sb.out_type == "string":
        raise illegal_argument("Sort mode [%s] not supported for string fields" % spec.mode)
    _missing(sb, fld, b)
    return sb


def _id_fielddata_off(b):
    return getattr(b, "id_fielddata", True) is False


def _missing(sb, fld=None, b=None):
    m = sb.spec.missing
    if m == "_last":
        sb.missing_flag = 1
    elif m == "_first":
        sb.missing_flag = -1
    else:
        sb.missing_flag = 0
        if fld is not None:
            sb.missing_value = _convert_after(sb, m)
        else:
            sb.missing_value = m


def _pick(vals, mode, desc, out_type):
    if mode is None:
        mode = "max" if desc else "min"
    if mode == "min":
        return min(vals)
    if mode == "max":
        return max(vals)
    if out_type in ("long", "unsigned_long"):
        if mode == "sum":
            return _wrap64(sum(int(v) for v in vals))
        if mode == "avg":
            tot = _wrap64(sum(int(v) for v in vals))
            return tot if len(vals) == 1 else _java_round(tot / len(vals))
        sv = sorted(vals)
        n = len(sv)
        if n % 2:
            return sv[n // 2]
        return _java_round((float(sv[n // 2 - 1]) + float(sv[n // 2])) / 2)
    if mode == "sum":
        return _dsum(sorted(vals))
    if mode == "avg":
        return _dsum(sorted(vals)) / len(vals)
    sv = sorted(vals)
    n = len(sv)
    if n % 2:
        return sv[n // 2]
    return (sv[n // 2 - 1] + sv[n // 2]) / 2


def _dsum(vals):
    t = 0.0
    for v in vals:
        t += v
    return t


def _wrap64(v):
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= (1 << 63) else v


def _java_round(x):
    return int(math.floor(x + 0.5))


LONG_MAX = (1 << 63) - 1
LONG_MIN = -(1 << 63)


def _missing_out(sb):
    """The sort value a real node reports for a document without a value."""
    first = sb.missing_flag == -1
    high = (first == sb.desc)      # asc+_last and desc+_first use the high sentinel
    if sb.out_type == "long":
        return LONG_MAX if high else LONG_MIN
    if sb.out_type == "unsigned_long":
        return (1 << 64) - 1 if high else 0
    if sb.out_type in ("double", "float"):
        return float("inf") if high else float("-inf")
    return None


def _key_part(sb, v):
    if isinstance(v, bool):
        v = 1 if v else 0
    if sb.desc:
        if isinstance(v, (int, float)):
            return -v
        return Desc(v)
    return v


def _convert_after(sb, v):
    """A search_after (or missing) value in the comparison form of the sort."""
    if v is None:
        return None
    t = sb.out_type
    fld = sb.field
    if fld is not None and fld.type in ("date", "date_nanos"):
        if isinstance(v, str) and not v.lstrip("-").isdigit():
            fmt = date_format(sb.spec.format) if sb.spec.format else fld.fmt
            n = fmt.parse(v)
            if n is None:
                raise illegal_argument("failed to parse date field [%s] with format [%s]" % (v, fmt.text))
            return n // 1000000 if fld.type == "date" else n
        return int(v)
    if t in ("long", "unsigned_long"):
        if isinstance(v, bool):
            return 1 if v else 0
        try:
            return int(v) if not isinstance(v, float) else v
        except (TypeError, ValueError):
            d = _float_value(v)
            if d is None:
                raise illegal_argument("Failed to parse search_after value for field [%s]." % sb.spec.field)
            return d
    if t in ("double", "float"):
        d = _float_value(v)
        if d is None:
            raise illegal_argument("Failed to parse search_after value for field [%s]." % sb.spec.field)
        return d
    return v if isinstance(v, str) else str(v)


def _out_value(sb, v):
    if v is None:
        return None
    if sb.out_type == "float":
        return float32_repr(v)
    if isinstance(v, bool):
        return 1 if v else 0
    if sb.field is not None and sb.spec.format and sb.field.type in ("date", "date_nanos"):
        fmt = date_format(sb.spec.format)
        return fmt.format_millis(v) if sb.field.type == "date" else fmt.format_nanos(v)
    if sb.out_type == "double" and isinstance(v, int):
        return float(v)
    return v


# ---------------------------------------------------------------------------------------
# execution

class Hit(object):
    __slots__ = ("key", "tie", "score", "reader", "pos", "sortvals")

    def __init__(self, key, tie, score, reader, pos, sortvals):
        self.key = key
        self.tie = tie
        self.score = score
        self.reader = reader
        self.pos = pos
        self.sortvals = sortvals


class Result(object):
    def __init__(self):
        self.hits = []
        self.total = 0
        self.max_score = None
        self.aggs = None
        self.shards = 0
        self.terminated_early = None
        self.sorted_by_score = True


def _filters_query(filters, flavour):
    if not filters:
        return None
    nodes = [parse_query(f, flavour) for f in filters]
    return nodes


def bind_targets(req, targets, flavour, id_fielddata, has_pit, now_ms):
    bound = []
    errors = []
    for t in targets:
        b = Binder(t.index, flavour, now_ms=now_ms)
        b.id_fielddata = id_fielddata
        try:
            check_limits(req, t.index, flavour)
            q = req.query.bind(b) if req.query is not None else None
            post = req.post_filter.bind(b) if req.post_filter is not None else None
            if t.filters:
                fms = [parse_query(f, flavour).bind(b) for f in t.filters]
                inner = q

                def q(d, inner=inner, fms=fms):
                    if not any(fm(d) is not None for fm in fms):
                        return None
                    return inner(d) if inner is not None else 1.0
            sorts = []
            specs = req.sort or []
            for spec in specs:
                sorts.append(bind_sort(spec, b, flavour, has_pit, None))
            if has_pit and flavour.pit_tiebreaker and not any(s.kind == "shard_doc" for s in sorts):
                sorts.append(SortBinding(SortSpec("_shard_doc"), "shard_doc"))
            bound.append(Bound(t, q, post, sorts, b))
        except EsError as e:
            errors.append((e, t))
    if not errors and len(bound) > 1:
        for i in range(len(bound[0].sorts)):
            types = set(bd.sorts[i].field.type for bd in bound if bd.sorts[i].kind == "field")
            if "unsigned_long" in types and len(types) > 1:
                raise search_phase_error(illegal_argument(
                    "Can't do sort across indices, as a field has [unsigned_long] type in one index, and different "
                    "type in another index!"), [], status=400)
    if errors:
        e, t = errors[0]
        if e.etype in ("parsing_exception", "action_request_validation_exception", "x_content_parse_exception"):
            raise e
        shards = []
        for err, tt in errors:
            for s in range(len(tt.readers)):
                shards.append((tt.index.name, s))
                break
        raise search_phase_error(e, shards)
    check_unsupported_after_limits(req)
    return bound


def collect(req, bound, flavour, has_pit=False, shard_base=None):
    """Runs the bound query over every reader; returns (all matching hits sorted, total,
    max_score, agg_docs)."""
    hits = []
    max_score = None
    agg_docs = [] if req.aggs else None
    need_score = (not req.sort) or any(s.kind == "score" for b in bound for s in b.sorts) or req.track_scores \
        or req.min_score is not None
    gshard = 0
    for bd in bound:
        fields = list(bd.binder.needed.values())
        sort_fields = [s.field for s in bd.sorts if s.kind == "field"]
        for r_i, reader in enumerate(bd.target.readers):
            shard_index = gshard
            gshard += 1
            if req.slice is not None:
                sid, smax = int(req.slice.get("id", 0)), int(req.slice.get("max", 1))
                if smax <= 0 or sid >= smax:
                    raise illegal_argument("max must be greater than id")
                if len(bd.target.readers) >= smax:
                    if r_i % smax != sid:
                        continue
            ensure_columns(reader, fields + sort_fields)
            docs = reader.docs
            m = bd.matcher
            post = bd.post
            tie_base = (bd.target.rank, reader.shard.num)
            sorts = bd.sorts
            for pos in range(len(docs)):
                view = None
                if m is not None:
                    view = DocView(reader, pos)
                    score = m(view)
                    if score is None:
                        continue
                else:
                    score = 1.0
                if req.slice is not None and len(bd.target.readers) < int(req.slice.get("max", 1)):
                    from es_common import murmur3_32
                    smax = int(req.slice.get("max", 1))
                    if (murmur3_32(docs[pos].id.encode("utf-8")) % smax) != int(req.slice.get("id", 0)):
                        continue
                if req.min_score is not None and score < float(req.min_score):
                    continue
                if agg_docs is not None:
                    agg_docs.append((reader, pos))
                if post is not None:
                    if view is None:
                        view = DocView(reader, pos)
                    if post(view) is None:
                        continue
                if need_score and (max_score is None or score > max_score):
                    max_score = score
                if sorts:
                    key = []
                    outs = []
                    for sb in sorts:
                        k, o = _sort_value(sb, reader, pos, score, shard_index, view)
                        key.append(k)
                        outs.append(o)
                    hits.append(Hit(tuple(key), tie_base + (pos,), score, reader, pos, outs))
                else:
                    hits.append(Hit((-score,), tie_base + (pos,), score, reader, pos, None))
    hits.sort(key=lambda h: (h.key, h.tie))
    return hits, max_score if need_score else None, agg_docs


def _sort_value(sb, reader, pos, score, shard_index, view):
    k = sb.kind
    if k == "score":
        return ((0, -score if sb.desc else score), score)
    if k == "doc":
        return ((0, -pos if sb.desc else pos), pos)
    if k == "shard_doc":
        v = (shard_index << 32) | pos
        return ((0, -v if sb.desc else v), v)
    d = reader.docs[pos]
    if k == "_id":
        return ((0, _key_part(sb, d.id)), d.id)
    if k == "_index":
        return ((0, _key_part(sb, reader.index.name)), reader.index.name)
    if k == "_routing":
        if d.routing is None:
            return ((sb.missing_flag, 0), None)
        return ((0, _key_part(sb, d.routing)), d.routing)
    if k in ("_seq_no", "_version", "_primary_term"):
        v = d.seq_no if k == "_seq_no" else d.version if k == "_version" else 1
        return ((0, _key_part(sb, v)), v)
    if k == "field":
        col = reader.cache.get(("col", sb.field.path))
        if col is None:
            col = ensure_columns(reader, [sb.field])[sb.field.path]
        vals = col[pos]
        if not vals and sb.spec.nested:
            from es_query import extract, column_values
            npath = sb.spec.nested.get("path") if isinstance(sb.spec.nested, dict) else None
            if npath:
                obj = json.loads(d.source)
                raw = extract(obj, sb.field.source_path)
                vals = column_values(sb.field, raw, reader.index.settings)
        if vals:
            v = _pick(vals, sb.spec.mode, sb.desc, sb.out_type)
            return ((0, _key_part(sb, v)), _out_value(sb, v))
    if sb.missing_flag == 0 and sb.missing_value is not None:
        v = sb.missing_value
        return ((0, _key_part(sb, v)), _out_value(sb, v))
    return ((sb.missing_flag, 0), _missing_out(sb))


def after_key(sorts, values):
    """search_after values -> a key comparable with Hit.key."""
    if len(values) != len(sorts):
        raise illegal_argument("search_after has %d value(s) but sort has %d." % (len(values), len(sorts)))
    key = []
    for sb, v in zip(sorts, values):
        if sb.kind in ("score",):
            f = float(v)
            key.append((0, -f if sb.desc else f))
            continue
        if sb.kind in ("doc", "shard_doc"):
            iv = int(v)
            key.append((0, -iv if sb.desc else iv))
            continue
        if v is None:
            key.append((sb.missing_flag if sb.missing_flag else 1, 0))
            continue
        cv = _convert_after(sb, v)
        if sb.missing_flag and cv is not None and cv == _missing_out(sb):
            key.append((sb.missing_flag, 0))
            continue
        key.append((0, _key_part(sb, cv)))
    return tuple(key)


def apply_search_after(hits, key):
    lo, hi = 0, len(hits)
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            gt = hits[mid].key > key
        except TypeError:
            gt = True
        if gt:
            hi = mid
        else:
            lo = mid + 1
    return hits[lo:]


def total_obj(req, n):
    tth = req.track_total_hits
    if tth is False:
        return None
    if tth is True:
        return {"value": n, "relation": "eq"}
    if n > tth:
        return {"value": tth, "relation": "gte"}
    return {"value": n, "relation": "eq"}


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
                raise illegal_argument(
                    "Text fields are not optimised for operations that require per-document field data like "
                    "aggregations and sorting, so these operations are disabled by default. Please use a "
                    "keyword field instead. Alternatively, set fielddata=true on [%s] in order to load field "
                    "data by uninverting the inverted index. Note that this can use significant memory." % fname)
            vals = ensure_columns(h.reader, [f])[f.path][h.pos]
            if vals:
                out[fname] = [_field_out(f, v, fmt) for v in sorted(vals)]
    return out


def fetch_fields(h, specs):
    from es_query import extract
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
                    from es_mapping import value_for
                    flat = [_field_out(f, value_for(f, x), fmt) for x in flat]
                elif f.is_multi and f.type == "keyword":
                    ia = f.params.get("ignore_above")
                    flat = [str(x) for x in flat if ia is None or len(str(x)) <= int(ia)]
                if flat:
                    out[fname] = flat
    return out


def stored_fields(idx, doc, names):
    from es_query import extract
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
        from es_mapping import value_for
        vals = [value_for(f, x) for x in extract(obj, f.source_path)]
        vals = [v for v in vals if v is not None]
        if vals:
            out[name] = vals
    return out


# ---------------------------------------------------------------------------------------
# contexts ids

_CTX_PREFIX = b"\rqueryAndFetch\x01"
_PIT_PREFIX = b"\x03pit"


def make_ctx_id(kind, n):
    prefix = _CTX_PREFIX if kind == "scroll" else _PIT_PREFIX
    raw = prefix + struct.pack(">Q", n) + os.urandom(16)
    return base64.b64encode(raw).decode("ascii")


def parse_ctx_id(kind, text):
    prefix = _CTX_PREFIX if kind == "scroll" else _PIT_PREFIX
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except Exception:
        return None
    if not raw.startswith(prefix) or len(raw) != len(prefix) + 24:
        return None
    return struct.unpack(">Q", raw[len(prefix):len(prefix) + 8])[0]


def context_missing(n):
    inner = EsError(404, "search_context_missing_exception", "No search context found for id [%d]" % n)
    return search_phase_error(inner, [], status=404)


# ---------------------------------------------------------------------------------------
# aggregations (a small, commonly used subset)

METRIC_AGGS = {"value_count", "min", "max", "sum", "avg", "stats", "cardinality"}
BUCKET_AGGS = {"terms", "missing", "filter", "filters"}
KNOWN_ES_AGGS = {"date_histogram", "histogram", "range", "date_range", "top_hits", "composite",
                 "nested", "reverse_nested", "significant_terms", "percentiles", "extended_stats",
                 "geo_bounds", "scripted_metric", "sampler", "global", "adjacency_matrix",
                 "auto_date_histogram", "multi_terms", "rare_terms", "weighted_avg", "median_absolute_deviation",
                 "bucket_sort", "bucket_script", "bucket_selector", "derivative", "cumulative_sum",
                 "max_bucket", "min_bucket", "avg_bucket", "sum_bucket", "stats_bucket", "percentile_ranks",
                 "geohash_grid", "geotile_grid", "ip_range", "variable_width_histogram", "diversified_sampler",
                 "boxplot", "t_test", "top_metrics", "string_stats", "matrix_stats", "geo_centroid",
                 "geo_distance", "children", "parent", "rate", "ip_prefix", "frequent_item_sets",
                 "categorize_text", "random_sampler", "time_series", "geo_line", "geohex_grid",
                 "cartesian_bounds", "cartesian_centroid", "moving_fn", "moving_avg", "serial_diff",
                 "percentiles_bucket", "extended_stats_bucket", "normalize", "bucket_count_ks_test",
                 "bucket_correlation", "inference", "change_point"}


class Agg(object):
    def __init__(self, name, atype, body, subs, flavour):
        self.name = name
        self.type = atype
        self.body = body
        self.subs = subs
        self.filter = None
        self.filters = None
        if atype == "filter":
            self.filter = parse_query(body, flavour)
        if atype == "filters":
            fs = body.get("filters", {})
            self.filters = {k: parse_query(v, flavour) for k, v in fs.items()} if isinstance(fs, dict) else \
                [parse_query(v, flavour) for v in fs]


def parse_aggs(obj, flavour):
    if not isinstance(obj, dict):
        raise parsing_error("Aggregation definition for [aggs] starts with a [%s], expected a [START_OBJECT]."
                            % type(obj).__name__)
    out = []
    for name, spec in obj.items():
        if not isinstance(spec, dict):
            raise parsing_error("Aggregation definition for [%s starts with a [VALUE_STRING], expected a "
                                "[START_OBJECT]." % name)
        atype = None
        subs = []
        body = None
        for k, v in spec.items():
            if k in ("aggs", "aggregations"):
                subs = parse_aggs(v, flavour)
            elif k == "meta":
                continue
            else:
                if atype is not None:
                    raise parsing_error("Found two aggregation type definitions in [%s]: [%s] and [%s]"
                                        % (name, atype, k))
                atype, body = k, v
        if atype is None:
            raise parsing_error("Missing definition for aggregation [%s]" % name)
        if atype not in METRIC_AGGS and atype not in BUCKET_AGGS and atype not in KNOWN_ES_AGGS:
            raise parsing_error("Unknown aggregation type [%s]" % atype)
        out.append(Agg(name, atype, body, subs, flavour))
    return out


def check_aggs(aggs, targets):
    """Shard-level checks a real node makes before aggregating."""
    for a in aggs or []:
        field = a.body.get("field") if isinstance(a.body, dict) else None
        if field:
            for t in targets:
                f = t.index.mapping.lookup(field)
                if f is not None and (getattr(f, "flat", False) or f.type == "flat_object"):
                    raise illegal_argument("Field [%s] of type [flat_object] is not supported for aggregation [%s]"
                                           % (field, a.type))
        if a.type in KNOWN_ES_AGGS:
            raise illegal_argument("aggregation [%s] is not supported by this test server" % a.type)
        check_aggs(a.subs, targets)


def run_aggs(aggs, docs, bound_by_index, flavour):
    """docs: list of (reader, pos). Returns the "aggregations" object."""
    out = {}
    for a in aggs:
        out[a.name] = _run_agg(a, docs, bound_by_index, flavour)
    return out


def _agg_values(a, docs, field):
    vals = []
    per_doc = []
    for reader, pos in docs:
        f = reader.mapping.lookup(field)
        if f is None or f is _UNREACHABLE:
            per_doc.append(((), None))
            continue
        if f.type in ("text", "match_only_text") and f.params.get("fielddata") not in (True, "true"):
            raise illegal_argument(
                "Text fields are not optimised for operations that require per-document field data like "
                "aggregations and sorting, so these operations are disabled by default. Please use a keyword "
                "field instead. Alternatively, set fielddata=true on [%s] in order to load field data by "
                "uninverting the inverted index. Note that this can use significant memory." % field)
        v = ensure_columns(reader, [f])[f.path][pos]
        per_doc.append((v, f))
        vals.extend(v)
    return vals, per_doc


def _run_agg(a, docs, bound_by_index, flavour):
    t = a.type
    body = a.body if isinstance(a.body, dict) else {}
    if t in METRIC_AGGS:
        field = body.get("field")
        vals, per_doc = _agg_values(a, docs, field)
        ftype = next((f.type for _, f in per_doc if f is not None), None)
        nums = [float(v) if not isinstance(v, bool) else (1.0 if v else 0.0) for v in vals
                if isinstance(v, (int, float))]
        if t == "value_count":
            return {"value": len(vals)}
        if t == "cardinality":
            return {"value": len(set(vals))}
        if t == "min":
            r = {"value": min(nums) if nums else None}
        elif t == "max":
            r = {"value": max(nums) if nums else None}
        elif t == "sum":
            r = {"value": _dsum(nums)}
        elif t == "avg":
            r = {"value": _dsum(nums) / len(nums) if nums else None}
        else:
            r = {"count": len(nums), "min": min(nums) if nums else None, "max": max(nums) if nums else None,
                 "avg": _dsum(nums) / len(nums) if nums else None, "sum": _dsum(nums)}
        if ftype in ("date", "date_nanos") and t in ("min", "max") and r["value"] is not None:
            f = next(f for _, f in per_doc if f is not None)
            r["value_as_string"] = f.fmt.format_millis(int(r["value"])) if ftype == "date" else \
                f.fmt.format_nanos(int(r["value"]))
        return r
    if t == "missing":
        field = body.get("field")
        _, per_doc = _agg_values(a, docs, field)
        sub = [d for d, (v, _) in zip(docs, per_doc) if not v]
        return _bucket(a, sub, bound_by_index, flavour, {"doc_count": len(sub)})
    if t == "filter":
        sub = _filter_docs(a.filter, docs, bound_by_index, flavour)
        return _bucket(a, sub, bound_by_index, flavour, {"doc_count": len(sub)})
    if t == "filters":
        if isinstance(a.filters, dict):
            buckets = {}
            for k, q in a.filters.items():
                sub = _filter_docs(q, docs, bound_by_index, flavour)
                buckets[k] = _bucket(a, sub, bound_by_index, flavour, {"doc_count": len(sub)})
            return {"buckets": buckets}
        return {"buckets": [_bucket(a, s, bound_by_index, flavour, {"doc_count": len(s)}) for s in
                            (_filter_docs(q, docs, bound_by_index, flavour) for q in a.filters)]}
    # terms
    field = body.get("field")
    size = int(body.get("size", 10))
    min_doc_count = int(body.get("min_doc_count", 1))
    _, per_doc = _agg_values(a, docs, field)
    groups = {}
    for d, (vals, f) in zip(docs, per_doc):
        for v in set(vals):
            groups.setdefault(v, []).append(d)
    if "missing" in body:
        miss = [d for d, (vals, _) in zip(docs, per_doc) if not vals]
        if miss:
            groups.setdefault(body["missing"], []).extend(miss)
    order = body.get("order", {"_count": "desc"})
    if isinstance(order, list):
        order = order[0] if order else {"_count": "desc"}
    (okey, odir), = order.items() if isinstance(order, dict) and order else (("_count", "desc"),)
    items = [(k, v) for k, v in groups.items() if len(v) >= min_doc_count]
    if okey in ("_key", "_term"):
        items.sort(key=lambda kv: kv[0], reverse=(odir == "desc"))
    else:
        items.sort(key=lambda kv: kv[0])
        items.sort(key=lambda kv: len(kv[1]), reverse=(odir == "desc"))
    total_in = sum(len(v) for _, v in items)
    shown = items[:size]
    buckets = []
    ftype = next((f.type for _, f in per_doc if f is not None), None)
    for k, sub in shown:
        b = {"key": 1 if k is True else 0 if k is False else k}
        if ftype == "boolean":
            b["key_as_string"] = "true" if k else "false"
        elif ftype in ("date", "date_nanos"):
            f = next(f for _, f in per_doc if f is not None)
            b["key_as_string"] = f.fmt.format_millis(k) if ftype == "date" else f.fmt.format_nanos(k)
        b["doc_count"] = len(sub)
        buckets.append(_bucket(a, sub, bound_by_index, flavour, b))
    return {"doc_count_error_upper_bound": 0,
            "sum_other_doc_count": total_in - sum(len(v) for _, v in shown), "buckets": buckets}


def _bucket(a, sub_docs, bound_by_index, flavour, head):
    if a.subs:
        head.update(run_aggs(a.subs, sub_docs, bound_by_index, flavour))
    return head


def _filter_docs(q, docs, bound_by_index, flavour):
    out = []
    cache = {}
    for reader, pos in docs:
        idx = reader.index
        m = cache.get(idx.name)
        if m is None:
            m = q.bind(Binder(idx, flavour))
            cache[idx.name] = m
        if m(DocView(reader, pos)) is not None:
            out.append((reader, pos))
    return out


# ---------------------------------------------------------------------------------------
# count

def run_count(query, targets, flavour, params):
    n = 0
    shards = 0
    for t in targets:
        b = Binder(t.index, flavour)
        try:
            m = query.bind(b) if query is not None else None
            if t.filters:
                fms = [parse_query(f, flavour).bind(b) for f in t.filters]
                inner = m

                def m(d, inner=inner, fms=fms):
                    if not any(fm(d) is not None for fm in fms):
                        return None
                    return inner(d) if inner is not None else 1.0
        except EsError as e:
            if e.etype in ("parsing_exception",):
                raise
            raise search_phase_error(e, [(t.index.name, 0)])
        fields = list(b.needed.values())
        for reader in t.readers:
            shards += 1
            if m is None:
                n += len(reader.docs)
                continue
            ensure_columns(reader, fields)
            for pos in range(len(reader.docs)):
                if m(DocView(reader, pos)) is not None:
                    n += 1
    return n, shards
