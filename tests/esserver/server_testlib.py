"""What the direct tests of the test server share (test_server.py and the server_cases_*
modules): a registry of test functions, a small HTTP client that keeps one connection, and
assertions that say what differed.

A test is a function (client, server) registered with @test(flavour, faults); test_server.py
runs them in registration order, each on a reset server of its flavour with its faults set.
"""

import http.client
import json
import os
import time

REF = "/work/shared/reference/elasticsearch"

TESTS = []


def test(flavour="opensearch", faults=None):
    def deco(fn):
        TESTS.append((fn.__name__, flavour, faults, fn))
        return fn
    return deco


class Resp(object):
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.raw[:300])


class Client(object):
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def req(self, method, path, body=None, ctype="application/json", headers=None, raw=False):
        h = dict(headers or {})
        data = None
        if body is not None:
            if isinstance(body, (bytes, bytearray)):
                data = bytes(body)
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = json.dumps(body).encode()
            if ctype is not None:
                h.setdefault("Content-Type", ctype)
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        return Resp(r.status, r.getheaders(), r.read())

    def bulk(self, lines, params=""):
        data = "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines)
        return self.req("POST", "/_bulk" + params, data, "application/x-ndjson")

    def close(self):
        self.conn.close()


def ref(name):
    with open(os.path.join(REF, name)) as f:
        return json.load(f)


def eq(a, b, what=""):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


def err_type(r):
    return r.json["error"]["type"] if r.json and isinstance(r.json.get("error"), dict) else None


def assert_error(r, status, etype, reason=None, root=None):
    eq(r.status, status, "status")
    eq(err_type(r), etype, "error.type")
    eq(r.json["status"], status, "body status")
    rc = r.json["error"]["root_cause"]
    if root is not None:
        eq(rc[0]["type"], root, "root_cause type")
    if reason is not None:
        eq(r.json["error"]["reason"], reason, "reason")


def read_ready_file(path, seconds=10.0):
    """The port server.py --ready-file writes once it listens (waits for the file to appear)."""
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(path) as f:
        return int(f.read())
