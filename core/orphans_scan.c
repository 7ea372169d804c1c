/*
 * orphans_scan.c - the reading stages of the orphans jobs: the parallel
 * table scan into the id set (keys only, or whole items mapped and compared
 * for verify content, or a second pass naming the ids missing from the
 * index), the index id stream, strategy B, and verify. See orphans_job.c
 * for the threads and locking.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/entity.h"
#include "ddb2es/es_search.h"
#include "orphans_internal.h"
#include "util.h"

#define MGET_CHUNK 200  /* documents per _mget (verify content) */

/* ------------------------------------------------------------ table scan */

struct scanner {
    struct orphans_job *job;
    int number;
    pthread_t th;
    struct ddb_client *ddb;
    struct es_client *es;          /* ORPHANS__ITEMS: _mget */
    struct ddb_stats last;
    struct dbuf id, ids, docs;     /* scratch: one id; a page's ids (NUL-separated) and documents */
    struct mapped {
        size_t id_off, doc_off, doc_len;
    } *ent;                        /* ORPHANS__ITEMS: where each mapped item's id and document are */
    size_t cap;
    struct orphans_hash *hashes;
    size_t hcap;
    struct es_doc_list got;
};

/* A mapping failure: counted, and its message kept among the first ones. */
static void unmapped(struct orphans_job *job, const struct ddb2es_error *merr)
{
    pthread_mutex_lock(&job->lock);
    job->c.unmapped++;
    orphans__note(job, &job->names[ORPHANS__UNMAPPED], "", merr->message);
    pthread_mutex_unlock(&job->lock);
}

/* ORPHANS__KEYS: the page's ids into the set, hashed without the lock, inserted under it. */
static int page_keys(struct scanner *sc, const struct ddb_scan_page *page, struct ddb2es_error *err)
{
    struct orphans_job *job = sc->job;
    size_t i, n = 0;
    json_t *item;
    int rc = DDB2ES_OK;

    if (js_grow_array((void **)&sc->hashes, &sc->hcap, json_array_size(page->items) + 1, sizeof(*sc->hashes)))
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory scanning table %s", job->o.table);
    json_array_foreach(page->items, i, item) {
        struct ddb2es_error merr;

        dbuf_reset(&sc->id);
        if (entity_item_id(job->o.entity, item, &sc->id, &merr)) {
            unmapped(job, &merr); /* an item without an id has no document */
            continue;
        }
        orphans_set_hash(job->set, sc->id.data, sc->id.len, &sc->hashes[n++]);
    }
    pthread_mutex_lock(&job->lock);
    for (i = 0; i < n && !rc; i++)
        rc = orphans_set_add_hash(job->set, &sc->hashes[i], NULL, err);
    job->c.keys_scanned += json_array_size(page->items);
    orphans__count_ddb(job, sc->ddb, &sc->last, page->consumed);
    pthread_mutex_unlock(&job->lock);
    return rc;
}

/* ORPHANS__NAMING: ids in the set that the index stream never marked are missing from the index. */
static int page_naming(struct scanner *sc, const struct ddb_scan_page *page, struct ddb2es_error *err)
{
    struct orphans_job *job = sc->job;
    size_t i, want = job->o.first_ids ? job->o.first_ids : ORPHANS__FIRST_IDS;
    json_t *item;
    int rc = DDB2ES_OK;

    if (want > job->c.missing)
        want = (size_t)job->c.missing; /* set before this stage; read-only during it */
    json_array_foreach(page->items, i, item) {
        struct ddb2es_error merr;

        dbuf_reset(&sc->id);
        if (entity_item_id(job->o.entity, item, &sc->id, &merr))
            continue;
        pthread_mutex_lock(&job->lock);
        if (orphans_set_unmarked(job->set, sc->id.data, sc->id.len)) {
            orphans_set_mark(job->set, sc->id.data, sc->id.len, NULL); /* named once */
            rc = orphans__note(job, &job->names[ORPHANS__MISSING], sc->id.data, NULL);
        }
        if (job->names[ORPHANS__MISSING].n >= want)
            atomic_store(&job->naming_done, 1);
        pthread_mutex_unlock(&job->lock);
        if (rc)
            return ddb2es_failf(err, rc, "out of memory naming missing ids");
    }
    pthread_mutex_lock(&job->lock);
    orphans__count_ddb(job, sc->ddb, &sc->last, page->consumed);
    pthread_mutex_unlock(&job->lock);
    return DDB2ES_OK;
}

/* ORPHANS__ITEMS: compares up to MGET_CHUNK mapped documents [from, to) with the index's. */
static int compare_chunk(struct scanner *sc, size_t from, size_t to, struct ddb2es_error *err)
{
    struct orphans_job *job = sc->job;
    const char *ids[MGET_CHUNK];
    size_t i;
    int rc;

    for (i = from; i < to; i++)
        ids[i - from] = sc->ids.data + sc->ent[i].id_off;
    rc = es_mget(sc->es, job->o.index, ids, to - from, &sc->got, err);
    if (rc)
        return rc;
    if (sc->got.n != to - from)
        return ddb2es_failf(err, DDB2ES_E_PROTOCOL, "_mget of %zu documents from '%s' answered %zu", to - from,
                            job->o.index, sc->got.n);
    for (i = 0; i < sc->got.n; i++) {
        const struct es_doc *d = &sc->got.v[i];
        char path[256] = "";
        bool diff = false;

        if (d->error)
            return ddb2es_failf(err, DDB2ES_E_SERVICE, "reading document '%s' of '%s': %s", ids[i],
                                job->o.index, d->error);
        if (d->found && d->source) {
            rc = orphans_json_diff(sc->docs.data + sc->ent[from + i].doc_off, sc->ent[from + i].doc_len, d->source,
                                   d->source_len, &diff, path, sizeof(path), err);
            if (rc == DDB2ES_E_PROTOCOL) {
                diff = true; /* the stored _source is not JSON we can read: it differs */
                snprintf(path, sizeof(path), "(unreadable _source)");
            } else if (rc) {
                return rc;
            }
        } else if (d->found) {
            diff = true;
            snprintf(path, sizeof(path), "(no _source stored)");
        }
        pthread_mutex_lock(&job->lock);
        if (!d->found) {
            job->c.missing++;
            rc = orphans__note(job, &job->names[ORPHANS__MISSING], ids[i], NULL);
        } else {
            job->c.compared++;
            if (diff) {
                job->c.differing++;
                rc = orphans__note(job, &job->names[ORPHANS__DIFFERING], ids[i], path);
            }
        }
        pthread_mutex_unlock(&job->lock);
        if (rc)
            return ddb2es_failf(err, rc, "out of memory keeping differences");
    }
    return DDB2ES_OK;
}

/* ORPHANS__ITEMS: maps every item of the page, adds its id to the set, compares the documents. */
static int page_items(struct scanner *sc, const struct ddb_scan_page *page, struct ddb2es_error *err)
{
    struct orphans_job *job = sc->job;
    size_t i, n = 0, total = json_array_size(page->items);
    json_t *item;
    int rc = DDB2ES_OK;

    dbuf_reset(&sc->ids);
    dbuf_reset(&sc->docs);
    if (js_grow_array((void **)&sc->ent, &sc->cap, total + 1, sizeof(*sc->ent)) ||
        js_grow_array((void **)&sc->hashes, &sc->hcap, total + 1, sizeof(*sc->hashes)))
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory scanning table %s", job->o.table);
    json_array_foreach(page->items, i, item) {
        struct ddb2es_error merr;
        size_t doc0 = sc->docs.len;

        dbuf_reset(&sc->id);
        if (entity_map_item(job->o.entity, item, NULL, &sc->docs, &sc->id, &merr)) {
            if (merr.status == DDB2ES_E_NOMEM)
                return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory mapping items");
            unmapped(job, &merr);
            continue;
        }
        sc->ent[n].doc_off = doc0;
        sc->ent[n].doc_len = sc->docs.len - doc0;
        sc->ent[n].id_off = sc->ids.len;
        orphans_set_hash(job->set, sc->id.data, sc->id.len, &sc->hashes[n]);
        if (dbuf_append(&sc->ids, sc->id.data, sc->id.len) || dbuf_putc(&sc->ids, '\0'))
            return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory mapping items");
        n++;
    }
    pthread_mutex_lock(&job->lock);
    for (i = 0; i < n && !rc; i++)
        rc = orphans_set_add_hash(job->set, &sc->hashes[i], NULL, err);
    job->c.keys_scanned += total;
    orphans__count_ddb(job, sc->ddb, &sc->last, page->consumed);
    pthread_mutex_unlock(&job->lock);
    for (i = 0; i < n && !rc && !orphans__stopping(job); i += MGET_CHUNK) {
        rc = compare_chunk(sc, i, i + MGET_CHUNK < n ? i + MGET_CHUNK : n, err);
        pthread_mutex_lock(&job->lock);
        job->c.es_requests++;
        pthread_mutex_unlock(&job->lock);
    }
    return rc;
}

static int scan_segment(struct scanner *sc, int segment, struct ddb2es_error *err)
{
    struct orphans_job *job = sc->job;
    struct ddb_scan_request req;
    struct ddb_scan_page page;
    json_t *names = json_pack("{s:s}", "#k", entity_id_attribute(job->o.entity)), *start = NULL;
    int rc = DDB2ES_OK;

    if (!names)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory scanning table %s", job->o.table);
    memset(&req, 0, sizeof(req));
    req.table = job->o.table;
    req.segment = segment;
    req.total_segments = job->nsegments;
    req.limit = job->scan_limit;
    if (job->table_mode != ORPHANS__ITEMS) {
        /* the id alone: the read costs the same capacity, but pages travel and parse faster */
        req.projection = "#k";
        req.attribute_names = names;
    }
    do {
        if (orphans__stopping(job) || (job->table_mode == ORPHANS__NAMING && atomic_load(&job->naming_done)))
            break;
        req.exclusive_start_key = start;
        rc = ddb_scan(sc->ddb, &req, &page, err);
        if (rc)
            break;
        rc = job->table_mode == ORPHANS__KEYS    ? page_keys(sc, &page, err)
             : job->table_mode == ORPHANS__ITEMS ? page_items(sc, &page, err)
                                           : page_naming(sc, &page, err);
        json_decref(start);
        start = page.last_key ? json_incref(page.last_key) : NULL;
        ddb_scan_page_free(&page);
    } while (!rc && start);
    json_decref(start);
    json_decref(names);
    return rc;
}

static void *scanner_main(void *arg)
{
    struct scanner *sc = arg;
    struct orphans_job *job = sc->job;
    struct ddb2es_error err;
    struct retry_policy rp;
    int seg, rc = DDB2ES_OK;

    ddb2es_error_clear(&err);
    sc->ddb = orphans__ddb(job, (uint64_t)sc->number + 101, &rp, &err);
    if (!sc->ddb)
        rc = err.status ? (int)err.status : DDB2ES_E_INTERNAL;
    if (!rc && job->table_mode == ORPHANS__ITEMS) {
        sc->es = orphans__es(job, &err);
        if (!sc->es)
            rc = err.status ? (int)err.status : DDB2ES_E_INTERNAL;
    }
    while (!rc) {
        pthread_mutex_lock(&job->lock);
        seg = job->next_segment < job->nsegments && !orphans__stopping(job) ? job->next_segment++ : -1;
        pthread_mutex_unlock(&job->lock);
        if (seg < 0)
            break;
        rc = scan_segment(sc, seg, &err);
        if (!rc && !orphans__stopping(job)) {
            pthread_mutex_lock(&job->lock);
            if (job->table_mode != ORPHANS__NAMING)
                job->c.segments_done++;
            pthread_mutex_unlock(&job->lock);
        }
    }
    if (rc)
        orphans__fail(job, &err);
    return NULL;
}

static void scanner_free(struct scanner *sc)
{
    ddb_client_free(sc->ddb);
    es_client_free(sc->es);
    dbuf_free(&sc->id);
    dbuf_free(&sc->ids);
    dbuf_free(&sc->docs);
    free(sc->ent);
    free(sc->hashes);
    es_doc_list_free(&sc->got);
}

/* Runs the table stage in `mode` with up to ORPHANS__MAX_SCANNERS threads over the segments. */
static int table_stage(struct orphans_job *job, int mode, struct ddb2es_error *err)
{
    struct scanner *scs;
    int n = job->nsegments < ORPHANS__MAX_SCANNERS ? job->nsegments : ORPHANS__MAX_SCANNERS, started = 0, i;

    if (!job->set) {
        size_t expected = job->table.item_count > 0 ? (size_t)job->table.item_count : 1024;
        struct orphans_set *s = orphans_set_new(expected, NULL, err);
        if (!s)
            return err ? (int)err->status : DDB2ES_E_NOMEM;
        pthread_mutex_lock(&job->lock);
        job->set = s;
        pthread_mutex_unlock(&job->lock);
    }
    orphans__stage(job, mode == ORPHANS__NAMING ? ORPHANS_STAGE_MISSING : ORPHANS_STAGE_TABLE);
    scs = calloc((size_t)n, sizeof(*scs));
    if (!scs)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting the scan");
    job->table_mode = mode;
    job->next_segment = 0;
    for (i = 0; i < n; i++) {
        scs[i].job = job;
        scs[i].number = i;
        dbuf_init(&scs[i].id);
        dbuf_init(&scs[i].ids);
        dbuf_init(&scs[i].docs);
        es_doc_list_init(&scs[i].got);
        if (pthread_create(&scs[i].th, NULL, scanner_main, &scs[i]) != 0) {
            struct ddb2es_error e;
            ddb2es_failf(&e, DDB2ES_E_INTERNAL, "cannot start a scanner thread");
            orphans__fail(job, &e);
            break;
        }
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(scs[i].th, NULL);
    for (i = 0; i < n; i++)
        scanner_free(&scs[i]);
    free(scs);
    pthread_mutex_lock(&job->lock);
    if (job->has_fatal && err)
        *err = job->fatal;
    i = job->has_fatal ? (int)job->fatal.status : DDB2ES_OK;
    pthread_mutex_unlock(&job->lock);
    return i;
}

/* ------------------------------------------------------------ the index */

/* Reports the orphans of one page (hits[k] for k in idx[0..n)): kept, counted, handed to the callback. */
static int found(struct orphans_job *job, const struct es_page *page, const size_t *idx, size_t n,
                 struct ddb2es_error *err)
{
    size_t i;
    int rc = DDB2ES_OK;

    pthread_mutex_lock(&job->lock);
    job->c.ids_checked += page->nhits;
    job->c.orphans += n;
    for (i = 0; i < n && !rc && job->found.n < job->keep; i++) {
        const struct es_hit *h = &page->hits[idx[i]];
        struct orphans_item it = {h->id, h->seq_no, h->primary_term, h->source, h->source_len};
        rc = orphans_list_add(&job->found, &it, err);
    }
    pthread_mutex_unlock(&job->lock);
    for (i = 0; i < n && !rc && job->o.on_found; i++) {
        const struct es_hit *h = &page->hits[idx[i]];
        struct orphans_item it = {h->id, h->seq_no, h->primary_term, h->source, h->source_len};
        job->o.on_found(job->o.on_found_ctx, &it);
    }
    return rc;
}

static int scan_open(struct orphans_job *job, struct es_client *es, bool source, struct es_scan **scan,
                     struct ddb2es_error *err)
{
    struct es_scan_options so;
    int rc;

    memset(&so, 0, sizeof(so));
    so.index = job->o.index;
    so.sort_field = job->sort_field;
    so.page_size = source ? 500 : 5000;
    so.seq_no_primary_term = true;
    so.source = source;
    rc = es_scan_open(es, &job->info, &so, scan, err);
    if (!rc) {
        pthread_mutex_lock(&job->lock);
        snprintf(job->c.scan_method, sizeof(job->c.scan_method), "%s", es_scan_method(*scan));
        pthread_mutex_unlock(&job->lock);
    }
    return rc;
}

/* Checks one page of the index: stores in idx the positions of its orphans and reports them (found). */
typedef int (*page_check_fn)(struct orphans_job *job, void *ctx, const struct es_page *page, size_t *idx,
                             struct ddb2es_error *err);

/* Reads the index page by page (the documents too when `source`) and checks each page with `check`, idx
 * having room for every hit of the page; counts the requests. Stops early when the job is stopping. */
static int scan_index(struct orphans_job *job, struct es_client *es, bool source, page_check_fn check, void *ctx,
                      struct ddb2es_error *err)
{
    struct es_scan *scan = NULL;
    struct es_page page;
    size_t *idx = NULL, cap = 0;
    int rc;

    orphans__stage(job, ORPHANS_STAGE_INDEX);
    es_page_init(&page);
    rc = scan_open(job, es, source, &scan, err);
    while (!rc && !orphans__stopping(job)) {
        rc = es_scan_next(scan, &page, err);
        if (rc || page.nhits == 0)
            break;
        if (js_grow_array((void **)&idx, &cap, page.nhits, sizeof(*idx))) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading the index");
            break;
        }
        rc = check(job, ctx, &page, idx, err);
        pthread_mutex_lock(&job->lock);
        job->c.es_requests++;
        pthread_mutex_unlock(&job->lock);
    }
    es_scan_close(scan);
    es_page_free(&page);
    free(idx);
    return rc;
}

/* Strategy A's second half, and verify's (ctx: a bool, true for verify): every id of the page against the
 * set of the table's keys. */
static int check_against_set(struct orphans_job *job, void *ctx, const struct es_page *page, size_t *idx,
                             struct ddb2es_error *err)
{
    bool verify = *(const bool *)ctx;
    size_t n = 0, i;
    int rc = DDB2ES_OK;

    if (verify)
        pthread_mutex_lock(&job->lock);
    for (i = 0; i < page->nhits; i++) {
        const char *id = page->hits[i].id;
        bool in = verify ? orphans_set_mark(job->set, id, strlen(id), NULL)
                         : orphans_set_contains(job->set, id, strlen(id));
        if (!in)
            idx[n++] = i;
    }
    for (i = 0; verify && i < n && !rc; i++)
        rc = orphans__note(job, &job->names[ORPHANS__ORPHANS], page->hits[idx[i]].id, NULL);
    if (verify)
        pthread_mutex_unlock(&job->lock);
    if (rc)
        return ddb2es_failf(err, rc, "out of memory keeping orphans");
    return found(job, page, idx, n, err);
}

static int stream_index(struct orphans_job *job, struct es_client *es, bool verify, struct ddb2es_error *err)
{
    return scan_index(job, es, !verify && job->o.with_source, check_against_set, &verify, err);
}

int orphans__list_a(struct orphans_job *job, struct es_client *es, struct ddb2es_error *err)
{
    int rc = table_stage(job, ORPHANS__KEYS, err);

    if (!rc && !orphans__stopping(job))
        rc = stream_index(job, es, false, err);
    return rc;
}

/* Strategy B (ctx: the DynamoDB client): the ids of one page, 100 at a time, looked up with BatchGetItem. */
static int check_page(struct orphans_job *job, void *ctx, const struct es_page *page, size_t *idx,
                      struct ddb2es_error *err)
{
    struct ddb_client *ddb = ctx;
    json_t *names = json_pack("{s:s}", "#k", entity_id_attribute(job->o.entity));
    size_t off, i, n = 0;
    int rc = names ? DDB2ES_OK : DDB2ES_E_NOMEM;

    for (off = 0; off < page->nhits && !rc && !orphans__stopping(job); off += DDB_BATCH_GET_MAX) {
        size_t end = off + DDB_BATCH_GET_MAX < page->nhits ? off + DDB_BATCH_GET_MAX : page->nhits;
        json_t *keys = json_array(), *got = NULL, *present = json_object(), *item;

        for (i = off; i < end && keys; i++)
            if (json_array_append_new(keys, orphans__key(job, page->hits[i].id)))
                rc = DDB2ES_E_NOMEM;
        if (!keys || !present || rc) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory checking ids");
        } else {
            rc = ddb_batch_get(ddb, job->o.table, keys, "#k", names, 0, &got, err);
        }
        json_array_foreach(got, i, item) {
            const char *id = orphans__item_id(job, item);
            if (id)
                json_object_set_new(present, id, json_true());
        }
        for (i = off; i < end && !rc; i++)
            if (!json_object_get(present, page->hits[i].id))
                idx[n++] = i;
        json_decref(keys);
        json_decref(got);
        json_decref(present);
    }
    json_decref(names);
    if (rc == DDB2ES_E_NOMEM && err && !err->message[0])
        ddb2es_failf(err, rc, "out of memory checking ids");
    if (!rc)
        rc = found(job, page, idx, n, err);
    pthread_mutex_lock(&job->lock);
    orphans__count_ddb(job, ddb, &job->main_stats, 0);
    pthread_mutex_unlock(&job->lock);
    return rc;
}

int orphans__list_b(struct orphans_job *job, struct ddb_client *ddb, struct es_client *es, struct ddb2es_error *err)
{
    return scan_index(job, es, job->o.with_source, check_page, ddb, err);
}

/* ------------------------------------------------------------------ verify */

int orphans__verify(struct orphans_job *job, struct es_client *es, struct ddb2es_error *err)
{
    int rc = table_stage(job, job->o.content ? ORPHANS__ITEMS : ORPHANS__KEYS, err);

    if (!rc && !orphans__stopping(job))
        rc = stream_index(job, es, true, err);
    if (rc || orphans__stopping(job) || job->o.content)
        return rc; /* with content, _mget already found the missing ones, by name */
    pthread_mutex_lock(&job->lock);
    job->c.missing = orphans_set_count(job->set) - orphans_set_marked(job->set);
    pthread_mutex_unlock(&job->lock);
    if (job->c.missing == 0)
        return DDB2ES_OK;
    /* a second key scan, only when something is missing, stopping once the first ids are named */
    return table_stage(job, ORPHANS__NAMING, err);
}
