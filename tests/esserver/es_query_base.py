"""What every query of the Elasticsearch-compatible test server shares.

DESIGN: a query is parsed once into a tree of Node objects (parse raises the
parsing_exception a real node sends), then bound to one index at a time (bind) because field
types differ between indices exactly as they differ between shards of a real cluster. The
Binder is that index as a query sees it: field names resolved against its mapping (a field
inside nested documents is unreachable outside a nested query), the fields the query reads
recorded so their columns are built in one pass. shard_error is the query_shard_exception a
value that a field cannot take raises while binding.
"""

from es_common import EsError, parsing_error, glob_match


def shard_error(reason, index=None, caused_by=None):
    meta = {}
    if index is not None:
        meta = {"index_uuid": index.uuid, "index": index.name}
    return EsError(400, "query_shard_exception", reason, meta, caused_by=caused_by)


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
            return UNREACHABLE
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


UNREACHABLE = _Unreachable()
SPECIAL = {"_id", "_index", "_routing", "_seq_no", "_version", "_primary_term", "_ignored",
           "_source", "_field_names"}


# ---------------------------------------------------------------------------------------
# parsing helpers

def single_field(qname, body):
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


def check_query_params(qname, obj, allowed):
    for k in obj:
        if k not in allowed:
            raise parsing_error("[%s] query does not support [%s]" % (qname, k))


def parse_boost(obj):
    b = obj.get("boost", 1.0) if isinstance(obj, dict) else 1.0
    try:
        return float(b)
    except (TypeError, ValueError):
        raise parsing_error("[boost] must be a number")


def parse_bool(v, name):
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise parsing_error("Failed to parse value [%s] as only [true] or [false] are allowed." % v)


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


def msm_required(msm, n):
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
