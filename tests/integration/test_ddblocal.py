#!/usr/bin/env python3
"""DynamoDB Local and the test harness: the facts ddb2es relies on.

- start/stop (also on an exception, at exit, and when the test process is
  killed) leaves no java process behind;
- the three Hackney tables are created from the shared tables.json;
- the seed generators' items are accepted and read back unchanged (modulo
  DynamoDB's number normalisation and set order);
- Scan with Limit paginates; a parallel scan with Segment/TotalSegments
  (1, 3, 4, 7 segments) returns every item exactly once;
- BatchGetItem takes 100 keys (and refuses 101); ReturnConsumedCapacity.
Measured and printed as '# ...' lines: start-up time, seeding rate, scan rate
with Limit = 1 MB / average item size versus without Limit.
"""

import decimal
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import aws  # noqa: E402
import ddblocal  # noqa: E402
import seed  # noqa: E402
from harness import Services, Suite, check, check_eq, info  # noqa: E402

suite = Suite()
state = {}
LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib")
# Full-size measurements only on request (make bench sets DDB2ES_MEASURE=1): in
# make test the same checks run on a smaller table to keep the suite fast.
MEASURE = bool(os.environ.get("DDB2ES_MEASURE"))
BENCH_ITEMS = 20000 if MEASURE else 4000
NO_LIMIT_ITEMS = 5000 if MEASURE else 2000  # without Limit DynamoDB Local is slow: measure on fewer


def java_processes_on_port(port):
    """pids of DynamoDB Local JVMs started with -port PORT (from /proc)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"DynamoDBLocal.jar") for a in argv) and b"-port" in argv:
            i = argv.index(b"-port")
            if i + 1 < len(argv) and argv[i + 1] == str(port).encode() and \
                    ddblocal.pid_exists(int(d)):
                pids.append(int(d))
    return pids


def wait_gone(pid, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not ddblocal.pid_exists(pid):
            return True
        time.sleep(0.05)
    return False


def ids(items):
    return [it["id"]["S"] for it in items]


def normalise(av):
    """An attribute value as DynamoDB returns it: canonical numbers, sets as sets."""
    (t, v), = av.items()
    if t == "N":
        d = decimal.Decimal(v)
        return {"N": format(d.normalize(), "f") if d != d.to_integral() else str(int(d))}
    if t in ("SS", "NS"):
        return {t: frozenset(v)}
    if t == "L":
        return {"L": [normalise(x) for x in v]}
    if t == "M":
        return {"M": {k: normalise(x) for k, x in v.items()}}
    return av


def normalise_item(item):
    return {k: normalise(v) for k, v in item.items()}


# -- process lifecycle (own instances, before the shared one) -------------------


@suite.test
def jar_glob_picks_newest_dated_folder():
    with tempfile.TemporaryDirectory() as pkg:
        for name in ("dynamodb_local_2023-01-02", "dynamodb_local_2025-12-31",
                     "dynamodb_local_2024-06-01", "dynamodb_local_latest"):
            os.makedirs(os.path.join(pkg, "lib", name))
            open(os.path.join(pkg, "lib", name, "DynamoDBLocal.jar"), "w").close()
        got = ddblocal.find_jar(pkg)
        check_eq(os.path.basename(os.path.dirname(got)), "dynamodb_local_2025-12-31", "newest")
        try:
            ddblocal.find_jar(os.path.join(pkg, "nothing"))
            check(False, "find_jar on an empty folder did not raise")
        except ddblocal.DynamoDBLocalError as e:
            check("setup.sh" in str(e), "message should say how to install: %s" % e)
    real = ddblocal.find_jar()
    check(os.path.isfile(real), "installed jar %s" % real)
    info("DynamoDB Local jar: %s" % os.path.relpath(real, aws.repo_root()))


@suite.test
def start_stop_leaves_no_java():
    d = ddblocal.DynamoDBLocal()
    with d:
        pid, port = d.pid, d.port
        check(d.alive(), "running after start")
        check_eq(java_processes_on_port(port), [pid], "JVMs on port %d" % port)
        check_eq(d.client.list_tables(), [], "tables of a fresh in-memory instance")
        state["startup"] = [d.startup_seconds]
    check(d.proc is None, "proc cleared")
    check(wait_gone(pid, 1), "pid %d still exists after stop" % pid)
    check(not ddblocal.group_exists(pid), "process group %d still exists" % pid)
    check_eq(java_processes_on_port(port), [], "JVMs left on port %d" % port)
    d.stop()  # idempotent


@suite.test
def stopped_when_the_with_block_raises():
    pid = None
    try:
        with ddblocal.DynamoDBLocal() as d:
            pid = d.pid
            state["startup"].append(d.startup_seconds)
            raise RuntimeError("a failing test")
    except RuntimeError:
        pass
    check(pid is not None, "started")
    check(wait_gone(pid, 1), "pid %d survived an exception in the with block" % pid)


def _child_starts_ddblocal(mode):
    code = ("import os, signal, sys; sys.path.insert(0, %r); import ddblocal\n"
            "d = ddblocal.DynamoDBLocal().start()\n"
            "print(d.pid, d._logdir, flush=True)\n"
            "if %r == 'kill': os.kill(os.getpid(), signal.SIGKILL)\n"
            "raise RuntimeError('uncaught: atexit must stop DynamoDB Local')\n" % (LIB, mode))
    p = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    out = p.stdout.decode().split()
    check(len(out) == 2 and out[0].isdigit(),
          "child printed no pid; stderr: %s" % p.stderr.decode()[-800:])
    return int(out[0]), p.returncode, out[1]


@suite.test
def atexit_stops_it_after_an_uncaught_exception():
    pid, rc, logdir = _child_starts_ddblocal("raise")
    check(rc != 0, "child should fail")
    check(not os.path.exists(logdir), "atexit left %s behind" % logdir)
    check(wait_gone(pid, 5), "JVM %d outlived its Python parent (atexit)" % pid)


@suite.test
def parent_killed_takes_jvm_with_it():
    pid, rc, logdir = _child_starts_ddblocal("kill")
    shutil.rmtree(logdir, ignore_errors=True)  # a killed child cannot clean up
    check_eq(rc, -9, "child exit")
    gone = wait_gone(pid, 5)
    if not gone:  # do not leave it behind whatever the verdict
        try:
            os.killpg(pid, 9)
        except OSError:
            pass
    check(gone, "JVM %d survived SIGKILL of its parent (PR_SET_PDEATHSIG)" % pid)


@suite.test
def stop_escalates_to_sigkill_for_the_whole_group():
    # A leader that ignores SIGTERM and a grandchild in the same group.
    code = ("import signal, subprocess, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "c = subprocess.Popen([sys.executable, '-c', "
            "'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
            "print(c.pid, flush=True); time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         start_new_session=True)
    try:
        child = int(p.stdout.readline())
        t0 = time.monotonic()
        ddblocal.stop_process_group(p, timeout=1)
        took = time.monotonic() - t0
        check(p.poll() is not None, "leader still running")
        check(wait_gone(child, 2), "grandchild %d survived" % child)
        check(0.9 < took < 5, "escalation after the 1 s timeout took %.2fs" % took)
    finally:
        p.stdout.close()
        if p.poll() is None:
            os.killpg(p.pid, 9)
            p.wait()


# -- on the shared instance -----------------------------------------------------


@suite.test
def create_the_three_tables(s):
    state.setdefault("startup", []).append(s.dynamodb_local.startup_seconds)
    for name in ("Persons", "TenureInformation", "Assets"):
        d = s.ddb.create_table(name)
        check_eq(d["KeySchema"], [{"AttributeName": "id", "KeyType": "HASH"}], name + " key")
    check_eq(sorted(s.ddb.list_tables()), ["Assets", "Persons", "TenureInformation"], "tables")
    a = s.ddb.describe_table("Assets")
    check_eq(sorted(g["IndexName"] for g in a.get("GlobalSecondaryIndexes", [])),
             ["AssetId", "AssetParentsAndChilds"], "Assets GSIs")
    t = s.ddb.describe_table("TenureInformation")
    check_eq(t.get("StreamSpecification", {}).get("StreamViewType"), "NEW_AND_OLD_IMAGES",
             "TenureInformation stream")
    check_eq(s.ddb.describe_table("Persons")["BillingModeSummary"]["BillingMode"],
             "PAY_PER_REQUEST", "billing mode")
    try:
        s.ddb.describe_table("NoSuchTable")
        check(False, "DescribeTable of a missing table succeeded")
    except aws.DynamoDBError as e:
        check_eq(e.type, "ResourceNotFoundException", "error type")
        check_eq(e.status, 400, "error status")


@suite.test
def seed_1000_persons(s):
    items = seed.persons(1000, seed=1)
    check_eq(len(set(ids(items))), 1000, "distinct generated ids")
    t0 = time.monotonic()
    calls = s.ddb.batch_write("Persons", items)
    dt = time.monotonic() - t0
    check(calls >= 40, "1000 items need at least 40 BatchWriteItem calls, sent %d" % calls)
    state["persons"] = {it["id"]["S"]: it for it in items}
    state["seed_rate_1k"] = len(items) / dt
    info("seeding: 1000 Persons in %.2f s = %.0f items/s (one thread, 25 per BatchWriteItem)"
         % (dt, len(items) / dt))
    d = s.ddb.describe_table("Persons")
    check_eq(d["ItemCount"], 1000, "DescribeTable ItemCount")
    info("DescribeTable Persons: ItemCount %d, TableSizeBytes %d (live in DynamoDB Local)"
         % (d["ItemCount"], d["TableSizeBytes"]))


@suite.test
def items_read_back_as_written(s):
    back = s.ddb.scan_all("Persons")
    check_eq(len(back), 1000, "items scanned")
    want = state["persons"]
    bad = [it["id"]["S"] for it in back
           if normalise_item(it) != normalise_item(want[it["id"]["S"]])]
    check(not bad, "%d items differ after a round trip, e.g. %s" % (len(bad), bad[:3]))
    state["persons_back"] = {it["id"]["S"]: it for it in back}
    # The generators also produce valid TenureInformation and Assets items.
    for table, gen in (("TenureInformation", seed.tenures), ("Assets", seed.assets)):
        items = gen(1000, seed=1)
        s.ddb.batch_write(table, items)
        got = s.ddb.scan_all(table, limit=250)
        check_eq(sorted(ids(got)), sorted(ids(items)), table + " ids")
        w = {it["id"]["S"]: normalise_item(it) for it in items}
        bad = [it["id"]["S"] for it in got if normalise_item(it) != w[it["id"]["S"]]]
        check(not bad, "%s: %d items differ, e.g. %s" % (table, len(bad), bad[:3]))


@suite.test
def scan_with_limit_paginates(s):
    st = {}
    items = s.ddb.scan_all("Persons", limit=100, stats=st)
    got = ids(items)
    check_eq(len(got), 1000, "items")
    check_eq(len(set(got)), 1000, "distinct ids")
    check_eq(set(got), set(state["persons"]), "ids")
    check(all(n <= 100 for n in st["page_sizes"]), "a page exceeds Limit: %s" % st["page_sizes"])
    check(st["pages"] >= 10, "pages %d" % st["pages"])
    check_eq(st["scanned_count"], 1000, "sum of ScannedCount")
    info("Scan Limit=100 over 1000 items: %d pages, sizes %s" % (st["pages"], st["page_sizes"]))
    if st["page_sizes"][-1] == 0:
        info("fact: a table of exactly k*Limit items ends with an empty page that has no "
             "LastEvaluatedKey (the previous full page still had one)")
    # A Limit larger than the table: one page, no LastEvaluatedKey.
    r = s.ddb.call("Scan", {"TableName": "Persons", "Limit": 5000})
    check_eq(r["Count"], 1000, "Count with Limit 5000")
    check("LastEvaluatedKey" not in r, "LastEvaluatedKey on a complete page")


@suite.test
def parallel_scan_covers_each_item_once(s):
    facts = []
    for total in (1, 3, 4, 7):
        seen, sizes = [], []
        for seg in range(total):
            part = ids(s.ddb.scan_all("Persons", limit=64, segment=seg, total_segments=total))
            sizes.append(len(part))
            seen += part
        dup = len(seen) - len(set(seen))
        missing = set(state["persons"]) - set(seen)
        check(dup == 0, "TotalSegments=%d: %d duplicates" % (total, dup))
        check(not missing, "TotalSegments=%d: %d ids missing" % (total, len(missing)))
        check_eq(len(seen), 1000, "TotalSegments=%d items" % total)
        facts.append("%d: %s" % (total, sizes))
    info("parallel scan of 1000 Persons, items per segment (Limit 64): " + "; ".join(facts))
    info("fact: Segment/TotalSegments are honoured (disjoint, complete subsets), not ignored")
    # Same coverage without Limit and with segments scanned concurrently.
    results = {}

    def worker(seg):
        c = aws.DynamoDB(s.ddb_endpoint)
        results[seg] = ids(c.scan_all("Persons", segment=seg, total_segments=4))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    allids = [i for seg in range(4) for i in results.get(seg, [])]
    check_eq(sorted(allids), sorted(state["persons"]), "concurrent 4-segment scan ids")
    # Bad segment numbers are refused.
    for body, what in (({"Segment": 4, "TotalSegments": 4}, "Segment == TotalSegments"),
                       ({"Segment": 0}, "Segment without TotalSegments"),
                       ({"Segment": 0, "TotalSegments": 1000001}, "TotalSegments > 1000000")):
        body.update(TableName="Persons")
        try:
            s.ddb.call("Scan", body)
            check(False, "%s accepted" % what)
        except aws.DynamoDBError as e:
            check_eq(e.type, "ValidationException", what)


@suite.test
def more_segments_than_items(s):
    s.ddb.call("CreateTable", dict(aws.table_definitions()["Persons"], TableName="Tiny"))
    items = seed.persons(3, seed=9)
    s.ddb.batch_write("Tiny", items)
    seen = []
    for seg in range(16):
        seen += ids(s.ddb.scan_all("Tiny", segment=seg, total_segments=16))
    check_eq(sorted(seen), sorted(ids(items)), "16 segments over 3 items")
    s.ddb.delete_table("Tiny")


@suite.test
def batch_get_100_keys(s):
    keys = [{"id": {"S": i}} for i in sorted(state["persons"])[:100]]
    got, first = s.ddb.batch_get("Persons", keys, ReturnConsumedCapacity="TOTAL")
    check_eq(sorted(ids(got)), sorted(k["id"]["S"] for k in keys), "ids returned")
    back = state["persons_back"]
    check(all(it == back[it["id"]["S"]] for it in got), "BatchGetItem item differs from Scan's")
    cc = first.get("ConsumedCapacity")
    check(isinstance(cc, list) and cc and cc[0].get("TableName") == "Persons",
          "BatchGetItem ConsumedCapacity: %r" % cc)
    if first.get("UnprocessedKeys"):
        info("fact: BatchGetItem of 100 keys left UnprocessedKeys on the first call")
    try:
        s.ddb.call("BatchGetItem", {"RequestItems": {"Persons": {
            "Keys": keys + [{"id": {"S": "one-too-many"}}]}}})
        check(False, "BatchGetItem accepted 101 keys")
    except aws.DynamoDBError as e:
        check_eq(e.type, "ValidationException", "101 keys")


@suite.test
def return_consumed_capacity(s):
    r = s.ddb.call("Scan", {"TableName": "Persons", "Limit": 10, "ReturnConsumedCapacity": "TOTAL"})
    cc = r.get("ConsumedCapacity")
    check(isinstance(cc, dict), "ConsumedCapacity missing: %r" % r.keys())
    check_eq(cc.get("TableName"), "Persons", "ConsumedCapacity.TableName")
    check(isinstance(cc.get("CapacityUnits"), (int, float)) and cc["CapacityUnits"] > 0,
          "CapacityUnits %r" % cc.get("CapacityUnits"))
    r2 = s.ddb.call("Scan", {"TableName": "Persons", "Limit": 10})
    check("ConsumedCapacity" not in r2, "ConsumedCapacity without asking")
    r3 = s.ddb.call("Scan", {"TableName": "Persons", "Limit": 10,
                             "ReturnConsumedCapacity": "INDEXES"})
    check("Table" in r3.get("ConsumedCapacity", {}), "INDEXES gives a Table sub-object")
    info("Scan Limit=10 ConsumedCapacity TOTAL: %r" % cc)


@suite.test
def measure_scan_rates(s):
    body = dict(aws.table_definitions()["Persons"], TableName="PersonsBench")
    s.ddb.call("CreateTable", body)
    items = seed.persons(BENCH_ITEMS, seed=2)
    t0 = time.monotonic()
    chunks = [items[i::4] for i in range(4)]
    errors = []

    def writer(chunk):
        try:
            aws.DynamoDB(s.ddb_endpoint).batch_write("PersonsBench", chunk)
        except Exception as e:  # reported below
            errors.append(e)
    threads = [threading.Thread(target=writer, args=(c,)) for c in chunks]
    [t.start() for t in threads]
    [t.join() for t in threads]
    dt = time.monotonic() - t0
    check(not errors, "seeding failed: %s" % errors[:1])
    info("seeding: %d Persons in %.1f s = %.0f items/s (4 threads)" % (BENCH_ITEMS, dt,
                                                                       BENCH_ITEMS / dt))
    d = s.ddb.describe_table("PersonsBench")
    check_eq(d["ItemCount"], BENCH_ITEMS, "ItemCount")
    avg = d["TableSizeBytes"] / d["ItemCount"]
    limit = max(1, int(1024 * 1024 / avg))
    info("average item %.0f bytes (TableSizeBytes/ItemCount) -> Limit %d" % (avg, limit))
    s.ddb.scan_all("PersonsBench", limit=limit)  # warm the JVM up

    def timed(lim, stop_after=None):
        n, pages, t = 0, 0, time.monotonic()
        for r in s.ddb.scan_pages("PersonsBench", limit=lim):
            n += len(r.get("Items", []))
            pages += 1
            if stop_after and n >= stop_after:
                break
        return n, pages, time.monotonic() - t

    rates = {}
    for lim in (limit, 100):
        n, pages, dt = timed(lim)
        check_eq(n, BENCH_ITEMS, "items with Limit %d" % lim)
        rates[lim] = n / dt
        info("scan Limit=%d: %d items, %d pages, %.2f s = %.0f items/s"
             % (lim, n, pages, dt, n / dt))
    n, pages, dt = timed(None, NO_LIMIT_ITEMS)
    rates[None] = n / dt
    info("scan without Limit: first %d items (%d pages of ~1 MB), %.2f s = %.0f items/s"
         % (n, pages, dt, n / dt))
    info("Limit=%d is %.1fx the rate of no Limit" % (limit, rates[limit] / rates[None]))
    for total in (4,):
        counts = [0] * total

        def seg_worker(seg):
            counts[seg] = len(aws.DynamoDB(s.ddb_endpoint).scan_all(
                "PersonsBench", limit=limit, segment=seg, total_segments=total))
        threads = [threading.Thread(target=seg_worker, args=(i,)) for i in range(total)]
        t0 = time.monotonic()
        [t.start() for t in threads]
        [t.join() for t in threads]
        dt = time.monotonic() - t0
        check_eq(sum(counts), BENCH_ITEMS, "items over %d concurrent segments" % total)
        info("parallel scan, %d threads x Limit=%d: %.2f s = %.0f items/s"
             % (total, limit, dt, BENCH_ITEMS / dt))
    s.ddb.delete_table("PersonsBench")


def report_startup(_services):
    info("DynamoDB Local start-up (cold JVM first): %s s"
         % ", ".join("%.2f" % x for x in state.get("startup", [])))


if __name__ == "__main__":
    suite.main(lambda: Services(es=False), after=report_startup)
