/*
 * test_es_bulk.c - bulk writes: reading _bulk answers (reference examples,
 * truncations, a scanner/jansson differential, 20,000 items), building
 * actions, and sending over a loopback server (see es_test_util.h).
 */
#include "es_test_util.h"

#include <errno.h>
#include <jansson.h>
#include <time.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/es_bulk.h"
#include "ddb2es/es_search.h"
#include "ddb2es/http.h"
#include "util.h"

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
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bulk_responses),
        cmocka_unit_test(test_bulk_conflicts_and_5xx),
        cmocka_unit_test(test_bulk_truncated),
        cmocka_unit_test(test_scanner_differential),
        cmocka_unit_test(test_bulk_large),
        cmocka_unit_test(test_bulk_builder_reference),
        cmocka_unit_test(test_bulk_builder_ids),
        cmocka_unit_test(test_bulk_builder_actions),
        cmocka_unit_test_setup_teardown(test_wire_bulk, setup_fake, teardown_fake),
        cmocka_unit_test(test_wire_transport),
    };
    struct ddb2es_error err;

    if (http_global_init(&err) != DDB2ES_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
