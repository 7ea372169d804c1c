#!/usr/bin/python3
"""Direct tests of the test server: strictness (status codes, bodies, headers) and every
fault of the fault injector, checked against the reference examples in
/work/shared/reference/elasticsearch/ where they exist. The API and search cases are in
server_cases_api.py and server_cases_search.py; the fault cases, the command line and the
runner are here. Last line: "N passed, N failed"."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from server import EsTestServer  # noqa: E402
from server_testlib import TESTS, test, Client, ref, eq, assert_error, read_ready_file  # noqa: E402
import server_cases_api  # noqa: E402
import server_cases_search  # noqa: E402

# importing the case modules registers their tests, before the fault tests below
CASE_MODULES = (server_cases_api, server_cases_search)


# ---------------------------------------------------------------------------------------
# faults

@test(faults={"bulk_item_reject": {"every": 2}})
def fault_item_reject_every(c, srv):
    r = c.bulk([x for i in range(6) for x in ({"index": {"_index": "f", "_id": str(i)}}, {"n": i})])
    st = [i["index"]["status"] for i in r.json["items"]]
    eq(st, [201, 429, 201, 429, 201, 429])
    eq(r.json["errors"], True)
    e = r.json["items"][1]["index"]
    want = ref("bulk-response-errors.json")["items"][2]["index"]
    eq(e["error"], want["error"], "429 item error")
    eq(sorted(e), sorted(want))
    c.req("POST", "/f/_refresh")
    eq(c.req("GET", "/f/_count").json["count"], 3)         # rejected items were not applied
    s = c.req("GET", "/_test/stats").json
    eq((s["bulk_requests"], s["bulk_items"], s["items_rejected"], s["items_ok"]), (1, 6, 3, 3))
    eq(s["faults"]["bulk_item_reject"], 3)


@test(faults={"seed": 7, "bulk_item_reject": {"rate": 0.3}})
def fault_item_reject_rate_is_seeded(c, srv):
    def run():
        r = c.bulk([x for i in range(200) for x in ({"index": {"_index": "f", "_id": str(i)}}, {"n": i})])
        return [i["index"]["status"] == 429 for i in r.json["items"]]
    a = run()
    srv.set_faults({"seed": 7, "bulk_item_reject": {"rate": 0.3}})
    b = run()
    eq(a, b, "same seed, same decisions")
    n = a.count(True)
    assert 30 < n < 90, n


@test(faults={"request_reject": {"every": 2, "paths": ["/_bulk"]}})
def fault_request_reject_429(c, srv):
    line = [{"index": {"_index": "f"}}, {"n": 1}]
    eq(c.bulk(line).status, 200)
    r = c.bulk(line)
    eq(r.status, 429)
    eq(r.json, ref("error-rejected-execution-429.json"))
    eq(c.req("GET", "/").status, 200)          # other paths unaffected
    eq(c.bulk(line).status, 200)


@test(faults={"request_reject": {"every": 1, "status": 503, "times": 1}})
def fault_request_reject_503(c, srv):
    r = c.req("GET", "/")
    assert_error(r, 503, "cluster_block_exception")
    eq(c.req("GET", "/").status, 200)


@test(faults={"drop_before_body": {"every": 2, "paths": ["/_bulk"]}})
def fault_drop_before_body(c, srv):
    line = [{"index": {"_index": "f"}}, {"n": 1}]
    eq(c.bulk(line).status, 200)
    try:
        c.bulk(line)
    except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
        pass
    else:
        raise AssertionError("connection not dropped")
    c.conn.close()
    eq(c.bulk(line).status, 200)


@test(faults={"drop_mid_response": {"every": 1, "bytes": 20, "paths": ["/_search"]}})
def fault_drop_mid_response(c, srv):
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"GET /_search HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    declared = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    eq(len(body), 20)
    assert declared > 20, declared


@test(faults={"latency_ms": 150, "stall": {"every": 3, "ms": 400}})
def fault_latency_and_stall(c, srv):
    times = []
    for _ in range(3):
        t = time.monotonic()
        eq(c.req("GET", "/").status, 200)
        times.append(time.monotonic() - t)
    assert all(x >= 0.14 for x in times), times
    assert times[2] >= 0.53, times
    assert times[0] < 0.5, times


@test(faults={"max_content_length": 1000})
def fault_max_content_length(c, srv):
    r = c.req("PUT", "/f/_doc/1", {"a": "x" * 2000})
    eq((r.status, r.raw), (413, b""))
    eq(r.headers.get("connection"), "close")
    c.conn.close()
    eq(c.req("PUT", "/f/_doc/1", {"a": "x" * 10}).status, 201)
    srv.set_faults({"max_content_length": 1000, "max_content_length_style": "aws"})
    r = c.req("PUT", "/f/_doc/1", {"a": "x" * 2000})
    eq((r.status, r.json), (413, {"Message": "Request size exceeded 1000 bytes"}))


@test()
def control_endpoint(c, srv):
    eq(c.req("GET", "/_test/faults").json, {})
    r = c.req("PUT", "/_test/faults", {"bulk_item_reject": {"every": 1, "after": 1, "times": 1}})
    eq(r.json["acknowledged"], True)
    line = [x for i in range(3) for x in ({"index": {"_index": "f", "_id": str(i)}}, {"n": i})]
    eq([i["index"]["status"] for i in c.bulk(line).json["items"]], [201, 429, 201])
    eq(c.req("PUT", "/_test/faults", {"nonsense": 1}).status, 400)
    eq(c.req("DELETE", "/_test/faults").status, 200)
    eq([i["index"]["status"] for i in c.bulk(line).json["items"]], [200, 201, 200])
    s = c.req("GET", "/_test/stats").json
    eq(s["docs"], {"f": 3})
    assert s["requests"] >= 2 and s["by_route"]["POST /_bulk"] == 2, s
    eq(c.req("POST", "/_test/stats/reset").status, 200)
    eq(c.req("GET", "/_test/stats").json["requests"], 0)
    eq(c.req("POST", "/_test/reset").status, 200)
    eq(c.req("HEAD", "/f").status, 404)


@test()
def read_only_allow_delete_block(c, srv):
    c.req("PUT", "/blk/_doc/1", {"a": 1})
    c.req("PUT", "/blk/_settings", {"index.blocks.read_only_allow_delete": True})
    r = c.bulk([{"index": {"_index": "blk", "_id": "2"}}, {"a": 1}, {"delete": {"_index": "blk", "_id": "1"}}])
    it = r.json["items"]
    eq((it[0]["index"]["status"], it[0]["index"]["error"]["type"]), (429, "cluster_block_exception"))
    eq(it[1]["delete"]["status"], 200)


def cli_lifecycle():
    """server.py as a program: ready file written atomically, SIGTERM stops it."""
    tmp = tempfile.mkdtemp()
    ready = os.path.join(tmp, "ready")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--host", "127.0.0.1", "--port", "0",
                          "--ready-file", ready, "--flavour", "es8",
                          "--faults", '{"request_reject": {"every": 2}}'], stderr=subprocess.PIPE)
    try:
        port = read_ready_file(ready)
        eq(os.listdir(tmp), ["ready"], "no temporary file left")
        c = Client(port)
        eq(c.req("GET", "/").json["version"]["number"], "8.12.1")
        eq(c.req("GET", "/").status, 429)
        c.close()
        p.send_signal(signal.SIGTERM)
        eq(p.wait(10), 0, "exit status")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


def main():
    passed = failed = 0
    servers = {}
    try:
        for name, flavour, faults, fn in TESTS:
            srv = servers.get(flavour)
            if srv is None:
                srv = servers[flavour] = EsTestServer(flavour).start()
            srv.reset()
            srv.set_faults(faults or {})
            srv.stats.reset()
            c = Client(srv.port)
            try:
                fn(c, srv)
                passed += 1
                print("ok   %s [%s]" % (name, flavour))
            except Exception as e:
                failed += 1
                print("FAIL %s [%s]: %s" % (name, flavour, e))
                traceback.print_exc(limit=3, file=sys.stdout)
            finally:
                c.close()
                srv.set_faults({})
        try:
            cli_lifecycle()
            passed += 1
            print("ok   cli_lifecycle")
        except Exception as e:
            failed += 1
            print("FAIL cli_lifecycle: %s" % e)
    finally:
        for srv in servers.values():
            srv.stop()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
