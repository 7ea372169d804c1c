/*
 * entity_map.c - mapping DynamoDB items to documents with a loaded entity
 * (see entity_internal.h for its form), and reading an item's id and version.
 *
 * DESIGN
 * Mapping walks the entity's fields, not the item: each field looks up its
 * attribute by key, so an item's other attributes cost nothing. Output goes
 * straight into the caller's dbuf. A field whose value turns out not to fit
 * after part of it was written (element 3 of a list is not a map) is cut
 * back to where it started, then its "mismatch" policy decides (null, omit,
 * default, or an error naming the attribute path; the policies are described
 * beside enum policy). The entity is only read; the walking state (the
 * attribute path, the output marks) lives on the mapping call's stack, so
 * any number of threads may map with one entity at the same time.
 */
#include "entity_internal.h"
#include "ddb2es/ddbjson.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    __attribute__((format(__printf__, 2, 3)))
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
