/*
 * test_sigv4_sign.c - the SigV4 signer against signatures recomputed here with libcrypto,
 * for requests shaped like the ones ddb2es sends to DynamoDB and Elasticsearch (bodies from
 * ../shared/reference), and its canonical forms and refusals beyond the AWS test suite
 * (test_sigv4_suite.c).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4_test_util.h"

/* ---- independent recomputation with libcrypto ---------------------------------------------- */

static void ref_hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;

    assert_non_null(HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &len));
    assert_int_equal(len, 32);
}

static void ref_hex(const unsigned char *md, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The Authorization value for a canonical request, computed here step by step. */
static void ref_authorization(const char *creq, const char *akid, const char *secret, const char *date,
                              const char *region, const char *service, const char *signed_names, char *out,
                              size_t outsz)
{
    unsigned char md[32], k[32];
    char creq_hex[65], sts[512], ksecret[128], date8[9], sig[65];

    SHA256((const unsigned char *)creq, strlen(creq), md);
    ref_hex(md, 32, creq_hex);
    memcpy(date8, date, 8);
    date8[8] = '\0';
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", date, date8, region, service,
             creq_hex);
    snprintf(ksecret, sizeof(ksecret), "AWS4%s", secret);
    ref_hmac(ksecret, strlen(ksecret), date8, k);
    ref_hmac(k, 32, region, k);
    ref_hmac(k, 32, service, k);
    ref_hmac(k, 32, "aws4_request", k);
    ref_hmac(k, 32, sts, md);
    ref_hex(md, 32, sig);
    snprintf(out, outsz, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
             akid, date8, region, service, signed_names, sig);
}

static const char *find_header(const struct sigv4_headers *h, const char *name)
{
    size_t i;

    for (i = 0; i < h->nheaders; i++)
        if (strcmp(h->headers[i].name, name) == 0)
            return h->headers[i].value;
    return NULL;
}

static void assert_headers_no_secret(const struct sigv4_headers *h)
{
    size_t i;

    for (i = 0; i < h->nheaders; i++) {
        assert_no_secret(h->headers[i].name);
        assert_no_secret(h->headers[i].value);
    }
}

#define T_2015 1440938160LL /* 2015-08-30T12:36:00Z, the suite's time */

/* A file of the shared reference folder ("dynamodb/scan-request.all-items.json"). */
static void load_reference(const char *rel, struct dbuf *out)
{
    char sub[512], path[1024];
    struct ddb2es_error err;

    snprintf(sub, sizeof(sub), "reference/%s", rel);
    tu_shared(sub, path, sizeof(path));
    ddb2es_error_clear(&err);
    dbuf_reset(out);
    if (util_read_file(path, out, &err) != DDB2ES_OK)
        fail_msg("%s (set DDB2ES_SHARED to the shared/ folder)", err.message);
}

/* A DynamoDB Scan as ddb2es sends it: signed with the session token, no content hash. */
static void test_sign_request_dynamodb(void **state)
{
    const char *token = "FwoGZXIvYXdzEXAMPLE//token+with/slashes==";
    struct http_header hdrs[] = {
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", "DynamoDB_20120810.Scan"},
    };
    struct sigv4_headers out = {0};
    struct aws_credentials *creds;
    struct ddb2es_error err;
    struct dbuf body = DBUF_INIT, creq = DBUF_INIT;
    char body_hex[65], want[1024];
    unsigned char md[32];
    int rc;

    (void)state;
    load_reference("dynamodb/scan-request.all-items.json", &body);
    creds = aws_credentials_new("AKIDEXAMPLE", SECRET, token, "test");
    assert_non_null(creds);
    ddb2es_error_clear(&err);
    rc = sigv4_sign_request("POST", "https://dynamodb.eu-west-2.amazonaws.com/", hdrs, 2, body.data, body.len,
                            "eu-west-2", "dynamodb", creds, T_2015, &out, &err);
    if (rc)
        fail_msg("sigv4_sign_request: %s", err.message);

    /* the caller's headers first, untouched and still borrowed, then the added ones */
    assert_int_equal(out.nheaders, 6);
    assert_ptr_equal(out.headers[0].name, hdrs[0].name);
    assert_ptr_equal(out.headers[0].value, hdrs[0].value);
    assert_ptr_equal(out.headers[1].value, hdrs[1].value);
    assert_string_equal(out.headers[2].name, "Host");
    assert_string_equal(out.headers[2].value, "dynamodb.eu-west-2.amazonaws.com");
    assert_string_equal(out.headers[3].name, "X-Amz-Date");
    assert_string_equal(out.headers[3].value, "20150830T123600Z");
    assert_string_equal(out.headers[4].name, "X-Amz-Security-Token");
    assert_string_equal(out.headers[4].value, token);
    assert_string_equal(out.headers[5].name, "Authorization");
    assert_null(find_header(&out, "X-Amz-Content-Sha256"));

    SHA256((const unsigned char *)body.data, body.len, md);
    ref_hex(md, 32, body_hex);
    assert_int_equal(dbuf_printf(&creq,
                                 "POST\n/\n\n"
                                 "content-type:application/x-amz-json-1.0\n"
                                 "host:dynamodb.eu-west-2.amazonaws.com\n"
                                 "x-amz-date:20150830T123600Z\n"
                                 "x-amz-security-token:%s\n"
                                 "x-amz-target:DynamoDB_20120810.Scan\n\n"
                                 "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n%s",
                                 token, body_hex),
                     0);
    ref_authorization(dbuf_cstr(&creq), "AKIDEXAMPLE", SECRET, "20150830T123600Z", "eu-west-2", "dynamodb",
                      "content-type;host;x-amz-date;x-amz-security-token;x-amz-target", want, sizeof(want));
    assert_string_equal(out.headers[5].value, want);
    assert_headers_no_secret(&out);

    sigv4_headers_free(&out);
    assert_null(out.headers);
    assert_int_equal(out.nheaders, 0);
    sigv4_headers_free(&out); /* twice is harmless */
    sigv4_headers_free(NULL);
    aws_credentials_free(creds);
    dbuf_free(&body);
    dbuf_free(&creq);
}

/* An Elasticsearch bulk to OpenSearch Service: X-Amz-Content-Sha256 added and signed, the
 * default port left out of Host, the query canonicalised. */
static void test_sign_request_es_bulk(void **state)
{
    struct http_header hdrs[] = {{"Content-Type", "application/x-ndjson"}};
    struct sigv4_headers out = {0};
    struct aws_credentials *creds;
    struct ddb2es_error err;
    struct dbuf body = DBUF_INIT, creq = DBUF_INIT;
    char body_hex[65], want[1024];
    unsigned char md[32];
    const char *signed_names = "content-type;host;x-amz-content-sha256;x-amz-date";
    int rc;

    (void)state;
    load_reference("elasticsearch/bulk-request.ndjson", &body);
    creds = aws_credentials_new("AKIDEXAMPLE", SECRET, NULL, "test");
    assert_non_null(creds);
    ddb2es_error_clear(&err);
    rc = sigv4_sign_request("POST", "https://search-hackney.eu-west-2.es.amazonaws.com:443/_bulk?refresh=wait_for",
                            hdrs, 1, body.data, body.len, "eu-west-2", "es", creds, T_2015 + 41039, &out, &err);
    if (rc)
        fail_msg("sigv4_sign_request: %s", err.message);
    SHA256((const unsigned char *)body.data, body.len, md);
    ref_hex(md, 32, body_hex);

    assert_int_equal(out.nheaders, 5);
    assert_string_equal(find_header(&out, "Host"), "search-hackney.eu-west-2.es.amazonaws.com");
    assert_string_equal(find_header(&out, "X-Amz-Date"), "20150830T235959Z");
    assert_string_equal(find_header(&out, "X-Amz-Content-Sha256"), body_hex);
    assert_null(find_header(&out, "X-Amz-Security-Token"));
    assert_string_equal(out.headers[out.nheaders - 1].name, "Authorization");

    assert_int_equal(dbuf_printf(&creq,
                                 "POST\n/_bulk\nrefresh=wait_for\n"
                                 "content-type:application/x-ndjson\n"
                                 "host:search-hackney.eu-west-2.es.amazonaws.com\n"
                                 "x-amz-content-sha256:%s\n"
                                 "x-amz-date:20150830T235959Z\n\n%s\n%s",
                                 body_hex, signed_names, body_hex),
                     0);
    ref_authorization(dbuf_cstr(&creq), "AKIDEXAMPLE", SECRET, "20150830T235959Z", "eu-west-2", "es",
                      signed_names, want, sizeof(want));
    assert_string_equal(find_header(&out, "Authorization"), want);
    assert_headers_no_secret(&out);

    sigv4_headers_free(&out);
    aws_credentials_free(creds);
    dbuf_free(&body);
    dbuf_free(&creq);
}

/* Host as libcurl would send it for each URL, and the path and query the signature covers
 * (recomputed from the expected canonical request). */
static void test_sign_request_host_and_path(void **state)
{
    static const struct {
        const char *url;
        const char *host;
        const char *creq_prefix; /* method, path and query lines */
    } t[] = {
        {"http://127.0.0.1:9200/persons/_doc/1", "127.0.0.1:9200", "GET\n/persons/_doc/1\n\n"},
        {"http://localhost:80/", "localhost", "GET\n/\n\n"},
        {"http://localhost:443/", "localhost:443", "GET\n/\n\n"},
        {"https://example.com:80", "example.com:80", "GET\n/\n\n"},
        {"https://example.com", "example.com", "GET\n/\n\n"},
        {"https://example.com?b=2&a=1", "example.com", "GET\n/\na=1&b=2\n"},
        {"http://[::1]:9200/_search?scroll=1m#frag", "[::1]:9200", "GET\n/_search\nscroll=1m\n"},
        {"https://user:pw@example.com/persons/_doc/a%2Fb", "example.com", "GET\n/persons/_doc/a%252Fb\n\n"},
        {"https://example.com/a/./b/../c//d?x=a+b&x=%7e", "example.com", "GET\n/a/c/d\nx=a%2Bb&x=~\n"},
    };
    struct aws_credentials *creds = aws_credentials_new("AKIDEXAMPLE", SECRET, NULL, "test");
    const char *empty_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const char *signed_names = "host;x-amz-content-sha256;x-amz-date";
    struct ddb2es_error err;
    char creq[1024], want[1024];
    size_t i;

    (void)state;
    assert_non_null(creds);
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct sigv4_headers out = {0};

        ddb2es_error_clear(&err);
        if (sigv4_sign_request("GET", t[i].url, NULL, 0, NULL, 0, "eu-west-2", "es", creds, T_2015, &out, &err))
            fail_msg("%s: %s", t[i].url, err.message);
        assert_string_equal(find_header(&out, "Host"), t[i].host);
        snprintf(creq, sizeof(creq), "%shost:%s\nx-amz-content-sha256:%s\nx-amz-date:20150830T123600Z\n\n%s\n%s",
                 t[i].creq_prefix, t[i].host, empty_hex, signed_names, empty_hex);
        ref_authorization(creq, "AKIDEXAMPLE", SECRET, "20150830T123600Z", "eu-west-2", "es", signed_names, want,
                          sizeof(want));
        if (strcmp(find_header(&out, "Authorization"), want) != 0)
            fail_msg("%s: signed something else than\n%s", t[i].url, creq);
        sigv4_headers_free(&out);
    }
    aws_credentials_free(creds);
}

/* A caller's Host is signed as given; an empty value (libcurl's "remove this header") is
 * passed through and left out of the signature. */
static void test_sign_request_caller_headers(void **state)
{
    struct http_header hdrs[] = {{"host", "proxy.internal:8443"}, {"Accept", ""}, {"X-Custom", " a  b "}};
    struct aws_credentials *creds = aws_credentials_new("AKIDEXAMPLE", SECRET, NULL, "test");
    struct sigv4_headers out = {0};
    struct ddb2es_error err;
    const char *authz;

    (void)state;
    assert_non_null(creds);
    ddb2es_error_clear(&err);
    assert_int_equal(sigv4_sign_request("DELETE", "http://127.0.0.1:9200/idx", hdrs, 3, NULL, 0, "eu-west-2",
                                        "dynamodb", creds, T_2015, &out, &err),
                     DDB2ES_OK);
    assert_int_equal(out.nheaders, 5); /* 3 + X-Amz-Date + Authorization */
    assert_null(find_header(&out, "Host"));
    assert_string_equal(find_header(&out, "host"), "proxy.internal:8443");
    assert_string_equal(find_header(&out, "Accept"), "");
    authz = find_header(&out, "Authorization");
    assert_non_null(authz);
    assert_non_null(strstr(authz, "SignedHeaders=host;x-amz-date;x-custom, "));
    sigv4_headers_free(&out);
    aws_credentials_free(creds);
}

/* Failures leave *out empty, say what to fix, and never show the secret or the token. */
static void test_sign_request_errors(void **state)
{
    static const struct http_header bad_headers[][1] = {
        {{"Authorization", "x"}},
        {{"x-amz-date", "20150830T123600Z"}},
        {{"X-Amz-Security-Token", "tok"}},
        {{"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}},
        {{NULL, "v"}},
    };
    struct aws_credentials *creds = aws_credentials_new("AKIDEXAMPLE", SECRET, "TOKENSECRET", "test");
    struct aws_credentials *nosecret = aws_credentials_new("AKIDEXAMPLE", "", NULL, "test");
    struct ddb2es_error err;
    size_t i;

    (void)state;
    assert_non_null(creds);
    assert_non_null(nosecret);
    for (i = 0; i < 8 + sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
        struct sigv4_headers out = {0};
        int rc;

        ddb2es_error_clear(&err);
        switch (i) {
        case 0:
            rc = sigv4_sign_request("GET", "ftp://example.com/", NULL, 0, NULL, 0, "eu-west-2", "es", creds, T_2015,
                                    &out, &err);
            break;
        case 1:
            rc = sigv4_sign_request("GET", "http://example.com:99999/", NULL, 0, NULL, 0, "eu-west-2", "es", creds,
                                    T_2015, &out, &err);
            break;
        case 2:
            rc = sigv4_sign_request("GET", "http:///x", NULL, 0, NULL, 0, "eu-west-2", "es", creds, T_2015, &out,
                                    &err);
            break;
        case 3:
            rc = sigv4_sign_request("GET", "http://h/", NULL, 0, NULL, 0, "eu west 2", "es", creds, T_2015, &out,
                                    &err);
            break;
        case 4:
            rc = sigv4_sign_request("GET", "http://h/", NULL, 0, NULL, 0, "eu-west-2", "", creds, T_2015, &out, &err);
            break;
        case 5:
            rc = sigv4_sign_request("GET", "http://h/", NULL, 0, NULL, 0, "eu-west-2", "es", nosecret, T_2015, &out,
                                    &err);
            break;
        case 6:
            rc = sigv4_sign_request("GET", "http://h/", NULL, 0, NULL, 0, "eu-west-2", "es", NULL, T_2015, &out,
                                    &err);
            break;
        case 7:
            rc = sigv4_sign_request("POST", "http://h/", NULL, 0, NULL, 5, "eu-west-2", "es", creds, T_2015, &out,
                                    &err);
            break;
        default:
            rc = sigv4_sign_request("GET", "http://h/", bad_headers[i - 8], 1, NULL, 0, "eu-west-2", "es", creds,
                                    T_2015, &out, &err);
            break;
        }
        if (rc != DDB2ES_E_USAGE)
            fail_msg("error case %zu: got %s (%s)", i, ddb2es_status_name(rc), err.message);
        assert_int_equal(err.status, DDB2ES_E_USAGE);
        assert_true(strlen(err.message) > 10);
        assert_no_secret(err.message);
        assert_null(strstr(err.message, "TOKENSECRET"));
        assert_null(out.headers);
        assert_int_equal(out.nheaders, 0);
        assert_int_equal(out.nowned, 0);
        sigv4_headers_free(&out);
    }
    aws_credentials_free(creds);
    aws_credentials_free(nosecret);
}

/* A sigv4_sign input at the suite's time in eu-west-2, for the canonical-form cases. */
static void base_input(struct sigv4_input *in, const char *method, const char *path_and_query,
                       const struct http_header *headers, size_t nheaders, const char *service,
                       const struct aws_credentials *creds)
{
    memset(in, 0, sizeof(*in));
    in->method = method;
    in->path_and_query = path_and_query;
    in->headers = headers;
    in->nheaders = nheaders;
    in->region = "eu-west-2";
    in->service = service;
    in->amz_date = "20150830T123600Z";
    in->creds = creds;
}

/* Canonical path and query beyond the suite: what ES document ids and queries need. */
static void test_canonical_path_query(void **state)
{
    static const struct {
        const char *target;
        const char *want; /* lines 2 and 3 of the canonical request */
    } t[] = {
        {"", "/\n"},
        {"/", "/\n"},
        {"/../..", "/\n"},
        {"/a/b/..", "/a/\n"},
        {"/a/b/.", "/a/b/\n"},
        {"/a/./b/../../c", "/c\n"},
        {"a/b", "/a/b\n"},
        {"/a%2Fb", "/a%252Fb\n"},
        {"/doc id/\xc3\xa9", "/doc%20id/%C3%A9\n"},
        {"/x?", "/x\n"},
        {"/?b=2&a=1&a", "/\na=&a=1&b=2"},
        {"/?x=a+b", "/\nx=a%2Bb"},
        {"/?x=a%2bb", "/\nx=a%2Bb"},
        {"/?x=%zz&y=%4", "/\nx=%25zz&y=%254"},
        {"/?=v", "/\n=v"},
        {"/?a=1&&b=2&", "/\na=1&b=2"},
        {"/?k=v=w", "/\nk=v%3Dw"},
        {"/?%00=1", "/\n%00=1"},
        {"/?a=%20&a=%2A&a=*", "/\na=%20&a=%2A&a=%2A"},
        {"/_search?scroll=1m&size=1000", "/_search\nscroll=1m&size=1000"},
        {"/p?q=/a?b", "/p\nq=%2Fa%3Fb"},
    };
    struct aws_credentials *creds = aws_credentials_new("AKIDEXAMPLE", SECRET, NULL, "test");
    struct http_header h[] = {{"Host", "example.com"}};
    struct sigv4_output out;
    struct sigv4_input in;
    struct ddb2es_error err;
    const char *c, *l2, *l4;
    size_t i;

    (void)state;
    assert_non_null(creds);
    sigv4_output_init(&out);
    base_input(&in, "GET", NULL, h, 1, "es", creds);
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        in.path_and_query = t[i].target;
        if (sigv4_sign(&in, &out, &err))
            fail_msg("%s: %s", t[i].target, err.message);
        c = dbuf_cstr(&out.canonical_request);
        l2 = strchr(c, '\n') + 1;
        l4 = strchr(strchr(l2, '\n') + 1, '\n');
        if (strlen(t[i].want) != (size_t)(l4 - l2) || strncmp(l2, t[i].want, (size_t)(l4 - l2)) != 0)
            fail_msg("target '%s': got '%.*s', want '%s'", t[i].target, (int)(l4 - l2), l2, t[i].want);
    }
    sigv4_output_free(&out);
    sigv4_output_free(NULL);
    aws_credentials_free(creds);
}

static void test_canonical_headers(void **state)
{
    struct http_header h[] = {
        {"Host", "example.com"},     {"X-B", "\t two\r\n  words\t"}, {"x-a", ""},
        {"X-A", "second"},           {"  x-c  ", "c"},               {"X-B", "again"},
    };
    struct aws_credentials *creds = aws_credentials_new("AKIDEXAMPLE", SECRET, NULL, "test");
    struct sigv4_output out;
    struct sigv4_input in;
    struct ddb2es_error err;

    (void)state;
    assert_non_null(creds);
    sigv4_output_init(&out);
    base_input(&in, "PUT", "/", h, 6, "es", creds);
    in.payload = "x";
    in.payload_len = 1;
    assert_int_equal(sigv4_sign(&in, &out, &err), DDB2ES_OK);
    assert_string_equal(dbuf_cstr(&out.canonical_request),
                        "PUT\n/\n\nhost:example.com\nx-a:,second\nx-b:two words,again\nx-c:c\n\n"
                        "host;x-a;x-b;x-c\n"
                        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
    sigv4_output_free(&out);
    aws_credentials_free(creds);
}

static void test_sign_errors(void **state)
{
    struct aws_credentials *creds = aws_credentials_new("AKIDEXAMPLE", SECRET, NULL, "test");
    struct http_header host[] = {{"Host", "example.com"}};
    struct http_header nohost[] = {{"X-Amz-Date", "20150830T123600Z"}};
    struct http_header badname[] = {{"Host", "example.com"}, {"Bad Name", "v"}};
    struct sigv4_output out;
    struct sigv4_input in, base;
    struct ddb2es_error err;
    size_t i;

    (void)state;
    assert_non_null(creds);
    sigv4_output_init(&out);
    base_input(&base, "GET", "/", host, 1, "dynamodb", creds);
    /* a good signature first, so a failure can be seen to empty the output */
    assert_int_equal(sigv4_sign(&base, &out, &err), DDB2ES_OK);
    for (i = 0; i < 9; i++) {
        in = base;
        switch (i) {
        case 0: in.headers = nohost; break;
        case 1: in.nheaders = 0; break;
        case 2: in.amz_date = "2015-08-30T12:36:00Z"; break;
        case 3: in.amz_date = "20150830T123600"; break;
        case 4: in.region = "eu/west"; break;
        case 5: in.service = NULL; break;
        case 6: in.headers = badname; in.nheaders = 2; break;
        case 7: in.payload_sha256_hex = "abc"; break;
        default: in.method = ""; break;
        }
        ddb2es_error_clear(&err);
        if (sigv4_sign(&in, &out, &err) != DDB2ES_E_USAGE)
            fail_msg("error case %zu not refused", i);
        assert_true(strlen(err.message) > 10);
        assert_no_secret(err.message);
        assert_int_equal(out.canonical_request.len, 0);
        assert_int_equal(out.authorization.len, 0);
        assert_string_equal(out.signature, "");
    }
    sigv4_output_free(&out);
    aws_credentials_free(creds);
}

static void test_sha256_vectors(void **state)
{
    static const struct {
        const char *in;
        const char *hex;
    } t[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    char hex[65];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        sigv4_sha256_hex(t[i].in, strlen(t[i].in), hex);
        assert_string_equal(hex, t[i].hex);
    }
    sigv4_sha256_hex(NULL, 0, hex);
    assert_string_equal(hex, t[0].hex);
}

/* A bulk body of several MiB: one hash pass, the hash header right, and a time to report. */
static void test_sign_request_large_body(void **state)
{
    const size_t len = 8u << 20;
    struct aws_credentials *creds = aws_credentials_new("AKIDEXAMPLE", SECRET, "tok", "test");
    struct sigv4_headers out = {0};
    struct ddb2es_error err;
    struct timespec t0, t1;
    unsigned char md[32];
    char hex[65];
    char *body = malloc(len);
    size_t i;

    (void)state;
    assert_non_null(creds);
    assert_non_null(body);
    for (i = 0; i < len; i++)
        body[i] = (char)('a' + i % 26);
    SHA256((const unsigned char *)body, len, md);
    ref_hex(md, 32, hex);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(sigv4_sign_request("POST", "https://h.es.amazonaws.com/_bulk", NULL, 0, body, len,
                                        "eu-west-2", "es", creds, T_2015, &out, &err),
                     DDB2ES_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_string_equal(find_header(&out, "X-Amz-Content-Sha256"), hex);
    print_message("signed an 8 MiB body in %.1f ms\n",
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    sigv4_headers_free(&out);
    aws_credentials_free(creds);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_request_dynamodb),
        cmocka_unit_test(test_sign_request_es_bulk),
        cmocka_unit_test(test_sign_request_host_and_path),
        cmocka_unit_test(test_sign_request_caller_headers),
        cmocka_unit_test(test_sign_request_errors),
        cmocka_unit_test(test_sign_request_large_body),
        cmocka_unit_test(test_canonical_path_query),
        cmocka_unit_test(test_canonical_headers),
        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_sha256_vectors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
