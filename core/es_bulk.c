/*
 * es_bulk.c - the _bulk request builder, the reader of _bulk answers and the
 * sender. See ddb2es/es_bulk.h.
 *
 * DESIGN
 * An answer is read by the scanner of jscan.c in one pass: with
 * "errors":false (every item succeeded) items are only validated and
 * counted; otherwise each becomes a record whose strings live in the
 * result's pool, a run of items on the same index sharing one copy of its
 * name. Item errors are formatted by the same cause formatter as whole
 * answers (es__cause_text), so both read the same way.
 */
#include "ddb2es/es_bulk.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_internal.h"
#include "jscan.h"
#include "util.h"

static int action_head(struct dbuf *body, const char *op, const char *index, const char *id,
                       struct ddb2es_error *err)
{
    int rc = dbuf_printf(body, "{\"%s\":{\"_index\":", op);

    if (!rc)
        rc = es_json_string(body, index, strlen(index), err);
    if (!rc)
        rc = dbuf_puts(body, ",\"_id\":");
    if (!rc)
        rc = es_json_string(body, id, strlen(id), err);
    return rc;
}

int es_bulk_index(struct dbuf *body, const char *index, const char *id, long long version, const char *doc,
                  size_t doc_len, struct ddb2es_error *err)
{
    size_t mark = body->len;
    int rc;

    rc = es__check_index_arg(index, err);
    if (!rc)
        rc = es__check_id(id, err);
    if (rc)
        return rc;
    if (!doc || doc_len == 0) {
        char shown[96];
        js_printable(id, strlen(id) < 60 ? strlen(id) : 60, shown, sizeof(shown));
        return ddb2es_failf(err, DDB2ES_E_USAGE, "document '%s' is empty", shown);
    }
    if (memchr(doc, '\n', doc_len)) {
        /* a newline would split the document across two NDJSON lines and
         * shift every following action */
        char shown[96];
        js_printable(id, strlen(id) < 60 ? strlen(id) : 60, shown, sizeof(shown));
        return ddb2es_failf(err, DDB2ES_E_USAGE, "document '%s' contains a newline; it must be compact JSON",
                            shown);
    }
    rc = dbuf_reserve(body, doc_len + strlen(index) + strlen(id) + 96);
    if (!rc)
        rc = action_head(body, "index", index, id, err);
    if (!rc && version >= 0)
        rc = dbuf_printf(body, ",\"version\":%lld,\"version_type\":\"external_gte\"", version);
    if (!rc)
        rc = dbuf_puts(body, "}}\n");
    if (!rc)
        rc = dbuf_append(body, doc, doc_len);
    if (!rc)
        rc = dbuf_putc(body, '\n');
    return es__body_end(body, mark, rc, "a bulk request", err);
}

int es_bulk_delete(struct dbuf *body, const char *index, const char *id, long long version, long long if_seq_no,
                   long long if_primary_term, struct ddb2es_error *err)
{
    size_t mark = body->len;
    int rc;

    rc = es__check_index_arg(index, err);
    if (!rc)
        rc = es__check_id(id, err);
    if (rc)
        return rc;
    if (version >= 0 && if_seq_no >= 0)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "a delete cannot carry both a version and if_seq_no");
    if (if_seq_no >= 0 && if_primary_term < 1)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "if_seq_no needs if_primary_term >= 1");
    rc = action_head(body, "delete", index, id, err);
    if (!rc && version >= 0)
        rc = dbuf_printf(body, ",\"version\":%lld,\"version_type\":\"external_gte\"", version);
    if (!rc && if_seq_no >= 0)
        rc = dbuf_printf(body, ",\"if_seq_no\":%lld,\"if_primary_term\":%lld", if_seq_no, if_primary_term);
    if (!rc)
        rc = dbuf_puts(body, "}}\n");
    return es__body_end(body, mark, rc, "a bulk request", err);
}

const char *es_bulk_outcome_name(enum es_bulk_outcome o)
{
    switch (o) {
    case ES_BULK_DONE: return "done";
    case ES_BULK_THROTTLED: return "throttled";
    case ES_BULK_TOO_LARGE: return "too large";
    case ES_BULK_UNAVAILABLE: return "unavailable";
    case ES_BULK_REJECTED: return "rejected";
    case ES_BULK_SERVER_ERROR: return "server error";
    case ES_BULK_TRANSPORT: return "no answer";
    case ES_BULK_BAD_ANSWER: return "unreadable answer";
    }
    return "unknown";
}

void es_bulk_result_init(struct es_bulk_result *r, unsigned flags)
{
    memset(r, 0, sizeof(*r));
    r->flags = flags;
    r->took_ms = -1;
}

void es_bulk_result_reset(struct es_bulk_result *r)
{
    struct es_bulk_item *items = r->items;
    struct es_pool *pool = r->pool;
    size_t cap = r->cap;
    unsigned flags = r->flags;

    js_pool_reset(pool);
    es_bulk_result_init(r, flags);
    r->items = items;
    r->cap = cap;
    r->pool = pool;
}

void es_bulk_result_free(struct es_bulk_result *r)
{
    if (!r)
        return;
    free(r->items);
    js_pool_free(r->pool);
    es_bulk_result_init(r, r->flags);
}

/* Formats an item's "error" value (object or, in old versions, a string) into type and reason. */
static int item_error(struct js *j, struct es_bulk_result *r, struct es_bulk_item *it)
{
    const char *raw;
    size_t n;
    json_t *e;
    struct dbuf text = DBUF_INIT;
    int rc = 0;

    if (js_peek(j) == '"') {
        it->error_type = "";
        return js_get_str(j, &r->pool, &it->reason);
    }
    if (js_raw(j, &raw, &n))
        return -1;
    e = json_loadb(raw, n, 0, NULL);
    if (json_is_object(e)) {
        const char *t = es__jstr(e, "type");
        if (t) {
            it->error_type = js_pool_strndup(&r->pool, t, strlen(t));
            if (!it->error_type)
                rc = -2;
        }
        if (!rc && es__cause_text(e, false, &text))
            rc = -2;
        if (!rc) {
            it->reason = js_pool_strndup(&r->pool, dbuf_cstr(&text), text.len);
            if (!it->reason)
                rc = -2;
        }
    } else {
        /* valid JSON that jansson refuses (a \u0000, an integer beyond 64
         * bits): keep the item, say so */
        it->reason = "(the error details could not be read)";
    }
    json_decref(e);
    dbuf_free(&text);
    return rc;
}

static enum es_bulk_op op_of(const char *k, size_t n)
{
    if (js_key_is(k, n, "index"))
        return ES_OP_INDEX;
    if (js_key_is(k, n, "create"))
        return ES_OP_CREATE;
    if (js_key_is(k, n, "delete"))
        return ES_OP_DELETE;
    if (js_key_is(k, n, "update"))
        return ES_OP_UPDATE;
    return ES_OP_UNKNOWN;
}

/* The item body {"_index":..,"_id":..,"status":..,...}. `index_memo` lets a
 * run of items on the same index share one copy of its name. */
static int item_body(struct js *j, struct es_bulk_result *r, struct es_bulk_item *it,
                     struct js_str_memo *index_memo)
{
    const char *k;
    size_t kn;
    int first = 1, m, x = 0;
    long long v;

    if (js_enter(j, '{'))
        return -1;
    for (;;) {
        m = js_member(j, &first, &k, &kn);
        if (m != 1)
            break;
        if (js_key_is(k, kn, "_index")) {
            x = js_get_str_memo(j, &r->pool, index_memo, &it->index);
        } else if (js_key_is(k, kn, "_id")) {
            x = js_get_str(j, &r->pool, &it->id);
        } else if (js_key_is(k, kn, "status")) {
            v = 0;
            x = js_get_int(j, &v);
            it->status = v > 0 && v < 1000 ? (int)v : 0;
        } else if (js_key_is(k, kn, "result")) {
            x = js_get_str(j, &r->pool, &it->result);
        } else if (js_key_is(k, kn, "error")) {
            it->failed = true;
            x = item_error(j, r, it);
        } else if (js_key_is(k, kn, "_version")) {
            x = js_get_int(j, &it->version);
        } else if (js_key_is(k, kn, "_seq_no")) {
            x = js_get_int(j, &it->seq_no);
        } else if (js_key_is(k, kn, "_primary_term")) {
            x = js_get_int(j, &it->primary_term);
        } else {
            x = js_skip(j);
        }
        if (x)
            return x;
    }
    return m;
}

static void count_item(struct es_bulk_result *r, const struct es_bulk_item *it)
{
    if (!it->failed) {
        r->succeeded++;
        return;
    }
    r->failed++;
    if (it->status == 409)
        r->conflicts++;
    if (it->status == 429 || it->status >= 500)
        r->retryable++;
}

/* The "items" array. With `record` false (errors is false: every item
 * succeeded) elements are only validated and counted. */
static int bulk_items(struct js *j, struct es_bulk_result *r, bool record)
{
    struct js_str_memo index_memo = {NULL, 0, NULL};
    int first = 1, e, x;

    if (js_enter(j, '['))
        return -1;
    for (;;) {
        e = js_elem(j, &first);
        if (e != 1)
            break;
        struct es_bulk_item *it;
        const char *k;
        size_t kn;
        int ifirst = 1, m;

        if (!record) {
            if (js_skip(j))
                return -1;
            r->nitems++;
            r->succeeded++;
            continue;
        }
        if (js_grow_array((void **)&r->items, &r->cap, r->nitems + 1, sizeof(*r->items)))
            return -2;
        it = &r->items[r->nitems];
        memset(it, 0, sizeof(*it));
        it->position = r->nitems;
        it->index = it->id = it->result = it->error_type = it->reason = "";
        it->version = it->seq_no = it->primary_term = -1;
        if (js_enter(j, '{'))
            return -1;
        for (;;) {
            m = js_member(j, &ifirst, &k, &kn);
            if (m != 1)
                break;
            if (js_peek(j) == '{' && it->op == ES_OP_UNKNOWN) {
                it->op = op_of(k, kn);
                x = item_body(j, r, it, &index_memo);
            } else {
                x = js_skip(j);
            }
            if (x)
                return x;
        }
        if (m)
            return -1;
        if (it->failed)
            it->result = "";
        count_item(r, it);
        r->nitems++;
    }
    return e;
}

int es_parse_bulk_response(const char *body, size_t len, struct es_bulk_result *r, struct ddb2es_error *err)
{
    struct js j;
    const char *k;
    size_t kn;
    bool errors_seen = false, items_seen = false, recorded = false;
    int first = 1, m, x = 0;

    js_init(&j, body, len);
    if (js_enter(&j, '{'))
        goto bad;
    for (;;) {
        m = js_member(&j, &first, &k, &kn);
        if (m != 1)
            break;
        if (js_key_is(k, kn, "took")) {
            x = js_get_int(&j, &r->took_ms);
        } else if (js_key_is(k, kn, "errors")) {
            x = js_get_bool(&j, &r->errors);
            errors_seen = true;
        } else if (js_key_is(k, kn, "items") && !items_seen) {
            /* record when items may have failed or all are wanted; when
             * "errors" comes after "items" (never seen so far) record too */
            recorded = (r->flags & ES_BULK_ALL_ITEMS) || !errors_seen || r->errors;
            x = bulk_items(&j, r, recorded);
            items_seen = true;
        } else {
            x = js_skip(&j);
        }
        if (x)
            break;
    }
    if (x == -2)
        goto nomem;
    if (x || m || js_end(&j) || !items_seen)
        goto bad;
    r->have_items = recorded && (r->errors || (r->flags & ES_BULK_ALL_ITEMS));
    if (!r->errors && r->failed) {
        /* the flag said no errors, yet an item failed: believe the items */
        r->errors = true;
        r->have_items = recorded;
    }
    return DDB2ES_OK;
nomem:
    r->outcome = ES_BULK_BAD_ANSWER;
    return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading a bulk answer of %zu bytes", len);
bad:
    r->outcome = ES_BULK_BAD_ANSWER;
    return ddb2es_failf(err, DDB2ES_E_PROTOCOL,
                        "unreadable bulk answer (%zu bytes): not valid JSON or no \"items\"; whether the "
                        "documents were written is unknown",
                        len);
}

static enum es_bulk_outcome classify(long status)
{
    if (status == 429)
        return ES_BULK_THROTTLED;
    if (status == 413)
        return ES_BULK_TOO_LARGE;
    if (status == 502 || status == 503 || status == 504)
        return ES_BULK_UNAVAILABLE;
    if (status >= 500)
        return ES_BULK_SERVER_ERROR;
    return ES_BULK_REJECTED;
}

int es_bulk_send(struct es_client *c, const char *body, size_t len, struct es_bulk_result *r,
                 struct ddb2es_error *err)
{
    char what[128];
    int rc;

    es_bulk_result_reset(r);
    if (len == 0 || body[len - 1] != '\n')
        return ddb2es_failf(err, DDB2ES_E_USAGE, "a bulk body must be non-empty and end with a newline");
    snprintf(what, sizeof(what), "sending a bulk request of %zu bytes", len);
    rc = es__url_start(c);
    if (!rc)
        rc = dbuf_puts(&c->url, "/_bulk");
    if (rc)
        return es__url_fail(err);
    rc = es__exchange(c, "POST", "application/x-ndjson", body, len, what, err);
    r->seconds = c->resp.seconds;
    if (rc) {
        r->outcome = ES_BULK_TRANSPORT;
        r->request_retryable = rc == DDB2ES_E_NET || rc == DDB2ES_E_TIMEOUT;
        return rc;
    }
    r->http_status = c->resp.status;
    if (es__is_2xx(c->resp.status)) {
        rc = es_parse_bulk_response(dbuf_cstr(&c->resp.body), c->resp.body.len, r, err);
        if (rc)
            es__prefix_error(err, rc, what);
        return rc;
    }
    r->outcome = classify(c->resp.status);
    r->request_retryable = r->outcome == ES_BULK_THROTTLED || r->outcome == ES_BULK_UNAVAILABLE ||
                           r->outcome == ES_BULK_SERVER_ERROR;
    return es__answer_error(c, what, err);
}

