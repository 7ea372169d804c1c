#!/usr/bin/env python3
"""The ncurses console, driven in a real terminal: tmux.

Each test starts a private tmux server (its own socket, no user config) with
one 100x30 pane running a plain bash, types `ddb2es console --config F; echo
EXIT=$?` into it, then sends keys and reads the screen with capture-pane. The
services are real (tests/lib/harness.py: DynamoDB Local and the
Elasticsearch test server), seeded with tests/lib/seed.py items.

What is checked, screen by screen: environment picker (protected marked) ->
tables (entity, ItemCount) -> index and entity -> preview (the table's
documents, the index outcome) -> confirmation -> progress -> result panel,
and that the index then holds exactly the table's documents; a protected
environment refusing a wrong typed name (nothing written) and accepting the
right one; cancelling a rate-limited run with c; the `?` help; resizing
during a run; SIGINT during a run cancelling it; a missing configuration
(a panel until a key, then exit 2); the orphans screen (list, export,
delete); and that the terminal is given back (alternate screen off, cursor
on, the shell prompt again) after q, after SIGTERM and after a crash
signal. Every tmux server is killed in `finally`.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.environ.get("DDB2ES_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import seed  # noqa: E402
from harness import (HarnessError, Services, Suite, TestFailure, check, check_eq,  # noqa: E402
                     ddb2es_bin, info, run_ddb2es, test_env)

N_PERSONS = 300
PROMPT = "PROMPT$ "
suite = Suite()
state = {}  # the config path and the seeded ids, set by the first test with services


class Pane:
    """One tmux server with one pane running bash, on a private socket."""

    def __init__(self, env, name):
        self.sock = "ddb2es-tui-%d-%s" % (os.getpid(), name)
        self.name = name
        self.env = env

    def tmux(self, *args, check_rc=True):
        r = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(args),
                           capture_output=True, text=True, env=self.env, timeout=20)
        if check_rc and r.returncode != 0:
            raise HarnessError("tmux %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def start(self, cols=100, rows=30):
        self.tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), "-s", self.name,
                  "bash --norc --noprofile")
        self.tmux("set-option", "-t", self.name, "status", "off")
        self.type("export PS1='%s'; clear" % PROMPT)
        self.keys("Enter")
        self.wait(re.escape(PROMPT.strip()))
        return self

    def kill(self):
        self.tmux("kill-server", check_rc=False)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", self.name, "-l", text)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def fmt(self, f):
        return self.tmux("display", "-p", "-t", self.name, f).strip()

    def wait(self, pattern, timeout=10, gone=False):
        """Waits until `pattern` (a regex) is on screen (or gone); returns the screen."""
        end = time.monotonic() + timeout
        while True:
            text = self.screen()
            found = re.search(pattern, text, re.M) is not None
            if found != gone:
                return text
            if time.monotonic() > end:
                raise TestFailure("%s %r on screen after %ss; the screen:\n%s"
                                  % ("still" if gone else "no", pattern, timeout, text))
            time.sleep(0.05)

    def console(self, extra=""):
        self.type("%s console --config %s%s; echo EXIT=$?" % (ddb2es_bin(), state["config"], extra))
        self.keys("Enter")
        return self.wait(r"Environments\s*$")

    def child_pid(self):
        """The console's pid (the pane's shell's child)."""
        shell = self.fmt("#{pane_pid}")
        out = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
        check(out, "no process runs in the pane")
        return int(out[0])

    def check_restored(self, code):
        """The console ended with `code` and gave the terminal back."""
        text = self.wait(r"^EXIT=\d+", timeout=15)
        got = re.search(r"^EXIT=(\d+)", text, re.M).group(1)
        check_eq(int(got), code, "exit status of the console; the screen:\n%s" % text)
        check_eq(self.fmt("#{alternate_on}"), "0", "alternate screen still on after the console ended")
        check_eq(self.fmt("#{cursor_flag}"), "1", "cursor still hidden after the console ended")
        lines = [ln for ln in self.wait(re.escape(PROMPT.strip()) + r"\s*$").splitlines() if ln.strip()]
        check_eq(lines[-1].strip(), PROMPT.strip(), "the last line is the shell prompt again")


def pane_env(s):
    env = dict(s.env)
    env.update({"XDG_STATE_HOME": os.path.join(s.tmpdir, "state"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "PS1": PROMPT})
    env.pop("TMUX", None)
    return env


def with_pane(s, name, fn, cols=100, rows=30):
    pane = Pane(pane_env(s), name)
    try:
        pane.start(cols, rows)
        fn(pane)
    finally:
        pane.kill()


def dismiss_and_quit(p, code=0):
    p.keys("x")  # closes a panel if one is open
    time.sleep(0.2)
    p.keys("Escape")
    time.sleep(0.2)
    p.keys("q")
    p.check_restored(code)


def walk_to_confirm(p, env_down=0, index=None, rate=None):
    """Environment (Down env_down times) -> Persons -> target (index, rate) -> preview -> confirm."""
    for _ in range(env_down):
        p.keys("Down")
    p.keys("Enter")
    p.wait(r"Persons\s+persons\s+300")
    p.keys("/")
    p.type("Pers")
    p.keys("Enter")
    p.wait(r"1 of 2")
    p.keys("Enter")
    p.wait(r"Index\s+persons")
    if index:
        p.keys("i", "C-u")
        p.type(index)
        p.keys("Enter")
        p.wait(r"Index\s+%s" % re.escape(index))
    if rate:
        p.keys("Down", "Down", "Down", "Down", "Enter", "C-u")
        p.type(str(rate))
        p.keys("Enter")
        p.wait(r"Rate limit\s+%d documents per second" % rate)
    p.keys("n")
    p.wait(r"Read 25 items of Persons")
    p.keys("n")
    return p.wait(r"About to sync")


# -- without services ----------------------------------------------------------------


@suite.test
def no_terminal_prints_usage():
    for args in ([], ["console"]):
        rc, out, err = run_ddb2es(args, timeout=30)
        check_eq(rc, 2, "exit code of ddb2es %s without a terminal (stderr: %s)" % (" ".join(args), err[-300:]))
        check("usage" in err.lower() and "console" in err, "usage on stderr: %r" % err[:400])


@suite.test
def missing_config_is_a_panel_then_exit_2():
    env = test_env({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PS1": PROMPT})
    env.pop("TMUX", None)
    p = Pane(env, "noconfig")
    try:
        p.start()
        p.type("%s console --config /nonexistent/ddb2es.json; echo EXIT=$?" % ddb2es_bin())
        p.keys("Enter")
        text = p.wait(r"Cannot start")
        check("/nonexistent/ddb2es.json" in text and "press any key" in text, "the panel:\n" + text)
        p.keys("x")
        p.check_restored(2)
        check("ddb2es: cannot open /nonexistent/ddb2es.json" in p.screen(), "the error kept in the scrollback")
    finally:
        p.kill()


# -- with services ----------------------------------------------------------------------


@suite.test
def seed_tables(s):
    s.ddb.create_table("Persons")
    s.ddb.batch_write("Persons", seed.persons(N_PERSONS, seed=7))
    s.ddb.create_table("TenureInformation")
    s.ddb.batch_write("TenureInformation", seed.tenures(20, seed=8))
    state["ids"] = {it["id"]["S"] for it in s.ddb.scan_all("Persons")}
    check_eq(len(state["ids"]), N_PERSONS, "items in Persons")
    target = {"region": "eu-west-2", "dynamodb": {"endpoint": s.ddb_endpoint},
              "elasticsearch": {"url": s.es_url}}
    state["audit"] = s.path("audit.jsonl")
    state["config"] = s.write_config({"environments": {
        "local": dict(target, protected=False),
        "guarded": dict(target, protected=True)}, "audit_log": state["audit"]}, name="tui-config.json")


@suite.test
def walk_env_to_result(s):
    def run(p):
        text = p.console()
        check(re.search(r"local\s+eu-west-2\s+-\s+http", text), "local listed, not protected:\n" + text)
        check(re.search(r"guarded\s+eu-west-2\s+PROTECTED", text), "guarded marked PROTECTED:\n" + text)
        p.keys("Enter")
        text = p.wait(r"Persons\s+persons\s+300")
        check(re.search(r"TenureInformation\s+tenures\s+20", text), "TenureInformation with its entity:\n" + text)
        check("refreshed by AWS about every 6 hours" in text, "the ItemCount note:\n" + text)
        p.keys("Enter")
        text = p.wait(r"Index\s+persons")
        check(re.search(r"Entity\s+persons", text), "entity persons chosen for Persons:\n" + text)
        p.keys("n")
        text = p.wait(r"Read 25 items of Persons \(the table has more\): 25 mapped")
        check("does not exist: it will be created" in text, "the index outcome:\n" + text)
        check("25 new" in text, "compared with the index: all new:\n" + text)
        shown = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))
        check(shown and shown <= state["ids"], "the preview shows ids of the table: %s" % sorted(shown)[:3])
        check('"firstname":' in text, "the selected document below the list:\n" + text)
        p.keys("s")
        text = p.wait(r"DynamoDB item of item 1")
        p.keys("Enter")
        text = p.wait(r"Item 1 of 25 .*the DynamoDB item")
        p.keys("Escape", "n")
        text = p.wait(r"About to sync")
        check(re.search(r"To\s+index persons at http://127\.0\.0\.1", text), "the target in the summary:\n" + text)
        check(re.search(r"Options\s+segments auto, concurrency 4, rate unlimited", text), "options:\n" + text)
        check("external versions off, fast load off" in text, "options:\n" + text)
        p.keys("y")
        text = p.wait(r"Sync done", timeout=30)
        check(re.search(r"Scanned 300, indexed 300, failed 0", text), "result counts:\n" + text)
        check("Exit state: done" in text, "exit state:\n" + text)
        s.es.refresh("persons")
        docs = s.es.all_docs("persons")
        check_eq(set(docs), state["ids"], "document ids in the index")
        p.keys("x")
        p.wait(r"Sync done", gone=True)
        p.keys("Escape")
        p.wait(r"Tables\s*$")
        p.keys("q")
        p.check_restored(0)
    with_pane(s, "walk", run)


@suite.test
def help_overlay(s):
    def run(p):
        p.console()
        p.keys("?")
        text = p.wait(r"Keys")
        check(re.search(r"\?\s+help\s+this help", text), "help lists ?:\n" + text)
        check(re.search(r"q\s+quit\s+quit the console", text), "help lists q:\n" + text)
        check("filter the tables" not in text, "no table keys on the environment screen:\n" + text)
        p.keys("x")
        p.wait(r"this help", gone=True)
        p.keys("Enter")
        p.wait(r"Persons\s+persons")
        p.keys("?")
        text = p.wait(r"Keys")
        check(re.search(r"/\s+filter\s+filter the tables by name", text), "table keys in the help:\n" + text)
        p.keys("x", "q")
        p.check_restored(0)
    with_pane(s, "help", run)


@suite.test
def protected_env_wants_its_name(s):
    def run(p):
        p.console()
        text = walk_to_confirm(p, env_down=1, index="guarded-persons")
        check("guarded is protected. Type its name" in text, "asks for the name:\n" + text)
        p.type("local")
        p.keys("Enter")
        text = p.wait(r"Refused")
        check("does not match" in text, "says why:\n" + text)
        check(not s.es.exists("guarded-persons"), "a refused confirmation wrote nothing")
        with open(state["audit"], encoding="utf-8") as f:
            refusals = [json.loads(l) for l in f if '"refused"' in l]
        check(refusals and refusals[-1]["environment"] == "guarded" and refusals[-1]["command"] == "console",
              "the refusal is in the audit log: %r" % refusals)
        p.keys("x")
        p.wait(r"Refused", gone=True)
        p.type("guarded")
        p.keys("Enter")
        text = p.wait(r"Sync done", timeout=30)
        check(re.search(r"indexed 300", text), "the right name runs the sync:\n" + text)
        s.es.refresh("guarded-persons")
        check_eq(s.es.count("guarded-persons"), N_PERSONS, "documents in guarded-persons")
        with open(state["audit"], encoding="utf-8") as f:
            done = [json.loads(l) for l in f if '"done"' in l]
        check(done and done[-1]["indexed"] == N_PERSONS and done[-1]["index"] == "guarded-persons",
              "the run is in the audit log: %r" % done[-1:])
        dismiss_and_quit(p)
    with_pane(s, "guard", run)


@suite.test
def cancel_and_resize_during_a_run(s):
    def run(p):
        p.console()
        walk_to_confirm(p, index="slow", rate=20)
        p.keys("y")
        text = p.wait(r"RUNNING", timeout=15)
        check("Rate limit      20 docs/s" in text, "the rate limit shown:\n" + text)
        check("AWS refreshes only every ~6 h" in text, "the ETA note:\n" + text)
        p.tmux("resize-window", "-t", p.name, "-x", "80", "-y", "24")
        p.wait(r"^ ddb2es .{60,80}Sync\s*$")  # redrawn at the new width
        p.wait(r"Scanned\s+[1-9]")
        p.keys("c")
        text = p.wait(r"Sync cancelled", timeout=15)
        m = re.search(r"Scanned (\d+), indexed (\d+)", text)
        check(m, "counts in the result:\n" + text)
        scanned, indexed = int(m.group(1)), int(m.group(2))
        check(0 < indexed < N_PERSONS, "cancelled part-way: indexed %d of %d" % (indexed, N_PERSONS))
        check_eq(indexed, scanned, "a graceful cancel sends what was read")
        s.es.refresh("slow")
        check_eq(s.es.count("slow"), indexed, "documents in the index after the cancel")
        p.tmux("resize-window", "-t", p.name, "-x", "50", "-y", "12")
        p.wait(r"too small")
        p.wait(r"60x16 needed")
        p.tmux("resize-window", "-t", p.name, "-x", "100", "-y", "30")
        p.wait(r"Sync cancelled")
        dismiss_and_quit(p)
    with_pane(s, "cancel", run)


@suite.test
def interrupt_cancels_the_run(s):
    def run(p):
        p.console()
        walk_to_confirm(p, index="interrupted", rate=20)
        p.keys("y")
        p.wait(r"Scanned\s+[1-9]", timeout=15)
        os.kill(p.child_pid(), signal.SIGINT)
        text = p.wait(r"Sync cancelled", timeout=15)
        check("Exit state: cancelled" in text, "a first interrupt cancels gracefully:\n" + text)
        dismiss_and_quit(p)
    with_pane(s, "intr", run)


@suite.test
def orphans_list_export_delete(s):
    s.es.bulk_index("persons", {"ghost-%d" % i: {"id": "ghost-%d" % i, "firstname": "Ghost"} for i in range(3)})
    check_eq(s.es.count("persons"), N_PERSONS + 3, "documents before")

    def run(p):
        p.console()
        p.keys("Enter")
        p.wait(r"Persons\s+persons\s+300")
        p.keys("Enter")
        p.wait(r"Index\s+persons")
        p.keys("o")
        text = p.wait(r"3 orphans among 303 documents", timeout=20)
        check(all("ghost-%d" % i in text for i in range(3)), "the orphans listed:\n" + text)
        p.keys("w")
        p.wait(r"Write the listing")
        p.keys("Enter")
        p.wait(r"wrote 3 orphans to /")
        outdir = os.path.join(s.tmpdir, "state", "ddb2es", "orphans")
        files = os.listdir(outdir)
        check_eq(len(files), 1, "files in %s" % outdir)
        with open(os.path.join(outdir, files[0]), encoding="utf-8") as f:
            listed = json.load(f)
        check_eq(sorted(x["id"] for x in listed), ["ghost-0", "ghost-1", "ghost-2"], "ids in the export")
        check(all(x["seq_no"] >= 0 and x["primary_term"] >= 1 for x in listed), "seq_no in the export")
        p.keys("D")
        p.wait(r"Type yes")
        p.type("no")
        p.keys("Enter")
        p.wait(r"Nothing deleted")
        check_eq(s.es.count("persons"), N_PERSONS + 3, "nothing deleted without yes")
        p.keys("x", "D")
        p.wait(r"Type yes")
        p.type("yes")
        p.keys("Enter")
        text = p.wait(r"Orphans deleted", timeout=20)
        check("deleted 3 of 3 candidates" in text, "the delete result:\n" + text)
        s.es.refresh("persons")
        check_eq(set(s.es.all_docs("persons")), state["ids"], "ids after deleting the orphans")
        dismiss_and_quit(p)
    with_pane(s, "orphans", run)


@suite.test
def sigterm_restores_the_terminal(s):
    def run(p):
        p.console()
        check_eq(p.fmt("#{alternate_on}"), "1", "the console uses the alternate screen")
        os.kill(p.child_pid(), signal.SIGTERM)
        p.check_restored(130)
    with_pane(s, "term", run)


@suite.test
def crash_signal_restores_the_terminal(s):
    def run(p):
        p.console()
        p.keys("Enter")
        p.wait(r"Persons\s+persons")
        os.kill(p.child_pid(), signal.SIGSEGV)
        p.check_restored(128 + signal.SIGSEGV)
    with_pane(s, "crash", run)


def main():
    if not shutil.which("tmux"):
        print("FAIL setup: tmux is not installed (tests/setup.sh installs it)")
        print("0 passed, 1 failed")
        sys.exit(1)
    t0 = time.monotonic()
    suite.main(lambda: Services(flavour="es8"), after=lambda s: info("took %.1f s" % (time.monotonic() - t0)))


if __name__ == "__main__":
    main()
