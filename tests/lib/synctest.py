"""Helpers shared by the sync engine's integration tests (tests/integration/test_pipeline_*.py).

    from synctest import (seed_table, reset_es, set_faults, es_stats, run_sync, BgSync,
                          check_index_equals, sync_args, read_json)

DESIGN
Every test file starts one Services (DynamoDB Local + the ES test server) and
seeds its tables once; each test then resets the ES side (POST /_test/reset
drops every index and alias, the fault list is cleared, the counters zeroed)
and runs `ddb2es sync` against it. The end state is always checked the same
way: the index holds exactly the table's ids, and every document equals the
oracle's (tests/lib/oracle.py) for the item as DynamoDB returns it.

ddb2es runs with XDG_STATE_HOME inside the test's temp dir, so the default
dead-letter and audit files never land in the developer's home.

BgSync runs ddb2es in the background (its own process group, stopped at
exit by the harness like every other child) and reads its stderr on a
thread, so a test can watch the --progress json lines, sample the process's
RSS, send SIGINT or SIGKILL at a chosen point, and collect the result.
"""

import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws  # noqa: E402
import ddblocal  # noqa: E402
import harness  # noqa: E402
import oracle  # noqa: E402
from harness import HarnessError, check, check_eq, json_diff, tail  # noqa: E402

ENV_NAME = "local"


# -- small things ----------------------------------------------------------------




def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_json_lines(path):
    """Parsed lines of a JSON-lines file ([] when it does not exist)."""
    if not os.path.exists(path):
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError as e:
                    raise AssertionError("%s line %d is not JSON (%s): %r" % (path, n, e, line[:200]))
    return out


def prepare_services(s):
    """Per-file setup: a private XDG_STATE_HOME for every ddb2es run."""
    state = s.path("state")
    os.makedirs(state, exist_ok=True)
    s.env["XDG_STATE_HOME"] = state
    return s


# -- DynamoDB side ---------------------------------------------------------------


def create_table_like(ddb, like, name):
    """A table called `name` with the key schema of tables.json's `like` (e.g. Persons)."""
    body = dict(aws.table_definitions()[like])
    body["TableName"] = name
    ddb.call("CreateTable", body)
    ddb.wait_active(name)


def write_items(ddb, table, items, threads=4):
    """BatchWriteItem from a few threads (DynamoDB Local is much faster that way)."""
    if len(items) < 500 or threads <= 1:
        ddb.batch_write(table, items)
        return
    chunks = [items[i::threads] for i in range(threads)]
    errors = []

    def work(chunk):
        try:
            aws.DynamoDB(ddb.endpoint).batch_write(table, chunk)
        except Exception as e:  # reported below
            errors.append(e)
    ts = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]


def table_items(ddb, table):
    """{id: item} as DynamoDB returns the items (what ddb2es reads)."""
    items = {}
    for it in ddb.scan_all(table, limit=2000):
        items[it["id"]["S"]] = it
    return items


def seed_table(s, table, items, like="Persons"):
    """Create `table` (Persons' schema unless it is a tables.json name), write the
    items, and return {id: item as read back}."""
    if table in aws.table_definitions():
        s.ddb.create_table(table)
    else:
        create_table_like(s.ddb, like, table)
    write_items(s.ddb, table, items)
    back = table_items(s.ddb, table)
    check_eq(len(back), len(items), "items in DynamoDB table %s" % table)
    return back


# -- the ES test server ------------------------------------------------------------


def reset_es(s):
    """No index, no alias, no fault, counters at zero."""
    s.es.post("/_test/reset")
    s.es.delete("/_test/faults")
    s.es.post("/_test/stats/reset")


def set_faults(s, spec):
    return s.es.put("/_test/faults", spec)


def clear_faults(s):
    s.es.delete("/_test/faults")


def es_stats(s):
    return s.es.get("/_test/stats")


def write_requests(stats):
    """Requests that can change something (not GET/HEAD) from a stats snapshot."""
    return sum(n for m, n in stats.get("by_method", {}).items() if m not in ("GET", "HEAD"))


def index_body(entity="persons"):
    """The entity's index definition shipped in assets/indices/."""
    return read_json(os.path.join(harness.REPO, "assets", "indices", "%s.json" % entity))


def create_index(s, index, entity="persons", settings=None, mappings=None):
    body = index_body(entity)
    if settings:
        body.setdefault("settings", {}).setdefault("index", {}).update(settings)
    if mappings:
        body["mappings"]["properties"].update(mappings)
    return s.es.put("/" + index, body)


def index_settings(s, index):
    """(refresh_interval, number_of_replicas) of an index as strings (None when unset)."""
    doc = s.es.get("/%s/_settings?flat_settings=true" % index)
    (name, body), = doc.items()
    st = body["settings"]
    return st.get("index.refresh_interval"), st.get("index.number_of_replicas")


# -- checking the end state ---------------------------------------------------------


def _same(got, want):
    """Equal as JSON, types included (Python's == takes True for 1)."""
    return got == want and json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


def check_index_equals(s, index, items, mapper=oracle.persons, what=None, page=5000):
    """The index holds exactly the ids of `items` ({id: item}) and each document
    equals mapper(item). Returns the documents."""
    what = what or "index %s" % index
    s.es.refresh(index)
    docs = s.es.all_docs(index, page=page)
    extra = sorted(set(docs) - set(items))
    missing = sorted(set(items) - set(docs))
    check(not extra and not missing,
          "%s: %d documents for %d items; %d missing (e.g. %s), %d unexpected (e.g. %s)"
          % (what, len(docs), len(items), len(missing), missing[:3], len(extra), extra[:3]))
    bad = []
    for _id in sorted(items):
        want = mapper(items[_id])
        if not _same(docs[_id], want):
            bad.append((_id, json_diff(docs[_id], want) or ["differs"]))
    if bad:
        lines = ["%s: %d of %d documents differ from the oracle; first ones:"
                 % (what, len(bad), len(items))]
        for _id, diff in bad[:3]:
            lines.append("  id %s: %s" % (_id, "; ".join(diff)))
        check(False, "\n".join(lines))
    check_eq(s.es.count(index), len(items), "%s: _count" % what)
    return docs


def check_checkpoint_valid(path, table, index):
    """The checkpoint is a JSON object of this run; returns it."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        ck = json.loads(text)
    except ValueError as e:
        raise AssertionError("checkpoint %s is not JSON (%s): %r" % (path, e, text[:300]))
    check(isinstance(ck, dict), "checkpoint is not an object: %r" % text[:300])
    check_eq(ck.get("table"), table, "checkpoint table")
    check_eq(ck.get("index"), index, "checkpoint index")
    check(isinstance(ck.get("segments"), dict), "checkpoint has no segments: %r" % text[:300])
    return ck


# -- running ddb2es -----------------------------------------------------------------


def sync_args(s, table, index, *extra, summary=None, env=ENV_NAME, config=None):
    args = ["sync", "--env", env, "--table", table, "--index", index,
            "--config", config or s.config_path]
    if summary:
        args += ["--summary-json", summary]
    return args + [str(x) for x in extra]


def run_sync(s, args, env_extra=None, timeout=300, input=None, summary=None):
    """Runs ddb2es; returns (rc, out, err, summary dict or None). `summary` is
    the --summary-json path to read (found in args when not given)."""
    if summary is None and "--summary-json" in args:
        summary = args[args.index("--summary-json") + 1]
    if summary and os.path.exists(summary):
        os.unlink(summary)
    rc, out, err = s.run_ddb2es(args, timeout=timeout, env_extra=env_extra, input=input)
    doc = None
    if summary and os.path.exists(summary):
        with open(summary, encoding="utf-8") as f:
            text = f.read()
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise AssertionError("summary %s is not JSON (%s): %r" % (summary, e, text[:300]))
    return rc, out, err, doc


def check_exit(rc, want, err, what="exit code"):
    """rc must be `want`; the message shows the end of stderr, or the start of
    a sanitizer's report (its first frames are the useful part)."""
    if rc == want:
        return
    at = (err or "").find("WARNING: ThreadSanitizer")
    if at < 0:
        at = (err or "").find("ERROR: AddressSanitizer")
    shown = err[at:at + 3000] if at >= 0 else tail(err, 1200)
    check_eq(rc, want, "%s (negative: killed by a signal; stderr: %s)" % (what, shown))


def rss_kb(pid):
    """VmRSS of a process in kB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class BgSync:
    """ddb2es in the background: stderr read on a thread (JSON progress lines
    parsed as they come), optional RSS sampling, signals, and the result."""

    def __init__(self, s, args, env_extra=None, sample_rss=False):
        env = dict(s.env)
        env.update(env_extra or {})
        exe = harness.ddb2es_bin()
        if not os.access(exe, os.X_OK):
            raise HarnessError("ddb2es binary not found at %s" % exe)
        self.args = args
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([exe] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                     cwd=harness.REPO, start_new_session=True)
        harness._children.add(self.proc)
        self.lock = threading.Lock()
        self.err_lines = []
        self.progress = []          # parsed --progress json lines, with "_t" (s since start)
        self.rss = []               # (t, kB)
        self.out = b""
        self._reader = threading.Thread(target=self._read_err, daemon=True)
        self._reader.start()
        self._out_reader = threading.Thread(target=self._read_out, daemon=True)
        self._out_reader.start()
        self._sampler = None
        if sample_rss:
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()

    def _read_err(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.err_lines.append(line)
                if line.startswith("{"):
                    try:
                        doc = json.loads(line)
                    except ValueError:
                        doc = None
                    if isinstance(doc, dict):
                        doc["_t"] = time.monotonic() - self.t0
                        self.progress.append(doc)

    def _read_out(self):
        self.out = self.proc.stdout.read()

    def _sample(self):
        while self.proc.poll() is None:
            kb = rss_kb(self.proc.pid)
            if kb:
                with self.lock:
                    self.rss.append((time.monotonic() - self.t0, kb))
            time.sleep(0.1)

    def last_progress(self):
        with self.lock:
            return self.progress[-1] if self.progress else None

    def stderr(self):
        with self.lock:
            return "\n".join(self.err_lines)

    def running(self):
        return self.proc.poll() is None

    def wait_until(self, cond, timeout=60, step=0.02, what="a condition"):
        """Polls cond() until true; False if the process ended first. Raises on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            if self.proc.poll() is not None:
                return bool(cond())
            time.sleep(step)
        raise HarnessError("timed out after %ss waiting for %s; stderr: %s"
                           % (timeout, what, tail(self.stderr(), 800)))

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout=300):
        """(rc, stdout, stderr); stops the process group on timeout."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            ddblocal.stop_process_group(self.proc, 5)
            raise HarnessError("ddb2es %s did not finish within %ss; stderr: %s"
                               % (" ".join(self.args), timeout, tail(self.stderr(), 1500)))
        finally:
            self._reader.join(10)
            self._out_reader.join(10)
            if self._sampler:
                self._sampler.join(10)
            harness._children.discard(self.proc)
        return (self.proc.returncode, self.out.decode("utf-8", "replace"), self.stderr())

    def stop(self):
        """Stops it whatever state it is in (for finally blocks)."""
        if self.proc.poll() is None:
            ddblocal.stop_process_group(self.proc, 5)
        harness._children.discard(self.proc)


class CheckpointWatcher:
    """Reads a checkpoint file as often as it can on a thread while a run goes
    on; every read must be valid JSON (the file is replaced atomically)."""

    def __init__(self, path):
        self.path = path
        self.reads = 0
        self.bad = []
        self.last = None
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                with open(self.path, "rb") as f:
                    data = f.read()
            except OSError:
                data = None
            if data is not None:
                self.reads += 1
                try:
                    self.last = json.loads(data.decode("utf-8"))
                except ValueError:
                    if len(self.bad) < 3:
                        self.bad.append(data[:200])
            time.sleep(0.002)

    def stop(self):
        self._stop.set()
        self._t.join(5)
        return self
