/* pipeline_scan.c - scanner threads: Scan pages -> mapping -> batches. See core/pipeline.c (DESIGN). */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ddb2es/entity.h"
#include "ddb2es/es_bulk.h"
#include "ddb2es/retry.h"
#include "pipeline_int.h"
#include "util.h"

/* ---- scanners ----------------------------------------------------------- */

static struct batch *batch_new(void)
{
    struct batch *b = calloc(1, sizeof(*b));

    if (b) {
        dbuf_init(&b->body);
        b->t0 = util_now_mono();
    }
    return b;
}

static int flush_batch(struct scanner *sc)
{
    struct sync_job *job = sc->job;
    struct batch *b = sc->cur;

    sc->cur = NULL;
    if (!b || b->n == 0) {
        pl_batch_free(b);
        return 0;
    }
    if (pl_queue_push(&job->q, b, &job->aborting)) {
        pl_batch_free(b);
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
            struct ddb2es_error ierr;
            pthread_mutex_lock(&job->lock);
            job->c.map_failed++;
            pthread_mutex_unlock(&job->lock);
            /* the mapping left the id buffer empty: read the id alone, when it is readable */
            dbuf_reset(&sc->id);
            if (entity_item_id(job->o.entity, item, &sc->id, &ierr) != DDB2ES_OK)
                dbuf_reset(&sc->id);
            pl_dead_letter(job, sc->id.len ? dbuf_cstr(&sc->id) : NULL, "mapping", merr.message, 0, raw,
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
            pl_dead_letter(job, sc->id.len ? dbuf_cstr(&sc->id) : NULL, "mapping", merr.message, 0, raw,
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

        pl_wait_if_paused(sc->job);
        if (pl_stopping(job))
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
        seg->scanned += json_array_size(pg.items);
        job->c.consumed_rcu += pg.consumed;
        pthread_mutex_unlock(&job->lock);

        rc = process_page(sc, seg, &pg, page);
        /* seal: the page can now be resolved once its pending documents are */
        pthread_mutex_lock(&job->lock);
        page->sealed = 1;
        page->pending++;  /* a guard count, released below through the common path */
        {
            struct batch_item guard = {0, 0, page, seg};
            pl_resolve_locked(job, &guard);
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
            /* a slow or rate-limited scan must not hold documents back: send what is
             * batched once it is a second old, or before sleeping for the rate limit */
            if (sc->cur && sc->cur->n > 0 &&
                (util_now_mono() - sc->cur->t0 >= 1.0 || job->rate_docs > 0 || job->rate_rcu > 0) &&
                flush_batch(sc)) {
                rc = DDB2ES_E_CANCELLED;
                break;
            }
            pl_rate_take(job, (double)nitems, 0);
            pl_rate_take(job, consumed, 1);
        }
        if (!key)
            break;
    }
    json_decref(key);
    if (rc == DDB2ES_E_CANCELLED)
        rc = DDB2ES_OK;
    return rc;
}

void *pl_scanner_main(void *arg)
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
    dop.abort_flag = &job->aborting;
    sc->ddb = ddb_client_new(&dop, &err);
    if (!sc->ddb) {
        pl_job_fail(job, &err);
        goto out;
    }
    for (;;) {
        struct segment *seg = NULL;
        int rc;

        pthread_mutex_lock(&job->lock);
        while (job->next_segment < job->nsegments && job->segs[job->next_segment].done)
            job->next_segment++;
        if (job->next_segment < job->nsegments && !pl_stopping(job))
            seg = &job->segs[job->next_segment++];
        pthread_mutex_unlock(&job->lock);
        if (!seg)
            break;
        rc = scan_segment(sc, seg, &err);
        if (rc == DDB2ES_E_NOMEM && !err.message[0])
            ddb2es_failf(&err, rc, "out of memory mapping items");
        if (rc) {
            pl_job_fail(job, &err);
            break;
        }
    }
    /* hand over what is batched, also when cancelling: those pages were read */
    if (!atomic_load(&job->aborting))
        flush_batch(sc);
out:
    pl_batch_free(sc->cur);
    sc->cur = NULL;
    ddb_client_free(sc->ddb);
    dbuf_free(&sc->doc);
    dbuf_free(&sc->id);
    dbuf_free(&sc->line);
    free(sc);
    pl_thread_ended(job, &job->scanners_left);
    return NULL;
}

