/*
 * scr_target.c - screen 3: where the documents go and how.
 *
 * A small form: the index (default: the entity's name, editable), the entity
 * (default: the one listing the table; Enter opens a list of all), and the
 * run's options: segments, concurrency, rate limit, external versions, fast
 * load. Values are checked when typed, so the next screens can trust them.
 */
#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/pipeline.h"
#include "tui.h"

enum field { F_INDEX, F_ENTITY, F_SEGMENTS, F_CONCURRENCY, F_RATE, F_EXT_VERSION, F_FAST_LOAD, F_COUNT };

static const char *const labels[F_COUNT] = {"Index", "Entity", "Segments", "Concurrency", "Rate limit",
                                            "External versions", "Fast load"};

enum mode { M_FORM, M_EDIT, M_ENTITIES };

struct target_state {
    struct tui_list form;      /* the selected field */
    enum mode mode;
    struct tui_input input;    /* M_EDIT: the value being typed */
    struct tui_list entities;  /* M_ENTITIES: the entity list */
};

static int target_enter(struct tui *t, void **st)
{
    struct target_state *s = calloc(1, sizeof(*s));

    if (!s) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Out of memory", "cannot open the target form");
        return -1;
    }
    s->form.count = F_COUNT;
    *st = s;
    return 0;
}

/* The value of a field as shown. */
static void field_value(const struct tui *t, enum field f, char *out, size_t outsz)
{
    const struct tui_pick *p = &t->pick;

    switch (f) {
    case F_INDEX:
        snprintf(out, outsz, "%s", p->index);
        break;
    case F_ENTITY:
        if (p->entity)
            snprintf(out, outsz, "%s  (%s)", entity_name(p->entity), entity_source_path(p->entity));
        else
            snprintf(out, outsz, "none: choose one (Enter)");
        break;
    case F_SEGMENTS:
        if (p->segments)
            snprintf(out, outsz, "%d parallel scan segments", p->segments);
        else
            snprintf(out, outsz, "auto (from the table's size)");
        break;
    case F_CONCURRENCY:
        snprintf(out, outsz, "%d bulk requests at a time", p->concurrency ? p->concurrency : 4);
        break;
    case F_RATE:
        if (p->max_rate)
            snprintf(out, outsz, "%ld documents per second", p->max_rate);
        else
            snprintf(out, outsz, "unlimited (+/- change it during the run)");
        break;
    case F_EXT_VERSION:
        if (p->entity && !entity_version_attribute(p->entity))
            snprintf(out, outsz, "off (entity %s names no version attribute)", entity_name(p->entity));
        else
            snprintf(out, outsz, "%s", p->external_version ? "on: a newer document in the index is kept"
                                                           : "off: every document is overwritten");
        break;
    case F_FAST_LOAD:
        snprintf(out, outsz, "%s", p->fast_load ? "on: refresh off, no replicas while loading; restored after"
                                                : "off");
        break;
    case F_COUNT:
        out[0] = '\0';
        break;
    }
}

static int entity_rows(void)
{
    return tui_body_rows() - 6;
}

static void draw_entities(struct tui *t, struct target_state *s)
{
    size_t n = entity_set_count(t->ses.entities);
    int rows = entity_rows(), h = rows + 2, w = COLS - 10, y0 = 3, x0 = 5, y = y0 + 1;

    tui_box(t, y0, x0, h, w, "Entity", TUI_LOOK_TITLE);
    s->entities.count = n;
    tui_list_fit(&s->entities, rows);
    for (size_t i = s->entities.top; i < n && y < y0 + h - 1; i++, y++) {
        const struct entity *e = entity_set_at(t->ses.entities, i);
        char tables[160] = "";
        size_t used = 0;
        for (size_t k = 0; k < entity_table_count(e); k++) {
            int m = snprintf(tables + used, sizeof(tables) - used, "%s%s", k ? "," : "", entity_table(e, k));
            if (m < 0 || (size_t)m >= sizeof(tables) - used)
                break;
            used += (size_t)m;
        }
        attrset(i == s->entities.cur ? tui_look(t, TUI_LOOK_SELECTED) : tui_look(t, TUI_LOOK_NORMAL));
        mvhline(y, x0 + 1, ' ', w - 2);
        tui_putf(y, x0 + 2, w - 4, "%-16s tables: %s", entity_name(e), used ? tables : "-");
        attrset(A_NORMAL);
    }
}

static void target_draw(struct tui *t, void *st)
{
    struct target_state *s = st;
    const struct tui_pick *p = &t->pick;
    char items[32], bytes[32], v[512];
    int y = 6;

    tui_fmt_count(p->item_count, items, sizeof(items));
    tui_fmt_bytes(p->size_bytes, bytes, sizeof(bytes));
    tui_putf(2, 1, COLS - 2, "Table %s: ~%s items, ~%s", p->table, items, bytes);
    if (p->entity && entity_description(p->entity)[0])
        tui_putf(3, 1, COLS - 2, "%s", entity_description(p->entity));
    attrset(tui_look(t, TUI_LOOK_HEADER));
    tui_put(5, 1, COLS - 2, "Sync into");
    attrset(A_NORMAL);
    for (int f = 0; f < F_COUNT; f++, y++) {
        int sel = (size_t)f == s->form.cur;
        attrset(sel && s->mode == M_FORM ? tui_look(t, TUI_LOOK_SELECTED) : tui_look(t, TUI_LOOK_NORMAL));
        mvhline(y, 0, ' ', COLS);
        tui_putf(y, 1, 22, "%s %s", sel ? ">" : " ", labels[f]);
        if (sel && s->mode == M_EDIT) {
            attrset(A_NORMAL);
            tui_input_draw(t, &s->input, y, 23, COLS - 25 > 60 ? 60 : COLS - 25, 1);
        } else {
            field_value(t, (enum field)f, v, sizeof(v));
            if (f == F_ENTITY && !p->entity && !sel)
                attrset(tui_look(t, TUI_LOOK_WARN));
            tui_put(y, 23, COLS - 24, v);
        }
        attrset(A_NORMAL);
    }
    y++;
    attrset(tui_look(t, TUI_LOOK_DIM));
    if (s->mode == M_EDIT)
        tui_put(y, 1, COLS - 2, "Enter keeps the value, Esc leaves it as it was; for a number, 0 means the default.");
    else
        tui_put(y, 1, COLS - 2, "Enter changes the selected value; n goes on to the preview; o lists the orphans.");
    attrset(A_NORMAL);
    if (s->mode == M_ENTITIES)
        draw_entities(t, s);
}

/* Elasticsearch's rules for a new index name. NULL when fine, else why not. */
static const char *bad_index_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0)
        return "the index name is empty";
    if (n > 255)
        return "an index name is at most 255 bytes";
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || s[0] == '-' || s[0] == '_' || s[0] == '+')
        return "an index name cannot be . or .. or start with -, _ or +";
    for (const char *p = s; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            return "an index name must be lower case";
        if (strchr("\\/*?\"<>| ,#:", *p))
            return "an index name cannot hold \\ / * ? \" < > | space , # :";
    }
    return NULL;
}

/* Parses a whole number in [lo, hi]; "" is 0. -1 when bad. */
static long parse_num(const char *s, long lo, long hi)
{
    char *end;
    long v;

    if (!*s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    return v;
}

static int commit_edit(struct tui *t, struct target_state *s)
{
    struct tui_pick *p = &t->pick;
    const char *why;
    long v;

    switch ((enum field)s->form.cur) {
    case F_INDEX:
        why = bad_index_name(s->input.buf);
        if (why) {
            tui_status(t, 1, "%s", why);
            return TUI_REDRAW;
        }
        if (strcmp(p->index, s->input.buf) != 0)
            p->index_edited = 1;
        snprintf(p->index, sizeof(p->index), "%s", s->input.buf);
        break;
    case F_SEGMENTS:
        v = parse_num(s->input.buf, 0, SYNC_MAX_SEGMENTS);
        if (v < 0) {
            tui_status(t, 1, "segments: a whole number from 1 to %d, or 0 for auto", SYNC_MAX_SEGMENTS);
            return TUI_REDRAW;
        }
        p->segments = (int)v;
        break;
    case F_CONCURRENCY:
        v = parse_num(s->input.buf, 0, 64);
        if (v < 0) {
            tui_status(t, 1, "concurrency: a whole number from 1 to 64, or 0 for the default (4)");
            return TUI_REDRAW;
        }
        p->concurrency = (int)v;
        break;
    case F_RATE:
        v = parse_num(s->input.buf, 0, 100000000);
        if (v < 0) {
            tui_status(t, 1, "rate limit: documents per second, 0 for unlimited");
            return TUI_REDRAW;
        }
        p->max_rate = v;
        break;
    default:
        break;
    }
    s->mode = M_FORM;
    t->typing = 0;
    return TUI_REDRAW;
}

static void start_edit(struct tui *t, struct target_state *s, enum field f)
{
    char v[64];

    s->form.cur = (size_t)f;
    switch (f) {
    case F_INDEX: tui_input_set(&s->input, t->pick.index); break;
    case F_SEGMENTS: snprintf(v, sizeof(v), "%d", t->pick.segments); tui_input_set(&s->input, v); break;
    case F_CONCURRENCY: snprintf(v, sizeof(v), "%d", t->pick.concurrency); tui_input_set(&s->input, v); break;
    case F_RATE: snprintf(v, sizeof(v), "%ld", t->pick.max_rate); tui_input_set(&s->input, v); break;
    default: return;
    }
    s->mode = M_EDIT;
    t->typing = 1;
}

static void pick_entity(struct tui *t, struct target_state *s)
{
    size_t n = entity_set_count(t->ses.entities);

    s->mode = M_ENTITIES;
    s->form.cur = F_ENTITY;
    s->entities.count = n;
    s->entities.cur = 0;
    for (size_t i = 0; i < n; i++)
        if (entity_set_at(t->ses.entities, i) == t->pick.entity)
            s->entities.cur = i;
}

static int toggle(struct tui *t, struct target_state *s, enum field f)
{
    s->form.cur = (size_t)f;
    if (f == F_FAST_LOAD) {
        t->pick.fast_load = !t->pick.fast_load;
    } else if (t->pick.entity && !entity_version_attribute(t->pick.entity)) {
        tui_status(t, 1, "entity %s names no version attribute: external versions need one",
                   entity_name(t->pick.entity));
    } else {
        t->pick.external_version = !t->pick.external_version;
    }
    return TUI_REDRAW;
}

static int entities_key(struct tui *t, struct target_state *s, int req)
{
    int flags = tui_list_key(&s->entities, req, entity_rows());

    if (flags)
        return flags;
    if (req == REQ_BACK) {
        s->mode = M_FORM;
        return TUI_REDRAW;
    }
    if (req == REQ_SELECT && s->entities.cur < entity_set_count(t->ses.entities)) {
        const struct entity *e = entity_set_at(t->ses.entities, s->entities.cur);
        t->pick.entity = e;
        if (!t->pick.index_edited)
            snprintf(t->pick.index, sizeof(t->pick.index), "%s", entity_name(e));
        if (!entity_version_attribute(e))
            t->pick.external_version = 0;
        if (!entity_matches_table(e, t->pick.table))
            tui_status(t, 1, "entity %s does not list table %s: check the preview", entity_name(e), t->pick.table);
        s->mode = M_FORM;
        return TUI_REDRAW;
    }
    return TUI_HANDLED; /* the list is modal */
}

static int target_key(struct tui *t, void *st, int req, int ch)
{
    struct target_state *s = st;
    int flags;

    if (s->mode == M_EDIT) {
        switch (tui_input_key(&s->input, ch)) {
        case TUI_INPUT_DONE: return commit_edit(t, s);
        case TUI_INPUT_CANCEL:
            s->mode = M_FORM;
            t->typing = 0;
            return TUI_REDRAW;
        default: return TUI_REDRAW;
        }
    }
    if (s->mode == M_ENTITIES)
        return entities_key(t, s, req);
    flags = tui_list_key(&s->form, req, F_COUNT);
    if (flags)
        return flags;
    switch (req) {
    case REQ_SELECT:
        switch ((enum field)s->form.cur) {
        case F_ENTITY: pick_entity(t, s); break;
        case F_EXT_VERSION: return toggle(t, s, F_EXT_VERSION);
        case F_FAST_LOAD: return toggle(t, s, F_FAST_LOAD);
        default: start_edit(t, s, (enum field)s->form.cur); break;
        }
        return TUI_REDRAW;
    case REQ_EDIT_INDEX:
        start_edit(t, s, F_INDEX);
        return TUI_REDRAW;
    case REQ_ENTITY:
        pick_entity(t, s);
        return TUI_REDRAW;
    case REQ_EXT_VERSION:
        return toggle(t, s, F_EXT_VERSION);
    case REQ_FAST_LOAD:
        return toggle(t, s, F_FAST_LOAD);
    case REQ_NEXT:
    case REQ_ORPHANS:
        if (!t->pick.entity) {
            tui_status(t, 1, "choose an entity first (Enter on Entity)");
            return TUI_REDRAW;
        }
        tui_push(t, req == REQ_NEXT ? &tui_scr_preview : &tui_scr_orphans);
        return TUI_REDRAW;
    default:
        return TUI_IGNORED;
    }
}

static void target_leave(struct tui *t, void *st)
{
    (void)t;
    free(st);
}

const struct tui_screen tui_scr_target = {
    .title = "Index and entity",
    .scopes = TUI_SCOPE_GLOBAL | TUI_SCOPE_LIST | TUI_SCOPE_TARGET | TUI_SCOPE_STEP,
    .enter = target_enter,
    .draw = target_draw,
    .key = target_key,
    .leave = target_leave,
};
