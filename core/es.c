/*
 * es.c - Elasticsearch / OpenSearch client: the connection, GET / and the
 * product it names, error answers, request plumbing. See ddb2es/es.h.
 * The rest of the client: es_index.c (index operations, settings, aliases,
 * _cat), es_bulk.c (ddb2es/es_bulk.h), es_search.c (ddb2es/es_search.h);
 * they share es_internal.h. The JSON scanner and string pool: jscan.c.
 *
 * DESIGN
 * - Transport: one http_client per es_client, one reused response buffer (a
 *   5 MiB bulk answer is not reallocated on every request), one reused URL
 *   buffer. Requests are built as base URL + path; names in paths are
 *   percent-encoded.
 * - Reading answers: small answers go through jansson. Large or
 *   precision-sensitive ones (_bulk, search pages, _mget) go through the
 *   scanner of jscan.c (js_*), which validates JSON syntax while walking the text
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
#include "ddb2es/ddbjson.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "es_internal.h"
#include "jscan.h"
#include "util.h"

/* ======================================================== JSON strings */

/* The escaping is ddbjson's (one escaper for documents and requests); here
 * only the message differs: a request that is not UTF-8 is the caller's
 * mistake, named with the offset of the first bad byte. */
int es_json_string(struct dbuf *out, const char *s, size_t len, struct ddb2es_error *err)
{
    size_t i = 0, k;
    int rc = ddbjson_escape_string(out, s, len, DDBJSON_STRICT_UTF8);

    if (rc == DDB2ES_OK)
        return DDB2ES_OK;
    if (rc != DDB2ES_E_MAPPING)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory building a request");
    while (i < len) {
        k = js_utf8_seq((const unsigned char *)s + i, len - i);
        if (!k)
            break;
        i += k;
    }
    return ddb2es_failf(err, DDB2ES_E_USAGE, "text is not valid UTF-8 (byte %zu)", i);
}

/* ================================================================= bulk */

/* Checks an id for a bulk action; the message names it. */
int es__check_id(const char *id, struct ddb2es_error *err)
{
    char shown[96];
    size_t n;

    if (!id || !*id)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "a document has an empty _id");
    n = strlen(id);
    js_printable(id, n < 60 ? n : 60, shown, sizeof(shown));
    if (n > ES_ID_MAX_BYTES)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "document id '%s' is %zu bytes long; the limit is %d", shown, n,
                            ES_ID_MAX_BYTES);
    if (!js_utf8_valid(id, n))
        return ddb2es_failf(err, DDB2ES_E_USAGE, "document id '%s' is not valid UTF-8", shown);
    return DDB2ES_OK;
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

const char *es__jstr(const json_t *o, const char *key)
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
int es__cause_text(const json_t *e, bool root, struct dbuf *out)
{
    const char *type = es__jstr(e, "type"), *reason = es__jstr(e, "reason");
    const char *ptype = type, *preason = reason;
    const json_t *cb = json_object_get(e, "caused_by");
    int rc = DDB2ES_OK, depth;

    if (reason)
        rc = dbuf_puts(out, reason);
    for (depth = 0; !rc && json_is_object(cb) && depth < 4; depth++) {
        const char *ct = es__jstr(cb, "type"), *cr = es__jstr(cb, "reason");
        if (!same(ct, ptype) || !same(cr, preason))
            rc = dbuf_printf(out, "%scaused by %s%s%s", out->len ? "; " : "", ct ? ct : "error", cr ? ": " : "",
                             cr ? cr : "");
        ptype = ct;
        preason = cr;
        cb = json_object_get(cb, "caused_by");
    }
    if (!rc && root) {
        const json_t *rcause = json_array_get(json_object_get(e, "root_cause"), 0);
        const char *rt = es__jstr(rcause, "type"), *rr = es__jstr(rcause, "reason");
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
        const char *m = es__jstr(root, "message");

        if (!m)
            m = es__jstr(root, "Message");
        if (json_is_object(e)) {
            type = es__jstr(e, "type") ? es__jstr(e, "type") : "";
            rc = es__cause_text(e, true, &detail);
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
        js_dbuf_truncate(&detail, cut);
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
    ho.abort_flag = opts->abort_flag;
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

const char *es__product(const struct es_client *c)
{
    return es_flavour_name(c->flavour);
}

/* ------------------------------------------------------ request plumbing */

int es__url_start(struct es_client *c)
{
    dbuf_reset(&c->url);
    return dbuf_puts(&c->url, c->base);
}

/* Appends s percent-encoded (RFC 3986): letters, digits and the bytes of `keep` as they are. */
static int url_encode(struct dbuf *b, const char *s, const char *keep)
{
    static const char hexd[] = "0123456789ABCDEF";
    int rc = DDB2ES_OK;

    for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
        if (isalnum(*p) || strchr(keep, *p)) {
            rc = dbuf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hexd[*p >> 4], hexd[*p & 15]};
            rc = dbuf_append(b, e, 3);
        }
    }
    return rc;
}

/* Appends "/" and a percent-encoded name (index, alias, pattern: '*' and ',' kept). */
int es__url_name(struct es_client *c, const char *name)
{
    int rc = dbuf_putc(&c->url, '/');

    return rc ? rc : url_encode(&c->url, name, "-_.~*,");
}

/* Percent-encodes a query value (keep_alive is "5m", but be safe). */
int es__url_query_value(struct es_client *c, const char *v)
{
    return url_encode(&c->url, v, "-_.~");
}

/* Prefixes the message of a failed call with what was being done. */
int es__prefix_error(struct ddb2es_error *err, int rc, const char *what)
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
int es__exchange(struct es_client *c, const char *method, const char *ctype, const char *body, size_t len,
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
        return es__prefix_error(err, rc, what);
    return DDB2ES_OK;
}

bool es__is_2xx(long s)
{
    return s >= 200 && s < 300;
}

/* The error of a non-2xx answer in c->resp. */
int es__answer_error(struct es_client *c, const char *what, struct ddb2es_error *err)
{
    int rc = es_error_from_response(es__product(c), c->host, what, c->resp.status, dbuf_cstr(&c->resp.body),
                                    c->resp.body.len, err);

    /* an answer may quote the request back: never show what signed or authorised it */
    if (c->aws.creds) {
        ddb2es_error_redact(err, c->aws.creds->session_token);
        ddb2es_error_redact(err, c->aws.creds->secret_access_key);
    }
    if (c->userpwd && strchr(c->userpwd, ':'))
        ddb2es_error_redact(err, strchr(c->userpwd, ':') + 1);
    return rc;
}

/* One JSON call: body may be NULL. Non-2xx answers become errors. */
int es__call(struct es_client *c, const char *method, const char *body, size_t len, const char *what,
                   struct ddb2es_error *err)
{
    int rc = es__exchange(c, method, body ? "application/json" : NULL, body, len, what, err);

    if (rc)
        return rc;
    if (!es__is_2xx(c->resp.status))
        return es__answer_error(c, what, err);
    return DDB2ES_OK;
}

/* Parses c->resp as a JSON object with jansson. */
int es__resp_json(struct es_client *c, const char *what, json_t **out, struct ddb2es_error *err)
{
    json_error_t jerr;

    *out = json_loadb(dbuf_cstr(&c->resp.body), c->resp.body.len, 0, &jerr);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ddb2es_failf(err, DDB2ES_E_PROTOCOL, "%s: %s at %s sent an unreadable answer (%s)", what,
                            es__product(c), c->host, jerr.text[0] ? jerr.text : "not a JSON object");
    }
    return DDB2ES_OK;
}

int es__url_fail(struct ddb2es_error *err)
{
    return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory building a request URL");
}

int es__body_end(struct dbuf *body, size_t mark, int rc, const char *what, struct ddb2es_error *err)
{
    if (rc) {
        js_dbuf_truncate(body, mark);
        if (rc == DDB2ES_E_NOMEM)
            ddb2es_failf(err, rc, "out of memory building %s", what);
    }
    return rc;
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
    for (i = 0; i < 3 && s && js_is_digit((unsigned char)*s); i++) {
        long v = strtol(s, &end, 10);
        *parts[i] = v > 100000 ? 100000 : (int)v;
        if (*end != '.')
            break;
        s = end + 1;
    }
}

void es__copy_field(char *dst, size_t sz, const char *src)
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
    number = es__jstr(ver, "number");
    if (!json_is_object(root) || !number) {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL,
                          "%s does not look like Elasticsearch or OpenSearch: GET / has no version.number; "
                          "check the URL",
                          host ? host : "the server");
        goto out;
    }
    dist = es__jstr(ver, "distribution");
    tagline = es__jstr(root, "tagline");
    es__copy_field(out->reported_version, sizeof(out->reported_version), number);
    es__copy_field(out->build_flavor, sizeof(out->build_flavor), es__jstr(ver, "build_flavor"));
    es__copy_field(out->lucene_version, sizeof(out->lucene_version), es__jstr(ver, "lucene_version"));
    es__copy_field(out->cluster_name, sizeof(out->cluster_name), es__jstr(root, "cluster_name"));
    es__copy_field(out->node_name, sizeof(out->node_name), es__jstr(root, "name"));
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
    rc = es__url_start(c);
    if (!rc)
        rc = dbuf_putc(&c->url, '/');
    if (rc)
        return es__url_fail(err);
    rc = es__call(c, "GET", NULL, 0, what, err);
    if (rc)
        return rc;
    rc = es_parse_info(dbuf_cstr(&c->resp.body), c->resp.body.len, c->host, out, err);
    if (!rc)
        c->flavour = out->flavour;
    return rc;
}

/* URL base + "/" + name + suffix (suffix may be NULL). */
int es__url_index(struct es_client *c, const char *index, const char *suffix, struct ddb2es_error *err)
{
    int rc = es__url_start(c);

    if (!rc && index)
        rc = es__url_name(c, index);
    if (!rc && suffix)
        rc = dbuf_puts(&c->url, suffix);
    return rc ? es__url_fail(err) : DDB2ES_OK;
}

int es__check_index_arg(const char *index, struct ddb2es_error *err)
{
    if (!index || !*index)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "no index name given");
    return DDB2ES_OK;
}
