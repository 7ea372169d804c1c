/*
 * test_es.c - the Elasticsearch / OpenSearch client: GET / and the product it
 * names, error answers, _cat/indices, aliases, client options and the index
 * calls over the wire, on the reference examples (see es_test_util.h).
 * Bulk: test_es_bulk.c. Searches, scans, _mget: test_es_search.c.
 */
#include "es_test_util.h"

#include <errno.h>
#include <jansson.h>
#include <time.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/es.h"
#include "ddb2es/http.h"
#include "util.h"

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
        cmocka_unit_test(test_cat_indices),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_client_options),
        cmocka_unit_test_setup_teardown(test_wire_info_and_index, setup_fake, teardown_fake),
    };
    struct ddb2es_error err;

    if (http_global_init(&err) != DDB2ES_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
