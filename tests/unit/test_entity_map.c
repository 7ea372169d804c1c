/* test_entity_map.c - mapping items: policies and types, items that do not
 * fit (nesting, size, binary, ids), versions, the tenure_active computation
 * and many threads mapping with one shared entity. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ddb2es/ddbjson.h"
#include "entity_test_util.h"

static struct entity *from_text(const char *text)
{
    struct entity *e = NULL;
    struct ddb2es_error err;

    if (entity_load_buffer(text, strlen(text), "test.json", &e, &err) != DDB2ES_OK)
        fail_msg("test entity refused: %s", err.message);
    return e;
}

/* Maps text-given item, returns the document text (caller frees). */
static char *map_text(const struct entity *e, const char *item_text, time_t now)
{
    struct entity_map_opts o = {now};
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct ddb2es_error err;
    json_t *item = tu_json(item_text);

    if (entity_map_item(e, item, &o, &doc, &id, &err) != DDB2ES_OK)
        fail_msg("mapping failed: %s", err.message);
    json_decref(item);
    dbuf_free(&id);
    return dbuf_detach(&doc);
}

/* Maps an item expected to fail; returns the status, message in err. */
static int map_fail(const struct entity *e, const char *item_text, struct ddb2es_error *err)
{
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    json_t *item = tu_json(item_text);
    int rc;

    dbuf_puts(&doc, "D");
    dbuf_puts(&id, "I");
    rc = entity_map_item(e, item, NULL, &doc, &id, err);
    /* Both buffers are left as they were. */
    assert_string_equal(dbuf_cstr(&doc), "D");
    assert_string_equal(dbuf_cstr(&id), "I");
    json_decref(item);
    dbuf_free(&doc);
    dbuf_free(&id);
    return rc;
}

static void test_policies_and_types(void **state)
{
    struct entity *e = from_text(
        "{\"name\":\"p\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i.json\",\"fields\":{"
        "\"gone\":{\"from\":\"nope\",\"missing\":\"omit\"},"
        "\"id\":{\"from\":\"id\"},"
        "\"dflt\":{\"from\":\"nope\",\"missing\":\"default\",\"default\":{\"a\":[1,0.1,\"x\",null,true]}},"
        "\"nulled\":{\"from\":\"nul\",\"null\":\"default\",\"default\":0},"
        "\"omitnull\":{\"from\":\"nul\",\"null\":\"omit\"},"
        "\"mm\":{\"from\":\"s\",\"type\":\"number\",\"mismatch\":\"default\",\"default\":-1},"
        "\"mmomit\":{\"from\":\"s\",\"type\":\"boolean\",\"mismatch\":\"omit\"},"
        "\"mmnull\":{\"from\":\"s\",\"type\":\"object\",\"mismatch\":\"null\",\"fields\":{\"q\":{\"from\":\"q\"}}},"
        "\"num\":{\"from\":\"n\",\"type\":\"number\"},"
        "\"numtext\":{\"from\":\"n\"},"
        "\"raw\":{\"from\":\"m\",\"type\":\"raw\"},"
        "\"nested\":{\"from\":\"m.inner.leaf\"},"
        "\"dotted\":{\"from\":[\"dot.ted\"]},"
        "\"viaNull\":{\"from\":\"nul.x\",\"missing\":\"default\",\"default\":\"gone\"},"
        "\"viaBad\":{\"from\":\"s.x\",\"mismatch\":\"null\"},"
        "\"c\":{\"const\":\"fixed\"},"
        "\"c2\":{\"const\":{\"k\":[0.5,1e300,-2]}},"
        "\"lst\":{\"from\":\"lst\",\"type\":\"list\",\"mismatch\":\"omit\",\"fields\":{\"v\":{\"from\":\"v\"}}},"
        "\"lst2\":{\"from\":\"lst2\",\"type\":\"list\",\"fields\":{\"v\":{\"from\":\"v\",\"type\":\"raw\"}}},"
        "\"strs\":{\"from\":\"strs\",\"type\":\"string_list\",\"mismatch\":\"default\",\"default\":[]},"
        "\"b\":{\"from\":\"bin\",\"type\":\"raw\"},"
        "\"last\":{\"from\":\"nope\",\"missing\":\"omit\"}"
        "}}");
    char *doc = map_text(
        e,
        "{\"id\":{\"S\":\"k1\"},\"nul\":{\"NULL\":true},\"s\":{\"S\":\"text\"},"
        "\"n\":{\"N\":\"+007.50\"},\"m\":{\"M\":{\"inner\":{\"M\":{\"leaf\":{\"S\":\"deep\"}}},"
        "\"x\":{\"NS\":[\"1\",\"2\"]}}},\"dot.ted\":{\"S\":\"dotted name\"},"
        "\"lst\":{\"L\":[{\"M\":{\"v\":{\"S\":\"a\"}}},{\"S\":\"not a map\"}]},"
        "\"lst2\":{\"L\":[{\"M\":{\"v\":{\"BS\":[\"AA==\"]}}},{\"NULL\":true},{\"M\":{}}]},"
        "\"strs\":{\"L\":[{\"S\":\"a\"},{\"NULL\":true}]},\"bin\":{\"B\":\"AAEC\"}}",
        NOW_2025);

    (void)state;
    assert_string_equal(
        doc,
        "{\"id\":\"k1\",\"dflt\":{\"a\":[1,0.1,\"x\",null,true]},\"nulled\":0,\"mm\":-1,"
        "\"mmnull\":null,\"num\":7.50,\"numtext\":\"+007.50\","
        "\"raw\":{\"inner\":{\"leaf\":\"deep\"},\"x\":[1,2]},\"nested\":\"deep\","
        "\"dotted\":\"dotted name\",\"viaNull\":\"gone\",\"viaBad\":null,\"c\":\"fixed\","
        "\"c2\":{\"k\":[0.5,1e+300,-2]},\"lst2\":[{\"v\":[\"AA==\"]},null,{\"v\":null}],"
        "\"strs\":[],\"b\":\"AAEC\"}");
    free(doc);
    entity_free(e);
}

static void test_all_fields_omitted(void **state)
{
    struct entity *e = from_text("{\"name\":\"p\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i\","
                                 "\"fields\":{\"a\":{\"from\":\"a\",\"missing\":\"omit\"},"
                                 "\"o\":{\"from\":\"o\",\"type\":\"object\",\"fields\":{"
                                 "\"b\":{\"from\":\"b\",\"missing\":\"omit\"}}}}}");
    char *doc = map_text(e, "{\"id\":{\"S\":\"k\"},\"o\":{\"M\":{}}}", NOW_2025);

    (void)state;
    assert_string_equal(doc, "{\"o\":{}}");
    free(doc);
    entity_free(e);
}

static void test_error_policies(void **state)
{
    struct entity *e = from_text(
        "{\"name\":\"strict\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i\",\"fields\":{"
        "\"a\":{\"from\":\"a\",\"missing\":\"error\",\"null\":\"error\"},"
        "\"n\":{\"from\":\"o.n\",\"type\":\"number\"}}}");
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": a: attribute is missing (field \"a\" requires it)");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"NULL\":true}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": a: attribute is NULL (field \"a\" requires a value)");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"M\":{\"n\":{\"S\":\"1\"}}}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": o.n: expected N for field \"n\", got S");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"L\":[]}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message,
                        "strict item \"k\": o: expected a map (M) on the path for field \"n\", got L");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"M\":{\"n\":{\"N\":\"1e999\"}}}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": o.n: invalid number \"1e999\"");
    /* Malformed values are errors whatever the policies say. */
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"M\":{\"n\":{\"N\":1}}}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": o.n: malformed attribute value: \"N\" must hold a string");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"MM\":{}}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": o: malformed attribute value: unknown type \"MM\"");
    entity_free(e);
}

/* ---- items that do not fit -------------------------------------------------- */

static const char *raw_entity =
    "{\"name\":\"r\",\"tables\":[\"Tab\"],\"id\":\"id\",\"version\":\"v\",\"index\":\"i\",\"fields\":{"
    "\"id\":{\"from\":\"id\"},\"s\":{\"from\":\"s\"},\"deep\":{\"from\":\"deep\",\"type\":\"raw\"},"
    "\"obj\":{\"from\":\"obj\",\"type\":\"object\",\"fields\":{\"deep\":{\"from\":\"deep\",\"type\":\"raw\"}}},"
    "\"tags\":{\"from\":\"tags\",\"type\":\"string_list\"}}}";

static json_t *chain(int levels)
{
    json_t *v = json_pack("{s:s}", "S", "bottom");
    int i;

    for (i = 0; i < levels; i++)
        v = json_pack("{s:{s:o}}", "M", "a", v);
    return v;
}

static void test_misfit_nesting(void **state)
{
    struct entity *e = from_text(raw_entity);
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct ddb2es_error err;
    json_t *item;

    (void)state;
    /* A raw attribute nesting 32 levels: DynamoDB's maximum, mapped. */
    item = json_pack("{s:{s:s},s:o}", "id", "S", "n1", "deep", chain(32));
    assert_int_equal(entity_map_item(e, item, NULL, &doc, &id, &err), DDB2ES_OK);
    assert_non_null(strstr(dbuf_cstr(&doc), "{\"a\":\"bottom\"}"));
    json_decref(item);
    /* 33 levels: refused with the item id and the path. */
    item = json_pack("{s:{s:s},s:o}", "id", "S", "n2", "deep", chain(33));
    dbuf_reset(&doc);
    dbuf_reset(&id);
    assert_int_equal(entity_map_item(e, item, NULL, &doc, &id, &err), DDB2ES_E_MAPPING);
    assert_int_equal(strncmp(err.message, "r item \"n2\": deep.a.a.a", 23), 0);
    assert_non_null(strstr(err.message, ": nested deeper than 32 levels"));
    assert_int_equal(doc.len, 0);
    assert_int_equal(id.len, 0);
    json_decref(item);
    /* Inside an object field the level counts from the item's top: 31 more maps fit, 32 do not. */
    item = json_pack("{s:{s:s},s:{s:{s:o}}}", "id", "S", "n3", "obj", "M", "deep", chain(31));
    assert_int_equal(entity_map_item(e, item, NULL, &doc, &id, &err), DDB2ES_OK);
    json_decref(item);
    item = json_pack("{s:{s:s},s:{s:{s:o}}}", "id", "S", "n4", "obj", "M", "deep", chain(32));
    assert_int_equal(entity_map_item(e, item, NULL, &doc, &id, &err), DDB2ES_E_MAPPING);
    assert_non_null(strstr(err.message, "r item \"n4\": obj.deep.a.a"));
    json_decref(item);
    dbuf_free(&doc);
    dbuf_free(&id);
    entity_free(e);
}

static void test_misfit_large_and_binary(void **state)
{
    struct entity *e = from_text(raw_entity);
    struct entity *persons = shipped("persons");
    size_t n = 350 * 1024, i;
    char *big = malloc(n + 1);
    json_t *item, *doc;
    struct ddb2es_error err;

    (void)state;
    for (i = 0; i < n; i++)
        big[i] = (char)('A' + i % 26);
    big[n] = '\0';
    /* A 350 KB string attribute. */
    item = json_pack("{s:{s:s},s:{s:s}}", "id", "S", "big", "firstName", "S", big);
    doc = map_doc(persons, item, NOW_2025, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "firstname")), big);
    json_decref(doc);
    json_decref(item);
    /* A 350 KB list, raw. */
    item = json_pack("{s:{s:s},s:{s:[]}}", "id", "S", "biglist", "deep", "L");
    for (i = 0; i < 3500; i++)
        json_array_append_new(json_object_get(json_object_get(item, "deep"), "L"),
                              json_pack("{s:s#}", "S", big, (int)100));
    doc = map_doc(e, item, NOW_2025, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "deep")), 3500);
    json_decref(doc);
    json_decref(item);
    /* Binary data: raw passes base64 through, a string field refuses B, a string list refuses BS. */
    item = tu_json("{\"id\":{\"S\":\"bin\"},\"deep\":{\"B\":\"AP8=\"},\"tags\":{\"SS\":[\"x\"]}}");
    doc = map_doc(e, item, NOW_2025, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "deep")), "AP8=");
    json_decref(doc);
    json_decref(item);
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"bin\"},\"s\":{\"B\":\"AP8=\"}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r item \"bin\": s: expected S or N for field \"s\", got B");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"bin\"},\"tags\":{\"BS\":[\"AP8=\"]}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message,
                        "r item \"bin\": tags: expected SS, NS, or L of S/N for field \"tags\", got BS");
    /* The persons entity turns a binary name into null, as the old indexer did. */
    item = tu_json("{\"id\":{\"S\":\"bin\"},\"surname\":{\"B\":\"AP8=\"}}");
    doc = map_doc(persons, item, NOW_2025, NULL);
    assert_true(json_is_null(json_object_get(doc, "surname")));
    json_decref(doc);
    json_decref(item);
    free(big);
    entity_free(e);
    entity_free(persons);
}

static void test_misfit_ids(void **state)
{
    struct entity *e = from_text(raw_entity);
    struct dbuf id = DBUF_INIT, txt = DBUF_INIT;
    struct ddb2es_error err;
    json_t *item;
    int i;

    (void)state;
    assert_int_equal(map_fail(e, "[]", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r: item is not a JSON object of attribute name -> AttributeValue");
    assert_int_equal(map_fail(e, "{\"id\":{\"L\":[]}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r: item id attribute \"id\" is L, expected S (or N)");
    assert_int_equal(map_fail(e, "{\"id\":{\"B\":\"AA==\"}}", &err), DDB2ES_E_MAPPING);
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":1}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r: item id attribute \"id\" is a malformed value, expected S (or N)");
    assert_int_equal(map_fail(e, "{\"id\":{\"N\":\"12a\"}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r: item id \"12a\" is not a valid number");
    /* A number id is its text. */
    item = tu_json("{\"id\":{\"N\":\"42\"}}");
    assert_int_equal(entity_item_id(e, item, &id, &err), DDB2ES_OK);
    assert_string_equal(dbuf_cstr(&id), "42");
    json_decref(item);
    /* 512 bytes is Elasticsearch's limit for _id. */
    for (i = 0; i < ENTITY_ID_MAX; i++)
        dbuf_putc(&txt, 'x');
    item = json_pack("{s:{s:s}}", "id", "S", txt.data);
    dbuf_reset(&id);
    assert_int_equal(entity_item_id(e, item, &id, &err), DDB2ES_OK);
    assert_int_equal(id.len, ENTITY_ID_MAX);
    json_decref(item);
    dbuf_putc(&txt, 'x');
    item = json_pack("{s:{s:s}}", "id", "S", txt.data);
    dbuf_reset(&id);
    assert_int_equal(entity_item_id(e, item, &id, &err), DDB2ES_E_MAPPING);
    assert_non_null(strstr(err.message, "is 513 bytes; Elasticsearch allows at most 512"));
    json_decref(item);
    /* Quotes and control bytes in an id are made printable in messages. */
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"a\\\"b\\nc\"},\"s\":{\"M\":{}}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r item \"a\\\"b?c\": s: expected S or N for field \"s\", got M");
    dbuf_free(&id);
    dbuf_free(&txt);
    entity_free(e);
}

static void test_item_version(void **state)
{
    struct entity *e = from_text(raw_entity);
    struct entity *nov = from_text("{\"name\":\"nv\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i\","
                                   "\"fields\":{\"id\":{\"from\":\"id\"}}}");
    static const struct {
        const char *item;
        int rc;
        long long v;
    } cases[] = {
        {"{\"v\":{\"N\":\"7\"}}", DDB2ES_OK, 7},
        {"{\"v\":{\"N\":\"0\"}}", DDB2ES_OK, 0},
        {"{\"v\":{\"N\":\"9223372036854775807\"}}", DDB2ES_OK, 9223372036854775807LL},
        {"{\"v\":{\"N\":\"9223372036854775808\"}}", DDB2ES_E_MAPPING, 0},
        {"{\"v\":{\"N\":\"-1\"}}", DDB2ES_E_MAPPING, 0},
        {"{\"v\":{\"N\":\"1.5\"}}", DDB2ES_E_MAPPING, 0},
        {"{\"v\":{\"S\":\"7\"}}", DDB2ES_E_MAPPING, 0},
        {"{\"v\":{\"NULL\":true}}", DDB2ES_E_NOTFOUND, 0},
        {"{}", DDB2ES_E_NOTFOUND, 0},
    };
    struct ddb2es_error err;
    long long v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *item = tu_json(cases[i].item);

        assert_int_equal(entity_item_version(e, item, &v, &err), cases[i].rc);
        if (cases[i].rc == DDB2ES_OK)
            assert_true(v == cases[i].v);
        json_decref(item);
    }
    {
        json_t *item = tu_json("{\"v\":{\"N\":\"7\"}}");

        assert_int_equal(entity_item_version(nov, item, &v, &err), DDB2ES_E_NOTFOUND);
        assert_null(entity_version_attribute(nov));
        json_decref(item);
    }
    entity_free(e);
    entity_free(nov);
}

/* ---- tenure_active --------------------------------------------------------------- */

static void test_tenure_active(void **state)
{
    static const struct {
        const char *end; /* AttributeValue text, or NULL for missing */
        time_t now;
        int want;
    } cases[] = {
        {NULL, NOW_2025, 1},
        {"{\"NULL\":true}", NOW_2025, 1},
        {"{\"S\":\"\"}", NOW_2025, 1},
        {"{\"S\":\"garbage\"}", NOW_2025, 1},
        {"{\"N\":\"5\"}", NOW_2025, 1},
        {"{\"M\":{}}", NOW_2025, 1},
        {"{\"S\":\"2024-12-31T23:59:59Z\"}", NOW_2025, 0},
        {"{\"S\":\"2025-01-01T00:00:00Z\"}", NOW_2025, 1},
        {"{\"S\":\"2025-01-01T00:00:00.0000000Z\"}", NOW_2025, 1},
        {"{\"S\":\"2025-01-01T00:00:00.9999999Z\"}", NOW_2025 + 1, 0},
        {"{\"S\":\"2025-01-01\"}", NOW_2025, 1},
        {"{\"S\":\"2025-01-01\"}", NOW_2025 + 1, 0},
        {"{\"S\":\"2025-01-01T00:00\"}", NOW_2025, 1},
        {"{\"S\":\"2025-01-01 00:00:01\"}", NOW_2025 + 1, 1},
        {"{\"S\":\"2025-01-01T01:00:00+02:00\"}", NOW_2025, 0},
        {"{\"S\":\"2025-01-01T01:00:00+0200\"}", NOW_2025, 0},
        {"{\"S\":\"2025-01-01T01:00:00+02\"}", NOW_2025, 0},
        {"{\"S\":\"2024-12-31T23:00:00-02:00\"}", NOW_2025, 1},
        {"{\"S\":\"1900-01-01T00:00:00.0000000Z\"}", NOW_2025, 1},
        {"{\"S\":\"1900-01-01\"}", NOW_2025, 1},
        {"{\"S\":\"1900-01-01T23:59:59Z\"}", NOW_2025, 1},
        {"{\"S\":\"1900-01-02T00:00:00Z\"}", NOW_2025, 0},
        {"{\"S\":\"1899-12-31T00:00:00Z\"}", NOW_2025, 0},
        {"{\"S\":\"2024-02-29T00:00:00Z\"}", NOW_2025, 0},
        {"{\"S\":\"2023-02-29T00:00:00Z\"}", NOW_2025, 1}, /* no such day: unparseable */
        {"{\"S\":\"2025-13-01\"}", NOW_2025, 1},
        {"{\"S\":\"2024-06-01T24:00:00Z\"}", NOW_2025, 1},
        {"{\"S\":\"2024-06-01T\"}", NOW_2025, 1},
        {"{\"S\":\"2024-06-01Z\"}", NOW_2025, 0},
        {"{\"S\":\"2024-06-01T10:00:00Zjunk\"}", NOW_2025, 1},
        {"{\"S\":\"0000-01-01\"}", NOW_2025, 1},
        {"{\"S\":\"9999-12-31T23:59:59Z\"}", NOW_2025, 1},
        {"{\"S\":\"2024-06-01\"}", 1704067200 /* 2024-01-01 */, 1},
    };
    struct entity *e = from_text("{\"name\":\"t\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i\","
                                 "\"fields\":{\"a\":{\"compute\":\"tenure_active\",\"from\":\"end\"},"
                                 "\"b\":{\"compute\":\"tenure_active\",\"from\":\"end.x\"}}}");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char item[256], want[64];
        char *doc;

        if (cases[i].end)
            snprintf(item, sizeof(item), "{\"id\":{\"S\":\"k\"},\"end\":%s}", cases[i].end);
        else
            snprintf(item, sizeof(item), "{\"id\":{\"S\":\"k\"}}");
        doc = map_text(e, item, cases[i].now);
        /* "b" goes through a non-map: always absent, so active. */
        snprintf(want, sizeof(want), "{\"a\":%s,\"b\":true}", cases[i].want ? "true" : "false");
        if (strcmp(doc, want) != 0)
            fail_msg("case %zu (%s): got %s", i, cases[i].end ? cases[i].end : "missing", doc);
        free(doc);
    }
    entity_free(e);
}

/* ---- concurrency -------------------------------------------------------------------- */

struct worker {
    const struct entity *e;
    const json_t *items;
    const char *const *want;
    int bad;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct entity_map_opts o = {NOW_2025};
    int round;
    size_t i;

    for (round = 0; round < 300; round++) {
        for (i = 0; i < json_array_size(w->items); i++) {
            dbuf_reset(&doc);
            dbuf_reset(&id);
            if (entity_map_item(w->e, json_array_get(w->items, i), &o, &doc, &id, NULL) != DDB2ES_OK ||
                strcmp(dbuf_cstr(&doc), w->want[i]) != 0)
                w->bad++;
        }
    }
    dbuf_free(&doc);
    dbuf_free(&id);
    return NULL;
}

/* Many threads share one const entity; every result equals the single-threaded one. */
static void test_concurrent_mapping(void **state)
{
    json_t *page = tu_json_shared("reference/hackney/dynamodb/tenureinformation-scan-page.json");
    const json_t *items = json_object_get(page, "Items");
    struct entity *e = shipped("tenures");
    char *want[2];
    struct worker w[8];
    pthread_t th[8];
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
        struct entity_map_opts o = {NOW_2025};

        assert_int_equal(entity_map_item(e, json_array_get(items, i), &o, &doc, &id, NULL), DDB2ES_OK);
        want[i] = dbuf_detach(&doc);
        dbuf_free(&id);
    }
    for (i = 0; i < 8; i++) {
        w[i].e = e;
        w[i].items = items;
        w[i].want = (const char *const *)want;
        w[i].bad = 0;
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    free(want[0]);
    free(want[1]);
    entity_free(e);
    json_decref(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policies_and_types),
        cmocka_unit_test(test_all_fields_omitted),
        cmocka_unit_test(test_error_policies),
        cmocka_unit_test(test_misfit_nesting),
        cmocka_unit_test(test_misfit_large_and_binary),
        cmocka_unit_test(test_misfit_ids),
        cmocka_unit_test(test_item_version),
        cmocka_unit_test(test_tenure_active),
        cmocka_unit_test(test_concurrent_mapping),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
