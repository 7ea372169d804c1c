/*
 * orphans_job.c - the orphans jobs: listing (strategies A and B), deleting
 * safely, verifying. See ddb2es/orphans.h for what they promise.
 *
 * DESIGN
 * Threads. orphans_start() starts one job thread that runs the stages in
 * order: prepare (DescribeTable, GET /, _count, the key's type), then the
 * mode's stages. The table stage starts S scanner threads over the segments
 * of a parallel Scan (a shared cursor hands out segments) and joins them;
 * the other stages run on the job thread (an index is read as one stream:
 * PIT + search_after and scroll are sequential by nature).
 *
 * Locking. job->lock guards the counters (job->c), the id set while the
 * scanners fill it, the kept orphans and verify's first ids. A scanner
 * computes a page's ids and hashes without the lock, then inserts the whole
 * page under it: the lock is held for a few microseconds per page of
 * thousands of keys, never during I/O. During the index stage the set is
 * only read, except verify's marks (under the lock, per page).
 *
 * Clients. Every thread owns its own DynamoDB client (and, for verify
 * content, its own Elasticsearch client for _mget); a client's request
 * counters are added to the job's after each page.
 *
 * Keys. The entity's id attribute names the document _id. Strategy B and the
 * re-check before deleting look items up by that id, which needs the table's
 * key to be exactly that attribute (its type, S or N, from
 * AttributeDefinitions). With a sort key as well, the re-check uses a
 * consistent Query per id; with another key, B and deleting are refused.
 */
#include "ddb2es/orphans.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddb2es/audit.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/entity.h"
#include "ddb2es/es_bulk.h"
#include "ddb2es/es_search.h"
#include "ddb2es/guard.h"
#include "orphans_internal.h"
#include "util.h"

/* ------------------------------------------------------------------ helpers */

const char *orphans_state_name(enum orphans_state s)
{
    switch (s) {
    case ORPHANS_RUNNING: return "running";
    case ORPHANS_DONE: return "done";
    case ORPHANS_CANCELLED: return "cancelled";
    case ORPHANS_FAILED: return "failed";
    }
    return "unknown";
}

const char *orphans_stage_name(enum orphans_stage s)
{
    switch (s) {
    case ORPHANS_STAGE_PREPARE: return "preparing";
    case ORPHANS_STAGE_TABLE: return "scanning the table";
    case ORPHANS_STAGE_INDEX: return "reading the index";
    case ORPHANS_STAGE_MISSING: return "naming the missing ids";
    case ORPHANS_STAGE_DELETE: return "deleting";
    case ORPHANS_STAGE_FINISHED: return "finished";
    }
    return "unknown";
}

bool orphans__stopping(struct orphans_job *job)
{
    return atomic_load(&job->cancel) || atomic_load(&job->failing);
}

/* Records the first fatal error; every thread stops at its next page. */
void orphans__fail(struct orphans_job *job, const struct ddb2es_error *err)
{
    pthread_mutex_lock(&job->lock);
    if (!job->has_fatal) {
        job->has_fatal = 1;
        job->fatal = *err;
        if (!job->fatal.status)
            job->fatal.status = DDB2ES_E_INTERNAL;
    }
    pthread_mutex_unlock(&job->lock);
    atomic_store(&job->failing, 1);
}

struct ddb_client *orphans__ddb(struct orphans_job *job, uint64_t seed, struct retry_policy *rp,
                          struct ddb2es_error *err)
{
    struct ddb_options dop;

    retry_policy_default(rp);
    if (job->o.max_attempts > 0)
        rp->max_attempts = job->o.max_attempts;
    memset(&dop, 0, sizeof(dop));
    dop.region = job->o.region;
    dop.endpoint = job->o.ddb_endpoint;
    dop.creds = job->o.creds;
    dop.ca_file = job->o.ca_file;
    dop.timeout_ms = job->o.timeout_ms;
    dop.retry = rp;
    dop.seed = seed;
    return ddb_client_new(&dop, err);
}

struct es_client *orphans__es(struct orphans_job *job, struct ddb2es_error *err)
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

/* Adds what a DynamoDB client did since the last call (caller holds the lock). */
void orphans__count_ddb(struct orphans_job *job, const struct ddb_client *c, struct ddb_stats *last, double rcu)
{
    const struct ddb_stats *s = ddb_client_stats(c);

    job->c.ddb_requests += s->requests - last->requests;
    job->c.ddb_retries += s->retries - last->retries;
    job->c.throttles += s->throttles - last->throttles;
    job->c.consumed_rcu += rcu;
    *last = *s;
}

/* Keeps `id` (and `why`) in a first-ids list when there is room (caller holds the lock). */
int orphans__note(struct orphans_job *job, struct orphans__names *l, const char *id, const char *why)
{
    size_t max = job->o.first_ids ? job->o.first_ids : ORPHANS__FIRST_IDS;

    if (l->n >= max)
        return DDB2ES_OK;
    if (js_grow_array((void **)&l->id, &l->cap, l->n + 1, sizeof(*l->id)) ||
        js_grow_array((void **)&l->why, &l->cap2, l->n + 1, sizeof(*l->why)))
        return DDB2ES_E_NOMEM;
    l->id[l->n] = js_pool_strndup(&job->pool, id, strlen(id));
    l->why[l->n] = js_pool_strndup(&job->pool, why ? why : "", why ? strlen(why) : 0);
    if (!l->id[l->n] || !l->why[l->n])
        return DDB2ES_E_NOMEM;
    l->n++;
    return DDB2ES_OK;
}

/* The DynamoDB key {"<attr>": {"S"|"N": id}} of a document id. */
json_t *orphans__key(const struct orphans_job *job, const char *id)
{
    char t[2] = {job->key_type, '\0'};

    return json_pack("{s:{s:s}}", entity_id_attribute(job->o.entity), t, id);
}

/* The id text of a found item's id attribute (S or N), or NULL. Borrowed from item. */
const char *orphans__item_id(const struct orphans_job *job, const json_t *item)
{
    const json_t *av = json_object_get(item, entity_id_attribute(job->o.entity));
    const char *s = json_string_value(json_object_get(av, "S"));

    return s ? s : json_string_value(json_object_get(av, "N"));
}

/* ------------------------------------------------------------------ prepare */

/* The type (S, N, B) of the table's hash key from AttributeDefinitions. */
static int key_type(struct orphans_job *job, struct ddb_client *c, struct ddb2es_error *err)
{
    json_t *req = json_pack("{s:s}", "TableName", job->o.table), *resp = NULL, *defs, *d;
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    size_t i;
    int rc;

    json_decref(req);
    if (!body)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory describing a table");
    rc = ddb_call(c, "DescribeTable", body, strlen(body), job->o.table, &resp, err);
    free(body);
    if (rc)
        return rc;
    defs = json_object_get(json_object_get(resp, "Table"), "AttributeDefinitions");
    json_array_foreach(defs, i, d) {
        const char *n = json_string_value(json_object_get(d, "AttributeName"));
        const char *t = json_string_value(json_object_get(d, "AttributeType"));
        if (n && t && strcmp(n, job->table.hash_key) == 0)
            job->key_type = t[0];
    }
    json_decref(resp);
    return DDB2ES_OK;
}

/* The field to sort a PIT on when the cluster has no _shard_doc: the id field if it is a keyword. */
static int pick_sort_field(struct orphans_job *job, struct es_client *es, struct ddb2es_error *err)
{
    const char *idf = entity_id_attribute(job->o.entity);
    char *mapping = NULL;
    json_t *m, *f;
    int rc;

    if (job->info.pit == ES_PIT_NONE || job->info.shard_doc_sort)
        return DDB2ES_OK;
    rc = es_get_mapping(es, job->o.index, &mapping, NULL, err);
    if (rc)
        return rc;
    m = json_loads(mapping, 0, NULL);
    f = json_object_get(json_object_get(m, "properties"), idf);
    if (json_is_object(f)) {
        const char *t = json_string_value(json_object_get(f, "type"));
        const char *kt = json_string_value(json_object_get(json_object_get(json_object_get(f, "fields"), "keyword"),
                                                           "type"));
        struct dbuf b = DBUF_INIT;
        if (t && strcmp(t, "keyword") == 0)
            dbuf_puts(&b, idf);
        else if (kt && strcmp(kt, "keyword") == 0)
            dbuf_printf(&b, "%s.keyword", idf);
        job->sort_field = b.len ? dbuf_detach(&b) : NULL;
        dbuf_free(&b);
    }
    json_decref(m);
    free(mapping);
    return DDB2ES_OK; /* no keyword id field: the scan uses a scroll */
}

static int default_segments(const struct ddb_table_info *t)
{
    /* a key scan is cheap per item: about one segment per 256 MB, at least 4 from 100,000 items */
    long long seg = t->size_bytes / (256LL * 1024 * 1024) + 1;

    if (t->item_count >= 100000 && seg < 4)
        seg = 4;
    if (seg > ORPHANS__MAX_SCANNERS)
        seg = ORPHANS__MAX_SCANNERS;
    return (int)seg;
}

static int prepare(struct orphans_job *job, struct ddb_client *ddb, struct es_client *es, struct ddb2es_error *err)
{
    const char *ida = entity_id_attribute(job->o.entity);
    long long count = -1;
    int rc;

    rc = ddb_describe_table(ddb, job->o.table, &job->table, err);
    if (!rc)
        rc = key_type(job, ddb, err);
    if (!rc)
        rc = es_info(es, &job->info, err);
    if (!rc)
        rc = es_count(es, job->o.index, NULL, &count, err);
    if (rc)
        return rc;
    job->key_is_id = strcmp(job->table.hash_key, ida) == 0 && (job->key_type == 'S' || job->key_type == 'N');
    job->by_batch_get = job->key_is_id && !job->table.range_key;
    job->scan_limit = job->o.scan_limit > 0 ? job->o.scan_limit : ddb_scan_limit_for(&job->table);
    job->nsegments = job->o.total_segments > 0 ? job->o.total_segments : default_segments(&job->table);
    if (job->nsegments > 1000000)
        job->nsegments = 1000000;
    pthread_mutex_lock(&job->lock);
    job->c.table_items = job->table.item_count;
    job->c.index_docs = count;
    job->c.total_segments = job->nsegments;
    pthread_mutex_unlock(&job->lock);

    if (job->o.mode == ORPHANS_LIST) {
        enum orphans_strategy s = job->o.strategy;
        if (s == ORPHANS_AUTO)
            s = job->by_batch_get && count >= 0 && job->table.item_count > 0 && count * 10 < job->table.item_count
                    ? ORPHANS_STRATEGY_B
                    : ORPHANS_STRATEGY_A;
        if (s == ORPHANS_STRATEGY_B && !job->by_batch_get)
            return ddb2es_failf(err, DDB2ES_E_USAGE,
                                "strategy B looks documents up by key, but table %s's key is %s%s%s, not the "
                                "entity's id attribute '%s' alone; use strategy A",
                                job->o.table, job->table.hash_key, job->table.range_key ? " + " : "",
                                job->table.range_key ? job->table.range_key : "", ida);
        pthread_mutex_lock(&job->lock);
        job->c.strategy = s;
        pthread_mutex_unlock(&job->lock);
        if (job->o.keep_percent > 0 && count >= 0) {
            size_t k = (size_t)((double)count * job->o.keep_percent / 100.0) + 1;
            if (k < job->keep)
                job->keep = k;
        }
    }
    if (job->o.mode == ORPHANS_DELETE && !job->key_is_id)
        return ddb2es_failf(err, DDB2ES_E_USAGE,
                            "cannot re-check candidates in table %s before deleting: its key is %s, not the "
                            "entity's id attribute '%s'",
                            job->o.table, job->table.hash_key, ida);
    if (job->o.mode != ORPHANS_DELETE)
        rc = pick_sort_field(job, es, err);
    return rc;
}

/* ---------------------------------------------------------------- the job */

/* Moves to stage s, adding the time of the stage it leaves (caller holds the lock). */
static void stage_locked(struct orphans_job *job, enum orphans_stage s)
{
    double now = util_now_mono();

    job->c.stage_seconds[job->c.stage] += now - job->stage_t0;
    job->stage_t0 = now;
    job->c.stage = s;
}

static void finish(struct orphans_job *job, int rc, const struct ddb2es_error *err)
{
    char b = 1;
    ssize_t w;

    pthread_mutex_lock(&job->lock);
    job->rc = rc;
    if (rc && !job->has_fatal && rc != DDB2ES_E_CANCELLED) {
        job->has_fatal = 1;
        job->fatal = *err;
    }
    if (job->has_fatal && !job->rc)
        job->rc = job->fatal.status;
    job->c.state = job->rc == DDB2ES_OK ? ORPHANS_DONE
                   : job->rc == DDB2ES_E_CANCELLED ? ORPHANS_CANCELLED : ORPHANS_FAILED;
    stage_locked(job, ORPHANS_STAGE_FINISHED);
    job->c.elapsed = util_now_mono() - job->t_start;
    job->result.missing = job->names[ORPHANS__MISSING].id;
    job->result.nmissing = job->names[ORPHANS__MISSING].n;
    job->result.orphans = job->names[ORPHANS__ORPHANS].id;
    job->result.norphans = job->names[ORPHANS__ORPHANS].n;
    job->result.differing = job->names[ORPHANS__DIFFERING].id;
    job->result.diff_paths = job->names[ORPHANS__DIFFERING].why;
    job->result.ndiffering = job->names[ORPHANS__DIFFERING].n;
    job->result.unmapped = job->names[ORPHANS__UNMAPPED].why;
    job->result.nunmapped = job->names[ORPHANS__UNMAPPED].n;
    job->result.failed = job->names[ORPHANS__FAILED].id;
    job->result.failed_why = job->names[ORPHANS__FAILED].why;
    job->result.nfailed = job->names[ORPHANS__FAILED].n;
    pthread_mutex_unlock(&job->lock);
    do {
        w = write(job->wake[1], &b, 1);
    } while (w < 0 && errno == EINTR);
}

void orphans__stage(struct orphans_job *job, enum orphans_stage s)
{
    pthread_mutex_lock(&job->lock);
    stage_locked(job, s);
    pthread_mutex_unlock(&job->lock);
}

static void *job_main(void *arg)
{
    struct orphans_job *job = arg;
    struct ddb2es_error err;
    struct retry_policy rp;
    struct ddb_client *ddb = NULL;
    struct es_client *es = NULL;
    int rc;

    ddb2es_error_clear(&err);
    ddb = orphans__ddb(job, 7, &rp, &err);
    es = ddb ? orphans__es(job, &err) : NULL;
    rc = es ? DDB2ES_OK : (err.status ? (int)err.status : DDB2ES_E_INTERNAL);
    if (!rc)
        rc = prepare(job, ddb, es, &err);
    if (!rc) {
        switch (job->o.mode) {
        case ORPHANS_LIST:
            rc = job->c.strategy == ORPHANS_STRATEGY_B ? orphans__list_b(job, ddb, es, &err) : orphans__list_a(job, es, &err);
            break;
        case ORPHANS_VERIFY:
            rc = orphans__verify(job, es, &err);
            break;
        case ORPHANS_DELETE:
            rc = orphans__delete(job, ddb, es, &err);
            break;
        }
    }
    if (!rc && atomic_load(&job->cancel))
        rc = ddb2es_failf(&err, DDB2ES_E_CANCELLED, "cancelled");
    if (ddb) {
        pthread_mutex_lock(&job->lock);
        orphans__count_ddb(job, ddb, &job->main_stats, 0);
        pthread_mutex_unlock(&job->lock);
    }
    es_client_free(es);
    ddb_client_free(ddb);
    finish(job, rc, &err);
    return NULL;
}

static void job_destroy(struct orphans_job *job)
{
    if (!job)
        return;
    if (job->wake[0] >= 0)
        close(job->wake[0]);
    if (job->wake[1] >= 0)
        close(job->wake[1]);
    orphans_set_free(job->set);
    orphans_list_free(&job->found);
    ddb_table_info_free(&job->table);
    free(job->sort_field);
    for (int i = 0; i < ORPHANS__NAME_KINDS; i++) {
        free(job->names[i].id);
        free(job->names[i].why);
    }
    js_pool_free(job->pool);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

int orphans_start(const struct orphans_options *opts, struct orphans_job **out, struct ddb2es_error *err)
{
    struct orphans_job *job;
    int rc = DDB2ES_OK;

    *out = NULL;
    if (!opts->table || !opts->index || !opts->es_url || !opts->entity || !opts->region)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "finding orphans needs a table, an index, an Elasticsearch URL, "
                                                 "an entity and a region");
    if (opts->mode == ORPHANS_DELETE && (!opts->candidates || !opts->guard_env))
        return ddb2es_failf(err, DDB2ES_E_USAGE, "deleting orphans needs a candidate list and the environment "
                                                 "whose guard applies");
    if (opts->max_delete_percent < 0 || opts->max_delete_percent > 100)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "the deletion cap must be between 0 and 100 percent");
    job = calloc(1, sizeof(*job));
    if (!job)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting a job");
    job->wake[0] = job->wake[1] = -1;
    job->o = *opts;
    job->keep = opts->keep;
    pthread_mutex_init(&job->lock, NULL);
    orphans_list_init(&job->found);
    job->c.mode = opts->mode;
    job->c.state = ORPHANS_RUNNING;
    job->c.stage = ORPHANS_STAGE_PREPARE;
    job->c.strategy = opts->mode == ORPHANS_LIST ? opts->strategy : ORPHANS_STRATEGY_A;
    job->c.table_items = job->c.index_docs = -1;
    job->c.candidates = opts->candidates && opts->mode == ORPHANS_DELETE ? opts->candidates->n : 0;
    job->t_start = job->stage_t0 = util_now_mono();
    if (pipe(job->wake) != 0) {
        rc = ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    fcntl(job->wake[0], F_SETFD, FD_CLOEXEC);
    fcntl(job->wake[1], F_SETFD, FD_CLOEXEC);
    if (pthread_create(&job->thread, NULL, job_main, job) != 0) {
        rc = ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot start the job thread");
        goto fail;
    }
    job->started = 1;
    *out = job;
    return DDB2ES_OK;
fail:
    job_destroy(job);
    return rc;
}

void orphans_snapshot(struct orphans_job *job, struct orphans_snapshot *out)
{
    pthread_mutex_lock(&job->lock);
    *out = job->c;
    if (job->c.state == ORPHANS_RUNNING) {
        double now = util_now_mono();
        out->elapsed = now - job->t_start;
        out->stage_seconds[job->c.stage] += now - job->stage_t0;
    }
    if (job->set) {
        out->set_ids = orphans_set_count(job->set);
        out->set_bytes = orphans_set_bytes(job->set);
    }
    if (job->has_fatal)
        out->error = job->fatal;
    else
        ddb2es_error_clear(&out->error);
    pthread_mutex_unlock(&job->lock);
}

void orphans_cancel(struct orphans_job *job)
{
    atomic_store(&job->cancel, 1);
}

int orphans_wait_fd(const struct orphans_job *job)
{
    return job->wake[0];
}

int orphans_join(struct orphans_job *job, struct ddb2es_error *err)
{
    int rc;

    if (job->started) {
        pthread_join(job->thread, NULL);
        job->started = 0;
    }
    pthread_mutex_lock(&job->lock);
    rc = job->rc;
    if (err) {
        if (job->has_fatal)
            *err = job->fatal;
        else if (rc == DDB2ES_E_CANCELLED)
            ddb2es_failf(err, rc, "cancelled by the operator");
        else
            ddb2es_error_clear(err);
    }
    pthread_mutex_unlock(&job->lock);
    return rc;
}

const struct orphans_list *orphans_job_found(const struct orphans_job *job)
{
    return &job->found;
}

const struct orphans_result *orphans_job_result(const struct orphans_job *job)
{
    return &job->result;
}

void orphans_free(struct orphans_job *job)
{
    if (!job)
        return;
    if (job->started) {
        orphans_cancel(job);
        pthread_join(job->thread, NULL);
    }
    job_destroy(job);
}
