/*
 * term.c - entering and leaving curses, signals, the self-pipe.
 *
 * DESIGN
 * The terminal must be given back whatever way the console ends: a normal
 * quit, exit() on a fatal path (atexit), or a crash signal. tui_done() does
 * it and is idempotent. On a normal path it is endwin(); inside a crash
 * handler curses cannot be trusted (it may be what crashed, and it is not
 * async-signal-safe), so there it only uses what is: tcsetattr() with the
 * modes saved before curses started, and write() of the terminal's own
 * "leave the alternate screen / show the cursor / plain attributes"
 * sequences, read from terminfo at start. Then the handler re-installs the
 * default action and re-raises, so the crash still dumps core as it should.
 *
 * SIGINT, SIGTERM and SIGWINCH handlers only bump a sig_atomic_t and write
 * one byte to the self-pipe, which the UI loop polls with stdin; the loop
 * decides what an interrupt means (cancel the run, then abort, or quit).
 *
 * This is the one place with process-wide state, because signal handlers and
 * atexit functions take no argument: the saved terminal modes, the reset
 * sequences, the signal flags and the pipe's write end.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include "tui.h"

static struct {
    volatile sig_atomic_t active;     /* curses is on */
    volatile sig_atomic_t crashing;   /* tui_done runs inside a crash handler */
    int registered;                   /* atexit(tui_done) done */
    int have_modes;
    struct termios modes;             /* the terminal before curses */
    char reset[256];                  /* rmkx + rmcup + sgr0 + cnorm of this terminal */
    size_t reset_len;
    struct tui_signals sigs;
    int wfd;                          /* self-pipe write end */
} term = {.wfd = -1};

static void poke(char c)
{
    int saved = errno;

    if (term.wfd >= 0 && write(term.wfd, &c, 1) < 0) {
        /* a full pipe already holds a wake-up: nothing is lost */
    }
    errno = saved;
}

static void on_interrupt(int sig)
{
    if (term.sigs.interrupt < 2)
        term.sigs.interrupt++;
    term.sigs.term = sig != SIGINT; /* TERM or HUP: nobody will read a result */
    poke('i');
}

static void on_winch(int sig)
{
    (void)sig;
    term.sigs.resize = 1;
    poke('w');
}

static void on_crash(int sig)
{
    struct sigaction sa;

    term.crashing = 1;
    tui_done();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
}

int tui_term_signals(int *rfd, int *wfd, struct tui_signals **sigs)
{
    static const int crash[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    int fds[2];

    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    term.wfd = fds[1];
    *rfd = fds[0];
    *wfd = fds[1];
    *sigs = &term.sigs;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
        sigaction(crash[i], &sa, NULL);
    /* libcurl runs with CURLOPT_NOSIGNAL: a closed socket must not kill us */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Appends terminfo capability `cap` to the crash-time reset sequence. */
static void add_reset(const char *cap)
{
    char *s = tigetstr(cap);
    size_t n;

    if (!s || s == (char *)-1)
        return;
    n = strlen(s);
    if (term.reset_len + n < sizeof(term.reset)) {
        memcpy(term.reset + term.reset_len, s, n);
        term.reset_len += n;
    }
}

int tui_term_start(void)
{
    SCREEN *scr;

    setlocale(LC_ALL, "");
    term.have_modes = tcgetattr(STDIN_FILENO, &term.modes) == 0;
    scr = newterm(NULL, stdout, stdin);
    if (!scr)
        return -1;
    set_term(scr);
    term.active = 1;
    if (!term.registered) {
        atexit(tui_done);
        term.registered = 1;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    term.reset_len = 0;
    add_reset("rmkx");
    add_reset("rmcup");
    add_reset("sgr0");
    add_reset("cnorm");
    return 0;
}

void tui_done(void)
{
    if (!term.active)
        return;
    term.active = 0;
    if (term.crashing) {
        /* async-signal-safe only: see DESIGN */
        if (term.have_modes)
            tcsetattr(STDIN_FILENO, TCSANOW, &term.modes);
        if (term.reset_len && write(STDOUT_FILENO, term.reset, term.reset_len) < 0) {
            /* nothing more can be done for the terminal */
        }
        if (write(STDOUT_FILENO, "\r\n", 2) < 0) {
            /* same */
        }
        return;
    }
    endwin();
}

void tui_term_resize(void)
{
    struct winsize ws;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE);
}

void tui_term_drain(int rfd)
{
    char buf[64];

    while (read(rfd, buf, sizeof(buf)) > 0) {
        /* the flags say what happened; the bytes only woke poll() */
    }
}
