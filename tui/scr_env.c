/* scr_env.c - screen 1: the environments of the configuration. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

struct env_state {
    struct tui_list list;
};

static int env_enter(struct tui *t, void **st)
{
    struct env_state *s = calloc(1, sizeof(*s));

    if (!s) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_QUIT, "Out of memory", "cannot open the environment list");
        return -1;
    }
    s->list.count = t->ses.cfg->nenvs;
    *st = s;
    return 0;
}

static int list_rows(void)
{
    return tui_body_rows() - 6;
}

static void env_draw(struct tui *t, void *st)
{
    struct env_state *s = st;
    int rows = list_rows(), y = 4;

    tui_putf(2, 1, COLS - 2, "Configuration: %s", t->ses.config_path);
    attrset(tui_look(t, TUI_LOOK_HEADER));
    tui_putf(3, 1, COLS - 2, "%-3s%-18s %-12s %-10s %s", "", "ENVIRONMENT", "REGION", "GUARD", "ELASTICSEARCH");
    attrset(A_NORMAL);
    tui_list_fit(&s->list, rows);
    for (size_t i = s->list.top; i < s->list.count && y < 4 + rows; i++, y++) {
        const struct ddb2es_env *e = &t->ses.cfg->envs[i];
        int sel = i == s->list.cur;
        attrset(sel ? tui_look(t, TUI_LOOK_SELECTED) : tui_look(t, TUI_LOOK_NORMAL));
        mvhline(y, 0, ' ', COLS);
        tui_putf(y, 1, COLS - 2, "%-3s%-18s %-12s %-10s %s", sel ? ">" : "", e->name, e->region,
                 e->is_protected ? "PROTECTED" : "-", e->es_url);
        if (e->is_protected && !sel) {
            attrset(tui_look(t, TUI_LOOK_WARN));
            tui_put(y, 1 + 3 + 19 + 13, 10, "PROTECTED");
        }
        attrset(A_NORMAL);
    }
    if (s->list.cur < s->list.count) {
        const struct ddb2es_env *e = &t->ses.cfg->envs[s->list.cur];
        int by = tui_body_rows() - 1;
        tui_putf(by, 1, COLS - 2, "DynamoDB: %s%s   AWS profile: %s   account: %s",
                 e->ddb_endpoint ? e->ddb_endpoint : "AWS in ", e->ddb_endpoint ? "" : e->region,
                 e->profile ? e->profile : "default", e->account_id ? e->account_id : "not checked");
        tui_putf(by + 1, 1, COLS - 2, "%s",
                 e->is_protected ? "Protected: you will type the environment's name before anything is written."
                                 : "Enter opens the environment's tables.");
    }
}

static int env_key(struct tui *t, void *st, int req, int ch)
{
    struct env_state *s = st;
    struct ddb2es_error err;
    const struct ddb2es_env *e;
    int flags;

    (void)ch;
    flags = tui_list_key(&s->list, req, list_rows());
    if (flags)
        return flags;
    if (req != REQ_SELECT || s->list.cur >= s->list.count)
        return TUI_IGNORED;
    e = &t->ses.cfg->envs[s->list.cur];
    ddb2es_error_clear(&err);
    if (tui_session_open_env(&t->ses, e, &err)) {
        tui_panel_error(t, TUI_AFTER_NOTHING, "Cannot open the environment", &err);
        return TUI_REDRAW;
    }
    memset(&t->pick, 0, sizeof(t->pick));
    t->pick.item_count = t->pick.size_bytes = -1;
    tui_push(t, &tui_scr_tables);
    return TUI_REDRAW;
}

static void env_leave(struct tui *t, void *st)
{
    (void)t;
    free(st);
}

const struct tui_screen tui_scr_env = {
    .title = "Environments",
    .scopes = TUI_SCOPE_GLOBAL | TUI_SCOPE_LIST,
    .enter = env_enter,
    .draw = env_draw,
    .key = env_key,
    .leave = env_leave,
};
