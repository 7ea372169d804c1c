/*
 * scr_orphans.c - screen 7: the documents of the index whose item is gone
 * from the table (ddb2es/orphans.h).
 *
 * Entering lists them: a job of its own threads (like a sync), watched on
 * the 100 ms tick through orphans_snapshot; listing changes nothing. The list
 * can be reviewed, written to a file that `ddb2es orphans --delete --from`
 * reads back, and deleted. Deleting is asked for by typing (the environment's
 * name when it is protected, else "yes"), after the guard accepted the table
 * and the cluster; the job then re-reads each item (consistent read), deletes
 * only with the sequence number read at listing, refuses more than 10% of the
 * index, and records every deleted id in the audit log.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/audit.h"
#include "ddb2es/buf.h"
#include "ddb2es/es.h"
#include "ddb2es/guard.h"
#include "ddb2es/orphans.h"
#include "ddb2es/report.h"
#include "tui.h"

/* Most orphans kept for review; beyond it they are counted only. */
#define ORPHANS_KEEP 200000

enum phase { P_LISTING, P_LISTED, P_DELETING, P_DELETED };
enum mode { M_VIEW, M_EXPORT, M_CONFIRM };

struct orph_state {
    struct orphans_options o;          /* strings borrowed from t (pick, session): unchanged meanwhile */
    char audit_path[4096];
    struct orphans_job *list_job;      /* its found list is the delete job's candidates */
    struct orphans_job *del_job;
    struct orphans_snapshot snap;      /* of the job that runs (or ran last) */
    const struct orphans_list *found;  /* borrowed from list_job once joined */
    int rc;
    struct ddb2es_error err;
    enum phase phase;
    enum mode mode;
    struct tui_list list;
    struct tui_input input;            /* M_EXPORT: the path; M_CONFIRM: the typed word */
};

static int running(const struct orph_state *s)
{
    return s->phase == P_LISTING || s->phase == P_DELETING;
}

static int start_job(struct tui *t, struct orph_state *s, struct orphans_job **job)
{
    ddb2es_error_clear(&s->err);
    s->rc = orphans_start(&s->o, job, &s->err);
    if (s->rc)
        return s->rc;
    t->job_fd = orphans_wait_fd(*job);
    orphans_snapshot(*job, &s->snap);
    return 0;
}

static int orphans_enter(struct tui *t, void **st)
{
    struct orph_state *s = calloc(1, sizeof(*s));
    const struct ddb2es_env *env = t->ses.env;

    if (!s) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Out of memory", "cannot list the orphans");
        return -1;
    }
    s->o.mode = ORPHANS_LIST;
    s->o.table = t->pick.table;
    s->o.index = t->pick.index;
    s->o.entity = t->pick.entity;
    s->o.region = t->ses.region;
    s->o.ddb_endpoint = env->ddb_endpoint;
    s->o.creds = t->ses.creds;
    s->o.es_url = env->es_url;
    s->o.es_username = env->es_username;
    s->o.es_password = t->ses.es_password;
    s->o.es_sigv4 = env->es_sigv4;
    s->o.es_aws_service = env->es_aws_service;
    s->o.es_ca_file = env->es_ca_file;
    s->o.keep = ORPHANS_KEEP;
    if (start_job(t, s, &s->list_job)) {
        tui_panel_error(t, TUI_AFTER_NOTHING, "Cannot list the orphans", &s->err);
        free(s);
        return -1;
    }
    *st = s;
    return 0;
}

static int list_rows(void)
{
    return tui_body_rows() - 7;
}

static void draw_counts(struct tui *t, struct orph_state *s, int y)
{
    const struct orphans_snapshot *n = &s->snap;
    char el[32], mem[32];

    tui_fmt_duration(n->elapsed, el, sizeof(el));
    tui_fmt_bytes((long long)n->set_bytes, mem, sizeof(mem));
    if (s->phase == P_LISTING) {
        tui_putf(y, 1, COLS - 2, "%s: table keys %llu, index ids checked %llu, orphans %llu  (%s; set %s)",
                 orphans_stage_name(n->stage), n->keys_scanned, n->ids_checked, n->orphans, el, mem);
    } else if (s->phase == P_DELETING || s->phase == P_DELETED) {
        tui_putf(y, 1, COLS - 2, "%s: deleted %llu of %llu; kept %llu (item back), %llu (re-indexed); gone %llu; "
                 "failed %llu", s->phase == P_DELETING ? orphans_stage_name(n->stage) : "deleting done", n->deleted,
                 n->candidates, n->kept_came_back, n->kept_changed, n->already_gone, n->failed);
    } else if (s->rc) {
        attrset(tui_look(t, TUI_LOOK_ERROR));
        tui_putf(y, 1, COLS - 2, "The listing stopped: %s", s->err.message);
        attrset(A_NORMAL);
    } else {
        tui_putf(y, 1, COLS - 2, "%llu orphan%s among %llu documents (strategy %s: %llu table keys; %s; %s)",
                 n->orphans, n->orphans == 1 ? "" : "s", n->ids_checked,
                 n->strategy == ORPHANS_STRATEGY_B ? "b" : "a", n->keys_scanned,
                 n->scan_method[0] ? n->scan_method : "-", el);
    }
}

static void orphans_draw(struct tui *t, void *st)
{
    struct orph_state *s = st;
    int rows = list_rows(), y = 6, by = tui_body_rows();

    tui_putf(2, 1, COLS - 2, "Documents of index %s whose item is gone from table %s", t->pick.index, t->pick.table);
    draw_counts(t, s, 3);
    if (s->found && s->snap.orphans > s->found->n)
        tui_putf(4, 1, COLS - 2, "showing the first %zu", s->found->n);
    if (s->found && s->found->n) {
        attrset(tui_look(t, TUI_LOOK_HEADER));
        tui_putf(5, 1, COLS - 2, "  %6s %-44s %10s %8s", "#", "DOCUMENT ID", "SEQ_NO", "TERM");
        attrset(A_NORMAL);
        s->list.count = s->found->n;
        tui_list_fit(&s->list, rows);
        for (size_t i = s->list.top; i < s->found->n && y < 6 + rows; i++, y++) {
            const struct orphans_item *it = &s->found->v[i];
            int sel = i == s->list.cur && s->mode == M_VIEW;
            attrset(tui_look(t, sel ? TUI_LOOK_SELECTED : TUI_LOOK_NORMAL));
            mvhline(y, 0, ' ', COLS);
            tui_putf(y, 1, COLS - 2, "%s %6zu %-44s %10lld %8lld", sel ? ">" : " ", i + 1, it->id, it->seq_no,
                     it->primary_term);
            attrset(A_NORMAL);
        }
    } else if (s->phase == P_LISTED && !s->rc) {
        tui_put(6, 3, COLS - 4, "No orphans: every document of the index has its item in the table.");
    }
    if (s->mode == M_EXPORT) {
        tui_put(by - 1, 1, COLS - 2, "Write the listing (JSON) to:");
        tui_input_draw(t, &s->input, by, 1, COLS - 2, 1);
    } else if (s->mode == M_CONFIRM) {
        attrset(tui_look(t, TUI_LOOK_WARN));
        if (t->ses.env->is_protected)
            tui_putf(by - 1, 1, COLS - 2, "Delete %zu documents from %s? %s is protected: type its name.",
                     s->found->n, t->pick.index, t->ses.env->name);
        else
            tui_putf(by - 1, 1, COLS - 2, "Delete %zu documents from %s? Each is checked again first. Type yes.",
                     s->found->n, t->pick.index);
        attrset(A_NORMAL);
        tui_input_draw(t, &s->input, by, 1, 40, 1);
    }
}

/* The listing as `ddb2es orphans --format json` writes it. */
static int export_to(struct orph_state *s, const char *path, struct ddb2es_error *err)
{
    struct dbuf b = DBUF_INIT;
    int rc = dbuf_puts(&b, "[");

    for (size_t i = 0; !rc && i < s->found->n; i++) {
        const struct orphans_item *it = &s->found->v[i];
        rc = dbuf_puts(&b, i ? ",\n  {\"id\":" : "\n  {\"id\":");
        if (!rc)
            rc = es_json_string(&b, it->id, strlen(it->id), err);
        if (!rc)
            rc = dbuf_printf(&b, ",\"seq_no\":%lld,\"primary_term\":%lld}", it->seq_no, it->primary_term);
    }
    if (!rc)
        rc = dbuf_puts(&b, s->found->n ? "\n]\n" : "]\n");
    if (rc && !err->message[0])
        ddb2es_failf(err, rc, "out of memory writing the listing");
    if (!rc)
        rc = report_write_file(path, b.data, b.len, err);
    dbuf_free(&b);
    return rc;
}

static int start_delete(struct tui *t, struct orph_state *s)
{
    const struct ddb2es_env *env = t->ses.env;
    struct ddb2es_error err;

    ddb2es_error_clear(&err);
    if (t->ses.cfg->audit_log) {
        snprintf(s->audit_path, sizeof(s->audit_path), "%s", t->ses.cfg->audit_log);
    } else if (audit_default_path(NULL, NULL, s->audit_path, sizeof(s->audit_path), &err)) {
        tui_panel_error(t, TUI_AFTER_NOTHING, "Nothing deleted", &err);
        return TUI_REDRAW;
    }
    s->o.mode = ORPHANS_DELETE;
    s->o.candidates = s->found;
    s->o.guard_env = env;
    s->o.audit_path = s->audit_path;
    s->o.audit_env = env->name;
    if (start_job(t, s, &s->del_job)) {
        tui_panel_error(t, TUI_AFTER_NOTHING, "Nothing deleted", &s->err);
        return TUI_REDRAW;
    }
    s->phase = P_DELETING;
    return TUI_REDRAW;
}

static int text_key(struct tui *t, struct orph_state *s, int ch)
{
    struct ddb2es_error err;
    int r = tui_input_key(&s->input, ch);
    enum mode m = s->mode;

    if (r != TUI_INPUT_DONE && r != TUI_INPUT_CANCEL)
        return TUI_REDRAW;
    s->mode = M_VIEW;
    t->typing = 0;
    if (r == TUI_INPUT_CANCEL)
        return TUI_REDRAW;
    ddb2es_error_clear(&err);
    if (m == M_EXPORT) {
        if (export_to(s, s->input.buf, &err))
            tui_panel_error(t, TUI_AFTER_NOTHING, "Cannot write the listing", &err);
        else
            tui_status(t, 0, "wrote %zu orphans to %s", s->found->n, s->input.buf);
        return TUI_REDRAW;
    }
    if (t->ses.env->is_protected) {
        if (guard_confirm(t->ses.env, s->input.buf, &err)) {
            tui_panel_error(t, TUI_AFTER_NOTHING, "Refused: nothing deleted", &err);
            return TUI_REDRAW;
        }
    } else if (strcmp(s->input.buf, "yes") != 0) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Nothing deleted", "only \"yes\" deletes");
        return TUI_REDRAW;
    }
    return start_delete(t, s);
}

static int orphans_key(struct tui *t, void *st, int req, int ch)
{
    struct orph_state *s = st;
    struct ddb2es_error err;
    char stem[600];
    int flags;

    if (s->mode != M_VIEW)
        return text_key(t, s, ch);
    flags = tui_list_key(&s->list, req, list_rows());
    if (flags)
        return flags;
    switch (req) {
    case REQ_CANCEL:
    case TUI_SIG_CANCEL:
    case TUI_SIG_ABORT:
        if (running(s)) {
            orphans_cancel(s->phase == P_LISTING ? s->list_job : s->del_job);
            tui_status(t, 0, "stopping after the current page");
        }
        return TUI_REDRAW;
    case REQ_EXPORT:
    case REQ_DELETE:
        if (s->phase == P_DELETED) {
            tui_status(t, 1, "these were deleted; Esc and o list the orphans again");
            return TUI_REDRAW;
        }
        if (s->phase != P_LISTED || !s->found || s->found->n == 0) {
            tui_status(t, 1, running(s) ? "wait for the listing to end" : "there is nothing to %s",
                       req == REQ_EXPORT ? "write" : "delete");
            return TUI_REDRAW;
        }
        if (req == REQ_EXPORT) {
            snprintf(stem, sizeof(stem), "%s-%s", t->ses.env->name, t->pick.index);
            tui_state_file("orphans", stem, ".json", s->input.buf, sizeof(s->input.buf));
            s->input.len = strlen(s->input.buf);
            s->mode = M_EXPORT;
        } else {
            ddb2es_error_clear(&err);
            if (guard_check(t->ses.env, t->pick.table_arn[0] ? t->pick.table_arn : NULL, t->ses.env->es_url,
                            &err)) {
                tui_panel_error(t, TUI_AFTER_NOTHING, "Refused by the environment guard", &err);
                return TUI_REDRAW;
            }
            tui_input_set(&s->input, "");
            s->mode = M_CONFIRM;
        }
        t->typing = 1;
        return TUI_REDRAW;
    default:
        return TUI_IGNORED;
    }
}

static void deleted_panel(struct tui *t, struct orph_state *s)
{
    const struct orphans_snapshot *n = &s->snap;
    const struct orphans_result *r = orphans_job_result(s->del_job);
    struct dbuf b = DBUF_INIT;

    dbuf_printf(&b, "Index %s: deleted %llu of %llu candidates.\n", t->pick.index, n->deleted, n->candidates);
    dbuf_printf(&b, "Kept: %llu whose item exists again, %llu re-indexed since the listing. Already gone: %llu. "
                    "Failed: %llu.\n", n->kept_came_back, n->kept_changed, n->already_gone, n->failed);
    for (size_t i = 0; r && i < r->nfailed && i < 5; i++)
        dbuf_printf(&b, "  failed %s: %s\n", r->failed[i], r->failed_why[i]);
    if (s->rc)
        dbuf_printf(&b, "%s\n", s->err.message);
    dbuf_printf(&b, "Deleted ids are recorded in %s", s->audit_path);
    tui_panel(t, s->rc && s->rc != DDB2ES_E_CANCELLED ? TUI_PANEL_ERROR : TUI_PANEL_RESULT, TUI_AFTER_NOTHING,
              s->rc == DDB2ES_E_CANCELLED ? "Deleting cancelled" : s->rc ? "Deleting failed" : "Orphans deleted", "%s",
              dbuf_cstr(&b));
    dbuf_free(&b);
}

static int orphans_tick(struct tui *t, void *st)
{
    struct orph_state *s = st;
    struct orphans_job *job = s->phase == P_LISTING ? s->list_job : s->phase == P_DELETING ? s->del_job : NULL;

    if (!job)
        return TUI_IGNORED;
    orphans_snapshot(job, &s->snap);
    if (s->snap.state == ORPHANS_RUNNING)
        return TUI_REDRAW;
    t->job_fd = -1;
    s->rc = orphans_join(job, &s->err);
    orphans_snapshot(job, &s->snap);
    if (s->phase == P_LISTING) {
        s->phase = P_LISTED;
        s->found = orphans_job_found(job);
        if (s->rc && s->rc != DDB2ES_E_CANCELLED)
            tui_panel_error(t, TUI_AFTER_NOTHING, "The listing failed", &s->err);
    } else {
        s->phase = P_DELETED;
        deleted_panel(t, s);
    }
    return TUI_REDRAW;
}

static int orphans_can_leave(struct tui *t, void *st)
{
    struct orph_state *s = st;

    if (!running(s))
        return 1;
    tui_status(t, 1, "the %s is going on: c stops it", s->phase == P_LISTING ? "listing" : "deleting");
    return 0;
}

static void orphans_leave(struct tui *t, void *st)
{
    struct orph_state *s = st;
    struct ddb2es_error err;

    t->job_fd = -1;
    t->typing = 0;
    if (running(s)) {
        /* torn down with the console: stop, then wait */
        orphans_cancel(s->phase == P_LISTING ? s->list_job : s->del_job);
        orphans_join(s->phase == P_LISTING ? s->list_job : s->del_job, &err);
    }
    orphans_free(s->del_job);
    orphans_free(s->list_job);
    free(s);
}

const struct tui_screen tui_scr_orphans = {
    .title = "Orphans",
    .scopes = TUI_SCOPE_GLOBAL | TUI_SCOPE_LIST | TUI_SCOPE_ORPHANS,
    .enter = orphans_enter,
    .draw = orphans_draw,
    .key = orphans_key,
    .tick = orphans_tick,
    .can_leave = orphans_can_leave,
    .leave = orphans_leave,
};
