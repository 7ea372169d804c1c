/*
 * draw.c - the small widgets every screen uses: text that fits, boxes,
 * word wrap, numbers, a list cursor and a one-line text field.
 *
 * Text from the services (table names, ids, documents, error messages) is
 * UTF-8 and may hold control characters: it is measured with wcwidth() and
 * control bytes are shown as '?', so nothing a table holds can move the
 * cursor or switch the terminal's modes.
 */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"

enum { PAIR_TITLE = 1, PAIR_ERROR, PAIR_OK, PAIR_WARN, PAIR_KEY };

void tui_colors_init(struct tui *t)
{
    const char *no = getenv("NO_COLOR");

    t->colors = 0;
    if ((no && *no) || !has_colors() || start_color() != OK)
        return;
    use_default_colors();
    init_pair(PAIR_TITLE, COLOR_WHITE, COLOR_BLUE);
    init_pair(PAIR_ERROR, COLOR_RED, -1);
    init_pair(PAIR_OK, COLOR_GREEN, -1);
    init_pair(PAIR_WARN, COLOR_YELLOW, -1);
    init_pair(PAIR_KEY, COLOR_CYAN, -1);
    t->colors = 1;
}

int tui_look(const struct tui *t, enum tui_look look)
{
    int c = t && t->colors;

    switch (look) {
    case TUI_LOOK_NORMAL: return A_NORMAL;
    case TUI_LOOK_TITLE: return c ? (int)(COLOR_PAIR(PAIR_TITLE) | A_BOLD) : (int)(A_REVERSE | A_BOLD);
    case TUI_LOOK_SELECTED: return A_REVERSE;
    case TUI_LOOK_ERROR: return c ? (int)(COLOR_PAIR(PAIR_ERROR) | A_BOLD) : A_BOLD;
    case TUI_LOOK_OK: return c ? (int)COLOR_PAIR(PAIR_OK) : tui_look(t, TUI_LOOK_NORMAL);
    case TUI_LOOK_WARN: return c ? (int)(COLOR_PAIR(PAIR_WARN) | A_BOLD) : A_BOLD;
    case TUI_LOOK_DIM: return A_DIM;
    case TUI_LOOK_KEY: return c ? (int)(COLOR_PAIR(PAIR_KEY) | A_BOLD) : A_BOLD;
    case TUI_LOOK_HEADER: return A_BOLD | A_UNDERLINE;
    }
    return A_NORMAL;
}

/*
 * Copies what fits of s in w columns into out (sanitised), stops at '\n'.
 * Returns the columns used; *consumed gets the bytes of s used.
 */
static int fit(const char *s, int w, char *out, size_t outsz, size_t *consumed)
{
    mbstate_t st;
    size_t i = 0, o = 0, len = strlen(s);
    int cols = 0;

    memset(&st, 0, sizeof(st));
    while (i < len && s[i] != '\n') {
        wchar_t wc;
        size_t n = mbrtowc(&wc, s + i, len - i, &st);
        int cw;
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            memset(&st, 0, sizeof(st));
            wc = L'?';
            n = 1;
            cw = 1;
            if (cols + cw > w || o + 1 >= outsz)
                break;
            out[o++] = '?';
        } else {
            cw = wcwidth(wc);
            if (cw < 0 || wc < 0x20 || wc == 0x7f) {
                if (cols + 1 > w || o + 1 >= outsz)
                    break;
                out[o++] = wc == '\t' ? ' ' : '?';
                cw = 1;
            } else {
                if (cols + cw > w || o + n >= outsz)
                    break;
                memcpy(out + o, s + i, n);
                o += n;
            }
        }
        cols += cw;
        i += n;
    }
    out[o] = '\0';
    if (consumed)
        *consumed = i;
    return cols;
}

int tui_put(int y, int x, int w, const char *s)
{
    char buf[2048];
    int cols;

    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + w > COLS)
        w = COLS - x;
    cols = fit(s ? s : "", w, buf, sizeof(buf), NULL);
    mvaddstr(y, x, buf);
    return cols;
}

int tui_putf(int y, int x, int w, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return tui_put(y, x, w, buf);
}

int tui_width(const char *s)
{
    char buf[2048];

    return fit(s, 1 << 20, buf, sizeof(buf), NULL);
}

int tui_wrap(const char *text, int w, void (*line)(void *arg, const char *s, size_t len), void *arg)
{
    const char *p = text;
    int n = 0;

    if (w < 1)
        w = 1;
    while (*p) {
        char buf[2048];
        size_t used, cut;
        fit(p, w, buf, sizeof(buf), &used);
        cut = used;
        if (p[used] && p[used] != '\n') {
            /* break at the last space that fits, if there is one */
            size_t sp = used;
            while (sp > 0 && p[sp] != ' ')
                sp--;
            if (sp > 0)
                cut = sp;
        }
        if (cut == 0 && p[0] != '\n')
            cut = 1; /* a character wider than the box: never loop */
        if (line)
            line(arg, p, cut);
        n++;
        p += cut;
        if (*p == '\n' || *p == ' ')
            p++;
    }
    return n;
}

void tui_box(const struct tui *t, int y, int x, int h, int w, const char *title, enum tui_look look)
{
    if (h < 2 || w < 4)
        return;
    attrset(A_NORMAL);
    for (int r = y + 1; r < y + h - 1; r++) {
        mvhline(r, x + 1, ' ', w - 2);
        mvaddch(r, x, ACS_VLINE);
        mvaddch(r, x + w - 1, ACS_VLINE);
    }
    mvaddch(y, x, ACS_ULCORNER);
    mvhline(y, x + 1, ACS_HLINE, w - 2);
    mvaddch(y, x + w - 1, ACS_URCORNER);
    mvaddch(y + h - 1, x, ACS_LLCORNER);
    mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
    mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
    if (title && *title) {
        attrset(tui_look(t, look));
        tui_putf(y, x + 2, w - 4, " %s ", title);
        attrset(A_NORMAL);
    }
}

void tui_fmt_count(long long n, char *out, size_t outsz)
{
    if (n < 0)
        snprintf(out, outsz, "?");
    else if (n < 10000)
        snprintf(out, outsz, "%lld", n);
    else if (n < 1000000)
        snprintf(out, outsz, "%.1fk", (double)n / 1e3);
    else if (n < 1000000000)
        snprintf(out, outsz, "%.1fM", (double)n / 1e6);
    else
        snprintf(out, outsz, "%.1fG", (double)n / 1e9);
}

void tui_fmt_bytes(long long n, char *out, size_t outsz)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;

    if (n < 0) {
        snprintf(out, outsz, "?");
        return;
    }
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, outsz, "%lld B", n);
    else
        snprintf(out, outsz, "%.1f %s", v, unit[u]);
}

void tui_fmt_duration(double s, char *out, size_t outsz)
{
    long v;

    if (s < 0) {
        snprintf(out, outsz, "?");
        return;
    }
    v = (long)(s + 0.5);
    if (v >= 3600)
        snprintf(out, outsz, "%ld:%02ld:%02ld", v / 3600, (v / 60) % 60, v % 60);
    else
        snprintf(out, outsz, "%ld:%02ld", v / 60, v % 60);
}

void tui_list_fit(struct tui_list *l, int rows)
{
    if (rows < 1)
        rows = 1;
    if (l->count == 0) {
        l->cur = l->top = 0;
        return;
    }
    if (l->cur >= l->count)
        l->cur = l->count - 1;
    if (l->cur < l->top)
        l->top = l->cur;
    if (l->cur >= l->top + (size_t)rows)
        l->top = l->cur - (size_t)rows + 1;
    if (l->top + (size_t)rows > l->count)
        l->top = l->count > (size_t)rows ? l->count - (size_t)rows : 0;
}

int tui_list_key(struct tui_list *l, int req, int rows)
{
    size_t page = rows > 1 ? (size_t)rows - 1 : 1;

    if (l->count == 0)
        return req >= REQ_UP && req <= REQ_END ? TUI_HANDLED : TUI_IGNORED;
    switch (req) {
    case REQ_UP:
        if (l->cur > 0)
            l->cur--;
        break;
    case REQ_DOWN:
        if (l->cur + 1 < l->count)
            l->cur++;
        break;
    case REQ_PGUP:
        l->cur = l->cur > page ? l->cur - page : 0;
        break;
    case REQ_PGDN:
        l->cur = l->cur + page < l->count ? l->cur + page : l->count - 1;
        break;
    case REQ_HOME:
        l->cur = 0;
        break;
    case REQ_END:
        l->cur = l->count - 1;
        break;
    default:
        return TUI_IGNORED;
    }
    tui_list_fit(l, rows);
    return TUI_HANDLED | TUI_REDRAW;
}

void tui_input_set(struct tui_input *in, const char *s)
{
    snprintf(in->buf, sizeof(in->buf), "%s", s ? s : "");
    in->len = strlen(in->buf);
}

int tui_input_key(struct tui_input *in, int ch)
{
    switch (tui_key_lookup(TUI_SCOPE_TEXT, ch == 8 ? 127 : ch)) {
    case REQ_TEXT_DONE:
        return TUI_INPUT_DONE;
    case REQ_TEXT_CANCEL:
        return TUI_INPUT_CANCEL;
    case REQ_TEXT_ERASE:
        if (in->len == 0)
            return TUI_INPUT_IGNORED;
        in->buf[--in->len] = '\0';
        return TUI_INPUT_EDITED;
    case REQ_TEXT_CLEAR:
        in->len = 0;
        in->buf[0] = '\0';
        return TUI_INPUT_EDITED;
    default:
        break;
    }
    /* names of environments, tables and indices are ASCII */
    if (ch >= 0x20 && ch < 0x7f && in->len + 1 < sizeof(in->buf)) {
        in->buf[in->len++] = (char)ch;
        in->buf[in->len] = '\0';
        return TUI_INPUT_EDITED;
    }
    return TUI_INPUT_IGNORED;
}

void tui_input_draw(const struct tui *t, const struct tui_input *in, int y, int x, int w, int focused)
{
    const char *s = in->buf;
    int room = w - 3; /* "[", the cursor cell, "]" */

    if (room < 1)
        return;
    if ((int)in->len > room)
        s += in->len - (size_t)room; /* show the end being typed */
    attrset(focused ? tui_look(t, TUI_LOOK_KEY) : tui_look(t, TUI_LOOK_NORMAL));
    mvaddch(y, x, '[');
    attrset(A_NORMAL);
    tui_put(y, x + 1, room, s);
    {
        int used = tui_width(s);
        if (focused) {
            attrset(A_REVERSE);
            mvaddch(y, x + 1 + used, ' ');
            attrset(A_NORMAL);
        }
        mvhline(y, x + 1 + used + (focused ? 1 : 0), ' ', room - used + (focused ? 0 : 1));
    }
    attrset(focused ? tui_look(t, TUI_LOOK_KEY) : tui_look(t, TUI_LOOK_NORMAL));
    mvaddch(y, x + w - 1, ']');
    attrset(A_NORMAL);
}

int tui_body_rows(void)
{
    return LINES - 3;
}
