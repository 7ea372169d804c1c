/*
 * main.c - entry point: the console when run without a command, else one of
 * the headless commands listed in cli.h.
 */
#include <signal.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ddb2es/http.h"

/* The only process-wide mutable state: what the signal handler saw. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    if (interrupted < 2)
        interrupted++;
}

int cli_interrupted(void)
{
    return (int)interrupted;
}

void cli_signals_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* libcurl runs with CURLOPT_NOSIGNAL: a closed socket must not kill us */
    signal(SIGPIPE, SIG_IGN);
}

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
#define CLI_X_ROW(name, fn, help) {#name, fn, help},
    CLI_COMMANDS(CLI_X_ROW)
#undef CLI_X_ROW
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ddb2es COMMAND [OPTIONS]          headless, for scripts and CI/CD\n"
            "       ddb2es COMMAND --help             the options of a command\n"
            "       ddb2es [console [--config FILE]]  the interactive console (needs a terminal)\n"
            "       ddb2es --version\n\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nexit codes: 0 done, 1 some items failed, 2 usage/config/connection error,\n"
                 "            3 refused by the environment guard, 130 cancelled\n");
}

int main(int argc, char **argv)
{
    struct ddb2es_error err;
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("ddb2es %s\n", DDB2ES_VERSION);
        return EXIT_ALL_OK;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return EXIT_ALL_OK;
    }
#if defined(__GLIBC__) && defined(M_MXFAST)
    /* Scan pages become tens of thousands of small JSON nodes freed together;
     * without fastbins glibc reuses that memory at once instead of consolidating
     * it later on a large allocation (make bench: 14-26% less CPU per document). */
    mallopt(M_MXFAST, 0);
#endif
    ddb2es_error_clear(&err);
    if (http_global_init(&err)) {
        cli_error(&err);
        return EXIT_USAGE;
    }
    cli_signals_install();
    if (argc < 2 || strcmp(argv[1], "console") == 0) {
        /* the interactive console needs a terminal on both ends; elsewhere: the usage */
        if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
            rc = tui_main(argc - 1, argv + 1);
        } else {
            usage(stderr);
            rc = EXIT_USAGE;
        }
        http_global_cleanup();
        return rc;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            rc = commands[i].fn(argc - 1, argv + 1);
            http_global_cleanup();
            return rc;
        }
    }
    fprintf(stderr, "ddb2es: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    http_global_cleanup();
    return EXIT_USAGE;
}
