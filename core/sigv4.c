/*
 * sigv4.c - AWS Signature Version 4. See ddb2es/sigv4.h.
 *
 * DESIGN
 * sigv4_sign builds the canonical request in one buffer, step by step:
 *   method, canonical path, canonical query, canonical headers, signed headers, payload hash.
 * Each step writes straight into the output buffer; headers and query parameters are first
 * normalised into one scratch buffer each and sorted through an index array (qsort), so the
 * work is linear in the input plus n log n in the number of headers or parameters. The
 * payload is hashed once (or not at all when the caller passes its hash), which matters for
 * bulk bodies of several MiB signed once per request.
 * The signing key is derived on each call (four HMACs of a few bytes: cheaper than caching
 * it, and no state to share between worker threads). Every buffer that holds the secret or a
 * key derived from it is wiped with OPENSSL_cleanse before it is released.
 */
#include "ddb2es/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

static const char hexdigits_lower[] = "0123456789abcdef";
static const char hexdigits_upper[] = "0123456789ABCDEF";

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hexdigits_lower[in[i] >> 4];
        out[2 * i + 1] = hexdigits_lower[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(len ? (const unsigned char *)data : (const unsigned char *)"", len, md);
    hex_encode(md, sizeof(md), hex);
}

void sigv4_output_init(struct sigv4_output *out)
{
    dbuf_init(&out->canonical_request);
    dbuf_init(&out->string_to_sign);
    out->signature[0] = '\0';
    dbuf_init(&out->authorization);
}

void sigv4_output_free(struct sigv4_output *out)
{
    if (!out)
        return;
    dbuf_free(&out->canonical_request);
    dbuf_free(&out->string_to_sign);
    dbuf_free(&out->authorization);
    out->signature[0] = '\0';
}

/* ---- URI encoding ------------------------------------------------------------------------ */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Appends s[0..n) percent-encoded (every byte but the unreserved ones, '/' included: the
 * path is encoded a segment at a time). Runs of unreserved bytes are appended in one call. */
static int uri_encode(struct dbuf *b, const char *s, size_t n)
{
    size_t i = 0, run;
    char esc[3];
    int rc;

    while (i < n) {
        run = i;
        while (run < n && is_unreserved((unsigned char)s[run]))
            run++;
        if (run > i) {
            rc = dbuf_append(b, s + i, run - i);
            if (rc)
                return rc;
            i = run;
            continue;
        }
        esc[0] = '%';
        esc[1] = hexdigits_upper[(unsigned char)s[i] >> 4];
        esc[2] = hexdigits_upper[(unsigned char)s[i] & 0x0f];
        rc = dbuf_append(b, esc, 3);
        if (rc)
            return rc;
        i++;
    }
    return DDB2ES_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends s[0..n) with %XX escapes decoded; a '%' not followed by two hex digits stays a
 * literal '%' (it is then encoded as %25, which is what a server decoding leniently sees). */
static int uri_decode(struct dbuf *b, const char *s, size_t n)
{
    size_t i;
    int hi, lo, rc;

    rc = dbuf_reserve(b, n);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                b->data[b->len++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        }
        b->data[b->len++] = s[i];
    }
    b->data[b->len] = '\0';
    return DDB2ES_OK;
}

/* ---- canonical path ---------------------------------------------------------------------- */

struct span {
    size_t off, len;
};

/*
 * Appends the canonical form of path[0..n): dot segments removed (RFC 3986 5.2.4), empty
 * segments dropped ("//" -> "/"), a trailing slash kept (also the one implied by a final "."
 * or ".."), each byte but '/' and the unreserved ones percent-encoded.
 */
static int canonical_path(struct dbuf *b, const char *path, size_t n)
{
    struct span *segs;
    size_t nsegs = 0, maxsegs = 1, i, start, len;
    int trailing = 0, rc = DDB2ES_OK;

    for (i = 0; i < n; i++)
        if (path[i] == '/')
            maxsegs++;
    segs = malloc(maxsegs * sizeof(*segs));
    if (!segs)
        return DDB2ES_E_NOMEM;
    i = 0;
    while (i <= n) {
        start = i;
        while (i < n && path[i] != '/')
            i++;
        len = i - start;
        /* the last segment decides about the trailing slash */
        if (i >= n)
            trailing = len == 0 || (len == 1 && path[start] == '.') ||
                       (len == 2 && path[start] == '.' && path[start + 1] == '.');
        if (len == 0 || (len == 1 && path[start] == '.')) {
            /* skip */
        } else if (len == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (nsegs)
                nsegs--;
        } else {
            segs[nsegs].off = start;
            segs[nsegs].len = len;
            nsegs++;
        }
        i++; /* past the '/' (or past the end, which ends the loop) */
    }
    for (i = 0; i < nsegs && !rc; i++) {
        rc = dbuf_putc(b, '/');
        if (!rc)
            rc = uri_encode(b, path + segs[i].off, segs[i].len);
    }
    if (!rc && (nsegs == 0 || trailing))
        rc = dbuf_putc(b, '/');
    free(segs);
    return rc;
}

/* ---- canonical query --------------------------------------------------------------------- */

struct qparam {
    size_t name_off, value_off;  /* into the scratch buffer, valid while it grows */
    const char *name, *value;    /* set once the buffer is final */
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* Appends one decoded-then-encoded component and its NUL to the scratch buffer. */
static int query_component(struct dbuf *scratch, struct dbuf *tmp, const char *s, size_t n)
{
    int rc;

    dbuf_reset(tmp);
    rc = uri_decode(tmp, s, n);
    if (!rc)
        rc = uri_encode(scratch, tmp->data ? tmp->data : "", tmp->len);
    if (!rc)
        rc = dbuf_putc(scratch, '\0');
    return rc;
}

static int canonical_query(struct dbuf *b, const char *q, size_t n)
{
    struct dbuf scratch = DBUF_INIT, tmp = DBUF_INIT;
    struct qparam *params = NULL;
    size_t np = 0, maxp = 1, i, start, end, eq;
    int rc = DDB2ES_OK;

    if (n == 0)
        return DDB2ES_OK;
    for (i = 0; i < n; i++)
        if (q[i] == '&')
            maxp++;
    params = malloc(maxp * sizeof(*params));
    if (!params)
        return DDB2ES_E_NOMEM;
    for (start = 0; start <= n; start = end + 1) {
        end = start;
        while (end < n && q[end] != '&')
            end++;
        if (end == start)
            continue; /* "a=1&&b=2" or a trailing '&' */
        eq = start;
        while (eq < end && q[eq] != '=')
            eq++;
        params[np].name_off = scratch.len;
        rc = query_component(&scratch, &tmp, q + start, eq - start);
        if (rc)
            goto out;
        params[np].value_off = scratch.len;
        rc = query_component(&scratch, &tmp, eq < end ? q + eq + 1 : "", eq < end ? end - eq - 1 : 0);
        if (rc)
            goto out;
        np++;
    }
    for (i = 0; i < np; i++) {
        params[i].name = scratch.data + params[i].name_off;
        params[i].value = scratch.data + params[i].value_off;
    }
    qsort(params, np, sizeof(*params), qparam_cmp);
    for (i = 0; i < np && !rc; i++) {
        if (i)
            rc = dbuf_putc(b, '&');
        if (!rc)
            rc = dbuf_puts(b, params[i].name);
        if (!rc)
            rc = dbuf_putc(b, '=');
        if (!rc)
            rc = dbuf_puts(b, params[i].value);
    }
out:
    free(params);
    dbuf_free(&scratch);
    dbuf_free(&tmp);
    return rc;
}

/* ---- canonical headers ------------------------------------------------------------------- */

struct hentry {
    size_t name_off, value_off;
    const char *name, *value;
    size_t order;  /* position in the input: repeated headers keep their order */
};

static int hentry_cmp(const void *a, const void *b)
{
    const struct hentry *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends the value trimmed, with inner whitespace runs folded to one space, and a NUL. */
static int header_value(struct dbuf *b, const char *v)
{
    size_t n = strlen(v), i = 0, run;
    int rc;

    while (n && is_ws(v[n - 1]))
        n--;
    while (i < n && is_ws(v[i]))
        i++;
    rc = dbuf_reserve(b, n - i + 1);
    if (rc)
        return rc;
    while (i < n) {
        if (is_ws(v[i])) {
            while (i < n && is_ws(v[i]))
                i++;
            b->data[b->len++] = ' ';
            continue;
        }
        run = i;
        while (run < n && !is_ws(v[run]))
            run++;
        memcpy(b->data + b->len, v + i, run - i);
        b->len += run - i;
        i = run;
    }
    b->data[b->len++] = '\0';
    b->data[b->len] = '\0';
    return DDB2ES_OK;
}

/*
 * Appends "name:value[,value...]\n" per distinct lower-cased name (sorted) to creq, and
 * "name;name..." to signed_names. The header names and values are not secret, but a
 * session-token value must not reach a message: errors name only the header's position.
 */
static int canonical_headers(struct dbuf *creq, struct dbuf *signed_names, const struct http_header *h,
                             size_t nh, struct ddb2es_error *err)
{
    struct dbuf scratch = DBUF_INIT;
    struct hentry *e = NULL;
    size_t i, k, nlen;
    const char *name;
    int rc = DDB2ES_OK, have_host = 0;

    if (nh == 0 || !h)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign a request without a Host header");
    e = malloc(nh * sizeof(*e));
    if (!e)
        return DDB2ES_E_NOMEM;
    for (i = 0; i < nh; i++) {
        name = h[i].name;
        if (!name || !h[i].value) {
            rc = ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: header %zu has no name or no value", i + 1);
            goto out;
        }
        while (is_ws(*name))
            name++;
        nlen = strlen(name);
        while (nlen && is_ws(name[nlen - 1]))
            nlen--;
        for (k = 0; k < nlen; k++)
            if (name[k] == ':' || is_ws(name[k]) || (unsigned char)name[k] < 0x21)
                break;
        if (nlen == 0 || k < nlen) {
            rc = ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: header %zu has an invalid name", i + 1);
            goto out;
        }
        e[i].order = i;
        e[i].name_off = scratch.len;
        rc = dbuf_reserve(&scratch, nlen + 1);
        if (rc)
            goto out;
        for (k = 0; k < nlen; k++) {
            char c = name[k];
            scratch.data[scratch.len++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        scratch.data[scratch.len++] = '\0';
        scratch.data[scratch.len] = '\0';
        e[i].value_off = scratch.len;
        rc = header_value(&scratch, h[i].value);
        if (rc)
            goto out;
    }
    for (i = 0; i < nh; i++) {
        e[i].name = scratch.data + e[i].name_off;
        e[i].value = scratch.data + e[i].value_off;
        if (strcmp(e[i].name, "host") == 0)
            have_host = 1;
    }
    if (!have_host) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign a request without a Host header");
        goto out;
    }
    qsort(e, nh, sizeof(*e), hentry_cmp);
    for (i = 0; i < nh && !rc; i++) {
        if (i > 0 && strcmp(e[i].name, e[i - 1].name) == 0) {
            rc = dbuf_putc(creq, ',');
        } else {
            if (i > 0) {
                rc = dbuf_putc(creq, '\n');
                if (!rc)
                    rc = dbuf_putc(signed_names, ';');
            }
            if (!rc)
                rc = dbuf_puts(signed_names, e[i].name);
            if (!rc)
                rc = dbuf_puts(creq, e[i].name);
            if (!rc)
                rc = dbuf_putc(creq, ':');
        }
        if (!rc)
            rc = dbuf_puts(creq, e[i].value);
    }
    if (!rc)
        rc = dbuf_putc(creq, '\n');
out:
    free(e);
    if (scratch.data)
        OPENSSL_cleanse(scratch.data, scratch.cap); /* may hold a session token */
    dbuf_free(&scratch);
    return rc;
}

/* ---- signing ----------------------------------------------------------------------------- */

static int hmac(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32])
{
    unsigned int outlen = 0;

    if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) || outlen != 32)
        return DDB2ES_E_INTERNAL;
    return DDB2ES_OK;
}

static int valid_amz_date(const char *d)
{
    size_t i;

    if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

/* A credential-scope component: non-empty, no '/', no whitespace or control characters. */
static int valid_scope_part(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (*s == '/' || (unsigned char)*s <= 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* signature = hex(HMAC(kSigning, string_to_sign)), kSigning derived from the secret. */
static int compute_signature(const char *secret, const char *date8, const char *region, const char *service,
                             const struct dbuf *sts, char sig[65])
{
    unsigned char k1[32], k2[32];
    size_t slen = strlen(secret);
    char *ksecret;
    int rc;

    ksecret = malloc(slen + 5);
    if (!ksecret)
        return DDB2ES_E_NOMEM;
    memcpy(ksecret, "AWS4", 4);
    memcpy(ksecret + 4, secret, slen + 1);
    rc = hmac(ksecret, slen + 4, date8, 8, k1);
    if (!rc)
        rc = hmac(k1, 32, region, strlen(region), k2);
    if (!rc)
        rc = hmac(k2, 32, service, strlen(service), k1);
    if (!rc)
        rc = hmac(k1, 32, "aws4_request", 12, k2);
    if (!rc)
        rc = hmac(k2, 32, sts->data, sts->len, k1);
    if (!rc)
        hex_encode(k1, 32, sig);
    OPENSSL_cleanse(ksecret, slen + 5);
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    free(ksecret);
    return rc;
}

int sigv4_sign(const struct sigv4_input *in, struct sigv4_output *out, struct ddb2es_error *err)
{
    struct dbuf signed_names = DBUF_INIT;
    char payload_hex[65], creq_hex[65], date8[9];
    const char *pq, *qmark;
    size_t plen;
    int rc;

    dbuf_reset(&out->canonical_request);
    dbuf_reset(&out->string_to_sign);
    dbuf_reset(&out->authorization);
    out->signature[0] = '\0';

    if (!in->method || !*in->method || !in->path_and_query)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: no method or no request path");
    if (!valid_amz_date(in->amz_date))
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: the date must look like 20150830T123600Z");
    if (!valid_scope_part(in->region))
        return ddb2es_failf(err, DDB2ES_E_USAGE,
                            "cannot sign: the AWS region is empty or holds '/' or spaces; check the region");
    if (!valid_scope_part(in->service))
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: the AWS service name is empty or holds '/' or spaces");
    if (!in->creds || !in->creds->access_key_id || !*in->creds->access_key_id || !in->creds->secret_access_key ||
        !*in->creds->secret_access_key)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: the AWS credentials lack an access key or secret key");
    if (!valid_scope_part(in->creds->access_key_id))
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: the AWS access key id holds '/' or spaces");
    if (in->payload_len && !in->payload)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: payload length without a payload");
    if (in->payload_sha256_hex && strlen(in->payload_sha256_hex) != 64)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: the given payload hash is not 64 hex digits");

    /* step 1: canonical request */
    pq = in->path_and_query;
    qmark = strchr(pq, '?');
    plen = qmark ? (size_t)(qmark - pq) : strlen(pq);
    rc = dbuf_puts(&out->canonical_request, in->method);
    if (!rc)
        rc = dbuf_putc(&out->canonical_request, '\n');
    if (!rc)
        rc = canonical_path(&out->canonical_request, pq, plen);
    if (!rc)
        rc = dbuf_putc(&out->canonical_request, '\n');
    if (!rc && qmark)
        rc = canonical_query(&out->canonical_request, qmark + 1, strlen(qmark + 1));
    if (!rc)
        rc = dbuf_putc(&out->canonical_request, '\n');
    if (rc)
        goto out;
    rc = canonical_headers(&out->canonical_request, &signed_names, in->headers, in->nheaders, err);
    if (rc)
        goto out;
    if (in->payload_sha256_hex)
        memcpy(payload_hex, in->payload_sha256_hex, 65);
    else
        sigv4_sha256_hex(in->payload, in->payload_len, payload_hex);
    rc = dbuf_printf(&out->canonical_request, "\n%s\n%s", dbuf_cstr(&signed_names), payload_hex);
    if (rc)
        goto out;

    /* step 2: string to sign */
    memcpy(date8, in->amz_date, 8);
    date8[8] = '\0';
    sigv4_sha256_hex(out->canonical_request.data, out->canonical_request.len, creq_hex);
    rc = dbuf_printf(&out->string_to_sign, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", in->amz_date, date8,
                     in->region, in->service, creq_hex);
    if (rc)
        goto out;

    /* step 3: signature */
    rc = compute_signature(in->creds->secret_access_key, date8, in->region, in->service, &out->string_to_sign,
                           out->signature);
    if (rc) {
        if (rc == DDB2ES_E_INTERNAL)
            ddb2es_failf(err, rc, "cannot sign: HMAC-SHA256 failed in OpenSSL libcrypto");
        goto out;
    }

    /* step 4: Authorization */
    rc = dbuf_printf(&out->authorization,
                     SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                     in->creds->access_key_id, date8, in->region, in->service, dbuf_cstr(&signed_names),
                     out->signature);
out:
    if (rc) {
        if (rc == DDB2ES_E_NOMEM)
            ddb2es_failf(err, rc, "out of memory signing a request");
        dbuf_reset(&out->canonical_request);
        dbuf_reset(&out->string_to_sign);
        dbuf_reset(&out->authorization);
        out->signature[0] = '\0';
    }
    dbuf_free(&signed_names);
    return rc;
}

/* ---- signing a request as ddb2es sends it ------------------------------------------------ */

static int header_is(const struct http_header *h, const char *name)
{
    return h->name && strcasecmp(h->name, name) == 0;
}

/* Keeps a copy of s in h->owned; returns it or NULL when out of memory. */
static const char *own(struct sigv4_headers *h, const char *s)
{
    char *p;

    if (h->nowned >= sizeof(h->owned) / sizeof(h->owned[0]))
        return NULL;
    p = util_strdup(s);
    if (p)
        h->owned[h->nowned++] = p;
    return p;
}

/* Takes the buffer's storage into h->owned. */
static const char *own_dbuf(struct sigv4_headers *h, struct dbuf *b)
{
    char *p;

    if (h->nowned >= sizeof(h->owned) / sizeof(h->owned[0]))
        return NULL;
    p = dbuf_detach(b);
    if (p)
        h->owned[h->nowned++] = p;
    return p;
}

static int wants_content_sha256(const char *service)
{
    return strcmp(service, "es") == 0 || strcmp(service, "aoss") == 0;
}

int sigv4_sign_request(const char *method, const char *url, const struct http_header *headers, size_t nheaders,
                       const void *body, size_t body_len, const char *region, const char *service,
                       const struct aws_credentials *creds, long long now, struct sigv4_headers *out,
                       struct ddb2es_error *err)
{
    static const char *const reserved[] = {"X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256",
                                           "Authorization"};
    struct sigv4_output so;
    struct sigv4_input in;
    struct http_header *all = NULL, *tosign = NULL;
    char host[300], amz_date[17], payload_hex[65];
    char *path = NULL;
    size_t i, k, n = 0, nsign = 0, urllen;
    const char *v;
    int port, have_host = 0, rc = DDB2ES_OK;
    struct tm tm;
    time_t t;

    memset(out, 0, sizeof(*out));
    sigv4_output_init(&so);
    if (!method || !url || !region || !service || (nheaders && !headers))
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: missing method, URL, region or service");
    for (i = 0; i < nheaders; i++) {
        if (!headers[i].name || !headers[i].value)
            return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: header %zu has no name or no value", i + 1);
        for (k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++)
            if (header_is(&headers[i], reserved[k]))
                return ddb2es_failf(err, DDB2ES_E_USAGE,
                                    "cannot sign: the request already has a %s header, which the signer sets",
                                    reserved[k]);
        if (header_is(&headers[i], "Host"))
            have_host = 1;
    }
    if (!creds || !creds->access_key_id || !creds->secret_access_key)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: the AWS credentials lack an access key or secret key");
    if (body_len && !body)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: body length without a body");

    urllen = strlen(url);
    path = malloc(urllen + 2);
    all = malloc((nheaders + 5) * sizeof(*all));
    tosign = malloc((nheaders + 4) * sizeof(*tosign));
    out->headers = all; /* from here on freed through out on failure */
    if (!path || !all || !tosign) {
        rc = DDB2ES_E_NOMEM;
        goto out;
    }
    rc = http_url_split(url, host, sizeof(host) - 8, &port, path, urllen + 2, err);
    if (rc)
        goto out;
    if ((port != 80 || strncmp(url, "http://", 7) != 0) && (port != 443 || strncmp(url, "https://", 8) != 0)) {
        size_t hl = strlen(host);
        snprintf(host + hl, sizeof(host) - hl, ":%d", port);
    }

    t = (time_t)now;
    if ((long long)t != now || !gmtime_r(&t, &tm) ||
        strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "cannot sign: the signing time %lld is out of range", now);
        goto out;
    }
    sigv4_sha256_hex(body, body_len, payload_hex);

    for (i = 0; i < nheaders; i++)
        all[n++] = headers[i];
    out->nheaders = n;
    if (!have_host) {
        v = own(out, host);
        if (!v) {
            rc = DDB2ES_E_NOMEM;
            goto out;
        }
        all[n].name = "Host";
        all[n++].value = v;
    }
    v = own(out, amz_date);
    if (!v) {
        rc = DDB2ES_E_NOMEM;
        goto out;
    }
    all[n].name = "X-Amz-Date";
    all[n++].value = v;
    if (creds->session_token && *creds->session_token) {
        v = own(out, creds->session_token);
        if (!v) {
            rc = DDB2ES_E_NOMEM;
            goto out;
        }
        all[n].name = "X-Amz-Security-Token";
        all[n++].value = v;
    }
    if (wants_content_sha256(service)) {
        v = own(out, payload_hex);
        if (!v) {
            rc = DDB2ES_E_NOMEM;
            goto out;
        }
        all[n].name = "X-Amz-Content-Sha256";
        all[n++].value = v;
    }
    out->nheaders = n;
    for (i = 0; i < n; i++)
        if (*all[i].value)
            tosign[nsign++] = all[i];

    memset(&in, 0, sizeof(in));
    in.method = method;
    in.path_and_query = path;
    in.headers = tosign;
    in.nheaders = nsign;
    in.payload = body;
    in.payload_len = body_len;
    in.payload_sha256_hex = payload_hex;
    in.region = region;
    in.service = service;
    in.amz_date = amz_date;
    in.creds = creds;
    rc = sigv4_sign(&in, &so, err);
    if (rc)
        goto out;
    v = own_dbuf(out, &so.authorization);
    if (!v) {
        rc = DDB2ES_E_NOMEM;
        goto out;
    }
    all[n].name = "Authorization";
    all[n++].value = v;
    out->nheaders = n;
out:
    if (rc == DDB2ES_E_NOMEM)
        ddb2es_failf(err, rc, "out of memory signing a request");
    if (rc)
        sigv4_headers_free(out);
    free(tosign);
    free(path);
    sigv4_output_free(&so);
    return rc;
}

void sigv4_headers_free(struct sigv4_headers *h)
{
    size_t i;

    if (!h)
        return;
    for (i = 0; i < h->nowned; i++) {
        if (h->owned[i])
            OPENSSL_cleanse(h->owned[i], strlen(h->owned[i])); /* one of them may be a session token */
        free(h->owned[i]);
    }
    free(h->headers);
    memset(h, 0, sizeof(*h));
}
