/*
 * run.c - one sync started from the console. See run.h.
 *
 * The order of the steps is the headless command's (cli/cmd_sync.c): the
 * index is prepared from the entity's definition, fast-load settings are
 * saved and applied, the pipeline starts; at the end the settings are
 * restored whatever the outcome. Everything that talks to a service runs on
 * the run's task; the UI thread only starts tasks, reads snapshots and sends
 * the pipeline's thread-safe controls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/audit.h"
#include "ddb2es/buf.h"
#include "ddb2es/es.h"
#include "ddb2es/indexdef.h"
#include "run.h"

void tui_run_init(struct tui_run *r, const struct tui *t)
{
    const struct ddb2es_env *env = t->ses.env;
    char stem[1024];

    memset(r, 0, sizeof(*r));
    r->ses = &t->ses;
    snprintf(r->env, sizeof(r->env), "%s", env->name);
    snprintf(r->table, sizeof(r->table), "%s", t->pick.table);
    snprintf(r->index, sizeof(r->index), "%s", t->pick.index);
    snprintf(r->entity, sizeof(r->entity), "%s", entity_name(t->pick.entity));
    snprintf(stem, sizeof(stem), "%s-%s-%s", env->name, r->table, r->index);
    tui_state_file("dead-letter", stem, ".ndjson", r->dl_path, sizeof(r->dl_path));
    snprintf(r->fl_state, sizeof(r->fl_state), "%s.settings", r->dl_path);
    r->fast_load = t->pick.fast_load;
    r->rate = t->pick.max_rate;
    r->so.table = r->table;
    r->so.region = t->ses.region;
    r->so.ddb_endpoint = env->ddb_endpoint;
    r->so.creds = t->ses.creds;
    r->so.es_url = env->es_url;
    r->so.index = r->index;
    r->so.es_username = env->es_username;
    r->so.es_password = t->ses.es_password;
    r->so.es_sigv4 = env->es_sigv4;
    r->so.es_aws_service = env->es_aws_service;
    r->so.es_ca_file = env->es_ca_file;
    r->so.entity = t->pick.entity;
    r->so.external_version = t->pick.external_version;
    r->so.total_segments = t->pick.segments;
    r->so.segment_first = r->so.segment_last = -1; /* every segment */
    r->so.concurrency = t->pick.concurrency;
    r->so.max_docs_per_sec = (double)t->pick.max_rate;
    r->so.dead_letter_path = r->dl_path;
    r->so.guard_env = env; /* the pipeline checks the table's account once DescribeTable answered */
    ddb2es_error_clear(&r->err);
    ddb2es_error_clear(&r->restore_err);
    r->phase = TUI_RUN_STARTING;
}

/* One audit record of the run; a log that cannot be written is reported in the result. */
static void audit(struct tui_run *r, const char *outcome, const char *why, const struct sync_snapshot *snap)
{
    struct audit_sync rec;
    struct ddb2es_error err;

    memset(&rec, 0, sizeof(rec));
    rec.command = "console";
    rec.environment = r->env;
    rec.table = r->table;
    rec.index = r->index;
    rec.entity = r->entity;
    rec.mode = "in-place";
    rec.outcome = outcome;
    rec.reason = why;
    rec.snap = snap;
    ddb2es_error_clear(&err);
    if (audit_sync_append(r->ses->cfg->audit_log, &rec, &err) && r->restore_rc == 0) {
        r->restore_rc = (int)err.status;
        r->restore_err = err;
    }
}

/* STARTING, on the task: index, fast load, sync_start. */
static int start_fn(struct tui_task *task, void *arg)
{
    struct tui_run *r = arg;
    struct indexdef_report rep;
    struct dbuf d = DBUF_INIT;
    struct es_client *es;
    int rc;

    indexdef_report_init(&rep);
    es = tui_session_es(r->ses, &r->err);
    if (!es)
        return (int)r->err.status;
    rc = indexdef_prepare(es, r->index, r->so.entity, 1, &rep, &r->err);
    if (rc)
        goto out;
    r->index_differs = rep.outcome == INDEXDEF_EXISTS_DIFFERS;
    if (indexdef_report_describe(&rep, &d) == DDB2ES_OK)
        snprintf(r->index_note, sizeof(r->index_note), "%s", dbuf_cstr(&d));
    if (atomic_load(&task->stop)) {
        rc = ddb2es_failf(&r->err, DDB2ES_E_CANCELLED, "cancelled before the run started; nothing was written");
        goto out;
    }
    if (r->fast_load) {
        rc = target_fast_load_begin(es, r->index, r->fl_state, &r->fl, &r->err);
        if (rc)
            goto out;
    }
    rc = sync_start(&r->so, &r->job, &r->err);
out:
    if (rc && r->fl.active)
        r->restore_rc = target_fast_load_end(es, r->fl_state, &r->fl, &r->restore_err);
    if (rc)
        audit(r, rc == DDB2ES_E_GUARD ? "refused" : rc == DDB2ES_E_CANCELLED ? "cancelled" : "failed",
              r->err.message, NULL);
    indexdef_report_free(&rep);
    dbuf_free(&d);
    es_client_free(es);
    return rc;
}

/* FINISHING, on the task: the run's status, then the settings back. */
static int finish_fn(struct tui_task *task, void *arg)
{
    struct tui_run *r = arg;
    struct es_client *es;

    (void)task;
    r->rc = sync_join(r->job, &r->err);
    sync_snapshot(r->job, &r->snap);
    audit(r, r->rc == DDB2ES_OK ? (r->snap.failed || r->snap.map_failed ? "some-failed" : "done")
                 : r->rc == DDB2ES_E_CANCELLED ? "cancelled" : "failed",
          r->rc == DDB2ES_OK ? NULL : r->err.message, &r->snap);
    if (r->fl.active) {
        es = tui_session_es(r->ses, &r->restore_err);
        r->restore_rc = es ? target_fast_load_end(es, r->fl_state, &r->fl, &r->restore_err)
                           : (int)r->restore_err.status;
        es_client_free(es);
    }
    return r->rc;
}

int tui_run_begin(struct tui_run *r, int wake_fd)
{
    if (tui_task_start(&r->task, start_fn, r, wake_fd) != 0) {
        r->rc = ddb2es_failf(&r->err, DDB2ES_E_INTERNAL, "cannot start a thread for the run");
        r->phase = TUI_RUN_ENDED;
        return r->rc;
    }
    return 0;
}

static int final_state(enum sync_state s)
{
    return s == SYNC_DONE || s == SYNC_CANCELLED || s == SYNC_FAILED;
}

int tui_run_step(struct tui_run *r, int wake_fd, int *job_fd)
{
    switch (r->phase) {
    case TUI_RUN_STARTING:
        if (!tui_task_finished(&r->task))
            return 0;
        r->rc = tui_task_join(&r->task);
        if (r->rc) {
            r->phase = TUI_RUN_ENDED;
            return 1;
        }
        r->started = 1;
        r->phase = TUI_RUN_RUNNING;
        *job_fd = sync_wait_fd(r->job);
        if (r->rate != (long)r->so.max_docs_per_sec)
            sync_set_rate(r->job, (double)r->rate, r->so.max_rcu_per_sec);
        if (r->abort_asked)
            sync_abort(r->job);
        else if (r->cancel_asked)
            sync_cancel(r->job);
        sync_snapshot(r->job, &r->snap);
        return 1;
    case TUI_RUN_RUNNING:
        sync_snapshot(r->job, &r->snap);
        if (!final_state(r->snap.state))
            return 0;
        *job_fd = -1;
        r->phase = TUI_RUN_FINISHING;
        if (tui_task_start(&r->task, finish_fn, r, wake_fd) != 0)
            finish_fn(&r->task, r); /* no thread: finish here, the UI waits a moment */
        return 1;
    case TUI_RUN_FINISHING:
        if (r->task.running && !tui_task_finished(&r->task))
            return 0;
        tui_task_join(&r->task);
        sync_snapshot(r->job, &r->snap);
        r->phase = TUI_RUN_ENDED;
        return 1;
    case TUI_RUN_ENDED:
        return 0;
    }
    return 0;
}

void tui_run_cancel(struct tui_run *r)
{
    if (r->phase == TUI_RUN_STARTING) {
        r->cancel_asked = 1;
        atomic_store(&r->task.stop, 1); /* start_fn looks before it starts the pipeline */
    } else if (r->phase == TUI_RUN_RUNNING) {
        sync_cancel(r->job);
    }
}

void tui_run_abort(struct tui_run *r)
{
    if (r->phase == TUI_RUN_STARTING) {
        r->abort_asked = 1;
        atomic_store(&r->task.stop, 1);
    } else if (r->phase == TUI_RUN_RUNNING) {
        sync_abort(r->job);
    }
}

void tui_run_pause(struct tui_run *r)
{
    if (r->phase == TUI_RUN_RUNNING && (r->snap.state == SYNC_RUNNING || r->snap.state == SYNC_PAUSED)) {
        sync_pause(r->job, r->snap.state != SYNC_PAUSED);
        sync_snapshot(r->job, &r->snap);
    }
}

void tui_run_rate_step(struct tui_run *r, int dir)
{
    static const long ladder[] = {10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
    const int n = (int)(sizeof(ladder) / sizeof(ladder[0]));
    long next = r->rate;

    if (dir < 0) {
        /* from unlimited: the first step below what it does now, so it slows at once */
        double now = r->rate ? (double)r->rate : r->snap.docs_per_sec;
        next = ladder[0];
        for (int i = n - 1; i >= 0; i--) {
            if ((double)ladder[i] < now) {
                next = ladder[i];
                break;
            }
        }
    } else if (r->rate) {
        next = 0; /* above the ladder: unlimited */
        for (int i = 0; i < n; i++) {
            if (ladder[i] > r->rate) {
                next = ladder[i];
                break;
            }
        }
    }
    r->rate = next;
    if (r->phase == TUI_RUN_RUNNING)
        sync_set_rate(r->job, (double)r->rate, r->so.max_rcu_per_sec);
}

int tui_run_ended(const struct tui_run *r)
{
    return r->phase == TUI_RUN_ENDED;
}

const char *tui_run_outcome(const struct tui_run *r, int *exit_code)
{
    int code;
    const char *what;

    if (r->rc == DDB2ES_E_CANCELLED) {
        code = 130;
        what = "cancelled";
    } else if (r->rc == DDB2ES_E_GUARD) {
        code = 3;
        what = "refused by the guard";
    } else if (r->rc) {
        code = 2;
        what = r->started ? "failed" : "did not start";
    } else if (r->restore_rc) {
        code = 2;
        what = "done, but the index settings were not restored";
    } else if (r->snap.failed || r->snap.map_failed) {
        code = 1;
        what = "done, some documents failed";
    } else {
        code = 0;
        what = "done";
    }
    if (exit_code)
        *exit_code = code;
    return what;
}

void tui_run_result_text(const struct tui_run *r, char *out, size_t outsz)
{
    const struct sync_snapshot *s = &r->snap;
    struct dbuf b = DBUF_INIT;
    char sent[32];
    int code;
    const char *what = tui_run_outcome(r, &code);

    dbuf_printf(&b, "%s -> %s (entity %s) in %s: %s.\n", r->table, r->index, r->entity, r->env, what);
    if (r->started) {
        tui_fmt_bytes((long long)s->bytes_sent, sent, sizeof(sent));
        dbuf_printf(&b,
                    "Scanned %llu, indexed %llu, failed %llu, not mapped %llu, newer in index %llu, retried %llu, "
                    "throttled %llu times.\n",
                    s->scanned, s->indexed, s->failed, s->map_failed, s->newer_in_index, s->retried_docs,
                    s->throttles);
        dbuf_printf(&b, "%.1f s, %s sent, %.1f read capacity units.\n", s->elapsed, sent, s->consumed_rcu);
    }
    if (s->failed || s->map_failed)
        dbuf_printf(&b, "%llu documents failed or did not map; they are kept in %s\n", s->failed + s->map_failed,
                    r->dl_path);
    if (r->rc && r->err.message[0])
        dbuf_printf(&b, "%s: %s\n", r->rc == DDB2ES_E_CANCELLED ? "Why" : "Error", r->err.message);
    if (r->index_note[0])
        dbuf_printf(&b, "Index: %.*s\n", (int)strcspn(r->index_note, "\n"), r->index_note);
    if (r->fast_load && r->started)
        dbuf_printf(&b, "Fast load: %s\n", r->restore_rc ? r->restore_err.message : "index settings restored");
    else if (r->restore_rc)
        dbuf_printf(&b, "Fast load: %s\n", r->restore_err.message);
    dbuf_printf(&b, "Exit state: %s (the headless command would exit with %d).", what, code);
    snprintf(out, outsz, "%s", dbuf_cstr(&b));
    dbuf_free(&b);
}

void tui_run_free(struct tui_run *r)
{
    if (r->phase == TUI_RUN_RUNNING) {
        /* only reached when the console is torn down mid-run: stop, then finish */
        sync_abort(r->job);
        r->phase = TUI_RUN_FINISHING;
        finish_fn(&r->task, r);
    }
    tui_task_join(&r->task);
    if (r->job && r->phase == TUI_RUN_STARTING) {
        /* the task started a job nobody will watch */
        sync_abort(r->job);
        finish_fn(&r->task, r);
    }
    sync_free(r->job);
    r->job = NULL;
}
