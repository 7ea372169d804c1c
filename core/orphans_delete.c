/*
 * orphans_delete.c - deleting orphans safely. See ddb2es/orphans.h.
 *
 * DESIGN
 * Order of the checks, each of which stops everything when it fails:
 * the environment guard (the table's ARN, from DescribeTable, and the URL),
 * the cap (candidates <= max_delete_percent of the index's _count), a first
 * audit record (an unwritable audit log stops us before anything is lost).
 * Then chunks of 100 distinct candidates: a strongly consistent read of
 * their items (BatchGetItem with ConsistentRead, or a consistent Query per
 * id when the table also has a sort key), and one _bulk of deletes for those
 * still absent, each with the if_seq_no/if_primary_term of the listing.
 * Items of a bulk answered 429/5xx are sent again with backoff; 409 means
 * the document changed since the listing (kept), or is already gone (the
 * service says "no document was found"). Each chunk's outcome, deleted ids
 * included, is one audit record.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/audit.h"
#include "ddb2es/entity.h"
#include "ddb2es/es_bulk.h"
#include "ddb2es/guard.h"
#include "orphans_internal.h"
#include "util.h"

#define CHUNK DDB_BATCH_GET_MAX

enum outcome { O_PENDING = 0, O_BACK, O_DELETED, O_GONE, O_CHANGED, O_FAILED };

/* The audit record of one chunk (or of the start, with `extra`). */
static int audit(struct orphans_job *job, const char *action, const struct orphans_item *const *v,
                 const enum outcome *out, size_t n, json_t *extra, struct ddb2es_error *err)
{
    static const char *keys[] = {NULL, "kept_came_back", "deleted", "already_gone", "kept_changed", "failed"};
    json_t *f;
    size_t i;
    int rc;

    if (!job->o.audit_path) {
        json_decref(extra);
        return DDB2ES_OK;
    }
    f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "command", "orphans", "action", action, "environment",
                  job->o.audit_env ? job->o.audit_env : "", "table", job->o.table, "index", job->o.index);
    if (!f) {
        json_decref(extra);
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory writing the audit log");
    }
    if (extra)
        json_object_update(f, extra);
    json_decref(extra);
    for (i = 0; i < n; i++) {
        const char *k = keys[out[i]];
        json_t *a;
        if (!k)
            continue;
        a = json_object_get(f, k);
        if (!a) {
            a = json_array();
            json_object_set_new(f, k, a);
        }
        json_array_append_new(a, json_string(v[i]->id));
    }
    rc = audit_append(job->o.audit_path, f, err);
    json_decref(f);
    return rc;
}

/* Marks the candidates whose item exists (again) as O_BACK, with strongly consistent reads. */
static int recheck(struct orphans_job *job, struct ddb_client *ddb, const struct orphans_item *const *v,
                   enum outcome *out, size_t n, struct ddb2es_error *err)
{
    json_t *names = json_pack("{s:s}", "#k", entity_id_attribute(job->o.entity)), *keys = json_array();
    json_t *got = NULL, *item;
    size_t i, k;
    int rc = DDB2ES_OK;

    if (!names || !keys) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory re-checking candidates");
        goto out;
    }
    if (job->by_batch_get) {
        for (i = 0; i < n; i++)
            json_array_append_new(keys, orphans__key(job, v[i]->id));
        rc = ddb_batch_get(ddb, job->o.table, keys, "#k", names, 1, &got, err);
        json_array_foreach(got, k, item) {
            const char *id = orphans__item_id(job, item);
            for (i = 0; id && i < n; i++)
                if (strcmp(v[i]->id, id) == 0)
                    out[i] = O_BACK;
        }
        goto out;
    }
    /* the id is the partition key of a table with a sort key: any item under it brings the document back */
    for (i = 0; i < n && !rc; i++) {
        char t[2] = {job->key_type, '\0'};
        json_t *req = json_pack("{s:s, s:s, s:O, s:{s:{s:s}}, s:b, s:i, s:s}", "TableName", job->o.table,
                                "KeyConditionExpression", "#k = :v", "ExpressionAttributeNames", names,
                                "ExpressionAttributeValues", ":v", t, v[i]->id, "ConsistentRead", 1, "Limit", 1,
                                "Select", "COUNT");
        char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_t *resp = NULL;

        json_decref(req);
        if (!body) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory re-checking candidates");
            break;
        }
        rc = ddb_call(ddb, "Query", body, strlen(body), job->o.table, &resp, err);
        free(body);
        if (!rc && json_integer_value(json_object_get(resp, "Count")) > 0)
            out[i] = O_BACK;
        json_decref(resp);
    }
out:
    json_decref(got);
    json_decref(keys);
    json_decref(names);
    return rc;
}

/* Deletes the O_PENDING candidates; resolves each to deleted, gone, changed or failed. */
static int delete_chunk(struct orphans_job *job, struct es_client *es, struct retry_state *rs,
                        const struct orphans_item *const *v, enum outcome *out, size_t n, struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    struct es_bulk_result res;
    size_t pos[CHUNK], np, i;
    int attempt = 0, rc = DDB2ES_OK;

    es_bulk_result_init(&res, ES_BULK_ALL_ITEMS);
    for (;;) {
        dbuf_reset(&body);
        np = 0;
        for (i = 0; i < n && !rc; i++) {
            if (out[i] != O_PENDING)
                continue;
            rc = es_bulk_delete(&body, job->o.index, v[i]->id, -1, v[i]->seq_no, v[i]->primary_term, err);
            pos[np++] = i;
        }
        if (rc || np == 0)
            break;
        attempt++;
        rc = es_bulk_send(es, body.data, body.len, &res, err);
        pthread_mutex_lock(&job->lock);
        job->c.es_requests++;
        pthread_mutex_unlock(&job->lock);
        if (rc) {
            long delay = res.request_retryable ? retry_next_delay(rs, attempt, res.outcome == ES_BULK_TRANSPORT) : -1;
            if (delay < 0 || orphans__stopping(job))
                break;
            util_sleep_ms(delay);
            rc = DDB2ES_OK;
            continue;
        }
        if (res.nitems != np || !res.have_items) {
            rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "the bulk answer holds %zu items for %zu deletes", res.nitems,
                              np);
            break;
        }
        retry_success(rs);
        for (i = 0; i < np; i++) {
            const struct es_bulk_item *it = &res.items[i];
            enum outcome *o = &out[pos[i]];

            if (!it->failed)
                *o = strcmp(it->result, "deleted") == 0 ? O_DELETED : O_GONE;
            else if (it->status == 409)
                *o = strstr(it->reason, "no document") ? O_GONE : O_CHANGED;
            else if (it->status != 429 && it->status < 500)
                *o = O_FAILED;
            if (*o == O_FAILED || (*o == O_PENDING && attempt >= (job->o.max_attempts > 0 ? job->o.max_attempts
                                                                                          : 8))) {
                char why[600];
                *o = O_FAILED;
                snprintf(why, sizeof(why), "%d %s: %s", it->status, it->error_type, it->reason);
                pthread_mutex_lock(&job->lock);
                orphans__note(job, &job->names[ORPHANS__FAILED], v[pos[i]]->id, why);
                pthread_mutex_unlock(&job->lock);
            }
        }
        for (i = 0; i < n; i++)
            if (out[i] == O_PENDING)
                break;
        if (i < n) {
            long delay = retry_next_delay(rs, attempt, 0); /* items refused with 429/5xx: again, later */
            if (delay < 0 || orphans__stopping(job)) {
                for (i = 0; i < n; i++)
                    if (out[i] == O_PENDING)
                        out[i] = O_FAILED;
                break;
            }
            util_sleep_ms(delay);
        }
    }
    es_bulk_result_free(&res);
    dbuf_free(&body);
    return rc;
}

int orphans__delete(struct orphans_job *job, struct ddb_client *ddb, struct es_client *es, struct ddb2es_error *err)
{
    const struct orphans_list *cands = job->o.candidates;
    double pct = job->o.max_delete_percent > 0 ? job->o.max_delete_percent : 10.0;
    long long docs = job->c.index_docs, cap;
    const struct orphans_item **uniq = NULL;
    struct orphans_set *seen = NULL;
    struct retry_state rs;
    struct retry_policy rp;
    size_t n = 0, i, off;
    int rc;

    rc = guard_check(job->o.guard_env, job->table.arn, job->o.es_url, err);
    if (rc)
        return rc;
    /* distinct ids: BatchGetItem refuses a repeated key, and a repeated delete would only conflict */
    seen = orphans_set_new(cands->n, NULL, err);
    uniq = calloc(cands->n + 1, sizeof(*uniq));
    if (!seen || !uniq) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading the candidates");
        goto out;
    }
    for (i = 0; i < cands->n && !rc; i++) {
        bool added = false;
        rc = orphans_set_add(seen, cands->v[i].id, strlen(cands->v[i].id), &added, err);
        if (added)
            uniq[n++] = &cands->v[i];
    }
    if (rc)
        goto out;
    cap = docs > 0 ? (long long)((double)docs * pct / 100.0) : 0;
    if ((long long)n > cap) {
        struct ddb2es_error aerr;
        rc = ddb2es_failf(err, DDB2ES_E_GUARD,
                          "refusing to delete %zu documents of '%s': that is more than %g%% of its %lld documents "
                          "(at most %lld); a wrong table or an incomplete scan looks like this. Check the listing; "
                          "if it is right, raise --max-delete-percent",
                          n, job->o.index, pct, docs < 0 ? 0 : docs, cap);
        audit(job, "delete-refused", NULL, NULL, 0,
              json_pack("{s:I, s:I, s:f, s:s}", "candidates", (json_int_t)n, "index_docs", (json_int_t)docs,
                        "max_delete_percent", pct, "reason", err ? err->message : "over the cap"),
              &aerr);
        goto out;
    }
    rc = audit(job, "delete-start", NULL, NULL, 0,
               json_pack("{s:I, s:I, s:f}", "candidates", (json_int_t)n, "index_docs", (json_int_t)docs,
                         "max_delete_percent", pct),
               err);
    if (rc)
        goto out;
    orphans__stage(job, ORPHANS_STAGE_DELETE);
    pthread_mutex_lock(&job->lock);
    job->c.candidates = n;
    pthread_mutex_unlock(&job->lock);
    retry_policy_default(&rp);
    if (job->o.max_attempts > 0)
        rp.max_attempts = job->o.max_attempts;
    retry_state_init(&rs, &rp, 4242);
    for (off = 0; off < n && !rc && !orphans__stopping(job); off += CHUNK) {
        size_t m = n - off < CHUNK ? n - off : CHUNK;
        enum outcome out[CHUNK] = {O_PENDING};

        rc = recheck(job, ddb, uniq + off, out, m, err);
        if (!rc)
            rc = delete_chunk(job, es, &rs, uniq + off, out, m, err);
        /* what was done is recorded even when the chunk stopped half-way */
        {
            struct ddb2es_error aerr;
            int arc = audit(job, "delete", uniq + off, out, m, NULL, &aerr);
            if (arc && !rc) {
                rc = arc;
                if (err)
                    *err = aerr;
            }
        }
        pthread_mutex_lock(&job->lock);
        for (i = 0; i < m; i++) {
            switch (out[i]) {
            case O_BACK: job->c.kept_came_back++; break;
            case O_DELETED: job->c.deleted++; break;
            case O_GONE: job->c.already_gone++; break;
            case O_CHANGED: job->c.kept_changed++; break;
            case O_FAILED: job->c.failed++; break;
            case O_PENDING: break;
            }
        }
        orphans__count_ddb(job, ddb, &job->main_stats, 0);
        pthread_mutex_unlock(&job->lock);
    }
    if (job->c.deleted) {
        struct ddb2es_error rerr;
        es_index_refresh(es, job->o.index, &rerr); /* best effort: the next listing or verify sees the result */
    }
    {
        /* the totals; "deleted" and friends in the chunk records hold the ids */
        struct ddb2es_error aerr;
        json_t *counts;

        pthread_mutex_lock(&job->lock);
        counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s}", "deleted_count", (json_int_t)job->c.deleted,
                           "kept_came_back_count", (json_int_t)job->c.kept_came_back, "kept_changed_count",
                           (json_int_t)job->c.kept_changed, "already_gone_count", (json_int_t)job->c.already_gone,
                           "failed_count", (json_int_t)job->c.failed, "outcome",
                           rc ? "failed" : orphans__stopping(job) ? "stopped" : "done");
        pthread_mutex_unlock(&job->lock);
        if (audit(job, "delete-end", NULL, NULL, 0, counts, &aerr) && !rc) {
            rc = aerr.status;
            if (err)
                *err = aerr;
        }
    }
out:
    orphans_set_free(seen);
    free(uniq);
    return rc;
}
