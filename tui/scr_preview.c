/*
 * scr_preview.c - screen 4: the first documents exactly as the sync would
 * write them, before anything is written.
 *
 * A task runs preview_run() (ddb2es/preview.h): the first items of the
 * table, mapped by the entity, what would happen to the index (created,
 * exists and matches, differs), and each document compared with what the
 * index holds now (new, unchanged, changed). The list shows one row per item
 * (an item that does not map is marked with its error: one item failed, the
 * preview goes on); below it, the selected document. Enter shows it whole,
 * `s` switches between the document and the DynamoDB item it came from.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/buf.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/es.h"
#include "ddb2es/preview.h"
#include "tui.h"

#define PREVIEW_ITEMS 25

struct preview_state {
    const struct tui_session *ses;  /* borrowed by the task */
    const struct tui_pick *pick;    /* borrowed by the task; not changed while this screen is up */
    struct tui_task task;
    /* written by the task, read after it was joined */
    struct preview_result *res;
    struct ddb2es_error err;
    char outcome[2048];             /* the index outcome, one sentence a line */
    /* UI thread only */
    int joined;
    double started;
    struct tui_list list;
    int detail;                     /* the selected item fills the screen */
    int show_source;                /* the DynamoDB item instead of the document */
    struct dbuf text;               /* what the detail shows, '\n'-separated */
    size_t *lines;                  /* offsets of the lines of text */
    size_t nlines;
    size_t dtop;                    /* the detail's first line shown */
    size_t text_for;                /* the item `text` was built for (+1; 0: none) */
    int text_source;
};

static int run_preview(struct tui_task *task, void *arg)
{
    struct preview_state *s = arg;
    struct preview_options o;
    struct ddb_client *ddb = NULL;
    struct es_client *es = NULL;
    int rc;

    (void)task;
    ddb = tui_session_ddb(s->ses, 1, &s->err);
    if (ddb)
        es = tui_session_es(s->ses, &s->err);
    if (!ddb || !es) {
        rc = (int)s->err.status;
        goto out;
    }
    memset(&o, 0, sizeof(o));
    o.ddb = ddb;
    o.es = es;
    o.table = s->pick->table;
    o.entity = s->pick->entity;
    o.limit = PREVIEW_ITEMS;
    o.with_source = true;
    o.index = s->pick->index;
    o.compare_index = s->pick->index;
    rc = preview_run(&o, &s->res, &s->err);
    if (!rc && s->res->index_checked) {
        struct dbuf d = DBUF_INIT;
        if (indexdef_report_describe(&s->res->index_report, &d) == DDB2ES_OK)
            snprintf(s->outcome, sizeof(s->outcome), "%s", dbuf_cstr(&d));
        dbuf_free(&d);
    }
out:
    es_client_free(es);
    ddb_client_free(ddb);
    return rc;
}

static int preview_enter(struct tui *t, void **st)
{
    struct preview_state *s = calloc(1, sizeof(*s));

    if (!s) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Out of memory", "cannot open the preview");
        return -1;
    }
    s->ses = &t->ses;
    s->pick = &t->pick;
    ddb2es_error_clear(&s->err);
    if (tui_task_start(&s->task, run_preview, s, t->wake_fd) != 0) {
        free(s);
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Cannot preview", "cannot start a thread");
        return -1;
    }
    s->started = tui_now();
    *st = s;
    return 0;
}

/* (Re)builds the detail text for the selected item. */
static void build_text(struct preview_state *s)
{
    const struct preview_item *it;
    struct ddb2es_error err;
    size_t *lines;
    const char *p;

    if (!s->res || s->list.cur >= s->res->nitems)
        return;
    if (s->text_for == s->list.cur + 1 && s->text_source == s->show_source)
        return;
    it = &s->res->items[s->list.cur];
    dbuf_reset(&s->text);
    ddb2es_error_clear(&err);
    if (!s->show_source && !it->mapped) {
        dbuf_printf(&s->text, "not mapped: %s", it->error ? it->error : "(no message)");
    } else if (s->show_source && !it->source) {
        dbuf_printf(&s->text, "the item cannot be shown: %s", it->source_error ? it->source_error : "(no source)");
    } else {
        const char *json = s->show_source ? it->source : it->document;
        size_t len = s->show_source ? strlen(it->source) : it->document_len;
        if (preview_indent_json(json, len, NULL, &s->text, &err) != DDB2ES_OK)
            dbuf_append(&s->text, json, len);
    }
    if (!s->show_source && it->change == PREVIEW_CHANGED) {
        dbuf_printf(&s->text, "\n\nchanges against the document the index holds now (%zu%s):", it->diffs.n,
                    it->diffs.omitted ? " and more" : "");
        for (size_t k = 0; k < it->diffs.n; k++) {
            const struct preview_diff *d = &it->diffs.v[k];
            dbuf_printf(&s->text, "\n  %s %s: %s -> %s", preview_diff_kind_name(d->kind), d->path,
                        d->old_json ? d->old_json : "(none)", d->new_json ? d->new_json : "(none)");
        }
    } else if (it->change == PREVIEW_COMPARE_FAILED) {
        dbuf_printf(&s->text, "\n\ncould not compare with the index: %s",
                    it->compare_error ? it->compare_error : "(no message)");
    }
    s->nlines = 0;
    lines = realloc(s->lines, (s->text.len + 1) * sizeof(*lines));
    if (!lines)
        return;
    s->lines = lines;
    p = dbuf_cstr(&s->text);
    s->lines[s->nlines++] = 0;
    for (size_t i = 0; i < s->text.len; i++)
        if (p[i] == '\n')
            s->lines[s->nlines++] = i + 1;
    s->dtop = 0;
    s->text_for = s->list.cur + 1;
    s->text_source = s->show_source;
}

/* Draws lines [from, from + rows) of the detail text at row y. */
static void draw_text(struct preview_state *s, int y, int rows, size_t from)
{
    const char *p = dbuf_cstr(&s->text);

    for (size_t i = from; i < s->nlines && rows > 0; i++, rows--)
        tui_put(y++, 2, COLS - 3, p + s->lines[i]);
}

static const char *outcome_word(const struct preview_item *it)
{
    if (!it->mapped)
        return "NOT MAPPED";
    return it->change == PREVIEW_NOT_COMPARED ? "mapped" : preview_change_name(it->change);
}

static int list_rows(void)
{
    int rows = (tui_body_rows() - 6) / 2;

    return rows < 3 ? 3 : rows;
}

static void draw_summary(struct tui *t, struct preview_state *s)
{
    const struct preview_result *r = s->res;
    char first[512];
    size_t n;

    tui_putf(2, 1, COLS - 2, "Read %zu item%s of %s%s: %zu mapped, %zu not mapped; %.1f RCU", r->read,
             r->read == 1 ? "" : "s", t->pick.table, r->more ? " (the table has more)" : "", r->mapped, r->failed,
             r->consumed_rcu);
    n = strcspn(s->outcome, "\n");
    snprintf(first, sizeof(first), "%.*s", (int)n, s->outcome);
    if (r->index_checked && r->index_report.outcome == INDEXDEF_EXISTS_DIFFERS)
        attrset(tui_look(t, TUI_LOOK_WARN));
    tui_put(3, 1, COLS - 2, first[0] ? first : "index outcome not checked");
    attrset(A_NORMAL);
    if (r->compared)
        tui_putf(4, 1, COLS - 2, "Against index %s now: %zu new, %zu changed, %zu unchanged%s", t->pick.index,
                 r->n_new, r->n_changed, r->n_unchanged, r->n_compare_failed ? ", some not compared" : "");
}

static void preview_draw(struct tui *t, void *st)
{
    struct preview_state *s = st;
    const char *spin = "|/-\\";
    int rows = list_rows(), y = 6;

    if (!s->joined) {
        tui_putf(2, 1, COLS - 2, "%c reading the first %d items of %s and mapping them with %s ...",
                 spin[(int)((tui_now() - s->started) * 8) % 4], PREVIEW_ITEMS, t->pick.table,
                 entity_name(t->pick.entity));
        return;
    }
    if (!s->res) {
        attrset(tui_look(t, TUI_LOOK_ERROR));
        tui_put(2, 1, COLS - 2, "The preview failed:");
        attrset(A_NORMAL);
        tui_put(3, 1, COLS - 2, s->err.message);
        tui_put(5, 1, COLS - 2, "n goes on to the confirmation anyway; Esc goes back.");
        return;
    }
    build_text(s);
    if (s->detail) {
        const struct preview_item *it = &s->res->items[s->list.cur];
        int h = tui_body_rows() - 2;
        attrset(tui_look(t, TUI_LOOK_HEADER));
        tui_putf(2, 1, COLS - 2, "Item %zu of %zu  id %s  %s  (%s; s switches)", s->list.cur + 1, s->res->nitems,
                 it->id ? it->id : "?", outcome_word(it), s->show_source ? "the DynamoDB item" : "the document");
        attrset(A_NORMAL);
        if (s->dtop + (size_t)h > s->nlines)
            s->dtop = s->nlines > (size_t)h ? s->nlines - (size_t)h : 0;
        draw_text(s, 3, h, s->dtop);
        return;
    }
    draw_summary(t, s);
    attrset(tui_look(t, TUI_LOOK_HEADER));
    tui_putf(5, 1, COLS - 2, "  %4s %-38s %s", "#", "DOCUMENT ID", "OUTCOME");
    attrset(A_NORMAL);
    s->list.count = s->res->nitems;
    tui_list_fit(&s->list, rows);
    for (size_t i = s->list.top; i < s->res->nitems && y < 6 + rows; i++, y++) {
        const struct preview_item *it = &s->res->items[i];
        int sel = i == s->list.cur;
        attrset(sel ? tui_look(t, TUI_LOOK_SELECTED) : tui_look(t, it->mapped ? TUI_LOOK_NORMAL : TUI_LOOK_ERROR));
        mvhline(y, 0, ' ', COLS);
        tui_putf(y, 1, COLS - 2, "%s %4zu %-38s %s%s%s", sel ? ">" : " ", it->position + 1, it->id ? it->id : "?",
                 outcome_word(it), it->mapped ? "" : ": ", it->mapped ? "" : (it->error ? it->error : ""));
        attrset(A_NORMAL);
    }
    if (s->res->nitems == 0) {
        tui_put(6, 3, COLS - 4, "the table has no items: the sync would write nothing");
        return;
    }
    y = 6 + rows;
    mvhline(y, 1, ACS_HLINE, COLS - 2);
    attrset(tui_look(t, TUI_LOOK_DIM));
    tui_putf(y, 3, COLS - 6, " %s of item %zu (Enter: all of it) ", s->show_source ? "DynamoDB item" : "document",
             s->list.cur + 1);
    attrset(A_NORMAL);
    draw_text(s, y + 1, tui_body_rows() - y, 0);
}

static int preview_key(struct tui *t, void *st, int req, int ch)
{
    struct preview_state *s = st;
    int flags;

    (void)ch;
    if (s->detail) {
        if (req == REQ_BACK || req == REQ_SELECT) {
            s->detail = 0;
            return TUI_REDRAW;
        }
        if (req >= REQ_UP && req <= REQ_END) {
            size_t h = (size_t)(tui_body_rows() - 2), last = s->nlines > h ? s->nlines - h : 0;
            switch (req) {
            case REQ_UP: s->dtop = s->dtop > 0 ? s->dtop - 1 : 0; break;
            case REQ_DOWN: s->dtop = s->dtop < last ? s->dtop + 1 : last; break;
            case REQ_PGUP: s->dtop = s->dtop > h - 1 ? s->dtop - (h - 1) : 0; break;
            case REQ_PGDN: s->dtop = s->dtop + (h - 1) < last ? s->dtop + (h - 1) : last; break;
            case REQ_HOME: s->dtop = 0; break;
            default: s->dtop = last; break;
            }
            return TUI_REDRAW;
        }
    }
    if (s->res && !s->detail) {
        flags = tui_list_key(&s->list, req, list_rows());
        if (flags)
            return flags;
    }
    switch (req) {
    case REQ_SELECT:
        if (s->res && s->res->nitems)
            s->detail = 1;
        return TUI_REDRAW;
    case REQ_SOURCE:
        s->show_source = !s->show_source;
        return TUI_REDRAW;
    case REQ_NEXT:
        if (!s->joined) {
            tui_status(t, 0, "the preview is still reading; a moment");
            return TUI_REDRAW;
        }
        tui_push(t, &tui_scr_confirm);
        return TUI_REDRAW;
    default:
        return TUI_IGNORED;
    }
}

static int preview_tick(struct tui *t, void *st)
{
    struct preview_state *s = st;

    if (s->joined)
        return TUI_IGNORED;
    if (!tui_task_finished(&s->task))
        return TUI_REDRAW; /* the spinner */
    tui_task_join(&s->task);
    s->joined = 1;
    if (!s->res)
        tui_panel_error(t, TUI_AFTER_NOTHING, "The preview failed", &s->err);
    return TUI_REDRAW;
}

static void preview_leave(struct tui *t, void *st)
{
    struct preview_state *s = st;

    (void)t;
    tui_task_join(&s->task);
    preview_result_free(s->res);
    dbuf_free(&s->text);
    free(s->lines);
    free(s);
}

const struct tui_screen tui_scr_preview = {
    .title = "Preview",
    .scopes = TUI_SCOPE_GLOBAL | TUI_SCOPE_LIST | TUI_SCOPE_PREVIEW | TUI_SCOPE_STEP,
    .enter = preview_enter,
    .draw = preview_draw,
    .key = preview_key,
    .tick = preview_tick,
    .leave = preview_leave,
};
