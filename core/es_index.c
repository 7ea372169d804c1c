/*
 * es_index.c - index operations, settings, aliases and _cat/indices of the
 * Elasticsearch / OpenSearch client. API in ddb2es/es.h; small answers, read
 * with jansson.
 */
#include "ddb2es/es.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "es_internal.h"
#include "jscan.h"
#include "util.h"

int es_index_exists(struct es_client *c, const char *index, bool *exists, struct ddb2es_error *err)
{
    char what[320];
    int rc;

    *exists = false;
    rc = es__check_index_arg(index, err);
    if (!rc)
        rc = es__url_index(c, index, NULL, err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "checking whether index '%s' exists", index);
    rc = es__exchange(c, "HEAD", NULL, NULL, 0, what, err);
    if (rc)
        return rc;
    if (c->resp.status == 200) {
        *exists = true;
        return DDB2ES_OK;
    }
    if (c->resp.status == 404)
        return DDB2ES_OK;
    return es__answer_error(c, what, err);
}

int es_index_create(struct es_client *c, const char *index, const char *body_json, bool *already_exists,
                    struct ddb2es_error *err)
{
    char what[320];
    int rc;

    if (already_exists)
        *already_exists = false;
    rc = es__check_index_arg(index, err);
    if (!rc)
        rc = es__url_index(c, index, NULL, err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "creating index '%s'", index);
    rc = es__call(c, "PUT", body_json ? body_json : "{}", body_json ? strlen(body_json) : 2, what, err);
    if (rc && already_exists && es_error_is(err, "resource_already_exists_exception")) {
        *already_exists = true;
        ddb2es_error_clear(err);
        return DDB2ES_OK;
    }
    return rc;
}

int es_index_delete(struct es_client *c, const char *index, struct ddb2es_error *err)
{
    char what[320];
    int rc = es__check_index_arg(index, err);

    if (!rc)
        rc = es__url_index(c, index, NULL, err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "deleting index '%s'", index);
    return es__call(c, "DELETE", NULL, 0, what, err);
}

int es_index_refresh(struct es_client *c, const char *index, struct ddb2es_error *err)
{
    char what[320];
    int rc = es__check_index_arg(index, err);

    if (!rc)
        rc = es__url_index(c, index, "/_refresh", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "refreshing index '%s'", index);
    return es__call(c, "POST", NULL, 0, what, err);
}

int es_count(struct es_client *c, const char *index, const char *query_json, long long *count,
             struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    json_t *root = NULL, *n;
    char what[320];
    int rc;

    *count = -1;
    rc = es__check_index_arg(index, err);
    if (!rc)
        rc = es__url_index(c, index, "/_count", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "counting the documents of '%s'", index);
    if (query_json) {
        rc = dbuf_printf(&body, "{\"query\":%s}", query_json);
        if (rc) {
            rc = ddb2es_failf(err, rc, "out of memory building a request");
            goto out;
        }
        rc = es__call(c, "POST", body.data, body.len, what, err);
    } else {
        rc = es__call(c, "GET", NULL, 0, what, err);
    }
    if (rc)
        goto out;
    rc = es__resp_json(c, what, &root, err);
    if (rc)
        goto out;
    n = json_object_get(root, "count");
    if (!json_is_integer(n)) {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "%s: the answer of %s has no count", what, c->host);
        goto out;
    }
    *count = json_integer_value(n);
out:
    json_decref(root);
    dbuf_free(&body);
    return rc;
}

/*
 * For GET /<index>/_mapping and _settings answers {"<concrete>":{"<key>":{...}}}:
 * the one concrete index's `key` object as compact JSON text.
 */
static int one_index_object(struct es_client *c, const char *index, const char *key, const char *what,
                            char **json_out, char **concrete, struct ddb2es_error *err)
{
    json_t *root = NULL, *val, *obj;
    const char *name;
    int rc;

    rc = es__resp_json(c, what, &root, err);
    if (rc)
        return rc;
    if (json_object_size(root) != 1) {
        rc = json_object_size(root) == 0
                 ? ddb2es_failf(err, DDB2ES_E_NOTFOUND, "%s: no index matches '%s'", what, index)
                 : ddb2es_failf(err, DDB2ES_E_USAGE, "%s: '%s' names %zu indices; name one index", what, index,
                                json_object_size(root));
        goto out;
    }
    json_object_foreach(root, name, val) {
        obj = json_object_get(val, key);
        if (!json_is_object(obj)) {
            rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "%s: the answer of %s has no \"%s\"", what, c->host, key);
            goto out;
        }
        *json_out = json_dumps(obj, JSON_COMPACT);
        if (concrete)
            *concrete = util_strdup(name);
        if (!*json_out || (concrete && !*concrete)) {
            free(*json_out);
            *json_out = NULL;
            if (concrete) {
                free(*concrete);
                *concrete = NULL;
            }
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading %s", what);
        }
        break;
    }
out:
    json_decref(root);
    return rc;
}

int es_get_mapping(struct es_client *c, const char *index, char **mappings_json, char **concrete_index,
                   struct ddb2es_error *err)
{
    char what[320];
    int rc;

    *mappings_json = NULL;
    if (concrete_index)
        *concrete_index = NULL;
    rc = es__check_index_arg(index, err);
    if (!rc)
        rc = es__url_index(c, index, "/_mapping", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "reading the mapping of '%s'", index);
    rc = es__call(c, "GET", NULL, 0, what, err);
    if (rc)
        return rc;
    return one_index_object(c, index, "mappings", what, mappings_json, concrete_index, err);
}

int es_get_settings(struct es_client *c, const char *index, char **settings_json, struct ddb2es_error *err)
{
    char what[320];
    int rc;

    *settings_json = NULL;
    rc = es__check_index_arg(index, err);
    if (!rc)
        rc = es__url_index(c, index, "/_settings?flat_settings=true", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "reading the settings of '%s'", index);
    rc = es__call(c, "GET", NULL, 0, what, err);
    if (rc)
        return rc;
    return one_index_object(c, index, "settings", what, settings_json, NULL, err);
}

int es_put_settings(struct es_client *c, const char *index, const char *settings_json, struct ddb2es_error *err)
{
    char what[320];
    int rc = es__check_index_arg(index, err);

    if (!rc && !settings_json)
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "no settings given for '%s'", index);
    if (!rc)
        rc = es__url_index(c, index, "/_settings", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "changing the settings of '%s'", index);
    return es__call(c, "PUT", settings_json, strlen(settings_json), what, err);
}

int es_get_write_settings(struct es_client *c, const char *index, struct es_write_settings *out,
                          struct ddb2es_error *err)
{
    char *text = NULL, *end;
    json_t *root;
    const char *ri, *nr;
    int rc;

    out->refresh_interval[0] = '\0';
    out->number_of_replicas = -1;
    rc = es_get_settings(c, index, &text, err);
    if (rc)
        return rc;
    root = json_loads(text, 0, NULL);
    ri = es__jstr(root, "index.refresh_interval");
    nr = es__jstr(root, "index.number_of_replicas");
    es__copy_field(out->refresh_interval, sizeof(out->refresh_interval), ri);
    if (nr) {
        long v = strtol(nr, &end, 10);
        if (*end == '\0' && end != nr && v >= 0 && v < 1000)
            out->number_of_replicas = (int)v;
    }
    json_decref(root);
    free(text);
    return DDB2ES_OK;
}

int es_put_write_settings(struct es_client *c, const char *index, const struct es_write_settings *s,
                          struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    int rc;

    rc = dbuf_puts(&body, "{\"index\":{\"refresh_interval\":");
    if (!rc && s->refresh_interval[0])
        rc = es_json_string(&body, s->refresh_interval, strlen(s->refresh_interval), err);
    else if (!rc)
        rc = dbuf_puts(&body, "null");
    if (!rc && s->number_of_replicas >= 0)
        rc = dbuf_printf(&body, ",\"number_of_replicas\":%d", s->number_of_replicas);
    if (!rc)
        rc = dbuf_puts(&body, "}}");
    if (rc) {
        if (rc == DDB2ES_E_NOMEM)
            ddb2es_failf(err, rc, "out of memory building a request");
        goto out;
    }
    rc = es_put_settings(c, index, body.data, err);
out:
    dbuf_free(&body);
    return rc;
}

/* ============================================================== aliases */

void es_alias_list_init(struct es_alias_list *l)
{
    memset(l, 0, sizeof(*l));
}

void es_alias_list_free(struct es_alias_list *l)
{
    if (!l)
        return;
    free(l->v);
    js_pool_free(l->pool);
    memset(l, 0, sizeof(*l));
}

static int alias_cmp(const void *a, const void *b)
{
    const struct es_alias *x = a, *y = b;
    int r = strcmp(x->index, y->index);

    return r ? r : strcmp(x->alias, y->alias);
}

int es_parse_aliases(const char *body, size_t len, struct es_alias_list *out, struct ddb2es_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL), *v, *aliases, *props;
    const char *index, *alias;
    int rc = DDB2ES_OK;

    if (!json_is_object(root)) {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "unreadable aliases answer: not a JSON object");
        goto out;
    }
    json_object_foreach(root, index, v) {
        aliases = json_object_get(v, "aliases");
        if (!json_is_object(aliases))
            continue; /* "error"/"status" members of a partial 404 */
        json_object_foreach(aliases, alias, props) {
            struct es_alias *a;

            rc = js_grow_array((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
            if (rc)
                goto nomem;
            a = &out->v[out->n];
            a->index = js_pool_strndup(&out->pool, index, strlen(index));
            a->alias = js_pool_strndup(&out->pool, alias, strlen(alias));
            if (!a->index || !a->alias)
                goto nomem;
            a->is_write_index = json_is_true(json_object_get(props, "is_write_index"));
            out->n++;
        }
    }
    qsort(out->v, out->n, sizeof(*out->v), alias_cmp);
    goto out;
nomem:
    rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading aliases");
out:
    json_decref(root);
    return rc;
}

int es_aliases_get(struct es_client *c, const char *index, const char *alias, struct es_alias_list *out,
                   struct ddb2es_error *err)
{
    char what[400];
    int rc;

    rc = es__url_start(c);
    if (!rc && index)
        rc = es__url_name(c, index);
    if (!rc)
        rc = dbuf_puts(&c->url, "/_alias");
    if (!rc && alias)
        rc = es__url_name(c, alias);
    if (rc)
        return es__url_fail(err);
    snprintf(what, sizeof(what), "reading aliases%s%s%s%s", alias ? " " : "", alias ? alias : "",
             index ? " of " : "", index ? index : "");
    rc = es__exchange(c, "GET", NULL, NULL, 0, what, err);
    if (rc)
        return rc;
    if (c->resp.status == 404)
        return DDB2ES_OK;
    if (!es__is_2xx(c->resp.status))
        return es__answer_error(c, what, err);
    return es_parse_aliases(dbuf_cstr(&c->resp.body), c->resp.body.len, out, err);
}

int es_aliases_body(const struct es_alias_action *actions, size_t n, struct dbuf *out, struct ddb2es_error *err)
{
    size_t mark = out->len, i;
    int rc;

    if (n == 0)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "no alias actions given");
    rc = dbuf_puts(out, "{\"actions\":[");
    for (i = 0; i < n && !rc; i++) {
        const struct es_alias_action *a = &actions[i];
        const char *op = a->op == ES_ALIAS_ADD ? "add" : a->op == ES_ALIAS_REMOVE ? "remove" : "remove_index";

        if (!a->index || (a->op != ES_ALIAS_REMOVE_INDEX && !a->alias)) {
            js_dbuf_truncate(out, mark);
            return ddb2es_failf(err, DDB2ES_E_USAGE, "alias action %zu has no index or alias", i);
        }
        rc = dbuf_printf(out, "%s{\"%s\":{\"index\":", i ? "," : "", op);
        if (!rc)
            rc = es_json_string(out, a->index, strlen(a->index), err);
        if (!rc && a->op != ES_ALIAS_REMOVE_INDEX) {
            rc = dbuf_puts(out, ",\"alias\":");
            if (!rc)
                rc = es_json_string(out, a->alias, strlen(a->alias), err);
        }
        if (!rc && a->op == ES_ALIAS_ADD && a->is_write_index)
            rc = dbuf_puts(out, ",\"is_write_index\":true");
        if (!rc)
            rc = dbuf_puts(out, "}}");
    }
    if (!rc)
        rc = dbuf_puts(out, "]}");
    return es__body_end(out, mark, rc, "a request", err);
}

int es_aliases_update(struct es_client *c, const struct es_alias_action *actions, size_t n,
                      struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    int rc;

    rc = es_aliases_body(actions, n, &body, err);
    if (rc)
        goto out;
    rc = es__url_start(c);
    if (!rc)
        rc = dbuf_puts(&c->url, "/_aliases");
    if (rc) {
        rc = es__url_fail(err);
        goto out;
    }
    rc = es__call(c, "POST", body.data, body.len, "updating aliases", err);
out:
    dbuf_free(&body);
    return rc;
}

/* ========================================================= _cat/indices */

void es_index_list_init(struct es_index_list *l)
{
    memset(l, 0, sizeof(*l));
}

void es_index_list_free(struct es_index_list *l)
{
    if (!l)
        return;
    free(l->v);
    js_pool_free(l->pool);
    memset(l, 0, sizeof(*l));
}

/* "1200" -> 1200; JSON integers too; else -1. */
static long long cat_count(const json_t *v)
{
    const char *s = json_string_value(v);
    char *end;
    long long n;

    if (json_is_integer(v))
        return json_integer_value(v);
    if (!s || !*s)
        return -1;
    n = strtoll(s, &end, 10);
    return *end == '\0' && n >= 0 ? n : -1;
}

/* "88.1kb" -> 90214 (powers of 1024, as _cat prints them); "260b", "1234" -> bytes; else -1. */
static long long cat_bytes(const json_t *v)
{
    static const struct { const char *unit; double mult; } units[] = {
        {"pb", 1125899906842624.0}, {"tb", 1099511627776.0}, {"gb", 1073741824.0},
        {"mb", 1048576.0}, {"kb", 1024.0}, {"b", 1.0}, {"", 1.0},
    };
    const char *s = json_string_value(v);
    char *end;
    double x;
    size_t i;

    if (json_is_integer(v))
        return json_integer_value(v);
    if (!s || !*s)
        return -1;
    x = strtod(s, &end);
    if (end == s || x < 0)
        return -1;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(end, units[i].unit) == 0)
            return (long long)floor(x * units[i].mult + 0.5);
    return -1;
}

int es_parse_cat_indices(const char *body, size_t len, struct es_index_list *out, struct ddb2es_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL), *row;
    size_t i;
    int rc = DDB2ES_OK;

    if (!json_is_array(root)) {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "unreadable _cat/indices answer: not a JSON array");
        goto out;
    }
    json_array_foreach(root, i, row) {
        struct es_index_row *r;
        const char *fields[4] = {"index", "health", "status", "uuid"};
        const char **dst[4];
        long long x;
        int k;

        if (!json_is_object(row) || !es__jstr(row, "index"))
            continue;
        rc = js_grow_array((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
        if (rc)
            goto nomem;
        r = &out->v[out->n];
        dst[0] = &r->index;
        dst[1] = &r->health;
        dst[2] = &r->status;
        dst[3] = &r->uuid;
        for (k = 0; k < 4; k++) {
            const char *s = es__jstr(row, fields[k]);
            *dst[k] = js_pool_strndup(&out->pool, s ? s : "", s ? strlen(s) : 0);
            if (!*dst[k])
                goto nomem;
        }
        x = cat_count(json_object_get(row, "pri"));
        r->pri = x >= 0 && x < 100000 ? (int)x : -1;
        x = cat_count(json_object_get(row, "rep"));
        r->rep = x >= 0 && x < 100000 ? (int)x : -1;
        r->docs_count = cat_count(json_object_get(row, "docs.count"));
        r->docs_deleted = cat_count(json_object_get(row, "docs.deleted"));
        r->store_bytes = cat_bytes(json_object_get(row, "store.size"));
        r->pri_store_bytes = cat_bytes(json_object_get(row, "pri.store.size"));
        out->n++;
    }
    goto out;
nomem:
    rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading _cat/indices");
out:
    json_decref(root);
    return rc;
}

int es_cat_indices(struct es_client *c, const char *pattern, struct es_index_list *out,
                   struct ddb2es_error *err)
{
    int rc = es__url_start(c);

    if (!rc)
        rc = dbuf_puts(&c->url, "/_cat/indices");
    if (!rc && pattern)
        rc = es__url_name(c, pattern);
    if (!rc)
        rc = dbuf_puts(&c->url, "?format=json&bytes=b&s=index&h=health,status,index,uuid,pri,rep,docs.count,"
                                "docs.deleted,store.size,pri.store.size");
    if (rc)
        return es__url_fail(err);
    rc = es__call(c, "GET", NULL, 0, "listing indices", err);
    if (rc)
        return rc;
    return es_parse_cat_indices(dbuf_cstr(&c->resp.body), c->resp.body.len, out, err);
}
