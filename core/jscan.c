/*
 * jscan.c - the validating JSON scanner and the string pool behind the
 * Elasticsearch client's large-answer readers. See jscan.h.
 *
 * DESIGN
 * - The pool is chunked: blocks are never moved, so the pointers handed out
 *   stay valid until the pool is reset or freed; a reset keeps the newest
 *   (largest) block, so a reused result (a bulk answer per request, a search
 *   page per page) stops allocating once warm.
 * - The scanner validates while it walks: every byte is either consumed by a
 *   grammar rule or refused, so an answer it accepts is JSON (tested against
 *   jansson by mutation in test_es_bulk.c). Strings are copied only when
 *   kept, and unescaped only when they hold escapes.
 */
#include "jscan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *js_pool_alloc(struct es_pool **pp, size_t n)
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
void js_pool_reset(struct es_pool *p)
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

void js_pool_free(struct es_pool *p)
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

const char *js_pool_strndup(struct es_pool **pp, const char *s, size_t n)
{
    char *d = js_pool_alloc(pp, n + 1);

    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Grows an array of `size`-byte elements to hold at least `need`. */
int js_grow_array(void **v, size_t *cap, size_t need, size_t size)
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

void js_dbuf_truncate(struct dbuf *b, size_t len)
{
    if (b->data && len <= b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

/* ============================================================== scanner */

#define JS_MAX_DEPTH 128

void js_init(struct js *j, const char *s, size_t n)
{
    j->p = s;
    j->end = s + n;
    j->depth = 0;
}

int js_peek(struct js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int js_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A string at the cursor: *s and *n give the raw content between the quotes, *esc when it holds escapes. */
int js_string(struct js *j, const char **s, size_t *n, bool *esc)
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
        while (p < end && js_is_digit((unsigned char)*p))
            p++;
    } else {
        return -1;
    }
    if (p < end && *p == '.') {
        *is_int = false;
        p++;
        if (p >= end || !js_is_digit((unsigned char)*p))
            return -1;
        while (p < end && js_is_digit((unsigned char)*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !js_is_digit((unsigned char)*p))
            return -1;
        while (p < end && js_is_digit((unsigned char)*p))
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
int js_enter(struct js *j, int open)
{
    if (js_peek(j) != open || j->depth >= JS_MAX_DEPTH)
        return -1;
    j->p++;
    j->depth++;
    return 0;
}

/* What js_member and js_elem share: 0 when the container ends at `close`
 * (consumed), -1 when no ',' separates the next entry, 1 with the cursor on
 * that entry. */
static int js_next(struct js *j, int *first, int close)
{
    int ch = js_peek(j);

    if (ch == close) {
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
    return 1;
}

/* Next member of an object entered with js_enter('{'). *first starts at 1. */
int js_member(struct js *j, int *first, const char **key, size_t *klen)
{
    int r = js_next(j, first, '}');
    bool esc;

    if (r != 1)
        return r;
    if (js_peek(j) != '"' || js_string(j, key, klen, &esc))
        return -1;
    if (js_peek(j) != ':')
        return -1;
    j->p++;
    return js_peek(j) < 0 ? -1 : 1;
}

/* Next element of an array entered with js_enter('['). */
int js_elem(struct js *j, int *first)
{
    int r = js_next(j, first, ']');

    if (r != 1)
        return r;
    return js_peek(j) < 0 ? -1 : 1;
}

int js_skip(struct js *j)
{
    int ch = js_peek(j), first = 1, r;
    const char *k;
    size_t kn;
    bool b;

    switch (ch) {
    case '{':
        if (js_enter(j, '{'))
            return -1;
        for (;;) {
            r = js_member(j, &first, &k, &kn);
            if (r != 1)
                return r;
            if (js_skip(j))
                return -1;
        }
    case '[':
        if (js_enter(j, '['))
            return -1;
        for (;;) {
            r = js_elem(j, &first);
            if (r != 1)
                return r;
            if (js_skip(j))
                return -1;
        }
    case '"':
        return js_string(j, &k, &kn, &b);
    case 't':
        return js_literal(j, "true");
    case 'f':
        return js_literal(j, "false");
    case 'n':
        return js_literal(j, "null");
    default:
        if (ch == '-' || js_is_digit(ch))
            return js_number(j, &b);
        return -1;
    }
}

/* After the root value: only whitespace may follow. */
int js_end(struct js *j)
{
    return js_peek(j) < 0 ? 0 : -1;
}

bool js_key_is(const char *k, size_t kn, const char *name)
{
    return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

/* The raw span of the value at the cursor. */
int js_raw(struct js *j, const char **s, size_t *n)
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

size_t js_put_utf8(char *o, unsigned cp)
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
size_t js_unescape(const char *s, size_t n, char *out)
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
            o += js_put_utf8(out + o, cp);
            break;
        default: /* '"', '\\', '/' */
            out[o++] = s[i - 1];
            break;
        }
    }
    return o;
}

/* The string at the cursor: 1 with its raw bytes in *s, *n (borrowed) and
 * *esc; or a non-string skipped: 0; or -1 on a syntax error. */
static int str_or_skip(struct js *j, const char **s, size_t *n, bool *esc)
{
    if (js_peek(j) != '"')
        return js_skip(j);
    return js_string(j, s, n, esc) ? -1 : 1;
}

/* Writes the string s[0..n) (escapes decoded when esc) NUL-terminated into d (n + 1 bytes). */
static char *decode_into(char *d, const char *s, size_t n, bool esc)
{
    if (esc)
        n = js_unescape(s, n, d);
    else
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Reads a string value into the pool (*out), or skips a non-string (null,
 * ...) leaving *out unchanged. Returns -1 on syntax error, -2 out of memory. */
int js_get_str(struct js *j, struct es_pool **pool, const char **out)
{
    return js_get_str_memo(j, pool, NULL, out);
}

/* As js_get_str; a string whose raw bytes equal the last one read with memo
 * is not copied again: *out is that copy. memo NULL: no memory (js_get_str). */
int js_get_str_memo(struct js *j, struct es_pool **pool, struct js_str_memo *memo, const char **out)
{
    const char *s;
    size_t n;
    bool esc;
    char *d;
    int r = str_or_skip(j, &s, &n, &esc);

    if (r != 1)
        return r;
    if (memo && memo->copy && n == memo->len && memcmp(s, memo->raw, n) == 0) {
        *out = memo->copy;
        return 0;
    }
    d = js_pool_alloc(pool, n + 1);
    if (!d)
        return -2;
    *out = decode_into(d, s, n, esc);
    if (memo) {
        memo->raw = s;
        memo->len = n;
        memo->copy = *out;
    }
    return 0;
}

/* As js_get_str, into a malloc'd string (*out replaced; previous value freed). */
int js_get_strdup(struct js *j, char **out)
{
    const char *s;
    size_t n;
    bool esc;
    char *d;
    int r = str_or_skip(j, &s, &n, &esc);

    if (r != 1)
        return r;
    d = malloc(n + 1);
    if (!d)
        return -2;
    free(*out);
    *out = decode_into(d, s, n, esc);
    return 0;
}

/* The raw text of the value at the cursor, copied into the pool. */
int js_get_raw(struct js *j, struct es_pool **pool, const char **out, size_t *len)
{
    const char *s;
    size_t n;

    if (js_raw(j, &s, &n))
        return -1;
    *out = js_pool_strndup(pool, s, n);
    *len = n;
    return *out ? 0 : -2;
}

/* Reads an integer value into *v; other values are skipped (v unchanged). */
int js_get_int(struct js *j, long long *v)
{
    const char *start;
    char tmp[32];
    bool is_int;
    size_t n;
    int ch = js_peek(j);

    if (ch != '-' && !js_is_digit(ch))
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

int js_get_bool(struct js *j, bool *v)
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
int js_fail(int r, const char *what, struct ddb2es_error *err)
{
    if (r == -2)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading %s", what);
    return ddb2es_failf(err, DDB2ES_E_PROTOCOL, "unreadable %s: not valid JSON or not the expected shape", what);
}

/* ======================================================== JSON strings */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
size_t js_utf8_seq(const unsigned char *s, size_t n)
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

bool js_utf8_valid(const char *s, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        k = js_utf8_seq((const unsigned char *)s + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}
/* A js_printable, bounded rendering of an id or name for messages. */
void js_printable(const char *s, size_t n, char *out, size_t outsz)
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
