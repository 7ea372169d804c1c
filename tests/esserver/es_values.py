"""Field values of the Elasticsearch-compatible test server.

DESIGN: one place knows what a value of each field type is:
  - check_value() raises the mapper_parsing_exception (with the caused_by a real node
    sends) for a value a mapped field cannot take: a word in a long field, an object where a
    keyword is mapped, an out-of-range integer, a bad date or IP;
  - value_for() gives the indexed (doc value) form of a source value for search: numbers
    coerced (float and half_float rounded to their precision), dates to epoch millis or
    nanos, keywords longer than ignore_above not indexed.
"""

import ipaddress
import math
import re

from es_common import (EsError, illegal_argument, mapper_error, float32, half_float, java_double_str,
                       java_str)

INT_RANGES = {"long": (-(1 << 63), (1 << 63) - 1), "integer": (-(1 << 31), (1 << 31) - 1),
              "short": (-32768, 32767), "byte": (-128, 127),
              "unsigned_long": (0, (1 << 64) - 1)}
INT_NAMES = {"long": "a long", "integer": "an integer", "short": "a short", "byte": "a byte",
             "unsigned_long": "an unsigned long"}
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float",
           "scaled_float", "unsigned_long"}


_NUM_RE = re.compile(r"^\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$")


def looks_numeric(s):
    return _NUM_RE.match(s) is not None


# ---------------------------------------------------------------------------------------
# value checks (what DocumentParser rejects)

def value_preview(v):
    if isinstance(v, str):
        return v
    return java_str(v)


def _parse_fail(path, ftype, doc_id, v, caused_by):
    return mapper_error("failed to parse field [%s] of type [%s] in document with id '%s'. "
                        "Preview of field's value: '%s'" % (path, ftype, doc_id, value_preview(v)),
                        caused_by=caused_by)


def token_name(v):
    if isinstance(v, dict):
        return "START_OBJECT"
    if isinstance(v, bool):
        return "VALUE_TRUE" if v else "VALUE_FALSE"
    if isinstance(v, int):
        return "VALUE_NUMBER_INT"
    if isinstance(v, float):
        return "VALUE_NUMBER_FLOAT"
    return "VALUE_STRING"


def check_value(f, v, path, doc_id):
    """Raises the mapper_parsing_exception a real node sends for a value the field cannot
    take; returns None. f has .type, .params, .fmt."""
    t = f.type
    if t is None:
        return
    p = f.params
    if isinstance(v, dict) and t not in ("geo_point", "geo_shape", "flat_object", "point",
                                         "shape", "join", "completion", "rank_features",
                                         "integer_range", "long_range", "float_range",
                                         "double_range", "date_range", "ip_range",
                                         "aggregate_metric_double", "histogram",
                                         "knn_vector", "dense_vector", "sparse_vector",
                                         "percolator", "semantic_text"):
        if p.get("ignore_malformed") in (True, "true"):
            return
        raise _parse_fail(path, t, doc_id, v,
                          EsError(400, "illegal_state_exception",
                                  "Can't get text on a START_OBJECT at 1:%d" % (len(path) + 4)))
    if t in INT_RANGES:
        if int_value(v, t, p.get("coerce", True) not in (False, "false")) is None:
            if p.get("ignore_malformed") in (True, "true"):
                return
            raise _parse_fail(path, t, doc_id, v, _int_cause(v, t, p))
        return
    if t in ("double", "float", "half_float", "scaled_float"):
        d = float_value(v, p.get("coerce", True) not in (False, "false"))
        if d is None:
            if p.get("ignore_malformed") in (True, "true"):
                return
            if isinstance(v, str):
                cause = EsError(400, "number_format_exception",
                                "For input string: \"%s\"" % v if v.strip() else "empty String")
            else:
                cause = EsError(400, "json_parse_exception",
                                "Current token (%s) not numeric, can not use numeric value accessors"
                                % token_name(v))
            raise _parse_fail(path, t, doc_id, v, cause)
        limit = {"float": 3.4028234663852886e38, "half_float": 65504.0}.get(t)
        if not math.isfinite(d) or (limit is not None and abs(d) > limit):
            if p.get("ignore_malformed") in (True, "true"):
                return
            shown = java_double_str(d) if math.isfinite(d) else ("Infinity" if d > 0 else "-Infinity")
            if limit is not None and math.isfinite(d):
                shown = "Infinity" if d > 0 else "-Infinity"
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("[%s] supports only finite values, but got [%s]" % (t, shown)))
        return
    if t == "boolean":
        if isinstance(v, bool) or v in ("true", "false", ""):
            return
        if isinstance(v, str):
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("Failed to parse value [%s] as only [true] or [false] are allowed." % v))
        raise _parse_fail(path, t, doc_id, v,
                          EsError(400, "json_parse_exception",
                                  "Current token (%s) not of boolean type" % token_name(v)))
    if t in ("date", "date_nanos"):
        if isinstance(v, bool):
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("failed to parse date field [%s] with format [%s]"
                                               % (java_str(v), f.fmt.text)))
        if not f.fmt.valid(v):
            if p.get("ignore_malformed") in (True, "true"):
                return
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("failed to parse date field [%s] with format [%s]"
                                               % (java_str(v), f.fmt.text),
                                               caused_by=EsError(400, "date_time_parse_exception",
                                                                 "Failed to parse with all enclosed parsers")))
        return
    if t == "ip":
        try:
            ipaddress.ip_address(str(v))
        except ValueError:
            if p.get("ignore_malformed") in (True, "true"):
                return
            raise _parse_fail(path, t, doc_id, v,
                              illegal_argument("'%s' is not an IP string literal." % java_str(v)))
        return
    if t == "constant_keyword":
        expected = p.get("value")
        if expected is not None and str(v) != str(expected) and not (isinstance(v, (int, float)) and str(v) == str(expected)):
            raise mapper_error("constant_keyword field [%s] only accepts values that are equal to the "
                               "value defined in the mappings [%s], but got [%s]" % (path, expected, v))
        return


def int_value(v, t, coerce=True):
    lo, hi = INT_RANGES[t]
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v if lo <= v <= hi else None
    if isinstance(v, float):
        if not math.isfinite(v) or (not coerce and v != int(v)):
            return None
        iv = int(v)
        return iv if lo <= iv <= hi else None
    if isinstance(v, str):
        s = v.strip()
        try:
            iv = int(s)
        except ValueError:
            if not coerce:
                return None
            if not looks_numeric(s):
                return None
            try:
                if t == "unsigned_long" and "." in s and "e" not in s.lower():
                    iv = int(s.split(".")[0] or "0")
                else:
                    d = float(s)
                    if not math.isfinite(d):
                        return None
                    iv = int(d)
            except ValueError:
                return None
        return iv if lo <= iv <= hi else None
    return None


def _int_cause(v, t, p):
    if isinstance(v, str):
        s = v.strip()
        if looks_numeric(s):
            return illegal_argument("Value [%s] is out of range for %s" % (s, INT_NAMES[t]))
        return EsError(400, "number_format_exception",
                       "For input string: \"%s\"" % v if s else "empty String")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, float) and p.get("coerce", True) in (False, "false"):
            return illegal_argument("Value [%s] has a decimal part" % java_double_str(v))
        return EsError(400, "input_coercion_exception",
                       "Numeric value (%s) out of range of %s (%d - %d)"
                       % (v, "long" if t == "long" else "int", INT_RANGES[t][0], INT_RANGES[t][1]))
    return EsError(400, "json_parse_exception",
                   "Current token (%s) not numeric, can not use numeric value accessors" % token_name(v))


def float_value(v, coerce=True):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        if not coerce:
            return None
        if s in ("NaN", "Infinity", "-Infinity", "+Infinity"):
            return float(s.replace("+", ""))
        if not looks_numeric(s):
            return None
        try:
            return float(s)
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------------------------
# values for search

def value_for(f, v):
    """The indexed (doc value) form of one source value, or None when it is not indexed."""
    t = f.type
    if v is None:
        nv = f.params.get("null_value") if isinstance(f.params, dict) else None
        if nv is None:
            return None
        v = nv
    if t == "keyword" or t == "wildcard" or t == "constant_keyword":
        if isinstance(v, dict) or isinstance(v, list):
            return None
        s = as_text(v)
        ia = f.params.get("ignore_above")
        if ia is not None and len(s) > int(ia):
            return None
        return s
    if t in INT_RANGES:
        return int_value(v, t)
    if t == "double":
        return float_value(v)
    if t == "float":
        d = float_value(v)
        return None if d is None else float32(d)
    if t == "half_float":
        d = float_value(v)
        return None if d is None else half_float(d)
    if t == "scaled_float":
        d = float_value(v)
        if d is None:
            return None
        sf = float(f.params.get("scaling_factor", 1))
        return math.floor(d * sf + 0.5) / sf
    if t == "boolean":
        if v is True or v == "true":
            return True
        if v is False or v == "false" or v == "":
            return False
        return None
    if t == "date":
        n = f.fmt.parse(v)
        return None if n is None else n // 1000000
    if t == "date_nanos":
        return f.fmt.parse(v)
    if t == "ip":
        try:
            return str(ipaddress.ip_address(str(v)))
        except ValueError:
            return None
    if t in ("text", "match_only_text"):
        if isinstance(v, (dict, list)):
            return None
        return as_text(v)
    if t == "flat_object":
        return None
    if isinstance(v, (dict, list)):
        return None
    return as_text(v)


def as_text(v):
    """The text form of a scalar as keyword fields and term queries see it: true/false in
    lower case, floats as Java prints them ("1.0", "1.5", "1e+16")."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)
