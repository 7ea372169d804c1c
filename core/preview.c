/*
 * preview.c - map the first items of a table without writing anything, and
 * compare the documents with what the index holds. See ddb2es/preview.h; the
 * JSON comparison and the re-indenting printer are in preview_json.c.
 *
 * DESIGN
 * Reading: Scan requests with Limit = documents still wanted, so DynamoDB
 * returns (and charges for) no more than the preview shows; a page cut short
 * by the 1 MB limit or by items that fail mapping just leads to another
 * request. max_read bounds the reading of a table full of misfits.
 *
 * Comparing: the documents the index holds for the previewed ids are read
 * with _mget and compared as JSON values (preview_diff_json).
 *
 * Nothing is shared: a result and its items belong to the caller. The
 * entity is only read (entity_map_item is thread-safe), so previews may run
 * on any threads with their own clients.
 */
#include "ddb2es/preview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/ddbjson.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/entity.h"
#include "ddb2es/es.h"
#include "ddb2es/es_search.h"
#include "util.h"

/* ---- items ------------------------------------------------------------------- */

const char *preview_change_name(enum preview_change c)
{
    switch (c) {
    case PREVIEW_NOT_COMPARED: return "not-compared";
    case PREVIEW_NEW: return "new";
    case PREVIEW_UNCHANGED: return "unchanged";
    case PREVIEW_CHANGED: return "changed";
    case PREVIEW_COMPARE_FAILED: return "compare-failed";
    }
    return "unknown";
}

static void item_free(struct preview_item *it)
{
    free(it->id);
    free(it->document);
    free(it->source);
    free(it->source_error);
    free(it->error);
    free(it->compare_error);
    preview_diff_list_free(&it->diffs);
}

/* Forgets an item's comparison. */
static void item_uncompare(struct preview_item *it)
{
    it->change = PREVIEW_NOT_COMPARED;
    free(it->compare_error);
    it->compare_error = NULL;
    preview_diff_list_free(&it->diffs);
}

void preview_result_free(struct preview_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nitems; i++)
        item_free(&r->items[i]);
    free(r->items);
    free(r->compare_index);
    indexdef_report_free(&r->index_report);
    free(r);
}

int preview_add_item(struct preview_result *r, const struct entity *e, const json_t *item, time_t now,
                     bool with_source, struct ddb2es_error *err)
{
    struct entity_map_opts mo;
    struct ddb2es_error merr;
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT, src = DBUF_INIT;
    struct preview_item it;
    int rc;

    if (r->nitems == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct preview_item *v = realloc(r->items, cap * sizeof(*v));
        if (!v)
            return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory previewing items");
        r->items = v;
        r->cap = cap;
    }
    memset(&it, 0, sizeof(it));
    preview_diff_list_init(&it.diffs);
    it.position = r->nitems;
    memset(&mo, 0, sizeof(mo));
    mo.now = now;
    ddb2es_error_clear(&merr);
    rc = entity_map_item(e, item, &mo, &doc, &id, &merr);
    if (rc == DDB2ES_OK) {
        it.mapped = true;
        it.document_len = doc.len;
        it.document = dbuf_detach(&doc);
        it.id = dbuf_detach(&id);
        if (!it.document || !it.id)
            goto nomem;
    } else if (rc == DDB2ES_E_MAPPING) {
        it.error = util_strdup(merr.message);
        if (!it.error)
            goto nomem;
        dbuf_reset(&id);
        ddb2es_error_clear(&merr);
        rc = entity_item_id(e, item, &id, &merr);
        if (rc == DDB2ES_OK) {
            it.id = dbuf_detach(&id);
            if (!it.id)
                goto nomem;
        } else if (rc == DDB2ES_E_NOMEM) {
            goto nomem;
        }
    } else {
        /* not a property of the item (out of memory, or a bug): the caller stops */
        item_free(&it);
        dbuf_free(&doc);
        dbuf_free(&id);
        return ddb2es_failf(err, rc, "%s", merr.message[0] ? merr.message : "mapping an item failed");
    }
    if (with_source) {
        ddb2es_error_clear(&merr);
        rc = ddbjson_item_to_json(&src, item, &merr);
        if (rc == DDB2ES_OK) {
            it.source = dbuf_detach(&src);
            if (!it.source)
                goto nomem;
        } else if (rc == DDB2ES_E_MAPPING) {
            it.source_error = util_strdup(merr.message);
            if (!it.source_error)
                goto nomem;
        } else {
            goto nomem;
        }
    }
    if (it.mapped)
        r->mapped++;
    else
        r->failed++;
    r->items[r->nitems++] = it;
    dbuf_free(&doc);
    dbuf_free(&id);
    dbuf_free(&src);
    return DDB2ES_OK;
nomem:
    item_free(&it);
    dbuf_free(&doc);
    dbuf_free(&id);
    dbuf_free(&src);
    return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory previewing items");
}

/* ---- comparing with the index --------------------------------------------------- */

int preview_mark_item(struct preview_item *it, bool found, const char *source, size_t len,
                      struct ddb2es_error *err)
{
    struct ddb2es_error derr;
    int rc;

    item_uncompare(it);
    if (!it->mapped)
        return DDB2ES_OK;
    if (!found) {
        it->change = PREVIEW_NEW;
        return DDB2ES_OK;
    }
    if (len == it->document_len && memcmp(source, it->document, len) == 0) {
        it->change = PREVIEW_UNCHANGED;
        return DDB2ES_OK;
    }
    ddb2es_error_clear(&derr);
    rc = preview_diff_json(source, len, it->document, it->document_len, &it->diffs, &derr);
    if (rc == DDB2ES_E_NOMEM) {
        preview_diff_list_free(&it->diffs);
        return ddb2es_failf(err, rc, "%s", derr.message);
    }
    if (rc) {
        preview_diff_list_free(&it->diffs);
        it->change = PREVIEW_COMPARE_FAILED;
        it->compare_error = util_strdup(derr.message);
        return it->compare_error ? DDB2ES_OK : ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing");
    }
    it->change = it->diffs.n || it->diffs.omitted ? PREVIEW_CHANGED : PREVIEW_UNCHANGED;
    return DDB2ES_OK;
}

static void count_changes(struct preview_result *r)
{
    r->n_new = r->n_unchanged = r->n_changed = r->n_compare_failed = 0;
    for (size_t i = 0; i < r->nitems; i++) {
        switch (r->items[i].change) {
        case PREVIEW_NEW: r->n_new++; break;
        case PREVIEW_UNCHANGED: r->n_unchanged++; break;
        case PREVIEW_CHANGED: r->n_changed++; break;
        case PREVIEW_COMPARE_FAILED: r->n_compare_failed++; break;
        case PREVIEW_NOT_COMPARED: break;
        }
    }
}

/* _mget asks for this many ids at a time. */
#define PREVIEW_MGET_BATCH 500

int preview_compare(struct es_client *es, const char *index, struct preview_result *r,
                    struct ddb2es_error *err)
{
    struct es_doc_list docs;
    const char **ids = NULL;
    size_t *pos = NULL, n = 0;
    bool exists = false;
    int rc = DDB2ES_OK;

    for (size_t i = 0; i < r->nitems; i++)
        item_uncompare(&r->items[i]);
    r->compared = false;
    r->compare_index_missing = false;
    free(r->compare_index);
    r->compare_index = util_strdup(index);
    if (!r->compare_index)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing");
    es_doc_list_init(&docs);
    ids = calloc(r->nitems + 1, sizeof(*ids));
    pos = calloc(r->nitems + 1, sizeof(*pos));
    if (!ids || !pos) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing");
        goto out;
    }
    for (size_t i = 0; i < r->nitems; i++) {
        if (r->items[i].mapped) {
            ids[n] = r->items[i].id;
            pos[n++] = i;
        }
    }
    rc = es_index_exists(es, index, &exists, err);
    if (rc)
        goto out;
    if (!exists) {
        r->compare_index_missing = true;
        for (size_t k = 0; k < n; k++)
            r->items[pos[k]].change = PREVIEW_NEW;
        goto done;
    }
    for (size_t at = 0; at < n; at += PREVIEW_MGET_BATCH) {
        size_t m = n - at < PREVIEW_MGET_BATCH ? n - at : PREVIEW_MGET_BATCH;
        rc = es_mget(es, index, ids + at, m, &docs, err);
        if (rc)
            goto out;
        if (docs.n != m) {
            rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "_mget of %zu documents from '%s' answered %zu", m, index,
                              docs.n);
            goto out;
        }
        for (size_t k = 0; k < m; k++) {
            const struct es_doc *doc = &docs.v[k];
            struct preview_item *it = &r->items[pos[at + k]];
            if (doc->error && strncmp(doc->error, "index_not_found_exception", 25) == 0) {
                it->change = PREVIEW_NEW;
                r->compare_index_missing = true;
            } else if (doc->error) {
                it->change = PREVIEW_COMPARE_FAILED;
                it->compare_error = util_strdup(doc->error);
                if (!it->compare_error) {
                    rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing");
                    goto out;
                }
            } else {
                rc = preview_mark_item(it, doc->found && doc->source, doc->source, doc->source_len, err);
                if (rc)
                    goto out;
            }
        }
    }
done:
    r->compared = true;
    count_changes(r);
out:
    es_doc_list_free(&docs);
    free(ids);
    free(pos);
    return rc;
}

/* ---- a whole preview ---------------------------------------------------------------- */

int preview_run(const struct preview_options *o, struct preview_result **out, struct ddb2es_error *err)
{
    struct preview_result *r = NULL;
    struct ddb_scan_page page;
    json_t *start = NULL;
    size_t limit, max_read;
    time_t now;
    int rc = DDB2ES_OK;

    *out = NULL;
    if (!o || !o->ddb || !o->table || !*o->table || !o->entity)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "preview: a DynamoDB client, a table and an entity are required");
    if ((o->index || o->compare_index) && !o->es)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "preview: an index was named but no Elasticsearch client given");
    limit = o->limit ? o->limit : 10;
    if (limit > PREVIEW_MAX_LIMIT)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "preview: at most %d items (asked for %zu)", PREVIEW_MAX_LIMIT,
                            limit);
    max_read = o->max_read ? o->max_read : 10 * limit + 100;
    if (max_read < limit)
        max_read = limit;
    now = o->now ? o->now : time(NULL);
    r = calloc(1, sizeof(*r));
    if (!r)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory previewing %s", o->table);
    indexdef_report_init(&r->index_report);

    memset(&page, 0, sizeof(page));
    for (;;) {
        struct ddb_scan_request req;
        size_t want = limit - r->mapped, room = max_read - r->read;
        size_t lim = want < room ? want : room;
        if (lim == 0)
            break;
        memset(&req, 0, sizeof(req));
        req.table = o->table;
        req.limit = (int)lim;
        req.exclusive_start_key = start;
        rc = ddb_scan(o->ddb, &req, &page, err);
        if (rc)
            goto fail;
        r->requests++;
        r->consumed_rcu += page.consumed;
        for (size_t i = 0; i < json_array_size(page.items); i++) {
            rc = preview_add_item(r, o->entity, json_array_get(page.items, i), now, o->with_source, err);
            if (rc)
                goto fail;
            r->read++;
        }
        json_decref(start);
        start = page.last_key ? json_incref(page.last_key) : NULL;
        ddb_scan_page_free(&page);
        memset(&page, 0, sizeof(page));
        if (!start)
            break;
    }
    r->more = start != NULL;
    json_decref(start);
    start = NULL;

    if (o->index) {
        rc = indexdef_prepare(o->es, o->index, o->entity, 0, &r->index_report, err);
        if (rc)
            goto fail;
        r->index_checked = true;
    }
    if (o->compare_index) {
        rc = preview_compare(o->es, o->compare_index, r, err);
        if (rc)
            goto fail;
    }
    *out = r;
    return DDB2ES_OK;
fail:
    json_decref(start);
    ddb_scan_page_free(&page);
    preview_result_free(r);
    return rc;
}
