"""What the REST handlers of the Elasticsearch-compatible test server share.

DESIGN: a handler receives an ApiRequest (path parts, URL parameters, body bytes, the
cluster and the flavour) and returns an ApiResponse; it raises EsError for errors. Reading a
parameter through req.param() marks it as used, which is how the router knows a parameter
was understood. The helpers here are the small pieces of request handling that several API
families repeat: index resolution with the usual URL parameters, the refresh parameter of
writes, keep-alive limits, the "_type" of 7.x responses.
"""

from es_common import (EsError, illegal_argument, loads_strict, JsonSyntaxError, bool_param, parse_time_ms,
                       format_time_ms)
from es_hits import parse_source_filter


def body_parse_error(flavour, e):
    """The error for a request body (or bulk line) that is not JSON: Elasticsearch 8+ names it
    x_content_parse_exception, older versions and OpenSearch json_parse_exception."""
    return EsError(400, "json_parse_exception" if flavour.is_os or flavour.major < 8 else
                   "x_content_parse_exception", e.message)


class ApiRequest(object):
    def __init__(self, method, path, params, body, headers, cluster, flavour, server=None):
        self.method = method
        self.path = path
        self.params = params
        self.body = body
        self.headers = headers
        self.cluster = cluster
        self.flavour = flavour
        self.server = server
        self.parts = {}
        self.used = set()
        self.warnings = []
        self._json = None
        self._json_done = False

    def param(self, name, default=None):
        self.used.add(name)
        return self.params.get(name, default)

    def bool(self, name, default=False):
        return bool_param(self.param(name), name, default)

    def json(self, required=False):
        if not self._json_done:
            self._json_done = True
            data = self.body
            if not data:
                src = self.params.get("source")
                if src is not None:
                    data = src.encode("utf-8")
            if not data or not data.strip():
                if required:
                    raise EsError(400, "parse_exception", "request body is required")
                self._json = None
            else:
                try:
                    self._json = loads_strict(data)
                except JsonSyntaxError as e:
                    raise body_parse_error(self.flavour, e)
        if self._json is None and required:
            raise EsError(400, "parse_exception", "request body is required")
        return self._json


class ApiResponse(object):
    def __init__(self, status, body, content_type=None, headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def ok(body, status=200):
    return ApiResponse(status, body)


# ---------------------------------------------------------------------------------------
# helpers

def with_doc_type(flavour, d):
    """Adds "_type": "_doc" where the flavour's responses have it (7.x)."""
    if flavour.doc_type_in_responses:
        d["_type"] = "_doc"
    return d


def ack():
    return {"acknowledged": True}


def expand_param(req, default="open"):
    return req.param("expand_wildcards", default)


def resolve_indices(req, expr, expand="open", allow_no_indices=True, reject_aliases=False):
    """The indices of an index expression, with the request's ignore_unavailable,
    allow_no_indices and expand_wildcards (defaults: allow_no_indices and expand)."""
    return req.cluster.resolve(expr, ignore_unavailable=req.bool("ignore_unavailable"),
                               allow_no_indices=bool_param(req.param("allow_no_indices"), "x", allow_no_indices),
                               expand_wildcards=expand_param(req, expand), reject_aliases=reject_aliases)


def check_keep_alive(cluster, ms, setting="search.max_keep_alive"):
    mx = parse_time_ms(cluster.cluster_setting(setting), setting)
    if ms > mx:
        raise illegal_argument(
            "Keep alive for request (%s) is too large. It must be less than (%s). This limit can be set by "
            "changing the [%s] cluster level setting." % (format_time_ms(ms), format_time_ms(mx), setting))


def refresh_param(req):
    """The refresh parameter of a write: None, "true" or "wait_for"."""
    r = req.param("refresh")
    if r is None or r == "false":
        return None
    if r in ("", "true"):
        return "true"
    if r == "wait_for":
        return "wait_for"
    raise illegal_argument("Unknown value for refresh: [%s]." % r)


def forced_refresh(res):
    """A write result with "forced_refresh": true after "result", as refresh=true gives."""
    out = {}
    for k, v in res.items():
        out[k] = v
        if k == "result":
            out["forced_refresh"] = True
    return out


def refresh_after_write(shard, refresh, res):
    """Applies the refresh parameter of a single-document write to its shard."""
    if refresh:
        shard.refresh()
        if refresh == "true":
            return forced_refresh(res)
    return res


def source_filter_param(req, default=None):
    """The _source, _source_includes and _source_excludes parameters as a SourceFilter, or
    default when none of them is given."""
    sp, si, se = req.param("_source"), req.param("_source_includes"), req.param("_source_excludes")
    if sp is None and si is None and se is None:
        return default
    return parse_source_filter(None, sp, si, se)
