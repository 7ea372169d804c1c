/*
 * test_sigv4_suite.c - the SigV4 signer against the AWS Signature Version 4 test suite
 * (../shared/reference/sigv4, every case: canonical request, string to sign, Authorization).
 *
 * The suite is found through $DDB2ES_SHARED (the folder holding reference/), else ../shared
 * from the working directory (tests run from the repository root, which sits beside
 * shared/). A missing suite fails every case: it is never skipped.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sigv4_test_util.h"

#define MAX_REQ_HEADERS 32

/* ---- where the suite is and what context.json says --------------------------------------- */

struct suite_ctx {
    char dir[1024];          /* .../reference/sigv4 */
    char problem[2048];     /* why the suite cannot be used, or "" */
    char *access_key_id;
    char *secret;
    char *region;
    char *service;
    char *amz_date;
    json_t *tokens;          /* session_tokens object of context.json */
    json_t *context;
};

static struct suite_ctx S;

static void locate_suite(void)
{
    struct stat st;

    tu_shared("reference/sigv4", S.dir, sizeof(S.dir));
    if (stat(S.dir, &st) != 0 || !S_ISDIR(st.st_mode))
        snprintf(S.problem, sizeof(S.problem),
                 "SigV4 test suite not found at %s: set DDB2ES_SHARED to the shared/ folder "
                 "(or run from the repository root beside shared/)",
                 S.dir);
}

static char *json_strdup(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? util_strdup(s) : NULL;
}

static int suite_setup(void **state)
{
    char path[1100];
    json_error_t jerr;
    json_t *creds;

    (void)state;
    locate_suite();
    if (S.problem[0])
        return 0; /* every case then fails with S.problem */
    snprintf(path, sizeof(path), "%s/context.json", S.dir);
    S.context = json_load_file(path, 0, &jerr);
    if (!S.context) {
        snprintf(S.problem, sizeof(S.problem), "%s: %s (line %d)", path, jerr.text, jerr.line);
        return 0;
    }
    creds = json_object_get(S.context, "credentials");
    S.access_key_id = json_strdup(creds, "access_key_id");
    S.secret = json_strdup(creds, "secret_access_key");
    S.region = json_strdup(S.context, "region");
    S.service = json_strdup(S.context, "service");
    S.amz_date = json_strdup(S.context, "x_amz_date");
    S.tokens = json_object_get(S.context, "session_tokens");
    if (!S.access_key_id || !S.secret || !S.region || !S.service || !S.amz_date || !json_is_object(S.tokens))
        snprintf(S.problem, sizeof(S.problem), "%s lacks a signing input", path);
    return 0;
}

static int suite_teardown(void **state)
{
    (void)state;
    free(S.access_key_id);
    free(S.secret);
    free(S.region);
    free(S.service);
    free(S.amz_date);
    json_decref(S.context);
    return 0;
}

static void require_suite(void)
{
    if (S.problem[0])
        fail_msg("%s", S.problem);
}

/* ---- reading a case ------------------------------------------------------------------------ */

static void read_whole(const char *path, struct dbuf *out)
{
    struct ddb2es_error err;

    ddb2es_error_clear(&err);
    dbuf_reset(out);
    if (util_read_file(path, out, &err) != DDB2ES_OK)
        fail_msg("%s", err.message);
}

/*
 * A raw HTTP request as the suite writes it: "METHOD target HTTP/1.1", header lines
 * ("Name:value"; a line starting with a space or tab continues the previous value, joined
 * with one space as RFC 7230 obs-fold says), an empty line, the body. The target may hold a
 * raw space (normalize-path/get-space), so it ends at the last " HTTP/".
 */
struct raw_req {
    struct dbuf text;                      /* the file, cut into strings in place */
    struct dbuf folded[MAX_REQ_HEADERS];   /* values rebuilt from continuation lines */
    char *method, *target;
    struct http_header h[MAX_REQ_HEADERS + 1];
    size_t nh;
    const char *body;
    size_t body_len;
};

static void raw_req_free(struct raw_req *r)
{
    size_t i;

    dbuf_free(&r->text);
    for (i = 0; i < MAX_REQ_HEADERS; i++)
        dbuf_free(&r->folded[i]);
}

/* Next line of [*p, end): returns its start, NUL-terminates it (LF or CRLF) and advances. */
static char *next_line(char **p, char *end, int *at_end)
{
    char *s = *p, *nl;

    if (s >= end) {
        *at_end = 1;
        return s;
    }
    nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl) {
        *p = end;
        *at_end = 0;
        return s; /* last line without newline: the file's NUL ends it */
    }
    *nl = '\0';
    if (nl > s && nl[-1] == '\r')
        nl[-1] = '\0';
    *p = nl + 1;
    *at_end = 0;
    return s;
}

static void parse_req(const char *path, struct raw_req *r)
{
    char *p, *end, *line, *sp, *http, *colon;
    int at_end = 0;
    size_t i;

    memset(r, 0, sizeof(*r));
    read_whole(path, &r->text);
    assert_non_null(r->text.data);
    p = r->text.data;
    end = p + r->text.len;

    line = next_line(&p, end, &at_end);
    sp = strchr(line, ' ');
    assert_non_null(sp);
    *sp = '\0';
    r->method = line;
    r->target = sp + 1;
    http = NULL;
    for (char *q = strstr(r->target, " HTTP/"); q; q = strstr(q + 1, " HTTP/"))
        http = q;
    if (!http)
        fail_msg("%s: request line without \" HTTP/\"", path);
    *http = '\0';

    for (;;) {
        int line_end;
        line = next_line(&p, end, &line_end);
        if (line_end || *line == '\0')
            break;
        if (*line == ' ' || *line == '\t') {
            assert_true(r->nh > 0);
            i = r->nh - 1;
            if (r->folded[i].len == 0)
                assert_int_equal(dbuf_puts(&r->folded[i], r->h[i].value), 0);
            assert_int_equal(dbuf_putc(&r->folded[i], ' '), 0);
            assert_int_equal(dbuf_puts(&r->folded[i], line), 0);
            r->h[i].value = dbuf_cstr(&r->folded[i]);
            continue;
        }
        colon = strchr(line, ':');
        if (!colon)
            fail_msg("%s: header line without ':'", path);
        assert_true(r->nh < MAX_REQ_HEADERS);
        *colon = '\0';
        r->h[r->nh].name = line;
        r->h[r->nh].value = colon + 1; /* raw: the signer trims */
        r->nh++;
    }
    r->body = p < end ? p : "";
    r->body_len = p < end ? (size_t)(end - p) : 0;
}

/* ---- the suite ----------------------------------------------------------------------------- */

/* How a case uses the session token of context.json. */
enum token_use {
    TOK_NONE,        /* no token */
    TOK_IN_REQ,      /* the .req carries X-Amz-Security-Token (signed like any header) */
    TOK_ADD_SIGNED,  /* the .req lacks it; the signer's caller adds it before signing */
    TOK_AFTER,       /* added after signing: credentials carry it, the signature ignores it */
};

struct suite_case {
    const char *path;      /* folder under sigv4/, also the file stem's folder */
    enum token_use token;
    const char *excluded;  /* reason when the case is not run, else NULL (none is excluded) */
};

static const struct suite_case cases[] = {
    {"get-header-key-duplicate", TOK_NONE, NULL},
    {"get-header-value-multiline", TOK_NONE, NULL},
    {"get-header-value-order", TOK_NONE, NULL},
    {"get-header-value-trim", TOK_NONE, NULL},
    {"get-unreserved", TOK_NONE, NULL},
    {"get-utf8", TOK_NONE, NULL},
    {"get-vanilla", TOK_NONE, NULL},
    {"get-vanilla-empty-query-key", TOK_NONE, NULL},
    {"get-vanilla-query", TOK_NONE, NULL},
    {"get-vanilla-query-order-encoded", TOK_NONE, NULL},
    {"get-vanilla-query-order-key", TOK_NONE, NULL},
    {"get-vanilla-query-order-key-case", TOK_NONE, NULL},
    {"get-vanilla-query-order-value", TOK_NONE, NULL},
    {"get-vanilla-query-unreserved", TOK_NONE, NULL},
    {"get-vanilla-utf8-query", TOK_NONE, NULL},
    /* its .sreq carries get-vanilla's signature; .authz is the right one and is what we use */
    {"get-vanilla-with-session-token", TOK_ADD_SIGNED, NULL},
    {"normalize-path/get-relative", TOK_NONE, NULL},
    {"normalize-path/get-relative-relative", TOK_NONE, NULL},
    {"normalize-path/get-slash", TOK_NONE, NULL},
    {"normalize-path/get-slash-dot-slash", TOK_NONE, NULL},
    {"normalize-path/get-slash-pointless-dot", TOK_NONE, NULL},
    {"normalize-path/get-slashes", TOK_NONE, NULL},
    {"normalize-path/get-space", TOK_NONE, NULL},
    {"normalize-path/get-special-character", TOK_NONE, NULL},
    {"post-header-key-case", TOK_NONE, NULL},
    {"post-header-key-sort", TOK_NONE, NULL},
    {"post-header-value-case", TOK_NONE, NULL},
    {"post-sts-token/post-sts-header-after", TOK_AFTER, NULL},
    {"post-sts-token/post-sts-header-before", TOK_IN_REQ, NULL},
    {"post-vanilla", TOK_NONE, NULL},
    {"post-vanilla-empty-query-value", TOK_NONE, NULL},
    {"post-vanilla-query", TOK_NONE, NULL},
    {"post-x-www-form-urlencoded", TOK_NONE, NULL},
    {"post-x-www-form-urlencoded-parameters", TOK_NONE, NULL},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void case_file(const struct suite_case *c, const char *ext, char *out, size_t outsz)
{
    const char *stem = strrchr(c->path, '/');

    stem = stem ? stem + 1 : c->path;
    snprintf(out, outsz, "%s/%s/%s.%s", S.dir, c->path, stem, ext);
}

static void test_suite_case(void **state)
{
    const struct suite_case *c = *state;
    struct aws_credentials *creds;
    struct sigv4_output out;
    struct sigv4_input in;
    struct ddb2es_error err;
    struct raw_req r;
    struct dbuf creq = DBUF_INIT, sts = DBUF_INIT, authz = DBUF_INIT, sreq = DBUF_INIT;
    const char *token = NULL, *sig;
    char path[4300], hash[65];
    size_t i;
    int rc, found;

    require_suite();
    if (c->excluded) {
        print_message("excluded %s: %s\n", c->path, c->excluded);
        skip();
    }
    assert_string_equal(S.secret, SECRET); /* assert_no_secret looks for this string */
    if (c->token != TOK_NONE) {
        token = json_string_value(json_object_get(S.tokens, c->path));
        if (!token)
            fail_msg("context.json has no session token for %s", c->path);
    }
    case_file(c, "req", path, sizeof(path));
    parse_req(path, &r);
    case_file(c, "creq", path, sizeof(path));
    read_whole(path, &creq);
    case_file(c, "sts", path, sizeof(path));
    read_whole(path, &sts);
    case_file(c, "authz", path, sizeof(path));
    read_whole(path, &authz);

    if (c->token == TOK_IN_REQ) {
        found = 0;
        for (i = 0; i < r.nh; i++)
            if (strcmp(r.h[i].name, "X-Amz-Security-Token") == 0 && strcmp(r.h[i].value, token) == 0)
                found = 1;
        assert_true(found);
    } else if (c->token == TOK_ADD_SIGNED) {
        r.h[r.nh].name = "X-Amz-Security-Token";
        r.h[r.nh].value = token;
        r.nh++;
    }
    creds = aws_credentials_new(S.access_key_id, S.secret, token, "context.json");
    assert_non_null(creds);

    memset(&in, 0, sizeof(in));
    in.method = r.method;
    in.path_and_query = r.target;
    in.headers = r.h;
    in.nheaders = r.nh;
    in.payload = r.body;
    in.payload_len = r.body_len;
    in.region = S.region;
    in.service = S.service;
    in.amz_date = S.amz_date;
    in.creds = creds;

    sigv4_output_init(&out);
    ddb2es_error_clear(&err);
    rc = sigv4_sign(&in, &out, &err);
    if (rc)
        fail_msg("%s: sigv4_sign failed: %s", c->path, err.message);
    assert_string_equal(dbuf_cstr(&out.canonical_request), dbuf_cstr(&creq));
    assert_string_equal(dbuf_cstr(&out.string_to_sign), dbuf_cstr(&sts));
    assert_string_equal(dbuf_cstr(&out.authorization), dbuf_cstr(&authz));
    sig = strstr(dbuf_cstr(&authz), "Signature=");
    assert_non_null(sig);
    assert_string_equal(out.signature, sig + strlen("Signature="));
    assert_no_secret(dbuf_cstr(&out.canonical_request));
    assert_no_secret(dbuf_cstr(&out.string_to_sign));
    assert_no_secret(dbuf_cstr(&out.authorization));

    /* the same with the payload hash given by the caller (how sigv4_sign_request calls it),
     * reusing the output buffers */
    sigv4_sha256_hex(r.body, r.body_len, hash);
    in.payload_sha256_hex = hash;
    rc = sigv4_sign(&in, &out, &err);
    assert_int_equal(rc, DDB2ES_OK);
    assert_string_equal(dbuf_cstr(&out.canonical_request), dbuf_cstr(&creq));
    assert_string_equal(dbuf_cstr(&out.authorization), dbuf_cstr(&authz));

    if (c->token == TOK_AFTER) {
        /* the token goes on the wire unsigned: the .sreq shows it and SignedHeaders lacks it */
        char want[1024];
        case_file(c, "sreq", path, sizeof(path));
        read_whole(path, &sreq);
        snprintf(want, sizeof(want), "\nX-Amz-Security-Token:%s", token);
        assert_non_null(strstr(dbuf_cstr(&sreq), want));
        assert_null(strstr(dbuf_cstr(&out.authorization), "x-amz-security-token"));
    }

    sigv4_output_free(&out);
    aws_credentials_free(creds);
    raw_req_free(&r);
    dbuf_free(&creq);
    dbuf_free(&sts);
    dbuf_free(&authz);
    dbuf_free(&sreq);
}

/* Every case folder on disk (a folder holding <name>/<name>.req) is in the table, and the
 * table names no folder that is missing: a case cannot be forgotten silently. */
static size_t count_cases_on_disk(const char *dir, const char *rel, char found[][300], size_t max)
{
    char sub[4300], relsub[300], req[4700];
    struct dirent *de;
    struct stat st;
    size_t n = 0;
    DIR *d = opendir(dir);

    if (!d)
        fail_msg("cannot list %s", dir);
    for (;;) {
        de = readdir(d);
        if (!de)
            break;
        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
        if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        snprintf(relsub, sizeof(relsub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        snprintf(req, sizeof(req), "%s/%s.req", sub, de->d_name);
        if (stat(req, &st) == 0) {
            if (n < max)
                snprintf(found[n], 300, "%s", relsub);
            n++;
        } else {
            n += count_cases_on_disk(sub, relsub, found + (n < max ? n : max), n < max ? max - n : 0);
        }
    }
    closedir(d);
    return n;
}

static void test_suite_table_complete(void **state)
{
    static char found[64][300];
    size_t n, i, k, ran = 0;
    int known;

    (void)state;
    require_suite();
    n = count_cases_on_disk(S.dir, "", found, 64);
    assert_int_equal(n, NCASES);
    for (i = 0; i < n; i++) {
        known = 0;
        for (k = 0; k < NCASES; k++)
            if (strcmp(found[i], cases[k].path) == 0)
                known = 1;
        if (!known)
            fail_msg("case %s is on disk but not in the test table", found[i]);
    }
    for (k = 0; k < NCASES; k++)
        if (!cases[k].excluded)
            ran++;
    print_message("SigV4 suite: %zu cases on disk, %zu run, %zu excluded\n", n, ran, NCASES - ran);
    assert_int_equal(ran, 34); /* every case of the suite runs */
}

int main(void)
{
    struct CMUnitTest tests[NCASES + 1];
    size_t n = 0, i;

    for (i = 0; i < NCASES; i++) {
        tests[n].name = cases[i].path;
        tests[n].test_func = test_suite_case;
        tests[n].setup_func = NULL;
        tests[n].teardown_func = NULL;
        tests[n].initial_state = (void *)&cases[i];
        n++;
    }
    {
        const struct CMUnitTest table = cmocka_unit_test(test_suite_table_complete);

        tests[n++] = table;
    }
    return _cmocka_run_group_tests("sigv4 suite", tests, n, suite_setup, suite_teardown);
}
