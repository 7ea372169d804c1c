"""Full-text queries of the Elasticsearch-compatible test server.

DESIGN: match (and match_phrase, match_phrase_prefix, match_bool_prefix) and multi_match
analyse the query text with the field's search analyzer and compare tokens; on keyword,
numeric and date fields they fall back to a term query, as a real node does. query_string
and simple_query_string parse the subset of Lucene's classic query syntax used in practice
(QSParser: AND/OR/NOT, +/-, field:, "phrases", wildcards, /regexps/, [ranges], >=x) into a
tree of tuples that is bound to match, term-level and range queries per field. The "q" URL
parameter is a query_string query (q_param_query).
"""

import re

from es_analysis import analyze
from es_common import EsError, parsing_error, illegal_argument
from es_query_base import (Node, SPECIAL, UNREACHABLE, shard_error, single_field, check_query_params, parse_boost,
                           parse_bool, msm_required)
from es_query_terms import Exists, Range, Wildcard, Regexp, term_matcher
from es_values import NUMERIC, as_text


def _search_analyzer(f):
    return f.params.get("search_analyzer") or f.params.get("analyzer")


class Match(Node):
    PARAMS = {"query", "operator", "minimum_should_match", "analyzer", "boost", "_name", "lenient",
              "zero_terms_query", "fuzziness", "prefix_length", "max_expansions", "fuzzy_transpositions",
              "fuzzy_rewrite", "auto_generate_synonyms_phrase_query", "cutoff_frequency", "slop"}

    def parse(self, body):
        self.field, v = single_field(self.qname, body)
        self.operator = "or"
        self.msm = None
        self.analyzer = None
        self.lenient = False
        self.zero_terms = "none"
        if isinstance(v, dict):
            check_query_params(self.qname, v, self.PARAMS)
            if "query" not in v:
                raise parsing_error("[%s] requires query value" % self.qname)
            self.text = v["query"]
            self.operator = str(v.get("operator", "or")).lower()
            if self.operator not in ("or", "and"):
                raise illegal_argument("No enum constant org.elasticsearch.index.query.Operator.%s" % v.get("operator"))
            self.msm = v.get("minimum_should_match")
            self.analyzer = v.get("analyzer")
            self.lenient = parse_bool(v.get("lenient", False), "lenient")
            self.zero_terms = v.get("zero_terms_query", "none")
            self.boost = parse_boost(v)
        else:
            self.text = v
        if isinstance(self.text, (dict, list)):
            raise parsing_error("[%s] unknown token [START_OBJECT] after [query]" % self.qname)

    def bind(self, b):
        return _match_matcher(b, self.field, self.text, self.operator, self.msm, self.analyzer,
                              self.lenient or b.lenient, self.boost, phrase=self.qname == "match_phrase",
                              zero_terms=self.zero_terms, phrase_prefix=self.qname == "match_phrase_prefix",
                              bool_prefix=self.qname == "match_bool_prefix")


def _match_matcher(b, fname, text, operator, msm, analyzer, lenient, boost, phrase=False,
                   zero_terms="none", phrase_prefix=False, bool_prefix=False):
    if fname in SPECIAL:
        return term_matcher(b, fname, [text], boost)
    f = b.field(fname)
    if f is None or f is UNREACHABLE:
        return lambda d: None
    if f.type in ("text", "match_only_text") or (analyzer and f.type not in NUMERIC):
        toks = analyze(as_text(text), analyzer or _search_analyzer(f), b.settings)
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
        need = len(toks) if operator == "and" else msm_required(msm, len(toks))
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
        return term_matcher(b, fname, [text], boost)
    saved = b.lenient
    b.lenient = lenient
    try:
        return term_matcher(b, fname, [text], boost)
    finally:
        b.lenient = saved


class MultiMatch(Node):
    def parse(self, body):
        if not isinstance(body, dict):
            raise parsing_error("[multi_match] query malformed, no start_object after query name")
        check_query_params("multi_match", body, Match.PARAMS | {"fields", "type", "tie_breaker"})
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
        self.lenient = parse_bool(body.get("lenient", False), "lenient")
        self.boost = parse_boost(body)

    def bind(self, b):
        fields = _field_list(b, self.fields)
        lenient = self.lenient or self.fields is None
        ms = []
        for fname, fb in fields:
            ms.append(_match_matcher(b, fname, self.text, self.operator, self.msm, self.analyzer, lenient,
                                     fb * self.boost, phrase=self.type == "phrase",
                                     phrase_prefix=self.type == "phrase_prefix",
                                     bool_prefix=self.type == "bool_prefix"))
        return _best_of(ms, self.type == "most_fields")


def _best_of(ms, add=False):
    """A document matches when one of ms does; its score is the best one (the sum with add)."""
    def m(d):
        best = None
        for mm in ms:
            s = mm(d)
            if s is not None:
                best = s if best is None else (best + s if add else max(best, s))
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
        check_query_params(self.qname, body, allowed)
        self.text = body["query"]
        self.fields = body.get("fields")
        if body.get("default_field") is not None:
            self.fields = [body["default_field"]]
        self.operator = str(body.get("default_operator", "or")).lower()
        self.lenient = body.get("lenient")
        self.boost = parse_boost(body)
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
    return _best_of(ms)


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
