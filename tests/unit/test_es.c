/*
 * test_es.c - the Elasticsearch / OpenSearch client on the reference
 * examples of ../shared/reference/elasticsearch (DDB2ES_SHARED overrides
 * ../shared), plus a loopback HTTP server for the calls that go over the wire.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/es.h"
#include "ddb2es/http.h"
#include "util.h"

/* ------------------------------------------------------------ fixtures */

static void load(const char *name, struct dbuf *out)
{
    const char *shared = getenv("DDB2ES_SHARED");
    char path[1024];
    struct ddb2es_error err;

    snprintf(path, sizeof(path), "%s/reference/elasticsearch/%s", shared && *shared ? shared : "../shared", name);
    dbuf_init(out);
    if (util_read_file(path, out, &err) != DDB2ES_OK)
        fail_msg("cannot read fixture %s: %s", path, err.message);
}

/* ------------------------------------------------------------- GET / */

struct info_case {
    const char *file;
    enum es_flavour flavour;
    const char *reported;
    int major, minor, patch;
    bool version_known, compat;
    const char *build_flavor;
    enum es_pit_kind pit;
    bool shard_doc, accepts_type;
    const char *cluster;
};

static const struct info_case info_cases[] = {
    {"root-es-7.10.json", ES_FLAVOUR_ELASTICSEARCH, "7.10.2", 7, 10, 2, true, false, "default", ES_PIT_ES, false,
     true, "elasticsearch"},
    {"root-es-8.12.json", ES_FLAVOUR_ELASTICSEARCH, "8.12.1", 8, 12, 1, true, false, "default", ES_PIT_ES, true,
     false, "my_test_cluster"},
    {"root-opensearch-2.13.json", ES_FLAVOUR_OPENSEARCH, "2.13.0", 2, 13, 0, true, false, "",
     ES_PIT_OPENSEARCH, false, false, "opensearch"},
    /* reports 7.10.2 but is OpenSearch; Lucene 9.3 means 2.3 or older: no PIT */
    {"root-aws-opensearch-compat-mode.json", ES_FLAVOUR_OPENSEARCH, "7.10.2", 0, 0, 0, false, true, "",
     ES_PIT_NONE, false, false, "415909267177:perfscale-dev"},
};

static void test_info_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(info_cases) / sizeof(info_cases[0]); i++) {
        const struct info_case *c = &info_cases[i];
        struct es_info info;
        struct ddb2es_error err;
        struct dbuf b;

        load(c->file, &b);
        ddb2es_error_clear(&err);
        assert_int_equal(es_parse_info(b.data, b.len, "h", &info, &err), DDB2ES_OK);
        print_message("  %s\n", c->file);
        assert_int_equal(info.flavour, c->flavour);
        assert_string_equal(info.reported_version, c->reported);
        assert_int_equal(info.major, c->major);
        assert_int_equal(info.minor, c->minor);
        assert_int_equal(info.patch, c->patch);
        assert_int_equal(info.version_known, c->version_known);
        assert_int_equal(info.compat_mode, c->compat);
        assert_string_equal(info.build_flavor, c->build_flavor);
        assert_int_equal(info.pit, c->pit);
        assert_int_equal(info.shard_doc_sort, c->shard_doc);
        assert_int_equal(info.accepts_type, c->accepts_type);
        assert_string_equal(info.cluster_name, c->cluster);
        dbuf_free(&b);
    }
}

/* Replaces the first occurrence of `from` in a fixture. */
static char *edited(const char *file, const char *from, const char *to)
{
    struct dbuf b, o = DBUF_INIT;
    char *at;

    load(file, &b);
    at = strstr(b.data, from);
    assert_non_null(at);
    dbuf_append(&o, b.data, (size_t)(at - b.data));
    dbuf_puts(&o, to);
    dbuf_puts(&o, at + strlen(from));
    dbuf_free(&b);
    return dbuf_detach(&o);
}

struct variant_case {
    const char *file, *from, *to;
    enum es_flavour flavour;
    enum es_pit_kind pit;
    bool shard_doc;
};

static const struct variant_case variant_cases[] = {
    /* the OSS build of 7.10 has no _pit */
    {"root-es-7.10.json", "\"default\"", "\"oss\"", ES_FLAVOUR_ELASTICSEARCH, ES_PIT_NONE, false},
    /* _shard_doc arrived in 7.12 */
    {"root-es-7.10.json", "\"7.10.2\"", "\"7.12.0\"", ES_FLAVOUR_ELASTICSEARCH, ES_PIT_ES, true},
    {"root-es-7.10.json", "\"7.10.2\"", "\"7.9.3\"", ES_FLAVOUR_ELASTICSEARCH, ES_PIT_NONE, false},
    /* OpenSearch PIT from 2.4 */
    {"root-opensearch-2.13.json", "\"2.13.0\"", "\"2.3.0\"", ES_FLAVOUR_OPENSEARCH, ES_PIT_NONE, false},
    {"root-opensearch-2.13.json", "\"2.13.0\"", "\"2.4.0\"", ES_FLAVOUR_OPENSEARCH, ES_PIT_OPENSEARCH, false},
    /* compat mode on a newer domain: Lucene 9.4+ means OpenSearch 2.4+ */
    {"root-aws-opensearch-compat-mode.json", "\"9.3.0\"", "\"9.7.0\"", ES_FLAVOUR_OPENSEARCH, ES_PIT_OPENSEARCH,
     false},
    /* without the tagline, Lucene 9 under a 7.x number still gives it away */
    {"root-aws-opensearch-compat-mode.json", "The OpenSearch Project: https://opensearch.org/", "",
     ES_FLAVOUR_OPENSEARCH, ES_PIT_NONE, false},
    /* distribution alone is enough */
    {"root-opensearch-2.13.json", "The OpenSearch Project: https://opensearch.org/", "You Know, for Search",
     ES_FLAVOUR_OPENSEARCH, ES_PIT_OPENSEARCH, false},
};

static void test_info_variants(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(variant_cases) / sizeof(variant_cases[0]); i++) {
        const struct variant_case *c = &variant_cases[i];
        char *text = edited(c->file, c->from, c->to);
        struct es_info info;

        print_message("  %s: %s -> %s\n", c->file, c->from, c->to);
        assert_int_equal(es_parse_info(text, strlen(text), "h", &info, NULL), DDB2ES_OK);
        assert_int_equal(info.flavour, c->flavour);
        assert_int_equal(info.pit, c->pit);
        assert_int_equal(info.shard_doc_sort, c->shard_doc);
        free(text);
    }
}

static void test_info_not_es(void **state)
{
    static const char *bodies[] = {"<html>hello</html>", "{}", "{\"version\":{}}", "[1,2]", ""};
    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct es_info info;
        struct ddb2es_error err;

        ddb2es_error_clear(&err);
        assert_int_equal(es_parse_info(bodies[i], strlen(bodies[i]), "db.example:9200", &info, &err),
                         DDB2ES_E_PROTOCOL);
        assert_non_null(strstr(err.message, "db.example:9200"));
    }
}

/* ------------------------------------------------------- error envelopes */

struct error_case {
    const char *file;  /* fixture, or NULL to use `body` */
    const char *body;
    long http;
    const char *product;
    const char *what;
    int status;
    const char *type;
    const char *message;
};

static const struct error_case error_cases[] = {
    {"error-index-not-found.json", NULL, 404, "OpenSearch", "searching 'students1'", DDB2ES_E_NOTFOUND,
     "index_not_found_exception",
     "searching 'students1': OpenSearch at es.local:9200 answered 404 index_not_found_exception: "
     "no such index [students1]"},
    {"error-resource-already-exists.json", NULL, 400, NULL, "creating index 'persons'", DDB2ES_E_SERVICE,
     "resource_already_exists_exception",
     "creating index 'persons': Elasticsearch at es.local:9200 answered 400 resource_already_exists_exception: "
     "index [persons/rVw9qS4eS5iTOf5Zc2soZA] already exists"},
    {"error-mapper-parsing.json", NULL, 400, "Elasticsearch", NULL, DDB2ES_E_SERVICE, "mapper_parsing_exception",
     "Elasticsearch at es.local:9200 answered 400 mapper_parsing_exception: failed to parse field [age] of type "
     "[integer] in document with id '1'. Preview of field's value: 'twenty'; caused by number_format_exception: "
     "For input string: \"twenty\""},
    {"error-rejected-execution-429.json", NULL, 429, "Elasticsearch", "sending a bulk request of 9 bytes",
     DDB2ES_E_THROTTLED, "es_rejected_execution_exception",
     "sending a bulk request of 9 bytes: Elasticsearch at es.local:9200 answered 429 "
     "es_rejected_execution_exception: rejected execution of coordinating operation "
     "[coordinating_and_primary_bytes=104759862, replica_bytes=0, all_bytes=104759862, "
     "coordinating_operation_bytes=20862272, max_coordinating_and_primary_bytes=107374182]; the cluster is "
     "overloaded: lower the concurrency or the bulk size, or retry later"},
    {NULL, "{\"error\":\"alias [persons] missing\",\"status\":404}", 404, "Elasticsearch", NULL,
     DDB2ES_E_NOTFOUND, "", "Elasticsearch at es.local:9200 answered 404 (Not Found): alias [persons] missing"},
    {NULL, "{\"message\":\"User: anonymous is not authorized to perform: es:ESHttpGet\"}", 403, "OpenSearch",
     NULL, DDB2ES_E_AUTH, "",
     "OpenSearch at es.local:9200 answered 403 (Forbidden): User: anonymous is not authorized to perform: "
     "es:ESHttpGet; check the user's privileges on this index (or the domain's access policy)"},
    {NULL, "{\"Message\":\"Request size exceeded 10485760 bytes\"}", 413, "OpenSearch", NULL, DDB2ES_E_SERVICE,
     "",
     "OpenSearch at es.local:9200 answered 413 (Payload Too Large): Request size exceeded 10485760 bytes; the "
     "request is larger than the cluster accepts (http.max_content_length): send smaller bulks"},
    {NULL,
     "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
     "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
     502, NULL, NULL, DDB2ES_E_SERVICE, "",
     "Elasticsearch at es.local:9200 answered 502 (Bad Gateway): 502 Bad Gateway 502 Bad Gateway nginx; the "
     "cluster, or a proxy in front of it, is unavailable: retry later"},
    {NULL, "", 503, NULL, NULL, DDB2ES_E_SERVICE, "",
     "Elasticsearch at es.local:9200 answered 503 (Service Unavailable); the cluster, or a proxy in front of it, "
     "is unavailable: retry later"},
    {NULL, "", 401, NULL, "reading the cluster information (GET /)", DDB2ES_E_AUTH, "",
     "reading the cluster information (GET /): Elasticsearch at es.local:9200 answered 401 (Unauthorized); "
     "check the user name and password (or the AWS credentials)"},
    /* "all shards failed" says nothing: the root cause does */
    {NULL,
     "{\"error\":{\"root_cause\":[{\"type\":\"query_shard_exception\",\"reason\":\"No mapping found for "
     "[id] in order to sort on\"}],\"type\":\"search_phase_execution_exception\",\"reason\":\"all shards "
     "failed\",\"phase\":\"query\"},\"status\":400}",
     400, NULL, NULL, DDB2ES_E_SERVICE, "search_phase_execution_exception",
     "Elasticsearch at es.local:9200 answered 400 search_phase_execution_exception: all shards failed; root "
     "cause query_shard_exception: No mapping found for [id] in order to sort on"},
    /* a caused_by chain two deep */
    {NULL,
     "{\"error\":{\"type\":\"a_exception\",\"reason\":\"A\",\"caused_by\":{\"type\":\"b_exception\","
     "\"reason\":\"B\",\"caused_by\":{\"type\":\"c_exception\",\"reason\":\"C\"}}},\"status\":500}",
     500, NULL, NULL, DDB2ES_E_SERVICE, "a_exception",
     "Elasticsearch at es.local:9200 answered 500 a_exception: A; caused by b_exception: B; caused by "
     "c_exception: C"},
};

static void test_error_envelopes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct ddb2es_error err;
        struct dbuf b = DBUF_INIT;
        int rc;

        if (c->file)
            load(c->file, &b);
        else
            dbuf_puts(&b, c->body);
        ddb2es_error_clear(&err);
        rc = es_error_from_response(c->product, "es.local:9200", c->what, c->http, dbuf_cstr(&b), b.len, &err);
        print_message("  case %zu: %s\n", i, err.message);
        assert_int_equal(rc, c->status);
        assert_int_equal(err.status, c->status);
        assert_int_equal(err.http_status, c->http);
        assert_string_equal(err.type, c->type);
        assert_string_equal(err.message, c->message);
        dbuf_free(&b);
    }
}

static void test_error_long_reason_keeps_hint(void **state)
{
    struct dbuf b = DBUF_INIT;
    struct ddb2es_error err;
    (void)state;

    dbuf_puts(&b, "{\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"");
    for (int i = 0; i < 300; i++)
        dbuf_puts(&b, "xé");
    dbuf_puts(&b, "\"},\"status\":429}");
    es_error_from_response(NULL, "h", "w", 429, b.data, b.len, &err);
    assert_int_equal(err.status, DDB2ES_E_THROTTLED);
    assert_non_null(strstr(err.message, "...; the cluster is overloaded"));
    assert_true(strlen(err.message) < sizeof(err.message) - 1);
    dbuf_free(&b);
}

/* ------------------------------------------------------------------ bulk */

struct item_expect {
    enum es_bulk_op op;
    const char *index, *id;
    int status;
    bool failed;
    const char *result, *type, *reason;
    long long version, seq_no, primary_term;
};

struct bulk_case {
    const char *file;
    unsigned flags;
    bool errors, have_items;
    long long took;
    size_t nitems, succeeded, failed, conflicts, retryable;
    struct item_expect items[4];
};

#define REASON_429 "rejected execution of org.elasticsearch.transport.TransportService$7@b25fff4 on " \
    "EsThreadPoolExecutor[name = node-1/write, queue capacity = 200, org.elasticsearch.common.util.concurrent." \
    "EsThreadPoolExecutor@768d4a66[Running, pool size = 2, active threads = 2, queued tasks = 200, completed " \
    "tasks = 820898]]"
#define REASON_400 "failed to parse field [assetCharacteristics.numberOfBedrooms] of type [long] in document " \
    "with id '71fd0483-700e-4d5c-ad2c-776b4343de27'. Preview of field's value: 'two'; caused by " \
    "number_format_exception: For input string: \"two\""
#define ERR_ITEMS                                                                                             \
    {{ES_OP_INDEX, "persons", "b69e6519-3712-4509-a30e-0b5af596915b", 201, false, "created", "", "", 1, 0, 1}, \
     {ES_OP_INDEX, "tenures", "830a2845-6dc1-4140-80f4-6a61579f9544", 200, false, "updated", "", "", 2, 1, 1}, \
     {ES_OP_INDEX, "assets", "31aeca42-b41b-4045-89d2-2d6cdf2b825b", 429, true, "",                         \
      "es_rejected_execution_exception", REASON_429, -1, -1, -1},                                            \
     {ES_OP_INDEX, "assets", "71fd0483-700e-4d5c-ad2c-776b4343de27", 400, true, "", "mapper_parsing_exception", \
      REASON_400, -1, -1, -1}}

static const struct bulk_case bulk_cases[] = {
    {"bulk-response-errors.json", 0, true, true, 31, 4, 2, 2, 0, 1, ERR_ITEMS},
    {"bulk-response-errors.es7.json", 0, true, true, 31, 4, 2, 2, 0, 1, ERR_ITEMS},
    {"bulk-response-failed-update.official.json", 0, true, true, 486, 3, 1, 2, 0, 0,
     {{ES_OP_UPDATE, "index1", "5", 404, true, "", "document_missing_exception", "[5]: document missing", -1, -1,
       -1},
      {ES_OP_UPDATE, "index1", "6", 404, true, "", "document_missing_exception", "[6]: document missing", -1, -1,
       -1},
      {ES_OP_CREATE, "index1", "7", 201, false, "created", "", "", 1, 0, 1}}},
    /* errors:false: the fast path counts without records */
    {"bulk-response-success.official.json", 0, false, false, 30, 4, 4, 0, 0, 0, {{0}}},
    /* ... unless every item is asked for; a delete of a missing document is not a failure */
    {"bulk-response-success.official.json", ES_BULK_ALL_ITEMS, false, true, 30, 4, 4, 0, 0, 0,
     {{ES_OP_INDEX, "test", "1", 201, false, "created", "", "", 1, 0, 1},
      {ES_OP_DELETE, "test", "2", 404, false, "not_found", "", "", 1, 1, 2},
      {ES_OP_CREATE, "test", "3", 201, false, "created", "", "", 1, 2, 3},
      {ES_OP_UPDATE, "test", "1", 200, false, "updated", "", "", 2, 3, 4}}},
};

static void check_bulk(const struct bulk_case *c, const struct es_bulk_result *r)
{
    assert_int_equal(r->outcome, ES_BULK_DONE);
    assert_int_equal(r->errors, c->errors);
    assert_int_equal(r->have_items, c->have_items);
    assert_int_equal(r->took_ms, c->took);
    assert_int_equal(r->nitems, c->nitems);
    assert_int_equal(r->succeeded, c->succeeded);
    assert_int_equal(r->failed, c->failed);
    assert_int_equal(r->conflicts, c->conflicts);
    assert_int_equal(r->retryable, c->retryable);
    if (!c->have_items)
        return;
    for (size_t i = 0; i < c->nitems; i++) {
        const struct item_expect *e = &c->items[i];
        const struct es_bulk_item *it = &r->items[i];

        assert_int_equal(it->position, i);
        assert_int_equal(it->op, e->op);
        assert_string_equal(it->index, e->index);
        assert_string_equal(it->id, e->id);
        assert_int_equal(it->status, e->status);
        assert_int_equal(it->failed, e->failed);
        assert_string_equal(it->result, e->result);
        assert_string_equal(it->error_type, e->type);
        assert_string_equal(it->reason, e->reason);
        assert_int_equal(it->version, e->version);
        assert_int_equal(it->seq_no, e->seq_no);
        assert_int_equal(it->primary_term, e->primary_term);
    }
}

static void test_bulk_responses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bulk_cases) / sizeof(bulk_cases[0]); i++) {
        const struct bulk_case *c = &bulk_cases[i];
        struct es_bulk_result r;
        struct ddb2es_error err;
        struct dbuf b;

        print_message("  %s flags=%u\n", c->file, c->flags);
        load(c->file, &b);
        es_bulk_result_init(&r, c->flags);
        assert_int_equal(es_parse_bulk_response(b.data, b.len, &r, &err), DDB2ES_OK);
        check_bulk(c, &r);
        /* the result is reusable */
        es_bulk_result_reset(&r);
        assert_int_equal(r.nitems, 0);
        assert_int_equal(es_parse_bulk_response(b.data, b.len, &r, &err), DDB2ES_OK);
        check_bulk(c, &r);
        es_bulk_result_free(&r);
        dbuf_free(&b);
    }
}

static void test_bulk_conflicts_and_5xx(void **state)
{
    static const char body[] =
        "{\"took\":3,\"errors\":true,\"items\":["
        "{\"index\":{\"_index\":\"p\",\"_id\":\"a\",\"status\":409,\"error\":{\"type\":"
        "\"version_conflict_engine_exception\",\"reason\":\"[a]: version conflict, current version [9] is "
        "higher or equal to the one provided [3]\"}}},"
        "{\"delete\":{\"_index\":\"p\",\"_id\":\"b\",\"status\":503,\"error\":{\"type\":"
        "\"unavailable_shards_exception\",\"reason\":\"primary shard is not active\"}}},"
        "{\"index\":{\"_index\":\"p\",\"_id\":\"q\\\"\\u00e9\\ud83d\\ude00\",\"status\":201,\"result\":\"created\"}},"
        "{\"index\":{\"_index\":\"p\",\"_id\":\"old\",\"status\":500,\"error\":\"a plain string\"}}"
        "]}";
    struct es_bulk_result r;
    (void)state;

    es_bulk_result_init(&r, 0);
    assert_int_equal(es_parse_bulk_response(body, strlen(body), &r, NULL), DDB2ES_OK);
    assert_int_equal(r.nitems, 4);
    assert_int_equal(r.failed, 3);
    assert_int_equal(r.conflicts, 1);
    assert_int_equal(r.retryable, 2);
    assert_int_equal(r.succeeded, 1);
    assert_int_equal(r.items[1].op, ES_OP_DELETE);
    assert_string_equal(r.items[0].error_type, "version_conflict_engine_exception");
    assert_string_equal(r.items[2].id, "q\"\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(r.items[3].reason, "a plain string");
    assert_string_equal(r.items[3].error_type, "");
    es_bulk_result_free(&r);
}

/* Every truncation of a valid answer is refused; none crashes. */
static void test_bulk_truncated(void **state)
{
    static const char *files[] = {"bulk-response-errors.json", "bulk-response-success.official.json"};
    (void)state;
    for (size_t f = 0; f < 2; f++) {
        struct dbuf b;
        size_t last;

        load(files[f], &b);
        last = (size_t)(strrchr(b.data, '}') - b.data);
        for (unsigned flags = 0; flags < 2; flags++) {
            for (size_t n = 0; n <= last; n++) {
                struct es_bulk_result r;
                struct ddb2es_error err;
                int rc;

                es_bulk_result_init(&r, flags);
                rc = es_parse_bulk_response(b.data, n, &r, &err);
                if (rc != DDB2ES_E_PROTOCOL)
                    fail_msg("%s: prefix of %zu bytes gave %d", files[f], n, rc);
                assert_int_equal(r.outcome, ES_BULK_BAD_ANSWER);
                es_bulk_result_free(&r);
            }
        }
        dbuf_free(&b);
    }
}

/*
 * The scanner against jansson: single-byte mutations of real answers. Whatever
 * the scanner accepts must be JSON that jansson accepts too.
 */
static void test_scanner_differential(void **state)
{
    static const char *files[] = {"bulk-response-errors.json", "bulk-response-success.official.json",
                                  "scroll-search-response.json", "search-after-pit-response.json"};
    static const char subst[] = "\"{}[],:\\0a -.e\x01";
    size_t accepted = 0, refused = 0;
    (void)state;

    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        struct dbuf b;
        char *m;

        load(files[f], &b);
        m = malloc(b.len + 1);
        for (size_t pos = 0; pos < b.len; pos++) {
            for (size_t s = 0; s < sizeof(subst) - 1; s++) {
                struct es_bulk_result r;
                struct es_page page;
                json_error_t jerr;
                json_t *ref;
                int rc;

                if (b.data[pos] == subst[s])
                    continue;
                memcpy(m, b.data, b.len);
                m[pos] = subst[s];
                ref = json_loadb(m, b.len, 0, &jerr);
                if (f < 2) {
                    es_bulk_result_init(&r, ES_BULK_ALL_ITEMS);
                    rc = es_parse_bulk_response(m, b.len, &r, NULL);
                    es_bulk_result_free(&r);
                } else {
                    es_page_init(&page);
                    rc = es_parse_search_page(m, b.len, &page, NULL);
                    es_page_free(&page);
                }
                /* jansson refuses numbers it cannot hold (1e5132000): valid JSON, not our concern */
                if (!ref && (strstr(jerr.text, "overflow") || strstr(jerr.text, "too big")))
                    continue;
                if (rc == DDB2ES_OK && !ref)
                    fail_msg("%s: byte %zu -> 0x%02x accepted by the scanner, refused by jansson", files[f], pos,
                             (unsigned char)subst[s]);
                rc == DDB2ES_OK ? accepted++ : refused++;
                json_decref(ref);
            }
        }
        free(m);
        dbuf_free(&b);
    }
    print_message("  mutations: %zu accepted, %zu refused\n", accepted, refused);
    assert_true(refused > 0 && accepted > 0);
}

/* A large generated answer: counts at scale, items in order. */
static void test_bulk_large(void **state)
{
    struct dbuf b = DBUF_INIT;
    struct es_bulk_result r;
    size_t n = 20000, i;
    (void)state;

    dbuf_puts(&b, "{\"took\":1234,\"errors\":true,\"items\":[");
    for (i = 0; i < n; i++) {
        if (i)
            dbuf_putc(&b, ',');
        if (i % 97 == 0)
            dbuf_printf(&b, "{\"index\":{\"_index\":\"persons\",\"_id\":\"id-%zu\",\"status\":429,\"error\":{"
                            "\"type\":\"es_rejected_execution_exception\",\"reason\":\"busy\"}}}", i);
        else
            dbuf_printf(&b, "{\"index\":{\"_index\":\"persons\",\"_id\":\"id-%zu\",\"_version\":1,\"result\":"
                            "\"created\",\"_shards\":{\"total\":2,\"successful\":2,\"failed\":0},\"_seq_no\":%zu,"
                            "\"_primary_term\":1,\"status\":201}}", i, i);
    }
    dbuf_puts(&b, "]}");
    es_bulk_result_init(&r, 0);
    assert_int_equal(es_parse_bulk_response(b.data, b.len, &r, NULL), DDB2ES_OK);
    assert_int_equal(r.nitems, n);
    assert_int_equal(r.failed, (n + 96) / 97);
    assert_int_equal(r.retryable, r.failed);
    assert_int_equal(r.succeeded, n - r.failed);
    for (i = 0; i < n; i += 1234) {
        char id[32];
        snprintf(id, sizeof(id), "id-%zu", i);
        assert_string_equal(r.items[i].id, id);
        assert_int_equal(r.items[i].position, i);
        assert_int_equal(r.items[i].failed, i % 97 == 0);
    }
    /* every item shares one copy of the index name */
    assert_ptr_equal(r.items[1].index, r.items[n - 1].index);
    es_bulk_result_free(&r);
    dbuf_free(&b);
}

/* --------------------------------------------------------- bulk builder */

/* Rebuilds the reference request from its document lines: byte for byte. */
static void test_bulk_builder_reference(void **state)
{
    struct dbuf ref, body = DBUF_INIT;
    char *p, *nl;
    int actions = 0;
    (void)state;

    load("bulk-request.ndjson", &ref);
    p = ref.data;
    while (*p) {
        json_t *action;
        char *doc;

        nl = strchr(p, '\n');
        assert_non_null(nl);
        action = json_loadb(p, (size_t)(nl - p), 0, NULL);
        assert_non_null(action);
        doc = nl + 1;
        nl = strchr(doc, '\n');
        assert_non_null(nl);
        assert_int_equal(es_bulk_index(&body, json_string_value(json_object_get(json_object_get(action, "index"),
                                                                                  "_index")),
                                       json_string_value(json_object_get(json_object_get(action, "index"), "_id")),
                                       -1, doc, (size_t)(nl - doc), NULL),
                         DDB2ES_OK);
        json_decref(action);
        p = nl + 1;
        actions++;
    }
    assert_int_equal(actions, 4);
    assert_int_equal(body.len, ref.len);
    assert_memory_equal(body.data, ref.data, ref.len);
    dbuf_free(&body);
    dbuf_free(&ref);
}

struct id_case {
    const char *id;
    const char *json;  /* expected JSON literal, or NULL when refused */
};

static const struct id_case id_cases[] = {
    {"plain-id", "\"plain-id\""},
    {"a\"b", "\"a\\\"b\""},
    {"back\\slash", "\"back\\\\slash\""},
    {"new\nline\ttab\rcr", "\"new\\nline\\ttab\\rcr\""},
    {"ctl\x01\x1f\b\f", "\"ctl\\u0001\\u001f\\b\\f\""},
    {"caf\xc3\xa9", "\"caf\xc3\xa9\""},                 /* UTF-8 passes through */
    {"\xe2\x80\xa8 \xf0\x9f\x98\x80", "\"\xe2\x80\xa8 \xf0\x9f\x98\x80\""},
    {"slash/ok", "\"slash/ok\""},
    {"bad\xff", NULL},                                 /* not UTF-8 */
    {"over\xc0\xaf", NULL},                            /* overlong */
    {"surr\xed\xa0\x80", NULL},                        /* encoded surrogate */
    {"cut\xe2\x82", NULL},                             /* truncated sequence */
    {"big\xf4\x90\x80\x80", NULL},                     /* beyond U+10FFFF */
    {"", NULL},
};

static void test_bulk_builder_ids(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
        const struct id_case *c = &id_cases[i];
        struct dbuf body = DBUF_INIT, want = DBUF_INIT;
        struct ddb2es_error err;
        int rc;

        dbuf_puts(&body, "PREVIOUS\n");
        ddb2es_error_clear(&err);
        rc = es_bulk_index(&body, "persons", c->id, -1, "{}", 2, &err);
        if (!c->json) {
            assert_int_equal(rc, DDB2ES_E_USAGE);
            assert_string_equal(body.data, "PREVIOUS\n"); /* unchanged */
            assert_true(err.message[0] != '\0');
        } else {
            json_t *line;
            assert_int_equal(rc, DDB2ES_OK);
            dbuf_printf(&want, "PREVIOUS\n{\"index\":{\"_index\":\"persons\",\"_id\":%s}}\n{}\n", c->json);
            assert_string_equal(body.data, want.data);
            /* and a JSON parser reads the same id back */
            line = json_loadb(body.data + 9, (size_t)(strchr(body.data + 9, '\n') - body.data - 9), 0, NULL);
            assert_non_null(line);
            assert_string_equal(json_string_value(json_object_get(json_object_get(line, "index"), "_id")), c->id);
            json_decref(line);
        }
        dbuf_free(&body);
        dbuf_free(&want);
    }
}

static void test_bulk_builder_actions(void **state)
{
    struct dbuf body = DBUF_INIT;
    struct ddb2es_error err;
    char id[ES_ID_MAX_BYTES + 2];
    (void)state;

    assert_int_equal(es_bulk_index(&body, "persons", "p1", 1712345678901LL, "{\"a\":1}", 7, NULL), DDB2ES_OK);
    assert_int_equal(es_bulk_delete(&body, "persons", "p2", -1, -1, 0, NULL), DDB2ES_OK);
    assert_int_equal(es_bulk_delete(&body, "persons", "p3", 42, -1, 0, NULL), DDB2ES_OK);
    assert_int_equal(es_bulk_delete(&body, "persons", "p4", -1, 17, 3, NULL), DDB2ES_OK);
    assert_int_equal(es_bulk_index(&body, "persons", "p5", 0, "{\"b\":2}", 7, NULL), DDB2ES_OK);
    assert_string_equal(
        body.data,
        "{\"index\":{\"_index\":\"persons\",\"_id\":\"p1\",\"version\":1712345678901,\"version_type\":"
        "\"external_gte\"}}\n{\"a\":1}\n"
        "{\"delete\":{\"_index\":\"persons\",\"_id\":\"p2\"}}\n"
        "{\"delete\":{\"_index\":\"persons\",\"_id\":\"p3\",\"version\":42,\"version_type\":\"external_gte\"}}\n"
        "{\"delete\":{\"_index\":\"persons\",\"_id\":\"p4\",\"if_seq_no\":17,\"if_primary_term\":3}}\n"
        "{\"index\":{\"_index\":\"persons\",\"_id\":\"p5\",\"version\":0,\"version_type\":\"external_gte\"}}\n"
        "{\"b\":2}\n");

    /* refusals leave the body as it was */
    dbuf_reset(&body);
    assert_int_equal(es_bulk_index(&body, "persons", "x", -1, "{\"a\":\n1}", 8, &err), DDB2ES_E_USAGE);
    assert_non_null(strstr(err.message, "'x'"));
    assert_int_equal(es_bulk_index(&body, "persons", "x", -1, "", 0, &err), DDB2ES_E_USAGE);
    assert_int_equal(es_bulk_delete(&body, "persons", "x", 3, 4, 1, &err), DDB2ES_E_USAGE);
    assert_int_equal(es_bulk_delete(&body, "persons", "x", -1, 4, 0, &err), DDB2ES_E_USAGE);
    assert_int_equal(es_bulk_index(&body, "", "x", -1, "{}", 2, &err), DDB2ES_E_USAGE);
    memset(id, 'i', ES_ID_MAX_BYTES + 1);
    id[ES_ID_MAX_BYTES + 1] = '\0';
    assert_int_equal(es_bulk_index(&body, "persons", id, -1, "{}", 2, &err), DDB2ES_E_USAGE);
    assert_non_null(strstr(err.message, "513 bytes"));
    assert_int_equal(body.len, 0);
    id[ES_ID_MAX_BYTES] = '\0';
    assert_int_equal(es_bulk_index(&body, "persons", id, -1, "{}", 2, &err), DDB2ES_OK);
    dbuf_free(&body);
}

/* ---------------------------------------------------------- _cat/indices */

static void test_cat_indices(void **state)
{
    struct es_index_list l;
    struct dbuf b;
    (void)state;

    es_index_list_init(&l);
    load("cat-indices.es8.json", &b);
    assert_int_equal(es_parse_cat_indices(b.data, b.len, &l, NULL), DDB2ES_OK);
    dbuf_free(&b);
    load("cat-indices.opensearch.json", &b);
    assert_int_equal(es_parse_cat_indices(b.data, b.len, &l, NULL), DDB2ES_OK);
    dbuf_free(&b);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].index, "my-index-000001");
    assert_string_equal(l.v[0].health, "yellow");
    assert_string_equal(l.v[0].status, "open");
    assert_string_equal(l.v[0].uuid, "u8FNjxh8Rfy_awN11oDKYQ");
    assert_int_equal(l.v[0].pri, 1);
    assert_int_equal(l.v[0].rep, 1);
    assert_int_equal(l.v[0].docs_count, 1200);
    assert_int_equal(l.v[0].docs_deleted, 0);
    assert_int_equal(l.v[0].store_bytes, 90214);  /* 88.1kb */
    assert_int_equal(l.v[1].store_bytes, 260);
    assert_int_equal(l.v[1].rep, 0);
    assert_string_equal(l.v[2].index, "movies");
    assert_string_equal(l.v[2].health, "green");
    assert_int_equal(l.v[2].docs_count, 1);
    assert_int_equal(l.v[2].store_bytes, 7885);     /* 7.7kb */
    assert_int_equal(l.v[2].pri_store_bytes, 3891); /* 3.8kb */
    es_index_list_free(&l);

    /* a closed index has no counts; bytes=b gives plain numbers */
    es_index_list_init(&l);
    {
        static const char closed[] = "[{\"health\":null,\"status\":\"close\",\"index\":\"old\",\"uuid\":\"u\","
                                     "\"pri\":\"1\",\"rep\":\"1\",\"docs.count\":null,\"store.size\":\"123456\"}]";
        assert_int_equal(es_parse_cat_indices(closed, strlen(closed), &l, NULL), DDB2ES_OK);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].health, "");
        assert_int_equal(l.v[0].docs_count, -1);
        assert_int_equal(l.v[0].docs_deleted, -1);
        assert_int_equal(l.v[0].store_bytes, 123456);
    }
    es_index_list_free(&l);
}

/* --------------------------------------------------------- PIT / scroll */

static void test_pit_open_close(void **state)
{
    struct dbuf b, body = DBUF_INIT, req;
    char *id = NULL;
    size_t freed;
    json_t *want, *got;
    (void)state;

    load("pit-open-response.es.json", &b);
    assert_int_equal(es_parse_pit_open(b.data, b.len, &id, NULL), DDB2ES_OK);
    assert_non_null(strstr(b.data, id));
    assert_int_equal(strncmp(id, "46ToAwMDaWR5BXV1aWQy", 20), 0);
    free(id);
    dbuf_free(&b);

    load("pit-open-response.opensearch.json", &b);
    assert_int_equal(es_parse_pit_open(b.data, b.len, &id, NULL), DDB2ES_OK);
    assert_int_equal(strncmp(id, "o463QQEPbXktaW5kZXgtMDAwMDAxFnNO", 32), 0);
    free(id);
    dbuf_free(&b);

    assert_int_equal(es_parse_pit_open("{\"_shards\":{}}", 14, &id, NULL), DDB2ES_E_PROTOCOL);
    assert_null(id);

    /* ES close body == the documented request */
    load("pit-close-request.es.json", &req);
    want = json_loadb(req.data, req.len, 0, NULL);
    assert_int_equal(es_pit_close_body(ES_PIT_ES, json_string_value(json_object_get(want, "id")), &body, NULL),
                     DDB2ES_OK);
    got = json_loadb(body.data, body.len, 0, NULL);
    assert_true(json_equal(want, got));
    json_decref(want);
    json_decref(got);
    dbuf_free(&req);

    /* OpenSearch: {"pit_id":[ID]}, the documented shape with one id */
    load("pit-delete-request.opensearch.json", &req);
    want = json_loadb(req.data, req.len, 0, NULL);
    json_array_remove(json_object_get(want, "pit_id"), 1);
    dbuf_reset(&body);
    assert_int_equal(es_pit_close_body(ES_PIT_OPENSEARCH,
                                       json_string_value(json_array_get(json_object_get(want, "pit_id"), 0)), &body,
                                       NULL),
                     DDB2ES_OK);
    got = json_loadb(body.data, body.len, 0, NULL);
    assert_true(json_equal(want, got));
    json_decref(want);
    json_decref(got);
    dbuf_free(&req);
    dbuf_free(&body);

    load("pit-close-response.es.json", &b);
    assert_int_equal(es_parse_pit_close(b.data, b.len, &freed, NULL), DDB2ES_OK);
    assert_int_equal(freed, 3);
    dbuf_free(&b);
    load("pit-delete-response.opensearch.json", &b);
    assert_int_equal(es_parse_pit_close(b.data, b.len, &freed, NULL), DDB2ES_OK);
    assert_int_equal(freed, 1); /* one of the two was successful */
    dbuf_free(&b);
    load("clear-scroll-response.json", &b); /* same shape as the ES close */
    assert_int_equal(es_parse_pit_close(b.data, b.len, &freed, NULL), DDB2ES_OK);
    assert_int_equal(freed, 1);
    dbuf_free(&b);
}

static void test_scroll_pages(void **state)
{
    struct es_page page;
    struct dbuf b;
    (void)state;

    es_page_init(&page);
    load("scroll-search-response.json", &b);
    assert_int_equal(es_parse_search_page(b.data, b.len, &page, NULL), DDB2ES_OK);
    assert_int_equal(page.nhits, 2);
    assert_string_equal(page.hits[0].index, "persons");
    assert_string_equal(page.hits[0].id, "b69e6519-3712-4509-a30e-0b5af596915b");
    assert_string_equal(page.hits[1].id, "bbfe1492-e5d0-423e-a7f8-57a33c9aec80");
    assert_null(page.hits[0].source);
    assert_int_equal(page.hits[0].seq_no, -1);
    assert_string_equal(page.scroll_id, "DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAD4WYm9laVYtZndUQlNsdDcwakFMNjU1QQ==");
    assert_null(page.pit_id);
    assert_int_equal(page.total, 2541);
    assert_false(page.total_is_lower_bound);
    assert_string_equal(page.search_after, "[ 1 ]");
    assert_int_equal(page.shards_failed, 0);
    dbuf_free(&b);

    load("scroll-search-response.last-page.json", &b);
    es_page_reset(&page);
    assert_int_equal(es_parse_search_page(b.data, b.len, &page, NULL), DDB2ES_OK);
    assert_int_equal(page.nhits, 0);
    assert_null(page.search_after);
    assert_non_null(page.scroll_id);
    dbuf_free(&b);
    es_page_free(&page);
}

static void test_search_after_pit(void **state)
{
    struct es_page page;
    struct dbuf b, req, body = DBUF_INIT;
    json_t *src, *sa, *want, *got;
    struct es_search_params p = {0};
    (void)state;

    es_page_init(&page);
    load("search-after-pit-response.json", &b);
    assert_int_equal(es_parse_search_page(b.data, b.len, &page, NULL), DDB2ES_OK);
    assert_int_equal(page.nhits, 1);
    assert_string_equal(page.hits[0].id, "FaslK3QBySSL_rrj9zM5");
    assert_int_equal(strncmp(page.pit_id, "46ToAwMDaWR5BXV1aWQy", 20), 0);
    assert_int_equal(page.total, 1);
    /* _source kept as raw text */
    src = json_loadb(page.hits[0].source, page.hits[0].source_len, 0, NULL);
    assert_non_null(src);
    assert_string_equal(json_string_value(json_object_get(src, "tie_breaker_id")), "FaslK3QBySSL_rrj9zM5");
    assert_string_equal(json_string_value(json_object_get(json_object_get(src, "user"), "id")), "elkbee");
    json_decref(src);
    sa = json_loads(page.search_after, 0, NULL);
    assert_int_equal(json_array_size(sa), 2);
    assert_int_equal(json_integer_value(json_array_get(sa, 0)), 4098435132000LL);
    dbuf_free(&b);

    /* the next-page request carries the same pit block and these search_after values */
    load("search-after-pit-request.next-page.json", &req);
    want = json_loadb(req.data, req.len, 0, NULL);
    p.size = 10000;
    p.query_json = "{\"match\":{\"user.id\":\"elkbee\"}}";
    p.pit_id = json_string_value(json_object_get(json_object_get(want, "pit"), "id"));
    p.keep_alive = "1m";
    p.sort_field = "@timestamp";
    p.search_after = page.search_after;
    p.source = true;
    p.track_total_hits = true;
    assert_int_equal(es_search_body(&p, &body, NULL), DDB2ES_OK);
    got = json_loadb(body.data, body.len, 0, NULL);
    assert_non_null(got);
    assert_true(json_equal(json_object_get(got, "pit"), json_object_get(want, "pit")));
    assert_true(json_equal(json_object_get(got, "search_after"), json_object_get(want, "search_after")));
    assert_true(json_equal(json_object_get(got, "query"), json_object_get(want, "query")));
    assert_true(json_equal(json_object_get(got, "size"), json_object_get(want, "size")));
    json_decref(got);
    json_decref(want);
    json_decref(sa);
    dbuf_free(&req);

    /* our own scan request, exactly */
    memset(&p, 0, sizeof(p));
    p.size = 500;
    p.pit_id = "P\"1";
    p.seq_no_primary_term = true;
    dbuf_reset(&body);
    assert_int_equal(es_search_body(&p, &body, NULL), DDB2ES_OK);
    assert_string_equal(body.data, "{\"size\":500,\"query\":{\"match_all\":{}},\"_source\":false,"
                                   "\"track_total_hits\":false,\"seq_no_primary_term\":true,"
                                   "\"sort\":[{\"_shard_doc\":\"asc\"}],\"pit\":{\"id\":\"P\\\"1\","
                                   "\"keep_alive\":\"5m\"}}");
    memset(&p, 0, sizeof(p));
    p.track_total_hits = true;
    dbuf_reset(&body);
    assert_int_equal(es_search_body(&p, &body, NULL), DDB2ES_OK);
    assert_string_equal(body.data, "{\"size\":1000,\"query\":{\"match_all\":{}},\"_source\":false,"
                                   "\"sort\":[{\"_doc\":\"asc\"}]}");
    dbuf_free(&body);
    es_page_free(&page);
}

static void test_search_partial_and_es6_total(void **state)
{
    static const char partial[] =
        "{\"took\":5,\"timed_out\":true,\"_shards\":{\"total\":5,\"successful\":3,\"skipped\":0,\"failed\":2,"
        "\"failures\":[{\"shard\":1,\"reason\":{\"type\":\"x\"}}]},\"hits\":{\"total\":77,\"max_score\":null,"
        "\"hits\":[{\"_index\":\"p\",\"_id\":\"1\",\"_seq_no\":5,\"_primary_term\":2,\"sort\":[10]}]}}";
    struct es_page page;
    (void)state;

    es_page_init(&page);
    assert_int_equal(es_parse_search_page(partial, strlen(partial), &page, NULL), DDB2ES_OK);
    assert_int_equal(page.shards_failed, 2);
    assert_true(page.timed_out);
    assert_int_equal(page.total, 77);
    assert_int_equal(page.hits[0].seq_no, 5);
    assert_int_equal(page.hits[0].primary_term, 2);
    assert_string_equal(page.search_after, "[10]");
    es_page_free(&page);
}

/* ----------------------------------------------------------- _mget, aliases */

static void test_mget(void **state)
{
    static const char answer[] =
        "{\"docs\":[{\"_index\":\"persons\",\"_id\":\"1\",\"_version\":3,\"_seq_no\":7,\"_primary_term\":1,"
        "\"found\":true,\"_source\":{\"id\":\"1\",\"big\":123456789012345678901234567890,\"f\":0.10}},"
        "{\"_index\":\"persons\",\"_id\":\"2\",\"found\":false},"
        "{\"_index\":\"nope\",\"_id\":\"3\",\"error\":{\"root_cause\":[{\"type\":\"index_not_found_exception\","
        "\"reason\":\"no such index [nope]\"}],\"type\":\"index_not_found_exception\",\"reason\":\"no such index "
        "[nope]\"}}]}";
    const char *ids[] = {"1", "2", "x\"y"};
    struct es_doc_list l;
    struct dbuf body = DBUF_INIT;
    (void)state;

    es_doc_list_init(&l);
    assert_int_equal(es_parse_mget(answer, strlen(answer), &l, NULL), DDB2ES_OK);
    assert_int_equal(l.n, 3);
    assert_true(l.v[0].found);
    /* byte for byte: a 30-digit number and 0.10 survive */
    assert_string_equal(l.v[0].source, "{\"id\":\"1\",\"big\":123456789012345678901234567890,\"f\":0.10}");
    assert_int_equal(l.v[0].source_len, strlen(l.v[0].source));
    assert_int_equal(l.v[0].version, 3);
    assert_int_equal(l.v[0].seq_no, 7);
    assert_false(l.v[1].found);
    assert_null(l.v[1].source);
    assert_null(l.v[1].error);
    assert_string_equal(l.v[2].error, "index_not_found_exception: no such index [nope]");
    es_doc_list_free(&l);

    assert_int_equal(es_mget_body(ids, 3, &body, NULL), DDB2ES_OK);
    assert_string_equal(body.data, "{\"ids\":[\"1\",\"2\",\"x\\\"y\"]}");
    dbuf_free(&body);
    assert_int_equal(es_mget_body(ids, 0, &body, NULL), DDB2ES_E_USAGE);
}

static void test_aliases(void **state)
{
    static const char answer[] = "{\"persons-v2\":{\"aliases\":{\"persons\":{\"is_write_index\":true},"
                                 "\"all\":{}}},\"persons-v1\":{\"aliases\":{\"persons-old\":{}}},"
                                 "\"bare\":{\"aliases\":{}}}";
    const struct es_alias_action acts[] = {
        {ES_ALIAS_ADD, "persons-v2", "persons", true},
        {ES_ALIAS_REMOVE, "persons-v1", "persons", false},
        {ES_ALIAS_REMOVE_INDEX, "persons-v0", NULL, false},
    };
    struct es_alias_list l;
    struct dbuf body = DBUF_INIT;
    (void)state;

    es_alias_list_init(&l);
    assert_int_equal(es_parse_aliases(answer, strlen(answer), &l, NULL), DDB2ES_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].index, "persons-v1");
    assert_string_equal(l.v[0].alias, "persons-old");
    assert_string_equal(l.v[1].index, "persons-v2");
    assert_string_equal(l.v[1].alias, "all");
    assert_false(l.v[1].is_write_index);
    assert_string_equal(l.v[2].alias, "persons");
    assert_true(l.v[2].is_write_index);
    es_alias_list_free(&l);

    assert_int_equal(es_aliases_body(acts, 3, &body, NULL), DDB2ES_OK);
    assert_string_equal(body.data, "{\"actions\":[{\"add\":{\"index\":\"persons-v2\",\"alias\":\"persons\","
                                   "\"is_write_index\":true}},{\"remove\":{\"index\":\"persons-v1\",\"alias\":"
                                   "\"persons\"}},{\"remove_index\":{\"index\":\"persons-v0\"}}]}");
    dbuf_reset(&body);
    assert_int_equal(es_aliases_body(acts, 0, &body, NULL), DDB2ES_E_USAGE);
    assert_int_equal(body.len, 0);
    dbuf_free(&body);
}

/* ====================================================== loopback server */

/*
 * A one-request-per-connection HTTP/1.1 server on 127.0.0.1 with a queue of
 * canned answers; it records the last request. Enough to test what the
 * client sends and how it reads statuses.
 */
struct canned {
    int status;
    const char *body;
};

struct fake {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    int stop;
    struct canned queue[16];
    size_t nq, next;
    /* the last request */
    char method[16], target[1024], ctype[128], auth[256];
    struct dbuf body;
    struct dbuf log;   /* "METHOD TARGET\n" per request */
    size_t requests;
};

static bool header_value(const char *head, const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);
    const char *p = head;

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *e;
            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            snprintf(out, outsz, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return true;
        }
    }
    out[0] = '\0';
    return false;
}

static void serve_one(struct fake *f, int fd)
{
    struct dbuf in = DBUF_INIT, out = DBUF_INIT;
    char buf[65536], cl[32];
    char *end = NULL;
    size_t need = 0, hlen = 0;
    struct canned c = {500, "{}"};
    ssize_t r;

    for (;;) {
        r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            goto out;
        dbuf_append(&in, buf, (size_t)r);
        if (!end) {
            end = strstr(in.data, "\r\n\r\n");
            if (end) {
                hlen = (size_t)(end - in.data) + 4;
                header_value(in.data, "Content-Length", cl, sizeof(cl));
                need = hlen + (size_t)strtoul(cl, NULL, 10);
            }
        }
        if (end && in.len >= need)
            break;
    }
    pthread_mutex_lock(&f->mu);
    sscanf(in.data, "%15s %1023s", f->method, f->target);
    header_value(in.data, "Content-Type", f->ctype, sizeof(f->ctype));
    header_value(in.data, "Authorization", f->auth, sizeof(f->auth));
    dbuf_reset(&f->body);
    dbuf_append(&f->body, in.data + hlen, need - hlen);
    dbuf_printf(&f->log, "%s %s\n", f->method, f->target);
    f->requests++;
    if (f->next < f->nq)
        c = f->queue[f->next++];
    pthread_mutex_unlock(&f->mu);
    dbuf_printf(&out, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                c.status, strlen(c.body));
    if (strcmp(f->method, "HEAD") != 0)
        dbuf_puts(&out, c.body);
    for (size_t off = 0; off < out.len;) {
        r = send(fd, out.data + off, out.len - off, MSG_NOSIGNAL);
        if (r <= 0)
            break;
        off += (size_t)r;
    }
out:
    close(fd);
    dbuf_free(&in);
    dbuf_free(&out);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;

    for (;;) {
        struct pollfd pfd = {f->lfd, POLLIN, 0};
        int stop;

        pthread_mutex_lock(&f->mu);
        stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        if (poll(&pfd, 1, 50) == 1) {
            int fd = accept(f->lfd, NULL, NULL);
            if (fd >= 0)
                serve_one(f, fd);
        }
    }
    return NULL;
}

static struct fake *fake_start(void)
{
    struct fake *f = calloc(1, sizeof(*f));
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);

    assert_non_null(f);
    pthread_mutex_init(&f->mu, NULL);
    dbuf_init(&f->body);
    dbuf_init(&f->log);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
    return f;
}

static void fake_stop(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    close(f->lfd);
    dbuf_free(&f->body);
    dbuf_free(&f->log);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static void fake_answer(struct fake *f, int status, const char *body)
{
    pthread_mutex_lock(&f->mu);
    f->queue[f->nq].status = status;
    f->queue[f->nq].body = body;
    f->nq++;
    pthread_mutex_unlock(&f->mu);
}

static int setup_fake(void **state)
{
    *state = fake_start();
    return 0;
}

static int teardown_fake(void **state)
{
    fake_stop(*state);
    return 0;
}

static struct es_client *fake_client(struct fake *f, const char *userinfo, const char *prefix)
{
    char url[256];
    struct es_options o = {0};
    struct ddb2es_error err;
    struct es_client *c;

    snprintf(url, sizeof(url), "http://%s127.0.0.1:%d%s", userinfo ? userinfo : "", f->port, prefix ? prefix : "");
    o.url = url;
    o.timeout_ms = 10000;
    c = es_client_new(&o, &err);
    if (!c)
        fail_msg("es_client_new: %s", err.message);
    return c;
}

static void test_wire_info_and_index(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, "elastic:s%3Acret@", "/prefix/");
    struct es_info info;
    struct ddb2es_error err;
    struct dbuf root;
    bool flag;
    char host[64];

    load("root-opensearch-2.13.json", &root);
    snprintf(host, sizeof(host), "127.0.0.1:%d", f->port);
    assert_string_equal(es_client_host(c), host);

    fake_answer(f, 200, root.data);
    assert_int_equal(es_info(c, &info, &err), DDB2ES_OK);
    assert_int_equal(info.flavour, ES_FLAVOUR_OPENSEARCH);
    assert_string_equal(f->method, "GET");
    assert_string_equal(f->target, "/prefix/");
    /* credentials from the URL went to basic auth: base64("elastic:s:cret") */
    assert_string_equal(f->auth, "Basic ZWxhc3RpYzpzOmNyZXQ=");

    fake_answer(f, 200, "");
    assert_int_equal(es_index_exists(c, "persons", &flag, &err), DDB2ES_OK);
    assert_true(flag);
    assert_string_equal(f->method, "HEAD");
    assert_string_equal(f->target, "/prefix/persons");
    fake_answer(f, 404, "");
    assert_int_equal(es_index_exists(c, "persons", &flag, &err), DDB2ES_OK);
    assert_false(flag);
    fake_answer(f, 401, "");
    assert_int_equal(es_index_exists(c, "persons", &flag, &err), DDB2ES_E_AUTH);
    assert_null(strstr(err.message, "s:cret"));
    assert_null(strstr(err.message, "s%3Acret"));
    assert_non_null(strstr(err.message, "OpenSearch at 127.0.0.1"));

    {
        struct dbuf exists;
        load("error-resource-already-exists.json", &exists);
        fake_answer(f, 400, exists.data);
        assert_int_equal(es_index_create(c, "persons", "{\"settings\":{}}", &flag, &err), DDB2ES_OK);
        assert_true(flag);
        assert_string_equal(f->method, "PUT");
        assert_string_equal(f->ctype, "application/json");
        assert_string_equal(f->body.data, "{\"settings\":{}}");
        fake_answer(f, 400, exists.data);
        assert_int_equal(es_index_create(c, "persons", NULL, NULL, &err), DDB2ES_E_SERVICE);
        assert_true(es_error_is(&err, "resource_already_exists_exception"));
        assert_non_null(strstr(err.message, "creating index 'persons': OpenSearch at"));
        dbuf_free(&exists);
    }

    fake_answer(f, 200, "{\"count\":2541,\"_shards\":{}}");
    {
        long long n;
        assert_int_equal(es_count(c, "persons", NULL, &n, &err), DDB2ES_OK);
        assert_int_equal(n, 2541);
        assert_string_equal(f->target, "/prefix/persons/_count");
    }

    fake_answer(f, 200, "{\"persons-v2\":{\"settings\":{\"index.refresh_interval\":\"30s\","
                        "\"index.number_of_replicas\":\"2\"}}}");
    {
        struct es_write_settings ws;
        assert_int_equal(es_get_write_settings(c, "persons", &ws, &err), DDB2ES_OK);
        assert_string_equal(ws.refresh_interval, "30s");
        assert_int_equal(ws.number_of_replicas, 2);
        assert_string_equal(f->target, "/prefix/persons/_settings?flat_settings=true");
        fake_answer(f, 200, "{\"acknowledged\":true}");
        ws.refresh_interval[0] = '\0';
        ws.number_of_replicas = 0;
        assert_int_equal(es_put_write_settings(c, "persons", &ws, &err), DDB2ES_OK);
        assert_string_equal(f->body.data, "{\"index\":{\"refresh_interval\":null,\"number_of_replicas\":0}}");
    }

    fake_answer(f, 200, "{\"persons-v2\":{\"mappings\":{\"properties\":{\"id\":{\"type\":\"keyword\"}}}}}");
    {
        char *m = NULL, *concrete = NULL;
        assert_int_equal(es_get_mapping(c, "persons", &m, &concrete, &err), DDB2ES_OK);
        assert_string_equal(m, "{\"properties\":{\"id\":{\"type\":\"keyword\"}}}");
        assert_string_equal(concrete, "persons-v2");
        free(m);
        free(concrete);
    }

    fake_answer(f, 404, "{\"error\":\"alias [ghost] missing\",\"status\":404}");
    {
        struct es_alias_list l;
        es_alias_list_init(&l);
        assert_int_equal(es_aliases_get(c, NULL, "ghost", &l, &err), DDB2ES_OK);
        assert_int_equal(l.n, 0);
        assert_string_equal(f->target, "/prefix/_alias/ghost");
        es_alias_list_free(&l);
    }
    es_client_free(c);
    dbuf_free(&root);
}

static void test_wire_bulk(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    struct es_bulk_result r;
    struct ddb2es_error err;
    struct dbuf body = DBUF_INIT, ans, e429;
    static const struct {
        int status;
        enum es_bulk_outcome outcome;
        bool retryable;
        int rc;
    } whole[] = {
        {429, ES_BULK_THROTTLED, true, DDB2ES_E_THROTTLED},
        {413, ES_BULK_TOO_LARGE, false, DDB2ES_E_SERVICE},
        {502, ES_BULK_UNAVAILABLE, true, DDB2ES_E_SERVICE},
        {503, ES_BULK_UNAVAILABLE, true, DDB2ES_E_SERVICE},
        {504, ES_BULK_UNAVAILABLE, true, DDB2ES_E_SERVICE},
        {500, ES_BULK_SERVER_ERROR, true, DDB2ES_E_SERVICE},
        {400, ES_BULK_REJECTED, false, DDB2ES_E_SERVICE},
        {403, ES_BULK_REJECTED, false, DDB2ES_E_AUTH},
    };

    load("bulk-response-errors.json", &ans);
    load("error-rejected-execution-429.json", &e429);
    es_bulk_index(&body, "persons", "a", 5, "{\"x\":1}", 7, NULL);
    es_bulk_result_init(&r, 0);

    fake_answer(f, 200, ans.data);
    assert_int_equal(es_bulk_send(c, body.data, body.len, &r, &err), DDB2ES_OK);
    assert_string_equal(f->method, "POST");
    assert_string_equal(f->target, "/_bulk");
    assert_string_equal(f->ctype, "application/x-ndjson");
    assert_string_equal(f->auth, "");
    assert_memory_equal(f->body.data, body.data, body.len);
    assert_int_equal(r.outcome, ES_BULK_DONE);
    assert_int_equal(r.http_status, 200);
    assert_int_equal(r.failed, 2);
    assert_string_equal(r.items[3].error_type, "mapper_parsing_exception");

    for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
        fake_answer(f, whole[i].status, whole[i].status == 429 ? e429.data : "");
        ddb2es_error_clear(&err);
        assert_int_equal(es_bulk_send(c, body.data, body.len, &r, &err), whole[i].rc);
        print_message("  %d: %s\n", whole[i].status, err.message);
        assert_int_equal(r.outcome, whole[i].outcome);
        assert_int_equal(r.request_retryable, whole[i].retryable);
        assert_int_equal(r.http_status, whole[i].status);
        assert_int_equal(err.http_status, whole[i].status);
        assert_int_equal(r.nitems, 0);
        assert_non_null(strstr(err.message, "sending a bulk request of"));
        assert_non_null(strstr(err.message, es_client_host(c)));
        if (whole[i].status == 429)
            assert_non_null(strstr(err.message, "answered 429 es_rejected_execution_exception: rejected "
                                                "execution of coordinating operation"));
    }
    es_bulk_result_free(&r);
    es_client_free(c);
    dbuf_free(&body);
    dbuf_free(&ans);
    dbuf_free(&e429);
}

static const char page_a[] = "{\"pit_id\":\"P2\",\"took\":1,\"timed_out\":false,\"_shards\":{\"total\":1,"
                             "\"successful\":1,\"skipped\":0,\"failed\":0},\"hits\":{\"hits\":["
                             "{\"_index\":\"persons\",\"_id\":\"a\",\"_seq_no\":1,\"_primary_term\":1,"
                             "\"sort\":[\"a\"]},{\"_index\":\"persons\",\"_id\":\"b\",\"_seq_no\":2,"
                             "\"_primary_term\":1,\"sort\":[\"b\"]}]}}";
static const char page_b[] = "{\"pit_id\":\"P3\",\"_shards\":{\"failed\":0},\"hits\":{\"hits\":["
                             "{\"_index\":\"persons\",\"_id\":\"c\",\"sort\":[\"c\"]}]}}";

static void test_wire_scan_pit(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    struct es_scan_options o = {0};
    struct es_scan *scan = NULL;
    struct es_page page;
    struct es_info info;
    struct ddb2es_error err;
    struct dbuf b, open_ans, close_ans;
    json_t *req;

    load("root-opensearch-2.13.json", &b);
    assert_int_equal(es_parse_info(b.data, b.len, "h", &info, NULL), DDB2ES_OK);
    load("pit-open-response.opensearch.json", &open_ans);
    load("pit-delete-response.opensearch.json", &close_ans);
    es_page_init(&page);
    o.index = "persons";
    o.sort_field = "id"; /* OpenSearch has no _shard_doc */
    o.page_size = 2;
    o.seq_no_primary_term = true;

    fake_answer(f, 200, open_ans.data);
    fake_answer(f, 200, page_a);
    fake_answer(f, 200, page_b);
    fake_answer(f, 200, close_ans.data);
    assert_int_equal(es_scan_open(c, &info, &o, &scan, &err), DDB2ES_OK);
    assert_string_equal(es_scan_method(scan), "pit+search_after");
    assert_int_equal(es_scan_next(scan, &page, &err), DDB2ES_OK);
    assert_int_equal(page.nhits, 2);
    assert_string_equal(page.hits[1].id, "b");
    assert_int_equal(page.hits[1].seq_no, 2);
    req = json_loadb(f->body.data, f->body.len, 0, NULL);
    assert_non_null(json_object_get(req, "pit"));
    assert_null(json_object_get(req, "search_after"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(req, "sort"), 0), "id")),
                        "asc");
    json_decref(req);
    assert_int_equal(es_scan_next(scan, &page, &err), DDB2ES_OK);
    assert_int_equal(page.nhits, 1);
    /* the second page continued after "b" with the PIT id the first page returned */
    req = json_loadb(f->body.data, f->body.len, 0, NULL);
    assert_string_equal(json_string_value(json_array_get(json_object_get(req, "search_after"), 0)), "b");
    assert_string_equal(json_string_value(json_object_get(json_object_get(req, "pit"), "id")), "P2");
    json_decref(req);
    /* a short page was the last: no further request */
    assert_int_equal(es_scan_next(scan, &page, &err), DDB2ES_OK);
    assert_int_equal(page.nhits, 0);
    es_scan_close(scan);
    assert_string_equal(f->log.data, "POST /persons/_search/point_in_time?keep_alive=5m\n"
                                     "POST /_search\n"
                                     "POST /_search\n"
                                     "DELETE /_search/point_in_time\n");
    assert_string_equal(f->body.data, "{\"pit_id\":[\"P3\"]}");
    es_page_free(&page);
    es_client_free(c);
    dbuf_free(&b);
    dbuf_free(&open_ans);
    dbuf_free(&close_ans);
}

/* A compat-mode domain that claims PIT but refuses it: the scan falls back to scroll. */
static void test_wire_scan_fallback_and_mget(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    struct es_scan_options o = {0};
    struct es_scan *scan = NULL;
    struct es_page page;
    struct es_info info;
    struct ddb2es_error err;
    struct dbuf p1, p2, clear_req, clear_ans;
    char *root = edited("root-aws-opensearch-compat-mode.json", "\"9.3.0\"", "\"9.7.0\"");
    const char *ids[] = {"b69e6519-3712-4509-a30e-0b5af596915b"};
    struct es_doc_list docs;
    json_t *want, *got;
    size_t total = 0;

    assert_int_equal(es_parse_info(root, strlen(root), "h", &info, NULL), DDB2ES_OK);
    assert_int_equal(info.pit, ES_PIT_OPENSEARCH);
    load("scroll-search-response.json", &p1);
    load("scroll-search-response.last-page.json", &p2);
    load("clear-scroll-request.json", &clear_req);
    load("clear-scroll-response.json", &clear_ans);
    es_page_init(&page);
    o.index = "persons";
    o.sort_field = "id";
    fake_answer(f, 400, "{\"error\":\"no handler found for uri [/persons/_search/point_in_time] and method "
                        "[POST]\"}");
    fake_answer(f, 200, p1.data);
    fake_answer(f, 200, p2.data);
    fake_answer(f, 200, clear_ans.data);
    assert_int_equal(es_scan_open(c, &info, &o, &scan, &err), DDB2ES_OK);
    assert_string_equal(es_scan_method(scan), "scroll");
    do {
        assert_int_equal(es_scan_next(scan, &page, &err), DDB2ES_OK);
        total += page.nhits;
    } while (page.nhits);
    assert_int_equal(total, 2);
    es_scan_close(scan);
    assert_string_equal(f->log.data, "POST /persons/_search/point_in_time?keep_alive=5m\n"
                                     "POST /persons/_search?scroll=5m\n"
                                     "POST /_search/scroll\n"
                                     "DELETE /_search/scroll\n");
    /* the clear request is the documented one */
    want = json_loadb(clear_req.data, clear_req.len, 0, NULL);
    got = json_loadb(f->body.data, f->body.len, 0, NULL);
    assert_true(json_equal(want, got));
    json_decref(want);
    json_decref(got);

    /* an index that does not exist is not a reason to fall back */
    {
        struct dbuf nf;
        load("error-index-not-found.json", &nf);
        fake_answer(f, 404, nf.data);
        assert_int_equal(es_scan_open(c, &info, &o, &scan, &err), DDB2ES_E_NOTFOUND);
        assert_null(scan);
        assert_true(es_error_is(&err, "index_not_found_exception"));
        dbuf_free(&nf);
    }

    es_doc_list_init(&docs);
    fake_answer(f, 200, "{\"docs\":[{\"_index\":\"persons\",\"_id\":\"b69e6519-3712-4509-a30e-0b5af596915b\","
                        "\"found\":true,\"_source\":{\"id\":\"b69e6519-3712-4509-a30e-0b5af596915b\"}}]}");
    assert_int_equal(es_mget(c, "persons", ids, 1, &docs, &err), DDB2ES_OK);
    assert_int_equal(docs.n, 1);
    assert_string_equal(docs.v[0].source, "{\"id\":\"b69e6519-3712-4509-a30e-0b5af596915b\"}");
    assert_string_equal(f->target, "/persons/_mget");
    assert_string_equal(f->body.data, "{\"ids\":[\"b69e6519-3712-4509-a30e-0b5af596915b\"]}");
    es_doc_list_free(&docs);

    es_page_free(&page);
    es_client_free(c);
    free(root);
    dbuf_free(&p1);
    dbuf_free(&p2);
    dbuf_free(&clear_req);
    dbuf_free(&clear_ans);
}

static void test_wire_transport(void **state)
{
    struct es_options o = {0};
    struct es_client *c;
    struct es_bulk_result r;
    struct ddb2es_error err;
    int port;
    (void)state;

    /* a port nothing listens on: bind one, close it */
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        socklen_t alen = sizeof(a);
        char url[64];

        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, (struct sockaddr *)&a, sizeof(a));
        getsockname(fd, (struct sockaddr *)&a, &alen);
        port = ntohs(a.sin_port);
        close(fd);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
        o.url = url;
        o.username = "u";
        o.password = "hunter2";
        c = es_client_new(&o, &err);
        assert_non_null(c);
    }
    es_bulk_result_init(&r, 0);
    assert_int_equal(es_bulk_send(c, "{}\n", 3, &r, &err), DDB2ES_E_NET);
    assert_int_equal(r.outcome, ES_BULK_TRANSPORT);
    assert_true(r.request_retryable);
    assert_non_null(strstr(err.message, "sending a bulk request of 3 bytes: "));
    assert_null(strstr(err.message, "hunter2"));
    es_bulk_result_free(&r);
    es_client_free(c);
}

static void test_client_options(void **state)
{
    static const char *bad[] = {"", "ftp://h", "http://", "http://h:99999", "http://h/x?q=1", "localhost:9200"};
    struct es_options o = {0};
    struct ddb2es_error err;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.url = bad[i];
        assert_null(es_client_new(&o, &err));
        assert_int_equal(err.status, DDB2ES_E_USAGE);
    }
    o.url = "https://search.example:443";
    o.aws_creds = (const struct aws_credentials *)&o; /* any non-NULL: only the missing region is checked */
    assert_null(es_client_new(&o, &err));
    assert_int_equal(err.status, DDB2ES_E_CONFIG);
    es_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_reference),
        cmocka_unit_test(test_info_variants),
        cmocka_unit_test(test_info_not_es),
        cmocka_unit_test(test_error_envelopes),
        cmocka_unit_test(test_error_long_reason_keeps_hint),
        cmocka_unit_test(test_bulk_responses),
        cmocka_unit_test(test_bulk_conflicts_and_5xx),
        cmocka_unit_test(test_bulk_truncated),
        cmocka_unit_test(test_scanner_differential),
        cmocka_unit_test(test_bulk_large),
        cmocka_unit_test(test_bulk_builder_reference),
        cmocka_unit_test(test_bulk_builder_ids),
        cmocka_unit_test(test_bulk_builder_actions),
        cmocka_unit_test(test_cat_indices),
        cmocka_unit_test(test_pit_open_close),
        cmocka_unit_test(test_scroll_pages),
        cmocka_unit_test(test_search_after_pit),
        cmocka_unit_test(test_search_partial_and_es6_total),
        cmocka_unit_test(test_mget),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_client_options),
        cmocka_unit_test_setup_teardown(test_wire_info_and_index, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_wire_bulk, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_wire_scan_pit, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_wire_scan_fallback_and_mget, setup_fake, teardown_fake),
        cmocka_unit_test(test_wire_transport),
    };
    struct ddb2es_error err;

    if (http_global_init(&err) != DDB2ES_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
