/*
 * tui.h - the ncurses console: what its modules share.
 *
 * DESIGN
 * The console is a stack of screens (env -> tables -> target -> preview ->
 * confirm -> progress). Each screen is a small vtable (struct tui_screen) and
 * owns a private state it allocates in enter() and frees in leave(); nothing
 * of a screen lives in globals. Key presses are turned into requests by one
 * table (keys.h, an X-macro that also writes the help overlay and the hint
 * line), then handed to the top screen, whose handler answers with flags
 * (TUI_HANDLED, TUI_REDRAW, TUI_BREAK).
 *
 * One thread draws: the UI loop (tui.c) polls stdin, the self-pipe and the
 * running sync's wake fd, and redraws on key presses and on a 100 ms tick.
 * Everything that talks to a service (ListTables, DescribeTable, the preview,
 * preparing the index, starting and finishing a run) runs on a background
 * task (task.c) that never touches curses: it fills its screen's state under
 * that state's lock and writes one byte to the self-pipe when it is done.
 *
 * Two levels of failure, as in ncdu: what failed for one item (a table that
 * could not be described, a document the index refused) is counted and shown
 * in place; what stops an operation is a panel that stays until a key.
 *
 * The terminal is restored by one idempotent tui_done() (term.c): from
 * atexit, on the fatal path, and before a crash signal is re-raised. Signal
 * handlers only set flags and write the self-pipe.
 *
 * tui/ sees include/ddb2es only: no HTTP, no JSON library, no cli/ code.
 */
#ifndef DDB2ES_TUI_H
#define DDB2ES_TUI_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "ddb2es/config.h"
#include "ddb2es/credentials.h"
#include "ddb2es/entity.h"
#include "ddb2es/error.h"

#include "keys.h"

/* The console's entry point (wired in cli/main.c). argv[0] is "console" or the program. */
int tui_main(int argc, char **argv);

/* ---- handler flags (htop's Panel/Action style) ----------------------------- */

enum {
    TUI_IGNORED = 0,  /* the screen did not use the key */
    TUI_HANDLED = 1,  /* used; nothing on screen changed */
    TUI_REDRAW = 2,   /* used; repaint */
    TUI_BREAK = 4,    /* leave the UI loop (quit the console) */
};

struct tui;

/* Requests that come from SIGINT/SIGTERM/SIGHUP rather than keys: given to a
 * top screen whose can_leave() says it is busy (a run), first and second time. */
enum { TUI_SIG_CANCEL = REQ_COUNT + 1, TUI_SIG_ABORT };

/* One screen. Every member but draw and key may be NULL. */
struct tui_screen {
    const char *title;  /* the title bar's last crumb ("Tables") */
    unsigned scopes;    /* which key scopes apply on this screen (TUI_SCOPE_* bits) */
    /* Called when pushed: allocates the screen's state into *st. A non-zero
     * status (with t's panel set) keeps the screen from being pushed. */
    int (*enter)(struct tui *t, void **st);
    /* Paints rows 1 .. LINES-3 (the title, status and hint lines are drawn by tui.c). */
    void (*draw)(struct tui *t, void *st);
    /* One request (keys.h) or, while a text field has the focus (t->typing), REQ_NONE
     * and the raw key `ch`. Returns TUI_* flags. */
    int (*key)(struct tui *t, void *st, int req, int ch);
    /* Every 100 ms and after each wake-up: look at tasks and runs. Returns TUI_* flags. */
    int (*tick)(struct tui *t, void *st);
    /* The scopes that apply right now, when they change with the screen's state
     * (a finished run takes no run keys); NULL: `scopes`. */
    unsigned (*live_scopes)(struct tui *t, void *st);
    /* The screen may be left now (Esc, q): 0 says why not in the status line. */
    int (*can_leave)(struct tui *t, void *st);
    /* Called when popped: joins its tasks and frees st. */
    void (*leave)(struct tui *t, void *st);
};

/* The screens, in the order an operator meets them. */
extern const struct tui_screen tui_scr_env;      /* scr_env.c: environment picker */
extern const struct tui_screen tui_scr_tables;   /* scr_tables.c: table picker */
extern const struct tui_screen tui_scr_target;   /* scr_target.c: index, entity, options */
extern const struct tui_screen tui_scr_preview;  /* scr_preview.c: mapped documents */
extern const struct tui_screen tui_scr_confirm;  /* scr_confirm.c: summary, typed confirmation */
extern const struct tui_screen tui_scr_progress; /* scr_progress.c: the live run and its result */
extern const struct tui_screen tui_scr_orphans;  /* scr_orphans.c: documents whose item is gone */

/* ---- what the operator chose --------------------------------------------- */

/* Loaded once: the configuration and the entities. Then per environment: keys, region. */
struct tui_session {
    char config_path[4096];
    struct ddb2es_config *cfg;           /* owned */
    struct entity_set *entities;         /* owned; shipped + the config's entities_dirs */
    const struct ddb2es_env *env;        /* borrowed from cfg; NULL until one is opened */
    struct aws_credentials *creds;       /* owned; never shown */
    char region[64];
    const char *es_password;             /* borrowed from the process environment; never shown */
};

/* The run being prepared, filled screen by screen. */
struct tui_pick {
    char table[256];
    char table_arn[512];                 /* from DescribeTable; "" when it failed */
    long long item_count, size_bytes;    /* DescribeTable's approximations; -1 unknown */
    char index[256];
    int index_edited;                    /* the operator typed the index: entity changes keep it */
    const struct entity *entity;         /* borrowed from the session's set */
    int segments;                        /* 0: chosen from the table's size */
    int concurrency;                     /* 0: the pipeline's default (4) */
    long max_rate;                       /* documents per second, 0: unlimited */
    int external_version;                /* send versions with version_type=external_gte */
    int fast_load;                       /* refresh off and no replicas while loading */
};

/* ---- panels: what stays on screen until a key ------------------------------ */

enum tui_panel_kind { TUI_PANEL_ERROR, TUI_PANEL_RESULT, TUI_PANEL_INFO };

/* What dismissing a panel does. */
enum tui_after { TUI_AFTER_NOTHING, TUI_AFTER_POP, TUI_AFTER_QUIT };

struct tui_panel {
    int active;
    enum tui_panel_kind kind;
    char title[128];
    char text[4096];          /* paragraphs separated by '\n', wrapped to the box */
    enum tui_after after;
};

/* ---- the console -------------------------------------------------------- */

#define TUI_MAX_DEPTH 8
#define TUI_TICK_MS 100

struct tui_frame {
    const struct tui_screen *scr;
    void *st;
};

struct tui {
    struct tui_session ses;
    struct tui_pick pick;
    struct tui_frame stack[TUI_MAX_DEPTH];
    int depth;
    int pops;                 /* frames to pop once the current handler returned */
    struct tui_panel panel;
    int help;                 /* the help overlay is shown */
    int help_top;             /* first help line shown */
    int typing;               /* a text field has the focus: keys go to it raw */
    char status[256];         /* one line for what is not worth a panel */
    int status_error;         /* status is a problem (bold / red) */
    double status_until;      /* monotonic time it disappears */
    int wake_fd;              /* write end of the self-pipe, for tasks */
    int job_fd;               /* the running sync's wake fd, or -1 */
    int colors;               /* colour pairs are set up */
    int exit_code;
    int quit_after_run;       /* SIGTERM during a run: leave once it ended */
};

/* Pushes a screen (calls its enter). On failure the panel says why; returns non-zero. */
int tui_push(struct tui *t, const struct tui_screen *scr);
/* Pops the top screen after the current handler returned. */
void tui_pop(struct tui *t);
/* Pops every screen above the nearest `scr` (after the current handler). */
void tui_pop_to(struct tui *t, const struct tui_screen *scr);

/* Shows a panel that stays until a key. printf-style text. */
void tui_panel(struct tui *t, enum tui_panel_kind kind, enum tui_after after, const char *title, const char *fmt,
               ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 5, 6)))
#endif
    ;
/* The panel for an error record: its message, or the status's description. */
void tui_panel_error(struct tui *t, enum tui_after after, const char *title, const struct ddb2es_error *err);

/* A status line for a few seconds. printf-style. */
void tui_status(struct tui *t, int is_error, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 3, 4)))
#endif
    ;

/* Monotonic seconds. */
double tui_now(void);

/* ---- terminal (term.c) ----------------------------------------------------- */

/* Signals the UI loop looks at. Set by handlers only. */
struct tui_signals {
    volatile sig_atomic_t interrupt;  /* SIGINT/SIGTERM count */
    volatile sig_atomic_t term;       /* the last one was SIGTERM */
    volatile sig_atomic_t resize;     /* SIGWINCH since the last look */
};

/* Creates the self-pipe (both ends non-blocking) and installs the signal
 * handlers. rfd/wfd receive its ends; sigs is filled by the handlers. */
int tui_term_signals(int *rfd, int *wfd, struct tui_signals **sigs);
/* Enters curses mode (and registers tui_done with atexit). 0 on success. */
int tui_term_start(void);
/* Restores the terminal; idempotent, safe from atexit and from a crash handler. */
void tui_done(void);
/* Adapts curses to the terminal's new size. */
void tui_term_resize(void);
/* Empties the self-pipe. */
void tui_term_drain(int rfd);

/* ---- background tasks (task.c) -------------------------------------------- */

/* Work that talks to a service, off the UI thread. It must not touch curses. */
struct tui_task {
    pthread_t thread;
    int running;              /* started and not yet joined (UI thread only) */
    atomic_int done;          /* set by the task as its last action */
    atomic_int stop;          /* asked to stop early (checked by the work between requests) */
    int (*fn)(struct tui_task *task, void *arg);
    void *arg;
    int wake_fd;              /* written once when done */
    int rc;                   /* fn's return, valid after join */
};

/* Starts fn(task, arg) on a thread. Returns 0, or an errno-style failure. */
int tui_task_start(struct tui_task *task, int (*fn)(struct tui_task *, void *), void *arg, int wake_fd);
/* True once fn has returned (then join does not block). */
int tui_task_finished(struct tui_task *task);
/* Asks the task to stop, then waits for it. Returns fn's status; 0 when never started. */
int tui_task_join(struct tui_task *task);

/* ---- session (session.c) -------------------------------------------------- */

/* Loads the configuration (`config_arg`, $DDB2ES_CONFIG or the default) and the entities. */
int tui_session_load(struct tui_session *s, const char *config_arg, struct ddb2es_error *err);
/* Makes `env` current: region, credentials, the ES password variable. */
int tui_session_open_env(struct tui_session *s, const struct ddb2es_env *env, struct ddb2es_error *err);
/* Forgets the current environment (keys wiped). */
void tui_session_close_env(struct tui_session *s);
void tui_session_free(struct tui_session *s);
/* Clients for the current environment, owned by the caller (and its thread). NULL: err says why.
 * `interactive`: fewer retries and a shorter timeout, for lists an operator waits for. */
struct ddb_client *tui_session_ddb(const struct tui_session *s, int interactive, struct ddb2es_error *err);
struct es_client *tui_session_es(const struct tui_session *s, struct ddb2es_error *err);
/* A new file name under $XDG_STATE_HOME/ddb2es/<sub>/ (else ~/.local/state/...; directories
 * created): "<stem>-<UTC time><ext>". The dead-letter file is named as `ddb2es sync` names it. */
void tui_state_file(const char *sub, const char *stem, const char *ext, char *out, size_t outsz);

/* ---- drawing (draw.c) ----------------------------------------------------- */

/* Attributes by meaning; monochrome falls back to bold / reverse / dim. */
enum tui_look { TUI_LOOK_NORMAL, TUI_LOOK_TITLE, TUI_LOOK_SELECTED, TUI_LOOK_ERROR, TUI_LOOK_OK, TUI_LOOK_WARN,
                TUI_LOOK_DIM, TUI_LOOK_KEY, TUI_LOOK_HEADER };

void tui_colors_init(struct tui *t);
int tui_look(const struct tui *t, enum tui_look look);

/* Writes `s` at (y, x) in at most `w` columns (UTF-8 aware, control bytes as '?'). Returns columns used. */
int tui_put(int y, int x, int w, const char *s);
/* Same, printf-style. */
int tui_putf(int y, int x, int w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 4, 5)))
#endif
    ;
/* Columns `s` takes on screen. */
int tui_width(const char *s);
/* Word-wraps `text` to `w` columns: calls line(arg, start, len) per line. Returns the line count. */
int tui_wrap(const char *text, int w, void (*line)(void *arg, const char *s, size_t len), void *arg);
/* A box with a title, cleared inside. */
void tui_box(const struct tui *t, int y, int x, int h, int w, const char *title, enum tui_look look);
/* "1.2k", "3.4M"; "?" for negative. */
void tui_fmt_count(long long n, char *out, size_t outsz);
/* "512 B", "1.5 MiB"; "?" for negative. */
void tui_fmt_bytes(long long n, char *out, size_t outsz);
/* "1:02:03" / "2:03"; "?" for negative. */
void tui_fmt_duration(double s, char *out, size_t outsz);

/* A scrolling list cursor. */
struct tui_list {
    size_t count;             /* rows */
    size_t cur;               /* the selected row */
    size_t top;               /* first row shown */
};
/* Moves on a LIST request (UP, DOWN, PGUP, PGDN, HOME, END) with `rows` visible. TUI_* flags. */
int tui_list_key(struct tui_list *l, int req, int rows);
/* Keeps cur within count and visible in `rows`. */
void tui_list_fit(struct tui_list *l, int rows);

/* A one-line text field. */
struct tui_input {
    char buf[1024];
    size_t len;
};
enum { TUI_INPUT_IGNORED, TUI_INPUT_EDITED, TUI_INPUT_DONE, TUI_INPUT_CANCEL };
void tui_input_set(struct tui_input *in, const char *s);
/* One raw key: printable ASCII is inserted, Backspace erases, ^U clears, Enter/Esc end. */
int tui_input_key(struct tui_input *in, int ch);
/* Draws "[text_]" in w columns; shows the cursor when `focused`. */
void tui_input_draw(const struct tui *t, const struct tui_input *in, int y, int x, int w, int focused);

/* Clears the body rows and returns how many there are (rows 1 .. LINES-3). */
int tui_body_rows(void);

#endif
