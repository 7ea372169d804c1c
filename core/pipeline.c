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
 *     queue when it reaches bulk_bytes or bulk_docs. Pages are read one after
 *     the other within a segment (ExclusiveStartKey chains them).
 *   - B sender threads. Each owns its own Elasticsearch client (connection
 *     reuse), pops a batch, sends it as one _bulk and resolves every item:
 *     indexed, newer in index (409 with external versions), failed (dead
 *     letter), or sent again (429 / 5xx items, whole-request 429/502/503/504,
 *     connection errors) with backoff. A 413 splits the batch in two.
 *   - One supervisor thread started by sync_start(): it joins the scanners,
 *     closes the queue, joins the senders, writes the final checkpoint, sets the
 *     final state and writes one byte to the wake pipe. While the run goes on
 *     it samples the rate and writes the checkpoint at most once a second.
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
 * the index has not acknowledged: after a kill -9 only the in-flight pages are
 * read and sent again (same _id, so nothing is duplicated). The file is
 * written with write + fsync + rename.
 *
 * Shutdown. cancel: scanners stop before their next page and flush what they
 * hold; senders drain the queue; the checkpoint is written. abort: scanners
 * stop at once, senders drop what they have not sent and stop retrying; pages
 * not resolved stay before the checkpoint. A fatal error (retries exhausted,
 * index refusing whole requests) aborts the run with that error.
 *
 * Locking. One mutex (job->lock) guards the counters, the segment page lists,
 * state and rate buckets; the queue has its own mutex; the dead-letter file
 * its own. Neither is held while doing I/O on the network.
 */
#include "ddb2es/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ddb2es/buf.h"
#include "ddb2es/ddbjson.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/entity.h"
#include "ddb2es/es_bulk.h"
#include "ddb2es/guard.h"
#include "ddb2es/retry.h"
#include "util.h"

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

static void queue_init(struct queue *q, size_t cap)
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
static int queue_push(struct queue *q, struct batch *b, atomic_int *abort_flag)
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
static struct batch *queue_pop(struct queue *q)
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

static void queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

static size_t queue_len(struct queue *q)
{
    size_t n;

    pthread_mutex_lock(&q->lock);
    n = q->len;
    pthread_mutex_unlock(&q->lock);
    return n;
}

static void batch_free(struct batch *b)
{
    if (!b)
        return;
    dbuf_free(&b->body);
    free(b->items);
    free(b);
}

/* ---- failure and control ------------------------------------------------ */

/* Records the first fatal error and stops the run. */
static void job_fail(struct sync_job *job, const struct ddb2es_error *e)
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

static int stopping(struct sync_job *job)
{
    return atomic_load(&job->aborting) || atomic_load(&job->cancelling);
}

/* Sleeps up to ms, waking early when the run is aborted. */
static void nap(struct sync_job *job, long ms)
{
    while (ms > 0 && !atomic_load(&job->aborting)) {
        long step = ms > 100 ? 100 : ms;
        util_sleep_ms(step);
        ms -= step;
    }
}

/* Blocks while paused. */
static void wait_if_paused(struct sync_job *job)
{
    pthread_mutex_lock(&job->lock);
    while (job->paused && !stopping(job))
        pthread_cond_wait(&job->resume_cv, &job->lock);
    pthread_mutex_unlock(&job->lock);
}

/*
 * Rate limiting: each bucket is a schedule of slots; n units scheduled now
 * end at `next + n/rate`, and the caller sleeps until then. Unused time is
 * not banked beyond one second, so a paused or slow run cannot burst later.
 */
static void rate_take(struct sync_job *job, double n, int rcu)
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
    if (*slot < now - 1.0)
        *slot = now - 1.0;
    *slot += n / rate;
    until = *slot;
    pthread_mutex_unlock(&job->lock);
    if (until > now)
        nap(job, (long)((until - now) * 1000.0));
}

static void thread_ended(struct sync_job *job, int *left)
{
    pthread_mutex_lock(&job->lock);
    (*left)--;
    pthread_cond_broadcast(&job->ended_cv);
    pthread_mutex_unlock(&job->lock);
}

/* ---- dead letters ------------------------------------------------------- */

/* Appends one line: {"id":..., "error":{...}, "document":...} or "item" for mapping failures. */
static void dead_letter(struct sync_job *job, const char *id, const char *type, const char *reason, long status,
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
        job_fail(job, &e);
    }
    dbuf_free(&line);
}

/* ---- checkpoints -------------------------------------------------------- */

/* Serialises the resume state. Caller holds job->lock. */
static char *checkpoint_dump(struct sync_job *job)
{
    json_t *root = json_object(), *segs = json_object();
    char *text = NULL;

    if (!root || !segs)
        goto out;
    json_object_set_new(root, "format", json_string("ddb2es-checkpoint/1"));
    json_object_set_new(root, "table", json_string(job->o.table));
    json_object_set_new(root, "index", json_string(job->o.index));
    json_object_set_new(root, "entity", json_string(entity_name(job->o.entity)));
    json_object_set_new(root, "total_segments", json_integer(job->c.total_segments));
    json_object_set_new(root, "segment_first", json_integer(job->c.segment_first));
    json_object_set_new(root, "segment_last", json_integer(job->c.segment_last));
    json_object_set_new(root, "updated", json_real(util_now_wall()));
    for (int i = 0; i < job->nsegments; i++) {
        struct segment *s = &job->segs[i];
        json_t *o = json_object();
        char key[16];
        if (!o)
            goto out;
        json_object_set_new(o, "done", json_boolean(s->done));
        if (!s->done && s->resume_key)
            json_object_set(o, "key", s->resume_key);
        snprintf(key, sizeof(key), "%d", s->number);
        json_object_set_new(segs, key, o);
    }
    json_object_set(root, "segments", segs);
    text = json_dumps(root, JSON_COMPACT);
out:
    json_decref(segs);
    json_decref(root);
    return text;
}

static void checkpoint_write(struct sync_job *job, int force)
{
    struct ddb2es_error e;
    char *text;

    if (!job->o.checkpoint_path)
        return;
    pthread_mutex_lock(&job->lock);
    if (!job->ckpt_dirty && !force) {
        pthread_mutex_unlock(&job->lock);
        return;
    }
    job->ckpt_dirty = 0;
    text = checkpoint_dump(job);
    pthread_mutex_unlock(&job->lock);
    if (!text)
        return;
    ddb2es_error_clear(&e);
    if (util_write_file_atomic(job->o.checkpoint_path, text, strlen(text), &e))
        job_fail(job, &e);
    free(text);
}

static int checkpoint_load(struct sync_job *job, struct ddb2es_error *err)
{
    const char *path = job->o.checkpoint_path;
    struct dbuf text = DBUF_INIT;
    json_error_t jerr;
    json_t *root = NULL, *segs;
    int rc;

    rc = util_read_file(path, &text, err);
    if (rc) {
        char why[DDB2ES_ERR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", err ? err->message : "no checkpoint");
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "cannot resume: %s (run without --resume to start afresh)", why);
        goto out;
    }
    root = json_loadb(dbuf_cstr(&text), text.len, 0, &jerr);
    if (!root || !json_is_object(root)) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "cannot resume: %s is not a checkpoint (%s)", path,
                          root ? "not an object" : jerr.text);
        goto out;
    }
    if (!json_is_string(json_object_get(root, "table")) ||
        strcmp(json_string_value(json_object_get(root, "table")), job->o.table) != 0 ||
        !json_is_string(json_object_get(root, "index")) ||
        strcmp(json_string_value(json_object_get(root, "index")), job->o.index) != 0 ||
        json_integer_value(json_object_get(root, "total_segments")) != job->c.total_segments ||
        json_integer_value(json_object_get(root, "segment_first")) != job->c.segment_first ||
        json_integer_value(json_object_get(root, "segment_last")) != job->c.segment_last) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE,
                          "cannot resume: %s belongs to another run (table, index or segments differ: "
                          "it needs the same --table, --index and --segments/--segment-range)",
                          path);
        goto out;
    }
    segs = json_object_get(root, "segments");
    for (int i = 0; i < job->nsegments; i++) {
        struct segment *s = &job->segs[i];
        char key[16];
        json_t *o;
        snprintf(key, sizeof(key), "%d", s->number);
        o = json_object_get(segs, key);
        if (!o)
            continue;
        if (json_is_true(json_object_get(o, "done"))) {
            s->done = 1;
            s->started = 1;
        } else if (json_is_object(json_object_get(o, "key"))) {
            s->start_key = json_deep_copy(json_object_get(o, "key"));
            s->resume_key = json_deep_copy(s->start_key);
            s->started = 1;
        }
    }
out:
    json_decref(root);
    dbuf_free(&text);
    return rc;
}

/* ---- resolution (senders) ----------------------------------------------- */

/* Marks one document resolved; advances its segment's resume point. Caller holds job->lock. */
static void resolve_locked(struct sync_job *job, struct batch_item *it)
{
    struct segment *s = it->seg;
    struct page_rec *p;

    it->page->pending--;
    while ((p = s->head) && p->sealed && p->pending == 0) {
        s->head = p->next;
        if (!s->head)
            s->tail = NULL;
        json_decref(s->resume_key);
        s->resume_key = p->last_key; /* moves ownership */
        if (!p->last_key) {
            s->done = 1;
            job->c.segments_done++;
        }
        free(p);
        job->ckpt_dirty = 1;
    }
}

/* Extracts the _id of item i from the batch's action line (for messages and dead letters). */
static char *item_id(const struct batch *b, size_t i)
{
    const char *p = b->body.data + b->items[i].off;
    const char *nl = memchr(p, '\n', b->items[i].len);
    json_t *a = nl ? json_loadb(p, (size_t)(nl - p), 0, NULL) : NULL;
    json_t *act = a ? json_object_get(a, "index") : NULL;
    json_t *id = act ? json_object_get(act, "_id") : NULL;
    char *r = json_is_string(id) ? util_strdup(json_string_value(id)) : NULL;

    json_decref(a);
    return r;
}

static void item_doc(const struct batch *b, size_t i, const char **doc, size_t *len)
{
    const char *p = b->body.data + b->items[i].off;
    const char *nl = memchr(p, '\n', b->items[i].len);

    *doc = nl ? nl + 1 : p;
    *len = nl ? b->items[i].len - (size_t)(nl + 1 - p) - 1 : 0;
}

/* Builds the body for a subset of the batch's items. */
static int subset_body(const struct batch *b, const size_t *idx, size_t n, struct dbuf *out)
{
    dbuf_reset(out);
    for (size_t k = 0; k < n; k++) {
        int rc = dbuf_append(out, b->body.data + b->items[idx[k]].off, b->items[idx[k]].len);
        if (rc)
            return rc;
    }
    return DDB2ES_OK;
}

/*
 * Sends the items idx[0..n) of batch b until each is resolved. Returns 0, or a
 * fatal status in *err (retries exhausted, the index refusing whole requests).
 */
static int send_items(struct sync_job *job, struct es_client *es, struct retry_state *rs, const struct batch *b,
                      size_t *idx, size_t n, struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    struct es_bulk_result res;
    size_t *retry = NULL;
    int attempt = 0, rc = DDB2ES_OK;

    es_bulk_result_init(&res, 0);
    retry = malloc(n * sizeof(*retry));
    if (!retry) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory sending a bulk");
        goto out;
    }
    while (n > 0) {
        size_t nretry = 0;
        int whole_retry = 0, costly = 0;

        if (atomic_load(&job->aborting)) {
            rc = DDB2ES_E_CANCELLED;
            goto out;
        }
        attempt++;
        rc = subset_body(b, idx, n, &body);
        if (rc) {
            ddb2es_failf(err, rc, "out of memory sending a bulk");
            goto out;
        }
        ddb2es_error_clear(err);
        rc = es_bulk_send(es, body.data, body.len, &res, err);
        pthread_mutex_lock(&job->lock);
        job->c.bulk_requests++;
        job->c.bytes_sent += body.len;
        if (attempt > 1)
            job->c.bulk_retries++;
        if (res.outcome == ES_BULK_THROTTLED)
            job->c.throttles++;
        pthread_mutex_unlock(&job->lock);
        if (rc && res.outcome == ES_BULK_TOO_LARGE && n > 1) {
            /* too large for the cluster's http.max_content_length: halve */
            size_t half = n / 2;
            rc = send_items(job, es, rs, b, idx, half, err);
            if (!rc)
                rc = send_items(job, es, rs, b, idx + half, n - half, err);
            goto out;
        }
        if (rc && (res.request_retryable || res.outcome == ES_BULK_BAD_ANSWER)) {
            /* sending the same index actions again is harmless: same _id, same document */
            whole_retry = 1;
            costly = res.outcome == ES_BULK_TRANSPORT;
        } else if (rc) {
            goto out; /* the index refuses the request itself: fatal */
        } else if (res.nitems != n) {
            rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL,
                              "Elasticsearch answered a bulk of %zu documents with %zu results", n, res.nitems);
            goto out;
        }
        if (whole_retry) {
            long delay = retry_next_delay(rs, attempt, costly);
            if (delay < 0) {
                char prev[DDB2ES_ERR_MSG_MAX];
                snprintf(prev, sizeof(prev), "%s", err->message);
                ddb2es_failf(err, rc, "%s (gave up after %d attempts)", prev, attempt);
                goto out;
            }
            nap(job, delay);
            continue;
        }
        retry_success(rs);
        pthread_mutex_lock(&job->lock);
        if (!res.have_items) {
            /* "errors": false: every document was written */
            for (size_t k = 0; k < n; k++) {
                job->c.indexed++;
                resolve_locked(job, &b->items[idx[k]]);
            }
            pthread_mutex_unlock(&job->lock);
            break;
        }
        for (size_t k = 0; k < n; k++) {
            const struct es_bulk_item *r = &res.items[k];
            if (!r->failed) {
                job->c.indexed++;
                resolve_locked(job, &b->items[idx[k]]);
            } else if (r->status == 409) {
                job->c.newer_in_index++;
                resolve_locked(job, &b->items[idx[k]]);
            } else if (r->status == 429 || r->status >= 500) {
                if (r->status == 429)
                    job->c.throttles++;
                retry[nretry++] = idx[k];
            } else {
                job->c.failed++;
                resolve_locked(job, &b->items[idx[k]]);
                pthread_mutex_unlock(&job->lock);
                {
                    const char *doc;
                    size_t dl;
                    char *id = item_id(b, idx[k]);
                    item_doc(b, idx[k], &doc, &dl);
                    dead_letter(job, id, r->error_type, r->reason, r->status, doc, dl, "document");
                    free(id);
                }
                pthread_mutex_lock(&job->lock);
            }
        }
        job->c.retried_docs += nretry;
        pthread_mutex_unlock(&job->lock);
        if (nretry == 0)
            break;
        {
            long delay = retry_next_delay(rs, attempt, 0);
            if (delay < 0) {
                /* the index keeps refusing these documents: keep them, count them, go on */
                pthread_mutex_lock(&job->lock);
                for (size_t k = 0; k < nretry; k++) {
                    job->c.failed++;
                    resolve_locked(job, &b->items[retry[k]]);
                }
                pthread_mutex_unlock(&job->lock);
                for (size_t k = 0; k < nretry; k++) {
                    const char *doc;
                    size_t dl;
                    char *id = item_id(b, retry[k]);
                    item_doc(b, retry[k], &doc, &dl);
                    dead_letter(job, id, "retries_exhausted",
                                "the index kept rejecting this document (429/5xx) after every retry", 429, doc,
                                dl, "document");
                    free(id);
                }
                break;
            }
            nap(job, delay);
        }
        memcpy(idx, retry, nretry * sizeof(*idx));
        n = nretry;
    }
    rc = DDB2ES_OK;
out:
    es_bulk_result_free(&res);
    dbuf_free(&body);
    free(retry);
    return rc;
}

struct sender_arg {
    struct sync_job *job;
    int number;
};

static struct es_client *make_es(struct sync_job *job, struct ddb2es_error *err)
{
    struct es_options eo;

    memset(&eo, 0, sizeof(eo));
    eo.url = job->o.es_url;
    eo.username = job->o.es_username;
    eo.password = job->o.es_password;
    eo.ca_file = job->o.es_ca_file;
    eo.connect_timeout_ms = job->o.connect_timeout_ms;
    eo.timeout_ms = job->o.timeout_ms;
    if (job->o.es_sigv4) {
        eo.aws_creds = job->o.creds;
        eo.aws_region = job->o.region;
        eo.aws_service = job->o.es_aws_service;
    }
    return es_client_new(&eo, err);
}

static void *sender_main(void *arg)
{
    struct sender_arg *sa = arg;
    struct sync_job *job = sa->job;
    struct ddb2es_error err;
    struct retry_policy rp;
    struct retry_state rs;
    struct es_client *es;
    struct batch *b;
    size_t *idx = NULL, idxcap = 0;

    ddb2es_error_clear(&err);
    retry_policy_default(&rp);
    if (job->o.max_attempts > 0)
        rp.max_attempts = job->o.max_attempts;
    retry_state_init(&rs, &rp, (uint64_t)sa->number * 7919u + 17u);
    es = make_es(job, &err);
    if (!es) {
        job_fail(job, &err);
        free(sa);
        /* keep draining so scanners never block on a full queue */
        while ((b = queue_pop(&job->q)))
            batch_free(b);
        thread_ended(job, &job->senders_left);
        return NULL;
    }
    while ((b = queue_pop(&job->q))) {
        if (atomic_load(&job->aborting)) {
            batch_free(b);
            continue;
        }
        if (b->n > idxcap) {
            size_t *p = realloc(idx, b->n * sizeof(*idx));
            if (!p) {
                ddb2es_failf(&err, DDB2ES_E_NOMEM, "out of memory sending a bulk");
                job_fail(job, &err);
                batch_free(b);
                continue;
            }
            idx = p;
            idxcap = b->n;
        }
        for (size_t i = 0; i < b->n; i++)
            idx[i] = i;
        if (send_items(job, es, &rs, b, idx, b->n, &err) && !atomic_load(&job->aborting))
            job_fail(job, &err);
        batch_free(b);
    }
    free(idx);
    es_client_free(es);
    free(sa);
    thread_ended(job, &job->senders_left);
    return NULL;
}

/* ---- scanners ----------------------------------------------------------- */

struct scanner {
    struct sync_job *job;
    int number;
    struct ddb_client *ddb;
    struct batch *cur;
    struct dbuf doc, id, line;
};

static struct batch *batch_new(void)
{
    struct batch *b = calloc(1, sizeof(*b));

    if (b)
        dbuf_init(&b->body);
    return b;
}

static int flush_batch(struct scanner *sc)
{
    struct sync_job *job = sc->job;
    struct batch *b = sc->cur;

    sc->cur = NULL;
    if (!b || b->n == 0) {
        batch_free(b);
        return 0;
    }
    if (queue_push(&job->q, b, &job->aborting)) {
        batch_free(b);
        return -1;
    }
    return 0;
}

/* Appends one mapped document to the current batch, flushing when full. */
static int add_doc(struct scanner *sc, struct segment *seg, struct page_rec *page, long long version,
                   struct ddb2es_error *err)
{
    struct sync_job *job = sc->job;
    struct batch *b = sc->cur;
    size_t off;
    int rc;

    if (!b) {
        b = sc->cur = batch_new();
        if (!b)
            return DDB2ES_E_NOMEM;
    }
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 256;
        struct batch_item *p = realloc(b->items, ncap * sizeof(*p));
        if (!p)
            return DDB2ES_E_NOMEM;
        b->items = p;
        b->cap = ncap;
    }
    off = b->body.len;
    rc = es_bulk_index(&b->body, job->o.index, dbuf_cstr(&sc->id), version, sc->doc.data, sc->doc.len, err);
    if (rc)
        return rc;
    b->items[b->n].off = off;
    b->items[b->n].len = b->body.len - off;
    b->items[b->n].page = page;
    b->items[b->n].seg = seg;
    b->n++;
    if (b->body.len >= job->o.bulk_bytes || b->n >= job->o.bulk_docs)
        return flush_batch(sc) ? DDB2ES_E_CANCELLED : DDB2ES_OK;
    return DDB2ES_OK;
}

/* Maps and batches the items of one page. Returns a fatal status or 0. */
static int process_page(struct scanner *sc, struct segment *seg, struct ddb_scan_page *pg, struct page_rec *page)
{
    struct sync_job *job = sc->job;
    struct entity_map_opts mo;
    struct ddb2es_error merr;
    size_t i;
    json_t *item;
    int rc;

    memset(&mo, 0, sizeof(mo));
    mo.now = (time_t)util_now_wall();
    json_array_foreach(pg->items, i, item) {
        long long version = -1;

        dbuf_reset(&sc->doc);
        dbuf_reset(&sc->id);
        ddb2es_error_clear(&merr);
        rc = entity_map_item(job->o.entity, item, &mo, &sc->doc, &sc->id, &merr);
        if (rc == DDB2ES_OK && job->o.external_version) {
            rc = entity_item_version(job->o.entity, item, &version, &merr);
            if (rc == DDB2ES_E_NOTFOUND)
                rc = ddb2es_failf(&merr, DDB2ES_E_MAPPING,
                                  "%s: no version attribute '%s' for --external-version", dbuf_cstr(&sc->id),
                                  entity_version_attribute(job->o.entity) ? entity_version_attribute(job->o.entity)
                                                                          : "(the entity names none)");
        }
        if (rc == DDB2ES_E_NOMEM)
            return rc;
        if (rc) {
            char *raw = json_dumps(item, JSON_COMPACT);
            pthread_mutex_lock(&job->lock);
            job->c.map_failed++;
            pthread_mutex_unlock(&job->lock);
            dead_letter(job, sc->id.len ? dbuf_cstr(&sc->id) : NULL, "mapping", merr.message, 0, raw,
                        raw ? strlen(raw) : 0, "item");
            free(raw);
            continue;
        }
        pthread_mutex_lock(&job->lock);
        job->c.mapped++;
        page->pending++;
        pthread_mutex_unlock(&job->lock);
        rc = add_doc(sc, seg, page, version, &merr);
        if (rc == DDB2ES_E_USAGE) {
            /* the id or document cannot travel in a bulk (e.g. an id over 512 bytes): keep it aside */
            char *raw = json_dumps(item, JSON_COMPACT);
            pthread_mutex_lock(&job->lock);
            job->c.mapped--;
            job->c.map_failed++;
            page->pending--;
            pthread_mutex_unlock(&job->lock);
            dead_letter(job, sc->id.len ? dbuf_cstr(&sc->id) : NULL, "mapping", merr.message, 0, raw,
                        raw ? strlen(raw) : 0, "item");
            free(raw);
            continue;
        }
        if (rc)
            return rc;
    }
    return DDB2ES_OK;
}

/* Scans one segment from its start key to its end (or until stopped). */
static int scan_segment(struct scanner *sc, struct segment *seg, struct ddb2es_error *err)
{
    struct sync_job *job = sc->job;
    struct ddb_scan_request req;
    json_t *key = seg->start_key ? json_incref(seg->start_key) : NULL;
    int rc = DDB2ES_OK;

    memset(&req, 0, sizeof(req));
    req.table = job->o.table;
    req.total_segments = job->c.total_segments;
    req.segment = seg->number;
    for (;;) {
        struct ddb_scan_page pg;
        struct page_rec *page;
        const struct ddb_stats *st;
        unsigned long long before_req, before_retry, before_thr;

        wait_if_paused(sc->job);
        if (stopping(job))
            break;
        pthread_mutex_lock(&job->lock);
        req.limit = job->scan_limit;
        if (job->rate_docs > 0) {
            /* small pages keep a rate limit smooth */
            int lim = (int)(job->rate_docs / 4.0 / (job->nscanners ? job->nscanners : 1));
            if (lim < 10)
                lim = 10;
            if (lim < req.limit)
                req.limit = lim;
        }
        pthread_mutex_unlock(&job->lock);
        req.exclusive_start_key = key;
        st = ddb_client_stats(sc->ddb);
        before_req = st->requests;
        before_retry = st->retries;
        before_thr = st->throttles;
        rc = ddb_scan(sc->ddb, &req, &pg, err);
        pthread_mutex_lock(&job->lock);
        job->c.ddb_requests += st->requests - before_req;
        job->c.ddb_retries += st->retries - before_retry;
        job->c.throttles += st->throttles - before_thr;
        pthread_mutex_unlock(&job->lock);
        if (rc)
            break;
        page = calloc(1, sizeof(*page));
        if (!page) {
            ddb_scan_page_free(&pg);
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory scanning");
            break;
        }
        page->last_key = pg.last_key ? json_deep_copy(pg.last_key) : NULL;
        pthread_mutex_lock(&job->lock);
        if (seg->tail)
            seg->tail->next = page;
        else
            seg->head = page;
        seg->tail = page;
        seg->started = 1;
        job->c.scanned += json_array_size(pg.items);
        job->c.consumed_rcu += pg.consumed;
        pthread_mutex_unlock(&job->lock);

        rc = process_page(sc, seg, &pg, page);
        /* seal: the page can now be resolved once its pending documents are */
        pthread_mutex_lock(&job->lock);
        page->sealed = 1;
        page->pending++;  /* a guard count, released below through the common path */
        {
            struct batch_item guard = {0, 0, page, seg};
            resolve_locked(job, &guard);
        }
        pthread_mutex_unlock(&job->lock);
        {
            size_t nitems = json_array_size(pg.items);
            double consumed = pg.consumed;
            json_decref(key);
            key = pg.last_key ? json_incref(pg.last_key) : NULL;
            ddb_scan_page_free(&pg);
            if (rc)
                break;
            rate_take(job, (double)nitems, 0);
            rate_take(job, consumed, 1);
        }
        if (!key)
            break;
    }
    json_decref(key);
    if (rc == DDB2ES_E_CANCELLED)
        rc = DDB2ES_OK;
    return rc;
}

static void *scanner_main(void *arg)
{
    struct scanner *sc = arg;
    struct sync_job *job = sc->job;
    struct ddb2es_error err;
    struct ddb_options dop;
    struct retry_policy rp;

    ddb2es_error_clear(&err);
    retry_policy_default(&rp);
    if (job->o.max_attempts > 0)
        rp.max_attempts = job->o.max_attempts;
    memset(&dop, 0, sizeof(dop));
    dop.region = job->o.region;
    dop.endpoint = job->o.ddb_endpoint;
    dop.creds = job->o.creds;
    dop.ca_file = job->o.ca_file;
    dop.timeout_ms = job->o.timeout_ms;
    dop.retry = &rp;
    dop.seed = (uint64_t)sc->number + 1;
    sc->ddb = ddb_client_new(&dop, &err);
    if (!sc->ddb) {
        job_fail(job, &err);
        goto out;
    }
    for (;;) {
        struct segment *seg = NULL;
        int rc;

        pthread_mutex_lock(&job->lock);
        while (job->next_segment < job->nsegments && job->segs[job->next_segment].done)
            job->next_segment++;
        if (job->next_segment < job->nsegments && !stopping(job))
            seg = &job->segs[job->next_segment++];
        pthread_mutex_unlock(&job->lock);
        if (!seg)
            break;
        rc = scan_segment(sc, seg, &err);
        if (rc == DDB2ES_E_NOMEM && !err.message[0])
            ddb2es_failf(&err, rc, "out of memory mapping items");
        if (rc) {
            job_fail(job, &err);
            break;
        }
    }
    /* hand over what is batched, also when cancelling: those pages were read */
    if (!atomic_load(&job->aborting))
        flush_batch(sc);
out:
    batch_free(sc->cur);
    sc->cur = NULL;
    ddb_client_free(sc->ddb);
    dbuf_free(&sc->doc);
    dbuf_free(&sc->id);
    dbuf_free(&sc->line);
    free(sc);
    thread_ended(job, &job->scanners_left);
    return NULL;
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
        if (util_now_mono() - *last_ckpt >= 1.0) {
            checkpoint_write(job, 0);
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
    queue_close(&job->q);
    wait_threads(job, &job->senders_left, &last_ckpt);
    for (i = 0; i < job->nsenders; i++)
        pthread_join(job->senders[i], NULL);
    sample_rate(job);
    checkpoint_write(job, 1);
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
    /* about one segment per 512 MB (DynamoDB's own advice is one per 2 GB on
     * big tables); at least 1, at most 16 in one process */
    long long seg = t->size_bytes / (512LL * 1024 * 1024) + 1;

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
        batch_free(b);
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
    queue_init(&job->q, (size_t)job->o.concurrency * 2);
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

    rc = describe(job, err);
    if (rc)
        goto out;
    job->c.table_items = job->table.item_count;
    job->scan_limit = opts->scan_limit > 0 ? opts->scan_limit : ddb_scan_limit_for(&job->table);

    total = opts->total_segments > 0 ? opts->total_segments : default_segments(&job->table);
    first = opts->segment_first >= 0 ? opts->segment_first : 0;
    last = opts->segment_last >= 0 ? opts->segment_last : total - 1;
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
        rc = checkpoint_load(job, err);
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
        checkpoint_write(job, 1);
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
        if (!sa || pthread_create(&job->senders[i], NULL, sender_main, sa) != 0) {
            free(sa);
            rc = ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot start a sender thread");
            job->nsenders = i;
            break;
        }
        sa->job = job;
        sa->number = i;
    }
    job->senders_left = job->nsenders;
    if (!rc) {
        for (i = 0; i < job->nscanners; i++) {
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
            if (pthread_create(&job->scanners[i], NULL, scanner_main, sc) != 0) {
                pthread_mutex_lock(&job->lock);
                job->scanners_left--;
                pthread_mutex_unlock(&job->lock);
                free(sc);
                rc = ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot start a scanner thread");
                break;
            }
            job->nscanners = i + 1;
        }
        if (rc)
            job->nscanners = i;
    }
    if (rc) {
        /* stop what started, then report */
        atomic_store(&job->aborting, 1);
        queue_close(&job->q);
        for (i = 0; i < job->nscanners; i++)
            pthread_join(job->scanners[i], NULL);
        for (i = 0; i < job->nsenders; i++)
            pthread_join(job->senders[i], NULL);
        goto out;
    }
    if (pthread_create(&job->supervisor, NULL, supervisor_main, job) != 0) {
        /* without a supervisor nobody would close the queue: stop here */
        atomic_store(&job->aborting, 1);
        queue_close(&job->q);
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
    pthread_mutex_unlock(&job->lock);
    out->queued_batches = queue_len(&job->q);
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
