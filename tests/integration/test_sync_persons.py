#!/usr/bin/env python3
"""Walking skeleton, end to end: DynamoDB Local `Persons` -> ddb2es sync ->
the Elasticsearch test server's `persons` index.

1,000 realistic items (tests/lib/seed.py, awkward ones included) are synced
and every indexed document must equal the independent oracle
(tests/lib/oracle.py persons(), computed from the items as DynamoDB returns
them). Also the command line's failure modes: a bad flag (exit 2 and a
usage message), --help and --version (exit 0), an unknown environment (exit
2, naming the config file), and an unreachable DynamoDB (an error naming its
host).
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import aws  # noqa: E402
import ddblocal  # noqa: E402
import oracle  # noqa: E402
import seed  # noqa: E402
from harness import (REPO, Services, Suite, check, check_eq, info, json_diff, make_config, tail,  # noqa: E402
                     run_ddb2es)

N_ITEMS = 1000
TABLE, INDEX = "Persons", "persons"
suite = Suite()


def person_index_body():
    """The Hackney persons index definition (mappings + settings)."""
    path = os.path.join(aws.shared_dir(), "reference", "hackney", "es-index", "personIndex.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def makefile_version():
    with open(os.path.join(REPO, "Makefile"), encoding="utf-8") as f:
        m = re.search(r"^VERSION\s*:?=\s*(\S+)", f.read(), re.M)
    return m.group(1) if m else None



# -- the command line without services ------------------------------------------


@suite.test
def help_exits_0():
    rc, out, err = run_ddb2es(["--help"], timeout=30)
    check_eq(rc, 0, "exit code of --help (stderr: %s)" % tail(err, 300))
    check("usage" in out.lower(), "--help prints a usage on stdout: %r" % out[:300])
    check("sync" in out, "--help names the sync command: %r" % out[:300])


@suite.test
def version_exits_0():
    rc, out, err = run_ddb2es(["--version"], timeout=30)
    check_eq(rc, 0, "exit code of --version (stderr: %s)" % tail(err, 300))
    want = makefile_version()
    check(want is not None, "VERSION not found in the Makefile")
    check(want in out, "--version prints %s: %r" % (want, out[:200]))


@suite.test
def bad_flag_exits_2_with_usage():
    for args in (["--no-such-flag"], ["sync", "--no-such-flag"]):
        rc, out, err = run_ddb2es(args, timeout=30)
        check_eq(rc, 2, "exit code of %s (a negative code is a signal; stderr: %s)"
                 % (" ".join(args), tail(err, 300)))
        check("usage" in err.lower(), "%s: usage message on stderr: %r" % (" ".join(args), err[:300]))
        check("--no-such-flag" in err, "%s: the message names the flag: %r"
              % (" ".join(args), err[:300]))


# -- with DynamoDB Local and the ES test server ---------------------------------


@suite.test
def sync_1000_persons(s):
    s.ddb.create_table(TABLE)
    written = seed.persons(N_ITEMS, seed=1)
    s.ddb.batch_write(TABLE, written)
    # The oracle works on the items as DynamoDB returns them (canonical
    # numbers, set order): that is what ddb2es reads.
    back = {it["id"]["S"]: it for it in s.ddb.scan_all(TABLE, limit=500)}
    check_eq(len(back), N_ITEMS, "items in DynamoDB")
    # Production indices exist before a re-sync: create it as Hackney does.
    s.es.put("/" + INDEX, person_index_body())

    summary_path = s.path("summary.json")
    t0 = time.monotonic()
    rc, out, err = s.run_ddb2es(["sync", "--env", "local", "--table", TABLE, "--index", INDEX,
                                 "--config", s.config_path, "--summary-json", summary_path],
                                timeout=600)
    took = time.monotonic() - t0
    info("ddb2es sync of %d Persons: exit %d in %.2f s" % (N_ITEMS, rc, took))
    check_eq(rc, 0, "exit code (stderr: %s)" % tail(err))
    check(aws.DUMMY_SECRET_KEY not in out + err, "the secret key appears in the output")

    check(os.path.exists(summary_path), "no summary file at %s" % summary_path)
    with open(summary_path, encoding="utf-8") as f:
        text = f.read()
    check(aws.DUMMY_SECRET_KEY not in text, "the secret key appears in the summary")
    summary = json.loads(text)
    info("summary: %s" % json.dumps(summary)[:400])
    for key, want in (("scanned", N_ITEMS), ("indexed", N_ITEMS), ("failed", 0)):
        check(key in summary, "summary has no %r: %s" % (key, text[:300]))
        check(type(summary[key]) is int, "summary %s is not an integer: %r" % (key, summary[key]))
        check_eq(summary[key], want, "summary " + key)
    secs = summary.get("seconds")
    check(isinstance(secs, (int, float)) and not isinstance(secs, bool) and 0 <= secs <= took + 1,
          "summary seconds %r (the run took %.2f s)" % (secs, took))

    s.es.refresh(INDEX)
    docs = s.es.all_docs(INDEX)
    check_eq(s.es.count(INDEX), N_ITEMS, "_count")
    extra = sorted(set(docs) - set(back))
    missing = sorted(set(back) - set(docs))
    check(not extra and not missing, "ids: %d unexpected (e.g. %s), %d missing (e.g. %s)"
          % (len(extra), extra[:3], len(missing), missing[:3]))
    bad = []
    for _id in sorted(back):
        diff = json_diff(docs[_id], oracle.persons(back[_id]))
        if diff:
            bad.append((_id, diff))
    if bad:
        lines = ["%d of %d documents differ from the oracle; first ones:" % (len(bad), N_ITEMS)]
        for _id, diff in bad[:5]:
            lines.append("  id %s:" % _id)
            lines += ["    " + d for d in diff]
        check(False, "\n".join(lines))


@suite.test
def unknown_environment_exits_2_naming_the_config(s):
    rc, out, err = s.run_ddb2es(["sync", "--env", "nosuchenv", "--table", TABLE, "--index", INDEX,
                                 "--config", s.config_path], timeout=60)
    check_eq(rc, 2, "exit code (stderr: %s)" % tail(err, 400))
    check(s.config_path in err, "the message names the config file %s: %r"
          % (s.config_path, err[:400]))
    check("nosuchenv" in err, "the message names the environment: %r" % err[:400])


@suite.test
def dynamodb_unreachable_names_the_host(s):
    # 127.0.0.2 is loopback too (nothing listens there on that port), and
    # differs from the ES URL's host, so the message must name DynamoDB's.
    port = ddblocal.free_port()
    cfg = s.write_config(make_config("http://127.0.0.2:%d" % port, s.es_url),
                         "unreachable.json")
    t0 = time.monotonic()
    rc, out, err = s.run_ddb2es(["sync", "--env", "local", "--table", TABLE, "--index", INDEX,
                                 "--config", cfg], timeout=300)
    took = time.monotonic() - t0
    info("unreachable DynamoDB: exit %d after %.1f s; stderr: %s"
         % (rc, took, err.strip().splitlines()[-1:] if err.strip() else "(empty)"))
    check(rc > 0, "exit code %d: want a failure, not success or a signal" % rc)
    check("127.0.0.2" in err, "the error names the DynamoDB host 127.0.0.2: %r" % tail(err, 400))


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
