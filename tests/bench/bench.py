#!/usr/bin/env python3
"""make bench: how fast `ddb2es sync` copies a table, against baselines measured in the same run.

Prints figures; never fails on a number. Exits non-zero only when something
could not be measured at all (a service would not start, ddb2es exited with
an error or indexed fewer documents than the table holds). Environment:
    BENCH_ITEMS=50000           Persons items in the table
    BENCH_SAMPLE=2000           items indexed one by one for the old system's baseline
    BENCH_PASSES=2              passes over every setting and baseline (best and spread shown)
    BENCH_PROFILE=1             perf + callgrind (0: skip them)
    BENCH_CALLGRIND_ITEMS=3000  items in the smaller table callgrind runs on
    BENCH_LARGE=0               1: grow the table to BENCH_LARGE_ITEMS (200000), compare peak RSS
    BENCH_OUT=$BUILD/bench      where results.json, perf.data, callgrind.out, the stages tool go
    CC=cc                       compiler for the stages tool (tests/bench/stages.c)

DESIGN
One DynamoDB Local and one Elasticsearch test server serve every measurement,
so a ratio compares two things measured on the same services, the same table
and the same machine, minutes apart. Order: seed; one warm-up sync (the JVM
compiles its Scan path on first use, which slows the first run); then
BENCH_PASSES passes, each measuring every baseline and then every ddb2es
setting, so a burst of load from elsewhere hits one pass, not one setting;
each row shows the best pass and the spread. Then the per-stage CPU costs
(stages.c), the profiles, and the large table last (it grows the table).

Who is the bottleneck: the three processes share the machine's cores, so
every run also reads, from /proc, the CPU seconds DynamoDB Local (the JVM) and
the test server (Python) burned during it, and the CPU that everything else
on the machine burned meanwhile ("others"): a shared machine's other work
shows there instead of silently slowing the figures. A process near 100 % of
one core while the others wait is the limit; the test server's Python cannot
use more than one core (the GIL, and its bulk handler holds the cluster lock).

ddb2es's own CPU per document (user + sys of the process, from /usr/bin/time,
which forks it from a small process: forked straight from this Python process
it would inherit our peak RSS as its own) is the figure that moves least when
the machine is busy; wall-clock figures move a lot.

Every ddb2es run starts from an absent index (deleted after each run), so
the test server's memory, and its cost per document, stay the same from run
to run.
"""

import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import aws  # noqa: E402
import baselines  # noqa: E402
import ddblocal  # noqa: E402
import harness  # noqa: E402
import hotspots  # noqa: E402
import oracle  # noqa: E402
import seed  # noqa: E402

TABLE, SMALL_TABLE, INDEX = "Persons", "PersonsSmall", "persons"
MIB = 1024.0 * 1024.0
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
# An experiment, not a setting of ddb2es: glibc without fastbins, exactly what a
# mallopt(M_MXFAST, 0) at start-up would do (see tests/bench/FINDINGS.md).
MXFAST0 = {"GLIBC_TUNABLES": "glibc.malloc.mxfast=0"}


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        return int(v) if v.strip() else default
    except ValueError:
        print("bench: %s=%r is not a number; using %d" % (name, v, default), flush=True)
        return default


T0 = time.monotonic()


def say(msg=""):
    """Print a line; section headings ("== ...") get the time since the start."""
    if msg.startswith("== "):
        msg = "%s  [at %.0f s]" % (msg, time.monotonic() - T0)
    print(msg, flush=True)


# -- CPU of the processes -------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """user + system CPU seconds of a process (all its threads), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return None


def machine_busy():
    """CPU seconds all cores spent not idle since boot (/proc/stat)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = v
        return (user + nice + system + irq + softirq + steal) / _TICK
    except (OSError, ValueError):
        return None


class CpuMeter:
    """CPU seconds of the named service processes, of this process and of the
    whole machine between two points. since() also gives "others": the
    machine's busy time less the services, this process and `child` (the CPU
    of a child the caller measured itself)."""

    def __init__(self, pids):
        self.pids = dict(pids)

    def snapshot(self):
        snap = {k: proc_cpu(p) for k, p in self.pids.items()}
        snap["_self"] = time.process_time()
        snap["_machine"] = machine_busy()
        return snap

    def since(self, snap, child=0.0):
        now = self.snapshot()
        out = {k: (now[k] - snap[k]) if now[k] is not None and snap.get(k) is not None else None
               for k in self.pids}
        if now["_machine"] is not None and snap["_machine"] is not None and None not in out.values():
            out["others"] = max(0.0, (now["_machine"] - snap["_machine"]) - sum(out.values())
                                - (now["_self"] - snap["_self"]) - child)
        else:
            out["others"] = None
        return out


# -- seeding ------------------------------------------------------------------


def _seed_part(args):
    """One process: generate its part (its own seed) and write it with threads."""
    endpoint, table, n, part_seed, threads = args
    t0 = time.monotonic()
    items = seed.persons(n, seed=part_seed)
    gen = time.monotonic() - t0
    chunks = [items[i::threads] for i in range(threads)]
    errors = []

    def write(chunk):
        try:
            aws.DynamoDB(endpoint).batch_write(table, chunk)
        except Exception as e:
            errors.append(str(e))

    t1 = time.monotonic()
    ts = [threading.Thread(target=write, args=(c,)) for c in chunks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return gen, time.monotonic() - t1, errors


def seed_table(endpoint, table, n, first_seed=1, procs=None, threads=4):
    """Put n Persons items into table from `procs` processes; part k uses seed
    first_seed + k, so the same n gives the same table every run."""
    procs = procs or max(2, os.cpu_count() or 2)
    per = [n // procs + (1 if k < n % procs else 0) for k in range(procs)]
    jobs = [(endpoint, table, per[k], first_seed + k, threads) for k in range(procs) if per[k]]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(len(jobs)) as pool:
        res = pool.map(_seed_part, jobs)
    errs = [e for r in res for e in r[2]]
    if errs:
        raise RuntimeError("seeding %s failed: %s" % (table, errs[0]))
    return max(r[0] for r in res), max(r[1] for r in res)


# -- the settings measured ---------------------------------------------------------

def plan():
    """(label, ddb2es arguments, group, extra environment) for each setting."""
    p = [("default", [], "default", None)]
    p += [("--segments %d" % s, ["--segments", str(s)], "segments", None) for s in (1, 2, 4)]
    p += [("--segments 4 --concurrency %d" % c, ["--segments", "4", "--concurrency", str(c)],
           "concurrency", None) for c in (1, 2, 8)]
    p += [("--segments 4 --bulk-bytes %dMiB" % m,
           ["--segments", "4", "--bulk-bytes", str(m << 20), "--bulk-docs", "100000"], "bulk", None)
          for m in (1, 5, 10)]
    p += [("default, glibc mxfast=0 (experiment)", [], "experiment", MXFAST0),
          ("--segments 4, glibc mxfast=0 (exp.)", ["--segments", "4"], "experiment", MXFAST0)]
    return p


class Bench:
    def __init__(self):
        self.n = env_int("BENCH_ITEMS", 50000)
        self.sample = env_int("BENCH_SAMPLE", 2000)
        self.passes = max(1, env_int("BENCH_PASSES", 2))
        self.profile = env_int("BENCH_PROFILE", 1)
        self.cg_items = env_int("BENCH_CALLGRIND_ITEMS", 3000)
        self.large = env_int("BENCH_LARGE", 0)
        self.large_n = env_int("BENCH_LARGE_ITEMS", 200000)
        build = os.environ.get("BUILD", "build")
        self.build = os.path.join(harness.REPO, build)
        self.out = os.path.abspath(os.environ.get("BENCH_OUT") or os.path.join(self.build, "bench"))
        os.makedirs(self.out, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="ddb2es-bench-")
        self.results = {"machine": machine_info(), "items": self.n, "passes": self.passes,
                        "runs": [], "baselines": {"scan": {}, "bulk": {}, "old": []},
                        "errors": []}
        self.large_runs = []
        self.failed = False

    # -- services
    def start(self):
        t0 = time.monotonic()
        self.ddbl = ddblocal.DynamoDBLocal(heap="2g").start()
        self.es = harness.ESServer("es8", workdir=self.tmp).start()
        self.cpu = CpuMeter({"ddblocal": self.ddbl.pid, "esserver": self.es.proc.pid})
        self.config = os.path.join(self.tmp, "config.json")
        with open(self.config, "w") as f:
            json.dump(harness.make_config(self.ddbl.endpoint, self.es.url), f)
        say("services: DynamoDB Local %s (pid %d), ES test server %s (pid %d), up in %.1f s"
            % (self.ddbl.endpoint, self.ddbl.pid, self.es.url, self.es.proc.pid,
               time.monotonic() - t0))

    def stop(self):
        for s in (getattr(self, "es", None), getattr(self, "ddbl", None)):
            try:
                if s:
                    s.stop()
            except Exception:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def create_table(self, name):
        body = dict(aws.table_definitions()[TABLE], TableName=name)
        self.ddbl.client.call("CreateTable", body)
        self.ddbl.client.wait_active(name)

    def table_info(self, name):
        d = self.ddbl.client.describe_table(name)
        count, size = d.get("ItemCount", 0), d.get("TableSizeBytes", 0)
        # ddb2es's own choice (core/dynamo.c ddb_scan_limit_for): 1 MB / average item size
        if not count or not size:
            return count, size, 1000
        return count, size, max(10, min(10000, (1024 * 1024) // max(1, size // count)))

    def sync_cmd(self, args, table=TABLE, index=INDEX, summary=None):
        cmd = [harness.ddb2es_bin(), "sync", "--env", "local", "--table", table, "--index", index,
               "--config", self.config, "--progress", "none"]
        if table != TABLE:
            cmd += ["--entity", "persons"]
        if summary:
            cmd += ["--summary-json", summary]
        return cmd + list(args)

    def delete_index(self, index):
        self.es.client.request("DELETE", "/" + index)

    def run_sync(self, label, args, group, env_extra=None, table=TABLE, index=INDEX, items=None):
        """One ddb2es sync into an absent index; returns the run's record."""
        summary = os.path.join(self.tmp, "summary.json")
        if os.path.exists(summary):
            os.unlink(summary)
        self.delete_index(index)
        cmd = self.sync_cmd(args, table, index, summary)
        tfile = os.path.join(self.tmp, "time.txt")
        if TIME:
            cmd = [TIME, "-f", "%e %U %S %M", "-o", tfile] + cmd
        env = harness.test_env(env_extra)
        with open(os.path.join(self.tmp, "stderr.txt"), "w+b") as errf:
            c0 = self.cpu.snapshot()
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=errf, env=env, start_new_session=True)
            harness._children.add(proc)  # stopped by the harness's atexit hook if we die
            try:
                _, status, ru = os.wait4(proc.pid, 0)
            finally:
                harness._children.discard(proc)
            wall = time.monotonic() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            errf.seek(0)
            err = errf.read().decode("utf-8", "replace")
        rec = {"label": label, "group": group, "args": args, "env": env_extra or {},
               "rc": proc.returncode, "wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime,
               "maxrss_kb": ru.ru_maxrss, "items": items or self.n}
        if TIME:
            try:
                with open(tfile) as f:
                    _e, u, s_, m = f.read().split("\n")[-2].split()
                rec.update(user=float(u), sys=float(s_), maxrss_kb=int(m))
            except (OSError, ValueError, IndexError):
                rec["time_error"] = "no /usr/bin/time figures"
        rec["service_cpu"] = self.cpu.since(c0, child=rec["user"] + rec["sys"])
        try:
            with open(summary) as f:
                rec["summary"] = json.load(f)
        except (OSError, ValueError):
            rec["summary"] = {}
        s = rec["summary"]
        rec["indexed"] = s.get("indexed", 0)
        rec["docs_s"] = rec["indexed"] / wall if wall > 0 else 0
        rec["mib_s"] = s.get("bytes_sent", 0) / MIB / wall if wall > 0 else 0
        rec["segments"] = s.get("segments_total")
        rec["concurrency"] = _arg(args, "--concurrency", 4)
        rec["cpu"] = rec["user"] + rec["sys"]
        rec["us_doc"] = 1e6 * rec["cpu"] / max(1, rec["indexed"])
        if proc.returncode != 0 or rec["indexed"] != rec["items"]:
            self.failed = True
            msg = "%s: ddb2es exited %d, indexed %s of %d: %s" % (
                label, proc.returncode, rec["indexed"], rec["items"], err.strip()[-600:])
            self.results["errors"].append(msg)
            say("  ERROR " + msg)
        self.delete_index(index)
        return rec

    # -- phases
    def setup(self):
        self.create_table(TABLE)
        t0 = time.monotonic()
        gen, write = seed_table(self.ddbl.endpoint, TABLE, self.n)
        count, size, limit = self.table_info(TABLE)
        self.limit = limit
        self.results.update(table_bytes=size, scan_limit=limit)
        say("seeded %d Persons (%.1f MB, %d B/item) in %.1f s (generation %.1f s, writes %.1f s); "
            "Scan Limit %d (ddb2es's default: 1 MB / average item size)"
            % (count, size / 1e6, size // max(1, count), time.monotonic() - t0, gen, write, limit))
        if count != self.n:
            say("  note: DescribeTable says %d items" % count)

    def warm_up(self):
        r = self.run_sync("warm-up", [], "warm-up")
        say("warm-up sync (not counted): %.1f s, %.0f docs/s" % (r["wall"], r["docs_s"]))

    def prepare_bodies(self):
        """The bulk-ceiling bodies (the entity's documents, as the written
        specification in tests/lib/oracle.py builds them) and one raw Scan page."""
        t0 = time.monotonic()
        first = []
        items = baselines.scan_items(self.ddbl.endpoint, TABLE, self.limit, first_page=first)
        self.page_path = os.path.join(self.out, "scan-page.json")
        with open(self.page_path, "wb") as f:
            f.write(first[0])
        docs = [(d["id"], d) for d in (oracle.persons(it) for it in items)]
        self.bodies = baselines.make_bulk_bodies(docs, "bench_bulk")
        say("(bulk-ceiling bodies: %d x %.1f MiB, %d documents, built in %.1f s, not timed)"
            % (len(self.bodies), sum(len(b) for b, _ in self.bodies) / len(self.bodies) / MIB,
               len(docs), time.monotonic() - t0))

    def baselines_pass(self, k):
        B = self.results["baselines"]
        for segs in (1, 2, 4):
            r = baselines.scan_ceiling(self.ddbl.endpoint, TABLE, self.limit, segs, self.cpu)
            r["docs_s"] = r["items"] / r["wall"]
            B["scan"].setdefault(segs, []).append(r)
            say("  scan ceiling, %d segment%s: %7.0f items/s %6.1f MiB/s  %5.2f s  DynamoDB Local "
                "%s, Python client %s, others %s"
                % (segs, " " if segs == 1 else "s", r["docs_s"], r["bytes"] / MIB / r["wall"],
                   r["wall"], pct(r["service_cpu"].get("ddblocal"), r["wall"]),
                   pct(r["client_cpu"], r["wall"]), pct(r["service_cpu"].get("others"), r["wall"])))
        body_def = _index_body()
        for conc in (1, 2, 4, 8):
            self.delete_index("bench_bulk")
            self.es.client.put("/bench_bulk", body_def)
            r = baselines.bulk_ceiling(self.es.url, self.bodies, conc, self.cpu)
            answer = r.pop("answer")
            if answer and not getattr(self, "answer_path", None):
                self.answer_path = os.path.join(self.out, "bulk-answer.json")
                with open(self.answer_path, "wb") as f:
                    f.write(answer)
            r["docs_s"] = r["docs"] / r["wall"]
            B["bulk"].setdefault(conc, []).append(r)
            say("  bulk ceiling, %d at a time: %7.0f docs/s %6.1f MiB/s  %5.2f s  test server %s, "
                "Python client %s, others %s%s"
                % (conc, r["docs_s"], r["bytes"] / MIB / r["wall"], r["wall"],
                   pct(r["service_cpu"].get("esserver"), r["wall"]), pct(r["client_cpu"], r["wall"]),
                   pct(r["service_cpu"].get("others"), r["wall"]),
                   "; %d bulks had item errors" % r["bulks_with_item_errors"]
                   if r["bulks_with_item_errors"] else ""))
        self.delete_index("bench_bulk")
        self.delete_index("bench_oldway")
        self.es.client.put("/bench_oldway", body_def)
        r = baselines.old_way(self.ddbl.endpoint, self.es.url, TABLE, "bench_oldway", self.limit,
                              self.sample, self.cpu)
        self.delete_index("bench_oldway")
        r["docs_s"] = r["docs"] / r["wall"]
        B["old"].append(r)
        say("  old system's way (scan, PUT /index/_doc/id one at a time): %d docs in %.2f s = "
            "%.0f docs/s, %.2f ms/doc (test server %s, Python client %s, others %s)"
            % (r["docs"], r["wall"], r["docs_s"], 1000 * r["wall"] / r["docs"],
               pct(r["service_cpu"].get("esserver"), r["wall"]), pct(r["client_cpu"], r["wall"]),
               pct(r["service_cpu"].get("others"), r["wall"])))

    def ddb2es_pass(self, k):
        say(ROW_HEAD)
        for label, args, group, env in plan():
            r = self.run_sync(label, args, group, env)
            r["pass"] = k
            self.results["runs"].append(r)
            say(self.row(r))

    def measure(self):
        for k in range(1, self.passes + 1):
            say("")
            say("== pass %d of %d: baselines (same services, same table) ==" % (k, self.passes))
            self.baselines_pass(k)
            say("")
            say("== pass %d of %d: ddb2es sync, %d items ==" % (k, self.passes, self.n))
            self.ddb2es_pass(k)

    def measure_stages(self):
        say("")
        say("== CPU per item of each stage, in isolation (tests/bench/stages.c, best of 20) ==")
        exe = os.path.join(self.out, "stages")
        lib = os.path.join(self.build, "libddb2es.a")
        cc = os.environ.get("CC") or "cc"
        cmd = [cc, "-O2", "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_POSIX_C_SOURCE=200809L",
               "-D_DEFAULT_SOURCE",
               "-I" + os.path.join(harness.REPO, "include"), "-I" + os.path.join(harness.REPO, "core"),
               os.path.join(HERE, "stages.c"), lib, "-lcurl", "-ljansson", "-lcrypto", "-lpthread",
               "-lm", "-o", exe]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            say("stages: cannot build: %s" % r.stdout[-800:])
            self.results["stages"] = {"error": r.stdout[-800:]}
            return
        entity = os.path.join(harness.REPO, "assets", "entities", "persons.json")
        r = subprocess.run([exe, self.page_path, entity, getattr(self, "answer_path", "") or "", "20"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        rows = []
        for ln in r.stdout.splitlines():
            if ln.startswith("stage "):
                _, ns, n, name = ln.split(" ", 3)
                rows.append((name, float(ns), int(n)))
            elif ln.startswith("page "):
                say("one Scan page as DynamoDB Local sends it: " + ln[5:])
        if r.returncode != 0 or not rows:
            say("stages: failed: %s" % r.stdout[-800:])
            self.results["stages"] = {"error": r.stdout[-800:]}
            return
        self.results["stages"] = rows
        for name, ns, _n in rows:
            say("  %7.2f us/item  %s" % (ns / 1000.0, name))
        per_doc = sum(ns for name, ns, _n in rows if not name.startswith("validate"))
        say("  %7.2f us/item  sum of the stages a document goes through (not the validate-only line)"
            % (per_doc / 1000.0))

    def measure_profiles(self):
        say("")
        say("== where ddb2es's CPU goes ==")
        if not self.profile:
            say("(skipped: BENCH_PROFILE=0)")
            return
        P = self.results["profiles"] = {}
        ok, why = hotspots.perf_available()
        if not ok:
            say("perf: not available: %s" % why)
            P["perf"] = {"error": why}
        else:
            self.delete_index(INDEX)
            t0 = time.monotonic()
            pr = hotspots.perf_profile(self.sync_cmd([]), harness.test_env(), self.out)
            self.delete_index(INDEX)
            P["perf"] = pr
            if "error" in pr:
                say("perf: %s" % pr["error"])
            else:
                say("perf record (-e cpu-clock, DWARF call graphs) of a default sync of %d items: "
                    "%s samples, %.1f s (rc %s); %s"
                    % (self.n, pr.get("samples"), time.monotonic() - t0, pr["rc"], pr["data"]))
                print_profile(pr, "perf")
        ok, why = hotspots.callgrind_available()
        if not ok:
            say("callgrind: not available: %s" % why)
            P["callgrind"] = {"error": why}
            return
        self.create_table(SMALL_TABLE)
        seed_table(self.ddbl.endpoint, SMALL_TABLE, self.cg_items)
        self.delete_index("persons_small")
        t0 = time.monotonic()
        cg = hotspots.callgrind_profile(self.sync_cmd(["--segments", "1"], SMALL_TABLE,
                                                      "persons_small"),
                                        harness.test_env(), self.out)
        self.delete_index("persons_small")
        P["callgrind"] = cg
        if "error" in cg:
            say("callgrind: %s" % cg["error"])
            return
        say("")
        say("callgrind of a sync of %d items (--segments 1): %.0f M instructions = %.0f k per "
            "document, %.1f s under valgrind (rc %s); %s"
            % (self.cg_items, cg["total_ir"] / 1e6, cg["total_ir"] / 1e3 / self.cg_items,
               time.monotonic() - t0, cg["rc"], cg["data"]))
        print_profile(cg, "callgrind")

    def measure_large(self):
        if not self.large:
            say("")
            say("(large-table memory check skipped: BENCH_LARGE=1 grows the table to %d items)"
                % self.large_n)
            return
        say("")
        say("== large table: peak RSS as the table grows ==")
        add = self.large_n - self.n
        if add <= 0:
            say("BENCH_LARGE_ITEMS (%d) is not above BENCH_ITEMS (%d): skipped"
                % (self.large_n, self.n))
            return
        t0 = time.monotonic()
        seed_table(self.ddbl.endpoint, TABLE, add, first_seed=101)
        count, size, _ = self.table_info(TABLE)
        say("added %d items in %.1f s: the table now holds %d items (%.0f MB)"
            % (add, time.monotonic() - t0, count, size / 1e6))
        say(ROW_HEAD)
        for label, args, _group, env in plan():
            if label not in LARGE_SETTINGS:
                continue
            r = self.run_sync(label, args, "large", env, items=count)
            self.large_runs.append(r)
            say(self.row(r))

    # -- reporting
    def cpu_ceiling(self):
        """(docs/s, {who: CPU us per document}): what the machine's cores can
        carry through all three processes, from each one's CPU per document
        (medians): DynamoDB Local in the Scan ceilings, the test server in the
        _bulk ceilings, ddb2es in its default runs. None when unknown."""
        B = self.results["baselines"]
        ddbl = [r["service_cpu"]["ddblocal"] / r["items"] for rs in B["scan"].values() for r in rs
                if r["service_cpu"].get("ddblocal") and r["items"]]
        es = [r["service_cpu"]["esserver"] / r["docs"] for rs in B["bulk"].values() for r in rs
              if r["service_cpu"].get("esserver") and r["docs"]]
        own = [r["us_doc"] / 1e6 for r in self.results["runs"]
               if r["label"] == "default" and r["rc"] == 0]
        if not (ddbl and es and own):
            return None, {}
        per = {"DynamoDB Local": statistics.median(ddbl), "test server": statistics.median(es),
               "ddb2es": statistics.median(own)}
        return (os.cpu_count() or 1) / sum(per.values()), {k: v * 1e6 for k, v in per.items()}

    def best_baseline(self, kind, key):
        rs = self.results["baselines"][kind]
        rs = rs.get(key, []) if isinstance(rs, dict) else rs
        return max((r["docs_s"] for r in rs), default=None)

    def row(self, r, spread=None):
        old = self.best_baseline("old", None)
        scan = self.best_baseline("scan", r.get("segments") or 0)
        bulk = self.best_baseline("bulk", r.get("concurrency"))
        sc = r["service_cpu"]
        return ROW_FMT % (
            r["label"][:36], r["wall"], r["docs_s"], spread or "", r["mib_s"], r["cpu"],
            r["us_doc"], r["maxrss_kb"] / 1024.0, pct(r["cpu"], r["wall"]),
            pct(sc.get("ddblocal"), r["wall"]), pct(sc.get("esserver"), r["wall"]),
            pct(sc.get("others"), r["wall"]), ratio(r["docs_s"], old), ratio(r["docs_s"], scan),
            ratio(r["docs_s"], bulk), ratio(r["docs_s"], self.cpu_ceiling()[0]))

    def summary(self):
        B = self.results["baselines"]
        say("")
        say("== summary: %d Persons (%d B/item), Scan Limit %d, best of %d pass%s, %s =="
            % (self.n, self.results.get("table_bytes", 0) // max(1, self.n),
               self.results.get("scan_limit", 0), self.passes, "" if self.passes == 1 else "es",
               self.results["machine"]["short"]))
        old = self.best_baseline("old", None)
        if old:
            say("baseline, the old system's way: %7.0f docs/s  (%d items in ~%.0f s)"
                % (old, self.n, self.n / old))
        for segs in sorted(B["scan"]):
            say("ceiling, Scan, %d segment%s:    %7.0f items/s  %s"
                % (segs, " " if segs == 1 else "s", self.best_baseline("scan", segs),
                   spread_of([r["docs_s"] for r in B["scan"][segs]])))
        for conc in sorted(B["bulk"]):
            say("ceiling, _bulk, %d at a time:   %7.0f docs/s   %s"
                % (conc, self.best_baseline("bulk", conc),
                   spread_of([r["docs_s"] for r in B["bulk"][conc]])))
        ceil, per = self.cpu_ceiling()
        if ceil:
            say("ceiling, this machine's CPU:  %7.0f docs/s   (%d cores / CPU per document: %s)"
                % (ceil, os.cpu_count() or 1,
                   " + ".join("%s %.0f us" % (k, v) for k, v in per.items())))
            self.results["cpu_ceiling"] = {"docs_s": ceil, "us_per_doc": per}
        say("")
        say(ROW_HEAD)
        best = {}
        for label, _a, _g, _e in plan():
            rs = [r for r in self.results["runs"] if r["label"] == label and r["rc"] == 0]
            if not rs:
                continue
            b = max(rs, key=lambda r: r["docs_s"])
            best[label] = b
            say(self.row(b, spread_of([r["docs_s"] for r in rs])))
        self.results["best"] = {k: {"docs_s": v["docs_s"], "wall": v["wall"], "us_doc": v["us_doc"],
                                    "maxrss_kb": v["maxrss_kb"]} for k, v in best.items()}
        d = best.get("default")
        if d and old:
            say("")
            say("default settings: %.0f docs/s = %.1fx the old system's way; ddb2es CPU %.1f us/doc"
                % (d["docs_s"], d["docs_s"] / old, d["us_doc"]))
        if best:
            f = max(best.values(), key=lambda r: r["docs_s"])
            say("fastest setting: %s, %.0f docs/s = %.1fx the old system's way"
                % (f["label"], f["docs_s"], f["docs_s"] / old if old else float("nan")))
        for exp, ref in (("default, glibc mxfast=0 (experiment)", "default"),
                         ("--segments 4, glibc mxfast=0 (exp.)", "--segments 4")):
            runs_e = [r["us_doc"] for r in self.results["runs"] if r["label"] == exp and r["rc"] == 0]
            runs_r = [r["us_doc"] for r in self.results["runs"] if r["label"] == ref and r["rc"] == 0]
            if runs_e and runs_r:
                say("ddb2es CPU per document, %s: %.1f us -> %.1f us with glibc mxfast=0 (median "
                    "of %d runs each; %.0f%% less)"
                    % (ref, statistics.median(runs_r), statistics.median(runs_e), len(runs_e),
                       100 * (1 - statistics.median(runs_e) / statistics.median(runs_r))))
        if self.large_runs:
            say("")
            say("peak RSS, same settings, %dk items vs %dk items:"
                % (self.n // 1000, self.large_runs[0]["items"] // 1000))
            for r in self.large_runs:
                small = [x["maxrss_kb"] for x in self.results["runs"]
                         if x["label"] == r["label"] and x["rc"] == 0]
                say("  %-36s %7.1f MiB  ->  %7.1f MiB   (%.0f docs/s at %dk items)"
                    % (r["label"], max(small) / 1024.0 if small else float("nan"),
                       r["maxrss_kb"] / 1024.0, r["docs_s"], r["items"] // 1000))
        say("")
        say("columns: docs/s of the best pass (spread: worst..best over the passes); CPU = ddb2es "
            "user+sys; %%core = CPU seconds per wall second x 100 (100 = one core busy; this "
            "machine has %d) for ddb2es / DynamoDB Local / the test server / everything else on "
            "the machine; x old / x scan / x bulk = docs/s over the old system's way / the Scan "
            "ceiling at the run's segment count / the _bulk ceiling at the run's concurrency "
            "(each the best of its passes) / this machine's CPU ceiling." % (os.cpu_count() or 0))
        path = os.path.join(self.out, "results.json")
        with open(path, "w") as f:
            json.dump(self.results, f, indent=1, default=str)
        say("results: %s" % path)


LARGE_SETTINGS = ("default", "--segments 4", "--segments 4 --bulk-bytes 10MiB")

ROW_HEAD = ("%-36s %6s %7s %-12s %5s %5s %6s %6s  %-27s %6s %6s %6s %6s"
            % ("run", "wall s", "docs/s", "(spread)", "MiB/s", "CPU s", "us/doc", "RSS MB",
               "%core ddb2es/ddbl/es/others", "x old", "x scan", "x bulk", "x cpu"))
ROW_FMT = "%-36s %6.2f %7.0f %-12s %5.1f %5.2f %6.1f %6.1f  %5s/%5s/%5s/%5s   %6s %6s %6s %6s"


def spread_of(vals):
    if len(vals) < 2:
        return ""
    return "%.0f..%.0f" % (min(vals), max(vals))


def _arg(args, name, default):
    return int(args[args.index(name) + 1]) if name in args else default


def pct(cpu, wall):
    if cpu is None or not wall:
        return "?"
    return "%.0f%%" % (100.0 * cpu / wall)


def ratio(a, b):
    if not a or not b:
        return "-"
    return "%.2fx" % (a / b)


def _index_body():
    with open(os.path.join(harness.REPO, "assets", "indices", "persons.json")) as f:
        return json.load(f)


def print_profile(p, tool):
    say("  stages (inclusive %% of ddb2es's %s; stages nest, so they do not add up):"
        % ("samples" if tool == "perf" else "instructions"))
    for name, v in p.get("stages", []):
        say("    %-52s %s" % (name, "%5.1f%%" % v if v is not None else "    -"))
    if tool == "perf":
        say("  by library (self %):")
        for v, dso in p.get("dso", [])[:8]:
            say("    %5.1f%%  %s" % (v, dso))
        say("  top functions by inclusive % (children included):")
        for inc, _self, sym in p.get("inclusive", [])[:30]:
            say("    %5.1f%%  %5.1f%% self  %s" % (inc, _self, sym))
        say("  top functions by self %:")
        for v, sym in p.get("self", [])[:15]:
            say("    %5.1f%%  %s" % (v, sym))
    else:
        say("  top functions by inclusive instructions:")
        for v, ir, sym in p.get("inclusive", [])[:25]:
            say("    %5.1f%%  %8.1f M  %s" % (v, ir / 1e6, sym))
        say("  top functions by self instructions:")
        for v, ir, sym in p.get("self", [])[:15]:
            say("    %5.1f%%  %8.1f M  %s" % (v, ir / 1e6, sym))


def machine_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    model = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    n = os.cpu_count() or 0
    return {"cpus": n, "model": model, "kernel": platform.release(),
            "short": "%d cores, %s" % (n, model)}


def main():
    harness.install_signal_exit()
    b = Bench()
    t_all = time.monotonic()
    say("ddb2es bench: %d Persons items, %d pass%s; %s"
        % (b.n, b.passes, "" if b.passes == 1 else "es", b.results["machine"]["short"]))
    say("DynamoDB Local, the ES test server and ddb2es share these cores: see the %core columns.")
    try:
        b.start()
        b.setup()
        b.warm_up()
        b.prepare_bodies()
        b.measure()
        b.measure_stages()
        b.measure_profiles()
        b.measure_large()
        b.summary()
    except Exception as e:
        b.failed = True
        say("bench: could not finish: %s: %s" % (type(e).__name__, e))
        traceback.print_exc()
    finally:
        b.stop()
    for e in b.results["errors"]:
        say("error: " + e)
    say("bench took %.0f s" % (time.monotonic() - t_all))
    sys.exit(1 if b.failed else 0)


if __name__ == "__main__":
    main()
