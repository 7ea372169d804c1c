/* test_preview.c - preview: field-level diffs of documents (table-driven and
 * on the Hackney fixtures), the JSON re-indenter, mapping items into a
 * preview, marking items against the index, _mget comparison and a whole
 * preview_run against a loopback server standing in for DynamoDB and
 * Elasticsearch. */
#include "es_test_util.h"

#include <jansson.h>

#include "ddb2es/credentials.h"
#include "ddb2es/ddbjson.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/entity.h"
#include "ddb2es/preview.h"
#include "entity_test_util.h"

/* ---- helpers --------------------------------------------------------------- */

/* One difference as "KIND PATH OLD NEW" ('-' for an absent side). */
static void diff_line(const struct preview_diff *d, char *out, size_t cap)
{
    snprintf(out, cap, "%s %s %s %s", preview_diff_kind_name(d->kind), d->path, d->old_json ? d->old_json : "-",
             d->new_json ? d->new_json : "-");
}

static void expect_diffs(const struct preview_diff_list *l, const char *const *want, const char *what)
{
    size_t n = 0;
    char line[2048];

    while (want[n])
        n++;
    if (l->n != n) {
        for (size_t i = 0; i < l->n; i++) {
            diff_line(&l->v[i], line, sizeof(line));
            fprintf(stderr, "  got: %s\n", line);
        }
        fail_msg("%s: %zu differences, want %zu", what, l->n, n);
    }
    for (size_t i = 0; i < n; i++) {
        diff_line(&l->v[i], line, sizeof(line));
        if (strcmp(line, want[i]) != 0)
            fail_msg("%s: difference %zu is\n  %s\nwant\n  %s", what, i, line, want[i]);
    }
}

/* ---- diffs ------------------------------------------------------------------ */

struct diff_case {
    const char *name;
    const char *old_doc, *new_doc;
    const char *want[6];
};

static const struct diff_case diff_cases[] = {
    {"same members, other order", "{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"x\"}}",
     "{ \"c\" : {\"d\":\"x\"}, \"b\":[true, null], \"a\":1 }", {NULL}},
    {"numbers by value: integer and real", "{\"a\":1,\"b\":12.50,\"c\":-0,\"d\":1e2}",
     "{\"a\":1.0,\"b\":12.5,\"c\":0,\"d\":100}", {NULL}},
    {"numbers beyond 64 bits as text: equal when written alike",
     "{\"n\":12345678901234567890123456789012345678,\"r\":1E+400}",
     "{\"n\":12345678901234567890123456789012345678,\"r\":1E+400}", {NULL}},
    {"numbers beyond 64 bits as text: one digit apart",
     "{\"n\":12345678901234567890123456789012345678}", "{\"n\":12345678901234567890123456789012345679}",
     {"changed n 12345678901234567890123456789012345678 12345678901234567890123456789012345679"}},
    {"numbers beyond a double, by value", "{\"r\":1e400,\"s\":15E-1}", "{\"r\":1E400,\"s\":1.50}", {NULL}},
    {"numbers that differ past a double's 17 digits", "{\"x\":0.12345678901234567891}",
     "{\"x\":0.12345678901234567892}", {"changed x 0.12345678901234567891 0.12345678901234567892"}},
    {"a number is not its text", "{\"n\":5}", "{\"n\":\"5\"}", {"changed n 5 \"5\""}},
    {"strings after unescaping", "{\"s\":\"caf\\u00e9 \\ud83d\\ude00 \\/ \\n\"}",
     "{\"s\":\"café 😀 / \\u000a\"}", {NULL}},
    {"a string changed", "{\"title\":\"Mr\",\"id\":\"1\"}", "{\"title\":\"Dr\",\"id\":\"1\"}",
     {"changed title \"Mr\" \"Dr\""}},
    {"added and removed", "{\"id\":\"1\",\"old\":{\"x\": [1, 2]}}", "{\"id\":\"1\",\"new\":null}",
     {"added new - null", "removed old {\"x\": [1, 2]} -"}},
    {"booleans", "{\"a\":true,\"b\":false,\"c\":true}", "{\"a\":false,\"b\":false,\"c\":\"true\"}",
     {"changed a true false", "changed c true \"true\""}},
    {"null and an object", "{\"tenure\":null}", "{\"tenure\":{\"id\":\"t1\"}}",
     {"changed tenure null {\"id\":\"t1\"}"}},
    {"lists element by element",
     "{\"tenures\":[{\"id\":\"a\",\"uprn\":\"1\"},{\"id\":\"b\",\"uprn\":\"2\"}]}",
     "{\"tenures\":[{\"id\":\"a\",\"uprn\":\"1\"},{\"id\":\"b\",\"uprn\":\"3\"},{\"id\":\"c\"}]}",
     {"changed tenures[1].uprn \"2\" \"3\"", "added tenures[2] - {\"id\":\"c\"}"}},
    {"a shorter list", "{\"p\":[\"Tenant\",\"Leaseholder\"]}", "{\"p\":[\"Tenant\"]}",
     {"removed p[1] \"Leaseholder\" -"}},
    {"odd keys are quoted", "{\"a.b\":1,\"\":2}", "{\"a.b\":3,\"\":4}",
     {"changed [\"a.b\"] 1 3", "changed [\"\"] 2 4"}},
    {"not objects at the top", "[1]", "{}", {"changed (document) [1] {}"}},
    {"deep paths", "{\"a\":{\"b\":[{\"c\":[0,{\"d\":1}]}]}}", "{\"a\":{\"b\":[{\"c\":[0,{\"d\":2}]}]}}",
     {"changed a.b[0].c[1].d 1 2"}},
};

static void test_diff_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(diff_cases) / sizeof(diff_cases[0]); i++) {
        const struct diff_case *c = &diff_cases[i];
        struct preview_diff_list l;
        struct ddb2es_error err;
        int rc;

        preview_diff_list_init(&l);
        rc = preview_diff_json(c->old_doc, strlen(c->old_doc), c->new_doc, strlen(c->new_doc), &l, &err);
        if (rc)
            fail_msg("%s: %s", c->name, err.message);
        expect_diffs(&l, c->want, c->name);
        assert_int_equal(l.omitted, 0);
        preview_diff_list_free(&l);
    }
}

static void test_diff_invalid_and_limit(void **state)
{
    struct preview_diff_list l;
    struct ddb2es_error err;
    struct dbuf a = DBUF_INIT, b = DBUF_INIT;
    char deep[2000];

    (void)state;
    preview_diff_list_init(&l);
    assert_int_equal(preview_diff_json("{\"a\":}", 6, "{}", 2, &l, &err), DDB2ES_E_PROTOCOL);
    assert_string_equal(err.message, "the indexed document is not valid JSON at byte 5: unexpected character");
    assert_int_equal(preview_diff_json("{}", 2, "{} x", 4, &l, &err), DDB2ES_E_PROTOCOL);
    assert_string_equal(err.message, "the new document is not valid JSON at byte 3: data after the value");
    assert_int_equal(preview_diff_json("{\"a\":\"\x01\"}", 8, "{}", 2, &l, &err), DDB2ES_E_PROTOCOL);
    assert_int_equal(preview_diff_json("{\"a\":01}", 8, "{}", 2, &l, &err), DDB2ES_E_PROTOCOL);
    assert_int_equal(preview_diff_json("\"\\x\"", 4, "{}", 2, &l, &err), DDB2ES_E_PROTOCOL);
    /* nesting deeper than the limit is refused, not a stack overflow */
    memset(deep, '[', sizeof(deep));
    assert_int_equal(preview_diff_json(deep, sizeof(deep), "{}", 2, &l, &err), DDB2ES_E_PROTOCOL);
    assert_non_null(strstr(err.message, "nested too deep"));
    assert_int_equal(l.n, 0);

    /* 250 changed members: PREVIEW_MAX_DIFFS kept, the rest counted */
    dbuf_putc(&a, '{');
    dbuf_putc(&b, '{');
    for (int i = 0; i < 250; i++) {
        dbuf_printf(&a, "%s\"f%d\":%d", i ? "," : "", i, i);
        dbuf_printf(&b, "%s\"f%d\":%d", i ? "," : "", i, i + 1);
    }
    dbuf_putc(&a, '}');
    dbuf_putc(&b, '}');
    assert_int_equal(preview_diff_json(a.data, a.len, b.data, b.len, &l, &err), DDB2ES_OK);
    assert_int_equal(l.n, PREVIEW_MAX_DIFFS);
    assert_int_equal(l.omitted, 250 - PREVIEW_MAX_DIFFS);
    assert_string_equal(l.v[0].path, "f0");
    preview_diff_list_free(&l);
    preview_diff_list_free(NULL);
    dbuf_free(&a);
    dbuf_free(&b);
}

/*
 * The reference Persons scan page mapped by the shipped entity, compared with
 * the matching documents of the search API's fixture (as an index holding
 * them would answer): exactly the differences the entity README documents
 * for persons (dates at the top level keep DynamoDB's 7-digit fraction, and
 * a NULL preferredTitle is null where the fixture has "").
 */
static void test_diff_reference_persons(void **state)
{
    struct entity *e = shipped("persons");
    json_t *page = tu_json_shared("reference/hackney/dynamodb/persons-scan-page.json");
    json_t *items = json_object_get(page, "Items");
    char path[1024];
    size_t flen;
    char *fixture = tu_slurp(tu_shared("reference/hackney/es-fixtures/persons.json", path, sizeof(path)), &flen);
    static const char *const want0[] = {
        "changed preferredTitle \"\" null",
        "changed dateOfBirth \"1917-03-27T00:00:00Z\" \"1917-03-27T00:00:00.0000000Z\"", NULL};
    const char *line = fixture;

    (void)state;
    assert_int_equal(json_array_size(items), 2);
    for (size_t i = 0; i < 2; i++) {
        struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
        struct preview_diff_list l;
        struct entity_map_opts mo = {NOW_2025};
        struct ddb2es_error err;
        const char *src, *eol;

        /* the fixture's document lines follow their action lines */
        line = strchr(line, '\n') + 1;
        eol = strchr(line, '\n');
        src = line;
        assert_int_equal(entity_map_item(e, json_array_get(items, i), &mo, &doc, &id, &err), DDB2ES_OK);
        assert_non_null(strstr(src, dbuf_cstr(&id)));
        preview_diff_list_init(&l);
        assert_int_equal(preview_diff_json(src, (size_t)(eol - src), doc.data, doc.len, &l, &err), DDB2ES_OK);
        if (i == 0) {
            expect_diffs(&l, want0, "persons fixture 0");
        } else {
            /* same kinds of differences only */
            assert_true(l.n > 0);
            for (size_t k = 0; k < l.n; k++)
                assert_true(strcmp(l.v[k].path, "dateOfBirth") == 0 || strcmp(l.v[k].path, "preferredTitle") == 0 ||
                            strcmp(l.v[k].path, "title") == 0);
        }
        /* a document compared with itself has no differences */
        preview_diff_list_free(&l);
        assert_int_equal(preview_diff_json(doc.data, doc.len, doc.data, doc.len, &l, &err), DDB2ES_OK);
        assert_int_equal(l.n, 0);
        preview_diff_list_free(&l);
        line = eol + 1;
        dbuf_free(&doc);
        dbuf_free(&id);
    }
    free(fixture);
    json_decref(page);
    entity_free(e);
}

/* ---- the re-indenter ---------------------------------------------------------- */

static void test_indent(void **state)
{
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;
    const char *in = "{\"a\":[1,{\"b\":null}],\"c\":{},\"d\":[],\"n\":12345678901234567890123.50,"
                     "\"s\":\"x\\\"y\\u00e9\"}";

    (void)state;
    assert_int_equal(preview_indent_json(in, strlen(in), NULL, &out, &err), DDB2ES_OK);
    assert_string_equal(out.data, "{\n"
                                  "  \"a\": [\n"
                                  "    1,\n"
                                  "    {\n"
                                  "      \"b\": null\n"
                                  "    }\n"
                                  "  ],\n"
                                  "  \"c\": {},\n"
                                  "  \"d\": [],\n"
                                  "  \"n\": 12345678901234567890123.50,\n"
                                  "  \"s\": \"x\\\"y\\u00e9\"\n"
                                  "}");
    dbuf_reset(&out);
    dbuf_puts(&out, "> ");
    assert_int_equal(preview_indent_json("[ true , \"q\" ]", 14, "| ", &out, &err), DDB2ES_OK);
    assert_string_equal(out.data, "> [\n|   true,\n|   \"q\"\n| ]");
    dbuf_reset(&out);
    assert_int_equal(preview_indent_json("7", 1, NULL, &out, &err), DDB2ES_OK);
    assert_string_equal(out.data, "7");
    /* invalid text: an error and nothing appended */
    dbuf_reset(&out);
    dbuf_puts(&out, "kept");
    assert_int_equal(preview_indent_json("{\"a\":[1,}", 9, NULL, &out, &err), DDB2ES_E_PROTOCOL);
    assert_string_equal(out.data, "kept");
    dbuf_free(&out);
}

/* ---- items ---------------------------------------------------------------------- */

static struct preview_result *new_result(void)
{
    struct preview_result *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    indexdef_report_init(&r->index_report);
    return r;
}

static void test_add_items(void **state)
{
    struct entity *e = shipped("persons");
    json_t *page = tu_json_shared("reference/hackney/dynamodb/persons-scan-page.json");
    json_t *item0 = json_array_get(json_object_get(page, "Items"), 0);
    json_t *misfit = tu_json("{\"id\":{\"S\":\"m-1\"},\"tenures\":{\"L\":[{\"L\":[]}]}}");
    json_t *no_id = tu_json("{\"id\":{\"BOOL\":true},\"title\":{\"S\":\"Mr\"}}");
    struct preview_result *r = new_result();
    struct ddb2es_error err;
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT, src = DBUF_INIT;
    struct entity_map_opts mo = {NOW_2025};

    (void)state;
    assert_int_equal(preview_add_item(r, e, item0, NOW_2025, true, &err), DDB2ES_OK);
    assert_int_equal(preview_add_item(r, e, misfit, NOW_2025, true, &err), DDB2ES_OK);
    assert_int_equal(preview_add_item(r, e, no_id, NOW_2025, false, &err), DDB2ES_OK);
    assert_int_equal(r->nitems, 3);
    assert_int_equal(r->mapped, 1);
    assert_int_equal(r->failed, 2);

    /* a mapped item: the very document and id a sync sends, and the source */
    assert_int_equal(entity_map_item(e, item0, &mo, &doc, &id, &err), DDB2ES_OK);
    assert_int_equal(ddbjson_item_to_json(&src, item0, &err), DDB2ES_OK);
    assert_true(r->items[0].mapped);
    assert_int_equal(r->items[0].position, 0);
    assert_string_equal(r->items[0].id, "b69e6519-3712-4509-a30e-0b5af596915b");
    assert_string_equal(r->items[0].document, doc.data);
    assert_int_equal(r->items[0].document_len, doc.len);
    assert_string_equal(r->items[0].source, src.data);
    assert_null(r->items[0].error);
    assert_int_equal(r->items[0].change, PREVIEW_NOT_COMPARED);

    /* a misfit: the id and the path of the problem */
    assert_false(r->items[1].mapped);
    assert_null(r->items[1].document);
    assert_string_equal(r->items[1].id, "m-1");
    assert_non_null(strstr(r->items[1].error, "\"m-1\""));
    assert_non_null(strstr(r->items[1].error, "tenures[0]"));
    assert_string_equal(r->items[1].source, "{\"id\":\"m-1\",\"tenures\":[[]]}");

    /* an id that is not a string: no id, a message naming the id attribute; no source asked */
    assert_false(r->items[2].mapped);
    assert_null(r->items[2].id);
    assert_non_null(strstr(r->items[2].error, "id"));
    assert_non_null(strstr(r->items[2].error, "BOOL"));
    assert_null(r->items[2].source);
    assert_int_equal(r->items[2].position, 2);

    preview_result_free(r);
    preview_result_free(NULL);
    dbuf_free(&doc);
    dbuf_free(&id);
    dbuf_free(&src);
    json_decref(page);
    json_decref(misfit);
    json_decref(no_id);
    entity_free(e);
}

/* An item whose source cannot be shown (beyond 32 levels) still maps when the entity ignores that attribute. */
static void test_add_item_source_too_deep(void **state)
{
    struct entity *e = shipped("persons");
    struct preview_result *r = new_result();
    struct ddb2es_error err;
    struct dbuf t = DBUF_INIT;
    json_t *item;

    (void)state;
    dbuf_puts(&t, "{\"id\":{\"S\":\"deep\"},\"reason\":");
    for (int i = 0; i < 40; i++)
        dbuf_puts(&t, "{\"M\":{\"x\":");
    dbuf_puts(&t, "{\"S\":\"bottom\"}");
    for (int i = 0; i < 40; i++)
        dbuf_puts(&t, "}}");
    dbuf_putc(&t, '}');
    item = tu_json(t.data);
    assert_int_equal(preview_add_item(r, e, item, NOW_2025, true, &err), DDB2ES_OK);
    assert_true(r->items[0].mapped);
    assert_null(r->items[0].source);
    assert_non_null(r->items[0].source_error);
    assert_non_null(strstr(r->items[0].source_error, "reason"));
    json_decref(item);
    dbuf_free(&t);
    preview_result_free(r);
    entity_free(e);
}

static void test_mark_item(void **state)
{
    struct preview_item it;
    struct ddb2es_error err;
    const char *doc = "{\"id\":\"1\",\"title\":\"Dr\"}", *other;

    (void)state;
    memset(&it, 0, sizeof(it));
    it.mapped = true;
    it.document = (char *)doc;
    it.document_len = strlen(doc);
    assert_int_equal(preview_mark_item(&it, false, NULL, 0, &err), DDB2ES_OK);
    assert_int_equal(it.change, PREVIEW_NEW);
    assert_int_equal(preview_mark_item(&it, true, doc, strlen(doc), &err), DDB2ES_OK);
    assert_int_equal(it.change, PREVIEW_UNCHANGED);
    other = "{\"title\": \"Dr\", \"id\": \"1\"}";
    assert_int_equal(preview_mark_item(&it, true, other, strlen(other), &err), DDB2ES_OK);
    assert_int_equal(it.change, PREVIEW_UNCHANGED);
    other = "{\"id\":\"1\",\"title\":\"Mr\"}";
    assert_int_equal(preview_mark_item(&it, true, other, strlen(other), &err), DDB2ES_OK);
    assert_int_equal(it.change, PREVIEW_CHANGED);
    assert_int_equal(it.diffs.n, 1);
    assert_string_equal(it.diffs.v[0].path, "title");
    assert_string_equal(it.diffs.v[0].old_json, "\"Mr\"");
    assert_string_equal(it.diffs.v[0].new_json, "\"Dr\"");
    /* marking again starts over */
    assert_int_equal(preview_mark_item(&it, true, "not json", 8, &err), DDB2ES_OK);
    assert_int_equal(it.change, PREVIEW_COMPARE_FAILED);
    assert_int_equal(it.diffs.n, 0);
    assert_non_null(strstr(it.compare_error, "the indexed document is not valid JSON"));
    assert_int_equal(preview_mark_item(&it, false, NULL, 0, &err), DDB2ES_OK);
    assert_null(it.compare_error);
    assert_string_equal(preview_change_name(PREVIEW_CHANGED), "changed");
    assert_string_equal(preview_change_name(PREVIEW_COMPARE_FAILED), "compare-failed");
}

/* ---- against a loopback server ----------------------------------------------------- */

/* A result with mapped documents d1..d4 and one failed item. */
static struct preview_result *four_docs(void)
{
    static const char *const docs[] = {"{\"id\":\"d1\",\"n\":1}", "{\"id\":\"d2\",\"n\":2}", "{\"id\":\"d3\",\"n\":3}",
                                       "{\"id\":\"d4\",\"n\":4}"};
    struct preview_result *r = new_result();

    r->cap = 8;
    r->items = calloc(r->cap, sizeof(*r->items));
    assert_non_null(r->items);
    for (size_t i = 0; i < 4; i++) {
        struct preview_item *it = &r->items[r->nitems++];
        char id[8];
        snprintf(id, sizeof(id), "d%zu", i + 1);
        it->position = i;
        it->id = util_strdup(id);
        it->mapped = true;
        it->document = util_strdup(docs[i]);
        it->document_len = strlen(docs[i]);
    }
    r->items[r->nitems].position = 4;
    r->items[r->nitems].error = util_strdup("persons item \"bad\": tenures: expected L");
    r->items[r->nitems].id = util_strdup("bad");
    r->nitems++;
    r->mapped = 4;
    r->failed = 1;
    return r;
}

static void test_compare_mget(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    struct preview_result *r = four_docs();
    struct ddb2es_error err;
    json_t *body, *want;

    fake_answer(f, 200, "");
    fake_answer(f, 200,
                "{\"docs\":["
                "{\"_index\":\"persons\",\"_id\":\"d1\",\"_version\":1,\"found\":true,\"_source\":{\"id\":\"d1\",\"n\":1}},"
                "{\"_index\":\"persons\",\"_id\":\"d2\",\"_version\":3,\"found\":true,\"_source\":{\"n\":20,\"id\":\"d2\"}},"
                "{\"_index\":\"persons\",\"_id\":\"d3\",\"found\":false},"
                "{\"_index\":\"persons\",\"_id\":\"d4\",\"error\":{\"type\":\"some_exception\",\"reason\":\"boom\"}}]}");
    assert_int_equal(preview_compare(c, "persons", r, &err), DDB2ES_OK);
    assert_string_equal(f->log.data, "HEAD /persons\nPOST /persons/_mget\n");
    body = tu_json(f->body.data);
    want = tu_json("{\"ids\":[\"d1\",\"d2\",\"d3\",\"d4\"]}"); /* mapped items only */
    assert_true(json_equal(body, want));
    json_decref(body);
    json_decref(want);
    assert_true(r->compared);
    assert_string_equal(r->compare_index, "persons");
    assert_int_equal(r->items[0].change, PREVIEW_UNCHANGED);
    assert_int_equal(r->items[1].change, PREVIEW_CHANGED);
    assert_int_equal(r->items[1].diffs.n, 1);
    assert_string_equal(r->items[1].diffs.v[0].path, "n");
    assert_string_equal(r->items[1].diffs.v[0].old_json, "20");
    assert_string_equal(r->items[1].diffs.v[0].new_json, "2");
    assert_int_equal(r->items[2].change, PREVIEW_NEW);
    assert_int_equal(r->items[3].change, PREVIEW_COMPARE_FAILED);
    assert_non_null(strstr(r->items[3].compare_error, "boom"));
    assert_int_equal(r->items[4].change, PREVIEW_NOT_COMPARED); /* not mapped */
    assert_int_equal(r->n_unchanged, 1);
    assert_int_equal(r->n_changed, 1);
    assert_int_equal(r->n_new, 1);
    assert_int_equal(r->n_compare_failed, 1);
    assert_false(r->compare_index_missing);

    /* the index is gone: everything is new, and no _mget is sent */
    fake_answer(f, 404, "");
    assert_int_equal(preview_compare(c, "persons", r, &err), DDB2ES_OK);
    assert_true(r->compare_index_missing);
    assert_int_equal(r->n_new, 4);
    assert_int_equal(r->n_changed + r->n_unchanged + r->n_compare_failed, 0);
    assert_int_equal(r->items[1].diffs.n, 0);
    assert_string_equal(f->log.data, "HEAD /persons\nPOST /persons/_mget\nHEAD /persons\n");
    preview_result_free(r);
    es_client_free(c);
}

/* A whole preview: DynamoDB and Elasticsearch are the same loopback server here. */
static void test_run(void **state)
{
    struct fake *f = *state;
    struct es_client *es = fake_client(f, NULL, NULL);
    struct aws_credentials *creds = aws_credentials_new("AKIDTEST", "not-a-real-secret", NULL, "test");
    struct ddb_options dop;
    struct ddb_client *ddb;
    struct entity *e = shipped("persons");
    struct preview_options o;
    struct preview_result *r = NULL;
    struct ddb2es_error err;
    char url[64];
    json_t *req;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->port);
    memset(&dop, 0, sizeof(dop));
    dop.region = "eu-west-2";
    dop.endpoint = url;
    dop.creds = creds;
    ddb = ddb_client_new(&dop, &err);
    assert_non_null(ddb);

    /* page 1: one good item and one misfit, more to come; page 2: one good item (the Limit asked) */
    fake_answer(f, 200, "{\"Items\":[{\"id\":{\"S\":\"p1\"},\"title\":{\"S\":\"Mr\"}},"
                        "{\"id\":{\"S\":\"p2\"},\"tenures\":{\"S\":\"not a list\"}}],"
                        "\"Count\":2,\"ScannedCount\":2,\"LastEvaluatedKey\":{\"id\":{\"S\":\"p2\"}},"
                        "\"ConsumedCapacity\":{\"CapacityUnits\":0.5}}");
    fake_answer(f, 200, "{\"Items\":[{\"id\":{\"S\":\"p3\"}}],\"Count\":1,\"ScannedCount\":1,"
                        "\"LastEvaluatedKey\":{\"id\":{\"S\":\"p3\"}},\"ConsumedCapacity\":{\"CapacityUnits\":0.5}}");
    fake_answer(f, 404, ""); /* HEAD /persons for the index outcome: missing */
    memset(&o, 0, sizeof(o));
    o.ddb = ddb;
    o.es = es;
    o.table = "Persons";
    o.entity = e;
    o.limit = 2;
    o.index = "persons";
    o.now = NOW_2025;
    assert_int_equal(preview_run(&o, &r, &err), DDB2ES_OK);
    /* two documents wanted: one mapped after the first page, so a second request */
    assert_int_equal(r->requests, 2);
    assert_int_equal(r->read, 3);
    assert_int_equal(r->mapped, 2);
    assert_int_equal(r->failed, 1);
    assert_true(r->more);
    assert_true(r->consumed_rcu > 0.99 && r->consumed_rcu < 1.01);
    assert_string_equal(r->items[0].id, "p1");
    assert_string_equal(r->items[1].id, "p2");
    assert_false(r->items[1].mapped);
    assert_string_equal(r->items[2].id, "p3");
    assert_true(r->index_checked);
    assert_int_equal(r->index_report.outcome, INDEXDEF_WILL_CREATE);
    assert_false(r->compared);
    assert_null(r->items[0].source);
    assert_string_equal(f->log.data, "POST /\nPOST /\nHEAD /persons\n");
    preview_result_free(r);

    /* the request bodies: Limit 2 then Limit 1 with the start key (the last one is kept) */
    fake_answer(f, 200, "{\"Items\":[{\"id\":{\"S\":\"p1\"}}],\"Count\":1,\"ScannedCount\":1,"
                        "\"LastEvaluatedKey\":{\"id\":{\"S\":\"p1\"}}}");
    fake_answer(f, 200, "{\"Items\":[],\"Count\":0,\"ScannedCount\":0}");
    o.index = NULL;
    o.limit = 5;
    assert_int_equal(preview_run(&o, &r, &err), DDB2ES_OK);
    req = tu_json(f->body.data);
    assert_int_equal(json_integer_value(json_object_get(req, "Limit")), 4);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(req, "ExclusiveStartKey"),
                                                                          "id"), "S")), "p1");
    assert_string_equal(json_string_value(json_object_get(req, "TableName")), "Persons");
    json_decref(req);
    assert_int_equal(r->read, 1);
    assert_false(r->more); /* the table ended */
    assert_false(r->index_checked);
    preview_result_free(r);

    /* a table of misfits is not read to its end: max_read bounds it */
    fake_answer(f, 200, "{\"Items\":[{\"id\":{\"BOOL\":true}},{\"id\":{\"BOOL\":false}}],"
                        "\"LastEvaluatedKey\":{\"pk\":{\"S\":\"x\"}}}");
    o.limit = 1;
    o.max_read = 2;
    assert_int_equal(preview_run(&o, &r, &err), DDB2ES_OK);
    req = tu_json(f->body.data);
    assert_int_equal(json_integer_value(json_object_get(req, "Limit")), 1);
    json_decref(req);
    assert_int_equal(r->read, 2);
    assert_int_equal(r->failed, 2);
    assert_int_equal(r->mapped, 0);
    assert_true(r->more);
    preview_result_free(r);

    /* errors */
    o.max_read = 0;
    o.limit = PREVIEW_MAX_LIMIT + 1;
    assert_int_equal(preview_run(&o, &r, &err), DDB2ES_E_USAGE);
    assert_null(r);
    o.limit = 1;
    o.es = NULL;
    o.compare_index = "persons";
    assert_int_equal(preview_run(&o, &r, &err), DDB2ES_E_USAGE);
    o.es = es;
    o.compare_index = NULL;
    fake_answer(f, 400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
                        "\"message\":\"Requested resource not found\"}");
    assert_int_equal(preview_run(&o, &r, &err), DDB2ES_E_NOTFOUND);
    assert_null(r);
    assert_non_null(strstr(err.message, "Persons"));

    ddb_client_free(ddb);
    aws_credentials_free(creds);
    entity_free(e);
    es_client_free(es);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_cases),
        cmocka_unit_test(test_diff_invalid_and_limit),
        cmocka_unit_test(test_diff_reference_persons),
        cmocka_unit_test(test_indent),
        cmocka_unit_test(test_add_items),
        cmocka_unit_test(test_add_item_source_too_deep),
        cmocka_unit_test(test_mark_item),
        cmocka_unit_test_setup_teardown(test_compare_mget, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_run, setup_fake, teardown_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
