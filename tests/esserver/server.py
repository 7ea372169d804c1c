#!/usr/bin/python3
"""Elasticsearch / OpenSearch compatible test server for ddb2es (Python standard library).

It behaves like a single-node cluster of the chosen flavour, strict about formats and status
codes: documents live in memory, writes become searchable only after a refresh (near real
time), mappings are enforced (mapper_parsing_exception), versions, sequence numbers, aliases,
scroll, point in time, _cat/indices, and error bodies are those of a real node.

COMMAND LINE
    server.py --host 127.0.0.1 --port 0 --ready-file PATH --flavour es7|es8|es9|opensearch
              [--faults JSON|@file] [--version-number X.Y.Z] [--cluster-name NAME] [--log FILE]
With --port 0 a free port is chosen; the port number is written to the ready file (tmp + rename)
once the socket listens. SIGTERM / SIGINT stop the server cleanly.

PYTHON
    from server import EsTestServer
    with EsTestServer(flavour="opensearch", faults={...}) as srv:   # starts on a free port
        srv.url          # "http://127.0.0.1:PORT"
        srv.set_faults({...}); srv.get_stats(); srv.reset()

FLAVOURS
    es7         Elasticsearch 7.10.2 (default distribution): "_type": "_doc" in responses, _pit,
                no _shard_doc, no vendor media types (they get 406).
    es8         Elasticsearch 8.12.1: X-Elastic-Product header, vendor media types with
                compatible-with=7|8 (compatible-with=9 is refused with 400
                media_type_header_exception, as a real 8.x does), _type in bulk refused,
                sorting on _id refused (indices.id_field_data.enabled=false),
                PIT searches get the implicit _shard_doc tie-breaker, wildcard deletes refused.
    es9         Elasticsearch 9.1.0 (root body constructed on the 8.x shape): as es8 but accepts
                compatible-with=8|9 - the headers of the official 9.x JavaScript client.
    opensearch  OpenSearch 2.13.0 (--version-number can claim another version, the YAML suite
                uses 3.6.0): /_search/point_in_time APIs, no vendor media types.

FAULTS (--faults JSON, or at run time through the control endpoint)
    {"seed": 1,                                      # seeds every "rate" decision
     "bulk_item_reject":   {"every": 3} | {"rate": 0.1},   # item status 429 es_rejected_execution_exception
     "request_reject":     {"every": 2, "status": 429|503, "paths": ["/_bulk"]},
     "drop_before_body":   {"every": 5, "paths": [...]},    # close the connection before reading the body
     "drop_mid_response":  {"every": 5, "bytes": 100},      # send the first bytes of the response, then close
     "latency_ms":         25 | {"ms": 25, "paths": [...]}, # added to every (matching) request
     "stall":              {"every": 10, "ms": 3000},       # occasional long delay before answering
     "max_content_length": 1048576,                         # larger bodies get 413 (empty body, close)
     "max_content_length_style": "es" | "aws"}              # "aws": 413 {"Message": "Request size exceeded N bytes"}
Every fault also takes "times" (fire at most N times), "after" (skip the first N eligible events),
"methods" (["POST", ...]); "paths" entries are substrings of the request path ("/_bulk") or
globs ("/*/_search"). "every": N fires on the Nth, 2Nth ... eligible event: deterministic tests.

CONTROL ENDPOINT (never subject to faults; not an Elasticsearch API)
    GET  /_test/faults          current faults          PUT|POST /_test/faults  replace them
    DELETE /_test/faults        clear all faults
    GET  /_test/stats           counters: requests, by_method, by_status, by_route, bulk_requests,
                                bulk_items, items_ok, items_failed, items_rejected, faults{kind: n},
                                bytes_in, bytes_out, connections, docs (per index, live), contexts
    POST /_test/stats/reset     zero the counters
    POST /_test/reset           delete all indices, aliases, scroll/PIT contexts, cluster settings
    POST /_test/refresh         refresh every index (as if refresh_interval had elapsed)
"""

import argparse
import fnmatch
import gzip
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qsl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from es_common import EsError, PlainError, dumps, resolve_raw, REJECTED_REQUEST_REASON  # noqa: E402
from es_cluster import Cluster  # noqa: E402
from es_flavour import Flavour  # noqa: E402
from es_rest import ApiRequest  # noqa: E402
from es_api import Router, split_path, check_params  # noqa: E402

JSON_TYPES = {"application/json", "application/x-ndjson"}
VENDOR_TYPES = {"application/vnd.elasticsearch+json", "application/vnd.elasticsearch+x-ndjson"}
FAULT_KINDS = ("bulk_item_reject", "request_reject", "drop_before_body", "drop_mid_response",
               "latency_ms", "stall", "max_content_length", "max_content_length_style", "seed")


# ---------------------------------------------------------------------------------------
# statistics and faults

class Stats(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.c = {"requests": 0, "bulk_requests": 0, "bulk_items": 0, "items_ok": 0,
                      "items_failed": 0, "items_rejected": 0, "bytes_in": 0, "bytes_out": 0,
                      "connections": 0, "control_requests": 0}
            self.by_method = {}
            self.by_status = {}
            self.by_route = {}
            self.faults = {}

    def count(self, key, n=1):
        with self.lock:
            self.c[key] = self.c.get(key, 0) + n

    def request(self, method, route, status, nin, nout):
        with self.lock:
            self.c["requests"] += 1
            self.c["bytes_in"] += nin
            self.c["bytes_out"] += nout
            self.by_method[method] = self.by_method.get(method, 0) + 1
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1
            key = "%s %s" % (method, route)
            self.by_route[key] = self.by_route.get(key, 0) + 1

    def fault(self, kind):
        with self.lock:
            self.faults[kind] = self.faults.get(kind, 0) + 1

    def snapshot(self):
        with self.lock:
            d = dict(self.c)
            d["by_method"] = dict(self.by_method)
            d["by_status"] = dict(self.by_status)
            d["by_route"] = dict(self.by_route)
            d["faults"] = dict(self.faults)
            return d


class _Rule(object):
    """One fault: when it fires (every N / rate, after, times) and where (paths, methods)."""

    def __init__(self, kind, spec, rng):
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            spec = {"ms": spec} if kind in ("latency_ms",) else {"value": spec}
        if not isinstance(spec, dict):
            raise ValueError("fault [%s] must be an object" % kind)
        self.kind = kind
        self.spec = spec
        self.every = spec.get("every")
        self.rate = spec.get("rate")
        self.after = int(spec.get("after", 0))
        self.times = spec.get("times")
        self.paths = spec.get("paths")
        self.methods = [m.upper() for m in spec.get("methods", [])] or None
        self.rng = rng
        self.seen = 0
        self.fired = 0
        if self.every is not None and int(self.every) < 1:
            raise ValueError("fault [%s]: every must be >= 1" % kind)
        if self.rate is not None and not 0 <= float(self.rate) <= 1:
            raise ValueError("fault [%s]: rate must be within [0, 1]" % kind)

    def applies(self, method, path):
        if self.methods and method not in self.methods:
            return False
        if self.paths:
            for p in self.paths:
                if ("*" in p and fnmatch.fnmatchcase(path, p)) or ("*" not in p and p in path):
                    return True
            return False
        return True

    def fire(self):
        """Counts one eligible event and says whether the fault fires on it."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.fired >= int(self.times):
            return False
        n = self.seen - self.after
        if self.every is not None:
            hit = n % int(self.every) == 0
        elif self.rate is not None:
            hit = self.rng.random() < float(self.rate)
        else:
            hit = True
        if hit:
            self.fired += 1
        return hit


class Faults(object):
    def __init__(self, stats):
        self.lock = threading.Lock()
        self.stats = stats
        self.set({})

    def set(self, spec):
        spec = dict(spec or {})
        for k in spec:
            if k not in FAULT_KINDS:
                raise ValueError("unknown fault [%s]; known: %s" % (k, ", ".join(FAULT_KINDS)))
        rng = random.Random(spec.get("seed", 0))
        rules = {}
        for k, v in spec.items():
            if k in ("seed", "max_content_length", "max_content_length_style"):
                continue
            if v is None:
                continue
            rules[k] = _Rule(k, v, rng)
        mcl = spec.get("max_content_length")
        style = spec.get("max_content_length_style", "es")
        if style not in ("es", "aws"):
            raise ValueError("max_content_length_style must be es or aws")
        with self.lock:
            self.spec = spec
            self.rules = rules
            self.max_content_length = int(mcl) if mcl is not None else None
            self.mcl_style = style

    def get(self):
        with self.lock:
            return dict(self.spec)

    def check(self, kind, method, path):
        with self.lock:
            r = self.rules.get(kind)
            if r is None or not r.applies(method, path):
                return None
            if r.fire():
                self.stats.fault(kind)
                return r.spec
            return None

    def has(self, kind):
        return kind in self.rules

    def reject_item(self):
        with self.lock:
            r = self.rules.get("bulk_item_reject")
            if r is None:
                return False
            hit = r.fire()
        if hit:
            self.stats.fault("bulk_item_reject")
        return hit

    def latency(self, method, path):
        with self.lock:
            r = self.rules.get("latency_ms")
            if r is None or not r.applies(method, path):
                return 0
            if r.every is None and r.rate is None:
                return float(r.spec.get("ms", 0))
        s = self.check("latency_ms", method, path)
        return float(s.get("ms", 0)) if s else 0


# ---------------------------------------------------------------------------------------
# HTTP

class _Drop(Exception):
    """Close the connection without (or in the middle of) a response."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ddb2es-esserver"
    sys_version = ""

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        self.server.owner.stats.count("connections")
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        log = self.server.owner.log
        if log is not None:
            log.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))
            log.flush()

    def handle_expect_100(self):
        owner = self.server.owner
        mcl = owner.faults.max_content_length
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = 0
        if mcl is not None and n > mcl:
            self._send_too_large(mcl)
            return False
        return BaseHTTPRequestHandler.handle_expect_100(self)

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    # -- plumbing ------------------------------------------------------------------------

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks = []
            total = 0
            mcl = self.server.owner.faults.max_content_length
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise _Drop()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                data = self.rfile.read(size)
                self.rfile.readline()
                total += size
                if mcl is not None and total > mcl:
                    self._send_too_large(mcl)
                    raise _Drop()
                chunks.append(data)
            body = b"".join(chunks)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            if n < 0:
                raise _Drop()
            mcl = self.server.owner.faults.max_content_length
            if mcl is not None and n > mcl:
                self._send_too_large(mcl)
                raise _Drop()
            body = self.rfile.read(n) if n else b""
            if len(body) != n:
                raise _Drop()
        enc = (self.headers.get("Content-Encoding") or "").lower().strip()
        if enc in ("gzip", "x-gzip"):
            body = gzip.decompress(body)
        elif enc == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        return body

    def _send_too_large(self, mcl):
        owner = self.server.owner
        owner.stats.fault("max_content_length")
        if owner.faults.mcl_style == "aws":
            body = json.dumps({"Message": "Request size exceeded %d bytes" % mcl}).encode()
            ctype = "application/json"
        else:
            body = b""
            ctype = None
        self.send_response_only(413, "Request Entity Too Large")
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True
        owner.stats.request(self.command, "413", 413, 0, len(body))

    def _dispatch(self):
        owner = self.server.owner
        method = self.command
        url = urlsplit(self.path)
        path = url.path or "/"
        faults = owner.faults
        control = path.startswith("/_test/") or path == "/_test"
        try:
            if not control:
                if faults.check("drop_before_body", method, path):
                    raise _Drop()
                lat = faults.latency(method, path)
                st = faults.check("stall", method, path)
                if st:
                    lat += float(st.get("ms", 1000))
            try:
                body = self._read_body()
            except (ValueError, OSError, EOFError, zlib.error) as e:
                # unreadable framing or compressed body: answer and close, the stream is lost
                payload = dumps({"error": "bad request body: %s" % e, "status": 400})
                self.close_connection = True
                self._write(400, payload, "application/json; charset=UTF-8", {"Connection": "close"}, method)
                return
            if not control and lat:
                time.sleep(lat / 1000.0)
        except _Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        params = {}
        for k, v in parse_qsl(url.query, keep_blank_values=True):
            params[k] = v
        if control:
            owner.stats.count("control_requests")
            status, obj = owner.control(method, path, body)
            self._write(status, dumps(obj), "application/json; charset=UTF-8", {}, method)
            return
        status, payload, ctype, headers, route = owner.handle(method, path, url.query, params, body,
                                                               self.headers)
        drop = faults.check("drop_mid_response", method, path)
        if drop:
            self._write_partial(status, payload, ctype, headers, int(drop.get("bytes", 64)))
            owner.stats.request(method, route, status, len(body), len(payload))
            return
        self._write(status, payload, ctype, headers, method)
        owner.stats.request(method, route, status, len(body), len(payload))

    def _write(self, status, payload, ctype, headers, method):
        gz = False
        if payload and "gzip" in (self.headers.get("Accept-Encoding") or "") and len(payload) > 0:
            payload = gzip.compress(payload, 3)
            gz = True
        self.send_response_only(status)
        if ctype:
            self.send_header("content-type", ctype)
        for k, v in headers.items():
            self.send_header(k, v)
        if gz:
            self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if method != "HEAD" and payload:
            self.wfile.write(payload)
        self.wfile.flush()
        if self.server.owner.log is not None:
            self.log_request(status, len(payload))

    def _write_partial(self, status, payload, ctype, headers, nbytes):
        self.send_response_only(status)
        if ctype:
            self.send_header("content-type", ctype)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload[:max(0, min(nbytes, len(payload) - 1))])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, BrokenPipeError, socket.timeout)):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


# ---------------------------------------------------------------------------------------
# the server object

def _media(value):
    """"application/json; charset=UTF-8" -> ("application/json", {"charset": "UTF-8"})."""
    if not value:
        return None, {}
    parts = [p.strip() for p in value.split(";")]
    params = {}
    for p in parts[1:]:
        if "=" in p:
            k, v = p.split("=", 1)
            params[k.strip().lower()] = v.strip()
    return parts[0].lower(), params


class EsTestServer(object):
    """An Elasticsearch-compatible server on a background thread (or the main one via the CLI)."""

    def __init__(self, flavour="opensearch", host="127.0.0.1", port=0, faults=None, version_number=None,
                 cluster_name=None, log=None):
        self.flavour = Flavour(flavour, version_number, cluster_name)
        self.cluster = Cluster(self.flavour)
        self.router = Router(self.flavour)
        self.stats = Stats()
        self.faults = Faults(self.stats)
        if faults:
            self.faults.set(faults)
        self.host = host
        self.log = log
        self.httpd = _HTTPServer((host, port), Handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = None

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="esserver", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is not None:
            if self.thread is not None:
                self.httpd.shutdown()
                self.thread.join(5)
            self.httpd.server_close()
            self.httpd = None
        if self.log is not None:
            self.log.flush()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- test helpers ---------------------------------------------------------------------

    def set_faults(self, spec):
        self.faults.set(spec)

    def get_stats(self):
        s = self.stats.snapshot()
        with self.cluster.lock:
            s["docs"] = {n: sum(len(sh.live) for sh in i.shards) for n, i in self.cluster.indices.items()}
            s["contexts"] = {"scroll": sum(1 for k in self.cluster.contexts if k[0] == "scroll"),
                             "pit": sum(1 for k in self.cluster.contexts if k[0] == "pit")}
        return s

    def reset(self):
        self.cluster.reset()

    def control(self, method, path, body):
        try:
            if path == "/_test/faults":
                if method == "GET":
                    return 200, self.faults.get()
                if method in ("PUT", "POST"):
                    self.faults.set(json.loads(body) if body.strip() else {})
                    return 200, {"acknowledged": True, "faults": self.faults.get()}
                if method == "DELETE":
                    self.faults.set({})
                    return 200, {"acknowledged": True}
            if path == "/_test/stats" and method == "GET":
                return 200, self.get_stats()
            if path in ("/_test/stats/reset", "/_test/stats") and method in ("POST", "DELETE"):
                self.stats.reset()
                return 200, {"acknowledged": True}
            if path == "/_test/reset" and method == "POST":
                self.reset()
                return 200, {"acknowledged": True}
            if path == "/_test/refresh" and method == "POST":
                with self.cluster.lock:
                    for idx in self.cluster.indices.values():
                        idx.refresh()
                return 200, {"acknowledged": True}
        except (ValueError, TypeError) as e:
            return 400, {"error": str(e), "status": 400}
        return 404, {"error": "unknown control endpoint %s %s" % (method, path), "status": 404}

    # -- one request -----------------------------------------------------------------------

    def _content_headers(self, compat):
        h = {}
        if self.flavour.product_header:
            h["X-elastic-product"] = "Elasticsearch"
        if compat is not None:
            ctype = "application/vnd.elasticsearch+json;compatible-with=%d" % compat
        elif self.flavour.name in ("es8", "es9"):
            ctype = "application/json"
        else:
            ctype = "application/json; charset=UTF-8"
        return ctype, h

    def _check_media(self, method, path, body, headers):
        """Content-Type / Accept checks; returns the compatible-with version in use or None."""
        fl = self.flavour
        ct_raw = headers.get("Content-Type")
        ac_raw = headers.get("Accept")
        ctype, cparams = _media(ct_raw)
        has_body = bool(body)
        if has_body:
            if ct_raw is None:
                raise PlainError(406, "Content-Type header is missing")
            if ctype not in JSON_TYPES and not (fl.vendor_media_types and ctype in VENDOR_TYPES):
                raise PlainError(406, "Content-Type header [%s] is not supported" % ct_raw)
            cs = cparams.get("charset")
            if cs is not None and cs.lower().replace("-", "") != "utf8":
                raise PlainError(406, "Content-Type header [%s] is not supported" % ct_raw)
        if not fl.vendor_media_types:
            return None
        c_ver = None
        if has_body and ctype in VENDOR_TYPES:
            c_ver = cparams.get("compatible-with")
        a_ver = None
        if ac_raw:
            for part in ac_raw.split(","):
                mt, mp = _media(part)
                if mt in VENDOR_TYPES and mp.get("compatible-with") is not None:
                    a_ver = mp.get("compatible-with")
                    break
        if a_ver is None and c_ver is None:
            return None
        cur = fl.major
        lo = cur - 1

        def ver(v):
            try:
                return int(v)
            except (TypeError, ValueError):
                return -1

        def bad(msg):
            cause = EsError(400, "status_exception", msg)
            return EsError(400, "media_type_header_exception",
                           "Invalid media-type value on headers [Accept, Content-Type]", caused_by=cause)
        acc = ver(a_ver) if a_ver is not None else cur
        if acc > cur or acc < lo:
            raise bad("Accept version must be either version %d or %d, but found %d. Accept=%s"
                      % (cur, lo, acc, ac_raw))
        if has_body:
            ctv = ver(c_ver) if c_ver is not None else cur
            if ctv > cur or ctv < lo:
                raise bad("Content-Type version must be either version %d or %d, but found %d. Content-Type=%s"
                          % (cur, lo, ctv, ct_raw))
            if ctv != acc:
                raise bad("A compatible version is required on both Content-Type and Accept headers if either one "
                          "has requested a compatible version and the compatible versions must match. Accept=%s, "
                          "Content-Type=%s" % (ac_raw, ct_raw))
            if (c_ver is None) != (a_ver is None):
                raise bad("A compatible version is required on both Content-Type and Accept headers if either one "
                          "has requested a compatible version. Accept=%s, Content-Type=%s" % (ac_raw, ct_raw))
        return acc

    def handle(self, method, path, query, params, body, headers):
        """Returns (status, payload bytes, content type, headers, route label)."""
        route_label = "?"
        compat = None
        pretty = "pretty" in params and params.get("pretty") != "false"
        filter_path = params.get("filter_path")
        error_trace = params.get("error_trace") == "true"
        try:
            rej = self.faults.check("request_reject", method, path)
            if rej:
                status = int(rej.get("status", 429))
                if status == 503:
                    raise EsError(503, "cluster_block_exception",
                                  "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];")
                raise EsError(status, "es_rejected_execution_exception", REJECTED_REQUEST_REASON)
            compat = self._check_media(method, path, body, headers)
            segs = split_path(path)
            route, parts, allowed = self.router.find(method, segs)
            if route is None:
                if allowed:
                    raise PlainError(405, "Incorrect HTTP method for uri [%s] and method [%s], allowed: [%s]"
                                     % (path + ("?" + query if query else ""), method, ", ".join(sorted(allowed))),
                                     headers={"Allow": ",".join(sorted(allowed))})
                raise PlainError(400, "no handler found for uri [%s] and method [%s]"
                                 % (path + ("?" + query if query else ""), method), extra=None)
            route_label = route.path
            if body and not route.body:
                raise EsError(400, "illegal_argument_exception",
                              "request [%s %s] does not support having a body" % (method, path))
            req = ApiRequest(method, path, params, body, headers, self.cluster, self.flavour, self)
            req.parts = parts
            check_params(req, route)
            resp = route.handler(req)
            status = resp.status
            ctype, hdrs = self._content_headers(compat)
            hdrs.update(resp.headers)
            for w in req.warnings:
                hdrs["Warning"] = '299 %s-%s-%s "%s"' % (
                    "OpenSearch" if self.flavour.is_os else "Elasticsearch", self.flavour.root["version"]["number"],
                    self.flavour.root["version"]["build_hash"], w)
            if isinstance(resp.body, (bytes, bytearray)):
                return status, bytes(resp.body), resp.content_type or ctype, hdrs, route_label
            obj = resp.body
            if resp.content_type is not None and isinstance(obj, str):
                return status, obj.encode("utf-8"), resp.content_type, hdrs, route_label
            if filter_path:
                obj = apply_filter_path(resolve_raw(obj), filter_path)
            if (headers.get("Accept") or "").lower().startswith("application/yaml"):
                # JSON in flow style is YAML; a real node sends block style, same data
                return status, b"---\n" + dumps(obj, True), "application/yaml", hdrs, route_label
            return status, dumps(obj, pretty), ctype, hdrs, route_label
        except (EsError, PlainError) as e:
            ctype, hdrs = self._content_headers(compat)
            if isinstance(e, PlainError):
                hdrs.update(e.headers)
                env = {"error": e.text, "status": e.status} if e.status != 400 or "no handler" not in e.text \
                    else {"error": e.text}
                if self.flavour.name in ("es8", "es9") and "no handler" in e.text:
                    env = {"error": e.text, "status": e.status}
                return e.status, dumps(env, pretty), ctype, hdrs, route_label
            env = e.envelope()
            if error_trace:
                env["error"]["stack_trace"] = "%s[%s]\n\tat server.handle" % (e.etype, e.reason)
            return e.status, dumps(env, pretty), ctype, hdrs, route_label
        except Exception as e:     # a bug in the server: answer like a node would, but say so on stderr
            traceback.print_exc()
            ctype, hdrs = self._content_headers(compat)
            err = EsError(500, "exception", "%s: %s" % (type(e).__name__, e))
            return 500, dumps(err.envelope(), pretty), ctype, hdrs, route_label


def apply_filter_path(obj, spec):
    """filter_path: comma-separated dotted patterns with * and **, "-" for exclusions."""
    inc = [p.strip().split(".") for p in spec.split(",") if p.strip() and not p.strip().startswith("-")]
    exc = [p.strip()[1:].split(".") for p in spec.split(",") if p.strip().startswith("-")]
    if inc:
        obj = _fp_include(obj, inc)
        if obj is None:
            obj = {}
    if exc:
        obj = _fp_exclude(obj, exc)
    return obj


def _fp_match(pat, key):
    return pat == "*" or pat == key or ("*" in pat and fnmatch.fnmatchcase(key, pat))


def _fp_include(node, pats):
    if any(len(p) == 0 for p in pats):
        return node
    if isinstance(node, list):
        out = [x for x in (_fp_include(v, pats) for v in node) if x is not None]
        return out if out else None
    if not isinstance(node, dict):
        return None
    out = {}
    for k, v in node.items():
        sub = []
        for p in pats:
            if p[0] == "**":
                sub.append(p)
                if len(p) > 1 and _fp_match(p[1], k):
                    sub.append(p[2:])
            elif _fp_match(p[0], k):
                sub.append(p[1:])
        if not sub:
            continue
        r = _fp_include(v, sub)
        if r is not None:
            out[k] = r
    return out if out else None


def _fp_exclude(node, pats):
    if isinstance(node, list):
        return [_fp_exclude(v, pats) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        sub = []
        drop = False
        for p in pats:
            if _fp_match(p[0], k):
                if len(p) == 1:
                    drop = True
                else:
                    sub.append(p[1:])
        if drop:
            continue
        out[k] = _fp_exclude(v, sub) if sub else v
    return out


# ---------------------------------------------------------------------------------------
# command line

def _write_ready(path, port):
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Elasticsearch-compatible test server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file")
    ap.add_argument("--flavour", default="opensearch", choices=["es7", "es8", "es9", "opensearch"])
    ap.add_argument("--faults", help="JSON object, or @file")
    ap.add_argument("--version-number")
    ap.add_argument("--cluster-name")
    ap.add_argument("--log", help="append a line per request to this file")
    a = ap.parse_args(argv)
    faults = None
    log = None
    try:
        if a.faults:
            text = open(a.faults[1:]).read() if a.faults.startswith("@") else a.faults
            faults = json.loads(text)
        log = open(a.log, "a") if a.log else None
        srv = EsTestServer(a.flavour, a.host, a.port, faults, a.version_number, a.cluster_name, log)
    except (ValueError, OSError) as e:
        sys.stderr.write("server.py: %s\n" % e)
        return 2
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    srv.start()
    if a.ready_file:
        _write_ready(a.ready_file, srv.port)
    while not stop.wait(0.5):
        pass
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
