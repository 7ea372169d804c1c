/*
 * http.c - libcurl easy-handle wrapper. See ddb2es/http.h.
 *
 * DESIGN
 * One easy handle per client, reset between requests with the options that
 * matter re-applied, so libcurl's connection cache keeps the TCP (and TLS)
 * connection to the host alive. The response body goes into a dbuf; the only
 * response header we keep is Content-Type. Transport errors are turned into a
 * sentence that names the host and suggests what to check; the caller's error
 * buffer (CURLOPT_ERRORBUFFER) gives libcurl's own detail.
 */
#include "ddb2es/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ddb2es/sigv4.h"

struct http_client {
    CURL *curl;
    long connect_timeout_ms;
    long timeout_ms;
    char *ca_file;     /* owned, may be NULL */
    char *user_agent;  /* owned */
    const atomic_int *abort_flag; /* borrowed, may be NULL */
};

int http_global_init(struct ddb2es_error *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot initialise libcurl");
    return DDB2ES_OK;
}

void http_global_cleanup(void)
{
    curl_global_cleanup();
}

static char *xstrdup(const char *s)
{
    size_t n;
    char *p;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

struct http_client *http_client_new(const struct http_options *opts, struct ddb2es_error *err)
{
    struct http_client *c = calloc(1, sizeof(*c));

    if (!c)
        goto nomem;
    c->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
    c->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 120000;
    if (opts && opts->ca_file) {
        c->ca_file = xstrdup(opts->ca_file);
        if (!c->ca_file)
            goto nomem;
    }
    c->user_agent = xstrdup(opts && opts->user_agent ? opts->user_agent : "ddb2es/" DDB2ES_VERSION);
    c->abort_flag = opts ? opts->abort_flag : NULL;
    if (!c->user_agent)
        goto nomem;
    c->curl = curl_easy_init();
    if (!c->curl) {
        http_client_free(c);
        ddb2es_failf(err, DDB2ES_E_INTERNAL, "cannot create an HTTP handle (libcurl)");
        return NULL;
    }
    return c;
nomem:
    http_client_free(c);
    ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory creating an HTTP client");
    return NULL;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->ca_file);
    free(c->user_agent);
    free(c);
}

void http_response_init(struct http_response *r)
{
    memset(r, 0, sizeof(*r));
    dbuf_init(&r->body);
}

void http_response_free(struct http_response *r)
{
    if (!r)
        return;
    dbuf_free(&r->body);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct dbuf *b = userdata;
    size_t n = size * nmemb;

    if (dbuf_append(b, ptr, n))
        return 0; /* makes libcurl fail with CURLE_WRITE_ERROR */
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_response *r = userdata;
    size_t n = size * nmemb;
    static const char name[] = "content-type:";
    size_t nl = sizeof(name) - 1;

    if (n > nl && strncasecmp(ptr, name, nl) == 0) {
        const char *v = ptr + nl;
        size_t vl = n - nl;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl >= sizeof(r->content_type))
            vl = sizeof(r->content_type) - 1;
        memcpy(r->content_type, v, vl);
        r->content_type[vl] = '\0';
    } else if (n > 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or 100-continue): forget the old type */
        r->content_type[0] = '\0';
    }
    return n;
}

/* libcurl calls this during a transfer: a non-zero return ends it (a hard abort). */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    const atomic_int *flag = userdata;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load(flag) != 0;
}

/* Host[:port] of a URL for messages; never includes user:password. */
static void url_hostport(const char *url, char *out, size_t outsz)
{
    const char *p = strstr(url, "://");
    const char *end, *at;
    size_t n;

    p = p ? p + 3 : url;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    n = (size_t)(end - p);
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int transport_error(CURLcode cc, const char *url, const char *detail, struct ddb2es_error *err)
{
    char host[256];
    const char *why = detail && *detail ? detail : curl_easy_strerror(cc);

    url_hostport(url, host, sizeof(host));
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return ddb2es_failf(err, DDB2ES_E_NET, "cannot resolve host %s: %s; check the URL in the configuration",
                            host, why);
    case CURLE_COULDNT_CONNECT:
        return ddb2es_failf(err, DDB2ES_E_NET,
                            "cannot connect to %s: %s; is the service running and the URL right?", host, why);
    case CURLE_OPERATION_TIMEDOUT:
        return ddb2es_failf(err, DDB2ES_E_TIMEOUT, "request to %s timed out: %s", host, why);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
        return ddb2es_failf(err, DDB2ES_E_TLS,
                            "TLS with %s failed: %s; check the certificate or the environment's ca_file", host,
                            why);
    case CURLE_WRITE_ERROR:
    case CURLE_OUT_OF_MEMORY:
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading the answer of %s", host);
    case CURLE_ABORTED_BY_CALLBACK:
        return ddb2es_failf(err, DDB2ES_E_CANCELLED, "request to %s stopped: the run was aborted", host);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return ddb2es_failf(err, DDB2ES_E_USAGE, "bad URL for %s: %s", host, why);
    default:
        return ddb2es_failf(err, DDB2ES_E_NET, "request to %s failed: %s", host, why);
    }
}

int http_send(struct http_client *c, const struct http_request *req, struct http_response *resp,
              struct ddb2es_error *err)
{
    struct curl_slist *hdrs = NULL, *tmp;
    struct dbuf line = DBUF_INIT;
    struct sigv4_headers signed_hdrs = {0};
    const struct http_header *headers = req->headers;
    size_t nheaders = req->nheaders;
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = c->curl;
    CURLcode cc;
    size_t i;
    int rc = DDB2ES_OK;

    dbuf_reset(&resp->body);
    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->seconds = 0;
    errbuf[0] = '\0';

    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->abort_flag) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)c->abort_flag);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    if (req->userpwd) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
    }

    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "GET") == 0 && req->body_len == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }

    if (req->aws) {
        rc = sigv4_sign_request(req->method, req->url, req->headers, req->nheaders, req->body, req->body_len,
                                req->aws->region, req->aws->service, req->aws->creds, (long long)time(NULL),
                                &signed_hdrs, err);
        if (rc)
            goto out;
        headers = signed_hdrs.headers;
        nheaders = signed_hdrs.nheaders;
    }
    for (i = 0; i < nheaders; i++) {
        dbuf_reset(&line);
        rc = dbuf_printf(&line, "%s: %s", headers[i].name, headers[i].value);
        if (rc)
            goto out;
        tmp = curl_slist_append(hdrs, dbuf_cstr(&line));
        if (!tmp) {
            rc = DDB2ES_E_NOMEM;
            goto out;
        }
        hdrs = tmp;
    }
    /* libcurl adds "Expect: 100-continue" to large POSTs; it costs a round trip */
    tmp = curl_slist_append(hdrs, "Expect:");
    if (!tmp) {
        rc = DDB2ES_E_NOMEM;
        goto out;
    }
    hdrs = tmp;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = transport_error(cc, req->url, errbuf, err);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &resp->seconds);
out:
    if (rc == DDB2ES_E_NOMEM && err && err->status != DDB2ES_E_NOMEM)
        ddb2es_failf(err, rc, "out of memory preparing a request");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    sigv4_headers_free(&signed_hdrs);
    dbuf_free(&line);
    return rc;
}

int http_url_split(const char *url, char *host, size_t hostsz, int *port, char *path, size_t pathsz,
                   struct ddb2es_error *err)
{
    const char *p, *hs, *he, *ps;
    int defport;
    size_t n;

    if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
        defport = 80;
    } else if (strncmp(url, "https://", 8) == 0) {
        p = url + 8;
        defport = 443;
    } else {
        return ddb2es_failf(err, DDB2ES_E_USAGE, "a URL must start with http:// or https://");
    }
    ps = p + strcspn(p, "/?#");
    hs = p;
    {
        const char *at = memchr(p, '@', (size_t)(ps - p));
        if (at)
            hs = at + 1;
    }
    if (*hs == '[') {
        he = memchr(hs, ']', (size_t)(ps - hs));
        if (!he)
            return ddb2es_failf(err, DDB2ES_E_USAGE, "URL has an unterminated IPv6 address");
        he++;
    } else {
        he = memchr(hs, ':', (size_t)(ps - hs));
        if (!he)
            he = ps;
    }
    n = (size_t)(he - hs);
    if (n == 0 || n >= hostsz)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "URL has no host or a host that is too long");
    memcpy(host, hs, n);
    host[n] = '\0';
    *port = defport;
    if (he < ps && *he == ':') {
        char *end;
        long v = strtol(he + 1, &end, 10);
        if (end != ps || v <= 0 || v > 65535)
            return ddb2es_failf(err, DDB2ES_E_USAGE, "URL has an invalid port");
        *port = (int)v;
    }
    if (*ps == '\0' || *ps == '?' || *ps == '#') {
        if (pathsz < 2)
            return ddb2es_failf(err, DDB2ES_E_USAGE, "URL path buffer too small");
        n = (size_t)snprintf(path, pathsz, "/%s", *ps == '?' ? ps : "");
    } else {
        n = (size_t)snprintf(path, pathsz, "%s", ps);
    }
    if (n >= pathsz)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "URL path too long");
    for (char *q = path; *q; q++) {
        if (*q == '#') {
            *q = '\0';
            break;
        }
    }
    return DDB2ES_OK;
}
