/*
 * orphans_cli.h - what `ddb2es orphans` and `ddb2es verify` share
 * (cmd_orphans.c defines it): filling the core options from the context,
 * and running a job with progress on stderr.
 */
#ifndef DDB2ES_ORPHANS_CLI_H
#define DDB2ES_ORPHANS_CLI_H

#include "cli.h"
#include "ddb2es/orphans.h"

enum cli_progress { CLI_PROGRESS_AUTO, CLI_PROGRESS_JSON, CLI_PROGRESS_NONE };

/* Parses --progress MODE; -1 (after printing why) when MODE is unknown. */
int cli_progress_parse(const char *v, enum cli_progress *out);

/* The connection fields of *o from the context (the rest is left as it is). Borrows from ctx. */
void cli_orphans_options(const struct cli_context *ctx, const char *table, const char *index,
                         const struct entity *e, struct orphans_options *o);

/*
 * Starts a job, shows its progress until it ends (Ctrl-C cancels it), and
 * leaves the final counters in *snap. *out is the joined job (the caller
 * frees it with orphans_free), or NULL when it could not start. Returns the
 * job's status with err filled.
 */
int cli_orphans_run(const struct orphans_options *o, enum cli_progress pmode, struct orphans_job **out,
                    struct orphans_snapshot *snap, struct ddb2es_error *err);

#endif
