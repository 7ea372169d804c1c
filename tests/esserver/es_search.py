"""Search execution of the Elasticsearch-compatible test server.

DESIGN: parse_search() turns a request (URL parameters + body) into a SearchRequest,
raising the errors a real node raises while parsing (unknown keys, negative from/size,
result window, scroll/PIT/search_after conflicts). bind_targets() binds the query, the
post_filter, the alias filters and the sort to each Target (one per index: its readers and
the alias filters that apply), collect() runs them over every reader and returns the
matching hits sorted (es_sort.py builds the keys), run_count() counts. The search handler
(es_api_search.py) pages through the hits, keeps them for a scroll, and renders them
(es_hits.py); aggregations are in es_aggs.py.

Sorted hit lists of a point in time are cached per (query, sort) on the frozen readers so
that paging through 100,000 documents with search_after costs one sort, not one per page.
"""

from es_aggs import parse_aggs
from es_common import (EsError, illegal_argument, validation_error, parsing_error, search_phase_error,
                       parse_time_ms, bool_param, int_param, murmur3_32, str_list)
from es_docview import DocView, ensure_columns
from es_hits import SourceFilter, parse_source_filter
from es_query import parse_query
from es_query_base import Binder
from es_query_text import q_param_query
from es_sort import SortBinding, SortSpec, parse_sort, parse_sort_param, bind_sort, sort_value

BODY_KEYS = {"query", "from", "size", "sort", "search_after", "_source", "track_total_hits",
             "version", "seq_no_primary_term", "stored_fields", "docvalue_fields", "fields",
             "post_filter", "min_score", "terminate_after", "track_scores", "aggs",
             "aggregations", "pit", "timeout", "explain", "highlight", "rescore", "script_fields",
             "suggest", "collapse", "profile", "indices_boost", "slice", "stats", "ext",
             "runtime_mappings", "knn", "search_pipeline", "verbose_pipeline", "include_named_queries_score"}
UNSUPPORTED_KEYS = {"highlight", "suggest", "collapse", "profile", "indices_boost", "ext",
                    "runtime_mappings", "knn", "rescore", "script_fields"}
INT_MAX = (1 << 31) - 1


# ---------------------------------------------------------------------------------------
# the request

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
        r.sort = parse_sort(body["sort"])
    if params.get("sort") is not None:
        r.sort = parse_sort_param(params["sort"])
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
        r.stored_fields = str_list(sfl)
        if "_source" not in r.stored_fields and body.get("_source") is None and params.get("_source") is None:
            r.source = SourceFilter(False)
    dv = body.get("docvalue_fields")
    if params.get("docvalue_fields") is not None:
        dv = str_list(params["docvalue_fields"])
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
            q = _with_alias_filters(q, t.filters, b, flavour)
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


def _with_alias_filters(q, filters, b, flavour):
    """The bound query q restricted to the documents of one of the filters of the aliases the
    index was reached through (they are OR-ed); q None matches everything."""
    if not filters:
        return q
    fms = [parse_query(f, flavour).bind(b) for f in filters]

    def m(d):
        if not any(fm(d) is not None for fm in fms):
            return None
        return q(d) if q is not None else 1.0
    return m


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
                        k, o = sort_value(sb, reader, pos, score, shard_index, view)
                        key.append(k)
                        outs.append(o)
                    hits.append(Hit(tuple(key), tie_base + (pos,), score, reader, pos, outs))
                else:
                    hits.append(Hit((-score,), tie_base + (pos,), score, reader, pos, None))
    hits.sort(key=lambda h: (h.key, h.tie))
    return hits, max_score if need_score else None, agg_docs


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
# count

def run_count(query, targets, flavour, params):
    n = 0
    shards = 0
    for t in targets:
        b = Binder(t.index, flavour)
        try:
            m = query.bind(b) if query is not None else None
            m = _with_alias_filters(m, t.filters, b, flavour)
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
