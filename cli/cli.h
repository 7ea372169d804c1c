/*
 * cli.h - the headless commands of ddb2es (and what they share).
 *
 * Every command is `int cmd_NAME(int argc, char **argv)` returning the
 * process exit code. They call the same core functions as the console; they
 * print results on stdout, progress and errors on stderr.
 */
#ifndef DDB2ES_CLI_H
#define DDB2ES_CLI_H

#include <stdio.h>

#include "ddb2es/config.h"
#include "ddb2es/credentials.h"
#include "ddb2es/entity.h"
#include "ddb2es/error.h"
#include "ddb2es/es.h"

/* Exit codes, the contract with CI/CD. */
enum {
    EXIT_ALL_OK = 0,      /* every item handled */
    EXIT_SOME_FAILED = 1, /* ran, but some items failed (or verify found differences) */
    EXIT_USAGE = 2,       /* bad flags, config errors, unreachable services */
    EXIT_GUARD = 3,       /* refused by the environment guard */
    EXIT_CANCELLED = 130  /* cancelled by the operator (SIGINT/SIGTERM) */
};

/* X(name, function, one-line summary): the command table and `ddb2es help`. */
#define CLI_COMMANDS(X)                                                                     \
    X(sync, cmd_sync, "copy a DynamoDB table into an Elasticsearch index")                  \
    X(preview, cmd_preview, "show the documents a sync would write and what it would change")  \
    X(entities, cmd_entities, "list the entities and the tables they match")                 \
    X(tables, cmd_tables, "list the DynamoDB tables of an environment")                      \
    X(envs, cmd_envs, "list the environments of the configuration")                         \
    X(orphans, cmd_orphans, "list (or delete) the documents whose item is gone from the table") \
    X(verify, cmd_verify, "check that an index holds exactly its table")

#define CLI_X_DECL(name, fn, help) int fn(int argc, char **argv);
CLI_COMMANDS(CLI_X_DECL)
#undef CLI_X_DECL

/* The interactive console (tui/tui.c): `ddb2es` alone or `ddb2es console [--config FILE]`. */
int tui_main(int argc, char **argv);

/* Everything a command needs about "where": filled by cli_context_open. */
struct cli_context {
    struct ddb2es_config *cfg;          /* owned */
    const struct ddb2es_env *env;       /* borrowed from cfg */
    struct aws_credentials *creds;      /* owned */
    struct entity_set *entities;        /* owned */
    char region[64];
    char config_path[4096];
    const char *es_password;            /* borrowed from the process environment, or NULL; never printed */
};

/*
 * Loads the config (from config_path, $DDB2ES_CONFIG or the default), finds
 * environment `env_name`, resolves AWS credentials and region, loads the
 * entities. Prints what failed on stderr and returns an exit code (0 = ok).
 */
int cli_context_open(struct cli_context *ctx, const char *config_path, const char *env_name);
void cli_context_close(struct cli_context *ctx);

/*
 * Like cli_context_open, for the old system's interface: the environment is
 * the one whose cluster is `es_url`. None: prints why and returns EXIT_GUARD.
 */
int cli_context_open_for_url(struct cli_context *ctx, const char *config_path, const char *es_url);

struct ddb_table_info; /* ddb2es/dynamo.h */

/*
 * Reads the table's description into *info (it must exist; free with
 * ddb_table_info_free) and asks the guard whether
 * this environment may write it into `es_url` (the table's account, the URL).
 */
int cli_check_table(const struct cli_context *ctx, const char *table, const char *es_url,
                    struct ddb_table_info *info, struct ddb2es_error *err);

/* An Elasticsearch client for `url` with the environment's auth and TLS settings. NULL on failure. */
struct es_client *cli_es_client(const struct cli_context *ctx, const char *url, struct ddb2es_error *err);

/*
 * Makes sure the target index is ready: created from the entity's index
 * definition when missing (must_create: it must not exist yet), or reports
 * whether its mapping covers the definition. Prints what it did; returns an
 * exit code (0 = go on).
 */
int cli_prepare_index(const struct cli_context *ctx, struct es_client *es, const char *index,
                      const struct entity *e, int must_create);

/* Prints "ddb2es: <message>" (and the hint for its status) on stderr. */
void cli_error(const struct ddb2es_error *err);

/* printf-style error on stderr, prefixed with "ddb2es: ". Returns `code`. */
int cli_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 2, 3)))
#endif
    ;

/*
 * Prints "ddb2es CMD: <message>", a blank line and the command's usage on
 * stderr; returns EXIT_USAGE. For the option parsers of every command.
 */
int cli_usage_error(const char *cmd, void (*usage)(FILE *out), const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 3, 4)))
#endif
    ;

/* Maps a core status to an exit code (config/usage/network -> 2, guard -> 3, ...). */
int cli_exit_for(int status);

/* Picks the entity: by name when given, else by table. Prints why on failure. NULL on error. */
const struct entity *cli_pick_entity(const struct cli_context *ctx, const char *name, const char *table);

/* Parses a positive integer option value; prints a usage error and returns -1 when bad. */
long cli_parse_long(const char *opt, const char *v, long min, long max);

/* Set by the signal handler: 1 after the first SIGINT/SIGTERM, 2 after the second. */
int cli_interrupted(void);

/* Installs SIGINT/SIGTERM handlers that only count (see cli_interrupted) and ignores SIGPIPE. */
void cli_signals_install(void);

#endif
