/* test_guard.c - the environment guard: URLs, accounts, protected confirmation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ddb2es/guard.h"

static const char cfg_text[] =
    "{\"environments\": {"
    " \"dev\": {\"region\": \"eu-west-2\", \"account_id\": \"111122223333\","
    "   \"elasticsearch\": {\"url\": \"https://Dev-ES.example:443/\", \"urls\": [\"http://10.0.0.5:9200/prefix\"]}},"
    " \"prod\": {\"region\": \"eu-west-2\", \"account_id\": \"444455556666\", \"protected\": true,"
    "   \"elasticsearch\": {\"url\": \"https://prod-es.example\"}},"
    " \"local\": {\"region\": \"eu-west-2\", \"elasticsearch\": {\"url\": \"http://127.0.0.1:9200\"}}}}";

static struct ddb2es_config *load(void)
{
    struct ddb2es_config *cfg = NULL;
    struct ddb2es_error err;

    assert_int_equal(config_parse(cfg_text, strlen(cfg_text), "g.json", &cfg, &err), 0);
    return cfg;
}

static void test_normalise(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"https://Dev-ES.example/", "https://dev-es.example:443"},
        {"https://dev-es.example:443", "https://dev-es.example:443"},
        {"http://h", "http://h:80"},
        {"search-x.eu-west-2.es.amazonaws.com", "https://search-x.eu-west-2.es.amazonaws.com:443"},
        {"http://h:9200/prefix//", "http://h:9200/prefix"},
        {"http://h:9200/p?x=1", "http://h:9200/p"},
    };
    char out[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(guard_normalise_url(cases[i].in, out, sizeof(out), NULL), 0);
        assert_string_equal(out, cases[i].out);
    }
    assert_int_equal(guard_normalise_url("ftp://x", out, sizeof(out), NULL), DDB2ES_E_USAGE);
}

static void test_owned(void **state)
{
    struct ddb2es_config *cfg = load();
    const struct ddb2es_env *dev = config_find_env(cfg, "dev");

    (void)state;
    assert_true(guard_url_owned(dev, "https://dev-es.example"));
    assert_true(guard_url_owned(dev, "dev-es.example"));
    assert_true(guard_url_owned(dev, "http://10.0.0.5:9200/prefix"));
    assert_true(guard_url_owned(dev, "http://10.0.0.5:9200/prefix/"));
    assert_false(guard_url_owned(dev, "http://10.0.0.5:9200/prefixed"));
    assert_false(guard_url_owned(dev, "http://10.0.0.5:9200"));
    assert_false(guard_url_owned(dev, "https://prod-es.example"));
    assert_false(guard_url_owned(dev, "http://dev-es.example")); /* scheme matters */
    assert_false(guard_url_owned(dev, "https://dev-es.example:9200"));
    assert_string_equal(guard_env_for_url(cfg, "https://PROD-es.example/")->name, "prod");
    assert_string_equal(guard_env_for_url(cfg, "http://127.0.0.1:9200")->name, "local");
    assert_null(guard_env_for_url(cfg, "http://127.0.0.1:9201"));
    config_free(cfg);
}

static void test_check(void **state)
{
    struct ddb2es_config *cfg = load();
    const struct ddb2es_env *dev = config_find_env(cfg, "dev");
    const struct ddb2es_env *local = config_find_env(cfg, "local");
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(guard_check(dev, "arn:aws:dynamodb:eu-west-2:111122223333:table/Persons",
                                 "https://dev-es.example", &err), 0);
    /* dev data never reaches the production cluster */
    assert_int_equal(guard_check(dev, "arn:aws:dynamodb:eu-west-2:111122223333:table/Persons",
                                 "https://prod-es.example", &err), DDB2ES_E_GUARD);
    assert_non_null(strstr(err.message, "not a cluster of environment 'dev'"));
    /* a table of another account (credentials of the wrong environment) */
    assert_int_equal(guard_check(dev, "arn:aws:dynamodb:eu-west-2:444455556666:table/Persons",
                                 "https://dev-es.example", &err), DDB2ES_E_GUARD);
    assert_non_null(strstr(err.message, "account 444455556666"));
    assert_non_null(strstr(err.message, "111122223333"));
    /* no account named: only the URL is checked */
    assert_int_equal(guard_check(local, "arn:aws:dynamodb:ddblocal:000000000000:table/Persons",
                                 "http://127.0.0.1:9200", &err), 0);
    config_free(cfg);
}

static void test_confirm(void **state)
{
    struct ddb2es_config *cfg = load();
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(guard_confirm(config_find_env(cfg, "dev"), NULL, &err), 0);
    assert_int_equal(guard_confirm(config_find_env(cfg, "prod"), NULL, &err), DDB2ES_E_GUARD);
    assert_non_null(strstr(err.message, "--confirm prod"));
    assert_int_equal(guard_confirm(config_find_env(cfg, "prod"), "dev", &err), DDB2ES_E_GUARD);
    assert_int_equal(guard_confirm(config_find_env(cfg, "prod"), "Prod", &err), DDB2ES_E_GUARD);
    assert_int_equal(guard_confirm(config_find_env(cfg, "prod"), "prod", &err), 0);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise), cmocka_unit_test(test_owned), cmocka_unit_test(test_check),
        cmocka_unit_test(test_confirm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
