/* keys.c - the key table: lookup, hint line and help overlay. See keys.h. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "keys.h"
#include "tui.h"

struct key_row {
    int req;
    const char *name;
    unsigned scope;
    int key, alt;
    const char *label;
    int hint;
    const char *help;
};

static const struct key_row rows[] = {
#define TUI_X_ROW(req, name, scope, key, alt, label, hint, help) {REQ_##req, name, scope, key, alt, label, hint, help},
    TUI_KEYS(TUI_X_ROW)
#undef TUI_X_ROW
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

int tui_key_lookup(unsigned scopes, int ch)
{
    if (ch == '\r')
        ch = '\n'; /* a terminal in raw-ish modes may send CR for Enter */
    for (size_t i = 0; i < NROWS; i++)
        if ((rows[i].scope & scopes) && (rows[i].key == ch || (rows[i].alt && rows[i].alt == ch)))
            return rows[i].req;
    return REQ_NONE;
}

const char *tui_key_help(int req)
{
    return req > REQ_NONE && req < REQ_COUNT ? rows[req - 1].help : "";
}

const char *tui_key_label(int req)
{
    return req > REQ_NONE && req < REQ_COUNT ? rows[req - 1].label : "";
}

void tui_keys_draw_hints(const struct tui *t, unsigned scopes)
{
    int y = LINES - 1, x = 0;

    move(y, 0);
    clrtoeol();
    /* screen-specific hints first, the global ones (help, back, quit) last */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < NROWS; i++) {
            const struct key_row *r = &rows[i];
            int global = r->scope == TUI_SCOPE_GLOBAL;
            int need;
            if (!r->hint || !(r->scope & scopes) || global != pass)
                continue;
            need = tui_width(r->label) + 1 + tui_width(r->name) + 2;
            if (x + need > COLS)
                return;
            attrset(tui_look(t, TUI_LOOK_KEY));
            x += tui_put(y, x, COLS - x, r->label);
            attrset(tui_look(t, TUI_LOOK_NORMAL));
            x += tui_putf(y, x, COLS - x, " %s  ", r->name);
        }
    }
}

int tui_keys_draw_help(const struct tui *t, unsigned scopes, int top)
{
    int h = LINES - 4, w = COLS - 8, y0 = 2, x0 = 4, line = 0, shown = 0, total = 0;

    for (size_t i = 0; i < NROWS; i++)
        total += (rows[i].scope & scopes) != 0;
    if (h > total + 1)
        h = total + 1; /* the rows and the closing line */
    if (w > 90) {
        x0 += (w - 90) / 2;
        w = 90;
    }
    tui_box(t, y0 - 1, x0 - 2, h + 2, w + 4, "Keys", TUI_LOOK_TITLE);
    for (size_t i = 0; i < NROWS; i++) {
        const struct key_row *r = &rows[i];
        if (!(r->scope & scopes))
            continue;
        if (line >= top && shown < h - 1) {
            attrset(tui_look(t, TUI_LOOK_KEY));
            tui_put(y0 + shown, x0, 12, r->label);
            attrset(tui_look(t, TUI_LOOK_NORMAL));
            tui_put(y0 + shown, x0 + 12, 11, r->name);
            tui_put(y0 + shown, x0 + 23, w - 23, r->help);
            shown++;
        }
        line++;
    }
    attrset(tui_look(t, TUI_LOOK_DIM));
    tui_put(y0 + h - 1, x0, w,
            line - top > h - 1 ? "Down: more; any other key closes this help" : "any key closes this help");
    attrset(tui_look(t, TUI_LOOK_NORMAL));
    return line;
}
