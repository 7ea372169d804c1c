/*
 * entity.c - entity files: loading and checking them, and the accessors.
 * Mapping items with a loaded entity is in entity_map.c, entity sets in
 * entity_set.c; the loaded form is in entity_internal.h.
 *
 * DESIGN
 * Loading turns the JSON file into a tree of `struct field`, checked in full
 * (unknown keys, wrong types, a "default" no policy uses, nesting deeper
 * than an item can be...) so that mapping never meets a surprise in the
 * definition. Everything mapping writes that does not depend on the item is
 * prepared here: each field's `"name":` text already escaped, defaults and
 * constants already serialised. After loading, nothing in a struct entity
 * changes, which is what makes one const entity safe to share between
 * mapping threads.
 */
#include "entity_internal.h"
#include "ddb2es/ddbjson.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- freeing ---------------------------------------------------------- */

static void free_fields(struct field *f, size_t n)
{
    size_t i, j;

    if (!f)
        return;
    for (i = 0; i < n; i++) {
        free(f[i].name);
        free(f[i].key);
        for (j = 0; f[i].from && j < f[i].nfrom; j++)
            free(f[i].from[j].name);
        free(f[i].from);
        free(f[i].value);
        free_fields(f[i].sub, f[i].nsub);
    }
    free(f);
}

void entity_free(struct entity *e)
{
    size_t i;

    if (!e)
        return;
    free(e->name);
    free(e->description);
    for (i = 0; i < e->ntables; i++)
        free(e->tables[i]);
    free(e->tables);
    free(e->id_attr);
    free(e->version_attr);
    free(e->index_ref);
    free(e->index_path);
    free(e->source);
    free_fields(e->fields, e->nfields);
    free(e);
}

/* ---- loading ----------------------------------------------------------- */

/* Loader context: where messages point. */
struct lctx {
    const char *source;
    struct ddb2es_error *err;
};

#define JPATH_MAX 512

static int lfail(struct lctx *c, const char *jpath, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 3, 4)))
#endif
    ;

static int lfail(struct lctx *c, const char *jpath, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ddb2es_failf(c->err, DDB2ES_E_CONFIG, "%s: %s: %s", c->source, jpath, msg);
}

static int lnomem(struct lctx *c)
{
    return ddb2es_failf(c->err, DDB2ES_E_NOMEM, "%s: out of memory while loading", c->source);
}

/* Marks a path cut short by the buffer with a trailing "...". */
static void jpath_mark_cut(char *dst, size_t cap, int written)
{
    if (written >= 0 && (size_t)written >= cap && cap > 4)
        memcpy(dst + cap - 4, "...", 4);
}

/* JSON path of a member: parent.key, or parent["key"] when key is not a plain name. */
static void jpath_key(char *dst, size_t cap, const char *parent, const char *key)
{
    size_t i, n = strlen(key);
    int plain = n > 0;

    for (i = 0; i < n && plain; i++) {
        char ch = key[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '$' || ch == '@'))
            plain = 0;
    }
    if (plain) {
        jpath_mark_cut(dst, cap, snprintf(dst, cap, "%s.%s", parent, key));
    } else {
        /* Quote a bounded excerpt; control bytes shown as '?'. */
        char q[80];
        size_t k = 0;

        for (i = 0; i < n && k + 2 < sizeof(q); i++) {
            unsigned char ch = (unsigned char)key[i];

            if (ch == '"' || ch == '\\')
                q[k++] = '\\';
            q[k++] = ch < 0x20 ? '?' : (char)ch;
        }
        q[k] = '\0';
        jpath_mark_cut(dst, cap,
                       snprintf(dst, cap, "%s[\"%s\"%s]", parent, q, i < n ? "..." : ""));
    }
}

static void jpath_index(char *dst, size_t cap, const char *parent, size_t i)
{
    int w = snprintf(dst, cap, "%s[%zu]", parent, i);

    jpath_mark_cut(dst, cap, w);
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/*
 * Serialises a JSON value as compact text, numbers in their shortest exact
 * form (jansson's own dump writes 0.1 as 0.10000000000000001).
 */
static int emit_json(struct dbuf *b, const json_t *v)
{
    const char *k;
    size_t klen, i;
    json_t *m;
    int rc = DDB2ES_OK, first = 1;
    char num[64];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        rc = dbuf_putc(b, '{');
        json_object_keylen_foreach((json_t *)v, k, klen, m) {
            if (!rc && !first)
                rc = dbuf_putc(b, ',');
            first = 0;
            if (!rc)
                rc = ddbjson_escape_string(b, k, klen, 0);
            if (!rc)
                rc = dbuf_putc(b, ':');
            if (!rc)
                rc = emit_json(b, m);
            if (rc)
                return rc;
        }
        return rc ? rc : dbuf_putc(b, '}');
    case JSON_ARRAY:
        rc = dbuf_putc(b, '[');
        for (i = 0; !rc && i < json_array_size(v); i++) {
            if (i)
                rc = dbuf_putc(b, ',');
            if (!rc)
                rc = emit_json(b, json_array_get(v, i));
        }
        return rc ? rc : dbuf_putc(b, ']');
    case JSON_STRING:
        return ddbjson_escape_string(b, json_string_value(v), json_string_length(v), 0);
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return dbuf_puts(b, num);
    case JSON_REAL: {
        double d = json_real_value(v);
        int prec;

        for (prec = 1; prec <= 17; prec++) {
            snprintf(num, sizeof(num), "%.*g", prec, d);
            if (strtod(num, NULL) == d)
                break;
        }
        return dbuf_puts(b, num);
    }
    case JSON_TRUE:
        return dbuf_puts(b, "true");
    case JSON_FALSE:
        return dbuf_puts(b, "false");
    case JSON_NULL:
        return dbuf_puts(b, "null");
    }
    return DDB2ES_E_INTERNAL;
}

static int dup_json_text(struct lctx *c, const json_t *v, char **out, size_t *len)
{
    struct dbuf b = DBUF_INIT;
    int rc = emit_json(&b, v);

    if (rc) {
        dbuf_free(&b);
        return lnomem(c);
    }
    *len = b.len;
    *out = dbuf_detach(&b);
    return *out ? DDB2ES_OK : lnomem(c);
}

/* Checks that obj has only keys from `allowed` (NULL-terminated). */
static int check_keys(struct lctx *c, const json_t *obj, const char *jpath,
                      const char *const *allowed, const char *hint)
{
    const char *k;
    json_t *v;
    size_t i;

    json_object_foreach((json_t *)obj, k, v) {
        int ok = 0;

        for (i = 0; allowed[i]; i++)
            if (strcmp(k, allowed[i]) == 0)
                ok = 1;
        if (!ok) {
            char p[JPATH_MAX];

            jpath_key(p, sizeof(p), jpath, k);
            return lfail(c, p, "unknown key (allowed here: %s)", hint);
        }
    }
    return DDB2ES_OK;
}

static int get_string(struct lctx *c, const json_t *obj, const char *jpath, const char *key,
                      int required, const char **out)
{
    const json_t *v = json_object_get(obj, key);
    char p[JPATH_MAX];

    *out = NULL;
    jpath_key(p, sizeof(p), jpath, key);
    if (!v) {
        if (required)
            return lfail(c, p, "missing (expected a string)");
        return DDB2ES_OK;
    }
    if (!json_is_string(v))
        return lfail(c, p, "expected a string, got %s", json_kind(v));
    if (json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v))
        return lfail(c, p, "expected a non-empty string without NUL bytes");
    *out = json_string_value(v);
    return DDB2ES_OK;
}

static int parse_policy(struct lctx *c, const json_t *obj, const char *jpath, const char *key,
                        enum policy def, enum policy *out)
{
    const char *s;
    char p[JPATH_MAX];
    int rc = get_string(c, obj, jpath, key, 0, &s);

    if (rc)
        return rc;
    *out = def;
    if (!s)
        return DDB2ES_OK;
    if (strcmp(s, "null") == 0)
        *out = POL_NULL;
    else if (strcmp(s, "omit") == 0)
        *out = POL_OMIT;
    else if (strcmp(s, "default") == 0)
        *out = POL_DEFAULT;
    else if (strcmp(s, "error") == 0)
        *out = POL_ERROR;
    else {
        jpath_key(p, sizeof(p), jpath, key);
        return lfail(c, p, "unknown policy \"%.40s\" (expected \"null\", \"omit\", \"default\" or "
                           "\"error\")", s);
    }
    return DDB2ES_OK;
}

static int parse_from(struct lctx *c, const json_t *v, const char *jpath, struct field *f)
{
    size_t i, n, start;
    const char *s;

    if (json_is_string(v)) {
        size_t nseg = 1;

        s = json_string_value(v);
        n = json_string_length(v);
        if (n == 0 || strlen(s) != n)
            return lfail(c, jpath, "expected a non-empty attribute path");
        /* "a.b.c": count segments, refuse empty ones ("a..b", ".a"). */
        for (i = 0; i < n; i++)
            if (s[i] == '.')
                nseg++;
        if (nseg > DDBJSON_MAX_DEPTH)
            return lfail(c, jpath, "more than %d path segments", DDBJSON_MAX_DEPTH);
        f->from = calloc(nseg, sizeof(*f->from));
        if (!f->from)
            return lnomem(c);
        f->nfrom = nseg;
        start = 0;
        for (i = 0; i < nseg; i++) {
            const char *dot = memchr(s + start, '.', n - start);
            size_t end = dot ? (size_t)(dot - s) : n;

            if (end == start)
                return lfail(c, jpath, "empty segment in attribute path \"%.80s\" (for a name "
                                       "containing '.', give the path as an array of names)", s);
            f->from[i].name = util_strndup(s + start, end - start);
            if (!f->from[i].name)
                return lnomem(c);
            f->from[i].len = end - start;
            start = end + 1;
        }
        return DDB2ES_OK;
    }
    if (json_is_array(v)) {
        n = json_array_size(v);
        if (n == 0)
            return lfail(c, jpath, "expected a non-empty array of attribute names");
        if (n > DDBJSON_MAX_DEPTH)
            return lfail(c, jpath, "more than %d path segments", DDBJSON_MAX_DEPTH);
        f->from = calloc(n, sizeof(*f->from));
        if (!f->from)
            return lnomem(c);
        f->nfrom = n;
        for (i = 0; i < n; i++) {
            const json_t *e = json_array_get(v, i);
            char p[JPATH_MAX];

            jpath_index(p, sizeof(p), jpath, i);
            if (!json_is_string(e) || json_string_length(e) == 0 ||
                strlen(json_string_value(e)) != json_string_length(e))
                return lfail(c, p, "expected a non-empty string");
            f->from[i].name = util_strdup(json_string_value(e));
            if (!f->from[i].name)
                return lnomem(c);
            f->from[i].len = json_string_length(e);
        }
        return DDB2ES_OK;
    }
    return lfail(c, jpath, "expected a string or an array of strings, got %s", json_kind(v));
}

static int load_fields(struct lctx *c, const json_t *obj, const char *jpath, int budget,
                       struct field **out, size_t *nout);

static const char *const field_keys[] = {"from", "type", "missing", "null", "mismatch", "default",
                                         "fields", "const", "compute", "comment", NULL};

/*
 * Loads one field. `budget` is how many more item levels the definition may
 * reach: each "from" segment and each list level uses one, so no entity can
 * ask for a path deeper than an item can be.
 */
static int load_field(struct lctx *c, const char *name, const json_t *def, const char *jpath,
                      int budget, struct field *f)
{
    const json_t *v, *from, *cnst, *comp, *dflt, *sub;
    const char *s;
    char p[JPATH_MAX];
    struct dbuf kb = DBUF_INIT;
    int rc, used;

    if (!json_is_object(def))
        return lfail(c, jpath, "expected an object describing the field, got %s", json_kind(def));
    rc = check_keys(c, def, jpath, field_keys,
                    "from, type, missing, null, mismatch, default, fields, const, compute, comment");
    if (rc)
        return rc;
    f->name = util_strdup(name);
    if (!f->name)
        return lnomem(c);
    rc = ddbjson_escape_string(&kb, name, strlen(name), 0);
    if (!rc)
        rc = dbuf_putc(&kb, ':');
    if (rc) {
        dbuf_free(&kb);
        return lnomem(c);
    }
    f->key_len = kb.len;
    f->key = dbuf_detach(&kb);
    if (!f->key)
        return lnomem(c);

    v = json_object_get(def, "comment");
    if (v && !json_is_string(v)) {
        jpath_key(p, sizeof(p), jpath, "comment");
        return lfail(c, p, "expected a string, got %s", json_kind(v));
    }
    from = json_object_get(def, "from");
    cnst = json_object_get(def, "const");
    comp = json_object_get(def, "compute");
    dflt = json_object_get(def, "default");
    sub = json_object_get(def, "fields");

    if (cnst) {
        static const char *const only[] = {"const", "comment", NULL};

        rc = check_keys(c, def, jpath, only, "a \"const\" field takes only const and comment");
        if (rc)
            return rc;
        f->kind = FK_CONST;
        return dup_json_text(c, cnst, &f->value, &f->value_len);
    }
    if (!from) {
        jpath_key(p, sizeof(p), jpath, "from");
        return lfail(c, p, "missing (every field needs \"from\", \"const\" or \"compute\" + "
                           "\"from\")");
    }
    jpath_key(p, sizeof(p), jpath, "from");
    rc = parse_from(c, from, p, f);
    if (rc)
        return rc;
    used = (int)f->nfrom;
    if (used > budget)
        return lfail(c, p, "reaches deeper than an item can nest (%d levels)", DDBJSON_MAX_DEPTH);

    if (comp) {
        static const char *const only[] = {"compute", "from", "comment", NULL};

        rc = check_keys(c, def, jpath, only, "a \"compute\" field takes only compute, from and "
                                            "comment");
        if (rc)
            return rc;
        f->kind = FK_COMPUTE;
        jpath_key(p, sizeof(p), jpath, "compute");
        if (!json_is_string(comp))
            return lfail(c, p, "expected a string, got %s", json_kind(comp));
        if (strcmp(json_string_value(comp), "tenure_active") == 0)
            f->compute = CP_TENURE_ACTIVE;
        else
            return lfail(c, p, "unknown computation \"%.40s\" (known: \"tenure_active\")",
                         json_string_value(comp));
        return DDB2ES_OK;
    }

    f->kind = FK_ATTR;
    rc = get_string(c, def, jpath, "type", 0, &s);
    if (rc)
        return rc;
    if (!s || strcmp(s, "string") == 0)
        f->type = FT_STRING;
    else if (strcmp(s, "number") == 0)
        f->type = FT_NUMBER;
    else if (strcmp(s, "boolean") == 0)
        f->type = FT_BOOLEAN;
    else if (strcmp(s, "string_list") == 0)
        f->type = FT_STRING_LIST;
    else if (strcmp(s, "raw") == 0)
        f->type = FT_RAW;
    else if (strcmp(s, "object") == 0)
        f->type = FT_OBJECT;
    else if (strcmp(s, "list") == 0)
        f->type = FT_LIST;
    else {
        jpath_key(p, sizeof(p), jpath, "type");
        return lfail(c, p, "unknown type \"%.40s\" (expected string, number, boolean, "
                           "string_list, raw, object or list)", s);
    }
    rc = parse_policy(c, def, jpath, "missing", POL_NULL, &f->on_missing);
    if (!rc)
        rc = parse_policy(c, def, jpath, "null", POL_NULL, &f->on_null);
    if (!rc)
        rc = parse_policy(c, def, jpath, "mismatch", POL_ERROR, &f->on_mismatch);
    if (rc)
        return rc;
    if (f->on_missing == POL_DEFAULT || f->on_null == POL_DEFAULT ||
        f->on_mismatch == POL_DEFAULT) {
        if (!dflt) {
            jpath_key(p, sizeof(p), jpath, "default");
            return lfail(c, p, "missing (a policy says \"default\")");
        }
        rc = dup_json_text(c, dflt, &f->value, &f->value_len);
        if (rc)
            return rc;
    } else if (dflt) {
        jpath_key(p, sizeof(p), jpath, "default");
        return lfail(c, p, "given but no policy uses it (set \"missing\", \"null\" or "
                           "\"mismatch\" to \"default\")");
    }

    jpath_key(p, sizeof(p), jpath, "fields");
    if (f->type == FT_OBJECT || f->type == FT_LIST) {
        if (!sub)
            return lfail(c, p, "missing (an %s field needs its member fields)",
                         f->type == FT_OBJECT ? "object" : "list");
        /* A list's elements are one level below the list itself. */
        return load_fields(c, sub, p, budget - used - (f->type == FT_LIST), &f->sub, &f->nsub);
    }
    if (sub)
        return lfail(c, p, "only object and list fields have member fields");
    return DDB2ES_OK;
}

static int load_fields(struct lctx *c, const json_t *obj, const char *jpath, int budget,
                       struct field **out, size_t *nout)
{
    const char *k;
    json_t *v;
    size_t i = 0, n;
    int rc;

    *out = NULL;
    *nout = 0;
    if (!json_is_object(obj))
        return lfail(c, jpath, "expected an object of field name -> field, got %s",
                     json_kind(obj));
    n = json_object_size(obj);
    if (n == 0)
        return lfail(c, jpath, "expected at least one field");
    if (budget < 1)
        return lfail(c, jpath, "nested deeper than an item can be (%d levels)",
                     DDBJSON_MAX_DEPTH);
    *out = calloc(n, sizeof(**out));
    if (!*out)
        return lnomem(c);
    /* Count as we go so that free_fields() releases exactly what was set. */
    json_object_foreach((json_t *)obj, k, v) {
        char p[JPATH_MAX];

        jpath_key(p, sizeof(p), jpath, k);
        *nout = i + 1;
        if (k[0] == '\0')
            return lfail(c, p, "empty field name");
        rc = load_field(c, k, v, p, budget, &(*out)[i]);
        if (rc)
            return rc;
        i++;
    }
    return DDB2ES_OK;
}

static int valid_name(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* DynamoDB table names: 3 to 255 of [a-zA-Z0-9_.-]. */
static int valid_table(const char *s, size_t n)
{
    size_t i;

    if (n < 3 || n > 255)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

static char *resolve_index(const char *source, const char *ref)
{
    const char *slash;
    size_t dlen;
    char *p;

    if (ref[0] == '/')
        return util_strdup(ref);
    slash = strrchr(source, '/');
    if (!slash)
        return util_strdup(ref);
    dlen = (size_t)(slash - source) + 1;
    p = malloc(dlen + strlen(ref) + 1);
    if (!p)
        return NULL;
    memcpy(p, source, dlen);
    memcpy(p + dlen, ref, strlen(ref) + 1);
    return p;
}

static const char *const top_keys[] = {"name", "description", "comment", "tables", "id",
                                       "version", "index", "fields", NULL};

static int load_root(struct lctx *c, const json_t *root, struct entity *e)
{
    const json_t *v;
    const char *s;
    char p[JPATH_MAX];
    size_t i;
    int rc;

    if (!json_is_object(root))
        return lfail(c, "$", "expected an object, got %s", json_kind(root));
    rc = check_keys(c, root, "$", top_keys,
                    "name, description, comment, tables, id, version, index, fields");
    if (rc)
        return rc;
    rc = get_string(c, root, "$", "name", 1, &s);
    if (rc)
        return rc;
    if (!valid_name(s))
        return lfail(c, "$.name", "\"%.80s\" is not a valid name (1 to 64 of a-z A-Z 0-9 _ -)",
                     s);
    e->name = util_strdup(s);
    if (!e->name)
        return lnomem(c);

    v = json_object_get(root, "description");
    if (v && !json_is_string(v))
        return lfail(c, "$.description", "expected a string, got %s", json_kind(v));
    e->description = util_strdup(v ? json_string_value(v) : "");
    if (!e->description)
        return lnomem(c);
    v = json_object_get(root, "comment");
    if (v && !json_is_string(v))
        return lfail(c, "$.comment", "expected a string, got %s", json_kind(v));

    v = json_object_get(root, "tables");
    if (!v)
        return lfail(c, "$.tables", "missing (expected an array of DynamoDB table names)");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return lfail(c, "$.tables", "expected a non-empty array of table names, got %s",
                     json_kind(v));
    e->tables = calloc(json_array_size(v), sizeof(*e->tables));
    if (!e->tables)
        return lnomem(c);
    for (i = 0; i < json_array_size(v); i++) {
        const json_t *t = json_array_get(v, i);

        jpath_index(p, sizeof(p), "$.tables", i);
        if (!json_is_string(t))
            return lfail(c, p, "expected a string, got %s", json_kind(t));
        if (!valid_table(json_string_value(t), json_string_length(t)))
            return lfail(c, p, "\"%.80s\" is not a DynamoDB table name (3 to 255 of a-z A-Z 0-9 "
                               "_ . -)", json_string_value(t));
        e->tables[i] = util_strdup(json_string_value(t));
        if (!e->tables[i])
            return lnomem(c);
        e->ntables = i + 1;
    }

    rc = get_string(c, root, "$", "id", 1, &s);
    if (rc)
        return rc;
    e->id_attr = util_strdup(s);
    if (!e->id_attr)
        return lnomem(c);
    e->id_attr_len = strlen(s);

    v = json_object_get(root, "version");
    if (v && !json_is_null(v)) {
        rc = get_string(c, root, "$", "version", 1, &s);
        if (rc)
            return rc;
        e->version_attr = util_strdup(s);
        if (!e->version_attr)
            return lnomem(c);
    }

    rc = get_string(c, root, "$", "index", 1, &s);
    if (rc)
        return rc;
    e->index_ref = util_strdup(s);
    e->index_path = resolve_index(c->source, s);
    if (!e->index_ref || !e->index_path)
        return lnomem(c);

    v = json_object_get(root, "fields");
    if (!v)
        return lfail(c, "$.fields", "missing (expected an object of field name -> field)");
    return load_fields(c, v, "$.fields", DDBJSON_MAX_DEPTH, &e->fields, &e->nfields);
}

static int load_json(json_t *root, const char *source, struct entity **out,
                     struct ddb2es_error *err)
{
    struct lctx c;
    struct entity *e;
    int rc;

    c.source = source;
    c.err = err;
    e = calloc(1, sizeof(*e));
    if (!e)
        return lnomem(&c);
    e->source = util_strdup(source);
    if (!e->source) {
        entity_free(e);
        return lnomem(&c);
    }
    rc = load_root(&c, root, e);
    if (rc) {
        entity_free(e);
        return rc;
    }
    *out = e;
    return DDB2ES_OK;
}

/* Duplicate keys would silently drop a field: refuse them. */
#define ENTITY_JSON_FLAGS (JSON_REJECT_DUPLICATES)

int entity_load_buffer(const char *text, size_t len, const char *source, struct entity **out,
                       struct ddb2es_error *err)
{
    json_error_t je;
    json_t *root;
    int rc;

    *out = NULL;
    if (!source)
        source = "(memory)";
    root = json_loadb(text, len, ENTITY_JSON_FLAGS, &je);
    if (!root)
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s:%d:%d: not valid JSON: %s", source,
                            je.line, je.column, je.text);
    rc = load_json(root, source, out, err);
    json_decref(root);
    return rc;
}

int entity_load_file(const char *path, struct entity **out, struct ddb2es_error *err)
{
    json_error_t je;
    json_t *root;
    int rc;

    *out = NULL;
    root = json_load_file(path, ENTITY_JSON_FLAGS, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_cannot_open_file)
            return ddb2es_failf(err, DDB2ES_E_IO, "cannot read entity file %s: %s", path,
                                je.text);
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s:%d:%d: not valid JSON: %s", path,
                            je.line, je.column, je.text);
    }
    rc = load_json(root, path, out, err);
    json_decref(root);
    return rc;
}

/* ---- accessors --------------------------------------------------------- */

const char *entity_name(const struct entity *e) { return e->name; }
const char *entity_description(const struct entity *e) { return e->description; }
size_t entity_table_count(const struct entity *e) { return e->ntables; }
const char *entity_id_attribute(const struct entity *e) { return e->id_attr; }
const char *entity_version_attribute(const struct entity *e) { return e->version_attr; }
const char *entity_index_ref(const struct entity *e) { return e->index_ref; }
const char *entity_index_path(const struct entity *e) { return e->index_path; }
const char *entity_source_path(const struct entity *e) { return e->source; }
size_t entity_field_count(const struct entity *e) { return e->nfields; }

const char *entity_table(const struct entity *e, size_t i)
{
    return i < e->ntables ? e->tables[i] : NULL;
}

const char *entity_field_name(const struct entity *e, size_t i)
{
    return i < e->nfields ? e->fields[i].name : NULL;
}

int entity_matches_table(const struct entity *e, const char *table)
{
    size_t i;

    for (i = 0; i < e->ntables; i++)
        if (strcmp(e->tables[i], table) == 0)
            return 1;
    return 0;
}
