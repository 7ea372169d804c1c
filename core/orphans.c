/*
 * orphans.c - the pieces of the orphans module that do no I/O: the id hash
 * set, candidate lists and reviewed files, and the JSON value comparison.
 * The jobs (listing, deleting, verifying) are in orphans_job.c. See
 * ddb2es/orphans.h.
 *
 * DESIGN
 * - Hash set: open addressing over 16-byte slots holding the 128-bit hash
 *   (SipHash-2-4-128 under a per-set random key) and nothing else; the top
 *   bit of `hi` is the verify mark, so the stored hash is 127 bits. An empty
 *   slot is all zeroes; the one hash that would look empty is stored as
 *   lo = 1 (merging it with another id's hash is the collision case the
 *   header accounts for). The bucket is `lo & mask`, probing is linear: with
 *   a keyed hash and a load of at most 3/4, runs stay short. Growth doubles
 *   and re-inserts; for a moment the old and new tables coexist (1.5x).
 * - JSON comparison: both texts become small trees (jscan.c validates while
 *   reading; strings unescaped, numbers normalised to "[-]DIGITSeEXP" with
 *   no leading or trailing zero digits), members sorted by key, then one
 *   recursive walk reports the first difference as a path.
 */
#include "ddb2es/orphans.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ddb2es/es.h"
#include "jscan.h"
#include "util.h"

/* ============================================================ SipHash */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                                   \
    do {                                                                                                           \
        v0 += v1;                                                                                                  \
        v1 = ROTL(v1, 13);                                                                                         \
        v1 ^= v0;                                                                                                  \
        v0 = ROTL(v0, 32);                                                                                         \
        v2 += v3;                                                                                                  \
        v3 = ROTL(v3, 16);                                                                                         \
        v3 ^= v2;                                                                                                  \
        v0 += v3;                                                                                                  \
        v3 = ROTL(v3, 21);                                                                                         \
        v3 ^= v0;                                                                                                  \
        v2 += v1;                                                                                                  \
        v1 = ROTL(v1, 17);                                                                                         \
        v1 ^= v2;                                                                                                  \
        v2 = ROTL(v2, 32);                                                                                         \
    } while (0)

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void siphash128(const unsigned char key[16], const unsigned char *in, size_t len, uint64_t *lo,
                       uint64_t *hi)
{
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575), v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261), v3 = k1 ^ UINT64_C(0x7465646279746573);
    uint64_t b = (uint64_t)len << 56, m;
    const unsigned char *end = in + (len - len % 8);
    size_t left = len & 7;

    v1 ^= 0xee;
    for (; in != end; in += 8) {
        m = le64(in);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t i = 0; i < left; i++)
        b |= (uint64_t)in[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xee;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    *lo = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    *hi = v0 ^ v1 ^ v2 ^ v3;
}

void orphans_siphash128(const unsigned char key[16], const void *data, size_t len, unsigned char out[16])
{
    uint64_t lo, hi;

    siphash128(key, data, len, &lo, &hi);
    put_le64(out, lo);
    put_le64(out + 8, hi);
}

/* ============================================================ hash set */

#define MARK_BIT (UINT64_C(1) << 63)
#define MIN_SLOTS 64u

struct orphans_set {
    struct orphans_hash *slots;  /* 2^k slots; {0,0} is empty */
    size_t mask;                 /* slots - 1 */
    size_t count;                /* occupied slots */
    size_t marked;               /* slots with MARK_BIT */
    unsigned char key[16];
};

/* 16 random bytes; the clock and pid only if the kernel gives none (the set still works, it is
 * then only the collision resistance against chosen ids that weakens). */
static void random_key(unsigned char key[16])
{
    size_t got = 0;
    ssize_t r;

    while (got < 16) {
        r = getrandom(key + got, 16 - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < 16) {
        struct timespec ts;
        uint64_t a, b;

        clock_gettime(CLOCK_REALTIME, &ts);
        a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid() << 40;
        b = (uint64_t)(uintptr_t)&ts ^ (uint64_t)clock();
        put_le64(key, a);
        put_le64(key + 8, b);
    }
}

static size_t slots_for(size_t expected)
{
    size_t n = MIN_SLOTS;

    /* load at most 3/4; stop doubling before overflow (the set grows later if needed) */
    while (n < ((size_t)1 << 40) && n / 4 * 3 < expected)
        n *= 2;
    return n;
}

struct orphans_set *orphans_set_new(size_t expected, const unsigned char *key, struct ddb2es_error *err)
{
    struct orphans_set *s = calloc(1, sizeof(*s));
    size_t n = slots_for(expected);

    if (!s)
        goto nomem;
    /* calloc: the kernel hands zeroed pages lazily, so an over-estimated ItemCount costs address
     * space, not memory; if even that fails, start small and grow */
    while (n >= MIN_SLOTS) {
        s->slots = calloc(n, sizeof(*s->slots));
        if (s->slots)
            break;
        n /= 2;
    }
    if (!s->slots)
        goto nomem;
    s->mask = n - 1;
    if (key)
        memcpy(s->key, key, 16);
    else
        random_key(s->key);
    return s;
nomem:
    free(s);
    ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory for a set of %zu ids", expected);
    return NULL;
}

void orphans_set_free(struct orphans_set *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s);
}

void orphans_set_hash(const struct orphans_set *s, const char *id, size_t len, struct orphans_hash *h)
{
    siphash128(s->key, (const unsigned char *)id, len, &h->lo, &h->hi);
}

/* The stored form: mark bit clear, never all zeroes. */
static struct orphans_hash norm(const struct orphans_hash *h)
{
    struct orphans_hash n = {h->lo, h->hi & ~MARK_BIT};

    if (n.lo == 0 && n.hi == 0)
        n.lo = 1;
    return n;
}

static bool is_empty(const struct orphans_hash *slot)
{
    return slot->lo == 0 && slot->hi == 0;
}

/* The slot holding n, or the empty slot where it would go. */
static struct orphans_hash *find(struct orphans_hash *slots, size_t mask, const struct orphans_hash *n)
{
    size_t i = (size_t)n->lo & mask;

    for (;;) {
        struct orphans_hash *sl = &slots[i];
        if (is_empty(sl) || (sl->lo == n->lo && (sl->hi & ~MARK_BIT) == n->hi))
            return sl;
        i = (i + 1) & mask;
    }
}

static int grow(struct orphans_set *s)
{
    size_t n = (s->mask + 1) * 2, i;
    struct orphans_hash *ns;

    if (n > SIZE_MAX / sizeof(*ns))
        return DDB2ES_E_NOMEM;
    ns = calloc(n, sizeof(*ns));
    if (!ns)
        return DDB2ES_E_NOMEM;
    for (i = 0; i <= s->mask; i++) {
        struct orphans_hash *old = &s->slots[i], key;
        if (is_empty(old))
            continue;
        key.lo = old->lo;
        key.hi = old->hi & ~MARK_BIT;
        *find(ns, n - 1, &key) = *old;
    }
    free(s->slots);
    s->slots = ns;
    s->mask = n - 1;
    return DDB2ES_OK;
}

int orphans_set_add_hash(struct orphans_set *s, const struct orphans_hash *h, bool *added, struct ddb2es_error *err)
{
    struct orphans_hash n = norm(h), *sl;

    if (added)
        *added = false;
    if ((s->count + 1) > (s->mask + 1) / 4 * 3 && grow(s))
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory growing the id set beyond %zu ids (%zu MiB)",
                            s->count, orphans_set_bytes(s) >> 20);
    sl = find(s->slots, s->mask, &n);
    if (is_empty(sl)) {
        *sl = n;
        s->count++;
        if (added)
            *added = true;
    }
    return DDB2ES_OK;
}

int orphans_set_add(struct orphans_set *s, const char *id, size_t len, bool *added, struct ddb2es_error *err)
{
    struct orphans_hash h;

    orphans_set_hash(s, id, len, &h);
    return orphans_set_add_hash(s, &h, added, err);
}

bool orphans_set_contains_hash(const struct orphans_set *s, const struct orphans_hash *h)
{
    struct orphans_hash n = norm(h);

    return !is_empty(find(s->slots, s->mask, &n));
}

bool orphans_set_contains(const struct orphans_set *s, const char *id, size_t len)
{
    struct orphans_hash h;

    orphans_set_hash(s, id, len, &h);
    return orphans_set_contains_hash(s, &h);
}

bool orphans_set_mark(struct orphans_set *s, const char *id, size_t len, bool *first)
{
    struct orphans_hash h, n, *sl;

    if (first)
        *first = false;
    orphans_set_hash(s, id, len, &h);
    n = norm(&h);
    sl = find(s->slots, s->mask, &n);
    if (is_empty(sl))
        return false;
    if (!(sl->hi & MARK_BIT)) {
        sl->hi |= MARK_BIT;
        s->marked++;
        if (first)
            *first = true;
    }
    return true;
}

bool orphans_set_unmarked(const struct orphans_set *s, const char *id, size_t len)
{
    struct orphans_hash h, n, *sl;

    orphans_set_hash(s, id, len, &h);
    n = norm(&h);
    sl = find(s->slots, s->mask, &n);
    return !is_empty(sl) && !(sl->hi & MARK_BIT);
}

size_t orphans_set_count(const struct orphans_set *s)
{
    return s->count;
}

size_t orphans_set_marked(const struct orphans_set *s)
{
    return s->marked;
}

size_t orphans_set_slots(const struct orphans_set *s)
{
    return s->mask + 1;
}

size_t orphans_set_bytes(const struct orphans_set *s)
{
    return sizeof(*s) + (s->mask + 1) * sizeof(*s->slots);
}

/* ========================================================= candidates */

void orphans_list_init(struct orphans_list *l)
{
    memset(l, 0, sizeof(*l));
}

void orphans_list_free(struct orphans_list *l)
{
    if (!l)
        return;
    free(l->v);
    js_pool_free(l->pool);
    memset(l, 0, sizeof(*l));
}

int orphans_list_add(struct orphans_list *l, const struct orphans_item *it, struct ddb2es_error *err)
{
    struct orphans_item *d;

    if (js_grow_array((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
        goto nomem;
    d = &l->v[l->n];
    *d = *it;
    d->id = js_pool_strndup(&l->pool, it->id, strlen(it->id));
    if (!d->id)
        goto nomem;
    if (it->source) {
        d->source = js_pool_strndup(&l->pool, it->source, it->source_len);
        if (!d->source)
            goto nomem;
    }
    l->n++;
    return DDB2ES_OK;
nomem:
    return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory keeping %zu orphans", l->n + 1);
}

static long long int_member(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static int parse_json_array(json_t *root, const char *name, struct orphans_list *out, struct ddb2es_error *err)
{
    size_t i;
    json_t *e;
    int rc = DDB2ES_OK;

    json_array_foreach(root, i, e) {
        struct orphans_item it = {0};
        const json_t *src = json_object_get(e, "_source");

        it.id = json_string_value(json_object_get(e, "id"));
        it.seq_no = int_member(e, "seq_no");
        it.primary_term = int_member(e, "primary_term");
        if (!it.id || !*it.id)
            return ddb2es_failf(err, DDB2ES_E_USAGE, "%s: element %zu has no \"id\"", name, i);
        if (it.seq_no < 0 || it.primary_term < 1)
            return ddb2es_failf(err, DDB2ES_E_USAGE,
                                "%s: element %zu (id '%.80s') has no \"seq_no\"/\"primary_term\"; without them a "
                                "document re-indexed since the listing could be deleted: list again",
                                name, i, it.id);
        (void)src; /* the document is for the reviewer; deleting needs only the id and sequence numbers */
        rc = orphans_list_add(out, &it, err);
        if (rc)
            return rc;
    }
    return rc;
}

static int parse_bulk_line(const char *line, size_t n, size_t lineno, const char *name, const char *index,
                           struct orphans_list *out, struct ddb2es_error *err)
{
    json_t *root = json_loadb(line, n, 0, NULL), *d;
    struct orphans_item it = {0};
    const char *ix;
    int rc;

    d = json_object_get(root, "delete");
    if (!json_is_object(root)) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE,
                          "%s:%zu: not a JSON delete action; a plain id list carries no sequence numbers, so it "
                          "cannot be deleted safely: list with --format bulk or json and delete from that file",
                          name, lineno);
        goto out;
    }
    if (!json_is_object(d) || json_object_size(root) != 1) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "%s:%zu: only {\"delete\":{...}} actions are accepted", name,
                          lineno);
        goto out;
    }
    ix = json_string_value(json_object_get(d, "_index"));
    it.id = json_string_value(json_object_get(d, "_id"));
    it.seq_no = int_member(d, "if_seq_no");
    it.primary_term = int_member(d, "if_primary_term");
    if (!it.id || !*it.id) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "%s:%zu: the action has no \"_id\"", name, lineno);
        goto out;
    }
    if (ix && index && strcmp(ix, index) != 0) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "%s:%zu: the action is for index '%.100s', not '%.100s'", name,
                          lineno, ix, index);
        goto out;
    }
    if (it.seq_no < 0 || it.primary_term < 1) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE,
                          "%s:%zu: the delete of '%.80s' has no if_seq_no/if_primary_term; without them a "
                          "document re-indexed since the listing could be deleted: list again",
                          name, lineno, it.id);
        goto out;
    }
    rc = orphans_list_add(out, &it, err);
out:
    json_decref(root);
    return rc;
}

int orphans_list_parse(const char *text, size_t len, const char *name, const char *index, struct orphans_list *out,
                       struct ddb2es_error *err)
{
    size_t i = 0, lineno = 0;
    int rc = DDB2ES_OK;

    if (!name)
        name = "the list";
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i < len && text[i] == '[') {
        json_error_t jerr;
        json_t *root = json_loadb(text, len, 0, &jerr);

        if (!json_is_array(root)) {
            json_decref(root);
            return ddb2es_failf(err, DDB2ES_E_USAGE, "%s: not a JSON array (line %d: %s)", name, jerr.line,
                                jerr.text);
        }
        rc = parse_json_array(root, name, out, err);
        json_decref(root);
        return rc;
    }
    i = 0;
    while (i < len && !rc) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len, s = i, e = end;

        lineno++;
        while (s < e && (text[s] == ' ' || text[s] == '\t' || text[s] == '\r'))
            s++;
        while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
            e--;
        if (e > s)
            rc = parse_bulk_line(text + s, e - s, lineno, name, index, out, err);
        i = end + 1;
    }
    return rc;
}

/* ========================================================== JSON values */

struct jnode {
    char t;                 /* 'o' 'a' 's' 'n' (number) 'r' (number kept as written) 't' 'f' 'z' (null) */
    const char *key;        /* member name (unescaped) when inside an object */
    size_t klen;
    const char *s;          /* string (unescaped) or number (normalised) */
    size_t n;
    struct jnode *kids;
    size_t nkids;
};

struct jtree {
    struct es_pool *pool;
    int oom;
};

/* The pool hands out unaligned bytes (it is made for strings): align node arrays by hand. */
static void *pool_aligned(struct jtree *t, size_t n)
{
    const size_t a = _Alignof(max_align_t);
    char *p = js_pool_alloc(&t->pool, n + a - 1);

    if (!p) {
        t->oom = 1;
        return NULL;
    }
    return p + (a - (uintptr_t)p % a) % a;
}

static const char *pool_copy(struct jtree *t, const char *s, size_t n)
{
    const char *d = js_pool_strndup(&t->pool, s, n);

    if (!d)
        t->oom = 1;
    return d;
}

/* "[-]DIGITSeEXP" with no leading/trailing zero digits; 'r' (as written) for exponents out of range. */
static int number_node(struct jtree *t, const char *s, size_t n, struct jnode *out)
{
    const char *p = s, *end = s + n, *ip, *fp = NULL;
    size_t il, fl = 0, dl;
    long long exp = 0;
    bool neg = false;
    char *buf, *d;

    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    ip = p;
    while (p < end && js_is_digit((unsigned char)*p))
        p++;
    il = (size_t)(p - ip);
    if (p < end && *p == '.') {
        fp = ++p;
        while (p < end && js_is_digit((unsigned char)*p))
            p++;
        fl = (size_t)(p - fp);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool eneg = false;
        size_t digits = 0;

        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        for (; p < end; p++) {
            if (++digits > 15) {
                out->t = 'r';
                out->s = pool_copy(t, s, n);
                out->n = n;
                return out->s ? 0 : -2;
            }
            exp = exp * 10 + (*p - '0');
        }
        if (eneg)
            exp = -exp;
    }
    buf = js_pool_alloc(&t->pool, il + fl + 32);
    if (!buf) {
        t->oom = 1;
        return -2;
    }
    d = buf;
    if (neg)
        *d++ = '-';
    dl = 0;
    for (size_t k = 0; k < il + fl; k++) {
        char c = k < il ? ip[k] : fp[k - il];
        if (dl == 0 && c == '0')
            continue; /* leading zero */
        d[dl++] = c;
    }
    exp -= (long long)fl;
    while (dl > 0 && d[dl - 1] == '0') {
        dl--;
        exp++;
    }
    if (dl == 0) {
        /* zero: one form whatever the sign or exponent */
        memcpy(buf, "0", 2);
        out->s = buf;
        out->n = 1;
    } else {
        int w = snprintf(d + dl, 24, "e%lld", exp);
        out->s = buf;
        out->n = (size_t)(d - buf) + dl + (size_t)w;
    }
    out->t = 'n';
    return 0;
}

static int member_cmp(const void *a, const void *b)
{
    const struct jnode *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int r = memcmp(x->key, y->key, n);

    if (r)
        return r;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

static int parse_value(struct jtree *t, struct js *j, struct jnode *out);

/* Children are gathered in a temporary array, then copied into the pool. */
static int parse_container(struct jtree *t, struct js *j, struct jnode *out, int open)
{
    struct jnode *tmp = NULL;
    size_t n = 0, cap = 0;
    int first = 1, r, x = 0;

    if (js_enter(j, open))
        return -1;
    for (;;) {
        const char *k = NULL;
        size_t kn = 0;

        r = open == '{' ? js_member(j, &first, &k, &kn) : js_elem(j, &first);
        if (r != 1)
            break;
        if (js_grow_array((void **)&tmp, &cap, n + 1, sizeof(*tmp))) {
            x = -2;
            break;
        }
        memset(&tmp[n], 0, sizeof(tmp[n]));
        if (open == '{') {
            char *kd = js_pool_alloc(&t->pool, kn + 1);
            if (!kd) {
                x = -2;
                break;
            }
            tmp[n].klen = js_unescape(k, kn, kd);
            kd[tmp[n].klen] = '\0';
            tmp[n].key = kd;
        }
        x = parse_value(t, j, &tmp[n]);
        if (x)
            break;
        n++;
    }
    if (!x && r != 0)
        x = -1;
    if (!x && n) {
        out->kids = pool_aligned(t, n * sizeof(*tmp));
        if (!out->kids) {
            x = -2;
        } else {
            memcpy(out->kids, tmp, n * sizeof(*tmp));
            out->nkids = n;
            if (open == '{')
                qsort(out->kids, n, sizeof(*tmp), member_cmp);
        }
    }
    free(tmp);
    out->t = open == '{' ? 'o' : 'a';
    return x;
}

static int parse_value(struct jtree *t, struct js *j, struct jnode *out)
{
    int ch = js_peek(j);
    const char *s;
    size_t n;
    int r;

    switch (ch) {
    case '{':
    case '[':
        return parse_container(t, j, out, ch);
    case '"':
        out->t = 's';
        s = NULL;
        r = js_get_str(j, &t->pool, &s);
        if (r)
            return r;
        out->s = s;
        out->n = strlen(s); /* a \u0000 inside a string ends it here: both sides alike */
        return 0;
    case 't':
    case 'f':
    case 'n':
        out->t = ch == 'n' ? 'z' : (char)ch;
        return js_skip(j);
    default:
        if (js_raw(j, &s, &n))
            return -1;
        return number_node(t, s, n, out);
    }
}

static int parse_doc(struct jtree *t, const char *text, size_t len, struct jnode *root)
{
    struct js j;
    int x;

    memset(root, 0, sizeof(*root));
    js_init(&j, text, len);
    x = parse_value(t, &j, root);
    if (!x && js_end(&j))
        x = -1;
    if (t->oom)
        x = -2;
    return x;
}

static bool plain_key(const char *k, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') || js_is_digit((unsigned char)k[i]) ||
              k[i] == '_' || k[i] == '-' || k[i] == '@'))
            return false;
    return true;
}

static void path_key(struct dbuf *path, const struct jnode *m)
{
    if (plain_key(m->key, m->klen)) {
        dbuf_printf(path, "%s%.*s", path->len ? "." : "", (int)m->klen, m->key);
    } else {
        dbuf_puts(path, "[");
        es_json_string(path, m->key, m->klen, NULL);
        dbuf_puts(path, "]");
    }
}

/* 1 when a and b differ (path extended to the first difference), else 0. */
static int differ(const struct jnode *a, const struct jnode *b, struct dbuf *path)
{
    size_t i = 0, k = 0;

    if (a->t != b->t)
        return 1;
    switch (a->t) {
    case 's':
    case 'n':
    case 'r':
        return a->n != b->n || memcmp(a->s, b->s, a->n) != 0;
    case 'a':
        for (i = 0; i < a->nkids && i < b->nkids; i++) {
            size_t mark = path->len;
            dbuf_printf(path, "[%zu]", i);
            if (differ(&a->kids[i], &b->kids[i], path))
                return 1;
            js_dbuf_truncate(path, mark);
        }
        if (a->nkids != b->nkids) {
            dbuf_printf(path, "[%zu]", i);
            return 1;
        }
        return 0;
    case 'o':
        while (i < a->nkids || k < b->nkids) {
            int c = i >= a->nkids ? 1 : k >= b->nkids ? -1 : member_cmp(&a->kids[i], &b->kids[k]);
            size_t mark = path->len;

            if (c) {
                path_key(path, c < 0 ? &a->kids[i] : &b->kids[k]);
                return 1;
            }
            path_key(path, &a->kids[i]);
            if (differ(&a->kids[i], &b->kids[k], path))
                return 1;
            js_dbuf_truncate(path, mark);
            i++;
            k++;
        }
        return 0;
    default:
        return 0;
    }
}

int orphans_json_diff(const char *a, size_t alen, const char *b, size_t blen, bool *out_differ, char *path,
                      size_t pathsz, struct ddb2es_error *err)
{
    struct jtree t = {0};
    struct jnode ra, rb;
    struct dbuf p = DBUF_INIT;
    int x, rc = DDB2ES_OK;

    *out_differ = false;
    if (path && pathsz)
        path[0] = '\0';
    x = parse_doc(&t, a, alen, &ra);
    if (!x)
        x = parse_doc(&t, b, blen, &rb);
    if (x) {
        rc = x == -2 ? ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory comparing documents")
                     : ddb2es_failf(err, DDB2ES_E_PROTOCOL, "a document to compare is not valid JSON");
        goto out;
    }
    *out_differ = differ(&ra, &rb, &p) != 0;
    if (*out_differ && path && pathsz)
        snprintf(path, pathsz, "%s", dbuf_cstr(&p));
out:
    dbuf_free(&p);
    js_pool_free(t.pool);
    return rc;
}
