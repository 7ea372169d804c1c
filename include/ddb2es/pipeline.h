/*
 * ddb2es/pipeline.h - a sync run: parallel Scan -> mapping -> concurrent _bulk.
 *
 * A run is started with sync_start(), which returns at once: the work happens
 * on background threads. The caller (the console's UI loop or the headless
 * command) polls sync_snapshot() for progress, may pause/resume/cancel/abort
 * and change the rate limits at any moment, reads discrete events from the
 * event queue (its wake-up fd becomes readable when one is queued), and ends
 * with sync_join() + sync_free(). See core/pipeline.c for the DESIGN.
 */
#ifndef DDB2ES_PIPELINE_H
#define DDB2ES_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "ddb2es/credentials.h"
struct entity; /* ddb2es/entity.h */
struct ddb2es_env; /* ddb2es/config.h */
struct ddb_table_info; /* ddb2es/dynamo.h */
#include "ddb2es/error.h"

/* What a run does. Strings and pointers are borrowed and must outlive the run. */
struct sync_options {
    /* source */
    const char *table;
    const char *region;
    const char *ddb_endpoint;            /* NULL: AWS's */
    const struct aws_credentials *creds; /* signs DynamoDB (and ES when es_sigv4) */
    const char *ca_file;
    /* target */
    const char *es_url;
    const char *index;
    const char *es_username;             /* basic auth, or NULL */
    const char *es_password;             /* basic auth password, or NULL; never shown */
    int es_sigv4;
    const char *es_aws_service;          /* "es" */
    const char *es_ca_file;
    /* mapping */
    const struct entity *entity;
    int external_version;                /* send the entity's version with version_type=external_gte */
    /* shape of the run */
    int total_segments;                  /* N of the parallel scan; 0: chosen from the table size */
    int segment_first, segment_last;     /* the range this process owns; -1/-1: all */
    int scan_limit;                      /* Scan Limit; 0: from DescribeTable (1 MB / average item) */
    int concurrency;                     /* bulk senders; 0: 4 */
    size_t bulk_bytes;                   /* flush a bulk at this size; 0: 5 MiB */
    size_t bulk_docs;                    /* ... or this many documents; 0: 5000 */
    double max_docs_per_sec;             /* 0: unlimited; may change while running */
    double max_rcu_per_sec;              /* 0: unlimited; may change while running */
    /* durability */
    const char *checkpoint_path;         /* NULL: no checkpoint */
    int resume;                          /* continue from checkpoint_path */
    const char *dead_letter_path;        /* opened on the first failure; NULL: failures only counted */
    const struct ddb_table_info *table_info; /* DescribeTable's answer when the caller already
                                                has it (copied), else NULL: sync_start reads it */
    /* safety */
    const struct ddb2es_env *guard_env;  /* when set, the table's account and es_url must be this
                                            environment's (see ddb2es/guard.h), else DDB2ES_E_GUARD */
    /* retries */
    int max_attempts;                    /* per request; 0: 8 */
    long connect_timeout_ms, timeout_ms; /* 0: defaults */
};

enum sync_state {
    SYNC_STARTING, SYNC_RUNNING, SYNC_PAUSED, SYNC_CANCELLING, SYNC_DONE, SYNC_CANCELLED, SYNC_FAILED
};

/* Name of a state ("running"). Constant string. */
const char *sync_state_name(enum sync_state s);

#define SYNC_MAX_SEGMENTS 1024

/* A copy of the run's counters, taken under the lock; owned by the caller. */
struct sync_snapshot {
    enum sync_state state;
    double elapsed;                 /* seconds since start (pauses included) */
    long long table_items;          /* DescribeTable ItemCount: approximate, refreshed by AWS every ~6 h */
    int total_segments;
    int segment_first, segment_last;
    int segments_done;
    unsigned long long scanned;     /* items read from DynamoDB */
    unsigned long long mapped;      /* documents built */
    unsigned long long map_failed;  /* items that did not fit the entity (see the dead-letter file) */
    unsigned long long indexed;     /* documents acknowledged by the index */
    unsigned long long failed;      /* documents the index refused (dead-letter) */
    unsigned long long newer_in_index; /* version conflicts: the index holds a newer document */
    unsigned long long retried_docs;   /* documents sent again after a 429/5xx item */
    unsigned long long bulk_requests;
    unsigned long long bulk_retries;   /* whole bulk requests sent again */
    unsigned long long ddb_requests;
    unsigned long long ddb_retries;
    unsigned long long throttles;      /* DynamoDB throttling answers + ES 429s */
    unsigned long long bytes_sent;
    double consumed_rcu;               /* read capacity consumed (ReturnConsumedCapacity) */
    double docs_per_sec;               /* over the last few seconds */
    double eta_seconds;                /* -1 when unknown; from table_items, so approximate */
    size_t queued_batches;             /* bulks waiting for a sender */
    int scanner_threads;               /* scanner threads running the segments */
    int sender_threads;                /* bulk sender threads */
    struct ddb2es_error error;         /* why it failed, when state is SYNC_FAILED */
    int nsegments;                     /* entries in segs: this process's range */
    struct sync_segment_progress {
        int number;                    /* segment number in 0..total_segments-1 */
        int done;                      /* read to its end and every document resolved */
        unsigned long long scanned;    /* items read from it in this run */
    } segs[SYNC_MAX_SEGMENTS];
};

struct sync_job;

/*
 * Checks the options, connects to both services (DescribeTable; GET / and the
 * index), loads the checkpoint when resuming, and starts the threads. On
 * success *out is the running job, owned by the caller: sync_join() then
 * sync_free(). On failure nothing runs and err says why.
 */
int sync_start(const struct sync_options *opts, struct sync_job **out, struct ddb2es_error *err);

/* Copies the counters. Thread-safe; cheap enough to call every 100 ms. */
void sync_snapshot(struct sync_job *job, struct sync_snapshot *out);

/* Controls; thread-safe, return at once. */
void sync_pause(struct sync_job *job, int paused);
void sync_cancel(struct sync_job *job);   /* stop scanning, drain in-flight bulks, checkpoint */
void sync_abort(struct sync_job *job);    /* stop everything now; the checkpoint stays consistent */
void sync_set_rate(struct sync_job *job, double max_docs_per_sec, double max_rcu_per_sec);

/* A descriptor that becomes readable when the run ends (for poll() with stdin). Borrowed. */
int sync_wait_fd(const struct sync_job *job);

/* Waits for the threads; returns the final status (DDB2ES_OK, _CANCELLED, or the fatal error). */
int sync_join(struct sync_job *job, struct ddb2es_error *err);

/* Frees a joined job. NULL is accepted. */
void sync_free(struct sync_job *job);

/* Parses "a-b/N" into first, last, total. DDB2ES_E_USAGE with a message when malformed. */
int sync_parse_segment_range(const char *s, int *first, int *last, int *total, struct ddb2es_error *err);

/* The range of worker `index` of `workers` over `total` segments (near-equal shares). */
int sync_worker_range(int index, int workers, int total, int *first, int *last, struct ddb2es_error *err);

#endif
