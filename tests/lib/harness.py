"""One place for integration tests: services, the ddb2es binary, a tiny framework.

    from harness import Services, Suite, check, check_eq

    suite = Suite()

    @suite.test
    def help_exits_0():              # no parameter: runs first, no services
        check_eq(run_ddb2es(["--help"])[0], 0, "exit code")

    @suite.test
    def sync_works(s):               # s: the Services given to suite.main
        rc, out, err = s.run_ddb2es(["sync", "--env", "local", ...])
        check_eq(rc, 0, "exit code")

    suite.main(lambda: Services(flavour="es8"))

DESIGN
Services starts DynamoDB Local (ddblocal.py) and the Elasticsearch test
server (tests/esserver/server.py --host 127.0.0.1 --port 0 --ready-file F
--flavour X, which writes its port into F once it listens), writes a ddb2es
config file for them in a private temp dir, and builds the environment for
ddb2es subprocesses: dummy AWS keys, and every other AWS_* variable removed
so a developer's real credentials or profile never reach a test. Each
server runs in its own process group and is stopped on leaving the `with`
block, from atexit, and on SIGTERM/SIGHUP (turned into SystemExit).

Suite prints "ok NAME" or "FAIL NAME: reason" per test and, as the very last
line, "N passed, N failed"; it exits 1 when anything failed. Services are
stopped before that line is printed, so nothing follows it.
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws  # noqa: E402
import ddblocal  # noqa: E402
import esclient  # noqa: E402

REPO = aws.repo_root()
DUMMY_ENV = {"AWS_ACCESS_KEY_ID": aws.DUMMY_ACCESS_KEY,
             "AWS_SECRET_ACCESS_KEY": aws.DUMMY_SECRET_KEY,
             "AWS_EC2_METADATA_DISABLED": "true"}
_children = set()


class HarnessError(Exception):
    pass


class TestFailure(AssertionError):
    pass


# -- checks ------------------------------------------------------------------


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %s, want %s" % (what, _short(got), _short(want)))


def _short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


# -- the ddb2es binary -----------------------------------------------------


def ddb2es_bin():
    """$DDB2ES_BIN, else <repo>/build/ddb2es."""
    path = os.environ.get("DDB2ES_BIN") or os.path.join(REPO, "build", "ddb2es")
    return path if os.path.isabs(path) else os.path.join(REPO, path)


def test_env(extra=None):
    """os.environ without AWS_* variables, plus dummy credentials and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(DUMMY_ENV)
    env.update(extra or {})
    return env


def run_ddb2es(args, env=None, timeout=300, input=None, cwd=None):
    """Run the binary; returns (rc, stdout, stderr) as text. A signal death is
    a negative rc (as subprocess reports it). Raises HarnessError if the
    binary is missing or does not finish within `timeout` s."""
    exe = ddb2es_bin()
    if not os.access(exe, os.X_OK):
        raise HarnessError("ddb2es binary not found at %s (run make, or set DDB2ES_BIN)" % exe)
    proc = subprocess.Popen([exe] + list(args), stdin=subprocess.PIPE if input else
                            subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env if env is not None else test_env(), cwd=cwd or REPO,
                            start_new_session=True)
    _children.add(proc)
    try:
        out, err = proc.communicate(input.encode("utf-8") if input else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        ddblocal.stop_process_group(proc, 5)
        out, err = proc.communicate()
        raise HarnessError("ddb2es %s did not finish within %ss; stderr: %s"
                           % (" ".join(args), timeout, err.decode("utf-8", "replace")[-2000:]))
    finally:
        _children.discard(proc)
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


# -- config ------------------------------------------------------------------


def make_config(dynamodb_endpoint, es_url, name="local", region=aws.REGION, protected=False):
    """A ddb2es config with one environment."""
    return {"environments": {name: {"region": region,
                                    "dynamodb": {"endpoint": dynamodb_endpoint},
                                    "elasticsearch": {"url": es_url},
                                    "protected": protected}}}


# -- the Elasticsearch test server -------------------------------------------


def esserver_path():
    """$DDB2ES_ESSERVER, else <repo>/tests/esserver/server.py."""
    return os.environ.get("DDB2ES_ESSERVER") or os.path.join(REPO, "tests", "esserver",
                                                             "server.py")


class ESServer:
    """tests/esserver/server.py on 127.0.0.1, a free port, in its own group."""

    def __init__(self, flavour="es8", workdir=None, ready_timeout=30, stop_timeout=10):
        self.flavour = flavour
        self.workdir = workdir
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.proc = None
        self.port = None
        self.url = None
        self.client = None
        self.startup_seconds = None

    def start(self):
        script = esserver_path()
        if not os.path.exists(script):
            raise HarnessError("Elasticsearch test server not found at %s" % script)
        own = self.workdir is None
        self.workdir = self.workdir or tempfile.mkdtemp(prefix="ddb2es-es-")
        self._own_dir = own
        ready = os.path.join(self.workdir, "es-ready")
        self.log_path = os.path.join(self.workdir, "esserver.log")
        if os.path.exists(ready):
            os.unlink(ready)
        cmd = [sys.executable, script, "--host", "127.0.0.1", "--port", "0",
               "--ready-file", ready, "--flavour", self.flavour]
        t0 = time.monotonic()
        with open(self.log_path, "wb") as log:
            # like DynamoDB Local: the server dies with this process even on SIGKILL
            self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=ddblocal._die_with_parent)
        _children.add(self.proc)
        try:
            self.port = self._wait_ready(ready, t0)
        except HarnessError:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        self.url = "http://127.0.0.1:%d" % self.port
        self.client = esclient.ES(self.url)
        return self

    def _wait_ready(self, ready, t0):
        while time.monotonic() - t0 < self.ready_timeout:
            if self.proc.poll() is not None:
                raise HarnessError("ES test server exited with %s before it was ready:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            port = _read_port(ready)
            if port:
                return port
            time.sleep(0.03)
        raise HarnessError("ES test server wrote no port to %s within %ss:\n%s"
                           % (ready, self.ready_timeout, self.log_tail()))

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self):
        if self.proc is not None:
            try:
                ddblocal.stop_process_group(self.proc, self.stop_timeout)
            finally:
                _children.discard(self.proc)
                self.proc = None
        if getattr(self, "_own_dir", False) and self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _read_port(path):
    """The port in a ready file: a bare number, or JSON {"port": N}; None if not yet."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
    except OSError:
        return None
    if not text:
        return None
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and isinstance(doc.get("port"), int):
            return doc["port"] or None
        if isinstance(doc, int):
            return doc or None
    except ValueError:
        pass
    m = re.search(r"\b(\d{2,5})\b", text)
    return int(m.group(1)) if m else None


# -- Services ------------------------------------------------------------------


class Services:
    """with Services(flavour='es8') as s:
        s.ddb (aws.DynamoDB), s.es (esclient.ES), s.ddb_endpoint, s.es_url,
        s.config_path, s.tmpdir, s.env, s.run_ddb2es(args), s.write_config(...)
    dynamodb=False or es=False leaves that service out (its attributes None)."""

    def __init__(self, flavour="es8", dynamodb=True, es=True):
        self.flavour = flavour
        self.want_ddb = dynamodb
        self.want_es = es
        self.tmpdir = None
        self.dynamodb_local = None
        self.es_server = None
        self.ddb = self.es = None
        self.ddb_endpoint = self.es_url = None
        self.config_path = None
        self.env = test_env()

    def start(self):
        self.tmpdir = tempfile.mkdtemp(prefix="ddb2es-test-")
        # audit log and dead-letter files of the runs stay in the test's own folder
        self.env.setdefault("XDG_STATE_HOME", os.path.join(self.tmpdir, "state"))
        try:
            if self.want_ddb:
                self.dynamodb_local = ddblocal.DynamoDBLocal().start()
                self.ddb = self.dynamodb_local.client
                self.ddb_endpoint = self.dynamodb_local.endpoint
            if self.want_es:
                self.es_server = ESServer(self.flavour, workdir=self.tmpdir).start()
                self.es = self.es_server.client
                self.es_url = self.es_server.url
            self.config_path = self.write_config(
                make_config(self.ddb_endpoint or "http://127.0.0.1:1",
                            self.es_url or "http://127.0.0.1:1"))
        except BaseException:
            self.stop()
            raise
        return self

    def write_config(self, config, name="config.json"):
        """Write a config dict into the temp dir; returns its path."""
        path = os.path.join(self.tmpdir, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
        return path

    def path(self, name):
        return os.path.join(self.tmpdir, name)

    def run_ddb2es(self, args, timeout=300, env_extra=None, input=None):
        env = dict(self.env)
        env.update(env_extra or {})
        return run_ddb2es(args, env=env, timeout=timeout, input=input)

    def stop(self):
        try:
            if self.es_server:
                self.es_server.stop()
            if self.dynamodb_local:
                self.dynamodb_local.stop()
        finally:
            self.es_server = self.dynamodb_local = None
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
                self.tmpdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _stop_children():
    for p in list(_children):
        try:
            ddblocal.stop_process_group(p, 5)
        except Exception:
            pass


atexit.register(_stop_children)


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def install_signal_exit():
    """SIGTERM/SIGHUP raise SystemExit so `with` blocks and atexit stop servers."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _exit_on_signal)


# -- Suite ---------------------------------------------------------------------


class Suite:
    def __init__(self, name=None):
        self.name = name or os.path.splitext(os.path.basename(sys.argv[0]))[0]
        self.tests = []
        self.passed = 0
        self.failed = 0

    def test(self, fn=None, name=None):
        """Decorator: register fn (run in definition order)."""
        def reg(f):
            self.tests.append((name or f.__name__, f))
            return f
        return reg(fn) if fn else reg

    def add(self, name, fn):
        self.tests.append((name, fn))

    def ok(self, name):
        self.passed += 1
        print("ok %s" % name, flush=True)

    def fail(self, name, reason, tb=None):
        self.failed += 1
        lines = str(reason).splitlines() or [""]
        print("FAIL %s: %s" % (name, lines[0]), flush=True)
        for ln in lines[1:]:
            print("    " + ln)
        if tb:
            for ln in tb.rstrip().splitlines():
                print("    | " + ln)
        sys.stdout.flush()

    def run_one(self, name, fn, *args):
        try:
            fn(*args)
        except (TestFailure, HarnessError, ddblocal.DynamoDBLocalError) as e:
            self.fail(name, e)  # the message says it all: no traceback
            return False
        except (Exception, SystemExit) as e:
            if isinstance(e, SystemExit) and e.code and e.code > 128:
                raise  # a signal: stop everything
            self.fail(name, "%s: %s" % (type(e).__name__, e), traceback.format_exc())
            return False
        self.ok(name)
        return True

    def run(self, *args):
        """Run the tests whose function takes as many parameters as given."""
        for name, fn in self.tests:
            if fn.__code__.co_argcount == len(args):
                self.run_one(name, fn, *args)

    def summary(self):
        """Print the last line and return the exit code."""
        sys.stdout.flush()
        sys.stderr.flush()
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0

    def main(self, context=None, after=None):
        """Run the tests without a parameter; then, if `context` is given,
        enter context() (e.g. Services) and run the tests that take one
        parameter with its value; call after(value), leave the context, print
        the summary line and exit (1 when anything failed)."""
        install_signal_exit()
        try:
            if not self.tests:
                self.fail("suite", "no tests registered")
            self.run()
            if context is not None:
                self._run_in(context, after)
        except SystemExit as e:
            self.fail("suite", "interrupted (exit %s)" % e.code)
        except KeyboardInterrupt:
            self.fail("suite", "interrupted")
        sys.exit(self.summary())

    def _run_in(self, context, after):
        t0 = time.monotonic()
        try:
            mgr = context()
            value = mgr.__enter__()
        except (HarnessError, ddblocal.DynamoDBLocalError) as e:
            self.fail("setup", e)
            return
        except Exception as e:
            self.fail("setup", "%s: %s" % (type(e).__name__, e), traceback.format_exc())
            return
        try:
            info("setup took %.2f s" % (time.monotonic() - t0))
            self.run(value)
            if after:
                after(value)
        finally:
            mgr.__exit__(None, None, None)


def tail(text, n=1500):
    """The end of a long text (stderr of a run) for a failure message."""
    text = text or ""
    return text if len(text) <= n else "..." + text[-n:]


def json_diff(got, want, path="", out=None, limit=12):
    """Differences between two parsed JSON values as 'path: got X, want Y'.
    Strict about types: true is not 1, "1" is not 1, null is not ""."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got)):
            p = "%s.%s" % (path, k) if path else k
            if k not in got:
                out.append("%s: missing, want %s" % (p, json.dumps(want[k], ensure_ascii=False)))
            elif k not in want:
                out.append("%s: unexpected field %s" % (p, json.dumps(got[k], ensure_ascii=False)))
            else:
                json_diff(got[k], want[k], p, out, limit)
    elif isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            out.append("%s: %d elements, want %d" % (path, len(got), len(want)))
        for i, (g, w) in enumerate(zip(got, want)):
            json_diff(g, w, "%s[%d]" % (path, i), out, limit)
    elif type(got) is not type(want) and not (
            isinstance(got, (int, float)) and isinstance(want, (int, float))
            and not isinstance(got, bool) and not isinstance(want, bool)) or got != want:
        out.append("%s: got %s, want %s" % (path, json.dumps(got, ensure_ascii=False),
                                            json.dumps(want, ensure_ascii=False)))
    return out


def info(msg):
    """A free-form line for the log (measurements, facts): '# msg'."""
    print("# " + msg, flush=True)
