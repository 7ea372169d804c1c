/*
 * scr_confirm.c - screen 5: what is about to happen, and the go-ahead.
 *
 * The environment guard is asked first (guard_check: the table's account and
 * the cluster must be the environment's); a refusal is a panel that stays
 * until a key, and the run cannot be started from here. A protected
 * environment then wants its name typed (guard_confirm); a wrong name is
 * refused the same way. Otherwise y or Enter starts the run.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/audit.h"
#include "ddb2es/guard.h"
#include "tui.h"

struct confirm_state {
    int refused;                  /* guard_check said no: err says why */
    struct ddb2es_error err;
    struct tui_input typed;       /* protected: the name being typed */
};

/* Every refusal leaves an audit record, as the headless sync does. */
static void audit_refusal(struct tui *t, const struct ddb2es_error *why)
{
    struct audit_sync rec;
    struct ddb2es_error err;

    memset(&rec, 0, sizeof(rec));
    rec.command = "console";
    rec.environment = t->ses.env->name;
    rec.table = t->pick.table;
    rec.index = t->pick.index;
    rec.entity = t->pick.entity ? entity_name(t->pick.entity) : NULL;
    rec.mode = "in-place";
    rec.outcome = "refused";
    rec.reason = why->message;
    ddb2es_error_clear(&err);
    if (audit_sync_append(t->ses.cfg->audit_log, &rec, &err))
        tui_status(t, 1, "%s", err.message);
}

static int confirm_enter(struct tui *t, void **st)
{
    struct confirm_state *s = calloc(1, sizeof(*s));
    const char *arn = t->pick.table_arn[0] ? t->pick.table_arn : NULL;

    if (!s) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Out of memory", "cannot open the confirmation");
        return -1;
    }
    ddb2es_error_clear(&s->err);
    if (guard_check(t->ses.env, arn, t->ses.env->es_url, &s->err)) {
        s->refused = 1;
        audit_refusal(t, &s->err);
        tui_panel_error(t, TUI_AFTER_NOTHING, "Refused by the environment guard", &s->err);
    } else if (t->ses.env->is_protected) {
        t->typing = 1;
    }
    *st = s;
    return 0;
}

static void row(int y, const char *label, const char *value)
{
    attrset(A_BOLD);
    tui_put(y, 2, 14, label);
    attrset(A_NORMAL);
    tui_put(y, 16, COLS - 17, value);
}

static void confirm_draw(struct tui *t, void *st)
{
    struct confirm_state *s = st;
    const struct ddb2es_env *env = t->ses.env;
    const struct tui_pick *p = &t->pick;
    char v[1024], items[32], bytes[32], seg[32], rate[48];
    int y = 2;

    tui_fmt_count(p->item_count, items, sizeof(items));
    tui_fmt_bytes(p->size_bytes, bytes, sizeof(bytes));
    attrset(tui_look(t, TUI_LOOK_HEADER));
    tui_put(y++, 1, COLS - 2, "About to sync");
    attrset(A_NORMAL);
    y++;
    snprintf(v, sizeof(v), "%s (%s)%s", env->name, t->ses.region, env->is_protected ? "  PROTECTED" : "");
    row(y++, "Environment", v);
    snprintf(v, sizeof(v), "DynamoDB table %s, ~%s items, ~%s  (%s)", p->table, items, bytes,
             env->ddb_endpoint ? env->ddb_endpoint : "AWS");
    row(y++, "From", v);
    snprintf(v, sizeof(v), "index %s at %s", p->index, env->es_url);
    row(y++, "To", v);
    snprintf(v, sizeof(v), "%s (%s)", entity_name(p->entity), entity_source_path(p->entity));
    row(y++, "Entity", v);
    if (p->segments)
        snprintf(seg, sizeof(seg), "%d", p->segments);
    else
        snprintf(seg, sizeof(seg), "auto");
    if (p->max_rate)
        snprintf(rate, sizeof(rate), "%ld docs/s", p->max_rate);
    else
        snprintf(rate, sizeof(rate), "unlimited");
    snprintf(v, sizeof(v), "segments %s, concurrency %d, rate %s", seg, p->concurrency ? p->concurrency : 4, rate);
    row(y++, "Options", v);
    snprintf(v, sizeof(v), "external versions %s, fast load %s", p->external_version ? "on" : "off",
             p->fast_load ? "on" : "off");
    row(y++, "", v);
    row(y++, "Dead letters", "documents the index refuses go to a file in $XDG_STATE_HOME/ddb2es/dead-letter");
    y++;
    if (s->refused) {
        attrset(tui_look(t, TUI_LOOK_ERROR));
        tui_put(y++, 2, COLS - 3, "Refused by the environment guard:");
        attrset(A_NORMAL);
        tui_put(y++, 2, COLS - 3, s->err.message);
        tui_put(y + 1, 2, COLS - 3, "Esc goes back.");
    } else if (env->is_protected) {
        attrset(tui_look(t, TUI_LOOK_WARN));
        tui_putf(y++, 2, COLS - 3, "%s is protected. Type its name to start the sync:", env->name);
        attrset(A_NORMAL);
        tui_input_draw(t, &s->typed, y++, 2, 40, 1);
        tui_put(y + 1, 2, COLS - 3, "Enter checks the name, Esc goes back.");
    } else {
        tui_put(y++, 2, COLS - 3, "y or Enter starts the sync; Esc goes back.");
    }
}

static int start(struct tui *t)
{
    tui_push(t, &tui_scr_progress);
    return TUI_REDRAW;
}

static int confirm_key(struct tui *t, void *st, int req, int ch)
{
    struct confirm_state *s = st;

    if (t->typing) {
        switch (tui_input_key(&s->typed, ch)) {
        case TUI_INPUT_DONE:
            ddb2es_error_clear(&s->err);
            if (guard_confirm(t->ses.env, s->typed.buf, &s->err)) {
                tui_input_set(&s->typed, "");
                audit_refusal(t, &s->err);
                tui_panel_error(t, TUI_AFTER_NOTHING, "Refused", &s->err);
                return TUI_REDRAW;
            }
            t->typing = 0;
            return start(t);
        case TUI_INPUT_CANCEL:
            t->typing = 0;
            tui_pop(t);
            return TUI_REDRAW;
        default:
            return TUI_REDRAW;
        }
    }
    if (req == REQ_START) {
        if (s->refused) {
            tui_panel_error(t, TUI_AFTER_NOTHING, "Refused by the environment guard", &s->err);
            return TUI_REDRAW;
        }
        if (t->ses.env->is_protected) {
            t->typing = 1;
            return TUI_REDRAW;
        }
        return start(t);
    }
    return TUI_IGNORED;
}

static void confirm_leave(struct tui *t, void *st)
{
    (void)t;
    free(st);
}

const struct tui_screen tui_scr_confirm = {
    .title = "Confirm",
    .scopes = TUI_SCOPE_GLOBAL | TUI_SCOPE_CONFIRM,
    .enter = confirm_enter,
    .draw = confirm_draw,
    .key = confirm_key,
    .leave = confirm_leave,
};
