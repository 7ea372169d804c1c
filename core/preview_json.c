/*
 * preview_json.c - the JSON side of a preview: comparing two documents as
 * values (preview_diff_json) and re-indenting one for reading
 * (preview_indent_json). See ddb2es/preview.h.
 *
 * DESIGN
 * The indexed `_source` and the new document are both parsed into a small
 * tree of their own (struct jtree) rather than a jansson tree, because
 * jansson refuses integers beyond 64 bits and reals beyond a double, which
 * DynamoDB numbers (38 digits, 1E+125) can exceed: the tree keeps every
 * number as its text and the comparison decides how to read it. Each node
 * also keeps the span of its text, so a difference shows the old and new
 * values exactly as they are stored. The same tree drives the re-indenting
 * printer, which therefore never rewrites a number either. The trees live
 * for one call.
 */
#include "ddb2es/preview.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/ddbjson.h"
#include "jscan.h"
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

    return dbuf_append(b, u, js_put_utf8(u, cp));
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

/*
 * A JSON number as [-]DIGITS and a decimal exponent, without leading or
 * trailing zero digits, so two spellings of one value ("1.50", "15E-1")
 * come out alike. Writes "0" for zero. Returns 0, or -1 when it does not fit.
 */
static int number_normalise(const char *s, size_t n, char *digits, size_t dsz, int *neg, long long *exp)
{
    const char *p = s, *end = s + n;
    size_t dl = 0;
    long long e = 0, frac = 0, lead_trim = 0;
    int seen_nonzero = 0;

    *neg = 0;
    if (p < end && *p == '-') {
        *neg = 1;
        p++;
    }
    for (; p < end && ((*p >= '0' && *p <= '9') || *p == '.'); p++) {
        if (*p == '.') {
            frac = 1;
            continue;
        }
        if (frac)
            lead_trim--; /* one more digit after the point */
        if (!seen_nonzero && *p == '0')
            continue;
        seen_nonzero = 1;
        if (dl + 1 >= dsz)
            return -1;
        digits[dl++] = *p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0, count = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        for (; p < end; p++) {
            if (++count > 15)
                return -1;
            e = e * 10 + (*p - '0');
        }
        if (eneg)
            e = -e;
    }
    e += lead_trim;
    while (dl > 0 && digits[dl - 1] == '0') {
        dl--;
        e++;
    }
    if (dl == 0) {
        digits[dl++] = '0';
        e = 0;
        *neg = 0;
    }
    digits[dl] = '\0';
    *exp = e;
    return 0;
}

/* Numbers by value, exactly, whatever their size or spelling. */
static int numbers_equal(const char *a, size_t al, const char *b, size_t bl)
{
    char x[512], y[512];
    long long xe, ye;
    int xn, yn;

    if (al == bl && memcmp(a, b, al) == 0)
        return 1;
    if (number_normalise(a, al, x, sizeof(x), &xn, &xe) || number_normalise(b, bl, y, sizeof(y), &yn, &ye))
        return 0;
    return xn == yn && xe == ye && strcmp(x, y) == 0;
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
