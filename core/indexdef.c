/*
 * indexdef.c - index definitions: loading, creating a missing index from one,
 * and comparing an existing index's mapping with it. See ddb2es/indexdef.h.
 *
 * DESIGN
 * The definition is kept as the jansson tree it was read into (it is small:
 * a few hundred fields at most) plus its compact text, which is the body of
 * PUT /<index>. Loading checks only what the comparison and Elasticsearch
 * rely on (object shapes, "type" strings), naming the file and JSON path of
 * a problem; Elasticsearch itself judges the rest when it creates the index.
 *
 * Comparing walks the definition, never the index, so fields that dynamic
 * mapping added to the index cost nothing and are never reported. At each
 * field the types are compared first; a different type ends the walk there
 * except between the two object kinds (object / nested), whose children are
 * still worth comparing. Analyzer names are compared with Elasticsearch's
 * fallbacks applied on both sides (search_analyzer defaults to analyzer,
 * search_quote_analyzer to search_analyzer, an absent analyzer is "default")
 * because GET _mapping leaves out what equals its fallback.
 */
#include "ddb2es/indexdef.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/entity.h"
#include "ddb2es/es.h"
#include "util.h"

/* ---- loading ------------------------------------------------------------ */

/* Checks an object of field definitions (properties or multi-fields), recursively. */
static int check_fields(const json_t *props, struct dbuf *path, const char *src, struct ddb2es_error *err);

static int check_field(const json_t *spec, struct dbuf *path, const char *src, struct ddb2es_error *err)
{
    /* an object's fields, and a field's multi-fields ("name.keyword") */
    static const char *const nested[] = {"properties", "fields"};
    const json_t *t, *sub;
    size_t mark = path->len, i;
    int rc;

    if (!json_is_object(spec))
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s: %s: expected an object (a field definition)", src,
                            dbuf_cstr(path));
    t = json_object_get(spec, "type");
    if (t && !json_is_string(t))
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s: %s.type: expected a string", src, dbuf_cstr(path));
    for (i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
        sub = json_object_get(spec, nested[i]);
        if (!sub)
            continue;
        rc = dbuf_printf(path, ".%s", nested[i]);
        if (!rc)
            rc = check_fields(sub, path, src, err);
        else
            rc = ddb2es_failf(err, rc, "out of memory reading %s", src);
        path->len = mark;
        path->data[mark] = '\0';
        if (rc)
            return rc;
    }
    return DDB2ES_OK;
}

static int check_fields(const json_t *props, struct dbuf *path, const char *src, struct ddb2es_error *err)
{
    const char *name;
    const json_t *spec;
    size_t mark = path->len;
    int rc = DDB2ES_OK;

    if (!json_is_object(props))
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s: %s: expected an object of field definitions", src,
                            dbuf_cstr(path));
    json_object_foreach((json_t *)props, name, spec) {
        if (!*name)
            return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s: %s: a field with an empty name", src, dbuf_cstr(path));
        rc = dbuf_printf(path, ".%s", name);
        if (rc)
            return ddb2es_failf(err, rc, "out of memory reading %s", src);
        rc = check_field(spec, path, src, err);
        path->len = mark;
        path->data[mark] = '\0';
        if (rc)
            return rc;
    }
    return DDB2ES_OK;
}

static int check_definition(const json_t *root, const char *src, struct ddb2es_error *err)
{
    struct dbuf path = DBUF_INIT;
    const char *key;
    const json_t *v, *props;
    int rc = DDB2ES_OK;

    if (!json_is_object(root))
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s: $: expected an object with \"mappings\" and \"settings\"",
                            src);
    json_object_foreach((json_t *)root, key, v) {
        if (strcmp(key, "settings") != 0 && strcmp(key, "mappings") != 0 && strcmp(key, "aliases") != 0)
            return ddb2es_failf(err, DDB2ES_E_CONFIG,
                                "%s: $.%s: unknown key (an index definition holds settings, mappings, aliases)",
                                src, key);
        if (!json_is_object(v))
            return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s: $.%s: expected an object", src, key);
    }
    v = json_object_get(root, "mappings");
    if (!v)
        return DDB2ES_OK;
    props = json_object_get(v, "properties");
    if (!props) {
        const char *k;
        const json_t *inner;
        json_object_foreach((json_t *)v, k, inner) {
            if (json_is_object(inner) && json_object_get(inner, "properties"))
                return ddb2es_failf(err, DDB2ES_E_CONFIG,
                                    "%s: $.mappings.%s: a mapping type level (Elasticsearch 6); put the fields "
                                    "in $.mappings.properties",
                                    src, k);
        }
        return DDB2ES_OK;
    }
    rc = dbuf_puts(&path, "$.mappings.properties");
    if (rc)
        return ddb2es_failf(err, rc, "out of memory reading %s", src);
    rc = check_fields(props, &path, src, err);
    dbuf_free(&path);
    return rc;
}

void indexdef_free(struct indexdef *d)
{
    if (!d)
        return;
    free(d->path);
    json_decref(d->body);
    free(d->body_text);
    free(d);
}

int indexdef_load_buffer(const char *text, size_t len, const char *source, struct indexdef **out,
                         struct ddb2es_error *err)
{
    struct indexdef *d;
    json_error_t je;
    const json_t *m;
    const char *src = source ? source : "(memory)";
    int rc;

    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading %s", src);
    d->path = util_strdup(src);
    if (!d->path) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading %s", src);
        goto fail;
    }
    d->body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!d->body) {
        rc = ddb2es_failf(err, DDB2ES_E_CONFIG, "%s:%d:%d: not valid JSON: %s", src, je.line, je.column, je.text);
        goto fail;
    }
    rc = check_definition(d->body, src, err);
    if (rc)
        goto fail;
    m = json_object_get(d->body, "mappings");
    if (!m) {
        /* an empty mappings object, so callers never meet NULL */
        if (json_object_set_new(d->body, "mappings", json_object()) != 0) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading %s", src);
            goto fail;
        }
        m = json_object_get(d->body, "mappings");
    }
    d->mappings = m;
    d->body_text = json_dumps(d->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!d->body_text) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading %s", src);
        goto fail;
    }
    *out = d;
    return DDB2ES_OK;
fail:
    indexdef_free(d);
    return rc;
}

int indexdef_load_file(const char *path, struct indexdef **out, struct ddb2es_error *err)
{
    struct dbuf text = DBUF_INIT;
    FILE *f;
    char chunk[16384];
    size_t n;
    int rc = DDB2ES_OK;

    *out = NULL;
    f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return ddb2es_failf(err, DDB2ES_E_NOTFOUND, "no index definition at %s", path);
        return ddb2es_failf(err, DDB2ES_E_IO, "cannot open the index definition %s: %s", path, strerror(errno));
    }
    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0)
            break;
        rc = dbuf_append(&text, chunk, n);
        if (rc) {
            rc = ddb2es_failf(err, rc, "out of memory reading %s", path);
            goto out;
        }
    }
    if (ferror(f)) {
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot read the index definition %s: %s", path, strerror(errno));
        goto out;
    }
    rc = indexdef_load_buffer(text.data ? text.data : "", text.len, path, out, err);
out:
    fclose(f);
    dbuf_free(&text);
    return rc;
}

/* ---- reports -------------------------------------------------------------- */

const char *indexdef_outcome_name(enum indexdef_outcome o)
{
    switch (o) {
    case INDEXDEF_WILL_CREATE: return "will-create";
    case INDEXDEF_CREATED: return "created";
    case INDEXDEF_EXISTS_MATCHES: return "exists-matches";
    case INDEXDEF_EXISTS_DIFFERS: return "exists-differs";
    case INDEXDEF_NO_DEFINITION: return "no-definition";
    }
    return "unknown";
}

void indexdef_report_init(struct indexdef_report *r)
{
    memset(r, 0, sizeof(*r));
}

static void diff_free(struct indexdef_diff *d)
{
    free(d->path);
    free(d->what);
    free(d->expected);
    free(d->actual);
    free(d->text);
}

void indexdef_report_free(struct indexdef_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ndiffs; i++)
        diff_free(&r->diffs[i]);
    free(r->diffs);
    free(r->index);
    free(r->concrete_index);
    free(r->definition_path);
    indexdef_report_init(r);
}

static int add_diff(struct indexdef_report *r, enum indexdef_diff_kind kind, const char *path, const char *what,
                    const char *expected, const char *actual)
{
    struct indexdef_diff d;
    struct dbuf text = DBUF_INIT;
    int rc;

    if (r->ndiffs == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct indexdef_diff *v = realloc(r->diffs, cap * sizeof(*v));
        if (!v)
            return DDB2ES_E_NOMEM;
        r->diffs = v;
        r->cap = cap;
    }
    memset(&d, 0, sizeof(d));
    d.kind = kind;
    if (kind == INDEXDEF_DIFF_MISSING)
        rc = dbuf_printf(&text, "%s: expected type %s, missing from the index", path, expected);
    else
        rc = dbuf_printf(&text, "%s: expected %s %s, index has %s", path, what, expected, actual);
    d.path = util_strdup(path);
    d.what = util_strdup(what);
    d.expected = util_strdup(expected);
    d.actual = actual ? util_strdup(actual) : NULL;
    d.text = rc ? NULL : dbuf_detach(&text);
    dbuf_free(&text);
    if (!d.path || !d.what || !d.expected || (actual && !d.actual) || !d.text) {
        diff_free(&d);
        return DDB2ES_E_NOMEM;
    }
    r->diffs[r->ndiffs++] = d;
    return DDB2ES_OK;
}

/* ---- comparing ------------------------------------------------------------- */

static const char *field_type(const json_t *spec)
{
    const char *t = json_string_value(json_object_get(spec, "type"));

    return t ? t : "object";
}

static int is_object_kind(const char *t)
{
    return strcmp(t, "object") == 0 || strcmp(t, "nested") == 0;
}

/* A parameter value as text for comparing and showing: strings as they are,
 * true/false, numbers in decimal. */
static void param_text(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else if (json_is_true(v))
        snprintf(buf, cap, "true");
    else if (json_is_false(v))
        snprintf(buf, cap, "false");
    else if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.17g", json_real_value(v));
    else if (json_is_null(v))
        snprintf(buf, cap, "null");
    else
        snprintf(buf, cap, "(an %s)", json_is_array(v) ? "array" : "object");
}

/* The analyzers with Elasticsearch's fallbacks (GET _mapping omits what equals them). */
struct analyzers {
    const char *analyzer, *search, *search_quote, *normalizer;
};

static void effective_analyzers(const json_t *spec, struct analyzers *a)
{
    const char *s;

    s = json_string_value(json_object_get(spec, "analyzer"));
    a->analyzer = s ? s : "default";
    s = json_string_value(json_object_get(spec, "search_analyzer"));
    a->search = s ? s : a->analyzer;
    s = json_string_value(json_object_get(spec, "search_quote_analyzer"));
    a->search_quote = s ? s : a->search;
    s = json_string_value(json_object_get(spec, "normalizer"));
    a->normalizer = s ? s : "none";
}

/* What an index reports for a parameter it does not list: its default. */
static const char *param_default(const char *param, const char *type)
{
    if (strcmp(param, "ignore_malformed") == 0)
        return "false";
    if (strcmp(param, "format") == 0) {
        if (strcmp(type, "date") == 0)
            return "strict_date_optional_time||epoch_millis";
        if (strcmp(type, "date_nanos") == 0)
            return "strict_date_optional_time_nanos||epoch_millis";
    }
    return "(not set)";
}

static int compare_fields(const json_t *def, const json_t *idx, struct dbuf *path, const char *sep,
                          struct indexdef_report *r);

static int compare_field(const json_t *d, const json_t *i, struct dbuf *path, struct indexdef_report *r)
{
    static const char *const params[] = {"format", "ignore_malformed"};
    const char *dt = field_type(d), *it = field_type(i);
    struct analyzers da, ia;
    const json_t *dsub;
    int rc;

    if (strcmp(dt, it) != 0) {
        rc = add_diff(r, INDEXDEF_DIFF_TYPE, dbuf_cstr(path), "type", dt, it);
        if (rc || !(is_object_kind(dt) && is_object_kind(it)))
            return rc;
    } else {
        effective_analyzers(d, &da);
        effective_analyzers(i, &ia);
        if (strcmp(da.analyzer, ia.analyzer) != 0)
            rc = add_diff(r, INDEXDEF_DIFF_PARAM, dbuf_cstr(path), "analyzer", da.analyzer, ia.analyzer);
        else if (strcmp(da.search, ia.search) != 0)
            rc = add_diff(r, INDEXDEF_DIFF_PARAM, dbuf_cstr(path), "search_analyzer", da.search, ia.search);
        else if (strcmp(da.search_quote, ia.search_quote) != 0)
            rc = add_diff(r, INDEXDEF_DIFF_PARAM, dbuf_cstr(path), "search_quote_analyzer", da.search_quote,
                          ia.search_quote);
        else
            rc = DDB2ES_OK;
        if (!rc && strcmp(da.normalizer, ia.normalizer) != 0)
            rc = add_diff(r, INDEXDEF_DIFF_PARAM, dbuf_cstr(path), "normalizer", da.normalizer, ia.normalizer);
        for (size_t k = 0; !rc && k < sizeof(params) / sizeof(params[0]); k++) {
            const json_t *dv = json_object_get(d, params[k]), *iv = json_object_get(i, params[k]);
            char want[256], have[256];
            if (!dv)
                continue;
            param_text(dv, want, sizeof(want));
            if (iv)
                param_text(iv, have, sizeof(have));
            else
                snprintf(have, sizeof(have), "%s", param_default(params[k], it));
            if (strcmp(want, have) != 0)
                rc = add_diff(r, INDEXDEF_DIFF_PARAM, dbuf_cstr(path), params[k], want, have);
        }
        if (rc)
            return rc;
    }
    dsub = json_object_get(d, "properties");
    if (dsub) {
        rc = compare_fields(dsub, json_object_get(i, "properties"), path, ".", r);
        if (rc)
            return rc;
    }
    dsub = json_object_get(d, "fields");
    if (dsub) {
        rc = compare_fields(dsub, json_object_get(i, "fields"), path, ".", r);
        if (rc)
            return rc;
    }
    return DDB2ES_OK;
}

/* Each field of `def` (an object of field definitions) against `idx` (the
 * index's, or NULL when it has none), paths prefixed by *path + sep. */
static int compare_fields(const json_t *def, const json_t *idx, struct dbuf *path, const char *sep,
                          struct indexdef_report *r)
{
    const char *name;
    const json_t *d;
    size_t mark = path->len;
    int rc = DDB2ES_OK;

    json_object_foreach((json_t *)def, name, d) {
        const json_t *i = json_is_object(idx) ? json_object_get(idx, name) : NULL;
        rc = dbuf_printf(path, "%s%s", mark ? sep : "", name);
        if (rc)
            return rc;
        if (!json_is_object(i))
            rc = add_diff(r, INDEXDEF_DIFF_MISSING, dbuf_cstr(path), "type", field_type(d), NULL);
        else if (json_is_object(d))
            rc = compare_field(d, i, path, r);
        path->len = mark;
        if (path->data)
            path->data[mark] = '\0';
        if (rc)
            return rc;
    }
    return DDB2ES_OK;
}

/* Keys of a mappings object itself (not a type name of Elasticsearch 6). */
static int is_root_key(const char *k)
{
    static const char *const keys[] = {"properties", "dynamic", "dynamic_templates", "date_detection",
                                       "numeric_detection", "dynamic_date_formats", "_source", "_routing",
                                       "_meta", "_field_names", "_all", "runtime", "enabled",
                                       "_data_stream_timestamp", "_size", "subobjects"};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(k, keys[i]) == 0)
            return 1;
    return 0;
}

/* The index's root mapping, below an Elasticsearch 6 type level when there is one. */
static const json_t *unwrap_type(const json_t *idx)
{
    const char *k;
    const json_t *v;

    if (!json_is_object(idx) || json_object_get(idx, "properties") || json_object_size(idx) != 1)
        return idx;
    json_object_foreach((json_t *)idx, k, v) {
        if (!is_root_key(k) && json_is_object(v))
            return v;
    }
    return idx;
}

int indexdef_compare(const json_t *def, const json_t *idx, struct indexdef_report *out,
                     struct ddb2es_error *err)
{
    struct dbuf path = DBUF_INIT;
    const json_t *props = json_object_get(def, "properties");
    int rc = DDB2ES_OK;

    idx = unwrap_type(idx);
    if (json_is_object(props))
        rc = compare_fields(props, json_object_get(idx, "properties"), &path, ".", out);
    dbuf_free(&path);
    if (rc)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing mappings");
    out->outcome = out->ndiffs ? INDEXDEF_EXISTS_DIFFERS : INDEXDEF_EXISTS_MATCHES;
    return DDB2ES_OK;
}

/* ---- preparing a target ------------------------------------------------------ */

static int compare_existing(struct es_client *es, const char *index, const struct indexdef *d,
                            struct indexdef_report *out, struct ddb2es_error *err)
{
    char *mapping = NULL, *concrete = NULL;
    json_t *m = NULL;
    json_error_t je;
    int rc;

    rc = es_get_mapping(es, index, &mapping, &concrete, err);
    if (rc)
        goto out;
    m = json_loads(mapping, 0, &je);
    if (!m) {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "reading the mapping of '%s': not JSON: %s", index, je.text);
        goto out;
    }
    free(out->concrete_index);
    out->concrete_index = concrete;
    concrete = NULL;
    rc = indexdef_compare(d->mappings, m, out, err);
out:
    json_decref(m);
    free(mapping);
    free(concrete);
    return rc;
}

int indexdef_prepare(struct es_client *es, const char *index, const struct entity *e, int create_if_missing,
                     struct indexdef_report *out, struct ddb2es_error *err)
{
    struct indexdef *d = NULL;
    const char *defpath = entity_index_path(e);
    bool exists = false, already = false;
    int rc;

    indexdef_report_free(out);
    out->index = util_strdup(index);
    out->definition_path = util_strdup(defpath);
    if (!out->index || !out->definition_path)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory preparing index '%s'", index);
    rc = indexdef_load_file(defpath, &d, err);
    if (rc == DDB2ES_E_NOTFOUND) {
        ddb2es_error_clear(err);
        rc = DDB2ES_OK;
    }
    if (rc)
        return rc;
    if (d) {
        /* "assets/entities/../indices/x.json" reads better as the file it is */
        char *real = realpath(defpath, NULL);
        if (real) {
            free(out->definition_path);
            out->definition_path = real;
        }
    }
    rc = es_index_exists(es, index, &exists, err);
    if (rc)
        goto out;
    out->index_exists = exists;
    if (!d) {
        out->outcome = INDEXDEF_NO_DEFINITION;
        if (!exists && create_if_missing) {
            /* what auto-creation would do, but also for an empty table and
             * on clusters that refuse auto-creation */
            rc = es_index_create(es, index, NULL, &already, err);
            out->created = rc == DDB2ES_OK && !already;
        }
        goto out;
    }
    if (!exists) {
        if (!create_if_missing) {
            out->outcome = INDEXDEF_WILL_CREATE;
            goto out;
        }
        rc = es_index_create(es, index, d->body_text, &already, err);
        if (rc)
            goto out;
        if (!already) {
            out->outcome = INDEXDEF_CREATED;
            out->created = true;
            out->concrete_index = util_strdup(index);
            if (!out->concrete_index)
                rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory preparing index '%s'", index);
            goto out;
        }
        /* created by someone else between the two requests: compare it */
        out->index_exists = true;
    }
    rc = compare_existing(es, index, d, out, err);
out:
    indexdef_free(d);
    return rc;
}

int indexdef_report_describe(const struct indexdef_report *r, struct dbuf *out)
{
    const char *idx = r->index ? r->index : "?";
    const char *def = r->definition_path ? r->definition_path : "?";
    char where[600];
    int rc = DDB2ES_OK;

    if (r->concrete_index && r->index && strcmp(r->concrete_index, r->index) != 0)
        snprintf(where, sizeof(where), "index '%s' (alias '%s')", r->concrete_index, r->index);
    else
        snprintf(where, sizeof(where), "index '%s'", idx);
    switch (r->outcome) {
    case INDEXDEF_WILL_CREATE:
        rc = dbuf_printf(out, "%s does not exist: it will be created from %s\n", where, def);
        break;
    case INDEXDEF_CREATED:
        rc = dbuf_printf(out, "%s did not exist: created from %s\n", where, def);
        break;
    case INDEXDEF_EXISTS_MATCHES:
        rc = dbuf_printf(out, "%s exists and its mapping covers %s\n", where, def);
        break;
    case INDEXDEF_EXISTS_DIFFERS:
        rc = dbuf_printf(out,
                         "%s exists but its mapping differs from %s in %zu field%s (a sync does not change "
                         "an existing mapping: documents may be refused or searched differently):\n",
                         where, def, r->ndiffs, r->ndiffs == 1 ? "" : "s");
        for (size_t i = 0; !rc && i < r->ndiffs; i++)
            rc = dbuf_printf(out, "  %s\n", r->diffs[i].text);
        break;
    case INDEXDEF_NO_DEFINITION:
        if (r->created)
            rc = dbuf_printf(out,
                             "%s did not exist: created empty, with no index definition at %s: Elasticsearch "
                             "maps the fields dynamically\n",
                             where, def);
        else if (r->index_exists)
            rc = dbuf_printf(out, "%s exists; there is no index definition at %s, so its mapping is not checked\n",
                             where, def);
        else
            rc = dbuf_printf(out,
                             "%s does not exist and there is no index definition at %s: Elasticsearch will "
                             "create it with the first documents and map their fields dynamically\n",
                             where, def);
        break;
    }
    return rc;
}
