#!/usr/bin/python3
"""Runs the official OpenSearch REST YAML tests against an Elasticsearch-compatible server.

    yaml_runner.py --url http://127.0.0.1:PORT [--tests DIR] [--api DIR] [--skips FILE]
                   [--flavour es7|es8|es9|opensearch] [--only SUBSTRING]... [--verbose]

DESIGN: the runner follows rest-api-spec/test/README.md (setup/teardown per section, stash,
do/catch/match/length/is_true/is_false/lt/gt/lte/gte/set/contains, skip by version range and
features, headers, warnings, allowed_warnings, the client-side "ignore" parameter and
"catch: param"). Each "do" is turned into an HTTP request with the API specs in api/*.json
exactly as the official clients do: the path is the one whose {parts} are all given (the most
specific), unknown parameters are client-side errors, list values are comma-joined, bulk
bodies become NDJSON. After each section it deletes everything through the server's
POST /_test/reset (the upstream runner deletes all indices and templates instead).

A section is skipped only by its own skip block (version range or a feature the runner lacks)
or by an entry of the skip list (one "file[ :: section] -- justification" per line).
Output: one line per section (PASS / FAIL with the first mismatch / SKIP with the reason),
then the totals; the last line is "N passed, N failed, N skipped".
"""

import argparse
import http.client
import json
import os
import re
import socket
import sys
from urllib.parse import quote, urlsplit, urlencode

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REF = "/work/shared/reference/opensearch-rest-tests"
FEATURES = {"headers", "warnings", "allowed_warnings", "yaml", "contains", "stash_in_path",
            "stash_in_key", "embedded_stash_key", "arbitrary_key", "default_shards",
            "catch_unauthorized", "warnings_regex", "allowed_warnings_regex"}
CATCH_STATUS = {"bad_request": 400, "unauthorized": 401, "forbidden": 403, "missing": 404,
                "request_timeout": 408, "conflict": 409, "unavailable": 503}


class Failure(Exception):
    pass


class SkipSection(Exception):
    pass


class ClientError(Exception):
    """An error the client raises before sending (catch: param)."""


# ---------------------------------------------------------------------------------------
# API specs

def load_specs(api_dir):
    specs = {}
    common = {}
    for name in sorted(os.listdir(api_dir)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(api_dir, name)) as f:
            d = json.load(f)
        if name == "_common.json":
            common = d.get("params", {})
            continue
        for api, spec in d.items():
            specs[api] = spec
    return specs, common


def build_request(api, args, specs, common):
    """(method, path with query, body bytes or None, content type) for a "do"."""
    spec = specs.get(api)
    if spec is None:
        raise ClientError("unknown api [%s]" % api)
    args = dict(args)
    body = args.pop("body", None)
    ignore = args.pop("ignore", None)
    paths = spec["url"]["paths"]
    # the most specific path whose parts are all given (and non-empty)
    best = None
    for p in paths:
        parts = list((p.get("parts") or {}).keys())
        if all(k in args and args[k] is not None and args[k] != [] for k in parts):
            if best is None or len(parts) > len(best[1]):
                best = (p, parts)
    if best is None:
        raise ClientError("required path parts missing for [%s]" % api)
    p, parts = best
    path = p["path"]
    for k in parts:
        v = args.pop(k)
        if isinstance(v, list):
            v = ",".join(_param_str(x) for x in v)
        path = path.replace("{%s}" % k, quote(_param_str(v), safe=","))
    # parts of other paths that were given but not used, with empty values, are dropped
    all_parts = set()
    for q in paths:
        all_parts.update((q.get("parts") or {}).keys())
    params = {}
    known = set(spec.get("params", {})) | set(common)
    for k, v in list(args.items()):
        if k in all_parts and (v is None or v == [] or v == ""):
            continue
        if k not in known:
            raise ClientError("request [%s] does not support parameter [%s]" % (api, k))
        if v is None:
            continue
        params[k] = v
    methods = p["methods"]
    method = methods[0]
    if body is not None and method == "GET" and "POST" in methods:
        method = "POST"
    data = None
    ctype = None
    if body is not None:
        b = spec.get("body") or {}
        if b.get("serialize") == "bulk":
            if isinstance(body, list):
                lines = [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in body]
                data = ("\n".join(lines) + "\n").encode("utf-8")
            else:
                text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
                data = (text if text.endswith("\n") else text + "\n").encode("utf-8")
            ctype = "application/x-ndjson"
        else:
            data = (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)).encode("utf-8")
            ctype = "application/json"
    qs = urlencode([(k, _param_str(v)) for k, v in params.items()])
    return method, path + ("?" + qs if qs else ""), data, ctype, ignore


def _param_str(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, list):
        return ",".join(_param_str(x) for x in v)
    return str(v)


# ---------------------------------------------------------------------------------------
# HTTP

class Http(object):
    def __init__(self, url):
        u = urlsplit(url)
        self.host = u.hostname
        self.port = u.port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, r.getheaders(), data
            except (http.client.HTTPException, ConnectionError, socket.timeout, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()


# ---------------------------------------------------------------------------------------
# stash and paths

class Stash(object):
    def __init__(self):
        self.vars = {}

    def clear(self):
        self.vars = {}

    def get(self, name):
        if name not in self.vars:
            raise Failure("stash has no value for [%s]" % name)
        return self.vars[name]

    def replace(self, v):
        if isinstance(v, str):
            if v.startswith("$") and re.match(r"^\$[A-Za-z_][A-Za-z0-9_]*$", v):
                return self.get(v[1:])
            if "${" in v:
                return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: _stash_text(self.get(m.group(1))), v)
            return v
        if isinstance(v, list):
            return [self.replace(x) for x in v]
        if isinstance(v, dict):
            return {self.replace(k): self.replace(x) for k, x in v.items()}
        return v


def _stash_text(v):
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def split_path(path, stash):
    if path in ("", None):
        return []
    parts = []
    cur = ""
    i = 0
    while i < len(path):
        c = path[i]
        if c == "\\" and i + 1 < len(path) and path[i + 1] == ".":
            cur += "."
            i += 2
            continue
        if c == ".":
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    out = []
    for p in parts:
        if p.startswith("$") and re.match(r"^\$[A-Za-z_][A-Za-z0-9_]*$", p):
            p = _stash_text(stash.get(p[1:]))
        elif "${" in p:
            p = stash.replace(p)
        out.append(p)
    return out


_MISSING = object()


def lookup(resp, path, stash):
    if path == "$body":
        return resp.get("raw_text")
    node = resp.get("body")
    for p in split_path(path, stash):
        if isinstance(node, dict):
            if p == "_arbitrary_key_":
                if not node:
                    return _MISSING
                node = next(iter(node))
                continue
            if p not in node:
                return _MISSING
            node = node[p]
        elif isinstance(node, list):
            try:
                node = node[int(p)]
            except (ValueError, IndexError):
                return _MISSING
        else:
            return _MISSING
    return node


# ---------------------------------------------------------------------------------------
# version and skip

def parse_version(s):
    nums = re.findall(r"\d+", s)
    return tuple(int(x) for x in nums[:3]) + (0,) * (3 - len(nums[:3]))


def version_skipped(rng, version):
    rng = str(rng).strip()
    if rng == "all":
        return True
    for part in rng.split(","):
        if "-" not in part:
            continue
        lo, hi = part.split("-", 1)
        lo, hi = lo.strip(), hi.strip()
        lo_v = parse_version(lo) if lo else (0, 0, 0)
        hi_v = parse_version(hi) if hi else (999, 999, 999)
        if lo_v <= version <= hi_v:
            return True
    return False


def check_skip(skip, version):
    feats = skip.get("features")
    if feats:
        feats = feats if isinstance(feats, list) else [feats]
        missing = [f for f in feats if f not in FEATURES]
        if missing:
            raise SkipSection("runner lacks feature(s) %s" % ", ".join(missing))
    if "version" in skip and version_skipped(skip["version"], version):
        raise SkipSection("version %s: %s" % (skip["version"], skip.get("reason", "")))


# ---------------------------------------------------------------------------------------
# the runner

class Runner(object):
    def __init__(self, url, specs, common, out=print, verbose=False):
        self.http = Http(url)
        self.specs = specs
        self.common = common
        self.out = out
        self.verbose = verbose
        self.stash = Stash()
        self.resp = {}
        st, _, body = self.http.request("GET", "/")
        info = json.loads(body)
        self.version = parse_version(info["version"]["number"])

    def cleanup(self):
        st, _, body = self.http.request("POST", "/_test/reset")
        if st != 200:
            raise Failure("cleanup failed: %s %s" % (st, body[:200]))

    def run_steps(self, steps):
        for step in steps or []:
            if not isinstance(step, dict) or len(step) != 1:
                raise Failure("malformed step %r" % (step,))
            (kind, arg), = step.items()
            if kind == "skip":
                continue
            fn = getattr(self, "step_" + kind, None)
            if fn is None:
                raise Failure("unsupported step [%s]" % kind)
            fn(arg)

    # -- do --------------------------------------------------------------------------------

    def step_do(self, arg):
        arg = dict(arg)
        catch = arg.pop("catch", None)
        headers = arg.pop("headers", None) or {}
        warnings = arg.pop("warnings", None)
        allowed = arg.pop("allowed_warnings", None) or []
        warnings_regex = arg.pop("warnings_regex", None)
        allowed_regex = arg.pop("allowed_warnings_regex", None) or []
        arg.pop("node_selector", None)
        if not arg:
            raise Failure("do names no api")
        if catch == "param":
            # the upstream runner sends nothing for catch: param (a client-side validation)
            self.resp = {}
            return
        # a "do" naming two apis (a YAML slip in a test): the upstream parser keeps the last
        api, params = list(arg.items())[-1]
        params = self.stash.replace(params or {})
        headers = self.stash.replace(headers)
        try:
            method, path, data, ctype, ignore = build_request(api, params, self.specs, self.common)
        except ClientError as e:
            raise Failure("client error: %s" % e)
        hdrs = {}
        if ctype:
            hdrs["Content-Type"] = ctype
        hdrs.update({k: str(v) for k, v in headers.items()})
        st, rh, raw = self.http.request(method, path, data, hdrs)
        text = raw.decode("utf-8", "replace")
        rct = ""
        warns = []
        for k, v in rh:
            if k.lower() == "content-type":
                rct = v.lower()
            if k.lower() == "warning":
                m = re.match(r'^299 \S+ "(.*)"', v)
                warns.append(m.group(1) if m else v)
        if method == "HEAD":
            body = st == 200
        elif "json" in rct and text:
            body = json.loads(text)
        elif "yaml" in rct and text:
            body = yaml.safe_load(text)
        else:
            body = text
        self.resp = {"status": st, "body": body, "raw_text": text}
        self.stash.vars["body"] = text
        if self.verbose:
            self.out("    %s %s -> %d %s" % (method, path, st, text[:300].replace("\n", " ")))
        ignores = set()
        if ignore is not None:
            for x in (ignore if isinstance(ignore, list) else [ignore]):
                ignores.add(int(x))
        # warnings
        if warnings is not None or warnings_regex is not None:
            exp = list(warnings or [])
            for w in exp:
                if w not in warns:
                    raise Failure("expected warning [%s], got %s" % (w, warns))
        else:
            unexpected = [w for w in warns if w not in allowed and not any(re.search(r, w) for r in allowed_regex)]
            if unexpected:
                raise Failure("unexpected warning(s) %s" % unexpected)
        if catch is None:
            if method == "HEAD":
                if st >= 400 and st != 404 and st not in ignores:
                    raise Failure("%s %s returned %d" % (method, path, st))
                return
            if st >= 400 and st not in ignores:
                raise Failure("%s %s returned %d: %s" % (method, path, st, text[:500]))
            return
        if st < 400:
            raise Failure("expected error [%s] but %s %s returned %d: %s" % (catch, method, path, st, text[:300]))
        if catch in CATCH_STATUS:
            if st != CATCH_STATUS[catch]:
                raise Failure("expected %d for catch [%s], got %d: %s" % (CATCH_STATUS[catch], catch, st, text[:300]))
        elif catch == "request":
            if st in CATCH_STATUS.values() and st != 400 or st < 400:
                if st in (401, 403, 404, 408, 409, 503):
                    raise Failure("catch [request] got a named status %d" % st)
        elif catch.startswith("/") and catch.endswith("/"):
            pat = catch[1:-1]
            err = body.get("error") if isinstance(body, dict) else None
            subject = json.dumps(err) if isinstance(err, (dict, list)) else (str(err) if err is not None else text)
            if not (re.search(pat, subject) or re.search(pat, text)):
                raise Failure("error does not match %s: %s" % (catch, text[:500]))
        else:
            raise Failure("unknown catch [%s]" % catch)

    # -- assertions ------------------------------------------------------------------------

    def _value(self, path):
        if path in ("$body",):
            return self.resp.get("raw_text")
        return lookup(self.resp, path, self.stash)

    def step_match(self, arg):
        for path, expected in arg.items():
            actual = self._value(path)
            expected = self.stash.replace(expected)
            if isinstance(expected, str) and len(expected.strip()) > 2 and expected.strip().startswith("/") \
                    and expected.strip().endswith("/"):
                pat = expected.strip()[1:-1]
                if not isinstance(actual, str):
                    raise Failure("match %s: expected a string for regex, got %r" % (path, _short(actual)))
                if not re.search(pat, actual, re.VERBOSE):
                    raise Failure("match %s: %r does not match /%s/" % (path, _short(actual), pat.strip()[:200]))
                continue
            if actual is _MISSING:
                if expected is None:
                    continue
                raise Failure("match %s: field missing, expected %r" % (path, _short(expected)))
            if not _equal(actual, expected):
                raise Failure("match %s: expected %r, got %r" % (path, _short(expected), _short(actual)))

    def step_length(self, arg):
        for path, n in arg.items():
            actual = self._value(path)
            n = self.stash.replace(n)
            if actual is _MISSING or actual is None:
                raise Failure("length %s: field missing" % path)
            if not isinstance(actual, (list, dict, str)):
                raise Failure("length %s: not a list, object or string: %r" % (path, _short(actual)))
            if len(actual) != int(n):
                raise Failure("length %s: expected %s, got %d" % (path, n, len(actual)))

    def step_is_true(self, path):
        v = self._value(path if path is not None else "")
        if v is _MISSING or v in (None, False, 0, "", "false"):
            raise Failure("is_true %s: got %r" % (path, _short(None if v is _MISSING else v)))

    def step_is_false(self, path):
        v = self._value(path if path is not None else "")
        if not (v is _MISSING or v in (None, False, 0, "", "false")):
            raise Failure("is_false %s: got %r" % (path, _short(v)))

    def _cmp(self, arg, op, name):
        for path, expected in arg.items():
            actual = self._value(path)
            expected = self.stash.replace(expected)
            if actual is _MISSING or actual is None:
                raise Failure("%s %s: field missing" % (name, path))
            try:
                ok = op(actual, expected)
            except TypeError:
                raise Failure("%s %s: cannot compare %r and %r" % (name, path, actual, expected))
            if not ok:
                raise Failure("%s %s: %r is not %s %r" % (name, path, actual, name, expected))

    def step_lt(self, arg):
        self._cmp(arg, lambda a, b: a < b, "lt")

    def step_gt(self, arg):
        self._cmp(arg, lambda a, b: a > b, "gt")

    def step_lte(self, arg):
        self._cmp(arg, lambda a, b: a <= b, "lte")

    def step_gte(self, arg):
        self._cmp(arg, lambda a, b: a >= b, "gte")

    def step_set(self, arg):
        for path, name in arg.items():
            v = self._value(path)
            if v is _MISSING:
                raise Failure("set %s: field missing" % path)
            self.stash.vars[name] = v

    def step_contains(self, arg):
        for path, expected in arg.items():
            actual = self._value(path)
            expected = self.stash.replace(expected)
            if not isinstance(actual, list):
                raise Failure("contains %s: not a list" % path)
            found = False
            for x in actual:
                if isinstance(expected, dict) and isinstance(x, dict):
                    if all(k in x and _equal(x[k], v) for k, v in expected.items()):
                        found = True
                elif _equal(x, expected):
                    found = True
            if not found:
                raise Failure("contains %s: %r not found" % (path, _short(expected)))

    # -- files -----------------------------------------------------------------------------

    def run_file(self, rel, full, skips):
        """Yields (section, outcome, detail) for every section of one file."""
        with open(full) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        setup = teardown = None
        sections = []
        for d in docs:
            for k, v in d.items():
                if k == "setup":
                    setup = v
                elif k == "teardown":
                    teardown = v
                else:
                    sections.append((k, v))
        for name, steps in sections:
            reason = skips.get((rel, name)) or skips.get((rel, None))
            if reason:
                yield name, "SKIP", "skip list: " + reason
                continue
            try:
                for blk in (setup or []) + (steps or [])[:1]:
                    if isinstance(blk, dict) and "skip" in blk:
                        check_skip(blk["skip"], self.version)
            except SkipSection as e:
                yield name, "SKIP", str(e)
                continue
            self.stash.clear()
            self.resp = {}
            outcome, detail = "PASS", ""
            try:
                self.cleanup()
                try:
                    self.run_steps(setup)
                except Failure as e:
                    raise Failure("setup: %s" % e)
                self.stash.clear()
                self.run_steps(steps)
            except Failure as e:
                outcome, detail = "FAIL", str(e)
            except Exception as e:     # a runner or transport problem still fails the section
                outcome, detail = "FAIL", "%s: %s" % (type(e).__name__, e)
            try:
                self.run_steps(teardown)
            except Exception as e:
                if outcome == "PASS":
                    outcome, detail = "FAIL", "teardown: %s" % e
            try:
                self.cleanup()
            except Exception:
                pass
            yield name, outcome, detail


def _short(v):
    s = repr(v)
    return v if len(s) < 300 else s[:300] + "..."


def _equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (a == b and type(a) is type(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a == b and type(a) is type(b)


def load_skips(path, flavour=None):
    """skips.txt: "[@flavour,flavour ]file.yml[ :: section] -- justification" lines; # comments.
    An entry tagged @es7,es8 applies only when running against those flavours."""
    skips = {}
    if not path or not os.path.exists(path):
        return skips
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if " -- " not in line:
                raise ValueError("%s:%d: missing ' -- justification'" % (path, n))
            target, reason = line.split(" -- ", 1)
            if not reason.strip():
                raise ValueError("%s:%d: empty justification" % (path, n))
            target = target.strip()
            if target.startswith("@"):
                tags, target = target.split(None, 1)
                if flavour not in tags[1:].split(","):
                    continue
            if " :: " in target:
                f_, s_ = target.split(" :: ", 1)
                skips[(f_.strip(), s_.strip())] = reason.strip()
            else:
                skips[(target.strip(), None)] = reason.strip()
    return skips


def test_files(test_dir, only=None):
    out = []
    for root, _, files in os.walk(test_dir):
        for fn in files:
            if fn.endswith(".yml") or fn.endswith(".yaml"):
                full = os.path.join(root, fn)
                rel = os.path.relpath(full, test_dir)
                if only and not any(o in rel for o in only):
                    continue
                out.append((rel, full))
    return sorted(out)


def run(url, test_dir=None, api_dir=None, skips_path=None, only=None, out=print, verbose=False,
        extra_skips=None, flavour=None):
    """Runs the suite; returns (passed, failed, skipped, results). flavour selects the
    @flavour-tagged entries of the skip list."""
    test_dir = test_dir or os.path.join(REF, "test")
    api_dir = api_dir or os.path.join(REF, "api")
    specs, common = load_specs(api_dir)
    skips = load_skips(skips_path if skips_path is not None else os.path.join(HERE, "skips.txt"), flavour)
    if extra_skips:
        skips.update(extra_skips)
    r = Runner(url, specs, common, out, verbose)
    passed = failed = skipped = 0
    results = []
    try:
        for rel, full in test_files(test_dir, only):
            for name, outcome, detail in r.run_file(rel, full, skips):
                results.append((rel, name, outcome, detail))
                line = "%s %s :: %s" % (outcome, rel, name)
                if detail:
                    line += ": " + detail.replace("\n", " ")[:400]
                out(line)
                if outcome == "PASS":
                    passed += 1
                elif outcome == "FAIL":
                    failed += 1
                else:
                    skipped += 1
    finally:
        r.http.close()
    used = set(k for k in skips)
    unused = [k for k in used if not any((rel == k[0] and (k[1] is None or k[1] == name))
                                         for rel, name, _, _ in results)]
    for k in unused:
        if not only:
            out("NOTE skip list entry matches nothing: %s%s" % (k[0], " :: " + k[1] if k[1] else ""))
    return passed, failed, skipped, results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--url", required=True)
    ap.add_argument("--tests", default=os.path.join(REF, "test"))
    ap.add_argument("--api", default=os.path.join(REF, "api"))
    ap.add_argument("--skips", default=os.path.join(HERE, "skips.txt"))
    ap.add_argument("--only", action="append")
    ap.add_argument("--flavour", help="selects @flavour entries of the skip list (es7, es8, es9, opensearch)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    p, f, s, _ = run(a.url, a.tests, a.api, a.skips, a.only, verbose=a.verbose, flavour=a.flavour)
    print("%d passed, %d failed, %d skipped" % (p, f, s))
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
