#!/usr/bin/python3
"""Conformance of the test server with the official OpenSearch REST YAML tests.

Runs tests/esserver/yaml_runner.py against a fresh server of each flavour:
  - opensearch, claiming version 3.6.0 (the version the tests come from, so their own
    version-range skips do not hide anything): the whole suite;
  - es7, es8, es9: the same suite, minus the @-tagged entries of skips.txt (OpenSearch-only
    APIs and wording, Elasticsearch 8 defaults). The suite is OpenSearch's, but except for
    those it checks plain REST behaviour that Elasticsearch shares.
First it checks the runner itself on a small suite whose failing sections must be reported
as failures (a runner that passes everything would prove nothing).
Every YAML section is one test; the last line is "N passed, N failed".
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml_runner  # noqa: E402
from server import EsTestServer  # noqa: E402

SELF_CHECK = """\
---
"passes":
  - do:
      index: {index: t, id: "1", refresh: true, body: {a: 1}}
  - match: {result: created}
  - do:
      count: {index: t}
  - match: {count: 1}
---
"must fail: wrong value":
  - do:
      index: {index: t, id: "1", body: {a: 1}}
  - match: {_version: 7}
---
"must fail: no error although catch":
  - do:
      catch: missing
      indices.create: {index: t}
---
"must fail: wrong length":
  - do:
      index: {index: t, id: "1", refresh: true, body: {a: 1}}
  - do:
      search: {index: t}
  - length: {hits.hits: 2}
---
"must fail: regex does not match":
  - do:
      catch: /no_such_type_of_error/
      get: {index: t, id: "1"}
---
"must fail: unexpected error status":
  - do:
      get: {index: missing_index, id: "1"}
"""


def self_check(out):
    """Returns (passed, failed) for the runner's own check."""
    tmp = tempfile.mkdtemp(prefix="esserver-selfcheck-")
    passed = failed = 0
    try:
        os.makedirs(os.path.join(tmp, "self"))
        with open(os.path.join(tmp, "self", "10_self.yml"), "w") as f:
            f.write(SELF_CHECK)
        srv = EsTestServer("opensearch").start()
        try:
            lines = []
            p, fl, s, results = yaml_runner.run(srv.url, test_dir=tmp, skips_path="", out=lines.append)
        finally:
            srv.stop()
        for rel, name, outcome, detail in results:
            want = "FAIL" if name.startswith("must fail") else "PASS"
            if outcome == want:
                passed += 1
                out("ok   runner self-check: %s -> %s" % (name, outcome))
            else:
                failed += 1
                out("FAIL runner self-check: %s -> %s (wanted %s) %s" % (name, outcome, want, detail))
        if len(results) != 6:
            failed += 1
            out("FAIL runner self-check: expected 6 sections, got %d" % len(results))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return passed, failed


def main():
    total_p = total_f = 0
    p, f = self_check(print)
    total_p += p
    total_f += f
    plan = [("opensearch", "3.6.0"), ("es7", None), ("es8", None), ("es9", None)]
    summary = []
    for flavour, version in plan:
        srv = EsTestServer(flavour, version_number=version).start()
        try:
            def out(line, fl=flavour):
                print("[%s] %s" % (fl, line))
            p, f, s, _ = yaml_runner.run(srv.url, out=out, flavour=flavour)
        finally:
            srv.stop()
        summary.append("%s: %d passed, %d failed, %d skipped" % (flavour, p, f, s))
        total_p += p
        total_f += f
    print()
    for line in summary:
        print(line)
    print("%d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
