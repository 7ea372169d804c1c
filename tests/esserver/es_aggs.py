"""Aggregations of the Elasticsearch-compatible test server (a small, commonly used subset).

DESIGN: aggregations are parsed with the search request (unknown types are a
parsing_exception, known but unsupported ones a 400 that says so) and run over the
(reader, position) pairs of the matching documents, reading the normalised columns. Supported:
the metrics value_count, min, max, sum, avg, stats, cardinality and the buckets terms,
missing, filter, filters, with sub-aggregations.
"""

from es_common import illegal_argument, parsing_error, text_fielddata_error
from es_docview import DocView, ensure_columns
from es_query import parse_query
from es_query_base import Binder, UNREACHABLE
from es_sort import dsum


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
        if f is None or f is UNREACHABLE:
            per_doc.append(((), None))
            continue
        if f.type in ("text", "match_only_text") and f.params.get("fielddata") not in (True, "true"):
            raise text_fielddata_error(field)
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
            r = {"value": dsum(nums)}
        elif t == "avg":
            r = {"value": dsum(nums) / len(nums) if nums else None}
        else:
            r = {"count": len(nums), "min": min(nums) if nums else None, "max": max(nums) if nums else None,
                 "avg": dsum(nums) / len(nums) if nums else None, "sum": dsum(nums)}
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
