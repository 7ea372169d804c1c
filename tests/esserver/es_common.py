"""Shared helpers of the Elasticsearch-compatible test server.

DESIGN: everything here is pure and stateless so the engine, the search code and the HTTP
layer can share it without import cycles:
  - EsError: one exception type that knows how to render itself both as a whole-request
    error envelope {"error": {...}, "status": N} and as a bulk item "error" object, with the
    field order a real node uses (type, reason, metadata, caused_by);
  - strict JSON parsing as Jackson does it for Elasticsearch (duplicate keys and NaN are
    errors, the source text is kept verbatim as bytes);
  - response serialisation that splices stored _source bytes verbatim (RawJson) instead of
    re-encoding them, which is both what a real node does and much faster;
  - time values ("1m", "-1"), byte sizes ("88.1kb"), glob patterns, murmur3 routing hash.
"""

import base64
import json
import math
import os
import re
import struct
import time


# ---------------------------------------------------------------------------------------
# errors

class EsError(Exception):
    """An error a real node would report.

    status: HTTP status; etype/reason: error.type and error.reason; meta: extra keys placed
    after reason (index_uuid, shard, index, resource.type ...) in insertion order; caused_by:
    a nested EsError or None; root_cause: list of dicts, default [this error without
    caused_by]; extra_top: keys placed at the top level of the envelope next to "error"
    (used by the alias API, whose 404 body mixes results and an error string)."""

    def __init__(self, status, etype, reason, meta=None, caused_by=None, root_cause=None,
                 header=None):
        Exception.__init__(self, reason)
        self.status = status
        self.etype = etype
        self.reason = reason
        self.meta = meta or {}
        self.caused_by = caused_by
        self.root_cause = root_cause
        self.header = header or {}

    def cause_obj(self, with_cause=True):
        d = {"type": self.etype, "reason": self.reason}
        d.update(self.meta)
        if with_cause and self.caused_by is not None:
            d["caused_by"] = self.caused_by.cause_obj()
        return d

    def item_obj(self):
        """The "error" object of a bulk item or an mget doc."""
        return self.cause_obj()

    def envelope(self):
        rc = self.root_cause
        if rc is None:
            rc = [self.cause_obj(with_cause=False)]
        err = {"root_cause": rc}
        err.update(self.cause_obj())
        return {"error": err, "status": self.status}


class PlainError(Exception):
    """An error rendered as {"error": "<text>", "status": N}: the form Elasticsearch uses
    for transport-level problems (unknown URL, wrong Content-Type, bad method)."""

    def __init__(self, status, text, extra=None, headers=None):
        Exception.__init__(self, text)
        self.status = status
        self.text = text
        self.extra = extra or {}
        self.headers = headers or {}

    def envelope(self):
        d = {"error": self.text, "status": self.status}
        d.update(self.extra)
        return d


def illegal_argument(reason, caused_by=None):
    return EsError(400, "illegal_argument_exception", reason, caused_by=caused_by)


def validation_error(errors):
    """action_request_validation_exception with ES's numbered list ("1: x;2: y;")."""
    if isinstance(errors, str):
        errors = [errors]
    text = "Validation Failed: " + "".join("%d: %s;" % (i + 1, e) for i, e in enumerate(errors))
    return EsError(400, "action_request_validation_exception", text)


def parsing_error(reason, line=None, col=None, etype="parsing_exception", caused_by=None):
    meta = {}
    if line is not None:
        meta = {"line": line, "col": col if col is not None else 1}
    return EsError(400, etype, reason, meta=meta, caused_by=caused_by)


def mapper_error(reason, caused_by=None):
    return EsError(400, "mapper_parsing_exception", reason, caused_by=caused_by)


def index_not_found(name, reason=None):
    meta = {"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_",
            "index": name}
    return EsError(404, "index_not_found_exception", reason or "no such index [%s]" % name, meta)


def index_closed(name, uuid):
    return EsError(400, "index_closed_exception", "closed", {"index_uuid": uuid, "index": name})


def search_phase_error(inner, shards=None, status=None, reason="all shards failed",
                       phase="query"):
    """Wraps a shard-level failure as Elasticsearch does for searches: the envelope type is
    search_phase_execution_exception, root_cause is the shard error."""
    failed = []
    for (index, shard) in (shards or []):
        failed.append({"shard": shard, "index": index, "node": NODE_ID,
                       "reason": inner.cause_obj()})
    meta = {"phase": phase, "grouped": True, "failed_shards": failed}
    outer = EsError(status or inner.status, "search_phase_execution_exception", reason, meta,
                    caused_by=inner, root_cause=[inner.cause_obj(with_cause=False)])
    return outer


def text_fielddata_error(field):
    """What sorting, aggregating on or fetching doc values of a text field gets."""
    return illegal_argument(
        "Text fields are not optimised for operations that require per-document field data like "
        "aggregations and sorting, so these operations are disabled by default. Please use a keyword "
        "field instead. Alternatively, set fielddata=true on [%s] in order to load field data by "
        "uninverting the inverted index. Note that this can use significant memory." % field)


def rejected_execution(reason=None):
    return EsError(429, "es_rejected_execution_exception", reason or REJECTED_ITEM_REASON)


REJECTED_ITEM_REASON = (
    "rejected execution of org.elasticsearch.transport.TransportService$7@b25fff4 on "
    "EsThreadPoolExecutor[name = node-1/write, queue capacity = 200, "
    "org.elasticsearch.common.util.concurrent.EsThreadPoolExecutor@768d4a66[Running, pool size = 2, "
    "active threads = 2, queued tasks = 200, completed tasks = 820898]]")

REJECTED_REQUEST_REASON = (
    "rejected execution of coordinating operation [coordinating_and_primary_bytes=104759862, "
    "replica_bytes=0, all_bytes=104759862, coordinating_operation_bytes=20862272, "
    "max_coordinating_and_primary_bytes=107374182]")

NODE_ID = "tIJ7gfLWQKSk1xa1ZRzBcA"


# ---------------------------------------------------------------------------------------
# strict JSON

class DuplicateKey(ValueError):
    pass


def _pairs_hook(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise DuplicateKey(k)
            seen.add(k)
    return d


def _bad_constant(name):
    raise ValueError("Non-standard token '%s': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS"
                     " to allow" % name)


_STRICT = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_constant=_bad_constant)
_SCAN = _STRICT.scan_once


class JsonSyntaxError(Exception):
    """Malformed JSON; message follows Jackson's wording closely enough for a reader."""

    def __init__(self, message, line=1, col=1):
        Exception.__init__(self, message)
        self.message = message
        self.line = line
        self.col = col

    def es_error(self, etype="json_parse_exception", status=400):
        return EsError(status, etype, self.message)


def loads_strict(data):
    """Parses one JSON value (bytes or str) like Jackson does for Elasticsearch. Raises
    JsonSyntaxError."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise JsonSyntaxError("Invalid UTF-8 start byte 0x%02x" % data[e.start])
    else:
        text = data
    try:
        start = 0 if text[:1] not in (" ", "\t", "\n", "\r") else _skip_ws(text, 0)
        obj, end = _SCAN(text, start)
    except StopIteration as e:
        pos = e.value
        if pos >= len(text):
            raise JsonSyntaxError("Unexpected end-of-input: expected a value", 1, pos + 1)
        ch = text[pos]
        raise JsonSyntaxError("Unrecognized token '%s': was expecting (JSON String, Number, Array, Object or token "
                              "'null', 'true' or 'false')\n at [Source: (byte[])\"%s\"; line: 1, column: %d]"
                              % (ch, _preview(text), pos + 1), 1, pos + 1)
    except DuplicateKey as e:
        raise JsonSyntaxError("Duplicate field '%s'" % e.args[0])
    except json.JSONDecodeError as e:
        raise JsonSyntaxError(_jackson_message(text, e), e.lineno, e.colno)
    except ValueError as e:
        raise JsonSyntaxError(str(e))
    except RecursionError:
        raise JsonSyntaxError("Maximum nesting depth exceeded")
    if end != len(text):
        end = _skip_ws(text, end)
    if end != len(text):
        line = text.count("\n", 0, end) + 1
        col = end - (text.rfind("\n", 0, end) + 1) + 1
        raise JsonSyntaxError(
            "Unexpected character ('%s' (code %d)): expected end of input\n at [Source: "
            "(byte[])\"%s\"; line: %d, column: %d]" % (text[end], ord(text[end]), _preview(text),
                                                       line, col), line, col)
    return obj


_WS = re.compile(r"[ \t\n\r]*")


def _skip_ws(text, pos):
    return _WS.match(text, pos).end()


def _preview(text):
    t = text if len(text) <= 500 else text[:500] + "[truncated %d chars]" % (len(text) - 500)
    return t.replace("\\", "\\\\").replace('"', '\\"')


def _jackson_message(text, e):
    pos = e.pos
    if pos >= len(text):
        return ("Unexpected end-of-input: expected close marker for Object\n at [Source: "
                "(byte[])\"%s\"; line: %d, column: %d]" % (_preview(text), e.lineno, e.colno))
    ch = text[pos]
    return ("Unexpected character ('%s' (code %d)): %s\n at [Source: (byte[])\"%s\"; line: %d, "
            "column: %d]" % (ch, ord(ch), e.msg.lower(), _preview(text), e.lineno, e.colno))


# ---------------------------------------------------------------------------------------
# serialisation with verbatim sources

class RawJson(object):
    """A JSON value kept as the bytes the client sent (a stored _source)."""
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


_NONCE = base64.b32encode(os.urandom(10)).decode("ascii")
_RAW_RE = re.compile(('"@@RAW%s:([0-9]+)@@"' % _NONCE).encode("ascii"))


def _json_default(o):
    raise TypeError("not serialisable: %r" % (o,))


def dumps(obj, pretty=False):
    """Serialises a response body to UTF-8 bytes. RawJson values are spliced verbatim
    (compact output) or re-rendered (pretty output, which real nodes also re-indent)."""
    if not pretty:
        raws = []

        def hook(o):
            if isinstance(o, RawJson):
                raws.append(o.data)
                return "@@RAW%s:%d@@" % (_NONCE, len(raws) - 1)
            raise TypeError("not serialisable: %r" % (o,))
        try:
            out = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                             default=hook).encode("utf-8")
        except ValueError:
            out = None      # a non-finite float: the slow path renders it as Elasticsearch does
        if out is not None:
            return _splice_raw(out, raws)
    raws = []

    def conv(o):
        if isinstance(o, RawJson):
            if pretty:
                return json.loads(o.data)
            raws.append(o.data)
            return "@@RAW%s:%d@@" % (_NONCE, len(raws) - 1)
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [conv(v) for v in o]
        if isinstance(o, float) and not math.isfinite(o):
            return "Infinity" if o > 0 else ("-Infinity" if o < 0 else "NaN")
        return o

    obj = conv(obj)
    if pretty:
        return (json.dumps(obj, ensure_ascii=False, indent=2, separators=(",", " : "))
                + "\n").encode("utf-8")
    out = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _splice_raw(out, raws)


def _splice_raw(out, raws):
    """Replaces the placeholders dumps() left in out by the verbatim bytes in raws."""
    if not raws:
        return out
    parts = _RAW_RE.split(out)
    # split() alternates text, group, text, group ...
    for i in range(1, len(parts), 2):
        parts[i] = raws[int(parts[i])]
    return b"".join(parts)


def resolve_raw(obj):
    """Returns obj with RawJson replaced by parsed values (for filter_path and YAML)."""
    if isinstance(obj, RawJson):
        return json.loads(obj.data)
    if isinstance(obj, dict):
        return {k: resolve_raw(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [resolve_raw(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------
# time values and sizes

_TIME_RE = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*(nanos|micros|ms|s|m|h|d)\s*$")
_TIME_MS = {"nanos": 1e-6, "micros": 1e-3, "ms": 1, "s": 1000, "m": 60000, "h": 3600000,
            "d": 86400000}


def parse_time_ms(value, setting="timeout"):
    """TimeValue.parseTimeValue: "1m" -> 60000 ms; "-1" and "0" are accepted unitless.
    Raises EsError like a real node."""
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, (int, float)):
        value = str(value)
    if value is None:
        return None
    s = str(value)
    if s in ("-1", "0"):
        return int(s)
    m = _TIME_RE.match(s)
    if not m:
        if re.match(r"^\s*-?[0-9]+\s*$", s):
            raise EsError(400, "parse_exception",
                          "failed to parse setting [%s] with value [%s] as a time value: unit is "
                          "missing or unrecognized" % (setting, s))
        raise EsError(400, "parse_exception",
                      "failed to parse setting [%s] with value [%s] as a time value: unit is "
                      "missing or unrecognized" % (setting, s))
    num = float(m.group(1))
    if num < 0 and num != -1:
        raise EsError(400, "illegal_argument_exception",
                      "failed to parse setting [%s] with value [%s] as a time value: negative "
                      "durations are not supported" % (setting, s))
    return int(num * _TIME_MS[m.group(2)])


def format_time_ms(ms):
    """TimeValue.toString: the largest unit that keeps at most one decimal."""
    if ms < 0:
        return "-1"
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms >= size:
            v = ms / size
            if int(v * 10) % 10 == 0:
                return "%d%s" % (int(v), unit)
            return "%.1f%s" % (v, unit)
    return "%dms" % ms


def format_bytes(n):
    """ByteSizeValue.toString: "260b", "88.1kb", "1mb"."""
    for suffix, size in (("pb", 1 << 50), ("tb", 1 << 40), ("gb", 1 << 30), ("mb", 1 << 20),
                         ("kb", 1 << 10)):
        if n >= size:
            v = n / size
            if int(v * 10) % 10 == 0:
                return "%d%s" % (int(v), suffix)
            return "%.1f%s" % (v, suffix)
    return "%db" % n


def now_ms():
    return int(time.time() * 1000)


def iso_ms(ms):
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)


def random_uuid():
    """22-character URL-safe id, the shape of an index uuid."""
    return base64.urlsafe_b64encode(os.urandom(16)).decode("ascii")[:22]


_id_counter = [0]


def auto_id():
    """20-character time-ordered id like Elasticsearch's auto-generated _id."""
    _id_counter[0] += 1
    raw = struct.pack(">Q", int(time.time() * 1000)) + struct.pack(">I", _id_counter[0] & 0xFFFFFFFF) \
        + os.urandom(3)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")[:20]


# ---------------------------------------------------------------------------------------
# glob patterns (Regex.simpleMatch: only '*' is special)

def glob_match(pattern, text):
    if "*" not in pattern:
        return pattern == text
    return _glob_re(pattern).match(text) is not None


_glob_cache = {}


def _glob_re(pattern):
    r = _glob_cache.get(pattern)
    if r is None:
        r = re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$", re.S)
        if len(_glob_cache) > 4096:
            _glob_cache.clear()
        _glob_cache[pattern] = r
    return r


def glob_could_extend(pattern, prefix):
    """True when some string starting with prefix could match pattern (used to decide
    whether to descend into an object while filtering)."""
    if "*" not in pattern:
        return pattern.startswith(prefix)
    # simulate: states are positions in the pattern
    states = {0}
    for ch in prefix:
        nxt = set()
        for s in states:
            while s < len(pattern) and pattern[s] == "*":
                nxt.add(s)        # '*' consumes ch and stays
                s += 1
            if s < len(pattern) and pattern[s] == ch:
                nxt.add(s + 1)
        states = nxt
        if not states:
            return False
    return True


# ---------------------------------------------------------------------------------------
# murmur3 x86 32 as used by Elasticsearch routing (Murmur3HashFunction)

def murmur3_32(data, seed=0):
    c1, c2 = 0xcc9e2d51, 0x1b873593
    h = seed & 0xFFFFFFFF
    n = len(data)
    nblocks = n // 4
    for i in range(nblocks):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
        h = ((h << 13) | (h >> 19)) & 0xFFFFFFFF
        h = (h * 5 + 0xe6546b64) & 0xFFFFFFFF
    tail = data[4 * nblocks:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85ebca6b) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xc2b2ae35) & 0xFFFFFFFF
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def routing_hash(routing):
    """Murmur3HashFunction.hash(String): UTF-16 code units, low byte first."""
    return murmur3_32(routing.encode("utf-16-le"))


def shard_for(routing, num_shards, routing_num_shards):
    factor = routing_num_shards // num_shards
    return (routing_hash(routing) % routing_num_shards) // factor


def default_routing_shards(num_shards):
    """MetadataCreateIndexService.calculateNumRoutingShards for indices created on 7.0+."""
    log2_num = 32 - _nlz32(num_shards - 1)
    splits = max(1, 10 - log2_num)
    return num_shards << splits


def _nlz32(x):
    if x == 0:
        return 32
    return 32 - x.bit_length()


# ---------------------------------------------------------------------------------------
# numbers as Java prints them

def java_double_str(v):
    """Double.toString-compatible enough for error previews."""
    if v == int(v) and abs(v) < 1e7:
        return "%.1f" % v
    return repr(v)


def java_str(v):
    """Java Map/List toString, used in "unsupported parameters" messages and previews."""
    if isinstance(v, dict):
        return "{" + ", ".join("%s=%s" % (k, java_str(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(java_str(x) for x in v) + "]"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return java_double_str(v)
    return str(v)


def float32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def half_float(v):
    return struct.unpack("<e", struct.pack("<e", v))[0]


def float32_repr(v):
    """The shortest decimal that reads back as the same float32 (Float.toString-like), as
    a Python float for JSON output."""
    f = float32(v)
    if not math.isfinite(f):
        return f
    for p in range(1, 10):
        s = "%.*g" % (p, f)
        if float32(float(s)) == f:
            return float(s)
    return f


def str_list(v):
    """A list of names from a JSON list or a comma-separated string (None: empty)."""
    if v is None:
        return []
    if isinstance(v, list):
        return [str(x) for x in v]
    return [x for x in str(v).split(",") if x]


def bool_param(value, name, default=False):
    """Booleans in query strings: "true", "false" and "" (true); anything else is 400."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value == "" or value == "true":
        return True
    if value == "false":
        return False
    raise illegal_argument("Failed to parse value [%s] as only [true] or [false] are allowed." % value)


def int_param(value, name, default=None):
    if value is None:
        return default
    if isinstance(value, bool):
        raise illegal_argument("Failed to parse int parameter [%s] with value [%s]" % (name, value))
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise illegal_argument("Failed to parse int parameter [%s] with value [%s]" % (name, value),
                               caused_by=EsError(400, "number_format_exception",
                                                 "For input string: \"%s\"" % value))
