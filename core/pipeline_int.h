/*
 * pipeline_int.h - what the parts of the sync pipeline share (internal).
 *
 * core/pipeline.c       the job: start, controls, snapshot, supervisor, queue, dead letters
 * core/pipeline_scan.c  scanner threads: Scan pages -> mapping -> batches
 * core/pipeline_send.c  sender threads: batches -> _bulk, retries, resolution
 * core/pipeline_ckpt.c  per-page acknowledgement and the checkpoint file
 * See the DESIGN comment in core/pipeline.c.
 */
#ifndef DDB2ES_PIPELINE_INT_H
#define DDB2ES_PIPELINE_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "ddb2es/buf.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/error.h"
#include "ddb2es/pipeline.h"

#define DEFAULT_CONCURRENCY 4
#define DEFAULT_BULK_BYTES (5u * 1024u * 1024u)
#define DEFAULT_BULK_DOCS 5000u
#define MAX_SCANNERS 64

/* One Scan page of a segment, kept until all its documents are resolved. */
struct page_rec {
    struct page_rec *next;
    json_t *last_key;   /* LastEvaluatedKey after this page; NULL: the segment's last page */
    size_t pending;     /* documents of this page not yet resolved */
    int sealed;         /* every item of the page was mapped and placed in a batch */
};

struct segment {
    int number;
    struct page_rec *head, *tail;  /* pages in scan order, oldest first */
    json_t *resume_key;            /* LastEvaluatedKey of the last resolved page (owned) */
    json_t *start_key;             /* where this run starts (from the checkpoint), owned */
    int started;                   /* a page of it was read in this run or a previous one */
    int done;                      /* every page resolved and the last one seen */
    unsigned long long scanned;    /* items read from it in this run */
};

/* One document inside a batch. */
struct batch_item {
    size_t off, len;          /* action + source lines inside the batch body */
    struct page_rec *page;    /* the page it came from (accounting) */
    struct segment *seg;
};

struct batch {
    struct batch *next;       /* queue link */
    struct dbuf body;         /* NDJSON */
    struct batch_item *items;
    size_t n, cap;
    double t0;                /* when it was started (monotonic seconds) */
};

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct batch *head, *tail;
    size_t len, cap;
    int closed;
};

struct sync_job {
    struct sync_options o;          /* copy; strings borrowed from the caller */
    pthread_mutex_t lock;
    pthread_cond_t resume_cv;       /* signalled on resume/cancel/abort */
    pthread_cond_t ended_cv;        /* signalled when a scanner or sender ends */
    int scanners_left, senders_left;
    enum sync_state state;
    atomic_int cancelling;          /* graceful stop requested */
    atomic_int aborting;            /* hard stop requested or fatal error */
    int paused;
    struct ddb2es_error fatal;      /* first fatal error */
    int has_fatal;

    struct ddb_table_info table;
    int scan_limit;
    int nsegments;                  /* in this process's range */
    struct segment *segs;           /* [nsegments] */
    int next_segment;               /* cursor for scanners */
    int ckpt_dirty;

    struct queue q;
    pthread_mutex_t dl_lock;
    FILE *dead_letter;              /* opened on the first failure */
    int dl_failed;                  /* the dead-letter file could not be written */

    /* counters (under lock) */
    struct sync_snapshot c;
    double t_start;
    double rate_docs, rate_rcu;     /* limits */
    double next_doc_slot, next_rcu_slot;
    double sample_t[8];
    unsigned long long sample_n[8];
    int sample_i;

    int nscanners, nsenders;
    pthread_t scanners[MAX_SCANNERS];
    pthread_t *senders;
    pthread_t supervisor;
    int wake[2];
};


/* pipeline.c: the queue (a full queue blocks scanners; closed + empty ends senders) */
void pl_queue_init(struct queue *q, size_t cap);
int pl_queue_push(struct queue *q, struct batch *b, atomic_int *abort_flag);
struct batch *pl_queue_pop(struct queue *q);
void pl_queue_close(struct queue *q);
size_t pl_queue_len(struct queue *q);
void pl_batch_free(struct batch *b);

/* pipeline.c: failure and control */
void pl_job_fail(struct sync_job *job, const struct ddb2es_error *e);
int pl_stopping(struct sync_job *job);
void pl_nap(struct sync_job *job, long ms);
void pl_wait_if_paused(struct sync_job *job);
void pl_rate_take(struct sync_job *job, double n, int rcu);
void pl_thread_ended(struct sync_job *job, int *left);
void pl_dead_letter(struct sync_job *job, const char *id, const char *type, const char *reason, long status,
                    const char *doc, size_t doclen, const char *doc_key);

/* pipeline_ckpt.c */
void pl_resolve_locked(struct sync_job *job, struct batch_item *it);
void pl_checkpoint_write(struct sync_job *job, int force);
int pl_checkpoint_load(struct sync_job *job, struct ddb2es_error *err);
/* The segment shape a checkpoint file was written with; -1 when it cannot be read. */
int pl_checkpoint_peek(const char *path, int *total, int *first, int *last);

/* pipeline_send.c / pipeline_scan.c: thread bodies; each frees its malloc'd argument. */
struct sender_arg {
    struct sync_job *job;
    int number;
};
void *pl_sender_main(void *arg);

struct scanner {
    struct sync_job *job;
    int number;
    struct ddb_client *ddb;
    struct batch *cur;
    struct dbuf doc, id, line;
};
void *pl_scanner_main(void *arg);

#endif
