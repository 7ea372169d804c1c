/*
 * test_es_search.c - reading: point in time (both APIs), scroll and
 * search_after pages, partial answers, _mget, and the id scan over a
 * loopback server with its fallback from PIT to scroll (see es_test_util.h).
 */
#include "es_test_util.h"

#include <errno.h>
#include <jansson.h>
#include <time.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/es_search.h"
#include "ddb2es/http.h"
#include "util.h"

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
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pit_open_close),
        cmocka_unit_test(test_scroll_pages),
        cmocka_unit_test(test_search_after_pit),
        cmocka_unit_test(test_search_partial_and_es6_total),
        cmocka_unit_test(test_mget),
        cmocka_unit_test_setup_teardown(test_wire_scan_pit, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_wire_scan_fallback_and_mget, setup_fake, teardown_fake),
    };
    struct ddb2es_error err;

    if (http_global_init(&err) != DDB2ES_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
