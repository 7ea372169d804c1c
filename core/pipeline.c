/*
 * pipeline.c - a sync run: parallel Scan -> mapping -> concurrent _bulk.
 *
 * DESIGN
 *
 * Threads.
 *   - S scanner threads. Each takes the next segment of this process's range
 *     from a shared cursor, owns its own DynamoDB client, and for every Scan
 *     page: maps each item with the entity (mapping is cheap next to the
 *     network, so it happens here rather than on a thread of its own), appends
 *     the action + document to its current batch, and pushes the batch to the
 *     queue when it reaches bulk_bytes or bulk_docs, or is a second old, or a
 *     rate limit is about to make the scanner sleep. Pages are read one after
 *     the other within a segment (ExclusiveStartKey chains them).
 *   - B sender threads. Each owns its own Elasticsearch client (connection
 *     reuse), pops a batch, sends it as one _bulk and resolves every item:
 *     indexed, newer in index (409 with external versions), failed (dead
 *     letter), or sent again (429 / 5xx items, whole-request 429/502/503/504,
 *     connection errors) with backoff. A 413 splits the batch in two.
 *   - One supervisor thread started by sync_start(): it joins the scanners,
 *     closes the queue, joins the senders, writes the final checkpoint, sets the
 *     final state and writes one byte to the wake pipe. While the run goes on
 *     it samples the rate and writes the checkpoint every CHECKPOINT_INTERVAL
 *     (250 ms) when it changed.
 *
 * Queues and memory. Scanners and senders meet at one bounded queue of
 * batches (2 x B slots). A full queue blocks the scanners, so memory is at
 * most (S + 3 x B) batches of bulk_bytes whatever the table's size.
 *
 * Ownership of buffers. A batch (NDJSON body + one record per document) is
 * built by one scanner, handed to the queue (which then owns it), taken by one
 * sender, and freed by that sender once every document in it is resolved.
 * A Scan page's JSON is freed by its scanner as soon as its items are mapped;
 * only its LastEvaluatedKey is kept, in a page record.
 *
 * Checkpoints. Each segment keeps its pages in scan order as page records,
 * each counting the documents not yet resolved. A sender that resolves a
 * batch decrements those counts; the segment's resume point advances past a
 * page only when that page and all before it are resolved, to the
 * LastEvaluatedKey of that page. So a checkpoint never skips a document that
 * the index has not acknowledged: after a kill -9 only the pages in flight
 * (and those acknowledged in the last 250 ms) are read and sent again (same
 * _id, so nothing is duplicated). The file is written with write + fsync +
 * rename.
 *
 * Shutdown. cancel: scanners stop before their next page and flush what they
 * hold; senders drain the queue; the checkpoint is written. abort: scanners
 * stop at once, requests in flight end through the abort flag libcurl polls,
 * senders drop what they have not sent; pages not resolved stay before the
 * checkpoint. A fatal error (retries exhausted,
 * index refusing whole requests) aborts the run with that error.
 *
 * Locking. One mutex (job->lock) guards the counters, the segment page lists,
 * state and rate buckets; the queue has its own mutex; the dead-letter file
 * its own. Neither is held while doing I/O on the network.
 */
#include "ddb2es/pipeline.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include "ddb2es/ddbjson.h"
#include "ddb2es/guard.h"
#include "pipeline_int.h"
#include "util.h"

const char *sync_state_name(enum sync_state s)
{
    switch (s) {
    case SYNC_STARTING: return "starting";
    case SYNC_RUNNING: return "running";
    case SYNC_PAUSED: return "paused";
    case SYNC_CANCELLING: return "cancelling";
    case SYNC_DONE: return "done";
    case SYNC_CANCELLED: return "cancelled";
    case SYNC_FAILED: return "failed";
    }
    return "unknown";
}

/* ---- the queue ---------------------------------------------------------- */

void pl_queue_init(struct queue *q, size_t cap)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->head = q->tail = NULL;
    q->len = 0;
    q->cap = cap;
    q->closed = 0;
}

/* Takes ownership of b. Returns 0, or -1 when the queue was closed (b is not taken). */
int pl_queue_push(struct queue *q, struct batch *b, atomic_int *abort_flag)
{
    pthread_mutex_lock(&q->lock);
    while (q->len >= q->cap && !q->closed && !atomic_load(abort_flag))
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed || atomic_load(abort_flag)) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    b->next = NULL;
    if (q->tail)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    q->len++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* The next batch (caller owns it), or NULL once the queue is closed and empty. */
struct batch *pl_queue_pop(struct queue *q)
{
    struct batch *b;

    pthread_mutex_lock(&q->lock);
    while (!q->head && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->lock);
    b = q->head;
    if (b) {
        q->head = b->next;
        if (!q->head)
            q->tail = NULL;
        q->len--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return b;
}

void pl_queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

size_t pl_queue_len(struct queue *q)
{
    size_t n;

    pthread_mutex_lock(&q->lock);
    n = q->len;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void pl_batch_free(struct batch *b)
{
    if (!b)
        return;
    dbuf_free(&b->body);
    free(b->items);
    free(b);
}

/* ---- failure and control ------------------------------------------------ */

/* Records the first fatal error and stops the run. */
void pl_job_fail(struct sync_job *job, const struct ddb2es_error *e)
{
    pthread_mutex_lock(&job->lock);
    if (!job->has_fatal) {
        job->fatal = *e;
        job->has_fatal = 1;
    }
    atomic_store(&job->aborting, 1);
    pthread_cond_broadcast(&job->resume_cv);
    pthread_mutex_unlock(&job->lock);
    pthread_mutex_lock(&job->q.lock);
    pthread_cond_broadcast(&job->q.not_full);
    pthread_mutex_unlock(&job->q.lock);
}

int pl_stopping(struct sync_job *job)
{
    return atomic_load(&job->aborting) || atomic_load(&job->cancelling);
}

/* Sleeps up to ms, waking early when the run is aborted. */
void pl_nap(struct sync_job *job, long ms)
{
    while (ms > 0 && !atomic_load(&job->aborting)) {
        long step = ms > 100 ? 100 : ms;
        util_sleep_ms(step);
        ms -= step;
    }
}

/* Blocks while paused. */
void pl_wait_if_paused(struct sync_job *job)
{
    pthread_mutex_lock(&job->lock);
    while (job->paused && !pl_stopping(job))
        pthread_cond_wait(&job->resume_cv, &job->lock);
    pthread_mutex_unlock(&job->lock);
}

/*
 * Rate limiting: each bucket is a schedule of slots; n units read now are
 * paid for by sleeping until `next + n/rate`. Unused time is never banked, so
 * a paused or slow run cannot burst later, and the first page is paid for
 * like the others: over a run, units / seconds stays at the rate.
 */
void pl_rate_take(struct sync_job *job, double n, int rcu)
{
    double now, until, rate;
    double *slot;

    pthread_mutex_lock(&job->lock);
    rate = rcu ? job->rate_rcu : job->rate_docs;
    slot = rcu ? &job->next_rcu_slot : &job->next_doc_slot;
    if (rate <= 0 || n <= 0) {
        pthread_mutex_unlock(&job->lock);
        return;
    }
    now = util_now_mono();
    if (*slot < now)
        *slot = now;
    *slot += n / rate;
    until = *slot;
    pthread_mutex_unlock(&job->lock);
    if (until > now)
        pl_nap(job, (long)((until - now) * 1000.0));
}

void pl_thread_ended(struct sync_job *job, int *left)
{
    pthread_mutex_lock(&job->lock);
    (*left)--;
    pthread_cond_broadcast(&job->ended_cv);
    pthread_mutex_unlock(&job->lock);
}

/* ---- dead letters ------------------------------------------------------- */

/* Appends one line: {"id":..., "error":{...}, "document":...} or "item" for mapping failures. */
void pl_dead_letter(struct sync_job *job, const char *id, const char *type, const char *reason, long status,
                        const char *doc, size_t doclen, const char *doc_key)
{
    struct dbuf line = DBUF_INIT;
    int rc, failed = 0;

    if (!job->o.dead_letter_path)
        return;
    rc = dbuf_puts(&line, "{\"id\":");
    if (!rc)
        rc = id ? ddbjson_escape_string(&line, id, strlen(id), 0) : dbuf_puts(&line, "null");
    if (!rc)
        rc = dbuf_puts(&line, ",\"error\":{\"type\":");
    if (!rc)
        rc = ddbjson_escape_string(&line, type, strlen(type), 0);
    if (!rc)
        rc = dbuf_puts(&line, ",\"reason\":");
    if (!rc)
        rc = ddbjson_escape_string(&line, reason, strlen(reason), 0);
    if (!rc)
        rc = dbuf_printf(&line, ",\"status\":%ld},\"%s\":", status, doc_key);
    if (!rc)
        rc = doc ? dbuf_append(&line, doc, doclen) : dbuf_puts(&line, "null");
    if (!rc)
        rc = dbuf_puts(&line, "}\n");
    if (!rc) {
        pthread_mutex_lock(&job->dl_lock);
        if (!job->dead_letter && !job->dl_failed) {
            /* opened on the first failure, so a clean run leaves no empty file behind */
            job->dead_letter = fopen(job->o.dead_letter_path, "a");
            job->dl_failed = job->dead_letter == NULL;
        }
        if (job->dead_letter) {
            if (fwrite(line.data, 1, line.len, job->dead_letter) != line.len || fflush(job->dead_letter) != 0)
                job->dl_failed = 1;
        }
        failed = job->dl_failed;
        pthread_mutex_unlock(&job->dl_lock);
    }
    if (rc || failed) {
        /* a failed document that cannot be kept would be lost: stop the run instead */
        struct ddb2es_error e;
        ddb2es_failf(&e, rc ? rc : DDB2ES_E_IO, "cannot write the dead-letter file %s: %s",
                     job->o.dead_letter_path, rc ? "out of memory" : "write failed (disk full or no permission?)");
        e.http_status = 0;
        e.type[0] = '\0';
        pl_job_fail(job, &e);
    }
    dbuf_free(&line);
}

/* ---- supervisor --------------------------------------------------------- */

static void sample_rate(struct sync_job *job)
{
    double now = util_now_mono();
    int oldest;

    pthread_mutex_lock(&job->lock);
    job->sample_i = (job->sample_i + 1) % 8;
    job->sample_t[job->sample_i] = now;
    job->sample_n[job->sample_i] = job->c.indexed + job->c.newer_in_index + job->c.failed;
    oldest = (job->sample_i + 1) % 8;
    if (job->sample_t[oldest] > 0 && now > job->sample_t[oldest])
        job->c.docs_per_sec = (double)(job->sample_n[job->sample_i] - job->sample_n[oldest]) /
                              (now - job->sample_t[oldest]);
    pthread_mutex_unlock(&job->lock);
}

/* How often the checkpoint is written while pages get acknowledged: what a
 * kill -9 makes the resume send again is what was in flight plus this much. */
#define CHECKPOINT_INTERVAL 0.25

/* Waits until *left reaches 0, sampling the rate and writing the checkpoint meanwhile. */
static void wait_threads(struct sync_job *job, int *left, double *last_ckpt)
{
    pthread_mutex_lock(&job->lock);
    while (*left > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&job->ended_cv, &job->lock, &ts);
        pthread_mutex_unlock(&job->lock);
        sample_rate(job);
        if (util_now_mono() - *last_ckpt >= CHECKPOINT_INTERVAL) {
            pl_checkpoint_write(job, 0);
            *last_ckpt = util_now_mono();
        }
        pthread_mutex_lock(&job->lock);
    }
    pthread_mutex_unlock(&job->lock);
}

static void *supervisor_main(void *arg)
{
    struct sync_job *job = arg;
    double last_ckpt = util_now_mono();
    char one = 1;
    ssize_t w;
    int i;

    /* scanners end on their own: table read, stop requested, or failure */
    wait_threads(job, &job->scanners_left, &last_ckpt);
    for (i = 0; i < job->nscanners; i++)
        pthread_join(job->scanners[i], NULL);
    pl_queue_close(&job->q);
    wait_threads(job, &job->senders_left, &last_ckpt);
    for (i = 0; i < job->nsenders; i++)
        pthread_join(job->senders[i], NULL);
    sample_rate(job);
    pl_checkpoint_write(job, 1);
    pthread_mutex_lock(&job->lock);
    if (job->has_fatal)
        job->c.state = SYNC_FAILED;
    else if (atomic_load(&job->cancelling) || atomic_load(&job->aborting))
        job->c.state = SYNC_CANCELLED;
    else
        job->c.state = SYNC_DONE;
    job->c.elapsed = util_now_mono() - job->t_start;
    pthread_mutex_unlock(&job->lock);
    do
        w = write(job->wake[1], &one, 1);
    while (w < 0 && errno == EINTR);
    return NULL;
}

/* ---- the public face ---------------------------------------------------- */

static int default_segments(const struct ddb_table_info *t)
{
    /* One scanner alternates between waiting for a page and mapping it; a
     * second one overlaps the two (measured 1.4-2.4x by make bench). Beyond
     * that, about one segment per 512 MB (DynamoDB advises one per 2 GB on big
     * tables); at most 16 in one process. */
    long long seg = t->size_bytes / (512LL * 1024 * 1024) + 1;

    if (t->item_count >= 1000 && seg < 2)
        seg = 2;
    if (t->item_count > 200000 && seg < 4)
        seg = 4;
    if (seg > 16)
        seg = 16;
    return (int)seg;
}

static void job_destroy(struct sync_job *job)
{
    if (!job)
        return;
    for (int i = 0; job->segs && i < job->nsegments; i++) {
        struct segment *s = &job->segs[i];
        struct page_rec *p = s->head;
        while (p) {
            struct page_rec *n = p->next;
            json_decref(p->last_key);
            free(p);
            p = n;
        }
        json_decref(s->resume_key);
        json_decref(s->start_key);
    }
    free(job->segs);
    for (struct batch *b = job->q.head; b;) {
        struct batch *n = b->next;
        pl_batch_free(b);
        b = n;
    }
    if (job->dead_letter)
        fclose(job->dead_letter);
    if (job->wake[0] >= 0)
        close(job->wake[0]);
    if (job->wake[1] >= 0)
        close(job->wake[1]);
    ddb_table_info_free(&job->table);
    pthread_mutex_destroy(&job->lock);
    pthread_mutex_destroy(&job->dl_lock);
    pthread_cond_destroy(&job->resume_cv);
    pthread_cond_destroy(&job->ended_cv);
    pthread_mutex_destroy(&job->q.lock);
    pthread_cond_destroy(&job->q.not_empty);
    pthread_cond_destroy(&job->q.not_full);
    free(job->senders);
    free(job);
}

/* Reads the table's description with a short-lived client on this thread. */
static int describe(struct sync_job *job, struct ddb2es_error *err)
{
    struct ddb_options dop;
    struct ddb_client *c;
    int rc;

    memset(&dop, 0, sizeof(dop));
    dop.region = job->o.region;
    dop.endpoint = job->o.ddb_endpoint;
    dop.creds = job->o.creds;
    dop.ca_file = job->o.ca_file;
    dop.timeout_ms = job->o.timeout_ms;
    c = ddb_client_new(&dop, err);
    if (!c)
        return err ? err->status : DDB2ES_E_INTERNAL;
    rc = ddb_describe_table(c, job->o.table, &job->table, err);
    ddb_client_free(c);
    return rc;
}

int sync_start(const struct sync_options *opts, struct sync_job **out, struct ddb2es_error *err)
{
    struct sync_job *job;
    int rc = DDB2ES_OK, total, first, last, i;

    *out = NULL;
    if (!opts->table || !opts->index || !opts->es_url || !opts->entity || !opts->region)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "a sync needs a table, an index, an Elasticsearch URL, "
                                                 "an entity and a region");
    job = calloc(1, sizeof(*job));
    if (!job)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting a sync");
    job->wake[0] = job->wake[1] = -1;
    job->o = *opts;
    pthread_mutex_init(&job->lock, NULL);
    pthread_mutex_init(&job->dl_lock, NULL);
    pthread_cond_init(&job->resume_cv, NULL);
    pthread_cond_init(&job->ended_cv, NULL);
    if (job->o.concurrency <= 0)
        job->o.concurrency = DEFAULT_CONCURRENCY;
    if (job->o.concurrency > 64)
        job->o.concurrency = 64;
    if (job->o.bulk_bytes == 0)
        job->o.bulk_bytes = DEFAULT_BULK_BYTES;
    if (job->o.bulk_docs == 0)
        job->o.bulk_docs = DEFAULT_BULK_DOCS;
    pl_queue_init(&job->q, (size_t)job->o.concurrency * 2);
    job->rate_docs = opts->max_docs_per_sec;
    job->rate_rcu = opts->max_rcu_per_sec;
    job->c.state = SYNC_STARTING;
    job->c.eta_seconds = -1;
    job->t_start = util_now_mono();

    if (pipe(job->wake) != 0) {
        rc = ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot create a pipe: %s", strerror(errno));
        goto out;
    }
    fcntl(job->wake[0], F_SETFD, FD_CLOEXEC);
    fcntl(job->wake[1], F_SETFD, FD_CLOEXEC);

    if (opts->table_info) {
        rc = ddb_table_info_copy(&job->table, opts->table_info);
        if (rc)
            ddb2es_failf(err, rc, "out of memory starting a sync");
    } else {
        rc = describe(job, err);
    }
    if (rc)
        goto out;
    job->c.table_items = job->table.item_count;
    job->scan_limit = opts->scan_limit > 0 ? opts->scan_limit : ddb_scan_limit_for(&job->table);

    total = opts->total_segments > 0 ? opts->total_segments : default_segments(&job->table);
    first = opts->segment_first >= 0 ? opts->segment_first : 0;
    last = opts->segment_last >= 0 ? opts->segment_last : total - 1;
    if (opts->resume && opts->checkpoint_path && opts->total_segments <= 0) {
        /* the default comes from DescribeTable's sizes, which AWS refreshes every few
         * hours: a resume keeps the shape the checkpoint was written with */
        int ct, cf, cl;
        if (pl_checkpoint_peek(opts->checkpoint_path, &ct, &cf, &cl) == 0) {
            total = ct;
            first = opts->segment_first >= 0 ? opts->segment_first : cf;
            last = opts->segment_last >= 0 ? opts->segment_last : cl;
        }
    }
    if (total > SYNC_MAX_SEGMENTS || first < 0 || last < first || last >= total) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "segment range %d-%d/%d is not valid (0 <= a <= b < N <= %d)", first,
                          last, total, SYNC_MAX_SEGMENTS);
        goto out;
    }
    job->c.total_segments = total;
    job->c.segment_first = first;
    job->c.segment_last = last;
    job->nsegments = last - first + 1;
    job->segs = calloc((size_t)job->nsegments, sizeof(*job->segs));
    if (!job->segs) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting a sync");
        goto out;
    }
    for (i = 0; i < job->nsegments; i++)
        job->segs[i].number = first + i;
    if (opts->resume) {
        if (!opts->checkpoint_path) {
            rc = ddb2es_failf(err, DDB2ES_E_USAGE, "--resume needs a checkpoint file");
            goto out;
        }
        rc = pl_checkpoint_load(job, err);
        if (rc)
            goto out;
        for (i = 0; i < job->nsegments; i++)
            job->c.segments_done += job->segs[i].done;
    }
    if (opts->guard_env) {
        rc = guard_check(opts->guard_env, job->table.arn, opts->es_url, err);
        if (rc)
            goto out;
    }
    if (opts->checkpoint_path && !opts->resume) {
        job->ckpt_dirty = 1;
        pl_checkpoint_write(job, 1);
        if (job->has_fatal) {
            rc = ddb2es_failf(err, job->fatal.status, "%s", job->fatal.message);
            goto out;
        }
    }

    job->nscanners = job->nsegments < MAX_SCANNERS ? job->nsegments : MAX_SCANNERS;
    job->nsenders = job->o.concurrency;
    job->senders = calloc((size_t)job->nsenders, sizeof(pthread_t));
    if (!job->senders) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting a sync");
        goto out;
    }
    job->c.state = SYNC_RUNNING;
    for (i = 0; i < job->nsenders; i++) {
        struct sender_arg *sa = calloc(1, sizeof(*sa));
        if (!sa) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting a sender thread");
            job->nsenders = i;
            break;
        }
        sa->job = job;
        sa->number = i;
        pthread_mutex_lock(&job->lock);
        job->senders_left++;
        pthread_mutex_unlock(&job->lock);
        if (pthread_create(&job->senders[i], NULL, pl_sender_main, sa) != 0) {
            pthread_mutex_lock(&job->lock);
            job->senders_left--;
            pthread_mutex_unlock(&job->lock);
            free(sa);
            rc = ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot start a sender thread");
            job->nsenders = i;
            break;
        }
    }
    if (!rc) {
        int want = job->nscanners, started = 0;
        for (i = 0; i < want; i++) {
            struct scanner *sc = calloc(1, sizeof(*sc));
            if (!sc) {
                rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting a scanner");
                break;
            }
            sc->job = job;
            sc->number = i;
            dbuf_init(&sc->doc);
            dbuf_init(&sc->id);
            dbuf_init(&sc->line);
            pthread_mutex_lock(&job->lock);
            job->scanners_left++;
            pthread_mutex_unlock(&job->lock);
            if (pthread_create(&job->scanners[i], NULL, pl_scanner_main, sc) != 0) {
                pthread_mutex_lock(&job->lock);
                job->scanners_left--;
                pthread_mutex_unlock(&job->lock);
                free(sc);
                rc = ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot start a scanner thread");
                break;
            }
            started++;
        }
        /* scanners read nscanners under the lock (page sizes under a rate limit) */
        pthread_mutex_lock(&job->lock);
        job->nscanners = started;
        job->c.scanner_threads = started;
        job->c.sender_threads = job->nsenders;
        pthread_mutex_unlock(&job->lock);
    }
    if (rc) {
        /* stop what started, then report */
        atomic_store(&job->aborting, 1);
        pl_queue_close(&job->q);
        for (i = 0; i < job->nscanners; i++)
            pthread_join(job->scanners[i], NULL);
        for (i = 0; i < job->nsenders; i++)
            pthread_join(job->senders[i], NULL);
        goto out;
    }
    if (pthread_create(&job->supervisor, NULL, supervisor_main, job) != 0) {
        /* without a supervisor nobody would close the queue: stop here */
        atomic_store(&job->aborting, 1);
        pl_queue_close(&job->q);
        for (i = 0; i < job->nscanners; i++)
            pthread_join(job->scanners[i], NULL);
        for (i = 0; i < job->nsenders; i++)
            pthread_join(job->senders[i], NULL);
        rc = ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot start the supervisor thread");
        goto out;
    }
out:
    if (rc) {
        job_destroy(job);
        return rc;
    }
    *out = job;
    return DDB2ES_OK;
}

void sync_snapshot(struct sync_job *job, struct sync_snapshot *out)
{
    double share;

    pthread_mutex_lock(&job->lock);
    *out = job->c;
    if (job->c.state == SYNC_RUNNING || job->c.state == SYNC_PAUSED || job->c.state == SYNC_CANCELLING ||
        job->c.state == SYNC_STARTING)
        out->elapsed = util_now_mono() - job->t_start;
    if (job->has_fatal)
        out->error = job->fatal;
    else
        ddb2es_error_clear(&out->error);
    out->nsegments = job->nsegments;
    for (int i = 0; i < job->nsegments; i++) {
        out->segs[i].number = job->segs[i].number;
        out->segs[i].done = job->segs[i].done;
        out->segs[i].scanned = job->segs[i].scanned;
    }
    pthread_mutex_unlock(&job->lock);
    out->queued_batches = pl_queue_len(&job->q);
    out->eta_seconds = -1;
    share = out->total_segments > 0
                ? (double)(out->segment_last - out->segment_first + 1) / (double)out->total_segments
                : 1.0;
    if (out->docs_per_sec > 0 && out->table_items > 0) {
        double expect = (double)out->table_items * share;
        double left = expect - (double)(out->indexed + out->failed + out->newer_in_index + out->map_failed);
        out->eta_seconds = left > 0 ? left / out->docs_per_sec : 0;
    }
}

void sync_pause(struct sync_job *job, int paused)
{
    pthread_mutex_lock(&job->lock);
    job->paused = paused ? 1 : 0;
    if (job->c.state == SYNC_RUNNING || job->c.state == SYNC_PAUSED)
        job->c.state = paused ? SYNC_PAUSED : SYNC_RUNNING;
    pthread_cond_broadcast(&job->resume_cv);
    pthread_mutex_unlock(&job->lock);
}

void sync_cancel(struct sync_job *job)
{
    pthread_mutex_lock(&job->lock);
    atomic_store(&job->cancelling, 1);
    if (job->c.state == SYNC_RUNNING || job->c.state == SYNC_PAUSED)
        job->c.state = SYNC_CANCELLING;
    pthread_cond_broadcast(&job->resume_cv);
    pthread_mutex_unlock(&job->lock);
}

void sync_abort(struct sync_job *job)
{
    pthread_mutex_lock(&job->lock);
    atomic_store(&job->cancelling, 1);
    atomic_store(&job->aborting, 1);
    if (job->c.state == SYNC_RUNNING || job->c.state == SYNC_PAUSED)
        job->c.state = SYNC_CANCELLING;
    pthread_cond_broadcast(&job->resume_cv);
    pthread_mutex_unlock(&job->lock);
    pthread_mutex_lock(&job->q.lock);
    pthread_cond_broadcast(&job->q.not_full);
    pthread_mutex_unlock(&job->q.lock);
}

void sync_set_rate(struct sync_job *job, double max_docs_per_sec, double max_rcu_per_sec)
{
    pthread_mutex_lock(&job->lock);
    job->rate_docs = max_docs_per_sec > 0 ? max_docs_per_sec : 0;
    job->rate_rcu = max_rcu_per_sec > 0 ? max_rcu_per_sec : 0;
    pthread_mutex_unlock(&job->lock);
}

int sync_wait_fd(const struct sync_job *job)
{
    return job->wake[0];
}

int sync_join(struct sync_job *job, struct ddb2es_error *err)
{
    int rc;

    pthread_join(job->supervisor, NULL);
    pthread_mutex_lock(&job->lock);
    if (job->has_fatal) {
        if (err)
            *err = job->fatal;
        rc = job->fatal.status ? (int)job->fatal.status : DDB2ES_E_INTERNAL;
    } else if (job->c.state == SYNC_CANCELLED) {
        rc = ddb2es_failf(err, DDB2ES_E_CANCELLED, "sync cancelled%s", job->o.checkpoint_path
                                                                          ? "; run again with --resume to continue"
                                                                          : "");
    } else {
        rc = DDB2ES_OK;
    }
    pthread_mutex_unlock(&job->lock);
    return rc;
}

void sync_free(struct sync_job *job)
{
    job_destroy(job);
}

static int parse_int(const char *s, const char **end, int *out)
{
    char *e;
    long v;

    errno = 0;
    v = strtol(s, &e, 10);
    if (e == s || errno || v < 0 || v > SYNC_MAX_SEGMENTS)
        return -1;
    *out = (int)v;
    *end = e;
    return 0;
}

int sync_parse_segment_range(const char *s, int *first, int *last, int *total, struct ddb2es_error *err)
{
    const char *p = s;

    if (parse_int(p, &p, first) || *p != '-' || parse_int(p + 1, &p, last) || *p != '/' ||
        parse_int(p + 1, &p, total) || *p != '\0')
        return ddb2es_failf(err, DDB2ES_E_USAGE, "--segment-range '%s': expected a-b/N, e.g. 0-3/16", s);
    if (*total < 1 || *first > *last || *last >= *total)
        return ddb2es_failf(err, DDB2ES_E_USAGE,
                            "--segment-range '%s': needs 0 <= a <= b < N (segments are numbered from 0)", s);
    return DDB2ES_OK;
}

int sync_worker_range(int index, int workers, int total, int *first, int *last, struct ddb2es_error *err)
{
    int base, extra;

    if (workers < 1 || index < 0 || index >= workers)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "worker index %d is outside 0..%d", index, workers - 1);
    if (total < workers)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "%d workers need at least %d segments (have %d)", workers, workers,
                            total);
    base = total / workers;
    extra = total % workers;
    *first = index * base + (index < extra ? index : extra);
    *last = *first + base + (index < extra ? 1 : 0) - 1;
    return DDB2ES_OK;
}

