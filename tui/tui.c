/*
 * tui.c - the console's entry point and UI loop.
 *
 * DESIGN
 * One loop on the UI thread: poll() on stdin, the self-pipe (signals, tasks)
 * and the running sync's wake fd, with a 100 ms timeout that is the redraw
 * tick. A key goes to an open panel first (any key closes it), then to the
 * help overlay, then to the top screen, and what the screen leaves unused
 * to the global requests (help, back, quit). The screen is painted after
 * keys and when a tick asks for it, never from another thread.
 *
 * Screens are pushed by the screen below them and popped only after the
 * handler that asked has returned, so a handler never frees its own state.
 */
#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"

double tui_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tui_status(struct tui *t, int is_error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->status, sizeof(t->status), fmt, ap);
    va_end(ap);
    t->status_error = is_error;
    t->status_until = tui_now() + 6.0;
}

void tui_panel(struct tui *t, enum tui_panel_kind kind, enum tui_after after, const char *title, const char *fmt,
               ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->panel.text, sizeof(t->panel.text), fmt, ap);
    va_end(ap);
    snprintf(t->panel.title, sizeof(t->panel.title), "%s", title);
    t->panel.kind = kind;
    t->panel.after = after;
    t->panel.active = 1;
}

void tui_panel_error(struct tui *t, enum tui_after after, const char *title, const struct ddb2es_error *err)
{
    tui_panel(t, TUI_PANEL_ERROR, after, title, "%s",
              err->message[0] ? err->message : ddb2es_strerror((int)err->status));
}

int tui_push(struct tui *t, const struct tui_screen *scr)
{
    void *st = NULL;
    int rc, saved;

    if (t->depth >= TUI_MAX_DEPTH) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Internal error", "too many screens open");
        return -1;
    }
    saved = t->typing;
    t->typing = 0; /* the new screen's enter may give a text field the focus */
    if (scr->enter) {
        rc = scr->enter(t, &st);
        if (rc) {
            t->typing = saved;
            return rc;
        }
    }
    t->stack[t->depth].scr = scr;
    t->stack[t->depth].st = st;
    t->depth++;
    return 0;
}

void tui_pop(struct tui *t)
{
    if (t->pops < t->depth)
        t->pops++;
}

void tui_pop_to(struct tui *t, const struct tui_screen *scr)
{
    for (int i = t->depth - 1 - t->pops; i >= 0; i--) {
        if (t->stack[i].scr == scr) {
            t->pops = t->depth - 1 - i;
            return;
        }
    }
}

static void apply_pops(struct tui *t)
{
    while (t->pops > 0 && t->depth > 0) {
        struct tui_frame *f = &t->stack[--t->depth];
        if (f->scr->leave)
            f->scr->leave(t, f->st);
        f->st = NULL;
        t->pops--;
    }
    t->pops = 0;
    t->typing = 0;
}

/* The key scopes of a frame now. */
static unsigned scopes_of(struct tui *t, const struct tui_frame *f)
{
    return f->scr->live_scopes ? f->scr->live_scopes(t, f->st) : f->scr->scopes;
}

/* ---- painting ------------------------------------------------------------ */

static void paint_title(struct tui *t)
{
    const struct tui_frame *top = &t->stack[t->depth - 1];
    char crumbs[768];
    int n = 0, right = tui_width(top->scr->title) + 2;

    n += snprintf(crumbs + n, sizeof(crumbs) - (size_t)n, " ddb2es");
    if (t->depth >= 2 && t->ses.env)
        n += snprintf(crumbs + n, sizeof(crumbs) - (size_t)n, " > %s%s", t->ses.env->name,
                      t->ses.env->is_protected ? " (protected)" : "");
    if (t->depth >= 3)
        n += snprintf(crumbs + n, sizeof(crumbs) - (size_t)n, " > %s", t->pick.table);
    if (t->depth >= 4 && n >= 0 && (size_t)n < sizeof(crumbs))
        snprintf(crumbs + n, sizeof(crumbs) - (size_t)n, " -> %s", t->pick.index);
    attrset(tui_look(t, TUI_LOOK_TITLE));
    mvhline(0, 0, ' ', COLS);
    tui_put(0, 0, COLS - right, crumbs);
    tui_putf(0, COLS - right, right, "%s ", top->scr->title);
    attrset(A_NORMAL);
}

struct panel_paint {
    int y, x, w, last;
};

static void panel_line(void *arg, const char *s, size_t len)
{
    struct panel_paint *p = arg;
    char buf[1024];

    if (p->y > p->last)
        return;
    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    tui_put(p->y++, p->x, p->w, buf);
}

static void paint_panel(struct tui *t)
{
    int w = COLS - 6 > 76 ? 76 : COLS - 6, lines, h, y, x;
    struct panel_paint pp;
    enum tui_look look = t->panel.kind == TUI_PANEL_ERROR ? TUI_LOOK_ERROR : TUI_LOOK_TITLE;

    lines = tui_wrap(t->panel.text, w - 4, NULL, NULL);
    h = lines + 4;
    if (h > LINES - 2)
        h = LINES - 2;
    y = (LINES - h) / 2;
    x = (COLS - w) / 2;
    tui_box(t, y, x, h, w, t->panel.title, look);
    pp.y = y + 1;
    pp.x = x + 2;
    pp.w = w - 4;
    pp.last = y + h - 3;
    tui_wrap(t->panel.text, w - 4, panel_line, &pp);
    attrset(tui_look(t, TUI_LOOK_DIM));
    tui_put(y + h - 2, x + 2, w - 4, "press any key");
    attrset(A_NORMAL);
}

static void paint(struct tui *t)
{
    const struct tui_frame *top = &t->stack[t->depth - 1];

    erase();
    if (COLS < 60 || LINES < 16) {
        tui_putf(0, 0, COLS, "terminal %dx%d: too small", COLS, LINES);
        tui_put(1, 0, COLS, "60x16 needed");
        refresh();
        return;
    }
    paint_title(t);
    top->scr->draw(t, top->st);
    move(LINES - 2, 0);
    clrtoeol();
    if (t->status[0] && tui_now() < t->status_until) {
        attrset(tui_look(t, t->status_error ? TUI_LOOK_ERROR : TUI_LOOK_OK));
        tui_put(LINES - 2, 1, COLS - 2, t->status);
        attrset(A_NORMAL);
    }
    tui_keys_draw_hints(t, t->typing ? TUI_SCOPE_TEXT : scopes_of(t, top));
    if (t->help)
        tui_keys_draw_help(t, scopes_of(t, top), t->help_top);
    if (t->panel.active)
        paint_panel(t);
    refresh();
}

/* ---- keys and signals ---------------------------------------------------- */

/* Every screen below agrees to be left (a running sync does not). */
static int can_quit(struct tui *t)
{
    for (int i = t->depth - 1; i >= 0; i--) {
        const struct tui_frame *f = &t->stack[i];
        if (f->scr->can_leave && !f->scr->can_leave(t, f->st))
            return 0;
    }
    return 1;
}

static int global_key(struct tui *t, int req)
{
    const struct tui_frame *top = &t->stack[t->depth - 1];

    switch (req) {
    case REQ_HELP:
        t->help = 1;
        t->help_top = 0;
        return TUI_REDRAW;
    case REQ_QUIT:
        return can_quit(t) ? TUI_BREAK : TUI_REDRAW;
    case REQ_BACK:
        if (top->scr->can_leave && !top->scr->can_leave(t, top->st))
            return TUI_REDRAW;
        if (t->depth > 1)
            tui_pop(t);
        return TUI_REDRAW;
    case REQ_REPAINT:
        clearok(curscr, TRUE);
        return TUI_REDRAW;
    default:
        return TUI_IGNORED;
    }
}

static int dispatch(struct tui *t, int ch)
{
    const struct tui_frame *top = &t->stack[t->depth - 1];
    int req, flags;

    if (ch == KEY_RESIZE)
        return TUI_REDRAW; /* curses has the new size already (resizeterm queued this key) */
    if (t->panel.active) {
        t->panel.active = 0;
        if (t->panel.after == TUI_AFTER_POP && t->depth > 1)
            tui_pop(t);
        return t->panel.after == TUI_AFTER_QUIT ? TUI_BREAK : TUI_REDRAW;
    }
    if (t->help) {
        if (ch == KEY_DOWN || ch == 'j')
            t->help_top++;
        else if ((ch == KEY_UP || ch == 'k') && t->help_top > 0)
            t->help_top--;
        else
            t->help = 0;
        return TUI_REDRAW;
    }
    req = t->typing ? REQ_NONE : tui_key_lookup(scopes_of(t, top), ch);
    flags = top->scr->key(t, top->st, req, ch);
    if (flags == TUI_IGNORED && req != REQ_NONE)
        flags = global_key(t, req);
    return flags;
}

/* SIGINT/SIGTERM/SIGHUP: the screen that runs something stops it; else quit. */
static int interrupted(struct tui *t, int count, int is_term)
{
    const struct tui_frame *top = &t->stack[t->depth - 1];

    if (top->scr->can_leave && !top->scr->can_leave(t, top->st)) {
        if (is_term)
            t->quit_after_run = 1;
        return top->scr->key(t, top->st, count >= 2 ? TUI_SIG_ABORT : TUI_SIG_CANCEL, 0) | TUI_REDRAW;
    }
    t->exit_code = 130;
    return TUI_BREAK;
}

static int loop(struct tui *t, int rfd, struct tui_signals *sigs)
{
    double next_tick = tui_now();
    int redraw = 1, seen_intr = 0, stdin_open = 1;

    for (;;) {
        struct pollfd p[3];
        int n = 0, timeout, flags = 0, job_slot = -1, ch;
        double now;

        if (t->pops)
            apply_pops(t);
        if (t->depth == 0)
            return 0;
        if (redraw) {
            paint(t);
            redraw = 0;
        }
        p[n].fd = rfd;
        p[n++].events = POLLIN;
        if (stdin_open) {
            p[n].fd = STDIN_FILENO;
            p[n++].events = POLLIN;
        }
        if (t->job_fd >= 0) {
            job_slot = n;
            p[n].fd = t->job_fd;
            p[n++].events = POLLIN;
        }
        now = tui_now();
        timeout = next_tick > now ? (int)((next_tick - now) * 1000) + 1 : 0;
        if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR)
            return -1;
        if (p[0].revents)
            tui_term_drain(rfd);
        if (sigs->resize) {
            sigs->resize = 0;
            tui_term_resize();
            redraw = 1;
        }
        if (sigs->interrupt > seen_intr) {
            seen_intr = sigs->interrupt;
            flags |= interrupted(t, seen_intr, sigs->term);
        }
        if (stdin_open && (p[1].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(p[1].revents & POLLIN)) {
            /* the terminal went away: treat it as a hang-up signal */
            stdin_open = 0;
            flags |= interrupted(t, 1, 1);
        }
        while (!(flags & TUI_BREAK) && stdin_open && ((p[1].revents & POLLIN) || redraw) &&
               (ch = getch()) != ERR) {
            flags |= dispatch(t, ch);
            if (t->pops)
                break; /* the next key belongs to the screen below */
        }
        if (job_slot >= 0 && p[job_slot].revents)
            t->job_fd = -1; /* the run ended; the screen's tick finishes it */
        now = tui_now();
        if (p[0].revents || job_slot >= 0 || now >= next_tick) {
            const struct tui_frame *top = &t->stack[t->depth - 1];
            if (!t->pops && top->scr->tick)
                flags |= top->scr->tick(t, top->st);
            if (t->status[0] && now >= t->status_until) {
                t->status[0] = '\0';
                flags |= TUI_REDRAW;
            }
            if (now >= next_tick)
                next_tick = now + TUI_TICK_MS / 1000.0;
        }
        if (flags & TUI_BREAK)
            return 0;
        if (flags & TUI_REDRAW)
            redraw = 1;
    }
}

/* ---- entry ---------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out, "usage: ddb2es [console [--config FILE]]\n"
                 "The interactive console: pick an environment, a table and an index, preview,\n"
                 "confirm and watch the sync. It needs a terminal on stdin and stdout; scripts\n"
                 "use the headless commands (ddb2es --help).\n");
}

int tui_main(int argc, char **argv)
{
    struct ddb2es_error err;
    struct tui_signals *sigs = NULL;
    const char *config = NULL;
    struct tui *t;
    int rfd = -1, wfd = -1, code;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config = argv[i] + 9;
        } else {
            fprintf(stderr, "ddb2es console: unknown option or missing value '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        usage(stderr);
        return 2;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        fprintf(stderr, "ddb2es: out of memory\n");
        return 2;
    }
    t->job_fd = -1;
    t->pick.item_count = t->pick.size_bytes = -1;
    ddb2es_error_clear(&err);
    if (tui_term_signals(&rfd, &wfd, &sigs) != 0) {
        fprintf(stderr, "ddb2es: cannot create a pipe for the console\n");
        free(t);
        return 2;
    }
    t->wake_fd = wfd;
    if (tui_term_start() != 0) {
        fprintf(stderr, "ddb2es: cannot start the console on this terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "");
        free(t);
        return 2;
    }
    tui_colors_init(t);
    code = tui_session_load(&t->ses, config, &err);
    if (code == 0)
        code = tui_push(t, &tui_scr_env);
    if (code) {
        /* fatal before the first screen: a panel on an empty screen, then exit 2 */
        if (!t->panel.active)
            tui_panel_error(t, TUI_AFTER_QUIT, "Cannot start", &err);
        t->panel.after = TUI_AFTER_QUIT;
        erase();
        paint_panel(t);
        refresh();
        while (getch() == ERR) {
            struct pollfd p = {STDIN_FILENO, POLLIN, 0};
            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                break;
            if (sigs->interrupt)
                break;
        }
        tui_done();
        fprintf(stderr, "ddb2es: %s\n", t->panel.text); /* also kept in the scrollback */
        t->exit_code = 2;
    } else if (loop(t, rfd, sigs) != 0) {
        t->exit_code = 2;
    }
    t->pops = t->depth;
    apply_pops(t);
    tui_done();
    tui_session_free(&t->ses);
    code = t->exit_code;
    free(t);
    close(rfd);
    close(wfd);
    return code;
}
