"""Query DSL of the Elasticsearch-compatible test server.

DESIGN: a query is parsed once (parse_query), which raises the parsing_exception a real
node sends for malformed or unknown queries, into a tree of small node objects. Each node is
then bound to one index (bind), because field types differ between indices exactly as they
differ between shards of a real cluster: binding resolves field names against that index's
mapping and raises query_shard_exception for values a field cannot take (which the caller
wraps in search_phase_execution_exception). A bound query is a function doc -> score or
None.

Documents are seen through a DocView that reads per-reader columns (normalised values of
one field for every document of the reader, built on first use and cached on the immutable
Reader), so repeated searches and paging over 100,000 documents parse each _source once per
refresh, not once per request.

Scores are deliberately simple (1.0 per matching scoring clause, times boost): ordering by
relevance is not something the project's tests depend on.
"""

import json
import re

from es_common import EsError, parsing_error, illegal_argument, glob_match
from es_mapping import (value_for, analyze, normalize_keyword, parse_date_math, NUMERIC,
                        INT_RANGES, _float_value)


def shard_error(reason, index=None, caused_by=None):
    meta = {}
    if index is not None:
        meta = {"index_uuid": index.uuid, "index": index.name}
    return EsError(400, "query_shard_exception", reason, meta, caused_by=caused_by)


# ---------------------------------------------------------------------------------------
# document access

def extract(obj, path):
    """Values of a dotted path in a parsed _source (arrays flattened; dotted keys honoured)."""
    parts = path.split(".")
    out = []
    _extract(obj, parts, 0, out)
    return out


def _extract(node, parts, i, out):
    if isinstance(node, list):
        for x in node:
            _extract(x, parts, i, out)
        return
    if i == len(parts):
        out.append(node)
        return
    if not isinstance(node, dict):
        return
    for j in range(i + 1, len(parts) + 1):
        key = ".".join(parts[i:j]) if j - i > 1 else parts[i]
        if key in node:
            _extract(node[key], parts, j, out)


def _flat_leaves(node, out):
    if isinstance(node, dict):
        for v in node.values():
            _flat_leaves(v, out)
    elif isinstance(node, list):
        for v in node:
            _flat_leaves(v, out)
    elif node is not None:
        out.append(node)


def column_values(field, raw, settings):
    """Normalised values of one field from the raw values extracted from _source."""
    out = []
    t = field.type
    flat_vals = []
    for v in raw:
        if isinstance(v, list):
            flat_vals.extend(v)
        else:
            flat_vals.append(v)
    if getattr(field, "flat", False) or t == "flat_object":
        leaves = []
        for v in flat_vals:
            _flat_leaves(v, leaves)
        return tuple(_kw_text(v) for v in leaves)
    if t in ("text", "match_only_text"):
        analyzer = field.params.get("analyzer")
        for v in flat_vals:
            s = value_for(field, v)
            if s is not None:
                out.append(tuple(analyze(s, analyzer, settings)))
        return tuple(out)
    norm = field.params.get("normalizer") if t == "keyword" else None
    for v in flat_vals:
        n = value_for(field, v)
        if n is not None:
            if norm:
                n = normalize_keyword(n, norm, settings)
            out.append(n)
    return tuple(out)


def _kw_text(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


MAX_COLUMNS = 24


def ensure_columns(reader, fields):
    """Builds the columns for fields (Field objects) that the reader lacks, in one pass, and
    returns {path: column} for all of them (searches run concurrently without the cluster
    lock, so a column may be evicted by another search right after this returns)."""
    cache = reader.cache
    have = {}
    missing = []
    for f in fields:
        col = cache.get(("col", f.path))
        if col is None:
            missing.append(f)
        else:
            have[f.path] = col
    if not missing:
        return have
    cols = [[] for _ in missing]
    settings = reader.index.settings
    loads = json.loads
    for d in reader.docs:
        obj = loads(d.source)
        for f, col in zip(missing, cols):
            if f.nested_path is not None and not getattr(f, "flat", False):
                col.append(())
                continue
            col.append(column_values(f, extract(obj, f.source_path), settings))
    ncols = sum(1 for k in cache if k[0] == "col")
    if ncols + len(missing) > MAX_COLUMNS:
        for k in [k for k in list(cache) if k[0] == "col"][:len(missing)]:
            cache.pop(k, None)
    for f, col in zip(missing, cols):
        cache[("col", f.path)] = col
        have[f.path] = col
    return have


class DocView(object):
    """One document of a reader as the query sees it."""
    __slots__ = ("reader", "pos", "doc", "_obj")

    def __init__(self, reader, pos):
        self.reader = reader
        self.pos = pos
        self.doc = reader.docs[pos]
        self._obj = None

    def vals(self, field):
        col = self.reader.cache.get(("col", field.path))
        if col is None:
            col = ensure_columns(self.reader, [field])[field.path]
        return col[self.pos]

    def obj(self):
        if self._obj is None:
            self._obj = json.loads(self.doc.source)
        return self._obj

    def raw(self, path):
        return extract(self.obj(), path)


class SubView(object):
    """A nested object seen as a document by the inner query of a nested query."""
    __slots__ = ("parent", "sub", "path", "reader", "doc", "_cache")

    def __init__(self, parent, sub, path):
        self.parent = parent
        self.sub = sub
        self.path = path
        self.reader = parent.reader
        self.doc = parent.doc
        self._cache = {}

    def vals(self, field):
        v = self._cache.get(field.path)
        if v is None:
            rel = field.source_path[len(self.path) + 1:] if field.source_path.startswith(self.path + ".") else None
            if rel is None:
                v = ()
            else:
                v = column_values(field, extract(self.sub, rel), self.reader.index.settings)
            self._cache[field.path] = v
        return v

    def obj(self):
        return self.sub

    def raw(self, path):
        if path.startswith(self.path + "."):
            return extract(self.sub, path[len(self.path) + 1:])
        return []


# ---------------------------------------------------------------------------------------
# binding context

class Binder(object):
    """What a query needs to know about the index it runs on."""

    def __init__(self, index, flavour, lenient=False, nested_path=None, now_ms=None):
        self.index = index
        self.mapping = index.mapping
        self.settings = index.settings
        self.flavour = flavour
        self.lenient = lenient
        self.nested_path = nested_path
        self.needed = {}
        self.now_ms = now_ms

    def field(self, name):
        f = self.mapping.lookup(name)
        if f is None:
            return None
        if f.nested_path is not None and self.nested_path is None and not getattr(f, "flat", False):
            return _UNREACHABLE
        self.needed[f.path] = f
        return f

    def expand(self, pattern):
        """Field names matching a pattern (for multi_match / query_string fields)."""
        if "*" not in pattern:
            return [pattern]
        names = [n for n in self.mapping.field_names() if glob_match(pattern, n)]
        return names


class _Unreachable(object):
    """A field inside nested documents queried without a nested query: matches nothing."""
    type = None
    path = None


_UNREACHABLE = _Unreachable()
SPECIAL = {"_id", "_index", "_routing", "_seq_no", "_version", "_primary_term", "_ignored",
           "_source", "_field_names"}


# ---------------------------------------------------------------------------------------
# parsing helpers

def _single(qname, body):
    """Queries of the shape {"<field>": value-or-object}: returns (field, value)."""
    if not isinstance(body, dict):
        raise parsing_error("[%s] query malformed, no start_object after query name" % qname)
    keys = [k for k in body if k not in ("boost", "_name")]
    if len(keys) == 0:
        raise parsing_error("No field specified for %s query" % qname)
    if len(keys) > 1:
        raise parsing_error("[%s] query doesn't support multiple fields, found [%s] and [%s]"
                            % (qname, keys[0], keys[1]))
    return keys[0], body[keys[0]]


def _check_params(qname, obj, allowed):
    for k in obj:
        if k not in allowed:
            raise parsing_error("[%s] query does not support [%s]" % (qname, k))


def _boost(obj):
    b = obj.get("boost", 1.0) if isinstance(obj, dict) else 1.0
    try:
        return float(b)
    except (TypeError, ValueError):
        raise parsing_error("[boost] must be a number")


def _bool(v, name):
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise parsing_error("Failed to parse value [%s] as only [true] or [false] are allowed." % v)


# ---------------------------------------------------------------------------------------
# the parser

def parse_query(q, flavour):
    if not isinstance(q, dict):
        raise parsing_error("[_na] query malformed, must start with start_object")
    if len(q) == 0:
        raise parsing_error("query malformed, empty clause found at [1:2]")
    if len(q) > 1:
        keys = list(q)
        raise parsing_error("[%s] malformed query, expected [END_OBJECT] but found [FIELD_NAME]" % keys[0])
    (name, body), = q.items()
    cls = QUERIES.get(name)
    if cls is None:
        if name in UNSUPPORTED_QUERIES:
            raise illegal_argument("query [%s] is not supported by this test server" % name)
        raise parsing_error(flavour.unknown_query_fmt % name, etype="parsing_exception")
    return cls(name, body, flavour)


class Node(object):
    fields_needed = ()

    def __init__(self, name, body, flavour):
        self.qname = name
        self.flavour = flavour
        self.boost = 1.0
        self.parse(body)

    def parse(self, body):
        pass

    def bind(self, b):
        raise NotImplementedError


class MatchAll(Node):
    def parse(self, body):
        if not isinstance(body, dict):
            raise parsing_error("[match_all] query malformed, no start_object after query name")
        _check_params("match_all", body, {"boost", "_name"})
        self.boost = _boost(body)

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
        _check_params("ids", body, {"values", "boost", "_name", "type"})
        vals = body.get("values", [])
        if not isinstance(vals, list):
            raise parsing_error("[ids] failed to parse field [values]")
        self.values = set(str(v) for v in vals)
        self.boost = _boost(body)

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
        return True, _kw(v)
    if t in ("keyword", "wildcard", "constant_keyword") or getattr(f, "flat", False) or t == "flat_object":
        s = _kw(v)
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


def _kw(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v == int(v) and abs(v) < 1e16:
        return repr(v)
    return str(v)


class Term(Node):
    def parse(self, body):
        self.field, v = _single("term", body)
        self.case_insensitive = False
        if isinstance(v, dict):
            _check_params("term", v, {"value", "boost", "_name", "case_insensitive"})
            if "value" not in v:
                raise parsing_error("value must not be null")
            self.value = v["value"]
            self.boost = _boost(v)
            self.case_insensitive = _bool(v.get("case_insensitive", False), "case_insensitive")
        elif isinstance(v, list):
            raise parsing_error("[term] query does not support array of values")
        else:
            self.value = v
        if self.value is None:
            raise illegal_argument("value cannot be null")

    def bind(self, b):
        return _term_matcher(b, self.field, [self.value], self.boost, self.case_insensitive)


def _term_matcher(b, fname, values, boost, ci=False):
    if fname in SPECIAL:
        wanted = set(_kw(v) for v in values) if fname in ("_id", "_index", "_routing") else None
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
    if f is None or f is _UNREACHABLE:
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
        self.boost = _boost(body)

    def bind(self, b):
        return _term_matcher(b, self.field, [v for v in self.values if v is not None], self.boost)


def _range_bounds(body):
    lo = hi = None
    inc_lo = inc_hi = True
    if "from" in body:
        lo = body["from"]
    if "to" in body:
        hi = body["to"]
    if "include_lower" in body:
        inc_lo = _bool(body["include_lower"], "include_lower")
    if "include_upper" in body:
        inc_hi = _bool(body["include_upper"], "include_upper")
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
        self.field, v = _single("range", body)
        if not isinstance(v, dict):
            raise parsing_error("[range] query malformed, no start_object after query name")
        _check_params("range", v, {"gt", "gte", "lt", "lte", "from", "to", "include_lower",
                                   "include_upper", "boost", "_name", "format", "time_zone",
                                   "relation"})
        self.lo, self.inc_lo, self.hi, self.inc_hi = _range_bounds(v)
        self.boost = _boost(v)
        self.format = v.get("format")

    def bind(self, b):
        fname = self.field
        boost = self.boost
        if fname in SPECIAL:
            return lambda d: None
        f = b.field(fname)
        if f is None or f is _UNREACHABLE:
            return lambda d: None
        t = f.type
        lo, hi = self.lo, self.hi
        inc_lo, inc_hi = self.inc_lo, self.inc_hi
        text = t in ("text", "match_only_text")
        if t in ("date", "date_nanos"):
            from es_mapping import date_format
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
                d = _float_value(v)
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
            lo = None if lo is None else _kw(lo)
            hi = None if hi is None else _kw(hi)

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
        _check_params("exists", body, {"field", "boost", "_name"})
        self.field = body["field"]
        self.boost = _boost(body)

    def bind(self, b):
        fname, boost = self.field, self.boost
        if fname in ("_id", "_index", "_seq_no", "_version", "_primary_term", "_source"):
            return lambda d: boost
        names = b.expand(fname) if "*" in fname else [fname]
        fields = []
        for n in names:
            f = b.field(n)
            if f is not None and f is not _UNREACHABLE:
                fields.append(f)
        if not fields and "*" not in fname:
            # an object path: any mapped leaf below it
            prefix = fname + "."
            for n in b.mapping.field_names():
                if n.startswith(prefix):
                    f = b.field(n)
                    if f is not None and f is not _UNREACHABLE and not f.is_multi:
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
        self.field, v = _single(self.qname, body)
        self.case_insensitive = False
        if isinstance(v, dict):
            _check_params(self.qname, v, {"value", "wildcard", "boost", "_name", "rewrite",
                                          "case_insensitive", "flags", "max_determinized_states",
                                          "flags_value"})
            self.value = v.get("value", v.get("wildcard"))
            self.boost = _boost(v)
            self.case_insensitive = _bool(v.get("case_insensitive", False), "case_insensitive")
        else:
            self.value = v
        if self.value is None:
            raise parsing_error("No value specified for %s query" % self.qname)
        self.value = _kw(self.value)

    def pattern(self):
        return re.compile(re.escape(self.value) + ".*", re.S | (re.I if self.case_insensitive else 0))

    def bind(self, b):
        rx = self.pattern()
        return _pattern_matcher(b, self.field, rx, self.boost, self.qname == "wildcard")


def _pattern_matcher(b, fname, rx, boost, normalize_wildcard=False):
    if fname in ("_id", "_index", "_routing"):
        return lambda d: boost if any(rx.fullmatch(x) for x in _special_values(d, fname)) else None
    f = b.field(fname)
    if f is None or f is _UNREACHABLE:
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


def _search_analyzer(f):
    return f.params.get("search_analyzer") or f.params.get("analyzer")


class Match(Node):
    PARAMS = {"query", "operator", "minimum_should_match", "analyzer", "boost", "_name", "lenient",
              "zero_terms_query", "fuzziness", "prefix_length", "max_expansions", "fuzzy_transpositions",
              "fuzzy_rewrite", "auto_generate_synonyms_phrase_query", "cutoff_frequency", "slop"}

    def parse(self, body):
        self.field, v = _single(self.qname, body)
        self.operator = "or"
        self.msm = None
        self.analyzer = None
        self.lenient = False
        self.zero_terms = "none"
        if isinstance(v, dict):
            _check_params(self.qname, v, self.PARAMS)
            if "query" not in v:
                raise parsing_error("[%s] requires query value" % self.qname)
            self.text = v["query"]
            self.operator = str(v.get("operator", "or")).lower()
            if self.operator not in ("or", "and"):
                raise illegal_argument("No enum constant org.elasticsearch.index.query.Operator.%s" % v.get("operator"))
            self.msm = v.get("minimum_should_match")
            self.analyzer = v.get("analyzer")
            self.lenient = _bool(v.get("lenient", False), "lenient")
            self.zero_terms = v.get("zero_terms_query", "none")
            self.boost = _boost(v)
        else:
            self.text = v
        if isinstance(self.text, (dict, list)):
            raise parsing_error("[%s] unknown token [START_OBJECT] after [query]" % self.qname)

    def bind(self, b):
        return _match_matcher(b, self.field, self.text, self.operator, self.msm, self.analyzer,
                              self.lenient or b.lenient, self.boost, phrase=self.qname == "match_phrase",
                              zero_terms=self.zero_terms, phrase_prefix=self.qname == "match_phrase_prefix",
                              bool_prefix=self.qname == "match_bool_prefix")


def _msm_required(msm, n):
    if msm is None:
        return 1
    s = str(msm).strip()
    try:
        if s.endswith("%"):
            p = int(s[:-1])
            k = int(n * abs(p) / 100.0)
            return k if p >= 0 else n - k
        k = int(s)
        return k if k >= 0 else n + k
    except ValueError:
        return 1


def _match_matcher(b, fname, text, operator, msm, analyzer, lenient, boost, phrase=False,
                   zero_terms="none", phrase_prefix=False, bool_prefix=False):
    if fname in SPECIAL:
        return _term_matcher(b, fname, [text], boost)
    f = b.field(fname)
    if f is None or f is _UNREACHABLE:
        return lambda d: None
    if f.type in ("text", "match_only_text") or (analyzer and f.type not in NUMERIC):
        toks = analyze(_kw(text), analyzer or _search_analyzer(f), b.settings)
        if not toks:
            return (lambda d: boost) if zero_terms == "all" else (lambda d: None)
        if phrase or phrase_prefix:
            n = len(toks)

            def m_phrase(d):
                for vtoks in d.vals(f):
                    for i in range(len(vtoks) - n + 1):
                        if phrase_prefix:
                            if list(vtoks[i:i + n - 1]) == toks[:-1] and vtoks[i + n - 1].startswith(toks[-1]):
                                return boost
                        elif list(vtoks[i:i + n]) == toks:
                            return boost
                return None
            return m_phrase
        need = len(toks) if operator == "and" else _msm_required(msm, len(toks))
        need = max(1, min(need, len(toks)))
        tokset = toks
        last = toks[-1]

        def m(d):
            present = set()
            for vtoks in d.vals(f):
                present.update(vtoks)
            k = 0
            for i, t in enumerate(tokset):
                if t in present or (bool_prefix and i == len(tokset) - 1 and any(p.startswith(last) for p in present)):
                    k += 1
            return boost * k if k >= need else None
        return m
    if f.type in ("keyword", "constant_keyword", "wildcard") or getattr(f, "flat", False) or f.type == "flat_object":
        return _term_matcher(b, fname, [text], boost)
    saved = b.lenient
    b.lenient = lenient
    try:
        return _term_matcher(b, fname, [text], boost)
    finally:
        b.lenient = saved


class MultiMatch(Node):
    def parse(self, body):
        if not isinstance(body, dict):
            raise parsing_error("[multi_match] query malformed, no start_object after query name")
        _check_params("multi_match", body, Match.PARAMS | {"fields", "type", "tie_breaker"})
        if "query" not in body:
            raise parsing_error("No text specified for multi_match query")
        self.text = body["query"]
        self.fields = body.get("fields")
        if isinstance(self.fields, str):
            self.fields = [self.fields]
        self.type = body.get("type", "best_fields")
        self.operator = str(body.get("operator", "or")).lower()
        self.msm = body.get("minimum_should_match")
        self.analyzer = body.get("analyzer")
        self.lenient = _bool(body.get("lenient", False), "lenient")
        self.boost = _boost(body)

    def bind(self, b):
        fields = _field_list(b, self.fields)
        lenient = self.lenient or self.fields is None
        ms = []
        for fname, fb in fields:
            ms.append(_match_matcher(b, fname, self.text, self.operator, self.msm, self.analyzer, lenient,
                                     fb * self.boost, phrase=self.type == "phrase",
                                     phrase_prefix=self.type == "phrase_prefix",
                                     bool_prefix=self.type == "bool_prefix"))
        most = self.type == "most_fields"

        def m(d):
            best = None
            for mm in ms:
                s = mm(d)
                if s is not None:
                    best = s if best is None else (best + s if most else max(best, s))
            return best
        return m


def _field_list(b, fields):
    """("name^2", ...) -> [(name, boost)], expanding wildcards; default index.query.default_field."""
    if not fields:
        df = b.settings.get("index.query.default_field", ["*"])
        fields = df if isinstance(df, list) else [df]
    out = []
    for spec in fields:
        name, _, boost = spec.partition("^")
        boost = float(boost) if boost else 1.0
        if "*" in name:
            for n in b.expand(name):
                f = b.mapping.lookup(n)
                if f is not None and f.type not in ("object", "nested"):
                    out.append((n, boost))
            # flat_object: "issue.labels*" style names
        else:
            out.append((name, boost))
    return out


class Bool(Node):
    CLAUSES = ("must", "filter", "should", "must_not")

    def parse(self, body):
        if not isinstance(body, dict):
            raise parsing_error("[bool] query malformed, no start_object after query name")
        self.clauses = {}
        for k, v in body.items():
            if k in self.CLAUSES:
                items = v if isinstance(v, list) else [v]
                self.clauses[k] = [parse_query(x, self.flavour) for x in items]
            elif k in ("boost", "_name", "minimum_should_match", "adjust_pure_negative",
                       "disable_coord"):
                continue
            else:
                raise parsing_error("[bool] query does not support [%s]" % k)
        self.boost = _boost(body)
        self.msm = body.get("minimum_should_match")

    def bind(self, b):
        must = [q.bind(b) for q in self.clauses.get("must", [])]
        flt = [q.bind(b) for q in self.clauses.get("filter", [])]
        should = [q.bind(b) for q in self.clauses.get("should", [])]
        must_not = [q.bind(b) for q in self.clauses.get("must_not", [])]
        if self.msm is not None:
            need = _msm_required(self.msm, len(should)) if should else 0
        else:
            need = 0 if (must or flt) else (1 if should else 0)
        boost = self.boost
        scoring = bool(must or should)

        def m(d):
            score = 0.0
            for q in flt:
                if q(d) is None:
                    return None
            for q in must_not:
                if q(d) is not None:
                    return None
            for q in must:
                s = q(d)
                if s is None:
                    return None
                score += s
            k = 0
            for q in should:
                s = q(d)
                if s is not None:
                    k += 1
                    score += s
            if k < need:
                return None
            return score * boost if scoring else 0.0
        return m


class ConstantScore(Node):
    def parse(self, body):
        if not isinstance(body, dict) or "filter" not in body:
            raise parsing_error("[constant_score] requires a 'filter' element")
        _check_params("constant_score", body, {"filter", "boost", "_name"})
        self.inner = parse_query(body["filter"], self.flavour)
        self.boost = _boost(body)

    def bind(self, b):
        inner = self.inner.bind(b)
        s = self.boost
        return lambda d: s if inner(d) is not None else None


class DisMax(Node):
    def parse(self, body):
        if not isinstance(body, dict) or "queries" not in body:
            raise parsing_error("[dis_max] requires 'queries' field with at least one clause")
        self.inner = [parse_query(q, self.flavour) for q in body["queries"]]
        self.tie = float(body.get("tie_breaker", 0.0))
        self.boost = _boost(body)

    def bind(self, b):
        ms = [q.bind(b) for q in self.inner]
        tie, boost = self.tie, self.boost

        def m(d):
            scores = [s for s in (q(d) for q in ms) if s is not None]
            if not scores:
                return None
            mx = max(scores)
            return (mx + tie * (sum(scores) - mx)) * boost
        return m


class Nested(Node):
    def parse(self, body):
        if not isinstance(body, dict) or "path" not in body or "query" not in body:
            raise parsing_error("[nested] requires 'path' field" if isinstance(body, dict) and "path" not in body
                                else "[nested] requires 'query' field")
        _check_params("nested", body, {"path", "query", "score_mode", "ignore_unmapped", "boost",
                                       "_name", "inner_hits"})
        self.path = body["path"]
        self.inner = parse_query(body["query"], self.flavour)
        self.ignore_unmapped = _bool(body.get("ignore_unmapped", False), "ignore_unmapped")
        self.boost = _boost(body)
        if "inner_hits" in body:
            raise illegal_argument("[inner_hits] is not supported by this test server")

    def bind(self, b):
        o = b.mapping.object_info(self.path)
        if o is None:
            if self.ignore_unmapped:
                return lambda d: None
            raise shard_error("failed to create query: [nested] failed to find nested object under path [%s]"
                              % self.path, b.index)
        if o.type != "nested":
            raise shard_error("failed to create query: [nested] nested object under path [%s] is not of "
                              "nested type" % self.path, b.index)
        saved = b.nested_path
        b.nested_path = self.path
        try:
            inner = self.inner.bind(b)
        finally:
            b.nested_path = saved
        path, boost = self.path, self.boost

        def m(d):
            objs = [x for x in d.raw(path) if isinstance(x, dict)]
            best = None
            for sub in objs:
                s = inner(SubView(d, sub, path))
                if s is not None:
                    best = s if best is None else max(best, s)
            return None if best is None else best * boost
        return m


class QueryString(Node):
    def parse(self, body):
        if not isinstance(body, dict) or "query" not in body:
            raise parsing_error("[%s] must be provided with a [query]" % self.qname)
        allowed = {"query", "default_field", "fields", "default_operator", "analyzer", "lenient",
                   "analyze_wildcard", "boost", "_name", "allow_leading_wildcard",
                   "minimum_should_match", "quote_analyzer", "phrase_slop", "fuzziness",
                   "auto_generate_synonyms_phrase_query", "type", "tie_breaker", "time_zone",
                   "flags", "rewrite", "escape", "max_determinized_states", "enable_position_increments",
                   "fuzzy_max_expansions", "fuzzy_prefix_length", "fuzzy_transpositions",
                   "quote_field_suffix", "analyze_wildcard"}
        _check_params(self.qname, body, allowed)
        self.text = body["query"]
        self.fields = body.get("fields")
        if body.get("default_field") is not None:
            self.fields = [body["default_field"]]
        self.operator = str(body.get("default_operator", "or")).lower()
        self.lenient = body.get("lenient")
        self.boost = _boost(body)
        self.simple = self.qname == "simple_query_string"
        try:
            self.ast = QSParser(str(self.text), simple=self.simple).parse()
        except QSError as e:
            raise shard_error("Failed to parse query [%s]" % self.text,
                              caused_by=EsError(400, "parse_exception", "Cannot parse '%s': %s" % (self.text, e)))

    def bind(self, b):
        lenient = self.lenient if self.lenient is not None else (self.fields is None and
                                                                  b.settings.get("index.query_string.lenient") is None)
        if b.settings.get("index.query_string.lenient") == "true":
            lenient = True
        fields = _field_list(b, self.fields)
        if not self.fields:
            lenient = True
        saved = b.lenient
        b.lenient = bool(lenient)
        try:
            return _qs_bind(self.ast, b, fields, self.operator, self.boost)
        finally:
            b.lenient = saved


class TermsSet(Node):
    def parse(self, body):
        self.field, v = _single("terms_set", body)
        if not isinstance(v, dict):
            raise parsing_error("[terms_set] query malformed, no start_object after query name")
        _check_params("terms_set", v, {"terms", "minimum_should_match_field", "minimum_should_match_script",
                                       "boost", "_name"})
        self.terms = v.get("terms") or []
        self.msm_field = v.get("minimum_should_match_field")
        if "minimum_should_match_script" in v:
            raise illegal_argument("[minimum_should_match_script] is not supported by this test server")
        if self.msm_field is None:
            raise parsing_error("No minimum should match has been specified")
        self.boost = _boost(v)

    def bind(self, b):
        singles = [_term_matcher(b, self.field, [t], 1.0) for t in self.terms]
        mf = b.field(self.msm_field)
        boost = self.boost

        def m(d):
            if mf is None or mf is _UNREACHABLE:
                return None
            req = [x for x in d.vals(mf) if isinstance(x, (int, float))]
            if not req:
                return None
            k = sum(1 for s in singles if s(d) is not None)
            return boost * k if k >= max(1, int(req[0])) else None
        return m


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
        self.field, v = _single("fuzzy", body)
        self.fuzziness = "AUTO"
        self.prefix = 0
        if isinstance(v, dict):
            _check_params("fuzzy", v, {"value", "fuzziness", "prefix_length", "max_expansions", "transpositions",
                                       "rewrite", "boost", "_name"})
            self.value = v.get("value")
            self.fuzziness = v.get("fuzziness", "AUTO")
            self.prefix = int(v.get("prefix_length", 0))
            self.boost = _boost(v)
        else:
            self.value = v
        if self.value is None:
            raise parsing_error("[fuzzy] query doesn't support [value] = null")
        self.value = _kw(self.value)

    def bind(self, b):
        f = b.field(self.field)
        if f is None or f is _UNREACHABLE:
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


class Script(Node):
    def parse(self, body):
        raise illegal_argument("[%s] queries are not supported by this test server" % self.qname)


QUERIES = {
    "match_all": MatchAll, "match_none": MatchNone, "ids": Ids, "term": Term, "terms": Terms,
    "range": Range, "exists": Exists, "prefix": Prefix, "wildcard": Wildcard, "regexp": Regexp,
    "match": Match, "match_phrase": Match, "match_phrase_prefix": Match, "match_bool_prefix": Match,
    "multi_match": MultiMatch, "bool": Bool, "constant_score": ConstantScore, "dis_max": DisMax,
    "nested": Nested, "query_string": QueryString, "simple_query_string": QueryString,
    "terms_set": TermsSet, "fuzzy": Fuzzy,
}
UNSUPPORTED_QUERIES = {"script", "script_score", "function_score", "more_like_this",
                       "geo_shape", "geo_distance", "geo_bounding_box", "geo_polygon", "has_child",
                       "has_parent", "parent_id", "percolate", "distance_feature", "rank_feature",
                       "wrapper", "pinned", "span_term", "span_near", "span_or", "span_not",
                       "span_first", "span_multi", "span_containing", "span_within",
                       "field_masking_span", "intervals", "combined_fields", "knn",
                       "boosting", "neural", "hybrid", "semantic", "sparse_vector", "text_expansion",
                       "shape", "rule", "template"}


# ---------------------------------------------------------------------------------------
# query_string syntax (the subset of Lucene's classic query parser used in practice)

class QSError(Exception):
    pass


class QSParser(object):
    """Parses Lucene query syntax into tuples:
    ("or"|"and", [children]), ("not", child), ("must", child), ("term", field, text, kind)
    where kind is "term", "phrase", "wildcard", "regex", "range" (text = (lo, hi, inc_lo, inc_hi)),
    ("exists", field), ("all",)."""

    TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<quote>"(?:[^"\\]|\\.)*")|'
                       r'(?P<regex>/(?:[^/\\]|\\.)*/)|(?P<range>[\[{][^\]}]*[\]}])|'
                       r'(?P<op>AND\b|OR\b|NOT\b|&&|\|\||!(?=\S))|(?P<plus>\+)|(?P<minus>-)|'
                       r'(?P<word>(?:[^\s()"\\:]|\\.)+(?::(?![\s)]))?))')

    def __init__(self, text, simple=False):
        self.text = text
        self.simple = simple
        self.toks = self._lex(text)
        self.i = 0

    def _lex(self, text):
        out = []
        pos = 0
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise QSError("Encountered \"%s\" at line 1, column %d." % (text[pos], pos))
            pos = m.end()
            kind = m.lastgroup
            out.append((kind, m.group(kind)))
        return out

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def next(self):
        t = self.peek()
        self.i += 1
        return t

    def parse(self):
        if not self.toks:
            return ("none",)
        node = self.parse_or()
        if self.i < len(self.toks):
            raise QSError("Encountered \"%s\"" % self.toks[self.i][1])
        return node

    def parse_or(self):
        items = [self.parse_and()]
        while True:
            k, v = self.peek()
            if k == "op" and v in ("OR", "||"):
                self.next()
                items.append(self.parse_and())
            elif k is not None and k != "rp" and not (k == "op" and v in ("AND", "&&")):
                items.append(self.parse_and())
            else:
                break
        return items[0] if len(items) == 1 else ("default", items)

    def parse_and(self):
        items = [self.parse_unary()]
        while True:
            k, v = self.peek()
            if k == "op" and v in ("AND", "&&"):
                self.next()
                items.append(self.parse_unary())
            else:
                break
        return items[0] if len(items) == 1 else ("and", items)

    def parse_unary(self):
        k, v = self.peek()
        if k == "op" and v in ("NOT", "!"):
            self.next()
            return ("not", self.parse_unary())
        if k == "minus":
            self.next()
            return ("not", self.parse_unary())
        if k == "plus":
            self.next()
            return ("must", self.parse_unary())
        return self.parse_primary(None)

    def parse_primary(self, field):
        k, v = self.next()
        if k is None:
            raise QSError("Encountered \"<EOF>\"")
        if k == "lp":
            node = self.parse_or()
            k2, _ = self.next()
            if k2 != "rp":
                raise QSError("Encountered \"<EOF>\" expecting \")\"")
            return ("group", field, node)
        if k == "word" and v.endswith(":") and not self.simple:
            fname = v[:-1].replace("\\", "")
            if fname == "_exists_":
                k3, v3 = self.next()
                return ("exists", v3)
            return self.parse_primary(fname)
        if k == "quote":
            return ("term", field, _unescape(v[1:-1]), "phrase")
        if k == "regex":
            return ("term", field, v[1:-1], "regex")
        if k == "range":
            inner = v[1:-1]
            m = re.match(r"^\s*(\S+)\s+TO\s+(\S+)\s*$", inner)
            if not m:
                raise QSError("Cannot parse range [%s]" % v)
            lo, hi = m.group(1), m.group(2)
            return ("term", field, (None if lo == "*" else lo, None if hi == "*" else hi,
                                    v[0] == "[", v[-1] == "]"), "range")
        if k == "word":
            word = v
            if not self.simple and re.match(r"^[<>]=?", word):
                op = re.match(r"^[<>]=?", word).group(0)
                val = word[len(op):]
                if op == ">":
                    return ("term", field, (val, None, False, True), "range")
                if op == ">=":
                    return ("term", field, (val, None, True, True), "range")
                if op == "<":
                    return ("term", field, (None, val, True, False), "range")
                return ("term", field, (None, val, True, True), "range")
            word = re.sub(r"~[0-9.]*$", "", word)
            word = re.sub(r"\^[0-9.]+$", "", word)
            if ("*" in word or "?" in word) and "\\*" not in word:
                return ("term", field, word, "wildcard")
            return ("term", field, _unescape(word), "term")
        if k in ("plus", "minus", "op"):
            raise QSError("Encountered \"%s\"" % v)
        raise QSError("Encountered \"%s\"" % v)


def _unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def _qs_bind(node, b, fields, operator, boost, field_override=None):
    kind = node[0]
    if kind == "none":
        return lambda d: None
    if kind == "group":
        return _qs_bind(node[2], b, fields if node[1] is None else [(node[1], 1.0)], operator, boost)
    if kind == "exists":
        return Exists("exists", {"field": node[1]}, b.flavour).bind(b)
    if kind in ("default", "and", "or"):
        children = node[1]
        req, opt, neg = [], [], []
        for c in children:
            if c[0] == "not":
                neg.append(_qs_bind(c[1], b, fields, operator, boost))
            elif c[0] == "must":
                req.append(_qs_bind(c[1], b, fields, operator, boost))
            elif kind == "and" or (kind == "default" and operator == "and"):
                req.append(_qs_bind(c, b, fields, operator, boost))
            else:
                opt.append(_qs_bind(c, b, fields, operator, boost))

        def m(d):
            score = 0.0
            for q in neg:
                if q(d) is not None:
                    return None
            for q in req:
                s = q(d)
                if s is None:
                    return None
                score += s
            hit = not opt
            for q in opt:
                s = q(d)
                if s is not None:
                    hit = True
                    score += s
            if not hit and not req:
                return None
            if not hit and req:
                return score
            return score
        if not req and not opt and neg:
            def m_neg(d):
                for q in neg:
                    if q(d) is not None:
                        return None
                return boost
            return m_neg
        return m
    if kind == "not":
        inner = _qs_bind(node[1], b, fields, operator, boost)
        return lambda d: None if inner(d) is not None else boost
    if kind == "must":
        return _qs_bind(node[1], b, fields, operator, boost)
    # ("term", field, text, kind)
    _, field, text, tkind = node
    targets = [(field, 1.0)] if field is not None else fields
    expanded = []
    for fname, fb in targets:
        if "*" in fname:
            expanded.extend((n, fb) for n in b.expand(fname))
        else:
            expanded.append((fname, fb))
    ms = []
    for fname, fb in expanded:
        ms.append(_qs_leaf(b, fname, text, tkind, boost * fb, operator))

    def any_match(d):
        best = None
        for mm in ms:
            s = mm(d)
            if s is not None:
                best = s if best is None else max(best, s)
        return best
    return any_match


def _qs_leaf(b, fname, text, tkind, boost, operator):
    f = b.mapping.lookup(fname) if fname not in SPECIAL else None
    if tkind == "range":
        lo, hi, il, ih = text
        body = {}
        if lo is not None:
            body["gte" if il else "gt"] = lo
        if hi is not None:
            body["lte" if ih else "lt"] = hi
        return Range("range", {fname: body}, b.flavour).bind(b)
    if tkind == "wildcard":
        if f is not None and f.type in ("text", "match_only_text"):
            text = text.lower()
        return Wildcard("wildcard", {fname: {"value": text}}, b.flavour).bind(b)
    if tkind == "regex":
        return Regexp("regexp", {fname: {"value": text}}, b.flavour).bind(b)
    if tkind == "phrase":
        return _match_matcher(b, fname, text, "and", None, None, b.lenient, boost, phrase=True)
    return _match_matcher(b, fname, text, operator, None, None, b.lenient, boost)


def q_param_query(q, df, default_operator, lenient, analyze_wildcard, flavour):
    """The "q" URL parameter as a query_string query."""
    body = {"query": q}
    if df:
        body["default_field"] = df
    if default_operator:
        body["default_operator"] = default_operator
    if lenient is not None:
        body["lenient"] = lenient
    return QueryString("query_string", body, flavour)
