/*
 * ddbjson.c - DynamoDB JSON (AttributeValue) to plain JSON text.
 *
 * DESIGN
 * See ddb2es/ddbjson.h for the rules. The converter walks the jansson tree
 * of an AttributeValue recursively and appends text to the caller's dbuf;
 * recursion is bounded by DDBJSON_MAX_DEPTH. Nothing is allocated besides
 * the dbuf's own growth, and nothing is formatted on the success path: the
 * attribute path is a stack of borrowed segments turned into text only when
 * an error is reported. On any error the dbuf is cut back to its length on
 * entry, so a caller never has to clean up half a value.
 *
 * Numbers are copied from their text (a double would lose digits beyond
 * ~17 and the 1E-130 .. 1E+126 range), after a check of DynamoDB's form and
 * range; only what JSON cannot spell is rewritten (sign '+', leading zeros,
 * a bare '.'), which never changes the value.
 */
#include "ddb2es/ddbjson.h"

#include <stdio.h>
#include <string.h>

#include "jscan.h"

/* ---- path ------------------------------------------------------------ */

void ddbjson_path_push_key(struct ddbjson_path *p, const char *key, size_t len)
{
    if (p->n >= 0 && p->n < DDBJSON_PATH_MAX) {
        p->seg[p->n].text = key;
        p->seg[p->n].len = len;
        p->seg[p->n].index = 0;
        p->seg[p->n].raw = 0;
    }
    p->n++;
}

void ddbjson_path_push_index(struct ddbjson_path *p, size_t index)
{
    if (p->n >= 0 && p->n < DDBJSON_PATH_MAX) {
        p->seg[p->n].text = NULL;
        p->seg[p->n].len = 0;
        p->seg[p->n].index = index;
        p->seg[p->n].raw = 0;
    }
    p->n++;
}

void ddbjson_path_push_raw(struct ddbjson_path *p, const char *prefix)
{
    if (p->n >= 0 && p->n < DDBJSON_PATH_MAX) {
        p->seg[p->n].text = prefix ? prefix : "";
        p->seg[p->n].len = prefix ? strlen(prefix) : 0;
        p->seg[p->n].index = 0;
        p->seg[p->n].raw = 1;
    }
    p->n++;
}

void ddbjson_path_pop(struct ddbjson_path *p)
{
    if (p->n > 0)
        p->n--;
}

/* Bounded writer into a fixed char buffer: keeps the NUL, drops overflow. */
struct textbuf {
    char *buf;
    size_t cap;
    size_t len;
};

static void tb_put(struct textbuf *t, const char *s, size_t n)
{
    size_t room;

    if (t->cap == 0)
        return;
    room = t->cap - 1 - t->len;
    if (n > room)
        n = room;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void tb_putc(struct textbuf *t, char c)
{
    tb_put(t, &c, 1);
}

static int plain_key(const char *k, size_t len)
{
    size_t i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)k[i];

        if (c < 0x20 || c == 0x7f || c == '.' || c == '[' || c == ']' || c == '"' || c == '\\' ||
            c == ' ')
            return 0;
    }
    return 1;
}

static void tb_put_quoted(struct textbuf *t, const char *k, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    tb_putc(t, '"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)k[i];

        if (c == '"' || c == '\\') {
            tb_putc(t, '\\');
            tb_putc(t, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

            tb_put(t, esc, 4);
        } else {
            tb_putc(t, (char)c);
        }
    }
    tb_putc(t, '"');
}

const char *ddbjson_path_format(const struct ddbjson_path *p, char *buf, size_t cap)
{
    struct textbuf t = {buf, cap, 0};
    int i, n;

    if (cap == 0)
        return buf;
    buf[0] = '\0';
    n = p->n < DDBJSON_PATH_MAX ? p->n : DDBJSON_PATH_MAX;
    for (i = 0; i < n; i++) {
        const struct ddbjson_path_seg *s = &p->seg[i];

        if (s->raw) {
            tb_put(&t, s->text, s->len);
        } else if (!s->text) {
            char num[32];
            size_t k = sizeof(num);
            size_t v = s->index;

            num[--k] = ']';
            do {
                num[--k] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            num[--k] = '[';
            tb_put(&t, num + k, sizeof(num) - k);
        } else if (plain_key(s->text, s->len)) {
            if (t.len > 0)
                tb_putc(&t, '.');
            tb_put(&t, s->text, s->len);
        } else {
            tb_putc(&t, '[');
            tb_put_quoted(&t, s->text, s->len);
            tb_putc(&t, ']');
        }
    }
    if (p->n > DDBJSON_PATH_MAX)
        tb_put(&t, "...", 3);
    if (t.len == 0)
        tb_put(&t, "(item)", 6);
    return buf;
}

/* Fills err with "<path>: <what>" and returns DDB2ES_E_MAPPING. */
static int path_fail(struct ddb2es_error *err, const struct ddbjson_path *p, const char *what,
                     const char *detail, size_t detail_len)
{
    char pbuf[512];
    char dbuf_[120];
    struct textbuf t = {dbuf_, sizeof(dbuf_), 0};

    ddbjson_path_format(p, pbuf, sizeof(pbuf));
    dbuf_[0] = '\0';
    if (detail) {
        /* Quote a bounded, printable excerpt of the offending text. */
        size_t n = detail_len > 60 ? 60 : detail_len;

        tb_put_quoted(&t, detail, n);
        if (detail_len > n)
            tb_put(&t, "...", 3);
    }
    return ddb2es_failf(err, DDB2ES_E_MAPPING, "%s: %s%s%s", pbuf, what, detail ? " " : "",
                        dbuf_);
}

/* ---- types ----------------------------------------------------------- */

enum ddbjson_type ddbjson_type_of(const json_t *av, const json_t **payload)
{
    void *it;
    const char *k;
    const json_t *v;
    enum ddbjson_type t = DDBJSON_T_INVALID;

    if (payload)
        *payload = NULL;
    if (!json_is_object(av) || json_object_size(av) != 1)
        return DDBJSON_T_INVALID;
    it = json_object_iter((json_t *)av);
    k = json_object_iter_key(it);
    v = json_object_iter_value(it);
    /* Switch on the first byte, then compare: a few byte tests per value. */
    switch (k[0]) {
    case 'S':
        if (k[1] == '\0')
            t = json_is_string(v) ? DDBJSON_T_S : DDBJSON_T_INVALID;
        else if (k[1] == 'S' && k[2] == '\0')
            t = json_is_array(v) ? DDBJSON_T_SS : DDBJSON_T_INVALID;
        break;
    case 'N':
        if (k[1] == '\0')
            t = json_is_string(v) ? DDBJSON_T_N : DDBJSON_T_INVALID;
        else if (k[1] == 'S' && k[2] == '\0')
            t = json_is_array(v) ? DDBJSON_T_NS : DDBJSON_T_INVALID;
        else if (strcmp(k, "NULL") == 0)
            t = json_is_true(v) ? DDBJSON_T_NULL : DDBJSON_T_INVALID;
        break;
    case 'B':
        if (k[1] == '\0')
            t = json_is_string(v) ? DDBJSON_T_B : DDBJSON_T_INVALID;
        else if (k[1] == 'S' && k[2] == '\0')
            t = json_is_array(v) ? DDBJSON_T_BS : DDBJSON_T_INVALID;
        else if (strcmp(k, "BOOL") == 0)
            t = json_is_boolean(v) ? DDBJSON_T_BOOL : DDBJSON_T_INVALID;
        break;
    case 'M':
        if (k[1] == '\0')
            t = json_is_object(v) ? DDBJSON_T_M : DDBJSON_T_INVALID;
        break;
    case 'L':
        if (k[1] == '\0')
            t = json_is_array(v) ? DDBJSON_T_L : DDBJSON_T_INVALID;
        break;
    default:
        break;
    }
    if (t != DDBJSON_T_INVALID && payload)
        *payload = v;
    return t;
}

const char *ddbjson_type_name(enum ddbjson_type t)
{
    switch (t) {
    case DDBJSON_T_S: return "S";
    case DDBJSON_T_N: return "N";
    case DDBJSON_T_B: return "B";
    case DDBJSON_T_BOOL: return "BOOL";
    case DDBJSON_T_NULL: return "NULL";
    case DDBJSON_T_M: return "M";
    case DDBJSON_T_L: return "L";
    case DDBJSON_T_SS: return "SS";
    case DDBJSON_T_NS: return "NS";
    case DDBJSON_T_BS: return "BS";
    case DDBJSON_T_INVALID: break;
    }
    return "invalid";
}

/* ---- numbers --------------------------------------------------------- */

/* The parts of a number's text, as offsets into it. */
struct numparts {
    int neg;           /* leading '-' */
    size_t int_at;     /* integer digits */
    size_t int_len;
    size_t frac_at;    /* fraction digits (after '.') */
    size_t frac_len;
    int has_point;
    size_t exp_at;     /* exponent from the 'e'/'E' to the end, or exp_len 0 */
    size_t exp_len;
};

#define NUM_MAX_DIGITS 38
#define NUM_MAX_EXP 125
#define NUM_MIN_EXP (-130)

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Splits and checks text; returns 1 when it is a valid DynamoDB number. */
static int number_parse(const char *s, size_t len, struct numparts *np)
{
    size_t i = 0, j, first_nz, last_nz, ndigits;
    long long exp = 0, adjusted;
    int exp_neg = 0, found_nz = 0;

    memset(np, 0, sizeof(*np));
    if (len == 0)
        return 0;
    if (s[0] == '+' || s[0] == '-') {
        np->neg = s[0] == '-';
        i++;
    }
    np->int_at = i;
    while (i < len && is_digit(s[i]))
        i++;
    np->int_len = i - np->int_at;
    if (i < len && s[i] == '.') {
        np->has_point = 1;
        i++;
        np->frac_at = i;
        while (i < len && is_digit(s[i]))
            i++;
        np->frac_len = i - np->frac_at;
    }
    if (np->int_len + np->frac_len == 0)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t d0;

        np->exp_at = i;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            exp_neg = s[i] == '-';
            i++;
        }
        d0 = i;
        while (i < len && is_digit(s[i])) {
            /* Saturate: anything this large is out of range anyway. */
            if (exp < 1000000000LL)
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (i == d0)
            return 0;
        np->exp_len = i - np->exp_at;
    }
    if (i != len)
        return 0;

    /* Significant digits: the digit string without leading/trailing zeros. */
    ndigits = np->int_len + np->frac_len;
    first_nz = last_nz = 0;
    for (j = 0; j < ndigits; j++) {
        char c = j < np->int_len ? s[np->int_at + j] : s[np->frac_at + j - np->int_len];

        if (c != '0') {
            if (!found_nz)
                first_nz = j;
            found_nz = 1;
            last_nz = j;
        }
    }
    if (!found_nz)
        return 1; /* zero, whatever its exponent */
    if (last_nz - first_nz + 1 > NUM_MAX_DIGITS)
        return 0;
    if (exp_neg)
        exp = -exp;
    /* Exponent of the leading digit in scientific notation. */
    adjusted = (long long)np->int_len - 1 - (long long)first_nz + exp;
    return adjusted >= NUM_MIN_EXP && adjusted <= NUM_MAX_EXP;
}

int ddbjson_number_check(const char *text, size_t len)
{
    struct numparts np;

    return number_parse(text, len, &np);
}

int ddbjson_append_number(struct dbuf *out, const char *s, size_t len)
{
    struct numparts np;
    size_t ia, il;
    char *w;
    int rc;

    if (!number_parse(s, len, &np))
        return DDB2ES_E_MAPPING;
    /* Leading zeros of the integer part go; an empty one becomes "0". */
    ia = np.int_at;
    il = np.int_len;
    while (il > 1 && s[ia] == '0') {
        ia++;
        il--;
    }
    rc = dbuf_reserve(out, len + 2);
    if (rc)
        return rc;
    w = out->data + out->len;
    if (np.neg)
        *w++ = '-';
    if (il == 0) {
        *w++ = '0';
    } else {
        memcpy(w, s + ia, il);
        w += il;
    }
    if (np.frac_len) {
        *w++ = '.';
        memcpy(w, s + np.frac_at, np.frac_len);
        w += np.frac_len;
    }
    if (np.exp_len) {
        memcpy(w, s + np.exp_at, np.exp_len);
        w += np.exp_len;
    }
    *w = '\0';
    out->len = (size_t)(w - out->data);
    return DDB2ES_OK;
}

/* ---- strings --------------------------------------------------------- */

/* 0: copy as is; 1: needs an escape; 2: non-ASCII, check UTF-8. */
static const unsigned char esc_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,   /* '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

int ddbjson_escape_string(struct dbuf *out, const char *str, size_t len, unsigned flags)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t mark = out->len, i = 0, run = 0;
    int rc;

    /* Most strings need no escape: reserve once for the plain case. */
    rc = dbuf_reserve(out, len + 2);
    if (rc)
        return rc;
    out->data[out->len++] = '"';
    while (i < len) {
        unsigned char c = s[i];
        unsigned char cls = esc_class[c];
        char esc[6];
        size_t elen = 2, n;

        if (cls == 0) {
            i++;
            continue;
        }
        if (cls == 2) {
            n = js_utf8_seq(s + i, len - i);
            if (n) {
                i += n;
                continue;
            }
        }
        /* Flush the plain run before s[i], then write its replacement. */
        rc = dbuf_append(out, s + run, i - run);
        if (rc)
            goto fail;
        if (cls == 2) {
            if (flags & DDBJSON_STRICT_UTF8) {
                rc = DDB2ES_E_MAPPING;
                goto fail;
            }
            rc = dbuf_append(out, "\xEF\xBF\xBD", 3);
            if (rc)
                goto fail;
            i++;
            run = i;
            continue;
        }
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
            break;
        }
        rc = dbuf_append(out, esc, elen);
        if (rc)
            goto fail;
        i++;
        run = i;
    }
    rc = dbuf_append(out, s + run, len - run);
    if (rc)
        goto fail;
    rc = dbuf_putc(out, '"');
    if (rc)
        goto fail;
    return DDB2ES_OK;
fail:
    out->len = mark;
    out->data[mark] = '\0';
    return rc;
}

/* ---- values ---------------------------------------------------------- */

#define DDBJSON_STR2(x) #x
#define DDBJSON_STR(x) DDBJSON_STR2(x)
#define DDBJSON_MAX_DEPTH_TEXT DDBJSON_STR(DDBJSON_MAX_DEPTH)

static int convert(struct dbuf *out, const json_t *av, struct ddbjson_path *path, int depth,
                   struct ddb2es_error *err);

static int nomem(struct ddb2es_error *err)
{
    return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while writing a document");
}

/* Appends a JSON string value checked as UTF-8; names the path on failure. */
static int put_string(struct dbuf *out, const json_t *js, struct ddbjson_path *path,
                      struct ddb2es_error *err)
{
    int rc = ddbjson_escape_string(out, json_string_value(js), json_string_length(js),
                                   DDBJSON_STRICT_UTF8);

    if (rc == DDB2ES_E_MAPPING)
        return path_fail(err, path, "string is not valid UTF-8", NULL, 0);
    if (rc)
        return nomem(err);
    return DDB2ES_OK;
}

/* Appends `"key":` for a member name (jansson has checked its UTF-8). */
static int put_key(struct dbuf *out, const char *key, size_t klen, struct ddbjson_path *path,
                   struct ddb2es_error *err)
{
    int rc = ddbjson_escape_string(out, key, klen, DDBJSON_STRICT_UTF8);

    if (rc == DDB2ES_E_MAPPING)
        return path_fail(err, path, "member name is not valid UTF-8", NULL, 0);
    if (rc || dbuf_putc(out, ':'))
        return nomem(err);
    return DDB2ES_OK;
}

static int put_number(struct dbuf *out, const json_t *js, struct ddbjson_path *path,
                      struct ddb2es_error *err)
{
    int rc = ddbjson_append_number(out, json_string_value(js), json_string_length(js));

    if (rc == DDB2ES_E_MAPPING)
        return path_fail(err, path, "invalid number", json_string_value(js),
                         json_string_length(js));
    if (rc)
        return nomem(err);
    return DDB2ES_OK;
}

/* SS / NS / BS: arrays whose elements must all be JSON strings. */
static int convert_set(struct dbuf *out, const json_t *arr, enum ddbjson_type t,
                       struct ddbjson_path *path, struct ddb2es_error *err)
{
    size_t i, n = json_array_size(arr);
    int rc;

    if (dbuf_putc(out, '['))
        return nomem(err);
    for (i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);

        ddbjson_path_push_index(path, i);
        if (i && dbuf_putc(out, ',')) {
            rc = nomem(err);
        } else if (!json_is_string(e)) {
            rc = path_fail(err, path, t == DDBJSON_T_SS   ? "SS element is not a string"
                                      : t == DDBJSON_T_NS ? "NS element is not a string"
                                                          : "BS element is not a string",
                           NULL, 0);
        } else if (t == DDBJSON_T_NS) {
            rc = put_number(out, e, path, err);
        } else {
            rc = put_string(out, e, path, err);
        }
        ddbjson_path_pop(path);
        if (rc)
            return rc;
    }
    if (dbuf_putc(out, ']'))
        return nomem(err);
    return DDB2ES_OK;
}

static int convert_map(struct dbuf *out, const json_t *obj, struct ddbjson_path *path, int depth,
                       struct ddb2es_error *err)
{
    const char *key;
    size_t klen;
    json_t *v;
    int first = 1, rc;

    if (dbuf_putc(out, '{'))
        return nomem(err);
    json_object_keylen_foreach((json_t *)obj, key, klen, v) {
        if (!first && dbuf_putc(out, ','))
            return nomem(err);
        first = 0;
        ddbjson_path_push_key(path, key, klen);
        rc = put_key(out, key, klen, path, err);
        if (!rc)
            rc = convert(out, v, path, depth + 1, err);
        ddbjson_path_pop(path);
        if (rc)
            return rc;
    }
    return dbuf_putc(out, '}') ? nomem(err) : DDB2ES_OK;
}

/* Says what is wrong with a value ddbjson_type_of() refused. */
static int fail_malformed(const json_t *av, struct ddbjson_path *path, struct ddb2es_error *err)
{
    static const char *const names[] = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"};
    static const char *const want[] = {"a string", "a string", "a string", "true or false",
                                       "true", "an object", "an array", "an array",
                                       "an array", "an array"};
    const char *k;
    size_t i;

    if (!json_is_object(av) || json_object_size(av) != 1)
        return path_fail(err, path,
                         "malformed attribute value: expected an object with exactly one type "
                         "member (S, N, B, BOOL, NULL, M, L, SS, NS or BS)",
                         NULL, 0);
    k = json_object_iter_key(json_object_iter((json_t *)av));
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(k, names[i]) == 0) {
            char what[96];

            snprintf(what, sizeof(what), "malformed attribute value: \"%s\" must hold %s",
                     names[i], want[i]);
            return path_fail(err, path, what, NULL, 0);
        }
    }
    return path_fail(err, path, "malformed attribute value: unknown type", k, strlen(k));
}

static int convert(struct dbuf *out, const json_t *av, struct ddbjson_path *path, int depth,
                   struct ddb2es_error *err)
{
    const json_t *p;
    enum ddbjson_type t = ddbjson_type_of(av, &p);
    size_t i, n;
    int rc;

    switch (t) {
    case DDBJSON_T_S:
    case DDBJSON_T_B:
        return put_string(out, p, path, err);
    case DDBJSON_T_N:
        return put_number(out, p, path, err);
    case DDBJSON_T_BOOL:
        return dbuf_puts(out, json_is_true(p) ? "true" : "false") ? nomem(err) : DDB2ES_OK;
    case DDBJSON_T_NULL:
        return dbuf_append(out, "null", 4) ? nomem(err) : DDB2ES_OK;
    case DDBJSON_T_INVALID:
        return fail_malformed(av, path, err);
    default:
        break;
    }
    if (depth > DDBJSON_MAX_DEPTH)
        return path_fail(err, path, "nested deeper than " DDBJSON_MAX_DEPTH_TEXT " levels", NULL, 0);
    switch (t) {
    case DDBJSON_T_M:
        return convert_map(out, p, path, depth, err);
    case DDBJSON_T_L:
        if (dbuf_putc(out, '['))
            return nomem(err);
        n = json_array_size(p);
        for (i = 0; i < n; i++) {
            if (i && dbuf_putc(out, ','))
                return nomem(err);
            ddbjson_path_push_index(path, i);
            rc = convert(out, json_array_get(p, i), path, depth + 1, err);
            ddbjson_path_pop(path);
            if (rc)
                return rc;
        }
        return dbuf_putc(out, ']') ? nomem(err) : DDB2ES_OK;
    default:
        return convert_set(out, p, t, path, err);
    }
}

int ddbjson_value_to_json_at(struct dbuf *out, const json_t *av, struct ddbjson_path *path,
                             int depth, struct ddb2es_error *err)
{
    size_t mark = out->len;
    int n = path->n;
    int rc = convert(out, av, path, depth < 1 ? 1 : depth, err);

    path->n = n;
    if (rc && out->data) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc;
}

int ddbjson_value_to_json(struct dbuf *out, const json_t *av, const char *path, int depth,
                          struct ddb2es_error *err)
{
    struct ddbjson_path p;

    p.n = 0;
    if (path && path[0])
        ddbjson_path_push_raw(&p, path);
    return ddbjson_value_to_json_at(out, av, &p, depth, err);
}

int ddbjson_item_to_json(struct dbuf *out, const json_t *item, struct ddb2es_error *err)
{
    struct ddbjson_path p;
    size_t mark = out->len;
    int rc;

    p.n = 0;
    if (!json_is_object(item))
        return ddb2es_failf(err, DDB2ES_E_MAPPING,
                            "item is not a JSON object of attribute name -> AttributeValue");
    /* An item is a map one level up: its attributes are at level 1. */
    rc = convert_map(out, item, &p, 0, err);
    if (rc && out->data) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc;
}
