/* pipeline_send.c - sender threads: batches -> _bulk, retries, resolution. See core/pipeline.c (DESIGN). */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ddb2es/ddbjson.h"
#include "ddb2es/es_bulk.h"
#include "ddb2es/retry.h"
#include "pipeline_int.h"
#include "util.h"

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
            pl_nap(job, delay);
            continue;
        }
        retry_success(rs);
        pthread_mutex_lock(&job->lock);
        if (!res.have_items) {
            /* "errors": false: every document was written */
            for (size_t k = 0; k < n; k++) {
                job->c.indexed++;
                pl_resolve_locked(job, &b->items[idx[k]]);
            }
            pthread_mutex_unlock(&job->lock);
            break;
        }
        for (size_t k = 0; k < n; k++) {
            const struct es_bulk_item *r = &res.items[k];
            if (!r->failed) {
                job->c.indexed++;
                pl_resolve_locked(job, &b->items[idx[k]]);
            } else if (r->status == 409) {
                job->c.newer_in_index++;
                pl_resolve_locked(job, &b->items[idx[k]]);
            } else if (r->status == 429 || r->status >= 500) {
                if (r->status == 429)
                    job->c.throttles++;
                retry[nretry++] = idx[k];
            } else {
                job->c.failed++;
                pl_resolve_locked(job, &b->items[idx[k]]);
                pthread_mutex_unlock(&job->lock);
                {
                    const char *doc;
                    size_t dl;
                    char *id = item_id(b, idx[k]);
                    item_doc(b, idx[k], &doc, &dl);
                    pl_dead_letter(job, id, r->error_type, r->reason, r->status, doc, dl, "document");
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
                    pl_resolve_locked(job, &b->items[retry[k]]);
                }
                pthread_mutex_unlock(&job->lock);
                for (size_t k = 0; k < nretry; k++) {
                    const char *doc;
                    size_t dl;
                    char *id = item_id(b, retry[k]);
                    item_doc(b, retry[k], &doc, &dl);
                    pl_dead_letter(job, id, "retries_exhausted",
                                "the index kept rejecting this document (429/5xx) after every retry", 429, doc,
                                dl, "document");
                    free(id);
                }
                break;
            }
            pl_nap(job, delay);
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
    eo.abort_flag = &job->aborting;
    if (job->o.es_sigv4) {
        eo.aws_creds = job->o.creds;
        eo.aws_region = job->o.region;
        eo.aws_service = job->o.es_aws_service;
    }
    return es_client_new(&eo, err);
}

void *pl_sender_main(void *arg)
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
        pl_job_fail(job, &err);
        free(sa);
        /* keep draining so scanners never block on a full queue */
        while ((b = pl_queue_pop(&job->q)))
            pl_batch_free(b);
        pl_thread_ended(job, &job->senders_left);
        return NULL;
    }
    while ((b = pl_queue_pop(&job->q))) {
        if (atomic_load(&job->aborting)) {
            pl_batch_free(b);
            continue;
        }
        if (b->n > idxcap) {
            size_t *p = realloc(idx, b->n * sizeof(*idx));
            if (!p) {
                ddb2es_failf(&err, DDB2ES_E_NOMEM, "out of memory sending a bulk");
                pl_job_fail(job, &err);
                pl_batch_free(b);
                continue;
            }
            idx = p;
            idxcap = b->n;
        }
        for (size_t i = 0; i < b->n; i++)
            idx[i] = i;
        if (send_items(job, es, &rs, b, idx, b->n, &err) && !atomic_load(&job->aborting))
            pl_job_fail(job, &err);
        pl_batch_free(b);
    }
    free(idx);
    es_client_free(es);
    free(sa);
    pl_thread_ended(job, &job->senders_left);
    return NULL;
}

