"""Term-level queries of the Elasticsearch-compatible test server.

DESIGN: match_all, match_none, ids, term, terms, range, exists, prefix, wildcard, regexp and
fuzzy compare the query's values with the indexed form of a field (es_values.value_for, the
same normalisation the columns hold), converted once while binding: a value the field cannot
take is a query_shard_exception unless the query is lenient. Text fields are matched on their
tokens. A bound query is a function doc -> score or None.
"""

import re

from es_analysis import normalize_keyword
from es_common import EsError, parsing_error, illegal_argument, glob_match
from es_dates import date_format, parse_date_math
from es_query_base import (Node, SPECIAL, UNREACHABLE, shard_error, single_field, check_query_params, parse_boost,
                           parse_bool)
from es_values import value_for, float_value, as_text, NUMERIC, INT_RANGES


class MatchAll(Node):
    def parse(self, body):
        if not isinstance(body, dict):
            raise parsing_error("[match_all] query malformed, no start_object after query name")
        check_query_params("match_all", body, {"boost", "_name"})
        self.boost = parse_boost(body)

    def bind(self, b):
        s = self.boost
        return lambda d: s


class MatchNone(Node):
    def parse(self, body):
        if not isinstance(body, dict):
            raise parsing_error("[match_none] query malformed, no start_object after query name")

    def bind(self, b):
        return lambda d: None


class Ids(Node):
    def parse(self, body):
        if not isinstance(body, dict):
            raise parsing_error("[ids] query malformed, no start_object after query name")
        check_query_params("ids", body, {"values", "boost", "_name", "type"})
        vals = body.get("values", [])
        if not isinstance(vals, list):
            raise parsing_error("[ids] failed to parse field [values]")
        self.values = set(str(v) for v in vals)
        self.boost = parse_boost(body)

    def bind(self, b):
        vals, s = self.values, self.boost
        return lambda d: s if d.doc.id in vals else None


def _special_values(d, fname):
    if fname == "_id":
        return (d.doc.id,)
    if fname == "_index":
        return (d.reader.index.name,)
    if fname == "_routing":
        return (d.doc.routing,) if d.doc.routing is not None else ()
    if fname == "_seq_no":
        return (d.doc.seq_no,)
    if fname == "_version":
        return (d.doc.version,)
    if fname == "_primary_term":
        return (1,)
    return ()


def _term_value(b, f, fname, v, lenient):
    """A term in the indexed form of field f. Returns (ok, value)."""
    if isinstance(v, (dict, list)):
        raise parsing_error("[term] query does not support array of values" if isinstance(v, list)
                            else "[term] query does not support [%s]" % fname)
    t = f.type
    if t in ("text", "match_only_text"):
        return True, as_text(v)
    if t in ("keyword", "wildcard", "constant_keyword") or getattr(f, "flat", False) or t == "flat_object":
        s = as_text(v)
        norm = f.params.get("normalizer") if t == "keyword" else None
        if norm:
            s = normalize_keyword(s, norm, b.settings)
        return True, s
    if t in ("date", "date_nanos"):
        n = parse_date_math(v, f.fmt, now_ms=b.now_ms)
        if n is None:
            if lenient:
                return False, None
            raise shard_error("failed to create query: failed to parse date field [%s] with format [%s]"
                              % (v, f.fmt.text), b.index)
        return True, (n // 1000000 if t == "date" else n)
    n = value_for(f, v)
    if n is None and v is not None:
        if lenient:
            return False, None
        if t in NUMERIC:
            raise shard_error("failed to create query: For input string: \"%s\"" % v, b.index,
                              caused_by=EsError(400, "number_format_exception", "For input string: \"%s\"" % v))
        if t == "boolean":
            raise shard_error("failed to create query: Can't parse boolean value [%s], expected [true] or "
                              "[false]" % v, b.index)
        raise shard_error("failed to create query: %s" % v, b.index)
    if t in INT_RANGES and isinstance(v, float) and v != int(v):
        return False, None
    return True, n


class Term(Node):
    def parse(self, body):
        self.field, v = single_field("term", body)
        self.case_insensitive = False
        if isinstance(v, dict):
            check_query_params("term", v, {"value", "boost", "_name", "case_insensitive"})
            if "value" not in v:
                raise parsing_error("value must not be null")
            self.value = v["value"]
            self.boost = parse_boost(v)
            self.case_insensitive = parse_bool(v.get("case_insensitive", False), "case_insensitive")
        elif isinstance(v, list):
            raise parsing_error("[term] query does not support array of values")
        else:
            self.value = v
        if self.value is None:
            raise illegal_argument("value cannot be null")

    def bind(self, b):
        return term_matcher(b, self.field, [self.value], self.boost, self.case_insensitive)


def term_matcher(b, fname, values, boost, ci=False):
    if fname in SPECIAL:
        wanted = set(as_text(v) for v in values) if fname in ("_id", "_index", "_routing") else None
        if fname == "_index":
            hit = any(glob_match(w, b.index.name) for w in wanted)
            return (lambda d: boost) if hit else (lambda d: None)
        if wanted is not None:
            return lambda d: boost if any(x in wanted for x in _special_values(d, fname)) else None
        nums = set()
        for v in values:
            try:
                nums.add(int(v))
            except (TypeError, ValueError):
                pass
        return lambda d: boost if any(x in nums for x in _special_values(d, fname)) else None
    f = b.field(fname)
    if f is None or f is UNREACHABLE:
        return lambda d: None
    wanted = set()
    for v in values:
        ok, tv = _term_value(b, f, fname, v, b.lenient)
        if ok:
            wanted.add(tv.lower() if ci and isinstance(tv, str) else tv)
    if not wanted:
        return lambda d: None
    if f.type in ("text", "match_only_text"):
        if ci:
            return lambda d: boost if any(t.lower() in wanted for toks in d.vals(f) for t in toks) else None
        return lambda d: boost if any(t in wanted for toks in d.vals(f) for t in toks) else None
    if ci:
        return lambda d: boost if any(isinstance(x, str) and x.lower() in wanted for x in d.vals(f)) else None
    return lambda d: boost if any(x in wanted for x in d.vals(f)) else None


class Terms(Node):
    def parse(self, body):
        if not isinstance(body, dict):
            raise parsing_error("[terms] query malformed, no start_object after query name")
        keys = [k for k in body if k not in ("boost", "_name", "value_type")]
        if len(keys) != 1:
            raise parsing_error("[terms] query does not support multiple fields" if keys else
                                "[terms] query requires a field")
        self.field = keys[0]
        v = body[self.field]
        if isinstance(v, dict):
            raise illegal_argument("terms lookup is not supported by this test server")
        if not isinstance(v, list):
            raise parsing_error("[terms] query does not support [%s]" % self.field)
        self.values = v
        self.boost = parse_boost(body)

    def bind(self, b):
        return term_matcher(b, self.field, [v for v in self.values if v is not None], self.boost)


def _range_bounds(body):
    lo = hi = None
    inc_lo = inc_hi = True
    if "from" in body:
        lo = body["from"]
    if "to" in body:
        hi = body["to"]
    if "include_lower" in body:
        inc_lo = parse_bool(body["include_lower"], "include_lower")
    if "include_upper" in body:
        inc_hi = parse_bool(body["include_upper"], "include_upper")
    if "gt" in body:
        lo, inc_lo = body["gt"], False
    if "gte" in body:
        lo, inc_lo = body["gte"], True
    if "lt" in body:
        hi, inc_hi = body["lt"], False
    if "lte" in body:
        hi, inc_hi = body["lte"], True
    return lo, inc_lo, hi, inc_hi


class Range(Node):
    def parse(self, body):
        self.field, v = single_field("range", body)
        if not isinstance(v, dict):
            raise parsing_error("[range] query malformed, no start_object after query name")
        check_query_params("range", v, {"gt", "gte", "lt", "lte", "from", "to", "include_lower",
                                        "include_upper", "boost", "_name", "format", "time_zone",
                                        "relation"})
        self.lo, self.inc_lo, self.hi, self.inc_hi = _range_bounds(v)
        self.boost = parse_boost(v)
        self.format = v.get("format")

    def bind(self, b):
        fname = self.field
        boost = self.boost
        if fname in SPECIAL:
            return lambda d: None
        f = b.field(fname)
        if f is None or f is UNREACHABLE:
            return lambda d: None
        t = f.type
        lo, hi = self.lo, self.hi
        inc_lo, inc_hi = self.inc_lo, self.inc_hi
        text = t in ("text", "match_only_text")
        if t in ("date", "date_nanos"):
            fmt = date_format(self.format) if self.format else f.fmt

            def conv(v, up):
                if v is None:
                    return None
                n = parse_date_math(v, fmt, round_up=up, now_ms=b.now_ms)
                if n is None:
                    raise shard_error("failed to parse date field [%s] with format [%s]" % (v, fmt.text), b.index)
                return n // 1000000 if t == "date" else n
            lo = conv(lo, not inc_lo)
            hi = conv(hi, inc_hi)
        elif t in NUMERIC:
            def conv(v):
                if v is None:
                    return None
                d = float_value(v)
                if d is None:
                    if b.lenient:
                        return None
                    raise shard_error("failed to create query: For input string: \"%s\"" % v, b.index)
                if isinstance(v, int) and not isinstance(v, bool):
                    return v
                return d
            lo, hi = conv(lo), conv(hi)
        elif t == "boolean":
            lo = None if lo is None else (lo in (True, "true"))
            hi = None if hi is None else (hi in (True, "true"))
        else:
            lo = None if lo is None else as_text(lo)
            hi = None if hi is None else as_text(hi)

        def inside(x):
            if lo is not None:
                try:
                    if x < lo or (x == lo and not inc_lo):
                        return False
                except TypeError:
                    return False
            if hi is not None:
                try:
                    if x > hi or (x == hi and not inc_hi):
                        return False
                except TypeError:
                    return False
            return True
        if text:
            return lambda d: boost if any(inside(tk) for toks in d.vals(f) for tk in toks) else None
        return lambda d: boost if any(inside(x) for x in d.vals(f)) else None


class Exists(Node):
    def parse(self, body):
        if not isinstance(body, dict) or "field" not in body:
            raise parsing_error("[exists] must be provided with a [field]")
        check_query_params("exists", body, {"field", "boost", "_name"})
        self.field = body["field"]
        self.boost = parse_boost(body)

    def bind(self, b):
        fname, boost = self.field, self.boost
        if fname in ("_id", "_index", "_seq_no", "_version", "_primary_term", "_source"):
            return lambda d: boost
        names = b.expand(fname) if "*" in fname else [fname]
        fields = []
        for n in names:
            f = b.field(n)
            if f is not None and f is not UNREACHABLE:
                fields.append(f)
        if not fields and "*" not in fname:
            # an object path: any mapped leaf below it
            prefix = fname + "."
            for n in b.mapping.field_names():
                if n.startswith(prefix):
                    f = b.field(n)
                    if f is not None and f is not UNREACHABLE and not f.is_multi:
                        fields.append(f)
        if not fields:
            return lambda d: None

        def m(d):
            for f in fields:
                if f.type in ("text", "match_only_text"):
                    if any(x is not None for x in d.raw(f.source_path)) and \
                            any(not isinstance(x, (dict,)) for x in d.raw(f.source_path) if x is not None):
                        return boost
                elif d.vals(f):
                    return boost
            return None
        return m


class Prefix(Node):
    def parse(self, body):
        self.field, v = single_field(self.qname, body)
        self.case_insensitive = False
        if isinstance(v, dict):
            check_query_params(self.qname, v, {"value", "wildcard", "boost", "_name", "rewrite",
                                               "case_insensitive", "flags", "max_determinized_states",
                                               "flags_value"})
            self.value = v.get("value", v.get("wildcard"))
            self.boost = parse_boost(v)
            self.case_insensitive = parse_bool(v.get("case_insensitive", False), "case_insensitive")
        else:
            self.value = v
        if self.value is None:
            raise parsing_error("No value specified for %s query" % self.qname)
        self.value = as_text(self.value)

    def pattern(self):
        return re.compile(re.escape(self.value) + ".*", re.S | (re.I if self.case_insensitive else 0))

    def bind(self, b):
        rx = self.pattern()
        return _pattern_matcher(b, self.field, rx, self.boost, self.qname == "wildcard")


def _pattern_matcher(b, fname, rx, boost, normalize_wildcard=False):
    if fname in ("_id", "_index", "_routing"):
        return lambda d: boost if any(rx.fullmatch(x) for x in _special_values(d, fname)) else None
    f = b.field(fname)
    if f is None or f is UNREACHABLE:
        return lambda d: None
    if f.type in ("text", "match_only_text"):
        return lambda d: boost if any(rx.fullmatch(t) for toks in d.vals(f) for t in toks) else None
    if f.type not in ("keyword", "wildcard", "constant_keyword") and not getattr(f, "flat", False) \
            and f.type != "flat_object":
        raise shard_error("Can only use %s queries on keyword and text fields - not on [%s] which is of "
                          "type [%s]" % ("wildcard" if normalize_wildcard else "prefix", fname, f.type), b.index)
    return lambda d: boost if any(rx.fullmatch(x) for x in d.vals(f) if isinstance(x, str)) else None


class Wildcard(Prefix):
    def pattern(self):
        out = []
        i = 0
        v = self.value
        while i < len(v):
            c = v[i]
            if c == "\\" and i + 1 < len(v):
                out.append(re.escape(v[i + 1]))
                i += 2
                continue
            out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
            i += 1
        return re.compile("".join(out), re.S | (re.I if self.case_insensitive else 0))


class Regexp(Prefix):
    def pattern(self):
        return _lucene_regex(self.value, self.case_insensitive)

    def bind(self, b):
        limit = int(b.index.setting("index.max_regex_length"))
        if len(self.value) > limit:
            raise illegal_argument(
                "The length of regex [%d] used in the Regexp Query request has exceeded the allowed maximum "
                "of [%d]. This maximum can be set by changing the [index.max_regex_length] index level "
                "setting." % (len(self.value), limit))
        return Prefix.bind(self, b)


def _lucene_regex(value, ci=False):
    # Lucene regexps are anchored; '<' '>' '@' '&' '~' '#' are operators there (not handled)
    try:
        return re.compile(value, re.S | (re.I if ci else 0))
    except re.error as e:
        raise illegal_argument("failed to parse regexp [%s]: %s" % (value, e))


def _edit_distance(a, b, limit):
    """Damerau-Levenshtein (optimal string alignment) distance, None when above limit."""
    if abs(len(a) - len(b)) > limit:
        return None
    prev2 = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)] if prev[len(b)] <= limit else None


class Fuzzy(Node):
    def parse(self, body):
        self.field, v = single_field("fuzzy", body)
        self.fuzziness = "AUTO"
        self.prefix = 0
        if isinstance(v, dict):
            check_query_params("fuzzy", v, {"value", "fuzziness", "prefix_length", "max_expansions", "transpositions",
                                            "rewrite", "boost", "_name"})
            self.value = v.get("value")
            self.fuzziness = v.get("fuzziness", "AUTO")
            self.prefix = int(v.get("prefix_length", 0))
            self.boost = parse_boost(v)
        else:
            self.value = v
        if self.value is None:
            raise parsing_error("[fuzzy] query doesn't support [value] = null")
        self.value = as_text(self.value)

    def bind(self, b):
        f = b.field(self.field)
        if f is None or f is UNREACHABLE:
            return lambda d: None
        val = self.value
        fz = str(self.fuzziness).upper()
        if fz.startswith("AUTO"):
            lo, hi = 3, 6
            if ":" in fz:
                lo, hi = [int(x) for x in fz.split(":")[1].split(",")]
            limit = 0 if len(val) < lo else (1 if len(val) < hi else 2)
        else:
            limit = int(float(fz))
        prefix, boost = val[:self.prefix], self.boost
        text = f.type in ("text", "match_only_text")
        if text:
            val = val.lower()

        def close(t):
            return isinstance(t, str) and t.startswith(prefix) and _edit_distance(t, val, limit) is not None
        if text:
            return lambda d: boost if any(close(t) for toks in d.vals(f) for t in toks) else None
        return lambda d: boost if any(close(x) for x in d.vals(f)) else None
