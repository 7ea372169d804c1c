/*
 * ddb2es/report.h - what a run leaves behind: its summary as JSON, files
 * written atomically, and the audit log.
 */
#ifndef DDB2ES_REPORT_H
#define DDB2ES_REPORT_H

#include <stddef.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/pipeline.h"

/* Names of what a run worked on. Borrowed; any may be NULL. */
struct sync_summary_meta {
    const char *environment;
    const char *table;
    const char *index;
    const char *entity;
};

/*
 * Appends a snapshot as one JSON object (no newline) to out: state, counters
 * (scanned, mapped, indexed, failed, map_failed, newer_in_index, retried, ...),
 * seconds, docs_per_sec, eta_seconds (null when unknown), peak_rss_kb of this
 * process, and the error when the run failed. `meta` may be NULL.
 */
int report_sync_json(const struct sync_snapshot *s, const struct sync_summary_meta *meta, struct dbuf *out);

/* Writes a file atomically (temporary file, fsync, rename). */
int report_write_file(const char *path, const void *data, size_t len, struct ddb2es_error *err);

/*
 * A new file name under the state directory: $XDG_STATE_HOME/ddb2es/<sub>/
 * (else ~/.local/state/ddb2es/<sub>/, created 0700) named <stem>-<UTC time><ext>,
 * into out[outsz]. The file itself is not created.
 */
void report_state_file(const char *sub, const char *stem, const char *ext, char *out, size_t outsz);

/* mkdir -p with private permissions (0700); a failure shows when a file is opened there. */
void report_mkdirs(const char *dir);

/* Peak resident set size of this process in KiB (getrusage). */
long report_peak_rss_kb(void);

#endif
