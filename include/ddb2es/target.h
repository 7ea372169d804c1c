/*
 * ddb2es/target.h - preparing the target index for a load and finishing it:
 * bulk-load tuning (--fast-load) and zero-downtime reindex behind an alias.
 *
 * DESIGN
 * Fast load: refresh_interval -1 and number_of_replicas 0 while loading, the
 * previous values restored afterwards whatever the outcome (done, cancelled,
 * failed). The previous values are also written to a small state file beside
 * the checkpoint, so a run killed before it could restore them is restored by
 * the resume that finishes the job (target_fast_load_recover).
 *
 * Alias: the load goes into a new index "<alias>-<UTC timestamp>" created from
 * the entity's definition; when the load is complete and the new index holds
 * as many documents as were indexed, one POST /_aliases moves the alias from
 * the indices it pointed to onto the new one (atomic for searchers) and, with
 * delete_old, removes the old indices in the same request.
 */
#ifndef DDB2ES_TARGET_H
#define DDB2ES_TARGET_H

#include <stddef.h>

#include "ddb2es/error.h"
#include "ddb2es/es.h"

/* What a fast load changed, to put back. A plain value. */
struct target_fast_load {
    int active;                        /* settings were changed and not yet restored */
    char index[256];                   /* the concrete index changed */
    struct es_write_settings saved;    /* values before the load */
};

/*
 * Saves the index's refresh_interval and number_of_replicas into *fl (and into
 * state_path when not NULL, written atomically), then sets -1 and 0.
 */
int target_fast_load_begin(struct es_client *es, const char *index, const char *state_path,
                           struct target_fast_load *fl, struct ddb2es_error *err);

/* Restores what begin saved (no-op when not active) and removes state_path. */
int target_fast_load_end(struct es_client *es, const char *state_path, struct target_fast_load *fl,
                         struct ddb2es_error *err);

/*
 * Reads a state file left by a run that could not restore (killed). *fl.active
 * is 0 when there is none. The caller then ends the load with target_fast_load_end.
 */
int target_fast_load_recover(const char *state_path, struct target_fast_load *fl, struct ddb2es_error *err);

/* The new index name for an alias: "<alias>-<yyyymmddhhmmss>" (UTC) into out[outsz]. */
int target_alias_index_name(const char *alias, long long now, char *out, size_t outsz, struct ddb2es_error *err);

/*
 * Checks that `new_index` holds `expected` documents (after a refresh), then
 * points `alias` at it alone in one POST /_aliases, removing it from the indices
 * it pointed to; with delete_old those indices are deleted in the same request.
 * When an index (not an alias) already has the alias's name, refuses: moving it
 * would need deleting it first, which the operator must decide. *old_out (may be
 * NULL) receives how many indices the alias pointed to.
 */
int target_alias_swap(struct es_client *es, const char *alias, const char *new_index, long long expected,
                      int delete_old, size_t *old_out, struct ddb2es_error *err);

#endif
