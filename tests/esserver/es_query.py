"""Query DSL of the Elasticsearch-compatible test server.

DESIGN: a query is parsed once (parse_query), which raises the parsing_exception a real
node sends for malformed or unknown queries, into a tree of small node objects. Each node is
then bound to one index (bind), because field types differ between indices exactly as they
differ between shards of a real cluster: binding resolves field names against that index's
mapping and raises query_shard_exception for values a field cannot take (which the caller
wraps in search_phase_execution_exception). A bound query is a function doc -> score or
None, called with a DocView (es_docview.py).

This module holds the parser, the compound queries (bool, constant_score, dis_max, nested,
terms_set) and the registry of query names; the term-level queries are in
es_query_terms.py, the full-text ones and query_string in es_query_text.py, what they share
in es_query_base.py.

Scores are deliberately simple (1.0 per matching scoring clause, times boost): ordering by
relevance is not something the project's tests depend on.
"""

from es_common import parsing_error, illegal_argument
from es_docview import SubView
from es_query_base import (Node, UNREACHABLE, shard_error, single_field, check_query_params, parse_boost, parse_bool,
                           msm_required)
from es_query_terms import (MatchAll, MatchNone, Ids, Term, Terms, Range, Exists, Prefix, Wildcard, Regexp,
                            Fuzzy, term_matcher)
from es_query_text import Match, MultiMatch, QueryString


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
        self.boost = parse_boost(body)
        self.msm = body.get("minimum_should_match")

    def bind(self, b):
        must = [q.bind(b) for q in self.clauses.get("must", [])]
        flt = [q.bind(b) for q in self.clauses.get("filter", [])]
        should = [q.bind(b) for q in self.clauses.get("should", [])]
        must_not = [q.bind(b) for q in self.clauses.get("must_not", [])]
        if self.msm is not None:
            need = msm_required(self.msm, len(should)) if should else 0
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
        check_query_params("constant_score", body, {"filter", "boost", "_name"})
        self.inner = parse_query(body["filter"], self.flavour)
        self.boost = parse_boost(body)

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
        self.boost = parse_boost(body)

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
        check_query_params("nested", body, {"path", "query", "score_mode", "ignore_unmapped", "boost",
                                            "_name", "inner_hits"})
        self.path = body["path"]
        self.inner = parse_query(body["query"], self.flavour)
        self.ignore_unmapped = parse_bool(body.get("ignore_unmapped", False), "ignore_unmapped")
        self.boost = parse_boost(body)
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


class TermsSet(Node):
    def parse(self, body):
        self.field, v = single_field("terms_set", body)
        if not isinstance(v, dict):
            raise parsing_error("[terms_set] query malformed, no start_object after query name")
        check_query_params("terms_set", v, {"terms", "minimum_should_match_field", "minimum_should_match_script",
                                            "boost", "_name"})
        self.terms = v.get("terms") or []
        self.msm_field = v.get("minimum_should_match_field")
        if "minimum_should_match_script" in v:
            raise illegal_argument("[minimum_should_match_script] is not supported by this test server")
        if self.msm_field is None:
            raise parsing_error("No minimum should match has been specified")
        self.boost = parse_boost(v)

    def bind(self, b):
        singles = [term_matcher(b, self.field, [t], 1.0) for t in self.terms]
        mf = b.field(self.msm_field)
        boost = self.boost

        def m(d):
            if mf is None or mf is UNREACHABLE:
                return None
            req = [x for x in d.vals(mf) if isinstance(x, (int, float))]
            if not req:
                return None
            k = sum(1 for s in singles if s(d) is not None)
            return boost * k if k >= max(1, int(req[0])) else None
        return m


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
