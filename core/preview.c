/*
 * preview.c - map the first items of a table without writing anything, and
 * compare the documents with what the index holds. See ddb2es/preview.h.
 *
 * DESIGN
 * Reading: Scan requests with Limit = documents still wanted, so DynamoDB
 * returns (and charges for) no more than the preview shows; a page cut short
 * by the 1 MB limit or by items that fail mapping just leads to another
 * request. max_read bounds the reading of a table full of misfits.
 *
 * Comparing: the indexed `_source` and the new document are both parsed into
 * a small tree of their own (struct jtree) rather than a jansson tree,
 * because jansson refuses integers beyond 64 bits and reals beyond a
 * double, which DynamoDB numbers (38 digits, 1E+125) can exceed: the tree
 * keeps every number as its text and the comparison decides how to read it.
 * Each node also keeps the span of its text, so a difference shows the old
 * and new values exactly as they are stored. The same tree drives the
 * re-indenting printer, which therefore never rewrites a number either.
 *
 * Nothing is shared: a result and its items belong to the caller; the trees
 * live for one comparison. The entity is only read (entity_map_item is
 * thread-safe), so previews may run on any threads with their own clients.
 */
#include "ddb2es/preview.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/ddbjson.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/entity.h"
#include "ddb2es/es.h"
#include "ddb2es/es_search.h"
#include "util.h"

/* Deepest JSON nesting the comparison and the printer accept. */
#define JT_MAX_DEPTH 512

/* ---- a JSON tree that keeps the text ------------------------------------ */

enum jt_type { JT_NULL, JT_FALSE, JT_TRUE, JT_NUM, JT_STR, JT_ARR, JT_OBJ };

struct jnode {
    enum jt_type type;
    size_t off, len;     /* the value's text in jtree.text */
    size_t koff, klen;   /* a member's key as written (quotes included) */
    size_t kdec, kdlen;  /* a member's key, unescaped, in jtree.strs */
    size_t sdec, sdlen;  /* a string's value, unescaped, in jtree.strs */
    long first, last;    /* first and last child (-1: none) */
    long next;           /* next sibling (-1: none) */
    size_t count;        /* children */
};

struct jtree {
    const char *text;
    size_t len;
    struct jnode *v;     /* v[0] is the root */
    size_t n, cap;
    struct dbuf strs;    /* unescaped keys and strings, NUL-separated */
};

struct jparser {
    struct jtree *t;
    size_t pos;
    const char *what;    /* "the indexed document" for messages */
    struct ddb2es_error *err;
};

static void jtree_free(struct jtree *t)
{
    free(t->v);
    dbuf_free(&t->strs);
    memset(t, 0, sizeof(*t));
}

static const char *jt_str(const struct jtree *t, size_t off)
{
    return t->strs.data ? t->strs.data + off : "";
}

static int jp_fail(struct jparser *p, const char *why)
{
    return ddb2es_failf(p->err, DDB2ES_E_PROTOCOL, "%s is not valid JSON at byte %zu: %s", p->what, p->pos, why);
}

static int jp_nomem(struct jparser *p)
{
    return ddb2es_failf(p->err, DDB2ES_E_NOMEM, "out of memory reading %s", p->what);
}

static void jp_ws(struct jparser *p)
{
    while (p->pos < p->t->len) {
        char c = p->t->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int jp_new(struct jparser *p, long *idx)
{
    struct jtree *t = p->t;

    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct jnode *v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return jp_nomem(p);
        t->v = v;
        t->cap = cap;
    }
    memset(&t->v[t->n], 0, sizeof(t->v[0]));
    t->v[t->n].first = t->v[t->n].last = t->v[t->n].next = -1;
    *idx = (long)t->n++;
    return DDB2ES_OK;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int put_utf8(struct dbuf *b, unsigned cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return dbuf_append(b, u, n);
}

/* A string at p->pos (the opening quote): its unescaped bytes go to strs. */
static int jp_string(struct jparser *p, size_t *dec, size_t *dlen)
{
    const char *s = p->t->text;
    size_t len = p->t->len, start;
    struct dbuf *b = &p->t->strs;
    int rc;

    p->pos++; /* the quote */
    *dec = b->len;
    for (;;) {
        start = p->pos;
        while (p->pos < len && s[p->pos] != '"' && s[p->pos] != '\\' && (unsigned char)s[p->pos] >= 0x20)
            p->pos++;
        if (p->pos > start && dbuf_append(b, s + start, p->pos - start))
            return jp_nomem(p);
        if (p->pos >= len)
            return jp_fail(p, "unterminated string");
        if (s[p->pos] == '"')
            break;
        if ((unsigned char)s[p->pos] < 0x20)
            return jp_fail(p, "control character in a string");
        /* an escape */
        if (p->pos + 1 >= len)
            return jp_fail(p, "unterminated escape");
        {
            char e = s[p->pos + 1], c;
            unsigned cp, lo;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                if (p->pos + 6 > len || hex4(s + p->pos + 2, &cp))
                    return jp_fail(p, "bad \\u escape");
                p->pos += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF && p->pos + 6 <= len && s[p->pos] == '\\' &&
                    s[p->pos + 1] == 'u' && hex4(s + p->pos + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p->pos += 6;
                }
                /* a lone surrogate is kept as its own code unit: only equality matters here */
                if (put_utf8(b, cp))
                    return jp_nomem(p);
                continue;
            default:
                return jp_fail(p, "bad escape");
            }
            if (dbuf_putc(b, c))
                return jp_nomem(p);
            p->pos += 2;
        }
    }
    p->pos++; /* the closing quote */
    *dlen = b->len - *dec;
    rc = dbuf_putc(b, '\0');
    return rc ? jp_nomem(p) : DDB2ES_OK;
}

static int jp_number(struct jparser *p)
{
    const char *s = p->t->text;
    size_t len = p->t->len, d;

    if (p->pos < len && s[p->pos] == '-')
        p->pos++;
    if (p->pos >= len || s[p->pos] < '0' || s[p->pos] > '9')
        return jp_fail(p, "bad number");
    if (s[p->pos] == '0') {
        p->pos++;
    } else {
        while (p->pos < len && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
    }
    if (p->pos < len && s[p->pos] == '.') {
        d = ++p->pos;
        while (p->pos < len && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
        if (p->pos == d)
            return jp_fail(p, "bad number");
    }
    if (p->pos < len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < len && (s[p->pos] == '+' || s[p->pos] == '-'))
            p->pos++;
        d = p->pos;
        while (p->pos < len && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
        if (p->pos == d)
            return jp_fail(p, "bad number");
    }
    return DDB2ES_OK;
}

static int jp_value(struct jparser *p, int depth, long *out);

/* Appends child to parent's children. */
static void jp_link(struct jtree *t, long parent, long child)
{
    if (t->v[parent].last < 0)
        t->v[parent].first = child;
    else
        t->v[t->v[parent].last].next = child;
    t->v[parent].last = child;
    t->v[parent].count++;
}

static int jp_container(struct jparser *p, long idx, int depth)
{
    struct jtree *t = p->t;
    int obj = t->text[p->pos] == '{';
    char close = obj ? '}' : ']';
    long child = -1;
    int rc;

    t->v[idx].type = obj ? JT_OBJ : JT_ARR;
    p->pos++;
    jp_ws(p);
    if (p->pos < t->len && t->text[p->pos] == close) {
        p->pos++;
        return DDB2ES_OK;
    }
    for (;;) {
        size_t koff = 0, klen = 0, kdec = 0, kdlen = 0;
        jp_ws(p);
        if (obj) {
            if (p->pos >= t->len || t->text[p->pos] != '"')
                return jp_fail(p, "expected a member name");
            koff = p->pos;
            rc = jp_string(p, &kdec, &kdlen);
            if (rc)
                return rc;
            klen = p->pos - koff;
            jp_ws(p);
            if (p->pos >= t->len || t->text[p->pos] != ':')
                return jp_fail(p, "expected ':'");
            p->pos++;
        }
        rc = jp_value(p, depth + 1, &child);
        if (rc)
            return rc;
        t->v[child].koff = koff;
        t->v[child].klen = klen;
        t->v[child].kdec = kdec;
        t->v[child].kdlen = kdlen;
        jp_link(t, idx, child);
        jp_ws(p);
        if (p->pos < t->len && t->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < t->len && t->text[p->pos] == close) {
            p->pos++;
            return DDB2ES_OK;
        }
        return jp_fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int jp_value(struct jparser *p, int depth, long *out)
{
    struct jtree *t = p->t;
    long idx = -1;
    size_t off;
    int rc;
    char c;

    if (depth > JT_MAX_DEPTH)
        return jp_fail(p, "nested too deep");
    jp_ws(p);
    if (p->pos >= t->len)
        return jp_fail(p, "unexpected end");
    rc = jp_new(p, &idx);
    if (rc)
        return rc;
    off = p->pos;
    c = t->text[p->pos];
    if (c == '{' || c == '[') {
        rc = jp_container(p, idx, depth);
    } else if (c == '"') {
        size_t dec = 0, dlen = 0;
        rc = jp_string(p, &dec, &dlen);
        t->v[idx].type = JT_STR;
        t->v[idx].sdec = dec;
        t->v[idx].sdlen = dlen;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        t->v[idx].type = JT_NUM;
        rc = jp_number(p);
    } else {
        static const struct { const char *word; enum jt_type type; } lits[] = {
            {"true", JT_TRUE}, {"false", JT_FALSE}, {"null", JT_NULL}};
        rc = -1;
        for (size_t i = 0; i < 3; i++) {
            size_t n = strlen(lits[i].word);
            if (t->len - p->pos >= n && memcmp(t->text + p->pos, lits[i].word, n) == 0) {
                t->v[idx].type = lits[i].type;
                p->pos += n;
                rc = DDB2ES_OK;
                break;
            }
        }
        if (rc)
            return jp_fail(p, "unexpected character");
    }
    if (rc)
        return rc;
    t->v[idx].off = off;
    t->v[idx].len = p->pos - off;
    *out = idx;
    return DDB2ES_OK;
}

static int jtree_parse(struct jtree *t, const char *text, size_t len, const char *what, struct ddb2es_error *err)
{
    struct jparser p = {t, 0, what, err};
    long root = -1;
    int rc;

    memset(t, 0, sizeof(*t));
    t->text = text;
    t->len = len;
    rc = jp_value(&p, 1, &root);
    if (!rc) {
        jp_ws(&p);
        if (p.pos != len)
            rc = jp_fail(&p, "data after the value");
    }
    if (rc)
        jtree_free(t);
    return rc;
}

/* ---- comparing two trees --------------------------------------------------- */

void preview_diff_list_init(struct preview_diff_list *l)
{
    memset(l, 0, sizeof(*l));
}

void preview_diff_list_free(struct preview_diff_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].old_json);
        free(l->v[i].new_json);
    }
    free(l->v);
    preview_diff_list_init(l);
}

const char *preview_diff_kind_name(enum preview_diff_kind k)
{
    switch (k) {
    case PREVIEW_DIFF_ADDED: return "added";
    case PREVIEW_DIFF_REMOVED: return "removed";
    case PREVIEW_DIFF_CHANGED: return "changed";
    }
    return "unknown";
}

struct differ {
    const struct jtree *a;       /* old: the indexed document */
    const struct jtree *b;       /* new: the mapped document */
    struct ddbjson_path path;
    struct preview_diff_list *out;
};

static int emit(struct differ *d, enum preview_diff_kind kind, long ai, long bi)
{
    struct preview_diff *x;
    char path[1024];

    if (d->out->n >= PREVIEW_MAX_DIFFS) {
        d->out->omitted++;
        return DDB2ES_OK;
    }
    if (d->out->n == d->out->cap) {
        size_t cap = d->out->cap ? d->out->cap * 2 : 8;
        struct preview_diff *v = realloc(d->out->v, cap * sizeof(*v));
        if (!v)
            return DDB2ES_E_NOMEM;
        d->out->v = v;
        d->out->cap = cap;
    }
    if (d->path.n == 0)
        snprintf(path, sizeof(path), "(document)");
    else
        ddbjson_path_format(&d->path, path, sizeof(path));
    x = &d->out->v[d->out->n];
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    x->path = util_strdup(path);
    if (ai >= 0)
        x->old_json = util_strndup(d->a->text + d->a->v[ai].off, d->a->v[ai].len);
    if (bi >= 0)
        x->new_json = util_strndup(d->b->text + d->b->v[bi].off, d->b->v[bi].len);
    if (!x->path || (ai >= 0 && !x->old_json) || (bi >= 0 && !x->new_json)) {
        free(x->path);
        free(x->old_json);
        free(x->new_json);
        return DDB2ES_E_NOMEM;
    }
    d->out->n++;
    return DDB2ES_OK;
}

static int is_integer_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return 0;
    return 1;
}

/*
 * Numbers by value where a 64-bit integer or a double holds them both (what
 * jansson could read), else as text: two integers beyond 64 bits or two
 * reals beyond a double are equal only when written alike.
 */
static int numbers_equal(const char *a, size_t al, const char *b, size_t bl)
{
    char x[512], y[512];
    char *end;

    if (al == bl && memcmp(a, b, al) == 0)
        return 1;
    if (al >= sizeof(x) || bl >= sizeof(y))
        return 0;
    memcpy(x, a, al);
    x[al] = '\0';
    memcpy(y, b, bl);
    y[bl] = '\0';
    if (is_integer_text(a, al) && is_integer_text(b, bl)) {
        long long u, v;
        errno = 0;
        u = strtoll(x, &end, 10);
        if (errno || *end)
            return 0;
        v = strtoll(y, &end, 10);
        if (errno || *end)
            return 0;
        return u == v;
    } else {
        double u, v;
        errno = 0;
        u = strtod(x, &end);
        if (errno || *end)
            return 0;
        v = strtod(y, &end);
        if (errno || *end)
            return 0;
        return u == v;
    }
}

static int kind_class(enum jt_type t)
{
    return t == JT_TRUE || t == JT_FALSE ? JT_FALSE : (int)t;
}

static int diff_node(struct differ *d, long ai, long bi);

static long find_member(const struct jtree *t, long obj, const char *key, size_t klen)
{
    for (long c = t->v[obj].first; c >= 0; c = t->v[c].next)
        if (t->v[c].kdlen == klen && memcmp(jt_str(t, t->v[c].kdec), key, klen) == 0)
            return c;
    return -1;
}

static int diff_objects(struct differ *d, long ai, long bi)
{
    const struct jtree *a = d->a, *b = d->b;
    int rc;

    for (long c = b->v[bi].first; c >= 0; c = b->v[c].next) {
        const char *key = jt_str(b, b->v[c].kdec);
        long o = find_member(a, ai, key, b->v[c].kdlen);
        ddbjson_path_push_key(&d->path, key, b->v[c].kdlen);
        rc = o < 0 ? emit(d, PREVIEW_DIFF_ADDED, -1, c) : diff_node(d, o, c);
        ddbjson_path_pop(&d->path);
        if (rc)
            return rc;
    }
    for (long c = a->v[ai].first; c >= 0; c = a->v[c].next) {
        const char *key = jt_str(a, a->v[c].kdec);
        if (find_member(b, bi, key, a->v[c].kdlen) >= 0)
            continue;
        ddbjson_path_push_key(&d->path, key, a->v[c].kdlen);
        rc = emit(d, PREVIEW_DIFF_REMOVED, c, -1);
        ddbjson_path_pop(&d->path);
        if (rc)
            return rc;
    }
    return DDB2ES_OK;
}

static int diff_arrays(struct differ *d, long ai, long bi)
{
    long x = d->a->v[ai].first, y = d->b->v[bi].first;
    size_t i = 0;
    int rc = DDB2ES_OK;

    for (; !rc && (x >= 0 || y >= 0); i++) {
        ddbjson_path_push_index(&d->path, i);
        if (x >= 0 && y >= 0)
            rc = diff_node(d, x, y);
        else if (y >= 0)
            rc = emit(d, PREVIEW_DIFF_ADDED, -1, y);
        else
            rc = emit(d, PREVIEW_DIFF_REMOVED, x, -1);
        ddbjson_path_pop(&d->path);
        if (x >= 0)
            x = d->a->v[x].next;
        if (y >= 0)
            y = d->b->v[y].next;
    }
    return rc;
}

static int diff_node(struct differ *d, long ai, long bi)
{
    const struct jnode *x = &d->a->v[ai], *y = &d->b->v[bi];

    if (kind_class(x->type) != kind_class(y->type))
        return emit(d, PREVIEW_DIFF_CHANGED, ai, bi);
    switch (x->type) {
    case JT_NULL:
        return DDB2ES_OK;
    case JT_TRUE:
    case JT_FALSE:
        return x->type == y->type ? DDB2ES_OK : emit(d, PREVIEW_DIFF_CHANGED, ai, bi);
    case JT_NUM:
        return numbers_equal(d->a->text + x->off, x->len, d->b->text + y->off, y->len)
                   ? DDB2ES_OK
                   : emit(d, PREVIEW_DIFF_CHANGED, ai, bi);
    case JT_STR:
        return x->sdlen == y->sdlen && memcmp(jt_str(d->a, x->sdec), jt_str(d->b, y->sdec), x->sdlen) == 0
                   ? DDB2ES_OK
                   : emit(d, PREVIEW_DIFF_CHANGED, ai, bi);
    case JT_OBJ:
        return diff_objects(d, ai, bi);
    case JT_ARR:
        return diff_arrays(d, ai, bi);
    }
    return DDB2ES_OK;
}

int preview_diff_json(const char *old_doc, size_t old_len, const char *new_doc, size_t new_len,
                      struct preview_diff_list *out, struct ddb2es_error *err)
{
    struct jtree a, b;
    struct differ d;
    int rc;

    rc = jtree_parse(&a, old_doc, old_len, "the indexed document", err);
    if (rc)
        return rc;
    rc = jtree_parse(&b, new_doc, new_len, "the new document", err);
    if (rc) {
        jtree_free(&a);
        return rc;
    }
    memset(&d, 0, sizeof(d));
    d.a = &a;
    d.b = &b;
    d.out = out;
    rc = diff_node(&d, 0, 0);
    if (rc)
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing documents");
    jtree_free(&a);
    jtree_free(&b);
    return rc;
}

/* ---- showing JSON ------------------------------------------------------------ */

static int indent_line(struct dbuf *out, const char *prefix, int level)
{
    int rc = dbuf_putc(out, '\n');

    if (!rc && prefix)
        rc = dbuf_puts(out, prefix);
    for (int i = 0; !rc && i < level; i++)
        rc = dbuf_append(out, "  ", 2);
    return rc;
}

static int indent_node(const struct jtree *t, long i, int level, const char *prefix, struct dbuf *out)
{
    const struct jnode *n = &t->v[i];
    int obj = n->type == JT_OBJ, rc = DDB2ES_OK;

    if (n->type != JT_OBJ && n->type != JT_ARR)
        return dbuf_append(out, t->text + n->off, n->len);
    if (n->count == 0)
        return dbuf_puts(out, obj ? "{}" : "[]");
    rc = dbuf_putc(out, obj ? '{' : '[');
    for (long c = n->first; !rc && c >= 0; c = t->v[c].next) {
        rc = indent_line(out, prefix, level + 1);
        if (!rc && obj) {
            rc = dbuf_append(out, t->text + t->v[c].koff, t->v[c].klen);
            if (!rc)
                rc = dbuf_append(out, ": ", 2);
        }
        if (!rc)
            rc = indent_node(t, c, level + 1, prefix, out);
        if (!rc && t->v[c].next >= 0)
            rc = dbuf_putc(out, ',');
    }
    if (!rc)
        rc = indent_line(out, prefix, level);
    if (!rc)
        rc = dbuf_putc(out, obj ? '}' : ']');
    return rc;
}

int preview_indent_json(const char *json, size_t len, const char *prefix, struct dbuf *out,
                        struct ddb2es_error *err)
{
    struct jtree t;
    size_t mark = out->len;
    int rc;

    rc = jtree_parse(&t, json, len, "the text", err);
    if (rc)
        return rc;
    rc = indent_node(&t, 0, 0, prefix, out);
    jtree_free(&t);
    if (rc) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory formatting JSON");
    }
    return DDB2ES_OK;
}

/* ---- items ------------------------------------------------------------------- */

const char *preview_change_name(enum preview_change c)
{
    switch (c) {
    case PREVIEW_NOT_COMPARED: return "not-compared";
    case PREVIEW_NEW: return "new";
    case PREVIEW_UNCHANGED: return "unchanged";
    case PREVIEW_CHANGED: return "changed";
    case PREVIEW_COMPARE_FAILED: return "compare-failed";
    }
    return "unknown";
}

static void item_free(struct preview_item *it)
{
    free(it->id);
    free(it->document);
    free(it->source);
    free(it->source_error);
    free(it->error);
    free(it->compare_error);
    preview_diff_list_free(&it->diffs);
}

/* Forgets an item's comparison. */
static void item_uncompare(struct preview_item *it)
{
    it->change = PREVIEW_NOT_COMPARED;
    free(it->compare_error);
    it->compare_error = NULL;
    preview_diff_list_free(&it->diffs);
}

void preview_result_free(struct preview_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nitems; i++)
        item_free(&r->items[i]);
    free(r->items);
    free(r->compare_index);
    indexdef_report_free(&r->index_report);
    free(r);
}

int preview_add_item(struct preview_result *r, const struct entity *e, const json_t *item, time_t now,
                     bool with_source, struct ddb2es_error *err)
{
    struct entity_map_opts mo;
    struct ddb2es_error merr;
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT, src = DBUF_INIT;
    struct preview_item it;
    int rc;

    if (r->nitems == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct preview_item *v = realloc(r->items, cap * sizeof(*v));
        if (!v)
            return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory previewing items");
        r->items = v;
        r->cap = cap;
    }
    memset(&it, 0, sizeof(it));
    preview_diff_list_init(&it.diffs);
    it.position = r->nitems;
    memset(&mo, 0, sizeof(mo));
    mo.now = now;
    ddb2es_error_clear(&merr);
    rc = entity_map_item(e, item, &mo, &doc, &id, &merr);
    if (rc == DDB2ES_OK) {
        it.mapped = true;
        it.document_len = doc.len;
        it.document = dbuf_detach(&doc);
        it.id = dbuf_detach(&id);
        if (!it.document || !it.id)
            goto nomem;
    } else if (rc == DDB2ES_E_MAPPING) {
        it.error = util_strdup(merr.message);
        if (!it.error)
            goto nomem;
        dbuf_reset(&id);
        ddb2es_error_clear(&merr);
        rc = entity_item_id(e, item, &id, &merr);
        if (rc == DDB2ES_OK) {
            it.id = dbuf_detach(&id);
            if (!it.id)
                goto nomem;
        } else if (rc == DDB2ES_E_NOMEM) {
            goto nomem;
        }
    } else {
        /* not a property of the item (out of memory, or a bug): the caller stops */
        item_free(&it);
        dbuf_free(&doc);
        dbuf_free(&id);
        return ddb2es_failf(err, rc, "%s", merr.message[0] ? merr.message : "mapping an item failed");
    }
    if (with_source) {
        ddb2es_error_clear(&merr);
        rc = ddbjson_item_to_json(&src, item, &merr);
        if (rc == DDB2ES_OK) {
            it.source = dbuf_detach(&src);
            if (!it.source)
                goto nomem;
        } else if (rc == DDB2ES_E_MAPPING) {
            it.source_error = util_strdup(merr.message);
            if (!it.source_error)
                goto nomem;
        } else {
            goto nomem;
        }
    }
    if (it.mapped)
        r->mapped++;
    else
        r->failed++;
    r->items[r->nitems++] = it;
    dbuf_free(&doc);
    dbuf_free(&id);
    dbuf_free(&src);
    return DDB2ES_OK;
nomem:
    item_free(&it);
    dbuf_free(&doc);
    dbuf_free(&id);
    dbuf_free(&src);
    return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory previewing items");
}

/* ---- comparing with the index --------------------------------------------------- */

int preview_mark_item(struct preview_item *it, bool found, const char *source, size_t len,
                      struct ddb2es_error *err)
{
    struct ddb2es_error derr;
    int rc;

    item_uncompare(it);
    if (!it->mapped)
        return DDB2ES_OK;
    if (!found) {
        it->change = PREVIEW_NEW;
        return DDB2ES_OK;
    }
    if (len == it->document_len && memcmp(source, it->document, len) == 0) {
        it->change = PREVIEW_UNCHANGED;
        return DDB2ES_OK;
    }
    ddb2es_error_clear(&derr);
    rc = preview_diff_json(source, len, it->document, it->document_len, &it->diffs, &derr);
    if (rc == DDB2ES_E_NOMEM) {
        preview_diff_list_free(&it->diffs);
        return ddb2es_failf(err, rc, "%s", derr.message);
    }
    if (rc) {
        preview_diff_list_free(&it->diffs);
        it->change = PREVIEW_COMPARE_FAILED;
        it->compare_error = util_strdup(derr.message);
        return it->compare_error ? DDB2ES_OK : ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing");
    }
    it->change = it->diffs.n || it->diffs.omitted ? PREVIEW_CHANGED : PREVIEW_UNCHANGED;
    return DDB2ES_OK;
}

static void count_changes(struct preview_result *r)
{
    r->n_new = r->n_unchanged = r->n_changed = r->n_compare_failed = 0;
    for (size_t i = 0; i < r->nitems; i++) {
        switch (r->items[i].change) {
        case PREVIEW_NEW: r->n_new++; break;
        case PREVIEW_UNCHANGED: r->n_unchanged++; break;
        case PREVIEW_CHANGED: r->n_changed++; break;
        case PREVIEW_COMPARE_FAILED: r->n_compare_failed++; break;
        case PREVIEW_NOT_COMPARED: break;
        }
    }
}

/* _mget asks for this many ids at a time. */
#define PREVIEW_MGET_BATCH 500

int preview_compare(struct es_client *es, const char *index, struct preview_result *r,
                    struct ddb2es_error *err)
{
    struct es_doc_list docs;
    const char **ids = NULL;
    size_t *pos = NULL, n = 0;
    bool exists = false;
    int rc = DDB2ES_OK;

    for (size_t i = 0; i < r->nitems; i++)
        item_uncompare(&r->items[i]);
    r->compared = false;
    r->compare_index_missing = false;
    free(r->compare_index);
    r->compare_index = util_strdup(index);
    if (!r->compare_index)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing");
    es_doc_list_init(&docs);
    ids = calloc(r->nitems + 1, sizeof(*ids));
    pos = calloc(r->nitems + 1, sizeof(*pos));
    if (!ids || !pos) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing");
        goto out;
    }
    for (size_t i = 0; i < r->nitems; i++) {
        if (r->items[i].mapped) {
            ids[n] = r->items[i].id;
            pos[n++] = i;
        }
    }
    rc = es_index_exists(es, index, &exists, err);
    if (rc)
        goto out;
    if (!exists) {
        r->compare_index_missing = true;
        for (size_t k = 0; k < n; k++)
            r->items[pos[k]].change = PREVIEW_NEW;
        goto done;
    }
    for (size_t at = 0; at < n; at += PREVIEW_MGET_BATCH) {
        size_t m = n - at < PREVIEW_MGET_BATCH ? n - at : PREVIEW_MGET_BATCH;
        rc = es_mget(es, index, ids + at, m, &docs, err);
        if (rc)
            goto out;
        if (docs.n != m) {
            rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "_mget of %zu documents from '%s' answered %zu", m, index,
                              docs.n);
            goto out;
        }
        for (size_t k = 0; k < m; k++) {
            const struct es_doc *doc = &docs.v[k];
            struct preview_item *it = &r->items[pos[at + k]];
            if (doc->error && strncmp(doc->error, "index_not_found_exception", 25) == 0) {
                it->change = PREVIEW_NEW;
                r->compare_index_missing = true;
            } else if (doc->error) {
                it->change = PREVIEW_COMPARE_FAILED;
                it->compare_error = util_strdup(doc->error);
                if (!it->compare_error) {
                    rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing");
                    goto out;
                }
            } else {
                rc = preview_mark_item(it, doc->found && doc->source, doc->source, doc->source_len, err);
                if (rc)
                    goto out;
            }
        }
    }
done:
    r->compared = true;
    count_changes(r);
out:
    es_doc_list_free(&docs);
    free(ids);
    free(pos);
    return rc;
}

/* ---- a whole preview ---------------------------------------------------------------- */

int preview_run(const struct preview_options *o, struct preview_result **out, struct ddb2es_error *err)
{
    struct preview_result *r = NULL;
    struct ddb_scan_page page;
    json_t *start = NULL;
    size_t limit, max_read;
    time_t now;
    int rc = DDB2ES_OK;

    *out = NULL;
    if (!o || !o->ddb || !o->table || !*o->table || !o->entity)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "preview: a DynamoDB client, a table and an entity are required");
    if ((o->index || o->compare_index) && !o->es)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "preview: an index was named but no Elasticsearch client given");
    limit = o->limit ? o->limit : 10;
    if (limit > PREVIEW_MAX_LIMIT)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "preview: at most %d items (asked for %zu)", PREVIEW_MAX_LIMIT,
                            limit);
    max_read = o->max_read ? o->max_read : 10 * limit + 100;
    if (max_read < limit)
        max_read = limit;
    now = o->now ? o->now : time(NULL);
    r = calloc(1, sizeof(*r));
    if (!r)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory previewing %s", o->table);
    indexdef_report_init(&r->index_report);

    memset(&page, 0, sizeof(page));
    for (;;) {
        struct ddb_scan_request req;
        size_t want = limit - r->mapped, room = max_read - r->read;
        size_t lim = want < room ? want : room;
        if (lim == 0)
            break;
        memset(&req, 0, sizeof(req));
        req.table = o->table;
        req.limit = (int)lim;
        req.exclusive_start_key = start;
        rc = ddb_scan(o->ddb, &req, &page, err);
        if (rc)
            goto fail;
        r->requests++;
        r->consumed_rcu += page.consumed;
        for (size_t i = 0; i < json_array_size(page.items); i++) {
            rc = preview_add_item(r, o->entity, json_array_get(page.items, i), now, o->with_source, err);
            if (rc)
                goto fail;
            r->read++;
        }
        json_decref(start);
        start = page.last_key ? json_incref(page.last_key) : NULL;
        ddb_scan_page_free(&page);
        memset(&page, 0, sizeof(page));
        if (!start)
            break;
    }
    r->more = start != NULL;
    json_decref(start);
    start = NULL;

    if (o->index) {
        rc = indexdef_prepare(o->es, o->index, o->entity, 0, &r->index_report, err);
        if (rc)
            goto fail;
        r->index_checked = true;
    }
    if (o->compare_index) {
        rc = preview_compare(o->es, o->compare_index, r, err);
        if (rc)
            goto fail;
    }
    *out = r;
    return DDB2ES_OK;
fail:
    json_decref(start);
    ddb_scan_page_free(&page);
    preview_result_free(r);
    return rc;
}
