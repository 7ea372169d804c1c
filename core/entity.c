/*
 * entity.c - entity files: loading, checking, and mapping items to documents.
 *
 * DESIGN
 * Loading turns the JSON file into a tree of `struct field`, checked in full
 * (unknown keys, wrong types, a "default" no policy uses, nesting deeper
 * than an item can be...) so that mapping never meets a surprise in the
 * definition. Everything mapping writes that does not depend on the item is
 * prepared here: each field's `"name":` text already escaped, defaults and
 * constants already serialised. After loading, nothing in a struct entity
 * changes; mapping state (the attribute path, the output marks) lives on the
 * mapping call's stack, which is what makes one const entity safe to share
 * between mapping threads.
 *
 * Mapping walks the entity's fields, not the item: each field looks up its
 * attribute by key, so an item's other attributes cost nothing. Output goes
 * straight into the caller's dbuf. A field whose value turns out not to fit
 * after part of it was written (element 3 of a list is not a map) is cut
 * back to where it started, then its "mismatch" policy decides (null, omit,
 * default, or an error naming the attribute path).
 *
 * Policies per field (see assets/entities/README.md for the file format):
 *   missing   the attribute (or a map on the way to it) is absent or NULL-on-
 *             the-way; default: null
 *   null      the attribute is present and NULL; default: null
 *   mismatch  the attribute has a type the field cannot use; default: error
 * A malformed AttributeValue or an invalid number is always an error: that
 * is a broken response, not an item shape.
 */
#include "ddb2es/entity.h"
#include "ddb2es/ddbjson.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the loaded form --------------------------------------------------- */

enum fkind {
    FK_ATTR,     /* value from an attribute ("from") */
    FK_CONST,    /* constant ("const") */
    FK_COMPUTE   /* computed ("compute" + "from") */
};

enum ftype {
    FT_STRING,
    FT_NUMBER,
    FT_BOOLEAN,
    FT_STRING_LIST,
    FT_RAW,
    FT_OBJECT,
    FT_LIST
};

enum policy {
    POL_NULL,
    POL_OMIT,
    POL_DEFAULT,
    POL_ERROR
};

enum compute {
    CP_TENURE_ACTIVE
};

/* One segment of a "from" path: an attribute name. */
struct seg {
    char *name;   /* owned, NUL-terminated */
    size_t len;
};

struct field {
    char *name;                /* document field name (owned) */
    char *key;                 /* `"name":` escaped JSON text (owned) */
    size_t key_len;
    enum fkind kind;
    enum ftype type;           /* FK_ATTR only */
    enum compute compute;      /* FK_COMPUTE only */
    struct seg *from;          /* source path (owned array), FK_ATTR / FK_COMPUTE */
    size_t nfrom;
    enum policy on_missing;
    enum policy on_null;
    enum policy on_mismatch;
    char *value;               /* FK_CONST: the constant; else the default, as JSON text, or NULL */
    size_t value_len;
    struct field *sub;         /* FT_OBJECT / FT_LIST: the member fields (owned array) */
    size_t nsub;
};

struct entity {
    char *name;
    char *description;
    char **tables;
    size_t ntables;
    char *id_attr;
    size_t id_attr_len;
    char *version_attr;        /* NULL when none */
    char *index_ref;
    char *index_path;
    char *source;
    struct field *fields;
    size_t nfields;
};

struct entity_set {
    struct entity **items;     /* sorted by name */
    size_t n;
};

/* ---- small helpers ----------------------------------------------------- */

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

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
    __attribute__((format(printf, 3, 4)))
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
            f->from[i].name = xstrndup(s + start, end - start);
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
            f->from[i].name = xstrdup(json_string_value(e));
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
    f->name = xstrdup(name);
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
        return xstrdup(ref);
    slash = strrchr(source, '/');
    if (!slash)
        return xstrdup(ref);
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
    e->name = xstrdup(s);
    if (!e->name)
        return lnomem(c);

    v = json_object_get(root, "description");
    if (v && !json_is_string(v))
        return lfail(c, "$.description", "expected a string, got %s", json_kind(v));
    e->description = xstrdup(v ? json_string_value(v) : "");
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
        e->tables[i] = xstrdup(json_string_value(t));
        if (!e->tables[i])
            return lnomem(c);
        e->ntables = i + 1;
    }

    rc = get_string(c, root, "$", "id", 1, &s);
    if (rc)
        return rc;
    e->id_attr = xstrdup(s);
    if (!e->id_attr)
        return lnomem(c);
    e->id_attr_len = strlen(s);

    v = json_object_get(root, "version");
    if (v && !json_is_null(v)) {
        rc = get_string(c, root, "$", "version", 1, &s);
        if (rc)
            return rc;
        e->version_attr = xstrdup(s);
        if (!e->version_attr)
            return lnomem(c);
    }

    rc = get_string(c, root, "$", "index", 1, &s);
    if (rc)
        return rc;
    e->index_ref = xstrdup(s);
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
    e->source = xstrdup(source);
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

/* ---- dates (for tenure_active) ----------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    size_t i;
    int v = 0;

    if (at + count > n)
        return 0;
    for (i = at; i < at + count; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/*
 * Parses the ISO 8601 forms the tables hold: "YYYY-MM-DD", optionally
 * followed by "T" (or a space) "HH:MM", ":SS", a fraction, and "Z" or an
 * offset "+HH:MM" / "+HHMM" / "+HH". No offset means UTC. Sets *epoch to
 * the instant (whole seconds, fraction dropped) and returns 1; 0 when the
 * text is not such a date or names an impossible one.
 */
static int parse_iso8601(const char *s, size_t n, long long *epoch)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, dim;
    long long off = 0;
    size_t i = 10;

    if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || !digits(s, n, 8, 2, &d))
        return 0;
    if (y < 1 || mo < 1 || mo > 12)
        return 0;
    dim = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d < 1 || d > dim)
        return 0;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        if (!digits(s, n, i + 1, 2, &h) || i + 3 >= n || s[i + 3] != ':' ||
            !digits(s, n, i + 4, 2, &mi))
            return 0;
        i += 6;
        if (i < n && s[i] == ':') {
            if (!digits(s, n, i + 1, 2, &sec))
                return 0;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                size_t f0 = ++i;

                while (i < n && s[i] >= '0' && s[i] <= '9')
                    i++;
                if (i == f0)
                    return 0;
            }
        }
        if (h > 23 || mi > 59 || sec > 59)
            return 0;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-') && i > 10) {
        int neg = s[i] == '-';

        if (!digits(s, n, i + 1, 2, &oh))
            return 0;
        i += 3;
        if (i < n && s[i] == ':')
            i++;
        if (i < n) {
            if (!digits(s, n, i, 2, &om))
                return 0;
            i += 2;
        }
        if (oh > 23 || om > 59)
            return 0;
        off = (oh * 60LL + om) * 60LL;
        if (neg)
            off = -off;
    }
    if (i != n)
        return 0;
    *epoch = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600LL + mi * 60LL +
             sec - off;
    return 1;
}

/*
 * The old system's rule (tenure-shared TenureHelpers.IsTenureActive): a
 * tenure is active when its end date is absent, NULL, empty or unparseable,
 * when it falls on 1900-01-01 (the "no end" placeholder), or when now is not
 * after it.
 */
static int tenure_active(const json_t *av, time_t now)
{
    const json_t *p;
    long long end, day;

    if (!av || ddbjson_type_of(av, &p) != DDBJSON_T_S)
        return 1;
    if (!parse_iso8601(json_string_value(p), json_string_length(p), &end))
        return 1;
    day = end >= 0 ? end / 86400 : -((-end + 86399) / 86400);
    if (day == days_from_civil(1900, 1, 1))
        return 1;
    return (long long)now <= end;
}

/* ---- mapping ----------------------------------------------------------- */

/* Internal result: the value does not fit and the field's policy is not "error". */
#define MAP_MISMATCH (-1)

struct mctx {
    struct dbuf *doc;
    time_t now;
    struct ddbjson_path path;
    struct ddb2es_error *err;
};

static int mnomem(struct mctx *m)
{
    return ddb2es_failf(m->err, DDB2ES_E_NOMEM, "out of memory while writing a document");
}

/* Fills err with "<path>: <what>" (the item id is added by entity_map_item). */
static int mfail(struct mctx *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int mfail(struct mctx *m, const char *fmt, ...)
{
    char pbuf[512], msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ddbjson_path_format(&m->path, pbuf, sizeof(pbuf));
    return ddb2es_failf(m->err, DDB2ES_E_MAPPING, "%s: %s", pbuf, msg);
}

static const char *want_text(enum ftype t)
{
    switch (t) {
    case FT_STRING: return "S or N";
    case FT_NUMBER: return "N";
    case FT_BOOLEAN: return "BOOL, N 0/1 or S true/false";
    case FT_STRING_LIST: return "SS, NS, or L of S/N";
    case FT_RAW: return "any value";
    case FT_OBJECT: return "a map (M)";
    case FT_LIST: return "L of M";
    }
    return "?";
}

/* The value does not fit: an error when the policy says so, else MAP_MISMATCH. */
static int mismatch(struct mctx *m, const struct field *f, const char *want, enum ddbjson_type got)
{
    if (f->on_mismatch == POL_ERROR)
        return mfail(m, "expected %s for field \"%.80s\", got %s", want, f->name,
                     ddbjson_type_name(got));
    return MAP_MISMATCH;
}

static int put(struct mctx *m, const char *s, size_t n)
{
    return dbuf_append(m->doc, s, n) ? mnomem(m) : DDB2ES_OK;
}

/* Writes what a policy gives; *omit set for "omit". POL_ERROR is handled by callers. */
static int apply_policy(struct mctx *m, const struct field *f, enum policy pol, int *omit)
{
    switch (pol) {
    case POL_OMIT:
        *omit = 1;
        return DDB2ES_OK;
    case POL_DEFAULT:
        return put(m, f->value, f->value_len);
    case POL_NULL:
    case POL_ERROR:
        break;
    }
    return put(m, "null", 4);
}

static int put_str(struct mctx *m, const json_t *js)
{
    int rc = ddbjson_escape_string(m->doc, json_string_value(js), json_string_length(js),
                                   DDBJSON_STRICT_UTF8);

    if (rc == DDB2ES_E_MAPPING)
        return mfail(m, "string is not valid UTF-8");
    return rc ? mnomem(m) : DDB2ES_OK;
}

static int check_number(struct mctx *m, const json_t *js)
{
    if (ddbjson_number_check(json_string_value(js), json_string_length(js)))
        return DDB2ES_OK;
    return mfail(m, "invalid number \"%.60s\"", json_string_value(js));
}

static int malformed(struct mctx *m, const json_t *av)
{
    /* Let ddbjson describe exactly what is wrong, with the same path. */
    struct dbuf scratch = DBUF_INIT;
    int rc = ddbjson_value_to_json_at(&scratch, av, &m->path, 1, m->err);

    dbuf_free(&scratch);
    return rc ? rc : mfail(m, "malformed attribute value");
}

static int map_fields(struct mctx *m, const struct field *fields, size_t n, const json_t *map,
                      int level);

/* Writes the value of an FT_* field from a present, non-NULL attribute. */
static int map_typed(struct mctx *m, const struct field *f, const json_t *av,
                     enum ddbjson_type t, const json_t *p, int level)
{
    size_t i, n;
    int rc;

    switch (f->type) {
    case FT_STRING:
        if (t == DDBJSON_T_S)
            return put_str(m, p);
        if (t == DDBJSON_T_N) {
            rc = check_number(m, p);
            return rc ? rc : put_str(m, p);
        }
        return mismatch(m, f, want_text(f->type), t);

    case FT_NUMBER:
        if (t != DDBJSON_T_N)
            return mismatch(m, f, want_text(f->type), t);
        rc = ddbjson_append_number(m->doc, json_string_value(p), json_string_length(p));
        if (rc == DDB2ES_E_MAPPING)
            return check_number(m, p);
        return rc ? mnomem(m) : DDB2ES_OK;

    case FT_BOOLEAN:
        if (t == DDBJSON_T_BOOL)
            return json_is_true(p) ? put(m, "true", 4) : put(m, "false", 5);
        if (t == DDBJSON_T_N) {
            rc = check_number(m, p);
            if (rc)
                return rc;
            if (strcmp(json_string_value(p), "1") == 0)
                return put(m, "true", 4);
            if (strcmp(json_string_value(p), "0") == 0)
                return put(m, "false", 5);
        } else if (t == DDBJSON_T_S) {
            if (strcasecmp(json_string_value(p), "true") == 0)
                return put(m, "true", 4);
            if (strcasecmp(json_string_value(p), "false") == 0)
                return put(m, "false", 5);
        }
        return mismatch(m, f, want_text(f->type), t);

    case FT_STRING_LIST:
        if (t != DDBJSON_T_L && t != DDBJSON_T_SS && t != DDBJSON_T_NS)
            return mismatch(m, f, want_text(f->type), t);
        n = json_array_size(p);
        rc = put(m, "[", 1);
        for (i = 0; !rc && i < n; i++) {
            const json_t *e = json_array_get(p, i), *ep = e;
            enum ddbjson_type et = t == DDBJSON_T_SS   ? DDBJSON_T_S
                                   : t == DDBJSON_T_NS ? DDBJSON_T_N
                                                       : ddbjson_type_of(e, &ep);

            ddbjson_path_push_index(&m->path, i);
            if (i)
                rc = put(m, ",", 1);
            if (rc) {
                /* nothing */
            } else if (t != DDBJSON_T_L && !json_is_string(e)) {
                rc = mfail(m, "%s element is not a string", ddbjson_type_name(t));
            } else if (et == DDBJSON_T_S) {
                rc = put_str(m, ep);
            } else if (et == DDBJSON_T_N) {
                rc = check_number(m, ep);
                if (!rc)
                    rc = put_str(m, ep);
            } else if (et == DDBJSON_T_INVALID) {
                rc = malformed(m, e);
            } else {
                rc = mismatch(m, f, "S or N list elements", et);
            }
            ddbjson_path_pop(&m->path);
        }
        return rc ? rc : put(m, "]", 1);

    case FT_RAW:
        rc = ddbjson_value_to_json_at(m->doc, av, &m->path, level, m->err);
        return rc;

    case FT_OBJECT:
        if (t != DDBJSON_T_M)
            return mismatch(m, f, want_text(f->type), t);
        return map_fields(m, f->sub, f->nsub, p, level + 1);

    case FT_LIST:
        if (t != DDBJSON_T_L)
            return mismatch(m, f, want_text(f->type), t);
        n = json_array_size(p);
        rc = put(m, "[", 1);
        for (i = 0; !rc && i < n; i++) {
            const json_t *e = json_array_get(p, i), *ep;
            enum ddbjson_type et = ddbjson_type_of(e, &ep);

            ddbjson_path_push_index(&m->path, i);
            if (i)
                rc = put(m, ",", 1);
            if (rc) {
                /* nothing */
            } else if (et == DDBJSON_T_M) {
                rc = map_fields(m, f->sub, f->nsub, ep, level + 2);
            } else if (et == DDBJSON_T_NULL) {
                rc = put(m, "null", 4);
            } else if (et == DDBJSON_T_INVALID) {
                rc = malformed(m, e);
            } else {
                rc = mismatch(m, f, "a map (M) as list element", et);
            }
            ddbjson_path_pop(&m->path);
        }
        return rc ? rc : put(m, "]", 1);
    }
    return mfail(m, "internal error: unknown field type");
}

/*
 * Finds f->from starting in `map` (attributes at `level`), pushing one path
 * segment per step (the caller pops f->nfrom... see map_field). Results:
 * *av = the attribute (NULL when missing or a map on the way is NULL/absent);
 * returns DDB2ES_OK, MAP_MISMATCH or an error for a non-map on the way.
 */
static int resolve(struct mctx *m, const struct field *f, const json_t *map, const json_t **av)
{
    const json_t *cur = map, *v, *p;
    size_t i;

    *av = NULL;
    for (i = 0; i < f->nfrom; i++) {
        ddbjson_path_push_key(&m->path, f->from[i].name, f->from[i].len);
        v = json_object_get(cur, f->from[i].name);
        if (!v)
            return DDB2ES_OK;
        if (i + 1 == f->nfrom) {
            *av = v;
            return DDB2ES_OK;
        }
        switch (ddbjson_type_of(v, &p)) {
        case DDBJSON_T_M:
            cur = p;
            break;
        case DDBJSON_T_NULL:
            return DDB2ES_OK;
        case DDBJSON_T_INVALID:
            return malformed(m, v);
        default:
            if (f->kind == FK_COMPUTE)
                return DDB2ES_OK; /* computed fields treat a bad path as absent */
            return mismatch(m, f, "a map (M) on the path", ddbjson_type_of(v, NULL));
        }
    }
    return DDB2ES_OK;
}

/* Writes one field's value (after its key). *omit is set when the field is left out. */
static int map_field(struct mctx *m, const struct field *f, const json_t *map, int level,
                     int *omit)
{
    const json_t *av, *p;
    enum ddbjson_type t;
    size_t mark = m->doc->len;
    int depth_before = m->path.n;
    int rc;

    *omit = 0;
    if (f->kind == FK_CONST)
        return put(m, f->value, f->value_len);
    rc = resolve(m, f, map, &av);
    if (rc)
        goto out;
    if (f->kind == FK_COMPUTE) {
        int yes = tenure_active(av, m->now);

        rc = yes ? put(m, "true", 4) : put(m, "false", 5);
        goto out;
    }
    if (!av) {
        if (f->on_missing == POL_ERROR)
            rc = mfail(m, "attribute is missing (field \"%.80s\" requires it)", f->name);
        else
            rc = apply_policy(m, f, f->on_missing, omit);
        goto out;
    }
    t = ddbjson_type_of(av, &p);
    if (t == DDBJSON_T_INVALID) {
        rc = malformed(m, av);
        goto out;
    }
    if (t == DDBJSON_T_NULL) {
        if (f->on_null == POL_ERROR)
            rc = mfail(m, "attribute is NULL (field \"%.80s\" requires a value)", f->name);
        else
            rc = apply_policy(m, f, f->on_null, omit);
        goto out;
    }
    rc = map_typed(m, f, av, t, p, level + (int)f->nfrom - 1);
out:
    if (rc == MAP_MISMATCH) {
        /* Cut back what was written of this value, then apply the policy. */
        m->doc->len = mark;
        m->doc->data[mark] = '\0';
        rc = apply_policy(m, f, f->on_mismatch, omit);
    }
    m->path.n = depth_before;
    return rc;
}

static int map_fields(struct mctx *m, const struct field *fields, size_t n, const json_t *map,
                      int level)
{
    size_t i;
    int first = 1, rc, omit;

    rc = put(m, "{", 1);
    for (i = 0; !rc && i < n; i++) {
        const struct field *f = &fields[i];
        size_t mark = m->doc->len;

        if (!first)
            rc = put(m, ",", 1);
        if (!rc)
            rc = put(m, f->key, f->key_len);
        if (!rc)
            rc = map_field(m, f, map, level, &omit);
        if (rc)
            return rc;
        if (omit) {
            m->doc->len = mark;
            m->doc->data[mark] = '\0';
        } else {
            first = 0;
        }
    }
    return rc ? rc : put(m, "}", 1);
}

/* Appends the id (no message prefix); describes the problem in err. */
static int read_id(const struct entity *e, const json_t *item, struct dbuf *id,
                   struct ddb2es_error *err)
{
    const json_t *av, *p;
    enum ddbjson_type t;
    size_t len;

    if (!json_is_object(item))
        return ddb2es_failf(err, DDB2ES_E_MAPPING,
                            "item is not a JSON object of attribute name -> AttributeValue");
    av = json_object_get(item, e->id_attr);
    if (!av)
        return ddb2es_failf(err, DDB2ES_E_MAPPING, "item has no id attribute \"%s\"", e->id_attr);
    t = ddbjson_type_of(av, &p);
    if (t != DDBJSON_T_S && t != DDBJSON_T_N)
        return ddb2es_failf(err, DDB2ES_E_MAPPING,
                            "item id attribute \"%s\" is %s, expected S (or N)", e->id_attr,
                            t == DDBJSON_T_INVALID ? "a malformed value" : ddbjson_type_name(t));
    len = json_string_length(p);
    if (len == 0)
        return ddb2es_failf(err, DDB2ES_E_MAPPING, "item id attribute \"%s\" is empty",
                            e->id_attr);
    if (len > ENTITY_ID_MAX)
        return ddb2es_failf(err, DDB2ES_E_MAPPING,
                            "item id \"%.60s...\" is %zu bytes; Elasticsearch allows at most %d",
                            json_string_value(p), len, ENTITY_ID_MAX);
    if (memchr(json_string_value(p), '\0', len))
        return ddb2es_failf(err, DDB2ES_E_MAPPING, "item id attribute \"%s\" holds a NUL byte",
                            e->id_attr);
    if (t == DDBJSON_T_N && !ddbjson_number_check(json_string_value(p), len))
        return ddb2es_failf(err, DDB2ES_E_MAPPING, "item id \"%.60s\" is not a valid number",
                            json_string_value(p));
    return dbuf_append(id, json_string_value(p), len)
               ? ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory")
               : DDB2ES_OK;
}

int entity_item_id(const struct entity *e, const json_t *item, struct dbuf *id,
                   struct ddb2es_error *err)
{
    return read_id(e, item, id, err);
}

/* A printable excerpt of an id for messages: quotes and control bytes escaped. */
static void id_excerpt(const char *id, size_t len, char *out, size_t cap)
{
    size_t i, k = 0;

    for (i = 0; i < len && k + 5 < cap; i++) {
        unsigned char ch = (unsigned char)id[i];

        if (ch == '"' || ch == '\\') {
            out[k++] = '\\';
            out[k++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            out[k++] = '?';
        } else {
            out[k++] = (char)ch;
        }
    }
    if (i < len && k + 4 <= cap) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

int entity_map_item(const struct entity *e, const json_t *item, const struct entity_map_opts *opts,
                    struct dbuf *doc, struct dbuf *id, struct ddb2es_error *err)
{
    struct mctx m;
    size_t doc_mark = doc->len, id_mark = id->len;
    int rc;

    rc = read_id(e, item, id, err);
    if (rc) {
        if (rc == DDB2ES_E_MAPPING && err) {
            char msg[DDB2ES_ERR_MSG_MAX];

            memcpy(msg, err->message, sizeof(msg));
            ddb2es_failf(err, rc, "%s: %s", e->name, msg);
        }
        goto fail;
    }
    m.doc = doc;
    m.now = opts && opts->now ? opts->now : time(NULL);
    m.path.n = 0;
    m.err = err;
    rc = map_fields(&m, e->fields, e->nfields, item, 1);
    if (rc) {
        if (rc == MAP_MISMATCH)
            rc = mfail(&m, "internal error: unhandled mismatch");
        if (err) {
            char msg[DDB2ES_ERR_MSG_MAX], ex[100];

            memcpy(msg, err->message, sizeof(msg));
            id_excerpt(id->data + id_mark, id->len - id_mark, ex, sizeof(ex));
            ddb2es_failf(err, rc, "%s item \"%s\": %s", e->name, ex, msg);
        }
        goto fail;
    }
    return DDB2ES_OK;
fail:
    if (doc->data) {
        doc->len = doc_mark;
        doc->data[doc_mark] = '\0';
    }
    if (id->data) {
        id->len = id_mark;
        id->data[id_mark] = '\0';
    }
    return rc;
}

int entity_item_version(const struct entity *e, const json_t *item, long long *version,
                        struct ddb2es_error *err)
{
    const json_t *av, *p;
    enum ddbjson_type t;
    const char *s;
    char *end;
    long long v;

    *version = 0;
    if (!e->version_attr)
        return ddb2es_failf(err, DDB2ES_E_NOTFOUND, "entity %s names no version attribute",
                            e->name);
    av = json_is_object(item) ? json_object_get(item, e->version_attr) : NULL;
    t = av ? ddbjson_type_of(av, &p) : DDBJSON_T_NULL;
    if (t == DDBJSON_T_NULL)
        return ddb2es_failf(err, DDB2ES_E_NOTFOUND, "item has no version attribute \"%s\"",
                            e->version_attr);
    if (t != DDBJSON_T_N)
        return ddb2es_failf(err, DDB2ES_E_MAPPING, "version attribute \"%s\" is %s, expected N",
                            e->version_attr, ddbjson_type_name(t));
    s = json_string_value(p);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno == ERANGE || v < 0)
        return ddb2es_failf(err, DDB2ES_E_MAPPING,
                            "version attribute \"%s\" is \"%.40s\", expected an integer from 0 "
                            "to 2^63-1", e->version_attr, s);
    *version = v;
    return DDB2ES_OK;
}

/* ---- entity sets ------------------------------------------------------- */

void entity_set_free(struct entity_set *set)
{
    size_t i;

    if (!set)
        return;
    for (i = 0; i < set->n; i++)
        entity_free(set->items[i]);
    free(set->items);
    free(set);
}

size_t entity_set_count(const struct entity_set *set) { return set->n; }

const struct entity *entity_set_at(const struct entity_set *set, size_t i)
{
    return i < set->n ? set->items[i] : NULL;
}

const struct entity *entity_set_find(const struct entity_set *set, const char *name)
{
    size_t i;

    for (i = 0; i < set->n; i++)
        if (strcmp(set->items[i]->name, name) == 0)
            return set->items[i];
    return NULL;
}

const struct entity *entity_set_find_table(const struct entity_set *set, const char *table)
{
    size_t i;

    for (i = 0; i < set->n; i++)
        if (entity_matches_table(set->items[i], table))
            return set->items[i];
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_entity(const void *a, const void *b)
{
    return strcmp((*(struct entity *const *)a)->name, (*(struct entity *const *)b)->name);
}

/* Adds e to the set, replacing an entity of the same name (takes e). */
static int set_put(struct entity_set *set, struct entity *e, struct ddb2es_error *err)
{
    size_t i;
    struct entity **grown;

    for (i = 0; i < set->n; i++) {
        if (strcmp(set->items[i]->name, e->name) == 0) {
            entity_free(set->items[i]);
            set->items[i] = e;
            return DDB2ES_OK;
        }
    }
    grown = realloc(set->items, (set->n + 1) * sizeof(*grown));
    if (!grown) {
        entity_free(e);
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while loading entities");
    }
    set->items = grown;
    set->items[set->n++] = e;
    return DDB2ES_OK;
}

/* Lists the *.json names of dir, sorted. *names owned by the caller. */
static int list_dir(const char *dir, char ***names, size_t *n, struct ddb2es_error *err)
{
    DIR *d;
    struct dirent *de;
    char **v = NULL, **grown;
    size_t cnt = 0, i;
    int rc = DDB2ES_OK;

    *names = NULL;
    *n = 0;
    d = opendir(dir);
    if (!d)
        return ddb2es_failf(err, DDB2ES_E_IO, "cannot read entity directory %s: %s", dir,
                            strerror(errno));
    for (;;) {
        size_t len;

        errno = 0;
        de = readdir(d);
        if (!de)
            break;
        len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        grown = realloc(v, (cnt + 1) * sizeof(*v));
        if (!grown) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while listing %s", dir);
            goto out;
        }
        v = grown;
        v[cnt] = xstrdup(de->d_name);
        if (!v[cnt]) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while listing %s", dir);
            goto out;
        }
        cnt++;
    }
    if (errno) {
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot read entity directory %s: %s", dir,
                          strerror(errno));
        goto out;
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof(*v), cmp_str);
out:
    closedir(d);
    if (rc) {
        for (i = 0; i < cnt; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    *names = v;
    *n = cnt;
    return DDB2ES_OK;
}

int entity_set_load_dirs(const char *const *dirs, size_t ndirs, struct entity_set **out,
                         struct ddb2es_error *err)
{
    struct entity_set *set;
    char **names = NULL;
    size_t nnames = 0, di, i, j, k;
    int rc = DDB2ES_OK;

    *out = NULL;
    set = calloc(1, sizeof(*set));
    if (!set)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while loading entities");
    for (di = 0; di < ndirs && !rc; di++) {
        rc = list_dir(dirs[di], &names, &nnames, err);
        if (rc)
            break;
        for (i = 0; i < nnames && !rc; i++) {
            struct entity *e = NULL;
            size_t plen = strlen(dirs[di]) + 1 + strlen(names[i]) + 1;
            char *path = malloc(plen);

            if (!path) {
                rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while loading entities");
                break;
            }
            snprintf(path, plen, "%s/%s", dirs[di], names[i]);
            rc = entity_load_file(path, &e, err);
            if (!rc && (strlen(e->name) != strlen(names[i]) - 5 ||
                        strncmp(e->name, names[i], strlen(names[i]) - 5) != 0)) {
                rc = ddb2es_failf(err, DDB2ES_E_CONFIG,
                                  "%s: $.name: \"%s\" differs from the file name (the entity in "
                                  "NAME.json must be named NAME)", path, e->name);
                entity_free(e);
                e = NULL;
            }
            free(path);
            if (!rc)
                rc = set_put(set, e, err);
        }
        for (i = 0; i < nnames; i++)
            free(names[i]);
        free(names);
        names = NULL;
    }
    if (rc)
        goto fail;
    if (set->n > 1)
        qsort(set->items, set->n, sizeof(*set->items), cmp_entity);
    /* One table, one entity: otherwise a sync would not know which to use. */
    for (i = 0; i < set->n; i++)
        for (j = i + 1; j < set->n; j++)
            for (k = 0; k < set->items[i]->ntables; k++)
                if (entity_matches_table(set->items[j], set->items[i]->tables[k])) {
                    rc = ddb2es_failf(err, DDB2ES_E_CONFIG,
                                      "table %s is claimed by two entities: %s (%s) and %s (%s)",
                                      set->items[i]->tables[k], set->items[i]->name,
                                      set->items[i]->source, set->items[j]->name,
                                      set->items[j]->source);
                    goto fail;
                }
    *out = set;
    return DDB2ES_OK;
fail:
    entity_set_free(set);
    return rc;
}
