/*
 * es_search.c - search pages, point in time, scroll, the id scan, and _mget.
 * See ddb2es/es_search.h.
 *
 * DESIGN
 * Pages and _mget answers are read by the scanner of jscan.c: a hit's
 * _source and its sort values are kept as raw spans (search_after must be
 * sent back byte for byte; jansson would refuse integers above 2^63 and
 * re-print doubles). es_scan hides whether the cluster pages with a PIT and
 * search_after or with a scroll, and refuses a page with failed shards
 * rather than let missing ids look absent.
 */
#include "ddb2es/es_search.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_internal.h"
#include "jscan.h"
#include "util.h"

/* =============================================================== search */

void es_page_init(struct es_page *p)
{
    memset(p, 0, sizeof(*p));
    p->total = -1;
}

void es_page_reset(struct es_page *p)
{
    struct es_hit *hits = p->hits;
    struct es_pool *pool = p->pool;
    size_t cap = p->cap;

    free(p->pit_id);
    free(p->scroll_id);
    free(p->search_after);
    js_pool_reset(pool);
    es_page_init(p);
    p->hits = hits;
    p->cap = cap;
    p->pool = pool;
}

void es_page_free(struct es_page *p)
{
    if (!p)
        return;
    es_page_reset(p);
    free(p->hits);
    js_pool_free(p->pool);
    es_page_init(p);
}

static int page_hit(struct js *j, struct es_page *out, const char **sort, size_t *sort_len,
                    struct js_str_memo *index_memo)
{
    struct es_hit *h;
    const char *k;
    size_t kn;
    int first = 1, m, x = 0;

    if (js_grow_array((void **)&out->hits, &out->cap, out->nhits + 1, sizeof(*out->hits)))
        return -2;
    h = &out->hits[out->nhits];
    memset(h, 0, sizeof(*h));
    h->index = h->id = "";
    h->seq_no = h->primary_term = h->version = -1;
    *sort = NULL;
    if (js_enter(j, '{'))
        return -1;
    for (;;) {
        m = js_member(j, &first, &k, &kn);
        if (m != 1)
            break;
        if (js_key_is(k, kn, "_index")) {
            x = js_get_str_memo(j, &out->pool, index_memo, &h->index);
        } else if (js_key_is(k, kn, "_id")) {
            x = js_get_str(j, &out->pool, &h->id);
        } else if (js_key_is(k, kn, "_seq_no")) {
            x = js_get_int(j, &h->seq_no);
        } else if (js_key_is(k, kn, "_primary_term")) {
            x = js_get_int(j, &h->primary_term);
        } else if (js_key_is(k, kn, "_version")) {
            x = js_get_int(j, &h->version);
        } else if (js_key_is(k, kn, "_source")) {
            x = js_get_raw(j, &out->pool, &h->source, &h->source_len);
        } else if (js_key_is(k, kn, "sort")) {
            x = js_raw(j, sort, sort_len);
        } else {
            x = js_skip(j);
        }
        if (x)
            return x;
    }
    if (m)
        return -1;
    out->nhits++;
    return 0;
}

static int page_hits(struct js *j, struct es_page *out, const char **last_sort, size_t *last_len)
{
    struct js_str_memo index_memo = {NULL, 0, NULL};
    const char *k;
    size_t kn;
    int first = 1, m, x = 0;

    if (js_enter(j, '{'))
        return -1;
    for (;;) {
        m = js_member(j, &first, &k, &kn);
        if (m != 1)
            break;
        if (js_key_is(k, kn, "total")) {
            if (js_peek(j) == '{') {
                const char *tk;
                size_t tkn;
                int tfirst = 1, tm;

                if (js_enter(j, '{'))
                    return -1;
                for (;;) {
                    tm = js_member(j, &tfirst, &tk, &tkn);
                    if (tm != 1)
                        break;
                    if (js_key_is(tk, tkn, "value")) {
                        x = js_get_int(j, &out->total);
                    } else if (js_key_is(tk, tkn, "relation") && js_peek(j) == '"') {
                        const char *s;
                        size_t sn;
                        bool esc;
                        x = js_string(j, &s, &sn, &esc);
                        out->total_is_lower_bound = js_key_is(s, sn, "gte");
                    } else {
                        x = js_skip(j);
                    }
                    if (x)
                        return x;
                }
                if (tm)
                    return -1;
            } else {
                x = js_get_int(j, &out->total); /* ES 6: a plain number */
            }
        } else if (js_key_is(k, kn, "hits") && js_peek(j) == '[') {
            int efirst = 1, e;

            if (js_enter(j, '['))
                return -1;
            for (;;) {
                e = js_elem(j, &efirst);
                if (e != 1)
                    break;
                const char *sort;
                size_t sort_len = 0;

                x = page_hit(j, out, &sort, &sort_len, &index_memo);
                if (x)
                    return x;
                *last_sort = sort;
                *last_len = sort_len;
            }
            if (e)
                return -1;
        } else {
            x = js_skip(j);
        }
        if (x)
            return x;
    }
    return m;
}

int es_parse_search_page(const char *body, size_t len, struct es_page *out, struct ddb2es_error *err)
{
    const char *k, *last_sort = NULL;
    size_t kn, last_len = 0;
    struct js j;
    int first = 1, m, x = 0;

    js_init(&j, body, len);
    if (js_enter(&j, '{'))
        return js_fail(-1, "search answer", err);
    for (;;) {
        m = js_member(&j, &first, &k, &kn);
        if (m != 1)
            break;
        if (js_key_is(k, kn, "pit_id")) {
            x = js_get_strdup(&j, &out->pit_id);
        } else if (js_key_is(k, kn, "_scroll_id")) {
            x = js_get_strdup(&j, &out->scroll_id);
        } else if (js_key_is(k, kn, "timed_out")) {
            x = js_get_bool(&j, &out->timed_out);
        } else if (js_key_is(k, kn, "_shards") && js_peek(&j) == '{') {
            const char *sk;
            size_t skn;
            int sfirst = 1, sm;

            if (js_enter(&j, '{'))
                return js_fail(-1, "search answer", err);
            for (;;) {
                sm = js_member(&j, &sfirst, &sk, &skn);
                if (sm != 1)
                    break;
                if (js_key_is(sk, skn, "failed")) {
                    long long f = 0;
                    x = js_get_int(&j, &f);
                    out->shards_failed = f > 0 ? (size_t)f : 0;
                } else {
                    x = js_skip(&j);
                }
                if (x)
                    break;
            }
            if (!x && sm)
                x = -1;
        } else if (js_key_is(k, kn, "hits") && js_peek(&j) == '{') {
            x = page_hits(&j, out, &last_sort, &last_len);
        } else {
            x = js_skip(&j);
        }
        if (x)
            break;
    }
    if (x || m || js_end(&j))
        return js_fail(x ? x : -1, "search answer", err);
    if (last_sort) {
        out->search_after = util_strndup(last_sort, last_len);
        if (!out->search_after)
            return js_fail(-2, "search answer", err);
    }
    return DDB2ES_OK;
}

int es_search_body(const struct es_search_params *p, struct dbuf *out, struct ddb2es_error *err)
{
    size_t mark = out->len;
    const char *sort = p->sort_field ? p->sort_field : p->pit_id ? "_shard_doc" : "_doc";
    int rc;

    rc = dbuf_printf(out, "{\"size\":%zu,\"query\":%s,\"_source\":%s", p->size ? p->size : 1000,
                     p->query_json ? p->query_json : "{\"match_all\":{}}", p->source ? "true" : "false");
    if (!rc && !p->track_total_hits)
        rc = dbuf_puts(out, ",\"track_total_hits\":false");
    if (!rc && p->seq_no_primary_term)
        rc = dbuf_puts(out, ",\"seq_no_primary_term\":true");
    if (!rc)
        rc = dbuf_puts(out, ",\"sort\":[{");
    if (!rc)
        rc = es_json_string(out, sort, strlen(sort), err);
    if (!rc)
        rc = dbuf_puts(out, ":\"asc\"}]");
    if (!rc && p->pit_id) {
        const char *ka = p->keep_alive ? p->keep_alive : "5m";
        rc = dbuf_puts(out, ",\"pit\":{\"id\":");
        if (!rc)
            rc = es_json_string(out, p->pit_id, strlen(p->pit_id), err);
        if (!rc)
            rc = dbuf_puts(out, ",\"keep_alive\":");
        if (!rc)
            rc = es_json_string(out, ka, strlen(ka), err);
        if (!rc)
            rc = dbuf_putc(out, '}');
    }
    if (!rc && p->search_after)
        rc = dbuf_printf(out, ",\"search_after\":%s", p->search_after);
    if (!rc)
        rc = dbuf_putc(out, '}');
    return es__body_end(out, mark, rc, "a search request", err);
}

int es_parse_pit_open(const char *body, size_t len, char **pit_id, struct ddb2es_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *id = es__jstr(root, "pit_id");
    int rc = DDB2ES_OK;

    *pit_id = NULL;
    if (!id)
        id = es__jstr(root, "id");
    if (!id || !*id) {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "unreadable point-in-time answer: no \"id\" or \"pit_id\"");
    } else {
        *pit_id = util_strdup(id);
        if (!*pit_id)
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading a point-in-time answer");
    }
    json_decref(root);
    return rc;
}

int es_pit_close_body(enum es_pit_kind kind, const char *pit_id, struct dbuf *out, struct ddb2es_error *err)
{
    size_t mark = out->len;
    int rc;

    if (kind == ES_PIT_NONE || !pit_id)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "no point in time to close");
    rc = dbuf_puts(out, kind == ES_PIT_ES ? "{\"id\":" : "{\"pit_id\":[");
    if (!rc)
        rc = es_json_string(out, pit_id, strlen(pit_id), err);
    if (!rc)
        rc = dbuf_puts(out, kind == ES_PIT_ES ? "}" : "]}");
    return es__body_end(out, mark, rc, "a request", err);
}

int es_parse_pit_close(const char *body, size_t len, size_t *freed, struct ddb2es_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL), *pits, *p;
    int rc = DDB2ES_OK;
    size_t i;

    *freed = 0;
    pits = json_object_get(root, "pits");
    if (json_is_array(pits)) {
        json_array_foreach(pits, i, p)
            if (json_is_true(json_object_get(p, "successful")))
                (*freed)++;
    } else if (json_is_boolean(json_object_get(root, "succeeded"))) {
        json_int_t n = json_integer_value(json_object_get(root, "num_freed"));
        *freed = n > 0 ? (size_t)n : 0;
    } else {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "unreadable point-in-time close answer");
    }
    json_decref(root);
    return rc;
}

int es_pit_open(struct es_client *c, enum es_pit_kind kind, const char *index, const char *keep_alive,
                char **pit_id, struct ddb2es_error *err)
{
    char what[320];
    int rc;

    *pit_id = NULL;
    if (kind == ES_PIT_NONE)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "%s at %s offers no point-in-time API", es__product(c), c->host);
    rc = es__check_index_arg(index, err);
    if (rc)
        return rc;
    rc = es__url_index(c, index, kind == ES_PIT_ES ? "/_pit?keep_alive=" : "/_search/point_in_time?keep_alive=", err);
    if (!rc && es__url_query_value(c, keep_alive ? keep_alive : "5m"))
        rc = es__url_fail(err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "opening a point in time on '%s'", index);
    rc = es__call(c, "POST", NULL, 0, what, err);
    if (rc)
        return rc;
    rc = es_parse_pit_open(dbuf_cstr(&c->resp.body), c->resp.body.len, pit_id, err);
    return rc ? es__prefix_error(err, rc, what) : DDB2ES_OK;
}

/* A DELETE with a JSON body where 404 (already gone) is fine. */
static int delete_context(struct es_client *c, const char *path, const struct dbuf *body, const char *what,
                          struct ddb2es_error *err)
{
    int rc = es__url_start(c);

    if (!rc)
        rc = dbuf_puts(&c->url, path);
    if (rc)
        return es__url_fail(err);
    rc = es__exchange(c, "DELETE", "application/json", body->data, body->len, what, err);
    if (rc)
        return rc;
    if (c->resp.status == 404 || es__is_2xx(c->resp.status))
        return DDB2ES_OK;
    return es__answer_error(c, what, err);
}

int es_pit_close(struct es_client *c, enum es_pit_kind kind, const char *pit_id, struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    int rc = es_pit_close_body(kind, pit_id, &body, err);

    if (!rc)
        rc = delete_context(c, kind == ES_PIT_ES ? "/_pit" : "/_search/point_in_time", &body,
                            "closing a point in time", err);
    dbuf_free(&body);
    return rc;
}

int es_search(struct es_client *c, const char *index, const struct es_search_params *p,
              const char *scroll_keep_alive, struct es_page *out, struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    char what[320];
    int rc;

    es_page_reset(out);
    if (!p->pit_id || scroll_keep_alive) {
        rc = es__check_index_arg(index, err);
        if (rc)
            return rc;
        rc = es__url_index(c, index, "/_search", err);
    } else {
        rc = es__url_index(c, NULL, "/_search", err);
    }
    if (!rc && scroll_keep_alive) {
        if (dbuf_puts(&c->url, "?scroll=") || es__url_query_value(c, scroll_keep_alive))
            rc = es__url_fail(err);
    }
    if (!rc)
        rc = es_search_body(p, &body, err);
    if (rc)
        goto out;
    snprintf(what, sizeof(what), "searching '%s'", index ? index : "a point in time");
    rc = es__call(c, "POST", body.data, body.len, what, err);
    if (!rc)
        rc = es_parse_search_page(dbuf_cstr(&c->resp.body), c->resp.body.len, out, err);
    if (rc == DDB2ES_E_PROTOCOL || rc == DDB2ES_E_NOMEM)
        es__prefix_error(err, rc, what);
out:
    dbuf_free(&body);
    return rc;
}

static int scroll_body(const char *scroll_id, const char *keep_alive, struct dbuf *out, struct ddb2es_error *err)
{
    int rc = DDB2ES_OK;

    if (keep_alive) {
        rc = dbuf_puts(out, "{\"scroll\":");
        if (!rc)
            rc = es_json_string(out, keep_alive, strlen(keep_alive), err);
        if (!rc)
            rc = dbuf_puts(out, ",\"scroll_id\":");
    } else {
        rc = dbuf_puts(out, "{\"scroll_id\":");
    }
    if (!rc)
        rc = es_json_string(out, scroll_id, strlen(scroll_id), err);
    if (!rc)
        rc = dbuf_putc(out, '}');
    if (rc == DDB2ES_E_NOMEM)
        ddb2es_failf(err, rc, "out of memory building a request");
    return rc;
}

int es_scroll_next(struct es_client *c, const char *scroll_id, const char *keep_alive, struct es_page *out,
                   struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    int rc;

    es_page_reset(out);
    if (!scroll_id)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "no scroll id");
    rc = scroll_body(scroll_id, keep_alive ? keep_alive : "5m", &body, err);
    if (!rc) {
        rc = es__url_start(c);
        if (!rc)
            rc = dbuf_puts(&c->url, "/_search/scroll");
        if (rc)
            rc = es__url_fail(err);
    }
    if (!rc)
        rc = es__call(c, "POST", body.data, body.len, "reading the next scroll page", err);
    if (!rc)
        rc = es_parse_search_page(dbuf_cstr(&c->resp.body), c->resp.body.len, out, err);
    dbuf_free(&body);
    return rc;
}

int es_scroll_clear(struct es_client *c, const char *scroll_id, struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    int rc;

    if (!scroll_id)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "no scroll id");
    rc = scroll_body(scroll_id, NULL, &body, err);
    if (!rc)
        rc = delete_context(c, "/_search/scroll", &body, "clearing a scroll", err);
    dbuf_free(&body);
    return rc;
}

/* ================================================================= scan */

struct es_scan {
    struct es_client *c;           /* borrowed */
    char *index, *sort_field, *keep_alive, *query;
    size_t size;
    bool seq, source, track_false;
    bool use_pit;
    enum es_pit_kind pit_kind;
    char *pit_id;                  /* current PIT id (ES may change it between pages) */
    char *scroll_id;
    char *search_after;
    bool started, done;
};

const char *es_scan_method(const struct es_scan *s)
{
    return s->use_pit ? "pit+search_after" : "scroll";
}

void es_scan_close(struct es_scan *s)
{
    if (!s)
        return;
    if (s->pit_id)
        es_pit_close(s->c, s->pit_kind, s->pit_id, NULL);
    if (s->scroll_id)
        es_scroll_clear(s->c, s->scroll_id, NULL);
    free(s->index);
    free(s->sort_field);
    free(s->keep_alive);
    free(s->query);
    free(s->pit_id);
    free(s->scroll_id);
    free(s->search_after);
    free(s);
}

/* Refusals of a PIT open that mean "this cluster has no usable PIT": fall back to scroll. */
static bool pit_refused(int rc, const struct ddb2es_error *e)
{
    if (rc != DDB2ES_E_SERVICE && rc != DDB2ES_E_NOTFOUND && !(rc == DDB2ES_E_AUTH && e->http_status == 403))
        return false;
    return !es_error_is(e, "index_not_found_exception");
}

int es_scan_open(struct es_client *c, const struct es_info *info, const struct es_scan_options *o,
                 struct es_scan **out, struct ddb2es_error *err)
{
    struct es_scan *s;
    bool pit_possible;
    int rc = DDB2ES_OK;

    *out = NULL;
    rc = es__check_index_arg(o->index, err);
    if (rc)
        return rc;
    s = calloc(1, sizeof(*s));
    if (!s)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting a scan");
    s->c = c;
    s->index = util_strdup(o->index);
    s->keep_alive = util_strdup(o->keep_alive ? o->keep_alive : "5m");
    s->sort_field = o->sort_field ? util_strdup(o->sort_field) : NULL;
    s->query = o->query_json ? util_strdup(o->query_json) : NULL;
    if (!s->index || !s->keep_alive || (o->sort_field && !s->sort_field) || (o->query_json && !s->query)) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory starting a scan");
        goto fail;
    }
    s->size = o->page_size ? o->page_size : 1000;
    s->seq = o->seq_no_primary_term;
    s->source = o->source;
    /* "track_total_hits": false saves work; Elasticsearch 6 does not know it */
    s->track_false = info->flavour == ES_FLAVOUR_OPENSEARCH || info->major >= 7;
    s->pit_kind = info->pit;
    pit_possible = info->pit != ES_PIT_NONE && (info->shard_doc_sort || s->sort_field);
    if (o->mode == ES_SCAN_PIT && !pit_possible) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE,
                          info->pit == ES_PIT_NONE
                              ? "%s at %s offers no point in time; use a scroll"
                              : "%s at %s cannot sort on _shard_doc; give a unique sort field",
                          es_flavour_name(info->flavour), c->host);
        goto fail;
    }
    if (o->mode != ES_SCAN_SCROLL && pit_possible) {
        struct ddb2es_error perr;

        ddb2es_error_clear(&perr);
        rc = es_pit_open(c, s->pit_kind, s->index, s->keep_alive, &s->pit_id, &perr);
        if (!rc) {
            s->use_pit = true;
        } else if (o->mode == ES_SCAN_AUTO && pit_refused(rc, &perr)) {
            rc = DDB2ES_OK; /* e.g. a compat-mode domain older than 2.4: scroll instead */
        } else {
            if (err)
                *err = perr;
            goto fail;
        }
    }
    *out = s;
    return DDB2ES_OK;
fail:
    es_scan_close(s);
    return rc;
}

int es_scan_next(struct es_scan *s, struct es_page *page, struct ddb2es_error *err)
{
    struct es_search_params p = {0};
    int rc;

    es_page_reset(page);
    if (s->done)
        return DDB2ES_OK;
    p.size = s->size;
    p.query_json = s->query;
    p.keep_alive = s->keep_alive;
    p.seq_no_primary_term = s->seq;
    p.source = s->source;
    p.track_total_hits = !s->track_false;
    if (s->use_pit) {
        p.pit_id = s->pit_id;
        p.sort_field = s->sort_field; /* NULL: _shard_doc */
        p.search_after = s->search_after;
        rc = es_search(s->c, NULL, &p, NULL, page, err);
    } else if (!s->started) {
        rc = es_search(s->c, s->index, &p, s->keep_alive, page, err);
    } else {
        rc = es_scroll_next(s->c, s->scroll_id, s->keep_alive, page, err);
    }
    if (rc)
        return rc;
    s->started = true;
    /* a page missing shards would make ids look absent: stop rather than guess */
    if (page->shards_failed || page->timed_out) {
        rc = ddb2es_failf(err, DDB2ES_E_SERVICE,
                          "scanning '%s': %s at %s answered a partial page (%zu shard(s) failed%s); retry later",
                          s->index, es__product(s->c), s->c->host, page->shards_failed,
                          page->timed_out ? ", timed out" : "");
        es_page_reset(page);
        return rc;
    }
    if (page->pit_id) {
        free(s->pit_id);
        s->pit_id = util_strdup(page->pit_id);
        if (!s->pit_id)
            return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory during a scan");
    }
    if (page->scroll_id) {
        free(s->scroll_id);
        s->scroll_id = util_strdup(page->scroll_id);
        if (!s->scroll_id)
            return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory during a scan");
    }
    if (s->use_pit) {
        free(s->search_after);
        s->search_after = page->search_after ? util_strdup(page->search_after) : NULL;
        if (page->search_after && !s->search_after)
            return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory during a scan");
        /* search_after pages are full until the last one */
        if (page->nhits < s->size || !page->search_after)
            s->done = true;
    } else if (page->nhits == 0) {
        s->done = true;
    }
    return DDB2ES_OK;
}

/* ================================================================= mget */

void es_doc_list_init(struct es_doc_list *l)
{
    memset(l, 0, sizeof(*l));
}

void es_doc_list_reset(struct es_doc_list *l)
{
    l->n = 0;
    js_pool_reset(l->pool);
}

void es_doc_list_free(struct es_doc_list *l)
{
    if (!l)
        return;
    free(l->v);
    js_pool_free(l->pool);
    memset(l, 0, sizeof(*l));
}

int es_mget_body(const char *const *ids, size_t n, struct dbuf *out, struct ddb2es_error *err)
{
    size_t mark = out->len, i;
    int rc;

    if (n == 0)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "no ids to fetch");
    rc = dbuf_puts(out, "{\"ids\":[");
    for (i = 0; i < n && !rc; i++) {
        if (i)
            rc = dbuf_putc(out, ',');
        if (!rc)
            rc = es__check_id(ids[i], err);
        if (!rc)
            rc = es_json_string(out, ids[i], strlen(ids[i]), err);
    }
    if (!rc)
        rc = dbuf_puts(out, "]}");
    return es__body_end(out, mark, rc, "a request", err);
}

static int mget_doc(struct js *j, struct es_doc_list *out)
{
    struct es_doc *d;
    const char *k;
    size_t kn;
    int first = 1, m, x = 0;

    if (js_grow_array((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v)))
        return -2;
    d = &out->v[out->n];
    memset(d, 0, sizeof(*d));
    d->index = d->id = "";
    d->version = d->seq_no = d->primary_term = -1;
    if (js_enter(j, '{'))
        return -1;
    for (;;) {
        m = js_member(j, &first, &k, &kn);
        if (m != 1)
            break;
        if (js_key_is(k, kn, "_index")) {
            x = js_get_str(j, &out->pool, &d->index);
        } else if (js_key_is(k, kn, "_id")) {
            x = js_get_str(j, &out->pool, &d->id);
        } else if (js_key_is(k, kn, "found")) {
            x = js_get_bool(j, &d->found);
        } else if (js_key_is(k, kn, "_version")) {
            x = js_get_int(j, &d->version);
        } else if (js_key_is(k, kn, "_seq_no")) {
            x = js_get_int(j, &d->seq_no);
        } else if (js_key_is(k, kn, "_primary_term")) {
            x = js_get_int(j, &d->primary_term);
        } else if (js_key_is(k, kn, "_source")) {
            x = js_get_raw(j, &out->pool, &d->source, &d->source_len);
        } else if (js_key_is(k, kn, "error")) {
            const char *s;
            size_t sn;
            json_t *e;
            struct dbuf text = DBUF_INIT;

            if (js_raw(j, &s, &sn))
                return -1;
            e = json_loadb(s, sn, JSON_DECODE_ANY, NULL);
            if (json_is_string(e)) {
                x = dbuf_puts(&text, json_string_value(e)) ? -2 : 0;
            } else if (json_is_object(e)) {
                const char *t = es__jstr(e, "type");
                x = dbuf_printf(&text, "%s: ", t ? t : "error") || es__cause_text(e, true, &text) ? -2 : 0;
            } else {
                x = dbuf_puts(&text, "error") ? -2 : 0;
            }
            if (!x) {
                d->error = js_pool_strndup(&out->pool, dbuf_cstr(&text), text.len);
                if (!d->error)
                    x = -2;
            }
            json_decref(e);
            dbuf_free(&text);
        } else {
            x = js_skip(j);
        }
        if (x)
            return x;
    }
    if (m)
        return -1;
    if (!d->found) {
        d->source = NULL;
        d->source_len = 0;
    }
    out->n++;
    return 0;
}

int es_parse_mget(const char *body, size_t len, struct es_doc_list *out, struct ddb2es_error *err)
{
    const char *k;
    size_t kn;
    struct js j;
    int first = 1, m, x = 0;
    bool docs = false;

    js_init(&j, body, len);
    if (js_enter(&j, '{'))
        return js_fail(-1, "_mget answer", err);
    for (;;) {
        m = js_member(&j, &first, &k, &kn);
        if (m != 1)
            break;
        if (js_key_is(k, kn, "docs") && js_peek(&j) == '[') {
            int efirst = 1, e;

            docs = true;
            if (js_enter(&j, '['))
                return js_fail(-1, "_mget answer", err);
            for (;;) {
                e = js_elem(&j, &efirst);
                if (e != 1)
                    break;
                x = mget_doc(&j, out);
                if (x)
                    break;
            }
            if (!x && e)
                x = -1;
        } else {
            x = js_skip(&j);
        }
        if (x)
            break;
    }
    if (x || m || js_end(&j) || !docs)
        return js_fail(x ? x : -1, "_mget answer", err);
    return DDB2ES_OK;
}

int es_mget(struct es_client *c, const char *index, const char *const *ids, size_t n, struct es_doc_list *out,
            struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    char what[320];
    int rc;

    es_doc_list_reset(out);
    rc = es__check_index_arg(index, err);
    if (!rc)
        rc = es_mget_body(ids, n, &body, err);
    if (!rc)
        rc = es__url_index(c, index, "/_mget", err);
    if (rc)
        goto out;
    snprintf(what, sizeof(what), "fetching %zu documents from '%s'", n, index);
    rc = es__call(c, "POST", body.data, body.len, what, err);
    if (!rc)
        rc = es_parse_mget(dbuf_cstr(&c->resp.body), c->resp.body.len, out, err);
    if (rc == DDB2ES_E_PROTOCOL)
        es__prefix_error(err, rc, what);
out:
    dbuf_free(&body);
    return rc;
}
