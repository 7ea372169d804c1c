#!/usr/bin/env python3
"""The environment guard, the audit log, the old system's interface, and the
headless output of `ddb2es sync`.

Guard (exit 3, a message saying why, nothing written to the cluster, one
audit line with outcome "refused"):
  - an event whose indexNodeHost belongs to no environment;
  - an event whose indexNodeHost belongs to another environment (--env local);
  - a table in another AWS account (the environment's account_id differs from
    the one in DynamoDB Local's TableArn, arn:aws:dynamodb:ddblocal:000000000000:...);
  - a protected environment without --confirm, and with a wrong --confirm;
  and the right --confirm runs (outcome "done").
Compatibility: `sync --event FILE`, `--event -` (stdin), and
DYNAMODB_TABLE / ELASTICSEARCH_HOST / ELASTICSEARCH_INDEX with no flags at
all; the environment is the one owning the host, the entity follows from the
table name (Persons, TenureInformation, Assets), the index equals the table.
Headless: --progress json lines on stderr parse as JSON; the summary JSON has
scanned/indexed/failed/seconds/peak_rss_kb; exit codes 0, 1, 2, 3 and 130;
one audit line per run with the user, time, environment, table, index,
entity, mode, counts and outcome.
"""

import getpass
import json
import os
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ddblocal  # noqa: E402
import oracle  # noqa: E402
import seed  # noqa: E402
from harness import Services, Suite, check, check_eq, info  # noqa: E402
from synctest import (BgSync, check_exit, check_index_equals, create_index, es_stats,  # noqa: E402
                      prepare_services, read_json_lines, reset_es, run_sync, seed_table,
                      set_faults, sync_args, tail, write_requests)

N = 300
suite = Suite()
state = {}
ACCOUNT = "000000000000"  # the account DynamoDB Local puts in every TableArn


def setup(s):
    """Tables, and a config with several environments and an audit log."""
    if "items" in state:
        return state
    prepare_services(s)
    state["items"] = {
        "Persons": seed_table(s, "Persons", seed.persons(N, seed=101)),
        "TenureInformation": seed_table(s, "TenureInformation", seed.tenures(200, seed=102)),
        "Assets": seed_table(s, "Assets", seed.assets(200, seed=103)),
    }
    port = urllib.parse.urlsplit(s.es_url).port
    ddb = {"endpoint": s.ddb_endpoint}
    state["other_url"] = "http://127.0.0.1:9"  # nothing listens; never contacted
    state["audit"] = s.path("audit.jsonl")
    cfg = {"environments": {
        "local": {"region": "eu-west-2", "account_id": ACCOUNT, "dynamodb": ddb,
                  "elasticsearch": {"url": s.es_url}},
        "other": {"region": "eu-west-2", "dynamodb": ddb,
                  "elasticsearch": {"url": state["other_url"]}},
        # same DynamoDB Local, but the environment says its tables are in another account
        "elsewhere": {"region": "eu-west-2", "account_id": "123456789012", "dynamodb": ddb,
                      "elasticsearch": {"url": "http://localhost:%d" % port}},
        # the same test server under a third spelling of its address, protected
        "prod": {"region": "eu-west-2", "account_id": ACCOUNT, "protected": True, "dynamodb": ddb,
                 "elasticsearch": {"url": "http://127.1:%d" % port}},
        "deades": {"region": "eu-west-2", "dynamodb": ddb,
                   "elasticsearch": {"url": "http://127.0.0.1:%d" % ddblocal.free_port()}},
    }, "audit_log": state["audit"]}
    state["config"] = s.write_config(cfg, "guard-config.json")
    return state


def audit_lines():
    return read_json_lines(state["audit"])


def run_audited(s, args, **kw):
    """Runs ddb2es; returns (rc, out, err, summary, the audit lines it added)."""
    before = len(audit_lines())
    rc, out, err, doc = run_sync(s, args, **kw)
    return rc, out, err, doc, audit_lines()[before:]


def check_one_audit(added, outcome, env, table, index, what):
    check_eq(len(added), 1, "%s: audit lines added" % what)
    a = added[0]
    for k, want in (("outcome", outcome), ("environment", env), ("table", table), ("index", index),
                    ("command", "sync")):
        check_eq(a.get(k), want, "%s: audit %s" % (what, k))
    check(a.get("user") == getpass.getuser(), "%s: audit user %r" % (what, a.get("user")))
    check(isinstance(a.get("time"), str) and a["time"].startswith(time.strftime("%Y", time.gmtime())),
          "%s: audit time %r" % (what, a.get("time")))
    return a


def write_event(s, name, table, host, index):
    path = s.path(name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"dynamoTable": table, "indexNodeHost": host, "indexName": index}, f)
    return path


# -- refusals ---------------------------------------------------------------------------


def refused(s, args, env_name, table, index, why, env_extra=None, input=None):
    """A refused run: exit 3, the reason on stderr, no write to the cluster, one audit line."""
    s.es.post("/_test/stats/reset")
    rc, out, err, doc, added = run_audited(s, args, env_extra=env_extra, input=input)
    writes = write_requests(es_stats(s))
    info("refused (%s): exit %d: %s" % (why, rc, (err.strip().splitlines() or [""])[-1][:200]))
    check_exit(rc, 3, err, "%s: exit code" % why)
    check("refused" in err.lower(), "%s: stderr says it refused: %s" % (why, tail(err, 400)))
    check_eq(writes, 0, "%s: requests that write to the cluster (%s)"
             % (why, es_stats(s)["by_route"]))
    check(not s.es.exists(index), "%s: the index %s was created" % (why, index))
    check_one_audit(added, "refused", env_name, table, index, why)
    return err


@suite.test
def refused_event_host_of_no_environment(s):
    st = setup(s)
    ev = write_event(s, "event-nohost.json", "Persons", "http://127.0.0.1:1", "persons_nohost")
    err = refused(s, ["sync", "--config", st["config"], "--event", ev], None, "Persons",
                  "persons_nohost", "no environment owns the host")
    check("127.0.0.1:1" in err, "the message names the host: %s" % tail(err, 300))


@suite.test
def refused_env_vars_host_of_no_environment(s):
    st = setup(s)
    refused(s, ["sync"], None, "Persons", "persons_nohost_env", "env vars, no environment owns the host",
            env_extra={"DYNAMODB_TABLE": "Persons", "ELASTICSEARCH_HOST": "http://127.0.0.1:1",
                       "ELASTICSEARCH_INDEX": "persons_nohost_env", "DDB2ES_CONFIG": st["config"]})


@suite.test
def refused_event_host_of_another_environment(s):
    st = setup(s)
    ev = write_event(s, "event-other.json", "Persons", st["other_url"], "persons_other")
    err = refused(s, ["sync", "--config", st["config"], "--env", "local", "--event", ev], "local",
                  "Persons", "persons_other", "another environment's host")
    check(st["other_url"] in err, "the message names the host: %s" % tail(err, 300))


@suite.test
def refused_table_in_another_account(s):
    st = setup(s)
    err = refused(s, sync_args(s, "Persons", "persons_acct", env="elsewhere", config=st["config"]),
                  "elsewhere", "Persons", "persons_acct", "table in another account")
    check("123456789012" in err and ACCOUNT in err, "the message names both accounts: %s" % tail(err, 300))


@suite.test
def refused_protected_without_confirm(s):
    st = setup(s)
    err = refused(s, sync_args(s, "Persons", "persons_prod", env="prod", config=st["config"]),
                  "prod", "Persons", "persons_prod", "protected, no --confirm")
    check("--confirm" in err, "the message says how to confirm: %s" % tail(err, 300))


@suite.test
def refused_protected_with_wrong_confirm(s):
    st = setup(s)
    refused(s, sync_args(s, "Persons", "persons_prod", "--confirm", "local", env="prod",
                         config=st["config"]),
            "prod", "Persons", "persons_prod", "protected, wrong --confirm")


@suite.test
def protected_with_the_right_confirm_runs(s):
    st = setup(s)
    reset_es(s)
    rc, out, err, doc, added = run_audited(
        s, sync_args(s, "Persons", "persons_prod", "--confirm", "prod", env="prod",
                     config=st["config"], summary=s.path("summary-prod.json")))
    check_exit(rc, 0, err)
    a = check_one_audit(added, "done", "prod", "Persons", "persons_prod", "confirmed run")
    for k in ("scanned", "indexed", "failed"):
        check_eq(a.get(k), doc[k], "audit %s" % k)
    check_eq(a.get("entity"), "persons", "audit entity")
    check_eq(a.get("mode"), "in-place", "audit mode")
    check_index_equals(s, "persons_prod", st["items"]["Persons"])


# -- the old system's interface -------------------------------------------------------------


def legacy_run(s, table, index, args, mapper, env_extra=None, input=None, what=""):
    st = setup(s)
    reset_es(s)
    rc, out, err, doc, added = run_audited(s, args, env_extra=env_extra, input=input)
    check_exit(rc, 0, err, "%s: exit code" % what)
    a = check_one_audit(added, "done", "local", table, index, what)
    check_eq(a.get("entity"), mapper.__name__, "%s: entity (from the table name)" % what)
    check_index_equals(s, index, st["items"][table], mapper=mapper, what=what)


@suite.test
def event_file(s):
    st = setup(s)
    ev = write_event(s, "event.json", "Persons", s.es_url, "persons_evt")
    legacy_run(s, "Persons", "persons_evt", ["sync", "--config", st["config"], "--event", ev],
               oracle.persons, what="--event FILE")


@suite.test
def event_on_stdin(s):
    st = setup(s)
    body = json.dumps({"dynamoTable": "TenureInformation", "indexNodeHost": s.es_url,
                       "indexName": "tenures_evt"})
    legacy_run(s, "TenureInformation", "tenures_evt", ["sync", "--config", st["config"], "--event", "-"],
               oracle.tenures, input=body, what="--event -")


@suite.test
def environment_variables_without_flags(s):
    st = setup(s)
    legacy_run(s, "Assets", "assets_env", ["sync"], oracle.assets,
               env_extra={"DYNAMODB_TABLE": "Assets", "ELASTICSEARCH_HOST": s.es_url,
                          "ELASTICSEARCH_INDEX": "assets_env", "DDB2ES_CONFIG": st["config"]},
               what="DYNAMODB_TABLE/ELASTICSEARCH_HOST/ELASTICSEARCH_INDEX")


@suite.test
def event_and_flags_together_is_a_usage_error(s):
    st = setup(s)
    ev = write_event(s, "event2.json", "Persons", s.es_url, "persons_evt")
    rc, out, err, doc = run_sync(s, ["sync", "--config", st["config"], "--event", ev, "--table",
                                     "Persons", "--index", "persons_x"])
    check_exit(rc, 2, err)


# -- headless output ------------------------------------------------------------------------


@suite.test
def progress_json_and_summary(s):
    st = setup(s)
    reset_es(s)
    # about 2 s, so that several progress lines are printed
    set_faults(s, {"latency_ms": {"ms": 150, "paths": ["/_bulk"]}})
    summary = s.path("summary-headless.json")
    rc, out, err, doc = run_sync(s, sync_args(s, "Persons", "persons", "--bulk-docs", 25,
                                              "--concurrency", 1, "--progress", "json",
                                              config=st["config"], summary=summary))
    s.es.delete("/_test/faults")
    check_exit(rc, 0, err)
    progress = []
    for line in err.splitlines():
        if line.startswith("{"):
            try:
                progress.append(json.loads(line))
            except ValueError as e:
                check(False, "a --progress json line is not JSON (%s): %r" % (e, line[:200]))
    others = [l for l in err.splitlines() if l.strip() and not l.startswith("{")]
    info("%d progress lines over %.1f s; other stderr lines: %s" % (len(progress), doc["seconds"], others))
    check(len(progress) >= 2, "%d progress lines in a %.1f s run" % (len(progress), doc["seconds"]))
    for p in progress:
        for k in ("state", "scanned", "indexed", "failed", "docs_per_sec", "seconds"):
            check(k in p, "progress line without %s: %s" % (k, json.dumps(p)[:300]))
    last = progress[-1]
    check_eq(last["state"], "done", "state of the last progress line")
    check_eq(last["indexed"], N, "indexed in the last progress line")
    for k, t in (("scanned", int), ("indexed", int), ("failed", int), ("peak_rss_kb", int),
                 ("seconds", (int, float))):
        check(isinstance(doc.get(k), t) and not isinstance(doc.get(k), bool),
              "summary %s is %r" % (k, doc.get(k)))
    check_eq((doc["scanned"], doc["indexed"], doc["failed"]), (N, N, 0), "summary counts")
    check(doc["peak_rss_kb"] > 0, "peak_rss_kb %r" % doc["peak_rss_kb"])
    check(0 < doc["seconds"] < 120, "seconds %r" % doc["seconds"])
    check(doc["state"] == "done", "summary state %r" % doc.get("state"))
    check_index_equals(s, "persons", st["items"]["Persons"])


@suite.test
def summary_peak_rss_is_the_process_own(s):
    # Started by a process holding 600 MB, a 300-item sync must still report
    # its own peak (getrusage's ru_maxrss carries the parent's over exec).
    st = setup(s)
    reset_es(s)
    summary = s.path("summary-rss.json")
    ballast = b"\x01" * (600 << 20)
    run = BgSync(s, sync_args(s, "Persons", "persons", "--bulk-docs", 50, config=st["config"],
                              summary=summary), sample_rss=True)
    del ballast
    try:
        rc, out, err = run.wait(120)
    finally:
        run.stop()
    check_exit(rc, 0, err)
    doc = json.load(open(summary, encoding="utf-8"))
    sampled = max([kb for t, kb in run.rss] or [0])
    info("peak_rss_kb %d; RSS sampled up to %d kB" % (doc["peak_rss_kb"], sampled))
    check(0 < doc["peak_rss_kb"] < 400 * 1024,
          "summary peak_rss_kb %d kB for a %d-item sync (the parent held 600 MB when it started "
          "ddb2es; sampled RSS at most %d kB)" % (doc["peak_rss_kb"], N, sampled))


@suite.test
def exit_codes(s):
    st = setup(s)
    codes = {}
    reset_es(s)
    # 0: all indexed
    rc, out, err, doc, added = run_audited(s, sync_args(s, "Persons", "persons", config=st["config"]))
    check_exit(rc, 0, err, "a clean run")
    codes[0] = "all indexed"
    check_one_audit(added, "done", "local", "Persons", "persons", "clean run")
    # 1: some documents refused by the index (placeOfBirth mapped as a date)
    reset_es(s)
    create_index(s, "persons", mappings={"placeOfBirth": {"type": "date"}})
    dl = s.path("exit1-dead-letter.ndjson")
    rc, out, err, doc, added = run_audited(s, sync_args(s, "Persons", "persons", "--dead-letter", dl,
                                                        config=st["config"],
                                                        summary=s.path("summary-exit1.json")))
    check_exit(rc, 1, err, "a run with refused documents")
    check(doc["failed"] > 0, "summary failed %r" % doc["failed"])
    check_one_audit(added, "some-failed", "local", "Persons", "persons", "run with failures")
    codes[1] = "%d documents failed" % doc["failed"]
    # 2: usage, configuration, connection
    for args, what in ((["sync", "--no-such-flag"], "unknown flag"),
                       (["sync", "--env", "local", "--table", "Persons"], "no --index"),
                       (sync_args(s, "Persons", "persons", env="nosuchenv", config=st["config"]),
                        "unknown environment"),
                       (sync_args(s, "Persons", "persons", "--max-attempts", 1, env="deades",
                                  config=st["config"]), "Elasticsearch unreachable"),
                       (sync_args(s, "NoSuchTable", "persons", "--entity", "persons", "--max-attempts",
                                  1, config=st["config"]), "no such table")):
        rc, out, err, doc = run_sync(s, args, timeout=120)
        check_exit(rc, 2, err, what)
    # 2 also for a run that starts and then fails (the index refuses every bulk)
    reset_es(s)
    set_faults(s, {"request_reject": {"every": 1, "status": 503, "paths": ["/_bulk"]}})
    rc, out, err, doc, added = run_audited(s, sync_args(s, "Persons", "persons", "--max-attempts", 2,
                                                        config=st["config"]))
    s.es.delete("/_test/faults")
    check_exit(rc, 2, err, "a run the index refuses")
    a = check_one_audit(added, "failed", "local", "Persons", "persons", "failed run")
    check("503" in (a.get("reason") or ""), "audit reason of the failed run: %r" % a.get("reason"))
    codes[2] = "usage, config, connection, failed run"
    # 3: refused by the guard
    rc, out, err, doc = run_sync(s, sync_args(s, "Persons", "persons", env="prod", config=st["config"]))
    check_exit(rc, 3, err, "protected environment without --confirm")
    codes[3] = "guard"
    # 130: SIGINT
    reset_es(s)
    set_faults(s, {"latency_ms": {"ms": 200, "paths": ["/_bulk"]}})
    before = len(audit_lines())
    run = BgSync(s, sync_args(s, "Persons", "persons", "--bulk-docs", 20, "--concurrency", 1,
                              config=st["config"]))
    try:
        run.wait_until(lambda: es_stats(s)["bulk_requests"] >= 1, timeout=60, what="a bulk")
        run.signal(signal.SIGINT)
        rc, out, err = run.wait(60)
    finally:
        run.stop()
    s.es.delete("/_test/faults")
    check_exit(rc, 130, err, "SIGINT")
    check_one_audit(audit_lines()[before:], "cancelled", "local", "Persons", "persons", "cancelled run")
    codes[130] = "cancelled"
    info("exit codes seen: %s" % codes)


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
