#!/usr/bin/env python3
"""kill -9 and Ctrl-C in the middle of a sync, then --resume: nothing is lost.

A sync of 3,000 Persons (3 segments, Scan pages of 100, bulks of 50) is
slowed down by the test server (latency on every _bulk) so that it lasts a
few seconds, and killed with SIGKILL early (~10% indexed), in the middle
(~50%) and late (~85%). While it runs, a thread reads the checkpoint file
as often as it can: every read must be valid JSON (write + fsync + rename).
At the moment of the kill the checkpoint must not claim more than the index
holds: every item of a segment marked done, and every item up to the
segment's saved LastEvaluatedKey (in that segment's scan order), is in the
index. Then `sync --checkpoint F --resume` must exit 0, read less than the
whole table when the checkpoint had moved, and leave the index equal to the
table. The middle run also uses --fast-load: the settings the killed run
changed are restored when the same command is run again with --resume.

SIGINT: exit 130, the checkpoint written, resume completes. A second SIGINT
stops at once (hard abort): the checkpoint is still consistent and resume
completes.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import seed  # noqa: E402
from harness import Services, Suite, check, check_eq, info  # noqa: E402
from synctest import (BgSync, CheckpointWatcher, check_checkpoint_valid, check_exit,  # noqa: E402
                      check_index_equals, create_index, es_stats, index_settings,
                      prepare_services, reset_es, run_sync, seed_table, set_faults, sync_args,
                      tail)

N = 3000
SEGMENTS = 3
TABLE, INDEX = "Persons", "persons"
RUN_ARGS = ["--segments", SEGMENTS, "--scan-limit", 100, "--bulk-docs", 50, "--concurrency", 2]
SLOW = {"latency_ms": {"ms": 100, "paths": ["/_bulk"]}}
suite = Suite()
state = {}


def items(s):
    if "items" not in state:
        prepare_services(s)
        t0 = time.monotonic()
        state["items"] = seed_table(s, TABLE, seed.persons(N, seed=81))
        # each segment's items in scan order, to check what a checkpoint claims
        state["order"] = {
            str(seg): [it["id"]["S"] for it in s.ddb.scan_all(TABLE, limit=100, segment=seg,
                                                               total_segments=SEGMENTS)]
            for seg in range(SEGMENTS)}
        info("seeded %d Persons in %.1f s; items per segment %s"
             % (N, time.monotonic() - t0, [len(v) for v in state["order"].values()]))
    return state["items"]


def indexed_now(s):
    return es_stats(s).get("docs", {}).get(INDEX, 0)


def check_checkpoint_claims(s, ck, what):
    """Every item the checkpoint says is done is in the index now. Returns
    the number of items the checkpoint covers."""
    s.es.refresh(INDEX)
    have = set(s.es.all_docs(INDEX, page=2000))
    covered = 0
    for seg, ids in state["order"].items():
        entry = ck["segments"].get(seg)
        check(entry is not None, "%s: checkpoint has no segment %s: %s" % (what, seg, ck["segments"]))
        if entry.get("done"):
            upto = len(ids)
        elif entry.get("key"):
            key = entry["key"]["id"]["S"]
            check(key in ids, "%s: segment %s key %s is not an item of that segment" % (what, seg, key))
            upto = ids.index(key) + 1
        else:
            upto = 0
        missing = [i for i in ids[:upto] if i not in have]
        check(not missing, "%s: the checkpoint covers %d items of segment %s but %d of them are "
              "not in the index (e.g. %s)" % (what, upto, seg, len(missing), missing[:3]))
        covered += upto
    return covered


def interrupted_run(s, name, stop_at, sig, fast_load=False, second_sigint=False):
    """Starts a slow sync, sends `sig` once `stop_at` documents are in the index;
    returns (rc, stderr, checkpoint, covered, in index at the stop, seconds to exit)."""
    reset_es(s)
    extra = []
    if fast_load:
        create_index(s, INDEX, settings={"refresh_interval": "3s", "number_of_replicas": 1})
        extra = ["--fast-load"]
    set_faults(s, SLOW)
    ck_path = s.path("ck-%s.json" % name)
    if os.path.exists(ck_path):
        os.unlink(ck_path)
    args = sync_args(s, TABLE, INDEX, *RUN_ARGS, "--checkpoint", ck_path, *extra,
                     summary=s.path("summary-%s.json" % name))
    watcher = CheckpointWatcher(ck_path)
    run = BgSync(s, args)
    try:
        run.wait_until(lambda: indexed_now(s) >= stop_at, timeout=120,
                       what="%d documents in the index" % stop_at)
        check(run.running(), "%s: the run ended before %d documents were indexed; stderr: %s"
              % (name, stop_at, tail(run.stderr(), 500)))
        if fast_load:
            check_eq(index_settings(s, INDEX), ("-1", "0"),
                     "%s: refresh_interval, number_of_replicas during the load" % name)
        t_sig = time.monotonic()
        run.signal(sig)
        if second_sigint:
            time.sleep(0.05)
            run.signal(signal.SIGINT)
        rc, out, err = run.wait(120)
        took = time.monotonic() - t_sig
    finally:
        run.stop()
        watcher.stop()
    s.es.delete("/_test/faults")
    check(watcher.reads > 0, "%s: the checkpoint file was never there to read" % name)
    check(not watcher.bad, "%s: %d reads; these were not JSON: %r" % (name, watcher.reads, watcher.bad))
    ck = check_checkpoint_valid(ck_path, TABLE, INDEX)
    at_stop = indexed_now(s)
    covered = check_checkpoint_claims(s, ck, name)
    info("%s: signal %d after %d docs indexed; exit %d %.2f s later; %d checkpoint reads, all "
         "JSON; checkpoint covers %d items, index holds %d"
         % (name, sig, stop_at, rc, took, watcher.reads, covered, at_stop))
    return rc, err, ck, covered, at_stop, took


def resume(s, name, covered, at_stop, expect_less=True, extra=()):
    ck_path = s.path("ck-%s.json" % name)
    rc, out, err, doc = run_sync(s, sync_args(s, TABLE, INDEX, *RUN_ARGS, "--checkpoint", ck_path,
                                              "--resume", *extra,
                                              summary=s.path("summary-%s-resume.json" % name)))
    check_exit(rc, 0, err, "%s: exit code of the resumed run" % name)
    info("%s: resumed run read %d items (the checkpoint covered %d); %d documents sent again"
         % (name, doc["scanned"], covered, max(0, doc["scanned"] - (N - at_stop))))
    check_eq(doc["scanned"], N - covered, "%s: items the resumed run read (table minus what the "
             "checkpoint covers)" % name)
    if expect_less:
        check(covered > 0, "%s: the checkpoint had not moved at the stop" % name)
    ck = check_checkpoint_valid(ck_path, TABLE, INDEX)
    check(all(v.get("done") for v in ck["segments"].values()),
          "%s: checkpoint after the resumed run: %s" % (name, ck["segments"]))
    check_index_equals(s, INDEX, state["items"], what=name)
    return doc


@suite.test
def kill_9_early_then_resume(s):
    items(s)
    rc, err, ck, covered, at_stop, _ = interrupted_run(s, "kill-early", N // 10, signal.SIGKILL)
    check_eq(rc, -signal.SIGKILL, "killed by SIGKILL")
    resume(s, "kill-early", covered, at_stop, expect_less=False)


@suite.test
def kill_9_middle_then_resume_restores_fast_load(s):
    items(s)
    rc, err, ck, covered, at_stop, _ = interrupted_run(s, "kill-middle", N // 2, signal.SIGKILL,
                                                       fast_load=True)
    check_eq(rc, -signal.SIGKILL, "killed by SIGKILL")
    # the killed run could not restore them: still the fast-load values
    check_eq(index_settings(s, INDEX), ("-1", "0"), "settings after the kill")
    # the operator runs the same command again with --resume
    resume(s, "kill-middle", covered, at_stop, extra=["--fast-load"])
    check_eq(index_settings(s, INDEX), ("3s", "1"),
             "refresh_interval, number_of_replicas after the resumed run")


@suite.test
def kill_9_late_then_resume(s):
    items(s)
    rc, err, ck, covered, at_stop, _ = interrupted_run(s, "kill-late", N * 85 // 100, signal.SIGKILL)
    check_eq(rc, -signal.SIGKILL, "killed by SIGKILL")
    resume(s, "kill-late", covered, at_stop)


@suite.test
def sigint_cancels_with_130_and_resume_completes(s):
    items(s)
    rc, err, ck, covered, at_stop, took = interrupted_run(s, "sigint", N * 2 // 5, signal.SIGINT)
    check_exit(rc, 130, err, "exit code after SIGINT")
    check("cancel" in err.lower(), "stderr says it cancels: %s" % tail(err, 400))
    check(not all(v.get("done") for v in ck["segments"].values()),
          "the cancelled run's checkpoint says everything is done: %s" % ck["segments"])
    # a graceful cancel drains what it read and saves it: nothing is left to send twice
    check_eq(covered, at_stop, "items the checkpoint covers after the cancel (documents in the index)")
    doc = resume(s, "sigint", covered, at_stop)
    check(doc["scanned"] < N, "the resumed run read the whole table again")


@suite.test
def second_sigint_aborts_and_resume_completes(s):
    items(s)
    rc, err, ck, covered, at_stop, took = interrupted_run(s, "abort", N * 2 // 5, signal.SIGINT,
                                                          second_sigint=True)
    check_exit(rc, 130, err, "exit code after two SIGINTs")
    resume(s, "abort", covered, at_stop, expect_less=False)


@suite.test
def resume_without_segments_keeps_the_checkpoints_shape(s):
    # The default number of segments comes from DescribeTable's sizes, which AWS
    # refreshes every few hours; a resume must not be refused because the
    # default moved: without --segments it takes the checkpoint's.
    items(s)
    rc, err, ck, covered, at_stop, _ = interrupted_run(s, "shape", N // 3, signal.SIGINT)
    check_exit(rc, 130, err, "exit code after SIGINT")
    args = list(RUN_ARGS)
    i = args.index("--segments")
    del args[i:i + 2]
    rc, out, err, doc = run_sync(s, sync_args(s, TABLE, INDEX, *args, "--checkpoint", s.path("ck-shape.json"),
                                              "--resume", summary=s.path("summary-shape-resume.json")))
    check_exit(rc, 0, err, "exit code of the resume without --segments")
    check_eq(doc["segments_total"], int(SEGMENTS), "segments of the resumed run (the checkpoint's)")
    check_eq(doc["scanned"], N - covered, "items the resumed run read")
    check_index_equals(s, INDEX, state["items"], what="shape")


if __name__ == "__main__":
    suite.main(lambda: Services(flavour="es8"))
