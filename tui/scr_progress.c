/*
 * scr_progress.c - screen 6: the run, live, then its result.
 *
 * Redrawn on the UI loop's 100 ms tick from a snapshot the pipeline copies
 * under its lock (sync_snapshot); the pipeline's threads never draw. Keys
 * pause, cancel (graceful), abort (asks first) and move the rate limit. The
 * screen cannot be left while the run goes on; when it ends, a result panel
 * stays until a key, and Esc or Enter goes back to the tables.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "tui.h"

struct progress_state {
    struct tui_run run;
    int asking_abort;     /* "abort now? y/n" is shown */
    int result_shown;     /* the result panel was opened */
};

static int progress_enter(struct tui *t, void **st)
{
    struct progress_state *s = calloc(1, sizeof(*s));

    if (!s) {
        tui_panel(t, TUI_PANEL_ERROR, TUI_AFTER_NOTHING, "Out of memory", "cannot start the run");
        return -1;
    }
    tui_run_init(&s->run, t);
    tui_run_begin(&s->run, t->wake_fd); /* a failure ends the run at once: the tick shows why */
    *st = s;
    return 0;
}

static void counter(const struct tui *t, int y, int x, int w, const char *label, const char *value, int bad)
{
    tui_put(y, x, 16, label);
    if (bad)
        attrset(tui_look(t, TUI_LOOK_ERROR));
    tui_put(y, x + 16, w - 16, value);
    attrset(A_NORMAL);
}

static void ull(char *out, size_t outsz, unsigned long long v)
{
    snprintf(out, outsz, "%llu", v);
}

static const char *state_text(const struct tui_run *r)
{
    switch (r->phase) {
    case TUI_RUN_STARTING: return "STARTING: preparing the index, connecting";
    case TUI_RUN_FINISHING: return "FINISHING: last bulks, restoring settings";
    case TUI_RUN_ENDED: return r->rc == DDB2ES_OK ? "DONE" : r->rc == DDB2ES_E_CANCELLED ? "CANCELLED" : "FAILED";
    case TUI_RUN_RUNNING: break;
    }
    switch (r->snap.state) {
    case SYNC_STARTING: return "STARTING";
    case SYNC_RUNNING: return "RUNNING";
    case SYNC_PAUSED: return "PAUSED (p resumes)";
    case SYNC_CANCELLING: return "CANCELLING: draining the bulks in flight";
    default: return sync_state_name(r->snap.state);
    }
}

static void draw_bar(const struct tui *t, int y, const struct tui_run *r)
{
    const struct sync_snapshot *s = &r->snap;
    int w = COLS - 34, fill;
    double frac = 0;
    char items[32];

    if (w < 10)
        w = 10;
    if (s->table_items > 0)
        frac = (double)s->scanned / (double)s->table_items;
    if (r->phase == TUI_RUN_ENDED && r->rc == DDB2ES_OK)
        frac = 1;
    if (frac > 1)
        frac = 1;
    fill = (int)(frac * w + 0.5);
    mvaddch(y, 2, '[');
    attrset(tui_look(t, TUI_LOOK_OK) | A_REVERSE);
    mvhline(y, 3, ' ', fill);
    attrset(A_NORMAL);
    mvhline(y, 3 + fill, '.', w - fill);
    mvaddch(y, 3 + w, ']');
    tui_fmt_count(s->table_items, items, sizeof(items));
    tui_putf(y, 5 + w, COLS - 6 - w, "%3d%% of ~%s", (int)(frac * 100), items);
}

static void progress_draw(struct tui *t, void *st)
{
    struct progress_state *ps = st;
    const struct tui_run *r = &ps->run;
    const struct sync_snapshot *s = &r->snap;
    int half = COLS / 2, w = half - 3, y = 2;
    char a[64], b[64], eta[32], el[32];

    tui_fmt_duration(s->elapsed, el, sizeof(el));
    attrset(tui_look(t, r->phase == TUI_RUN_ENDED && r->rc && r->rc != DDB2ES_E_CANCELLED ? TUI_LOOK_ERROR
                                                                                           : TUI_LOOK_HEADER));
    tui_putf(y, 2, COLS - 3, "%s", state_text(r));
    attrset(A_NORMAL);
    tui_putf(y++, half + 1, COLS - half - 2, "elapsed %s   %s -> %s", el, r->table, r->index);
    draw_bar(t, y++, r);
    if (r->phase == TUI_RUN_RUNNING) {
        tui_fmt_duration(s->eta_seconds, eta, sizeof(eta));
        tui_putf(y, 2, COLS - 3, "ETA %s  (from DescribeTable's ItemCount, which AWS refreshes only every ~6 h)", eta);
    }
    y += 2;

    ull(a, sizeof(a), s->scanned);
    counter(t, y, 2, w, "Scanned", a, 0);
    ull(b, sizeof(b), s->indexed);
    counter(t, y++, half + 1, w, "Indexed", b, 0);
    ull(a, sizeof(a), s->mapped);
    counter(t, y, 2, w, "Mapped", a, 0);
    ull(b, sizeof(b), s->failed);
    counter(t, y++, half + 1, w, "Failed", b, s->failed > 0);
    ull(a, sizeof(a), s->map_failed);
    counter(t, y, 2, w, "Not mapped", a, s->map_failed > 0);
    ull(b, sizeof(b), s->newer_in_index);
    counter(t, y++, half + 1, w, "Newer in index", b, 0);
    ull(a, sizeof(a), s->retried_docs);
    counter(t, y, 2, w, "Retried docs", a, 0);
    ull(b, sizeof(b), s->throttles);
    counter(t, y++, half + 1, w, "Throttles", b, 0);
    snprintf(a, sizeof(a), "%llu (%llu again)", s->bulk_requests, s->bulk_retries);
    counter(t, y, 2, w, "Bulk requests", a, 0);
    snprintf(b, sizeof(b), "%llu (%llu again)", s->ddb_requests, s->ddb_retries);
    counter(t, y++, half + 1, w, "Scan requests", b, 0);
    snprintf(a, sizeof(a), "%.0f", s->docs_per_sec);
    counter(t, y, 2, w, "Docs/s", a, 0);
    tui_fmt_bytes((long long)s->bytes_sent, b, sizeof(b));
    counter(t, y++, half + 1, w, "Bytes sent", b, 0);
    snprintf(a, sizeof(a), "%.1f", s->consumed_rcu);
    counter(t, y, 2, w, "Consumed RCU", a, 0);
    snprintf(b, sizeof(b), "%zu batch%s waiting", s->queued_batches, s->queued_batches == 1 ? "" : "es");
    counter(t, y++, half + 1, w, "Queue", b, 0);
    snprintf(a, sizeof(a), "%d of %d done", s->segments_done,
             s->total_segments ? s->segment_last - s->segment_first + 1 : 0);
    counter(t, y, 2, w, "Segments", a, 0);
    if (r->rate)
        snprintf(b, sizeof(b), "%ld docs/s (+/-)", r->rate);
    else
        snprintf(b, sizeof(b), "unlimited (- limits)");
    counter(t, y++, half + 1, w, "Rate limit", b, 0);
    {
        /* items read per segment, as many as the width holds ("#3 1200*": * is done) */
        char line[512];
        size_t used = 0;
        int shown = 0;
        for (int i = 0; i < s->nsegments && used + 32 < sizeof(line); i++) {
            int n = snprintf(line + used, sizeof(line) - used, "%s#%d %llu%s", i ? "  " : "", s->segs[i].number,
                             s->segs[i].scanned, s->segs[i].done ? "*" : "");
            if (n < 0 || used + (size_t)n >= (size_t)(COLS > 20 ? COLS - 18 : 2))
                break;
            used += (size_t)n;
            shown++;
        }
        if (shown < s->nsegments && used + 16 < sizeof(line))
            snprintf(line + used, sizeof(line) - used, "  +%d more", s->nsegments - shown);
        if (s->nsegments > 0)
            tui_putf(y++, 2, COLS - 3, "Per segment: %s", line);
    }
    y++;
    if (r->phase != TUI_RUN_STARTING && r->index_note[0]) { /* the start task writes it */
        attrset(tui_look(t, r->index_differs ? TUI_LOOK_WARN : TUI_LOOK_NORMAL));
        tui_putf(y++, 2, COLS - 3, "%.*s", (int)strcspn(r->index_note, "\n"), r->index_note);
        attrset(A_NORMAL);
    }
    if (s->failed || s->map_failed) {
        attrset(tui_look(t, TUI_LOOK_ERROR));
        tui_putf(y++, 2, COLS - 3, "Failed documents go to %s", r->dl_path);
        attrset(A_NORMAL);
    }
    if (ps->asking_abort) {
        attrset(tui_look(t, TUI_LOOK_WARN));
        tui_put(tui_body_rows(), 2, COLS - 3, "Abort now? The bulks in flight are dropped. y aborts, any other key not.");
        attrset(A_NORMAL);
    } else if (r->phase == TUI_RUN_ENDED) {
        tui_put(tui_body_rows(), 2, COLS - 3, "The run has ended. Esc or Enter: back to the tables; q: quit.");
    }
}

static int progress_can_leave(struct tui *t, void *st)
{
    struct progress_state *s = st;

    if (tui_run_ended(&s->run))
        return 1;
    tui_status(t, 1, "the run is going on: c cancels it, A aborts it");
    return 0;
}

static unsigned progress_scopes(struct tui *t, void *st)
{
    struct progress_state *s = st;

    (void)t;
    return tui_run_ended(&s->run) ? TUI_SCOPE_GLOBAL : TUI_SCOPE_GLOBAL | TUI_SCOPE_PROGRESS;
}

static int progress_key(struct tui *t, void *st, int req, int ch)
{
    struct progress_state *s = st;
    struct tui_run *r = &s->run;

    if (s->asking_abort) {
        s->asking_abort = 0;
        if (ch == 'y' || ch == 'Y') {
            tui_run_abort(r);
            tui_status(t, 1, "aborting: dropping what is in flight");
        }
        return TUI_REDRAW;
    }
    if (tui_run_ended(r)) {
        if (req == REQ_BACK || ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            tui_pop_to(t, &tui_scr_tables);
            return TUI_REDRAW;
        }
        return TUI_IGNORED;
    }
    switch (req) {
    case REQ_PAUSE:
        tui_run_pause(r);
        return TUI_REDRAW;
    case REQ_CANCEL:
    case TUI_SIG_CANCEL:
        tui_run_cancel(r);
        tui_status(t, 0, "cancelling: no more reading, the bulks in flight finish%s",
                   req == TUI_SIG_CANCEL ? " (interrupt again to abort)" : "");
        return TUI_REDRAW;
    case TUI_SIG_ABORT:
        tui_run_abort(r);
        tui_status(t, 1, "aborting: dropping what is in flight");
        return TUI_REDRAW;
    case REQ_ABORT:
        s->asking_abort = 1;
        return TUI_REDRAW;
    case REQ_FASTER:
    case REQ_SLOWER:
        tui_run_rate_step(r, req == REQ_FASTER ? 1 : -1);
        if (r->rate)
            tui_status(t, 0, "rate limit: %ld documents per second", r->rate);
        else
            tui_status(t, 0, "rate limit: unlimited");
        return TUI_REDRAW;
    case REQ_QUIT:
    case REQ_BACK:
        progress_can_leave(t, st);
        return TUI_REDRAW;
    default:
        return TUI_IGNORED;
    }
}

static int progress_tick(struct tui *t, void *st)
{
    struct progress_state *s = st;
    struct tui_run *r = &s->run;
    char text[sizeof(t->panel.text)];
    int code;

    tui_run_step(r, t->wake_fd, &t->job_fd);
    if (!tui_run_ended(r))
        return TUI_REDRAW; /* the 100 ms redraw */
    if (s->result_shown)
        return TUI_IGNORED;
    s->result_shown = 1;
    if (t->quit_after_run) {
        t->exit_code = 130;
        return TUI_BREAK;
    }
    tui_run_result_text(r, text, sizeof(text));
    tui_run_outcome(r, &code);
    tui_panel(t, code >= 2 && code != 130 ? TUI_PANEL_ERROR : TUI_PANEL_RESULT, TUI_AFTER_NOTHING,
              code == 0 ? "Sync done" : code == 1 ? "Sync done with failures" : code == 130 ? "Sync cancelled"
                                                                                        : "Sync failed",
              "%s", text);
    return TUI_REDRAW;
}

static void progress_leave(struct tui *t, void *st)
{
    struct progress_state *s = st;

    t->job_fd = -1;
    tui_run_free(&s->run);
    free(s);
}

const struct tui_screen tui_scr_progress = {
    .title = "Sync",
    .scopes = TUI_SCOPE_GLOBAL | TUI_SCOPE_PROGRESS,
    .enter = progress_enter,
    .draw = progress_draw,
    .key = progress_key,
    .tick = progress_tick,
    .live_scopes = progress_scopes,
    .can_leave = progress_can_leave,
    .leave = progress_leave,
};
