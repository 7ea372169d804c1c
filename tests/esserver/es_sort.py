"""Sorting of the Elasticsearch-compatible test server.

DESIGN: every sort clause is bound per index to a SortBinding, which refuses what a real node
refuses (text fields without fielddata, _id when indices.id_field_data.enabled is false,
unmapped fields without unmapped_type, nested fields without a nested context). Each hit
gets a sort key built so that plain tuple comparison gives Elasticsearch's order: asc/desc
per clause (numbers negated, strings wrapped in Desc), missing values _first/_last as a flag
before the value, multi-valued fields reduced by mode (min, max, sum, avg, median). The sort
values shown in hits, with the sentinels a real node reports for missing values, are kept
beside the key. search_after converts its values into the same key and cuts the sorted hit
list with a binary search.
"""

import json
import math

from es_common import illegal_argument, parsing_error, float32_repr, text_fielddata_error
from es_dates import date_format
from es_docview import ensure_columns, extract, column_values
from es_query_base import shard_error
from es_values import NUMERIC, INT_RANGES, float_value


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


def parse_sort(v):
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


def parse_sort_param(s):
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
        raise text_fielddata_error(f)
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
        return dsum(sorted(vals))
    if mode == "avg":
        return dsum(sorted(vals)) / len(vals)
    sv = sorted(vals)
    n = len(sv)
    if n % 2:
        return sv[n // 2]
    return (sv[n // 2 - 1] + sv[n // 2]) / 2


def dsum(vals):
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
            d = float_value(v)
            if d is None:
                raise illegal_argument("Failed to parse search_after value for field [%s]." % sb.spec.field)
            return d
    if t in ("double", "float"):
        d = float_value(v)
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


def sort_value(sb, reader, pos, score, shard_index, view):
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


def score_sort():
    """The implicit sort of a search without "sort": by score."""
    return SortBinding(SortSpec("_score"), "score")
