/*
 * ddb2es/audit.h - the append-only audit log: who did what, where, with what result.
 *
 * One JSON object per line, appended with O_APPEND in a single write so that
 * concurrent ddb2es processes never interleave lines. Default path:
 * $XDG_STATE_HOME/ddb2es/audit.jsonl, else ~/.local/state/ddb2es/audit.jsonl
 * (directories created 0700). Nothing secret is written: names and counts only.
 */
#ifndef DDB2ES_AUDIT_H
#define DDB2ES_AUDIT_H

#include <jansson.h>

#include "ddb2es/credentials.h"
#include "ddb2es/error.h"

/* The default audit path into out[outsz]. */
int audit_default_path(aws_getenv_fn getenv_fn, void *ctx, char *out, size_t outsz, struct ddb2es_error *err);

/*
 * Appends one record. `fields` (borrowed) holds what the caller knows
 * (environment, table, index, entity, mode, counts, outcome...); this adds
 * "time" (UTC, ISO 8601) and "user" (the OS user) first.
 */
int audit_append(const char *path, const json_t *fields, struct ddb2es_error *err);

struct sync_snapshot; /* ddb2es/pipeline.h */

/* One sync (or a refusal) as the audit log records it. Everything is borrowed; any may be NULL. */
struct audit_sync {
    const char *command;      /* "sync" (headless) or "console" */
    const char *environment;
    const char *table;
    const char *index;        /* the index written */
    const char *entity;
    const char *mode;         /* "in-place" or "alias" */
    const char *alias;
    const char *outcome;      /* "done", "some-failed", "cancelled", "failed", "refused" */
    const char *reason;       /* why, when not done */
    const struct sync_snapshot *snap; /* counts, when it ran */
};

/*
 * Appends the record of a sync to `path` (the configuration's audit_log), or to
 * the default path when path is NULL.
 */
int audit_sync_append(const char *path, const struct audit_sync *a, struct ddb2es_error *err);

#endif
