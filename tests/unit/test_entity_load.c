/* test_entity_load.c - loading entity files: every kind of mistake named
 * with the file and the JSON path, duplicate keys, and nesting deeper than
 * an item can be. */
#include <string.h>

#include "ddb2es/ddbjson.h"
#include "entity_test_util.h"

#define HEAD "\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i.json\""

static void test_loader_errors(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"{", "test.json:1:1: not valid JSON: "},
        {"[]", "test.json: $: expected an object, got an array"},
        {"{\"nmae\":\"x\"}", "test.json: $.nmae: unknown key (allowed here: name, description, "
                             "comment, tables, id, version, index, fields)"},
        {"{\"tables\":[\"Tab\"]}", "test.json: $.name: missing (expected a string)"},
        {"{\"name\":\"a b\"}", "test.json: $.name: \"a b\" is not a valid name"},
        {"{\"name\":5}", "test.json: $.name: expected a string, got a number"},
        {"{\"name\":\"x\"}", "test.json: $.tables: missing"},
        {"{\"name\":\"x\",\"tables\":[]}", "test.json: $.tables: expected a non-empty array"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\",7]}", "test.json: $.tables[1]: expected a string, got a number"},
        {"{\"name\":\"x\",\"tables\":[\"ab\"]}", "test.json: $.tables[0]: \"ab\" is not a DynamoDB table name"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"]}", "test.json: $.id: missing (expected a string)"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":[]}", "test.json: $.id: expected a string, got an array"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"\"}", "test.json: $.id: expected a non-empty string"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"id\",\"version\":1}", "test.json: $.version: expected a string, got a number"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"id\"}", "test.json: $.index: missing"},
        {"{" HEAD "}", "test.json: $.fields: missing"},
        {"{" HEAD ",\"fields\":[]}", "test.json: $.fields: expected an object of field name -> field, got an array"},
        {"{" HEAD ",\"fields\":{}}", "test.json: $.fields: expected at least one field"},
        {"{" HEAD ",\"description\":3,\"fields\":{}}", "test.json: $.description: expected a string, got a number"},
        {"{" HEAD ",\"fields\":{\"x\":\"id\"}}", "test.json: $.fields.x: expected an object describing the field, got a string"},
        {"{" HEAD ",\"fields\":{\"x\":{\"form\":\"id\"}}}", "test.json: $.fields.x.form: unknown key (allowed here: from, type"},
        {"{" HEAD ",\"fields\":{\"x\":{}}}", "test.json: $.fields.x.from: missing (every field needs"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":5}}}", "test.json: $.fields.x.from: expected a string or an array of strings, got a number"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a..b\"}}}", "test.json: $.fields.x.from: empty segment in attribute path \"a..b\""},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"\"}}}", "test.json: $.fields.x.from: expected a non-empty attribute path"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":[\"a\",\"\"]}}}", "test.json: $.fields.x.from[1]: expected a non-empty string"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":[]}}}", "test.json: $.fields.x.from: expected a non-empty array"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"type\":\"text\"}}}", "test.json: $.fields.x.type: unknown type \"text\""},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"missing\":\"blank\"}}}", "test.json: $.fields.x.missing: unknown policy \"blank\""},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"null\":null}}}", "test.json: $.fields.x.null: expected a string, got null"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"missing\":\"default\"}}}", "test.json: $.fields.x.default: missing (a policy says \"default\")"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"default\":\"\"}}}", "test.json: $.fields.x.default: given but no policy uses it"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"type\":\"object\"}}}", "test.json: $.fields.x.fields: missing (an object field needs its member fields)"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"type\":\"list\",\"fields\":{}}}}", "test.json: $.fields.x.fields: expected at least one field"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"fields\":{\"y\":{\"from\":\"b\"}}}}}", "test.json: $.fields.x.fields: only object and list fields have member fields"},
        {"{" HEAD ",\"fields\":{\"x\":{\"const\":1,\"from\":\"a\"}}}", "test.json: $.fields.x.from: unknown key (allowed here: a \"const\" field takes only const and comment)"},
        {"{" HEAD ",\"fields\":{\"x\":{\"compute\":\"tenure_active\"}}}", "test.json: $.fields.x.from: missing"},
        {"{" HEAD ",\"fields\":{\"x\":{\"compute\":\"age\",\"from\":\"a\"}}}", "test.json: $.fields.x.compute: unknown computation \"age\""},
        {"{" HEAD ",\"fields\":{\"x\":{\"compute\":true,\"from\":\"a\"}}}", "test.json: $.fields.x.compute: expected a string, got a boolean"},
        {"{" HEAD ",\"fields\":{\"x\":{\"compute\":\"tenure_active\",\"from\":\"a\",\"type\":\"string\"}}}", "test.json: $.fields.x.type: unknown key"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"comment\":1}}}", "test.json: $.fields.x.comment: expected a string, got a number"},
        {"{" HEAD ",\"fields\":{\"a.b\":{\"from\":1}}}", "test.json: $.fields[\"a.b\"].from: expected a string or an array of strings"},
        {"{" HEAD ",\"fields\":{\"\":{\"from\":\"a\"}}}", "test.json: $.fields[\"\"]: empty field name"},
        {"{" HEAD ",\"fields\":{\"tenures\":{\"from\":\"tenures\",\"type\":\"list\",\"fields\":{\"id\":{\"from\":\"id\"},\"uprn\":{\"from\":[1]}}}}}",
         "test.json: $.fields.tenures.fields.uprn.from[0]: expected a non-empty string"},
        {"{" HEAD ",\"fields\":{\"tenures\":{\"from\":\"tenures\",\"type\":\"list\",\"fields\":{\"id\":{\"from\":\"id\"},\"uprn\":{\"from\":true}}}}}",
         "test.json: $.fields.tenures.fields.uprn.from: expected a string or an array of strings, got a boolean"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\"},\"x\":{\"from\":\"b\"}}}", "test.json:1:"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct entity *e = (struct entity *)&e;
        struct ddb2es_error err;
        int rc = entity_load_buffer(cases[i].text, strlen(cases[i].text), "test.json", &e, &err);

        if (rc == DDB2ES_OK)
            fail_msg("case %zu accepted: %s", i, cases[i].text);
        assert_int_equal(rc, DDB2ES_E_CONFIG);
        assert_int_equal(err.status, DDB2ES_E_CONFIG);
        assert_null(e);
        if (strncmp(err.message, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu:\n got  %s\n want %s...", i, err.message, cases[i].msg);
    }
}

static void test_loader_duplicate_key_named(void **state)
{
    const char *t = "{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\"},\"x\":{\"from\":\"b\"}}}";
    struct entity *e;
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(entity_load_buffer(t, strlen(t), NULL, &e, &err), DDB2ES_E_CONFIG);
    assert_non_null(strstr(err.message, "(memory):1:"));
    assert_non_null(strstr(err.message, "duplicate object key"));
}

/* Nesting deeper than an item can be is refused at load time. */
static void test_loader_depth(void **state)
{
    struct dbuf t = DBUF_INIT;
    struct entity *e;
    struct ddb2es_error err;
    int i;

    (void)state;
    /* 32 nested object fields reach level 32: fine. */
    dbuf_puts(&t, "{" HEAD ",\"fields\":");
    for (i = 0; i < DDBJSON_MAX_DEPTH - 1; i++)
        dbuf_puts(&t, "{\"o\":{\"from\":\"o\",\"type\":\"object\",\"fields\":");
    dbuf_puts(&t, "{\"leaf\":{\"from\":\"leaf\"}}");
    for (i = 0; i < DDBJSON_MAX_DEPTH - 1; i++)
        dbuf_puts(&t, "}}");
    dbuf_puts(&t, "}");
    assert_int_equal(entity_load_buffer(t.data, t.len, "deep.json", &e, &err), DDB2ES_OK);
    entity_free(e);
    dbuf_reset(&t);
    /* One more is refused. */
    dbuf_puts(&t, "{" HEAD ",\"fields\":");
    for (i = 0; i < DDBJSON_MAX_DEPTH; i++)
        dbuf_puts(&t, "{\"o\":{\"from\":\"o\",\"type\":\"object\",\"fields\":");
    dbuf_puts(&t, "{\"leaf\":{\"from\":\"leaf\"}}");
    for (i = 0; i < DDBJSON_MAX_DEPTH; i++)
        dbuf_puts(&t, "}}");
    dbuf_puts(&t, "}");
    assert_int_equal(entity_load_buffer(t.data, t.len, "deep.json", &e, &err), DDB2ES_E_CONFIG);
    assert_non_null(strstr(err.message, "deep.json: $.fields.o.fields.o"));
    assert_non_null(strstr(err.message, "nested deeper than an item can be (32 levels)"));
    /* A dotted path counts each segment. */
    dbuf_reset(&t);
    dbuf_puts(&t, "{" HEAD ",\"fields\":{\"x\":{\"from\":\"");
    for (i = 0; i < DDBJSON_MAX_DEPTH + 1; i++)
        dbuf_puts(&t, i ? ".a" : "a");
    dbuf_puts(&t, "\"}}}");
    assert_int_equal(entity_load_buffer(t.data, t.len, "deep.json", &e, &err), DDB2ES_E_CONFIG);
    assert_non_null(strstr(err.message, "$.fields.x.from: more than 32 path segments"));
    dbuf_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader_errors),
        cmocka_unit_test(test_loader_duplicate_key_named),
        cmocka_unit_test(test_loader_depth),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
