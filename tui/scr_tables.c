/*
 * scr_tables.c - screen 2: the environment's DynamoDB tables.
 *
 * A task lists the tables (ListTables, every page), shows them at once, then
 * describes them one by one for the approximate item count and size; each
 * row appears and fills in as the answers come. A table that cannot be
 * described is marked on its row (one item failed); a list that cannot be
 * read at all is a panel. `/` filters by name as you type.
 */
#include <ctype.h>
#include <curses.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/dynamo.h"
#include "tui.h"

struct table_row {
    char name[256];
    const struct entity *entity;   /* the entity listing this table, or NULL */
    int described;                 /* 0 not yet, 1 done, -1 DescribeTable failed */
    long long items, bytes;        /* approximate; -1 unknown */
    char arn[512];
    char status[24];               /* ACTIVE, CREATING ... */
    char error[DDB2ES_ERR_MSG_MAX]; /* why it could not be described */
};

struct tables_state {
    const struct tui_session *ses;  /* borrowed by the task; outlives the screen */
    struct tui_task task;
    pthread_mutex_t lock;           /* guards everything up to `version` */
    struct table_row *rows;         /* set once by the task, then only filled in */
    size_t nrows;
    int listed;                     /* ListTables answered */
    int failed;                     /* ListTables failed: err says why */
    struct ddb2es_error err;
    size_t ndescribed;
    unsigned version;               /* bumped on every change */
    /* UI thread only */
    unsigned drawn_version;
    double started;
    struct tui_list list;
    size_t *view;                   /* indices of the rows passing the filter */
    size_t nview;
    struct tui_input filter;
    int filtering;
};

static int load_tables(struct tui_task *task, void *arg)
{
    struct tables_state *s = arg;
    struct ddb2es_error err;
    struct ddb_client *c;
    struct table_row *rows = NULL;
    char **names = NULL;
    size_t n = 0;
    int rc;

    ddb2es_error_clear(&err);
    c = tui_session_ddb(s->ses, 1, &err);
    rc = c ? ddb_list_tables(c, &names, &n, &err) : (int)err.status;
    if (!rc) {
        rows = calloc(n ? n : 1, sizeof(*rows));
        if (!rows)
            rc = ddb2es_failf(&err, DDB2ES_E_NOMEM, "out of memory listing %zu tables", n);
    }
    if (rc) {
        pthread_mutex_lock(&s->lock);
        s->failed = 1;
        s->err = err;
        s->version++;
        pthread_mutex_unlock(&s->lock);
        ddb_names_free(names);
        ddb_client_free(c);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(rows[i].name, sizeof(rows[i].name), "%s", names[i]);
        rows[i].entity = entity_set_find_table(s->ses->entities, names[i]);
        rows[i].items = rows[i].bytes = -1;
    }
    ddb_names_free(names);
    pthread_mutex_lock(&s->lock);
    s->rows = rows;
    s->nrows = n;
    s->listed = 1;
    s->version++;
    pthread_mutex_unlock(&s->lock);

    for (size_t i = 0; i < n && !atomic_load(&task->stop); i++) {
        struct ddb_table_info ti;
        memset(&ti, 0, sizeof(ti));
        ddb2es_error_clear(&err);
        rc = ddb_describe_table(c, rows[i].name, &ti, &err);
        pthread_mutex_lock(&s->lock);
        if (rc) {
            rows[i].described = -1;
            snprintf(rows[i].error, sizeof(rows[i].error), "%s", err.message);
        } else {
            rows[i].described = 1;
            rows[i].items = ti.item_count;
            rows[i].bytes = ti.size_bytes;
            snprintf(rows[i].arn, sizeof(rows[i].arn), "%s", ti.arn ? ti.arn : "");
            snprintf(rows[i].status, sizeof(rows[i].status), "%s", ti.status ? ti.status : "");
        }
        s->ndescribed++;
        s->version++;
        pthread_mutex_unlock(&s->lock);
        ddb_table_info_free(&ti);
    }
    ddb_client_free(c);
    return DDB2ES_OK;
}

static int start_loading(struct tui *t, struct tables_state *s)
{
    if (tui_task_start(&s->task, load_tables, s, t->wake_fd) != 0) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Cannot list the tables", "cannot start a thread");
        return -1;
    }
    s->started = tui_now();
    return 0;
}

static void clear_rows(struct tables_state *s)
{
    pthread_mutex_lock(&s->lock);
    free(s->rows);
    s->rows = NULL;
    s->nrows = s->ndescribed = 0;
    s->listed = s->failed = 0;
    ddb2es_error_clear(&s->err);
    s->version++;
    pthread_mutex_unlock(&s->lock);
}

static int tables_enter(struct tui *t, void **st)
{
    struct tables_state *s = calloc(1, sizeof(*s));

    if (!s) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Out of memory", "cannot open the table list");
        return -1;
    }
    s->ses = &t->ses;
    pthread_mutex_init(&s->lock, NULL);
    start_loading(t, s);
    *st = s;
    return 0;
}

/* Case-insensitive substring. */
static int matches(const char *name, const char *filter)
{
    size_t fl = strlen(filter);

    if (fl == 0)
        return 1;
    for (const char *p = name; *p; p++) {
        size_t i = 0;
        while (i < fl && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)filter[i]))
            i++;
        if (i == fl)
            return 1;
    }
    return 0;
}

/* Rebuilds the filtered view. Caller holds s->lock. */
static void build_view(struct tables_state *s)
{
    size_t *v = realloc(s->view, (s->nrows ? s->nrows : 1) * sizeof(*v));

    if (!v)
        return; /* keep the old view: the next change tries again */
    s->view = v;
    s->nview = 0;
    for (size_t i = 0; i < s->nrows; i++)
        if (matches(s->rows[i].name, s->filter.buf))
            s->view[s->nview++] = i;
    s->list.count = s->nview;
}

static int list_rows(void)
{
    return tui_body_rows() - 6;
}

static void tables_draw(struct tui *t, void *st)
{
    struct tables_state *s = st;
    const char *spin = "|/-\\";
    int rows = list_rows(), y = 5, namew = COLS - 2 - 2 - 14 - 9 - 11 - 3;
    char items[32], bytes[32];

    if (namew > 48)
        namew = 48;
    pthread_mutex_lock(&s->lock);
    build_view(s);
    s->drawn_version = s->version;
    if (s->failed)
        attrset(tui_look(t, TUI_LOOK_ERROR));
    if (s->failed)
        tui_put(2, 1, COLS - 2, "Could not list the tables (r: try again)");
    else if (!s->listed)
        tui_putf(2, 1, COLS - 2, "%c listing the tables of %s ...", spin[(int)((tui_now() - s->started) * 8) % 4],
                 t->ses.env->name);
    else if (s->ndescribed < s->nrows)
        tui_putf(2, 1, COLS - 2, "%zu tables in %s (%s); reading their sizes %zu/%zu", s->nrows, t->ses.env->name,
                 t->ses.region, s->ndescribed, s->nrows);
    else
        tui_putf(2, 1, COLS - 2, "%zu tables in %s (%s)", s->nrows, t->ses.env->name, t->ses.region);
    attrset(A_NORMAL);
    if (s->filtering || s->filter.len) {
        tui_put(3, 1, 8, "Filter:");
        tui_input_draw(t, &s->filter, 3, 9, 40, s->filtering);
        tui_putf(3, 51, COLS - 52, "%zu of %zu", s->nview, s->nrows);
    }
    attrset(tui_look(t, TUI_LOOK_HEADER));
    tui_putf(4, 1, COLS - 2, "  %-*s %-14s %9s %11s", namew, "TABLE", "ENTITY", "~ITEMS", "~SIZE");
    attrset(A_NORMAL);
    tui_list_fit(&s->list, rows);
    for (size_t i = s->list.top; i < s->nview && y < 5 + rows; i++, y++) {
        const struct table_row *r = &s->rows[s->view[i]];
        int sel = i == s->list.cur;
        if (r->described == 1) {
            tui_fmt_count(r->items, items, sizeof(items));
            tui_fmt_bytes(r->bytes, bytes, sizeof(bytes));
        } else {
            snprintf(items, sizeof(items), "%s", r->described < 0 ? "error" : "...");
            snprintf(bytes, sizeof(bytes), "%s", r->described < 0 ? "" : "...");
        }
        attrset(sel ? tui_look(t, TUI_LOOK_SELECTED) : tui_look(t, r->entity ? TUI_LOOK_NORMAL : TUI_LOOK_DIM));
        mvhline(y, 0, ' ', COLS);
        tui_putf(y, 1, COLS - 2, "%s %-*.*s %-14.14s %9s %11s", sel ? ">" : " ", namew, namew, r->name,
                 r->entity ? entity_name(r->entity) : "-", items, bytes);
        attrset(A_NORMAL);
    }
    if (s->list.cur < s->nview) {
        const struct table_row *r = &s->rows[s->view[s->list.cur]];
        int by = tui_body_rows() - 1;
        if (r->described < 0) {
            attrset(tui_look(t, TUI_LOOK_ERROR));
            tui_putf(by, 1, COLS - 2, "DescribeTable failed: %s", r->error);
            attrset(A_NORMAL);
        } else if (!r->entity) {
            tui_put(by, 1, COLS - 2, "No entity lists this table: you will pick one (or add an entity file).");
        }
    }
    pthread_mutex_unlock(&s->lock);
    attrset(tui_look(t, TUI_LOOK_DIM));
    tui_put(tui_body_rows(), 1, COLS - 2,
            "~ DynamoDB's approximate ItemCount and size, refreshed by AWS about every 6 hours.");
    attrset(A_NORMAL);
}

/* Fills t->pick from the selected row and opens the target screen. */
static int choose(struct tui *t, struct tables_state *s)
{
    const struct table_row *r;
    const struct entity *e;

    pthread_mutex_lock(&s->lock);
    if (s->list.cur >= s->nview) {
        pthread_mutex_unlock(&s->lock);
        return TUI_HANDLED;
    }
    r = &s->rows[s->view[s->list.cur]];
    memset(&t->pick, 0, sizeof(t->pick));
    snprintf(t->pick.table, sizeof(t->pick.table), "%s", r->name);
    snprintf(t->pick.table_arn, sizeof(t->pick.table_arn), "%s", r->arn);
    t->pick.item_count = r->described == 1 ? r->items : -1;
    t->pick.size_bytes = r->described == 1 ? r->bytes : -1;
    e = r->entity;
    pthread_mutex_unlock(&s->lock);
    t->pick.entity = e;
    if (e) {
        snprintf(t->pick.index, sizeof(t->pick.index), "%s", entity_name(e));
    } else {
        /* no entity: a lower-case table name is only a starting point */
        size_t i;
        for (i = 0; t->pick.table[i] && i + 1 < sizeof(t->pick.index); i++)
            t->pick.index[i] = (char)tolower((unsigned char)t->pick.table[i]);
        t->pick.index[i] = '\0';
    }
    tui_push(t, &tui_scr_target);
    return TUI_REDRAW;
}

static int tables_key(struct tui *t, void *st, int req, int ch)
{
    struct tables_state *s = st;
    int flags;

    if (s->filtering) {
        int r = tui_input_key(&s->filter, ch);
        if (r == TUI_INPUT_DONE || r == TUI_INPUT_CANCEL) {
            if (r == TUI_INPUT_CANCEL)
                tui_input_set(&s->filter, "");
            s->filtering = 0;
            t->typing = 0;
        } else if (r == TUI_INPUT_EDITED) {
            s->list.cur = s->list.top = 0;
        } else {
            /* arrows still move while typing */
            pthread_mutex_lock(&s->lock);
            tui_list_key(&s->list, tui_key_lookup(TUI_SCOPE_LIST, ch), list_rows());
            pthread_mutex_unlock(&s->lock);
        }
        return TUI_REDRAW;
    }
    pthread_mutex_lock(&s->lock);
    flags = tui_list_key(&s->list, req, list_rows());
    pthread_mutex_unlock(&s->lock);
    if (flags)
        return flags;
    switch (req) {
    case REQ_FILTER:
        s->filtering = 1;
        t->typing = 1;
        return TUI_REDRAW;
    case REQ_RELOAD:
        if (s->task.running && !tui_task_finished(&s->task)) {
            tui_status(t, 0, "still reading the tables");
            return TUI_REDRAW;
        }
        tui_task_join(&s->task);
        clear_rows(s);
        start_loading(t, s);
        return TUI_REDRAW;
    case REQ_SELECT:
        return choose(t, s);
    case REQ_BACK:
        if (s->filter.len) {
            tui_input_set(&s->filter, "");
            return TUI_REDRAW;
        }
        return TUI_IGNORED;
    default:
        return TUI_IGNORED;
    }
}

static int tables_tick(struct tui *t, void *st)
{
    struct tables_state *s = st;
    int flags = 0, joined = 0;

    if (tui_task_finished(&s->task)) {
        tui_task_join(&s->task);
        joined = 1;
    }
    pthread_mutex_lock(&s->lock);
    if (joined && s->failed)
        tui_panel_error(t, TUI_AFTER_NOTHING, "Cannot list the tables", &s->err);
    if (joined || s->version != s->drawn_version || (s->task.running && !s->listed))
        flags |= TUI_REDRAW; /* new rows, or the spinner */
    pthread_mutex_unlock(&s->lock);
    return flags;
}

static void tables_leave(struct tui *t, void *st)
{
    struct tables_state *s = st;

    (void)t;
    tui_task_join(&s->task);
    free(s->rows);
    free(s->view);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const struct tui_screen tui_scr_tables = {
    .title = "Tables",
    .scopes = TUI_SCOPE_GLOBAL | TUI_SCOPE_LIST | TUI_SCOPE_TABLES,
    .enter = tables_enter,
    .draw = tables_draw,
    .key = tables_key,
    .tick = tables_tick,
    .leave = tables_leave,
};
