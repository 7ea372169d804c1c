/* test_config.c - the environments file: valid shapes and every error path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ddb2es/config.h"

static void test_minimal(void **state)
{
    const char *t = "{\"environments\": {\"local\": {\"region\": \"eu-west-2\", \"dynamodb\": {\"endpoint\": "
                    "\"http://127.0.0.1:8000/\"}, \"elasticsearch\": {\"url\": \"http://127.0.0.1:9200\"}, "
                    "\"protected\": false}}}";
    struct ddb2es_config *cfg = NULL;
    struct ddb2es_error err;
    const struct ddb2es_env *e;

    (void)state;
    assert_int_equal(config_parse(t, strlen(t), "c.json", &cfg, &err), DDB2ES_OK);
    assert_int_equal(cfg->nenvs, 1);
    e = config_find_env(cfg, "local");
    assert_non_null(e);
    assert_string_equal(e->region, "eu-west-2");
    assert_string_equal(e->ddb_endpoint, "http://127.0.0.1:8000/");
    assert_string_equal(e->es_url, "http://127.0.0.1:9200");
    assert_string_equal(e->es_aws_service, "es");
    assert_false(e->is_protected);
    assert_null(e->account_id);
    assert_null(config_find_env(cfg, "prod"));
    config_free(cfg);
}

static void test_full(void **state)
{
    const char *t = "{\"environments\": {"
                    " \"dev\": {\"region\": \"eu-west-2\", \"account_id\": \"123456789012\", \"profile\": \"dev\","
                    "   \"elasticsearch\": {\"url\": \"https://dev-es:443\", \"urls\": [\"https://dev-es-2\"],"
                    "   \"username\": \"ops\", \"password_env\": \"ES_PW\", \"aws_sigv4\": true}},"
                    " \"prod\": {\"region\": \"eu-west-1\", \"protected\": true,"
                    "   \"elasticsearch\": {\"url\": \"https://prod-es\"}}},"
                    " \"entities_dirs\": [\"/etc/ddb2es/entities\"], \"audit_log\": \"/tmp/a.jsonl\"}";
    struct ddb2es_config *cfg = NULL;
    struct ddb2es_error err;
    const struct ddb2es_env *d, *p;

    (void)state;
    assert_int_equal(config_parse(t, strlen(t), "c.json", &cfg, &err), DDB2ES_OK);
    assert_int_equal(cfg->nenvs, 2);
    d = config_find_env(cfg, "dev");
    p = config_find_env(cfg, "prod");
    assert_string_equal(d->account_id, "123456789012");
    assert_string_equal(d->profile, "dev");
    assert_int_equal(d->n_es_urls, 1);
    assert_string_equal(d->es_urls[0], "https://dev-es-2");
    assert_string_equal(d->es_password_env, "ES_PW");
    assert_true(d->es_sigv4);
    assert_true(p->is_protected);
    assert_null(p->ddb_endpoint);
    assert_int_equal(cfg->n_entity_dirs, 1);
    assert_string_equal(cfg->audit_log, "/tmp/a.jsonl");
    config_free(cfg);
}

/* Each bad file must name the file and the JSON path of the bad value. */
static const struct {
    const char *text;
    const char *expect; /* substring of the message */
} bad_cases[] = {
    {"{", "c.json: line 1"},
    {"[]", "c.json: $: expected an object"},
    {"{}", "c.json: $.environments: expected an object with at least one environment"},
    {"{\"environments\": {}}", "$.environments: expected an object"},
    {"{\"environments\": {\"x\": 5}}", "$.environments.x: expected an object"},
    {"{\"environments\": {\"x\": {\"elasticsearch\": {\"url\": \"http://a\"}}}}",
     "$.environments.x.region: missing"},
    {"{\"environments\": {\"x\": {\"region\": 5, \"elasticsearch\": {\"url\": \"http://a\"}}}}",
     "$.environments.x.region: expected a string"},
    {"{\"environments\": {\"x\": {\"region\": \"r\"}}}", "$.environments.x.elasticsearch: missing"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"elasticsearch\": {}}}}",
     "$.environments.x.elasticsearch.url: missing"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"elasticsearch\": {\"url\": \"ftp://a\"}}}}",
     "$.environments.x.elasticsearch.url: must be an http"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"protected\": \"yes\", \"elasticsearch\": {\"url\": "
     "\"http://a\"}}}}",
     "$.environments.x.protected: expected true or false"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"protekted\": true, \"elasticsearch\": {\"url\": "
     "\"http://a\"}}}}",
     "$.environments.x.protekted: unknown setting"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"account_id\": \"12\", \"elasticsearch\": {\"url\": "
     "\"http://a\"}}}}",
     "$.environments.x.account_id: expected a 12-digit"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"dynamodb\": {\"endpoint\": \"localhost:8000\"}, "
     "\"elasticsearch\": {\"url\": \"http://a\"}}}}",
     "$.environments.x.dynamodb.endpoint: must be an http"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"elasticsearch\": {\"url\": \"https://u:secret@a\"}}}}",
     "$.environments.x.elasticsearch.url: must be an http"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"elasticsearch\": {\"url\": \"http://a\", \"urls\": [1]}}}}",
     "$.environments.x.elasticsearch.urls[0]: expected an http"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"elasticsearch\": {\"url\": \"http://a\"}}}, "
     "\"entities_dirs\": \"d\"}",
     "$.entities_dirs: expected a list"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"elasticsearch\": {\"url\": \"http://a\"}}}, \"extra\": 1}",
     "$.extra: unknown setting"},
    {"{\"environments\": {\"x\": {\"region\": \"r\", \"elasticsearch\": {\"url\": \"http://a\"}}, "
     "\"x\": {\"region\": \"r\", \"elasticsearch\": {\"url\": \"http://a\"}}}}",
     "duplicate"},
};

static void test_bad_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct ddb2es_config *cfg = (struct ddb2es_config *)1;
        struct ddb2es_error err;
        int rc;
        ddb2es_error_clear(&err);
        rc = config_parse(bad_cases[i].text, strlen(bad_cases[i].text), "c.json", &cfg, &err);
        if (rc != DDB2ES_E_CONFIG || !strstr(err.message, bad_cases[i].expect) || cfg != NULL)
            fail_msg("case %zu: rc %d, message '%s', expected '%s'", i, rc, err.message, bad_cases[i].expect);
    }
}

static void test_missing_file(void **state)
{
    struct ddb2es_config *cfg = NULL;
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(config_load_file("/nonexistent/ddb2es.json", &cfg, &err), DDB2ES_E_CONFIG);
    assert_non_null(strstr(err.message, "/nonexistent/ddb2es.json"));
    assert_non_null(strstr(err.message, "--config"));
    assert_null(cfg);
}

struct envtab {
    const char *k[4];
    const char *v[4];
};

static const char *tab_getenv(void *ctx, const char *name)
{
    struct envtab *t = ctx;
    for (int i = 0; i < 4 && t->k[i]; i++)
        if (strcmp(t->k[i], name) == 0)
            return t->v[i];
    return NULL;
}

static void test_locate(void **state)
{
    char out[256];
    struct ddb2es_error err;
    struct envtab a = {{"DDB2ES_CONFIG", "HOME"}, {"/x/c.json", "/home/u"}};
    struct envtab b = {{"XDG_CONFIG_HOME", "HOME"}, {"/xdg", "/home/u"}};
    struct envtab c = {{"HOME"}, {"/home/u"}};
    struct envtab d = {{NULL}, {NULL}};

    (void)state;
    assert_int_equal(config_locate("/cli.json", tab_getenv, &a, out, sizeof(out), &err), 0);
    assert_string_equal(out, "/cli.json");
    assert_int_equal(config_locate(NULL, tab_getenv, &a, out, sizeof(out), &err), 0);
    assert_string_equal(out, "/x/c.json");
    assert_int_equal(config_locate(NULL, tab_getenv, &b, out, sizeof(out), &err), 0);
    assert_string_equal(out, "/xdg/ddb2es/config.json");
    assert_int_equal(config_locate(NULL, tab_getenv, &c, out, sizeof(out), &err), 0);
    assert_string_equal(out, "/home/u/.config/ddb2es/config.json");
    assert_int_equal(config_locate(NULL, tab_getenv, &d, out, sizeof(out), &err), DDB2ES_E_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal), cmocka_unit_test(test_full), cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_missing_file), cmocka_unit_test(test_locate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
