/* test_legacy.c - the old system's event and environment variables; the audit log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddb2es/audit.h"
#include "ddb2es/legacy.h"

static void test_event(void **state)
{
    const char *ok = "{\"dynamoTable\":\"Persons\",\"indexNodeHost\":\"https://search.example\",\"indexName\":\"persons\"}";
    struct legacy_request r;
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(legacy_parse_event(ok, strlen(ok), "e.json", &r, &err), 0);
    assert_string_equal(r.table, "Persons");
    assert_string_equal(r.es_host, "https://search.example");
    assert_string_equal(r.index, "persons");
    legacy_request_free(&r);
}

static void test_bad_events(void **state)
{
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {"", "event e.json: line"},
        {"[1]", "expected {"},
        {"{\"indexNodeHost\":\"h\",\"indexName\":\"i\"}", "$.dynamoTable: missing"},
        {"{\"dynamoTable\":5,\"indexNodeHost\":\"h\",\"indexName\":\"i\"}", "$.dynamoTable: expected a non-empty"},
        {"{\"dynamoTable\":\"t\",\"indexNodeHost\":\"\",\"indexName\":\"i\"}", "$.indexNodeHost: expected"},
        {"{\"dynamoTable\":\"t\",\"indexNodeHost\":\"h\"}", "$.indexName: missing"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct legacy_request r;
        struct ddb2es_error err;
        int rc = legacy_parse_event(cases[i].text, strlen(cases[i].text), "e.json", &r, &err);
        if (rc != DDB2ES_E_USAGE || !strstr(err.message, cases[i].expect))
            fail_msg("case %zu: %d '%s'", i, rc, err.message);
        assert_null(r.table);
    }
}

struct envtab {
    const char *k[3], *v[3];
};

static const char *tab_getenv(void *ctx, const char *name)
{
    struct envtab *t = ctx;
    for (int i = 0; i < 3; i++)
        if (t->k[i] && strcmp(t->k[i], name) == 0)
            return t->v[i];
    return NULL;
}

static void test_env_vars(void **state)
{
    struct envtab all = {{"DYNAMODB_TABLE", "ELASTICSEARCH_HOST", "ELASTICSEARCH_INDEX"}, {"Assets", "h", "assets"}};
    struct envtab some = {{"DYNAMODB_TABLE", "ELASTICSEARCH_INDEX"}, {"Assets", "assets"}};
    struct envtab none = {{NULL}, {NULL}};
    struct legacy_request r;
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(legacy_from_env(tab_getenv, &all, &r, &err), 0);
    assert_string_equal(r.table, "Assets");
    assert_string_equal(r.index, "assets");
    legacy_request_free(&r);
    assert_int_equal(legacy_from_env(tab_getenv, &none, &r, &err), DDB2ES_E_NOTFOUND);
    assert_int_equal(legacy_from_env(tab_getenv, &some, &r, &err), DDB2ES_E_USAGE);
    assert_non_null(strstr(err.message, "ELASTICSEARCH_HOST is not set"));
}

static void test_audit(void **state)
{
    char dir[] = "/tmp/ddb2es-audit-XXXXXX";
    char path[256], line[1024];
    json_t *f = json_pack("{s:s, s:s, s:i}", "environment", "dev", "mode", "sync", "indexed", 42);
    struct ddb2es_error err;
    FILE *fp;
    int lines = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/nested/dir/audit.jsonl", dir);
    assert_int_equal(audit_append(path, f, &err), 0);
    assert_int_equal(audit_append(path, f, &err), 0);
    fp = fopen(path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        json_t *rec = json_loads(line, 0, NULL);
        assert_non_null(rec);
        assert_string_equal(json_string_value(json_object_get(rec, "environment")), "dev");
        assert_int_equal(json_integer_value(json_object_get(rec, "indexed")), 42);
        assert_non_null(json_object_get(rec, "time"));
        assert_non_null(json_object_get(rec, "user"));
        json_decref(rec);
        lines++;
    }
    fclose(fp);
    assert_int_equal(lines, 2);
    json_decref(f);
    unlink(path);
    snprintf(path, sizeof(path), "%s/nested/dir", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/nested", dir);
    rmdir(path);
    rmdir(dir);
}

static void test_audit_default_path(void **state)
{
    struct envtab x = {{"XDG_STATE_HOME", "HOME"}, {"/state", "/home/u"}};
    struct envtab h = {{"HOME"}, {"/home/u"}};
    char out[256];

    (void)state;
    assert_int_equal(audit_default_path(tab_getenv, &x, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "/state/ddb2es/audit.jsonl");
    assert_int_equal(audit_default_path(tab_getenv, &h, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "/home/u/.local/state/ddb2es/audit.jsonl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event), cmocka_unit_test(test_bad_events), cmocka_unit_test(test_env_vars),
        cmocka_unit_test(test_audit), cmocka_unit_test(test_audit_default_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
