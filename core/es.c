/*
 * es.c - Elasticsearch / OpenSearch client. See ddb2es/es.h for the API.
 *
 * DESIGN
 * - Transport: one http_client per es_client, one reused response buffer (a
 *   5 MiB bulk answer is not reallocated on every request), one reused URL
 *   buffer. Requests are built as base URL + path; names in paths are
 *   percent-encoded.
 * - Reading answers: small answers go through jansson. Large or
 *   precision-sensitive ones (_bulk, search pages, _mget) go through the
 *   scanner below (js_*), which validates JSON syntax while walking the text
 *   once without building a tree. The kept strings are copied into a chunked
 *   pool owned by the result (es_pool), so a 20,000-item bulk answer costs a
 *   few allocations, not 100,000. A document's _source and a hit's sort
 *   values are kept as raw spans: jansson would turn integers above 2^63 into
 *   errors and re-print doubles, while search_after and verification need the
 *   exact bytes.
 * - Errors: one formatter (es_error_from_response) for every non-2xx answer,
 *   one cause formatter (cause_text) shared with bulk item errors, so a bulk
 *   item and a whole request read the same way.
 */
#include "ddb2es/es.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ddb2es/http.h"
#include "util.h"

/* ================================================================= pool */

/* Chunked string storage: blocks are never moved, so pointers stay valid
 * until the pool is reset or freed. */
struct es_pool_block {
    struct es_pool_block *next;
    size_t used, cap;
    char data[];
};

struct es_pool {
    struct es_pool_block *head;
};

#define POOL_MIN_BLOCK (64 * 1024)

static char *pool_alloc(struct es_pool **pp, size_t n)
{
    struct es_pool *p = *pp;
    struct es_pool_block *b;
    size_t cap;

    if (!p) {
        p = calloc(1, sizeof(*p));
        if (!p)
            return NULL;
        *pp = p;
    }
    b = p->head;
    if (!b || b->cap - b->used < n) {
        cap = b ? b->cap * 2 : POOL_MIN_BLOCK;
        if (cap > 16u * 1024 * 1024)
            cap = 16u * 1024 * 1024;
        if (cap < n)
            cap = n;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->next = p->head;
        b->used = 0;
        b->cap = cap;
        p->head = b;
    }
    b->used += n;
    return b->data + b->used - n;
}

/* Keeps the newest (largest) block for reuse. */
static void pool_reset(struct es_pool *p)
{
    struct es_pool_block *b, *next;

    if (!p || !p->head)
        return;
    for (b = p->head->next; b; b = next) {
        next = b->next;
        free(b);
    }
    p->head->next = NULL;
    p->head->used = 0;
}

static void pool_free(struct es_pool *p)
{
    struct es_pool_block *b, *next;

    if (!p)
        return;
    for (b = p->head; b; b = next) {
        next = b->next;
        free(b);
    }
    free(p);
}

static const char *pool_strndup(struct es_pool **pp, const char *s, size_t n)
{
    char *d = pool_alloc(pp, n + 1);

    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Grows an array of `size`-byte elements to hold at least `need`. */
static int grow_array(void **v, size_t *cap, size_t need, size_t size)
{
    size_t ncap;
    void *nv;

    if (need <= *cap)
        return DDB2ES_OK;
    ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / size)
        return DDB2ES_E_NOMEM;
    nv = realloc(*v, ncap * size);
    if (!nv)
        return DDB2ES_E_NOMEM;
    *v = nv;
    *cap = ncap;
    return DDB2ES_OK;
}

static void dbuf_truncate(struct dbuf *b, size_t len)
{
    if (b->data && len <= b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

/* ============================================================== scanner */

/*
 * A validating JSON walker over [p, end). Values are consumed in document
 * order: js_member/js_elem position the cursor on a value, which the caller
 * must then consume (js_skip or one of the js_get_* readers). Every function
 * returns 0 / -1, or for the iterators 1 (a value follows), 0 (container
 * closed), -1 (syntax error). Nesting is bounded so hostile input cannot
 * exhaust the stack.
 */
struct js {
    const char *p;
    const char *end;
    int depth;
};

#define JS_MAX_DEPTH 128

static void js_init(struct js *j, const char *s, size_t n)
{
    j->p = s;
    j->end = s + n;
    j->depth = 0;
}

static int js_peek(struct js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A string at the cursor: *s and *n give the raw content between the quotes, *esc when it holds escapes. */
static int js_string(struct js *j, const char **s, size_t *n, bool *esc)
{
    const char *p = j->p, *end = j->end, *start;
    bool e = false;
    int i;

    if (p >= end || *p != '"')
        return -1;
    start = ++p;
    for (;;) {
        while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            p++;
        if (p >= end)
            return -1;
        if (*p == '"')
            break;
        if (*p != '\\')
            return -1; /* raw control character */
        e = true;
        if (++p >= end)
            return -1;
        switch (*p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p++;
            break;
        case 'u':
            if (end - p < 5)
                return -1;
            for (i = 1; i <= 4; i++)
                if (!is_hex((unsigned char)p[i]))
                    return -1;
            p += 5;
            break;
        default:
            return -1;
        }
    }
    *s = start;
    *n = (size_t)(p - start);
    *esc = e;
    j->p = p + 1;
    return 0;
}

/* A number at the cursor; *is_int when it has no fraction or exponent. */
static int js_number(struct js *j, bool *is_int)
{
    const char *p = j->p, *end = j->end;

    *is_int = true;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return -1;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && is_digit((unsigned char)*p))
            p++;
    } else {
        return -1;
    }
    if (p < end && *p == '.') {
        *is_int = false;
        p++;
        if (p >= end || !is_digit((unsigned char)*p))
            return -1;
        while (p < end && is_digit((unsigned char)*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit((unsigned char)*p))
            return -1;
        while (p < end && is_digit((unsigned char)*p))
            p++;
    }
    j->p = p;
    return 0;
}

static int js_literal(struct js *j, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

/* Consumes the opening bracket `open` of a container. */
static int js_enter(struct js *j, int open)
{
    if (js_peek(j) != open || j->depth >= JS_MAX_DEPTH)
        return -1;
    j->p++;
    j->depth++;
    return 0;
}

/* Next member of an object entered with js_enter('{'). *first starts at 1. */
static int js_member(struct js *j, int *first, const char **key, size_t *klen)
{
    int ch = js_peek(j);
    bool esc;

    if (ch == '}') {
        j->p++;
        j->depth--;
        return 0;
    }
    if (*first) {
        *first = 0;
    } else {
        if (ch != ',')
            return -1;
        j->p++;
        ch = js_peek(j);
    }
    if (ch != '"' || js_string(j, key, klen, &esc))
        return -1;
    if (js_peek(j) != ':')
        return -1;
    j->p++;
    return js_peek(j) < 0 ? -1 : 1;
}

/* Next element of an array entered with js_enter('['). */
static int js_elem(struct js *j, int *first)
{
    int ch = js_peek(j);

    if (ch == ']') {
        j->p++;
        j->depth--;
        return 0;
    }
    if (*first) {
        *first = 0;
    } else {
        if (ch != ',')
            return -1;
        j->p++;
    }
    return js_peek(j) < 0 ? -1 : 1;
}

static int js_skip(struct js *j)
{
    int ch = js_peek(j), first = 1, r;
    const char *k;
    size_t kn;
    bool b;

    switch (ch) {
    case '{':
        if (js_enter(j, '{'))
            return -1;
        while ((r = js_member(j, &first, &k, &kn)) == 1)
            if (js_skip(j))
                return -1;
        return r;
    case '[':
        if (js_enter(j, '['))
            return -1;
        while ((r = js_elem(j, &first)) == 1)
            if (js_skip(j))
                return -1;
        return r;
    case '"':
        return js_string(j, &k, &kn, &b);
    case 't':
        return js_literal(j, "true");
    case 'f':
        return js_literal(j, "false");
    case 'n':
        return js_literal(j, "null");
    default:
        if (ch == '-' || is_digit(ch))
            return js_number(j, &b);
        return -1;
    }
}

/* After the root value: only whitespace may follow. */
static int js_end(struct js *j)
{
    return js_peek(j) < 0 ? 0 : -1;
}

static bool key_is(const char *k, size_t kn, const char *name)
{
    return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

/* The raw span of the value at the cursor. */
static int js_raw(struct js *j, const char **s, size_t *n)
{
    const char *start;

    js_peek(j);
    start = j->p;
    if (js_skip(j))
        return -1;
    *s = start;
    *n = (size_t)(j->p - start);
    return 0;
}

static unsigned hex4(const char *s)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        int c = (unsigned char)s[i];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the escapes of a string validated by js_string into out (at least n
 * bytes: the decoded text is never longer). Returns the decoded length.
 * A lone surrogate becomes U+FFFD. */
static size_t js_unescape(const char *s, size_t n, char *out)
{
    size_t i = 0, o = 0;

    while (i < n) {
        unsigned cp;

        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        i++;
        switch (s[i++]) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u':
            cp = hex4(s + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo = 0;
                if (i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u')
                    lo = hex4(s + i + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            o += put_utf8(out + o, cp);
            break;
        default: /* '"', '\\', '/' */
            out[o++] = s[i - 1];
            break;
        }
    }
    return o;
}

/* Reads a string value into the pool (*out), or skips a non-string (null,
 * ...) leaving *out unchanged. Returns -1 on syntax error, -2 out of memory. */
static int js_get_str(struct js *j, struct es_pool **pool, const char **out)
{
    const char *s;
    size_t n;
    bool esc;
    char *d;

    if (js_peek(j) != '"')
        return js_skip(j);
    if (js_string(j, &s, &n, &esc))
        return -1;
    d = pool_alloc(pool, n + 1);
    if (!d)
        return -2;
    if (esc) {
        n = js_unescape(s, n, d);
    } else {
        memcpy(d, s, n);
    }
    d[n] = '\0';
    *out = d;
    return 0;
}

/* As js_get_str, into a malloc'd string (*out replaced; previous value freed). */
static int js_get_strdup(struct js *j, char **out)
{
    const char *s;
    size_t n;
    bool esc;
    char *d;

    if (js_peek(j) != '"')
        return js_skip(j);
    if (js_string(j, &s, &n, &esc))
        return -1;
    d = malloc(n + 1);
    if (!d)
        return -2;
    if (esc)
        n = js_unescape(s, n, d);
    else
        memcpy(d, s, n);
    d[n] = '\0';
    free(*out);
    *out = d;
    return 0;
}

/* Reads an integer value into *v; other values are skipped (v unchanged). */
static int js_get_int(struct js *j, long long *v)
{
    const char *start;
    char tmp[32];
    bool is_int;
    size_t n;
    int ch = js_peek(j);

    if (ch != '-' && !is_digit(ch))
        return js_skip(j);
    start = j->p;
    if (js_number(j, &is_int))
        return -1;
    n = (size_t)(j->p - start);
    if (is_int && n < sizeof(tmp)) {
        char *end;
        long long x;

        memcpy(tmp, start, n);
        tmp[n] = '\0';
        x = strtoll(tmp, &end, 10);
        if (*end == '\0')
            *v = x;
    }
    return 0;
}

static int js_get_bool(struct js *j, bool *v)
{
    int ch = js_peek(j);

    if (ch == 't' && js_literal(j, "true") == 0) {
        *v = true;
        return 0;
    }
    if (ch == 'f' && js_literal(j, "false") == 0) {
        *v = false;
        return 0;
    }
    return js_skip(j);
}

/* Maps a js_get_* failure to a status and message. */
static int js_fail(int r, const char *what, struct ddb2es_error *err)
{
    if (r == -2)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading %s", what);
    return ddb2es_failf(err, DDB2ES_E_PROTOCOL, "unreadable %s: not valid JSON or not the expected shape", what);
}

/* ======================================================== JSON strings */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

static bool utf8_valid(const char *s, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        k = utf8_seq((const unsigned char *)s + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

int es_json_string(struct dbuf *out, const char *s, size_t len, struct ddb2es_error *err)
{
    static const char hexd[] = "0123456789abcdef";
    size_t mark = out->len, i = 0, run = 0, k;
    int rc;

    rc = dbuf_reserve(out, len + 2);
    if (rc)
        goto nomem;
    rc = dbuf_putc(out, '"');
    if (rc)
        goto nomem;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\') {
            k = c < 0x80 ? 1 : utf8_seq((const unsigned char *)s + i, len - i);
            if (!k) {
                dbuf_truncate(out, mark);
                return ddb2es_failf(err, DDB2ES_E_USAGE, "text is not valid UTF-8 (byte %zu)", i);
            }
            i += k;
            run += k;
            continue;
        }
        /* flush the run of plain bytes before the escape */
        rc = dbuf_append(out, s + i - run, run);
        if (rc)
            goto nomem;
        run = 0;
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
            memcpy(esc + 1, "u00", 3);
            esc[4] = hexd[c >> 4];
            esc[5] = hexd[c & 15];
            elen = 6;
            break;
        }
        rc = dbuf_append(out, esc, elen);
        if (rc)
            goto nomem;
        i++;
    }
    rc = dbuf_append(out, s + i - run, run);
    if (rc)
        goto nomem;
    rc = dbuf_putc(out, '"');
    if (rc)
        goto nomem;
    return DDB2ES_OK;
nomem:
    dbuf_truncate(out, mark);
    return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory building a request");
}

/* A printable, bounded rendering of an id or name for messages. */
static void printable(const char *s, size_t n, char *out, size_t outsz)
{
    size_t i, o = 0;

    for (i = 0; i < n && o + 5 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if (i < n && o + 4 <= outsz) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* =============================================================== errors */

static const char *status_phrase(long status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return NULL;
    }
}

static const char *status_hint(long status)
{
    switch (status) {
    case 401:
        return "check the user name and password (or the AWS credentials)";
    case 403:
        return "check the user's privileges on this index (or the domain's access policy)";
    case 413:
        return "the request is larger than the cluster accepts (http.max_content_length): send smaller bulks";
    case 429:
        return "the cluster is overloaded: lower the concurrency or the bulk size, or retry later";
    case 502:
    case 503:
    case 504:
        return "the cluster, or a proxy in front of it, is unavailable: retry later";
    default:
        return NULL;
    }
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/*
 * Appends "REASON[; caused by TYPE: REASON]..." for an ErrorCause object and,
 * when `root` is set, its first root_cause if that says something new (a
 * search_phase_execution_exception's "all shards failed" hides the real
 * reason there). Returns a dbuf status.
 */
static int cause_text(const json_t *e, bool root, struct dbuf *out)
{
    const char *type = jstr(e, "type"), *reason = jstr(e, "reason");
    const char *ptype = type, *preason = reason;
    const json_t *cb = json_object_get(e, "caused_by");
    int rc = DDB2ES_OK, depth;

    if (reason)
        rc = dbuf_puts(out, reason);
    for (depth = 0; !rc && json_is_object(cb) && depth < 4; depth++) {
        const char *ct = jstr(cb, "type"), *cr = jstr(cb, "reason");
        if (!same(ct, ptype) || !same(cr, preason))
            rc = dbuf_printf(out, "%scaused by %s%s%s", out->len ? "; " : "", ct ? ct : "error", cr ? ": " : "",
                             cr ? cr : "");
        ptype = ct;
        preason = cr;
        cb = json_object_get(cb, "caused_by");
    }
    if (!rc && root) {
        const json_t *rcause = json_array_get(json_object_get(e, "root_cause"), 0);
        const char *rt = jstr(rcause, "type"), *rr = jstr(rcause, "reason");
        if (json_is_object(rcause) && rr && (!same(rt, type) || !same(rr, reason)) && !strstr(dbuf_cstr(out), rr))
            rc = dbuf_printf(out, "%sroot cause %s: %s", out->len ? "; " : "", rt ? rt : "error", rr);
    }
    return rc;
}

/* A short excerpt of a non-JSON body (an HTML error page): tags dropped, blanks folded. */
static int body_excerpt(const char *body, size_t len, struct dbuf *out)
{
    size_t i, kept = 0;
    bool in_tag = false, space = false;
    int rc = DDB2ES_OK;

    for (i = 0; i < len && kept < 160 && !rc; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c == '<') {
            in_tag = true;
            space = true;
            continue;
        }
        if (in_tag) {
            if (c == '>')
                in_tag = false;
            continue;
        }
        if (c <= ' ' || c == 0x7f) {
            space = true;
            continue;
        }
        if (space && kept) {
            rc = dbuf_putc(out, ' ');
            kept++;
        }
        space = false;
        if (!rc)
            rc = dbuf_putc(out, (char)c);
        kept++;
    }
    if (!rc && i < len && kept >= 160)
        rc = dbuf_puts(out, "...");
    return rc;
}

static int status_for_http(long http_status)
{
    if (http_status == 401 || http_status == 403)
        return DDB2ES_E_AUTH;
    if (http_status == 404)
        return DDB2ES_E_NOTFOUND;
    if (http_status == 429)
        return DDB2ES_E_THROTTLED;
    return DDB2ES_E_SERVICE;
}

/* Detail text kept in a message, so the hint after it still fits. */
#define DETAIL_MAX 640

int es_error_from_response(const char *product, const char *host, const char *what, long http_status,
                           const char *body, size_t len, struct ddb2es_error *err)
{
    struct dbuf detail = DBUF_INIT, msg = DBUF_INIT;
    const char *type = "", *hint = status_hint(http_status), *phrase = status_phrase(http_status);
    json_t *root = NULL;
    int st = status_for_http(http_status), rc = DDB2ES_OK;

    if (len)
        root = json_loadb(body, len, 0, NULL);
    if (json_is_object(root)) {
        json_t *e = json_object_get(root, "error");
        const char *m = jstr(root, "message");

        if (!m)
            m = jstr(root, "Message");
        if (json_is_object(e)) {
            type = jstr(e, "type") ? jstr(e, "type") : "";
            rc = cause_text(e, true, &detail);
        } else if (json_is_string(e)) {
            rc = dbuf_puts(&detail, json_string_value(e));
        } else if (m) {
            rc = dbuf_puts(&detail, m);
        }
    } else if (len) {
        rc = body_excerpt(body, len, &detail);
    }
    if (!rc && detail.len > DETAIL_MAX) {
        size_t cut = DETAIL_MAX;
        while (cut > 0 && ((unsigned char)detail.data[cut] & 0xC0) == 0x80)
            cut--; /* do not split a UTF-8 sequence */
        dbuf_truncate(&detail, cut);
        rc = dbuf_puts(&detail, "...");
    }
    if (!rc && what)
        rc = dbuf_printf(&msg, "%s: ", what);
    if (!rc)
        rc = dbuf_printf(&msg, "%s at %s answered %ld", product ? product : "Elasticsearch", host ? host : "?",
                         http_status);
    if (!rc && *type)
        rc = dbuf_printf(&msg, " %s", type);
    else if (!rc && phrase)
        rc = dbuf_printf(&msg, " (%s)", phrase);
    if (!rc && detail.len)
        rc = dbuf_printf(&msg, ": %s", dbuf_cstr(&detail));
    if (!rc && hint)
        rc = dbuf_printf(&msg, "; %s", hint);
    if (rc) {
        st = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading an error answer of %s", host ? host : "?");
    } else {
        ddb2es_failf(err, st, "%s", dbuf_cstr(&msg));
    }
    if (err) {
        err->http_status = http_status;
        ddb2es_error_set_type(err, type);
    }
    json_decref(root);
    dbuf_free(&detail);
    dbuf_free(&msg);
    return st;
}

bool es_error_is(const struct ddb2es_error *err, const char *type)
{
    return err && type && strcmp(err->type, type) == 0;
}

/* =============================================================== client */

struct es_client {
    struct http_client *http;
    char *base;                 /* URL without trailing '/' and without userinfo */
    char host[256];             /* host[:port] for messages */
    char *userpwd;              /* "user:password" or NULL; wiped on free */
    struct http_aws_auth aws;   /* used when aws.creds is set */
    char *aws_region;
    char *aws_service;
    enum es_flavour flavour;    /* learnt by es_info; names the product in messages */
    struct dbuf url;            /* scratch: the URL of the current request */
    struct http_response resp;  /* reused: large bulk answers keep their buffer */
    double http_seconds;
};

static void wipe_free(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
        free(s);
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes n bytes of s into a new string. */
static char *pct_decode(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    size_t i, o = 0;

    if (!d)
        return NULL;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0) {
            d[o++] = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    return d;
}

static char *join_userpwd(const char *user, const char *pass)
{
    size_t a = strlen(user), b = pass ? strlen(pass) : 0;
    char *s = malloc(a + b + 2);

    if (!s)
        return NULL;
    memcpy(s, user, a);
    s[a] = ':';
    if (b)
        memcpy(s + a + 1, pass, b);
    s[a + 1 + b] = '\0';
    return s;
}

void es_client_free(struct es_client *c)
{
    if (!c)
        return;
    http_client_free(c->http);
    free(c->base);
    wipe_free(c->userpwd);
    free(c->aws_region);
    free(c->aws_service);
    dbuf_free(&c->url);
    http_response_free(&c->resp);
    free(c);
}

struct es_client *es_client_new(const struct es_options *opts, struct ddb2es_error *err)
{
    struct http_options ho = {0};
    struct es_client *c = NULL;
    const char *url, *auth, *at, *aend, *q;
    char host[256];
    size_t n;
    int port;

    if (!opts || !opts->url || !*opts->url) {
        ddb2es_failf(err, DDB2ES_E_USAGE, "no Elasticsearch URL given");
        return NULL;
    }
    url = opts->url;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        ddb2es_failf(err, DDB2ES_E_USAGE, "Elasticsearch URL must start with http:// or https://");
        return NULL;
    }
    q = strpbrk(url, "?#");
    if (q) {
        ddb2es_failf(err, DDB2ES_E_USAGE, "Elasticsearch URL must not carry a query or fragment");
        return NULL;
    }
    if (opts->aws_creds && (!opts->aws_region || !*opts->aws_region)) {
        ddb2es_failf(err, DDB2ES_E_CONFIG, "signing Elasticsearch requests with SigV4 needs an AWS region");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        goto nomem;
    dbuf_init(&c->url);
    http_response_init(&c->resp);

    /* Split off "user:password@" so it is never part of a URL we print. */
    auth = strstr(url, "://") + 3;
    aend = auth + strcspn(auth, "/");
    at = NULL;
    for (const char *p = auth; p < aend; p++)
        if (*p == '@')
            at = p;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (!opts->username) {
            char *u = pct_decode(auth, (size_t)((colon ? colon : at) - auth));
            char *pw = colon ? pct_decode(colon + 1, (size_t)(at - colon - 1)) : NULL;
            if (u && (pw || !colon))
                c->userpwd = join_userpwd(u, pw);
            wipe_free(u);
            wipe_free(pw);
            if (!c->userpwd)
                goto nomem;
        }
        n = (size_t)(auth - url);
        c->base = malloc(strlen(url) + 1);
        if (!c->base)
            goto nomem;
        memcpy(c->base, url, n);
        memcpy(c->base + n, at + 1, strlen(at + 1) + 1);
    } else {
        c->base = util_strdup(url);
        if (!c->base)
            goto nomem;
    }
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/' && c->base[n - 2] != '/')
        c->base[--n] = '\0';
    {
        struct ddb2es_error perr;
        char path[2048];

        if (http_url_split(c->base, host, sizeof(host), &port, path, sizeof(path), &perr)) {
            ddb2es_failf(err, DDB2ES_E_USAGE, "bad Elasticsearch URL: %s", perr.message);
            goto fail;
        }
    }
    {
        const char *hs = strstr(c->base, "://") + 3;
        size_t hn = strcspn(hs, "/");
        if (hn == 0) {
            ddb2es_failf(err, DDB2ES_E_USAGE, "Elasticsearch URL has no host");
            goto fail;
        }
        if (hn >= sizeof(c->host))
            hn = sizeof(c->host) - 1;
        memcpy(c->host, hs, hn);
        c->host[hn] = '\0';
    }
    if (opts->username) {
        c->userpwd = join_userpwd(opts->username, opts->password);
        if (!c->userpwd)
            goto nomem;
    }
    if (opts->aws_creds) {
        c->aws_region = util_strdup(opts->aws_region);
        c->aws_service = util_strdup(opts->aws_service ? opts->aws_service : "es");
        if (!c->aws_region || !c->aws_service)
            goto nomem;
        c->aws.creds = opts->aws_creds;
        c->aws.region = c->aws_region;
        c->aws.service = c->aws_service;
    }
    ho.connect_timeout_ms = opts->connect_timeout_ms;
    ho.timeout_ms = opts->timeout_ms;
    ho.ca_file = opts->ca_file;
    ho.user_agent = opts->user_agent;
    c->http = http_client_new(&ho, err);
    if (!c->http)
        goto fail;
    return c;
nomem:
    ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory creating the Elasticsearch client");
fail:
    es_client_free(c);
    return NULL;
}

const char *es_client_host(const struct es_client *c)
{
    return c->host;
}

double es_client_http_seconds(const struct es_client *c)
{
    return c->http_seconds;
}

static const char *product(const struct es_client *c)
{
    return es_flavour_name(c->flavour);
}

/* ------------------------------------------------------ request plumbing */

static int url_start(struct es_client *c)
{
    dbuf_reset(&c->url);
    return dbuf_puts(&c->url, c->base);
}

/* Appends "/" and a percent-encoded name (index, alias, pattern: '*' and ',' kept). */
static int url_name(struct es_client *c, const char *name)
{
    static const char hexd[] = "0123456789ABCDEF";
    int rc = dbuf_putc(&c->url, '/');

    for (const unsigned char *p = (const unsigned char *)name; !rc && *p; p++) {
        if (isalnum(*p) || strchr("-_.~*,", *p)) {
            rc = dbuf_putc(&c->url, (char)*p);
        } else {
            char e[3] = {'%', hexd[*p >> 4], hexd[*p & 15]};
            rc = dbuf_append(&c->url, e, 3);
        }
    }
    return rc;
}

/* Percent-encodes a query value (keep_alive is "5m", but be safe). */
static int url_query_value(struct es_client *c, const char *v)
{
    static const char hexd[] = "0123456789ABCDEF";
    int rc = DDB2ES_OK;

    for (const unsigned char *p = (const unsigned char *)v; !rc && *p; p++) {
        if (isalnum(*p) || strchr("-_.~", *p)) {
            rc = dbuf_putc(&c->url, (char)*p);
        } else {
            char e[3] = {'%', hexd[*p >> 4], hexd[*p & 15]};
            rc = dbuf_append(&c->url, e, 3);
        }
    }
    return rc;
}

/* Prefixes the message of a failed call with what was being done. */
static int prefix_error(struct ddb2es_error *err, int rc, const char *what)
{
    if (err && what) {
        char prev[DDB2ES_ERR_MSG_MAX];
        snprintf(prev, sizeof(prev), "%s", err->message);
        ddb2es_failf(err, rc, "%s: %s", what, prev);
    }
    return rc;
}

/*
 * Sends c->url. Returns DDB2ES_OK for any HTTP answer (in c->resp), or the
 * transport status with the message prefixed by `what`.
 */
static int es_exchange(struct es_client *c, const char *method, const char *ctype, const char *body, size_t len,
                       const char *what, struct ddb2es_error *err)
{
    struct http_header hdr = {"Content-Type", ctype};
    struct http_request req = {0};
    int rc;

    req.method = method;
    req.url = dbuf_cstr(&c->url);
    req.headers = ctype ? &hdr : NULL;
    req.nheaders = ctype ? 1 : 0;
    req.body = body;
    req.body_len = len;
    req.userpwd = c->userpwd;
    req.aws = c->aws.creds ? &c->aws : NULL;
    rc = http_send(c->http, &req, &c->resp, err);
    c->http_seconds += c->resp.seconds;
    if (rc)
        return prefix_error(err, rc, what);
    return DDB2ES_OK;
}

static bool is_2xx(long s)
{
    return s >= 200 && s < 300;
}

/* The error of a non-2xx answer in c->resp. */
static int es_answer_error(struct es_client *c, const char *what, struct ddb2es_error *err)
{
    return es_error_from_response(product(c), c->host, what, c->resp.status, dbuf_cstr(&c->resp.body),
                                  c->resp.body.len, err);
}

/* One JSON call: body may be NULL. Non-2xx answers become errors. */
static int es_call(struct es_client *c, const char *method, const char *body, size_t len, const char *what,
                   struct ddb2es_error *err)
{
    int rc = es_exchange(c, method, body ? "application/json" : NULL, body, len, what, err);

    if (rc)
        return rc;
    if (!is_2xx(c->resp.status))
        return es_answer_error(c, what, err);
    return DDB2ES_OK;
}

/* Parses c->resp as a JSON object with jansson. */
static int resp_json(struct es_client *c, const char *what, json_t **out, struct ddb2es_error *err)
{
    json_error_t jerr;

    *out = json_loadb(dbuf_cstr(&c->resp.body), c->resp.body.len, 0, &jerr);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ddb2es_failf(err, DDB2ES_E_PROTOCOL, "%s: %s at %s sent an unreadable answer (%s)", what,
                            product(c), c->host, jerr.text[0] ? jerr.text : "not a JSON object");
    }
    return DDB2ES_OK;
}

static int url_fail(struct ddb2es_error *err)
{
    return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory building a request URL");
}

/* ================================================================= info */

const char *es_flavour_name(enum es_flavour f)
{
    return f == ES_FLAVOUR_OPENSEARCH ? "OpenSearch" : "Elasticsearch";
}

/* "7.10.2", "6.0.0-beta1" -> numbers; missing parts are 0. */
static void parse_version(const char *s, int *major, int *minor, int *patch)
{
    int *parts[3] = {major, minor, patch};
    char *end;
    int i;

    *major = *minor = *patch = 0;
    for (i = 0; i < 3 && s && is_digit((unsigned char)*s); i++) {
        long v = strtol(s, &end, 10);
        *parts[i] = v > 100000 ? 100000 : (int)v;
        if (*end != '.')
            break;
        s = end + 1;
    }
}

static void copy_field(char *dst, size_t sz, const char *src)
{
    snprintf(dst, sz, "%s", src ? src : "");
}

int es_parse_info(const char *body, size_t len, const char *host, struct es_info *out, struct ddb2es_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL), *ver;
    const char *number, *dist, *tagline;
    int lmaj, lmin, lpat, maj, min;
    int rc = DDB2ES_OK;

    memset(out, 0, sizeof(*out));
    ver = json_object_get(root, "version");
    number = jstr(ver, "number");
    if (!json_is_object(root) || !number) {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL,
                          "%s does not look like Elasticsearch or OpenSearch: GET / has no version.number; "
                          "check the URL",
                          host ? host : "the server");
        goto out;
    }
    dist = jstr(ver, "distribution");
    tagline = jstr(root, "tagline");
    copy_field(out->reported_version, sizeof(out->reported_version), number);
    copy_field(out->build_flavor, sizeof(out->build_flavor), jstr(ver, "build_flavor"));
    copy_field(out->lucene_version, sizeof(out->lucene_version), jstr(ver, "lucene_version"));
    copy_field(out->cluster_name, sizeof(out->cluster_name), jstr(root, "cluster_name"));
    copy_field(out->node_name, sizeof(out->node_name), jstr(root, "name"));
    parse_version(number, &out->major, &out->minor, &out->patch);
    parse_version(out->lucene_version, &lmaj, &lmin, &lpat);

    /* version.number alone cannot be trusted: OpenSearch's compatibility
     * mode reports 7.10.2. Every Elasticsearch 7.x ships Lucene 8. */
    if ((dist && strcasecmp(dist, "opensearch") == 0) || (tagline && strstr(tagline, "OpenSearch")) ||
        (out->major == 7 && lmaj >= 9))
        out->flavour = ES_FLAVOUR_OPENSEARCH;
    else
        out->flavour = ES_FLAVOUR_ELASTICSEARCH;

    out->version_known = true;
    if (out->flavour == ES_FLAVOUR_OPENSEARCH && out->major == 7) {
        out->compat_mode = true;
        out->version_known = false;
        out->major = out->minor = out->patch = 0;
        /* Estimate from Lucene: OpenSearch 1.x ships Lucene 8, 2.0-2.3
         * Lucene 9.0-9.3, 2.4 Lucene 9.4, 3.x Lucene 10. */
        if (lmaj <= 8) {
            maj = 1;
            min = 0;
        } else if (lmaj == 9) {
            maj = 2;
            min = lmin >= 4 ? 4 : 0;
        } else {
            maj = 3;
            min = 0;
        }
    } else {
        maj = out->major;
        min = out->minor;
    }

    if (out->flavour == ES_FLAVOUR_OPENSEARCH) {
        out->pit = (maj > 2 || (maj == 2 && min >= 4)) ? ES_PIT_OPENSEARCH : ES_PIT_NONE;
        out->shard_doc_sort = false;
        out->accepts_type = maj < 2;
    } else {
        /* _pit is an X-Pack (basic licence) feature: absent from the OSS build. */
        bool pit = (maj > 7 || (maj == 7 && min >= 10)) && strcmp(out->build_flavor, "oss") != 0;
        out->pit = pit ? ES_PIT_ES : ES_PIT_NONE;
        out->shard_doc_sort = pit && (maj > 7 || min >= 12);
        out->accepts_type = maj < 8;
    }
out:
    json_decref(root);
    return rc;
}

int es_info(struct es_client *c, struct es_info *out, struct ddb2es_error *err)
{
    static const char what[] = "reading the cluster information (GET /)";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = url_start(c);
    if (!rc)
        rc = dbuf_putc(&c->url, '/');
    if (rc)
        return url_fail(err);
    rc = es_call(c, "GET", NULL, 0, what, err);
    if (rc)
        return rc;
    rc = es_parse_info(dbuf_cstr(&c->resp.body), c->resp.body.len, c->host, out, err);
    if (!rc)
        c->flavour = out->flavour;
    return rc;
}

/* ============================================================ index ops */

/* URL base + "/" + name + suffix (suffix may be NULL). */
static int url_index(struct es_client *c, const char *index, const char *suffix, struct ddb2es_error *err)
{
    int rc = url_start(c);

    if (!rc && index)
        rc = url_name(c, index);
    if (!rc && suffix)
        rc = dbuf_puts(&c->url, suffix);
    return rc ? url_fail(err) : DDB2ES_OK;
}

static int check_index_arg(const char *index, struct ddb2es_error *err)
{
    if (!index || !*index)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "no index name given");
    return DDB2ES_OK;
}

int es_index_exists(struct es_client *c, const char *index, bool *exists, struct ddb2es_error *err)
{
    char what[320];
    int rc;

    *exists = false;
    rc = check_index_arg(index, err);
    if (!rc)
        rc = url_index(c, index, NULL, err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "checking whether index '%s' exists", index);
    rc = es_exchange(c, "HEAD", NULL, NULL, 0, what, err);
    if (rc)
        return rc;
    if (c->resp.status == 200) {
        *exists = true;
        return DDB2ES_OK;
    }
    if (c->resp.status == 404)
        return DDB2ES_OK;
    return es_answer_error(c, what, err);
}

int es_index_create(struct es_client *c, const char *index, const char *body_json, bool *already_exists,
                    struct ddb2es_error *err)
{
    char what[320];
    int rc;

    if (already_exists)
        *already_exists = false;
    rc = check_index_arg(index, err);
    if (!rc)
        rc = url_index(c, index, NULL, err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "creating index '%s'", index);
    rc = es_call(c, "PUT", body_json ? body_json : "{}", body_json ? strlen(body_json) : 2, what, err);
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
    int rc = check_index_arg(index, err);

    if (!rc)
        rc = url_index(c, index, NULL, err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "deleting index '%s'", index);
    return es_call(c, "DELETE", NULL, 0, what, err);
}

int es_index_refresh(struct es_client *c, const char *index, struct ddb2es_error *err)
{
    char what[320];
    int rc = check_index_arg(index, err);

    if (!rc)
        rc = url_index(c, index, "/_refresh", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "refreshing index '%s'", index);
    return es_call(c, "POST", NULL, 0, what, err);
}

int es_count(struct es_client *c, const char *index, const char *query_json, long long *count,
             struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    json_t *root = NULL, *n;
    char what[320];
    int rc;

    *count = -1;
    rc = check_index_arg(index, err);
    if (!rc)
        rc = url_index(c, index, "/_count", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "counting the documents of '%s'", index);
    if (query_json) {
        rc = dbuf_printf(&body, "{\"query\":%s}", query_json);
        if (rc) {
            rc = ddb2es_failf(err, rc, "out of memory building a request");
            goto out;
        }
        rc = es_call(c, "POST", body.data, body.len, what, err);
    } else {
        rc = es_call(c, "GET", NULL, 0, what, err);
    }
    if (rc)
        goto out;
    rc = resp_json(c, what, &root, err);
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

    rc = resp_json(c, what, &root, err);
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
    rc = check_index_arg(index, err);
    if (!rc)
        rc = url_index(c, index, "/_mapping", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "reading the mapping of '%s'", index);
    rc = es_call(c, "GET", NULL, 0, what, err);
    if (rc)
        return rc;
    return one_index_object(c, index, "mappings", what, mappings_json, concrete_index, err);
}

int es_get_settings(struct es_client *c, const char *index, char **settings_json, struct ddb2es_error *err)
{
    char what[320];
    int rc;

    *settings_json = NULL;
    rc = check_index_arg(index, err);
    if (!rc)
        rc = url_index(c, index, "/_settings?flat_settings=true", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "reading the settings of '%s'", index);
    rc = es_call(c, "GET", NULL, 0, what, err);
    if (rc)
        return rc;
    return one_index_object(c, index, "settings", what, settings_json, NULL, err);
}

int es_put_settings(struct es_client *c, const char *index, const char *settings_json, struct ddb2es_error *err)
{
    char what[320];
    int rc = check_index_arg(index, err);

    if (!rc && !settings_json)
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "no settings given for '%s'", index);
    if (!rc)
        rc = url_index(c, index, "/_settings", err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "changing the settings of '%s'", index);
    return es_call(c, "PUT", settings_json, strlen(settings_json), what, err);
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
    ri = jstr(root, "index.refresh_interval");
    nr = jstr(root, "index.number_of_replicas");
    copy_field(out->refresh_interval, sizeof(out->refresh_interval), ri);
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
    pool_free(l->pool);
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

            rc = grow_array((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
            if (rc)
                goto nomem;
            a = &out->v[out->n];
            a->index = pool_strndup(&out->pool, index, strlen(index));
            a->alias = pool_strndup(&out->pool, alias, strlen(alias));
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

    rc = url_start(c);
    if (!rc && index)
        rc = url_name(c, index);
    if (!rc)
        rc = dbuf_puts(&c->url, "/_alias");
    if (!rc && alias)
        rc = url_name(c, alias);
    if (rc)
        return url_fail(err);
    snprintf(what, sizeof(what), "reading aliases%s%s%s%s", alias ? " " : "", alias ? alias : "",
             index ? " of " : "", index ? index : "");
    rc = es_exchange(c, "GET", NULL, NULL, 0, what, err);
    if (rc)
        return rc;
    if (c->resp.status == 404)
        return DDB2ES_OK;
    if (!is_2xx(c->resp.status))
        return es_answer_error(c, what, err);
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
            dbuf_truncate(out, mark);
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
    if (rc) {
        dbuf_truncate(out, mark);
        if (rc == DDB2ES_E_NOMEM)
            ddb2es_failf(err, rc, "out of memory building a request");
    }
    return rc;
}

int es_aliases_update(struct es_client *c, const struct es_alias_action *actions, size_t n,
                      struct ddb2es_error *err)
{
    struct dbuf body = DBUF_INIT;
    int rc;

    rc = es_aliases_body(actions, n, &body, err);
    if (rc)
        goto out;
    rc = url_start(c);
    if (!rc)
        rc = dbuf_puts(&c->url, "/_aliases");
    if (rc) {
        rc = url_fail(err);
        goto out;
    }
    rc = es_call(c, "POST", body.data, body.len, "updating aliases", err);
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
    pool_free(l->pool);
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

        if (!json_is_object(row) || !jstr(row, "index"))
            continue;
        rc = grow_array((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
        if (rc)
            goto nomem;
        r = &out->v[out->n];
        dst[0] = &r->index;
        dst[1] = &r->health;
        dst[2] = &r->status;
        dst[3] = &r->uuid;
        for (k = 0; k < 4; k++) {
            const char *s = jstr(row, fields[k]);
            *dst[k] = pool_strndup(&out->pool, s ? s : "", s ? strlen(s) : 0);
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
    int rc = url_start(c);

    if (!rc)
        rc = dbuf_puts(&c->url, "/_cat/indices");
    if (!rc && pattern)
        rc = url_name(c, pattern);
    if (!rc)
        rc = dbuf_puts(&c->url, "?format=json&bytes=b&s=index&h=health,status,index,uuid,pri,rep,docs.count,"
                                "docs.deleted,store.size,pri.store.size");
    if (rc)
        return url_fail(err);
    rc = es_call(c, "GET", NULL, 0, "listing indices", err);
    if (rc)
        return rc;
    return es_parse_cat_indices(dbuf_cstr(&c->resp.body), c->resp.body.len, out, err);
}

/* ================================================================= bulk */

/* Checks an id for a bulk action; the message names it. */
static int check_id(const char *id, struct ddb2es_error *err)
{
    char shown[96];
    size_t n;

    if (!id || !*id)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "a document has an empty _id");
    n = strlen(id);
    printable(id, n < 60 ? n : 60, shown, sizeof(shown));
    if (n > ES_ID_MAX_BYTES)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "document id '%s' is %zu bytes long; the limit is %d", shown, n,
                            ES_ID_MAX_BYTES);
    if (!utf8_valid(id, n))
        return ddb2es_failf(err, DDB2ES_E_USAGE, "document id '%s' is not valid UTF-8", shown);
    return DDB2ES_OK;
}

/* {"OP":{"_index":I,"_id":ID */
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

static int bulk_fail(struct dbuf *body, size_t mark, int rc, struct ddb2es_error *err)
{
    dbuf_truncate(body, mark);
    if (rc == DDB2ES_E_NOMEM)
        ddb2es_failf(err, rc, "out of memory building a bulk request");
    return rc;
}

int es_bulk_index(struct dbuf *body, const char *index, const char *id, long long version, const char *doc,
                  size_t doc_len, struct ddb2es_error *err)
{
    size_t mark = body->len;
    int rc;

    rc = check_index_arg(index, err);
    if (!rc)
        rc = check_id(id, err);
    if (rc)
        return rc;
    if (!doc || doc_len == 0) {
        char shown[96];
        printable(id, strlen(id) < 60 ? strlen(id) : 60, shown, sizeof(shown));
        return ddb2es_failf(err, DDB2ES_E_USAGE, "document '%s' is empty", shown);
    }
    if (memchr(doc, '\n', doc_len)) {
        /* a newline would split the document across two NDJSON lines and
         * shift every following action */
        char shown[96];
        printable(id, strlen(id) < 60 ? strlen(id) : 60, shown, sizeof(shown));
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
    return rc ? bulk_fail(body, mark, rc, err) : DDB2ES_OK;
}

int es_bulk_delete(struct dbuf *body, const char *index, const char *id, long long version, long long if_seq_no,
                   long long if_primary_term, struct ddb2es_error *err)
{
    size_t mark = body->len;
    int rc;

    rc = check_index_arg(index, err);
    if (!rc)
        rc = check_id(id, err);
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
    return rc ? bulk_fail(body, mark, rc, err) : DDB2ES_OK;
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

    pool_reset(pool);
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
    pool_free(r->pool);
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
        const char *t = jstr(e, "type");
        if (t) {
            it->error_type = pool_strndup(&r->pool, t, strlen(t));
            if (!it->error_type)
                rc = -2;
        }
        if (!rc && cause_text(e, false, &text))
            rc = -2;
        if (!rc) {
            it->reason = pool_strndup(&r->pool, dbuf_cstr(&text), text.len);
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
    if (key_is(k, n, "index"))
        return ES_OP_INDEX;
    if (key_is(k, n, "create"))
        return ES_OP_CREATE;
    if (key_is(k, n, "delete"))
        return ES_OP_DELETE;
    if (key_is(k, n, "update"))
        return ES_OP_UPDATE;
    return ES_OP_UNKNOWN;
}

/* The item body {"_index":..,"_id":..,"status":..,...}. `prev` lets a run of
 * items on the same index share one copy of its name. */
static int item_body(struct js *j, struct es_bulk_result *r, struct es_bulk_item *it, const char **prev_raw,
                     size_t *prev_len, const char **prev_index)
{
    const char *k;
    size_t kn;
    int first = 1, m, x = 0;
    long long v;

    if (js_enter(j, '{'))
        return -1;
    while ((m = js_member(j, &first, &k, &kn)) == 1) {
        if (key_is(k, kn, "_index") && js_peek(j) == '"') {
            const char *s;
            size_t sn;
            bool esc;
            struct js save = *j;

            if (js_string(j, &s, &sn, &esc))
                return -1;
            if (*prev_index && sn == *prev_len && memcmp(s, *prev_raw, sn) == 0) {
                it->index = *prev_index;
            } else {
                *j = save;
                x = js_get_str(j, &r->pool, &it->index);
                *prev_raw = s;
                *prev_len = sn;
                *prev_index = it->index;
            }
        } else if (key_is(k, kn, "_id")) {
            x = js_get_str(j, &r->pool, &it->id);
        } else if (key_is(k, kn, "status")) {
            v = 0;
            x = js_get_int(j, &v);
            it->status = v > 0 && v < 1000 ? (int)v : 0;
        } else if (key_is(k, kn, "result")) {
            x = js_get_str(j, &r->pool, &it->result);
        } else if (key_is(k, kn, "error")) {
            it->failed = true;
            x = item_error(j, r, it);
        } else if (key_is(k, kn, "_version")) {
            x = js_get_int(j, &it->version);
        } else if (key_is(k, kn, "_seq_no")) {
            x = js_get_int(j, &it->seq_no);
        } else if (key_is(k, kn, "_primary_term")) {
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
    const char *prev_raw = NULL, *prev_index = NULL;
    size_t prev_len = 0;
    int first = 1, e, x;

    if (js_enter(j, '['))
        return -1;
    while ((e = js_elem(j, &first)) == 1) {
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
        if (grow_array((void **)&r->items, &r->cap, r->nitems + 1, sizeof(*r->items)))
            return -2;
        it = &r->items[r->nitems];
        memset(it, 0, sizeof(*it));
        it->position = r->nitems;
        it->index = it->id = it->result = it->error_type = it->reason = "";
        it->version = it->seq_no = it->primary_term = -1;
        if (js_enter(j, '{'))
            return -1;
        while ((m = js_member(j, &ifirst, &k, &kn)) == 1) {
            if (js_peek(j) == '{' && it->op == ES_OP_UNKNOWN) {
                it->op = op_of(k, kn);
                x = item_body(j, r, it, &prev_raw, &prev_len, &prev_index);
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
    while ((m = js_member(&j, &first, &k, &kn)) == 1) {
        if (key_is(k, kn, "took")) {
            x = js_get_int(&j, &r->took_ms);
        } else if (key_is(k, kn, "errors")) {
            x = js_get_bool(&j, &r->errors);
            errors_seen = true;
        } else if (key_is(k, kn, "items") && !items_seen) {
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
    rc = url_start(c);
    if (!rc)
        rc = dbuf_puts(&c->url, "/_bulk");
    if (rc)
        return url_fail(err);
    rc = es_exchange(c, "POST", "application/x-ndjson", body, len, what, err);
    r->seconds = c->resp.seconds;
    if (rc) {
        r->outcome = ES_BULK_TRANSPORT;
        r->request_retryable = rc == DDB2ES_E_NET || rc == DDB2ES_E_TIMEOUT;
        return rc;
    }
    r->http_status = c->resp.status;
    if (is_2xx(c->resp.status)) {
        rc = es_parse_bulk_response(dbuf_cstr(&c->resp.body), c->resp.body.len, r, err);
        if (rc)
            prefix_error(err, rc, what);
        return rc;
    }
    r->outcome = classify(c->resp.status);
    r->request_retryable = r->outcome == ES_BULK_THROTTLED || r->outcome == ES_BULK_UNAVAILABLE ||
                           r->outcome == ES_BULK_SERVER_ERROR;
    return es_answer_error(c, what, err);
}

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
    pool_reset(pool);
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
    pool_free(p->pool);
    es_page_init(p);
}

static int page_hit(struct js *j, struct es_page *out, const char **sort, size_t *sort_len, const char **prev_raw,
                    size_t *prev_len, const char **prev_index)
{
    struct es_hit *h;
    const char *k;
    size_t kn;
    int first = 1, m, x = 0;

    if (grow_array((void **)&out->hits, &out->cap, out->nhits + 1, sizeof(*out->hits)))
        return -2;
    h = &out->hits[out->nhits];
    memset(h, 0, sizeof(*h));
    h->index = h->id = "";
    h->seq_no = h->primary_term = h->version = -1;
    *sort = NULL;
    if (js_enter(j, '{'))
        return -1;
    while ((m = js_member(j, &first, &k, &kn)) == 1) {
        if (key_is(k, kn, "_index") && js_peek(j) == '"') {
            const char *s;
            size_t sn;
            bool esc;
            struct js save = *j;

            if (js_string(j, &s, &sn, &esc))
                return -1;
            if (*prev_index && sn == *prev_len && memcmp(s, *prev_raw, sn) == 0) {
                h->index = *prev_index;
            } else {
                *j = save;
                x = js_get_str(j, &out->pool, &h->index);
                *prev_raw = s;
                *prev_len = sn;
                *prev_index = h->index;
            }
        } else if (key_is(k, kn, "_id")) {
            x = js_get_str(j, &out->pool, &h->id);
        } else if (key_is(k, kn, "_seq_no")) {
            x = js_get_int(j, &h->seq_no);
        } else if (key_is(k, kn, "_primary_term")) {
            x = js_get_int(j, &h->primary_term);
        } else if (key_is(k, kn, "_version")) {
            x = js_get_int(j, &h->version);
        } else if (key_is(k, kn, "_source")) {
            const char *s;
            size_t sn;

            if (js_raw(j, &s, &sn))
                return -1;
            h->source = pool_strndup(&out->pool, s, sn);
            h->source_len = sn;
            if (!h->source)
                return -2;
        } else if (key_is(k, kn, "sort")) {
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
    const char *k, *prev_raw = NULL, *prev_index = NULL;
    size_t kn, prev_len = 0;
    int first = 1, m, x = 0;

    if (js_enter(j, '{'))
        return -1;
    while ((m = js_member(j, &first, &k, &kn)) == 1) {
        if (key_is(k, kn, "total")) {
            if (js_peek(j) == '{') {
                const char *tk;
                size_t tkn;
                int tfirst = 1, tm;

                if (js_enter(j, '{'))
                    return -1;
                while ((tm = js_member(j, &tfirst, &tk, &tkn)) == 1) {
                    if (key_is(tk, tkn, "value")) {
                        x = js_get_int(j, &out->total);
                    } else if (key_is(tk, tkn, "relation") && js_peek(j) == '"') {
                        const char *s;
                        size_t sn;
                        bool esc;
                        x = js_string(j, &s, &sn, &esc);
                        out->total_is_lower_bound = key_is(s, sn, "gte");
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
        } else if (key_is(k, kn, "hits") && js_peek(j) == '[') {
            int efirst = 1, e;

            if (js_enter(j, '['))
                return -1;
            while ((e = js_elem(j, &efirst)) == 1) {
                const char *sort;
                size_t sort_len = 0;

                x = page_hit(j, out, &sort, &sort_len, &prev_raw, &prev_len, &prev_index);
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
    while ((m = js_member(&j, &first, &k, &kn)) == 1) {
        if (key_is(k, kn, "pit_id")) {
            x = js_get_strdup(&j, &out->pit_id);
        } else if (key_is(k, kn, "_scroll_id")) {
            x = js_get_strdup(&j, &out->scroll_id);
        } else if (key_is(k, kn, "timed_out")) {
            x = js_get_bool(&j, &out->timed_out);
        } else if (key_is(k, kn, "_shards") && js_peek(&j) == '{') {
            const char *sk;
            size_t skn;
            int sfirst = 1, sm;

            if (js_enter(&j, '{'))
                return js_fail(-1, "search answer", err);
            while ((sm = js_member(&j, &sfirst, &sk, &skn)) == 1) {
                if (key_is(sk, skn, "failed")) {
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
        } else if (key_is(k, kn, "hits") && js_peek(&j) == '{') {
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
    if (rc) {
        dbuf_truncate(out, mark);
        if (rc == DDB2ES_E_NOMEM)
            ddb2es_failf(err, rc, "out of memory building a search request");
    }
    return rc;
}

int es_parse_pit_open(const char *body, size_t len, char **pit_id, struct ddb2es_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *id = jstr(root, "pit_id");
    int rc = DDB2ES_OK;

    *pit_id = NULL;
    if (!id)
        id = jstr(root, "id");
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
    if (rc) {
        dbuf_truncate(out, mark);
        if (rc == DDB2ES_E_NOMEM)
            ddb2es_failf(err, rc, "out of memory building a request");
    }
    return rc;
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
        return ddb2es_failf(err, DDB2ES_E_USAGE, "%s at %s offers no point-in-time API", product(c), c->host);
    rc = check_index_arg(index, err);
    if (rc)
        return rc;
    rc = url_index(c, index, kind == ES_PIT_ES ? "/_pit?keep_alive=" : "/_search/point_in_time?keep_alive=", err);
    if (!rc && url_query_value(c, keep_alive ? keep_alive : "5m"))
        rc = url_fail(err);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "opening a point in time on '%s'", index);
    rc = es_call(c, "POST", NULL, 0, what, err);
    if (rc)
        return rc;
    rc = es_parse_pit_open(dbuf_cstr(&c->resp.body), c->resp.body.len, pit_id, err);
    return rc ? prefix_error(err, rc, what) : DDB2ES_OK;
}

/* A DELETE with a JSON body where 404 (already gone) is fine. */
static int delete_context(struct es_client *c, const char *path, const struct dbuf *body, const char *what,
                          struct ddb2es_error *err)
{
    int rc = url_start(c);

    if (!rc)
        rc = dbuf_puts(&c->url, path);
    if (rc)
        return url_fail(err);
    rc = es_exchange(c, "DELETE", "application/json", body->data, body->len, what, err);
    if (rc)
        return rc;
    if (c->resp.status == 404 || is_2xx(c->resp.status))
        return DDB2ES_OK;
    return es_answer_error(c, what, err);
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
        rc = check_index_arg(index, err);
        if (rc)
            return rc;
        rc = url_index(c, index, "/_search", err);
    } else {
        rc = url_index(c, NULL, "/_search", err);
    }
    if (!rc && scroll_keep_alive) {
        if (dbuf_puts(&c->url, "?scroll=") || url_query_value(c, scroll_keep_alive))
            rc = url_fail(err);
    }
    if (!rc)
        rc = es_search_body(p, &body, err);
    if (rc)
        goto out;
    snprintf(what, sizeof(what), "searching '%s'", index ? index : "a point in time");
    rc = es_call(c, "POST", body.data, body.len, what, err);
    if (!rc)
        rc = es_parse_search_page(dbuf_cstr(&c->resp.body), c->resp.body.len, out, err);
    if (rc == DDB2ES_E_PROTOCOL || rc == DDB2ES_E_NOMEM)
        prefix_error(err, rc, what);
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
        rc = url_start(c);
        if (!rc)
            rc = dbuf_puts(&c->url, "/_search/scroll");
        if (rc)
            rc = url_fail(err);
    }
    if (!rc)
        rc = es_call(c, "POST", body.data, body.len, "reading the next scroll page", err);
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
    rc = check_index_arg(o->index, err);
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
                          s->index, product(s->c), s->c->host, page->shards_failed,
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
    pool_reset(l->pool);
}

void es_doc_list_free(struct es_doc_list *l)
{
    if (!l)
        return;
    free(l->v);
    pool_free(l->pool);
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
            rc = check_id(ids[i], err);
        if (!rc)
            rc = es_json_string(out, ids[i], strlen(ids[i]), err);
    }
    if (!rc)
        rc = dbuf_puts(out, "]}");
    if (rc) {
        dbuf_truncate(out, mark);
        if (rc == DDB2ES_E_NOMEM)
            ddb2es_failf(err, rc, "out of memory building a request");
    }
    return rc;
}

static int mget_doc(struct js *j, struct es_doc_list *out)
{
    struct es_doc *d;
    const char *k;
    size_t kn;
    int first = 1, m, x = 0;

    if (grow_array((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v)))
        return -2;
    d = &out->v[out->n];
    memset(d, 0, sizeof(*d));
    d->index = d->id = "";
    d->version = d->seq_no = d->primary_term = -1;
    if (js_enter(j, '{'))
        return -1;
    while ((m = js_member(j, &first, &k, &kn)) == 1) {
        if (key_is(k, kn, "_index")) {
            x = js_get_str(j, &out->pool, &d->index);
        } else if (key_is(k, kn, "_id")) {
            x = js_get_str(j, &out->pool, &d->id);
        } else if (key_is(k, kn, "found")) {
            x = js_get_bool(j, &d->found);
        } else if (key_is(k, kn, "_version")) {
            x = js_get_int(j, &d->version);
        } else if (key_is(k, kn, "_seq_no")) {
            x = js_get_int(j, &d->seq_no);
        } else if (key_is(k, kn, "_primary_term")) {
            x = js_get_int(j, &d->primary_term);
        } else if (key_is(k, kn, "_source")) {
            const char *s;
            size_t sn;

            if (js_raw(j, &s, &sn))
                return -1;
            d->source = pool_strndup(&out->pool, s, sn);
            d->source_len = sn;
            if (!d->source)
                return -2;
        } else if (key_is(k, kn, "error")) {
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
                const char *t = jstr(e, "type");
                x = dbuf_printf(&text, "%s: ", t ? t : "error") || cause_text(e, true, &text) ? -2 : 0;
            } else {
                x = dbuf_puts(&text, "error") ? -2 : 0;
            }
            if (!x) {
                d->error = pool_strndup(&out->pool, dbuf_cstr(&text), text.len);
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
    while ((m = js_member(&j, &first, &k, &kn)) == 1) {
        if (key_is(k, kn, "docs") && js_peek(&j) == '[') {
            int efirst = 1, e;

            docs = true;
            if (js_enter(&j, '['))
                return js_fail(-1, "_mget answer", err);
            while ((e = js_elem(&j, &efirst)) == 1) {
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
    rc = check_index_arg(index, err);
    if (!rc)
        rc = es_mget_body(ids, n, &body, err);
    if (!rc)
        rc = url_index(c, index, "/_mget", err);
    if (rc)
        goto out;
    snprintf(what, sizeof(what), "fetching %zu documents from '%s'", n, index);
    rc = es_call(c, "POST", body.data, body.len, what, err);
    if (!rc)
        rc = es_parse_mget(dbuf_cstr(&c->resp.body), c->resp.body.len, out, err);
    if (rc == DDB2ES_E_PROTOCOL)
        prefix_error(err, rc, what);
out:
    dbuf_free(&body);
    return rc;
}
