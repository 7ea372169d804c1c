/*
 * test_credentials.c - AWS credentials and region resolution: the environment through a
 * table-driven lookup (the process environment is never touched), the shared credentials
 * and config files written to temporary files (mkstemp/mkdtemp) that are removed at the
 * end, even when a test fails. Every message is checked for the secrets the files held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ddb2es/credentials.h"

#define SECRET1 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SECRET2 "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
#define TOKEN1 "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCWV1LXdlc3QtMiJHMEUCIQ=="

/* ---- environment table ---------------------------------------------------------------------- */

struct env_table {
    const char *name[16];
    const char *value[16];
    size_t n;
};

static const char *table_getenv(void *ctx, const char *name)
{
    const struct env_table *t = ctx;
    size_t i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->name[i], name) == 0)
            return t->value[i];
    return NULL;
}

static void env_set(struct env_table *t, const char *name, const char *value)
{
    assert_true(t->n < 16);
    t->name[t->n] = name;
    t->value[t->n] = value;
    t->n++;
}

/* ---- temporary files, removed in the group teardown ----------------------------------------- */

static char tmp_paths[64][1024];
static int tmp_is_dir[64];
static size_t ntmp;
static char tmp_root[256];

static const char *remember(const char *path, int is_dir)
{
    assert_true(ntmp < 64);
    snprintf(tmp_paths[ntmp], sizeof(tmp_paths[ntmp]), "%s", path);
    tmp_is_dir[ntmp] = is_dir;
    return tmp_paths[ntmp++];
}

/* Writes `content` to a new file under the temporary root; returns its path. */
static const char *temp_file(const char *content)
{
    char path[512];
    size_t len = strlen(content);
    int fd;

    snprintf(path, sizeof(path), "%s/awsXXXXXX", tmp_root);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    return remember(path, 0);
}

/* Writes `content` to dir/name (dir must exist); returns its path. */
static const char *named_file(const char *dir, const char *name, const char *content)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(content, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return remember(path, 0);
}

static const char *temp_dir(void)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/homeXXXXXX", tmp_root);
    assert_non_null(mkdtemp(path));
    return remember(path, 1);
}

static int group_setup(void **state)
{
    const char *base = getenv("TMPDIR");

    (void)state;
    snprintf(tmp_root, sizeof(tmp_root), "%s/ddb2es-creds-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int group_teardown(void **state)
{
    size_t i;

    (void)state;
    /* newest first, so files go before the directories that hold them */
    for (i = ntmp; i-- > 0;) {
        if (tmp_is_dir[i])
            rmdir(tmp_paths[i]);
        else
            unlink(tmp_paths[i]);
    }
    return rmdir(tmp_root) == 0 ? 0 : -1;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static void assert_no_secrets(const char *msg)
{
    static const char *const secrets[] = {SECRET1, SECRET2, TOKEN1, "wJalr", "je7Mt", "IQoJb3"};
    size_t i;

    for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (strstr(msg, secrets[i]))
            fail_msg("a secret leaked into: %s", msg);
}

/* Resolves and expects success; returns the credentials (caller frees). */
static struct aws_credentials *resolve_ok(struct env_table *t, const char *profile)
{
    struct aws_credentials *c = (struct aws_credentials *)1;
    struct ddb2es_error err;
    int rc;

    ddb2es_error_clear(&err);
    rc = aws_credentials_resolve(table_getenv, t, profile, &c, &err);
    if (rc)
        fail_msg("resolve failed (%s): %s", ddb2es_status_name(rc), err.message);
    assert_non_null(c);
    assert_no_secrets(c->source);
    return c;
}

/* Resolves and expects `status`; the message is returned in err. */
static void resolve_fails(struct env_table *t, const char *profile, int status, struct ddb2es_error *err)
{
    struct aws_credentials *c = (struct aws_credentials *)1;
    int rc;

    ddb2es_error_clear(err);
    rc = aws_credentials_resolve(table_getenv, t, profile, &c, err);
    if (rc != status)
        fail_msg("expected %s, got %s: %s", ddb2es_status_name(status), ddb2es_status_name(rc), err->message);
    assert_null(c);
    assert_int_equal(err->status, status);
    assert_true(strlen(err->message) > 20);
    assert_no_secrets(err->message);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' not found in: %s", needle, hay);
}

static const char *missing_path(void)
{
    static char p[600];

    snprintf(p, sizeof(p), "%s/does-not-exist", tmp_root);
    return p;
}

/* ---- credentials ---------------------------------------------------------------------------- */

static void test_env_keys(void **state)
{
    struct env_table t = {0};
    struct aws_credentials *c;

    (void)state;
    env_set(&t, "AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE");
    env_set(&t, "AWS_SECRET_ACCESS_KEY", SECRET1);
    env_set(&t, "AWS_SESSION_TOKEN", TOKEN1);
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", missing_path());
    env_set(&t, "AWS_CONFIG_FILE", missing_path());
    c = resolve_ok(&t, NULL);
    assert_string_equal(c->access_key_id, "AKIAENVEXAMPLE");
    assert_string_equal(c->secret_access_key, SECRET1);
    assert_string_equal(c->session_token, TOKEN1);
    assert_string_equal(c->source, "environment");
    aws_credentials_free(c);

    /* an empty token is no token */
    t.value[2] = "";
    c = resolve_ok(&t, NULL);
    assert_null(c->session_token);
    aws_credentials_free(c);
}

static void test_env_partial(void **state)
{
    struct env_table t = {0};
    struct ddb2es_error err;

    (void)state;
    env_set(&t, "AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE");
    resolve_fails(&t, NULL, DDB2ES_E_AUTH, &err);
    assert_contains(err.message, "AWS_SECRET_ACCESS_KEY is not");

    t.n = 0;
    env_set(&t, "AWS_SECRET_ACCESS_KEY", SECRET1);
    resolve_fails(&t, NULL, DDB2ES_E_AUTH, &err);
    assert_contains(err.message, "AWS_ACCESS_KEY_ID is not");
}

static const char creds_file[] =
    "\xEF\xBB\xBF# shared credentials\r\n"
    "[default]\r\n"
    "aws_access_key_id = AKIADEFAULT\r\n"
    "aws_secret_access_key = " SECRET2 "\r\n"
    "\r\n"
    "; the dev account\n"
    "  [ dev ]   # comment after the section\n"
    "\tAWS_ACCESS_KEY_ID=AKIADEV   \n"
    "aws_secret_access_key:" SECRET1 " # rotated in May\n"
    "aws_session_token =  " TOKEN1 "\n"
    "  continued = not a setting of ours\n"
    "[dev-other]\n"
    "aws_access_key_id = AKIAOTHER\n"
    "aws_secret_access_key = " SECRET2 "\n";

static void test_credentials_file(void **state)
{
    struct env_table t = {0};
    struct aws_credentials *c;
    const char *path = temp_file(creds_file);
    char want[128];

    (void)state;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", path);
    env_set(&t, "AWS_CONFIG_FILE", missing_path());
    env_set(&t, "AWS_PROFILE", "dev");
    c = resolve_ok(&t, NULL);
    assert_string_equal(c->access_key_id, "AKIADEV");
    assert_string_equal(c->secret_access_key, SECRET1);
    assert_string_equal(c->session_token, TOKEN1);
    snprintf(want, sizeof(want), "profile 'dev' (%s)", path);
    assert_string_equal(c->source, want);
    aws_credentials_free(c);

    /* no AWS_PROFILE: [default] (despite the BOM and CRLF) */
    t.n = 2;
    c = resolve_ok(&t, NULL);
    assert_string_equal(c->access_key_id, "AKIADEFAULT");
    assert_string_equal(c->secret_access_key, SECRET2);
    assert_null(c->session_token);
    aws_credentials_free(c);

    /* an explicit profile beats AWS_PROFILE and keys in the environment */
    env_set(&t, "AWS_PROFILE", "dev");
    env_set(&t, "AWS_ACCESS_KEY_ID", "AKIAENV");
    env_set(&t, "AWS_SECRET_ACCESS_KEY", "envsecret");
    c = resolve_ok(&t, "dev-other");
    assert_string_equal(c->access_key_id, "AKIAOTHER");
    aws_credentials_free(c);
    /* ...while without one the environment wins */
    c = resolve_ok(&t, NULL);
    assert_string_equal(c->access_key_id, "AKIAENV");
    assert_string_equal(c->source, "environment");
    aws_credentials_free(c);
}

static const char config_file[] =
    "[default]\n"
    "region = eu-west-2\n"
    "aws_access_key_id = AKIACFGDEFAULT\n"
    "aws_secret_access_key = " SECRET2 "\n"
    "[ci]\n"
    "# not a profile in the config file: sections there are [profile NAME]\n"
    "aws_access_key_id = AKIAWRONG\n"
    "aws_secret_access_key = " SECRET2 "\n"
    "[profile   ci]\n"
    "region = eu-west-1 ; Ireland\n"
    "s3 =\n"
    "  max_concurrent_requests = 20\n"
    "  aws_access_key_id = AKIANESTED\n"
    "aws_access_key_id = AKIACI\n"
    "aws_secret_access_key = " SECRET1 "\n"
    "[sso-session corp]\n"
    "sso_start_url = https://corp.awsapps.com/start\n";

static void test_config_file(void **state)
{
    struct env_table t = {0};
    struct aws_credentials *c;
    const char *path = temp_file(config_file);

    (void)state;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", missing_path());
    env_set(&t, "AWS_CONFIG_FILE", path);
    c = resolve_ok(&t, "ci");
    assert_string_equal(c->access_key_id, "AKIACI");
    assert_string_equal(c->secret_access_key, SECRET1);
    aws_credentials_free(c);
    c = resolve_ok(&t, NULL);
    assert_string_equal(c->access_key_id, "AKIACFGDEFAULT");
    aws_credentials_free(c);
}

/* Keys come as a pair from the first file whose section has both. */
static void test_file_precedence(void **state)
{
    struct env_table t = {0};
    struct aws_credentials *c;
    const char *cred = temp_file("[ci]\naws_access_key_id = AKIAFROMCREDS\naws_secret_access_key = " SECRET2
                                 "\n[default]\nregion = us-east-1\n");
    const char *conf = temp_file(config_file);

    (void)state;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", cred);
    env_set(&t, "AWS_CONFIG_FILE", conf);
    c = resolve_ok(&t, "ci");
    assert_string_equal(c->access_key_id, "AKIAFROMCREDS");
    assert_string_equal(c->secret_access_key, SECRET2);
    aws_credentials_free(c);
    /* [default] of the credentials file has no keys: the config file's are used */
    c = resolve_ok(&t, "default");
    assert_string_equal(c->access_key_id, "AKIACFGDEFAULT");
    aws_credentials_free(c);
}

static void test_home_files(void **state)
{
    struct env_table t = {0};
    struct aws_credentials *c;
    const char *home = temp_dir();
    char aws[600], want[700];

    (void)state;
    snprintf(aws, sizeof(aws), "%s/.aws", home);
    assert_int_equal(mkdir(aws, 0700), 0);
    remember(aws, 1);
    named_file(aws, "credentials", "[dev]\naws_access_key_id = AKIAHOME\naws_secret_access_key = " SECRET1 "\n");
    named_file(aws, "config", "[profile dev]\nregion = ap-southeast-2\n");
    env_set(&t, "HOME", home);
    env_set(&t, "AWS_PROFILE", "dev");
    c = resolve_ok(&t, NULL);
    assert_string_equal(c->access_key_id, "AKIAHOME");
    snprintf(want, sizeof(want), "profile 'dev' (%s/credentials)", aws);
    assert_string_equal(c->source, want);
    aws_credentials_free(c);

    /* "~/" in the variables means HOME */
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
    c = resolve_ok(&t, NULL);
    assert_string_equal(c->access_key_id, "AKIAHOME");
    aws_credentials_free(c);
}

static void test_not_found(void **state)
{
    struct env_table t = {0};
    struct ddb2es_error err;
    const char *conf = temp_file(config_file);
    const char *cred = temp_file("[prod]\nregion = eu-west-2\n");

    (void)state;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", cred);
    env_set(&t, "AWS_CONFIG_FILE", conf);
    env_set(&t, "AWS_PROFILE", "nosuch");
    resolve_fails(&t, NULL, DDB2ES_E_AUTH, &err);
    assert_contains(err.message, "profile 'nosuch'");
    assert_contains(err.message, "the environment (AWS_ACCESS_KEY_ID not set)");
    assert_contains(err.message, cred);
    assert_contains(err.message, "no [nosuch] section");
    assert_contains(err.message, conf);
    assert_contains(err.message, "no [profile nosuch] section");

    /* a section without keys, files missing, HOME unset */
    resolve_fails(&t, "prod", DDB2ES_E_AUTH, &err);
    assert_contains(err.message, "[prod] has no aws_access_key_id");
    assert_contains(err.message, "not the environment");
    t.n = 0;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", missing_path());
    resolve_fails(&t, NULL, DDB2ES_E_AUTH, &err);
    assert_contains(err.message, "does-not-exist (no such file)");
    assert_contains(err.message, "~/.aws/config (HOME not set)");
}

/* A malformed line is refused with file and line, and the line (a secret here) not shown. */
static void test_malformed_line_hides_secret(void **state)
{
    static const struct {
        const char *content;
        const char *line; /* ":N:" expected in the message */
    } t[] = {
        {"[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key " SECRET1 "\n", ":3:"},
        {"[other]\nregion = eu-west-2\n" SECRET1 "\n[dev]\n", ":3:"},
        {"aws_secret_access_key = " SECRET1 "\n[dev]\n", ":1:"},
        {"# ok\n[dev\naws_secret_access_key = " SECRET1 "\n", ":2:"},
        {"[dev] " SECRET1 "\n", ":1:"},
        {"[dev]\n= " SECRET1 "\n", ":2:"},
        {"[ ]\n", ":1:"},
    };
    struct env_table e = {0};
    struct ddb2es_error err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char *path = temp_file(t[i].content);
        char want[600];

        e.n = 0;
        env_set(&e, "AWS_SHARED_CREDENTIALS_FILE", path);
        env_set(&e, "AWS_CONFIG_FILE", missing_path());
        env_set(&e, "AWS_PROFILE", "dev");
        resolve_fails(&e, NULL, DDB2ES_E_CONFIG, &err);
        snprintf(want, sizeof(want), "%s%s", path, t[i].line);
        assert_contains(err.message, want);
        assert_null(strstr(err.message, SECRET1));

        /* the region resolver reads the same files and refuses them the same way */
        e.n = 1;
        env_set(&e, "AWS_CONFIG_FILE", path);
        {
            char region[32];
            ddb2es_error_clear(&err);
            assert_int_equal(aws_region_resolve(table_getenv, &e, "dev", NULL, region, sizeof(region), &err),
                             DDB2ES_E_CONFIG);
            assert_contains(err.message, want);
            assert_no_secrets(err.message);
        }
    }
}

static void test_incomplete_profile(void **state)
{
    struct env_table t = {0};
    struct ddb2es_error err;
    char want[600];
    const char *path =
        temp_file("[a]\naws_access_key_id = AKIAHALF\n[b]\n\naws_secret_access_key = " SECRET1 "\n");

    (void)state;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", path);
    env_set(&t, "AWS_CONFIG_FILE", missing_path());
    resolve_fails(&t, "a", DDB2ES_E_AUTH, &err);
    snprintf(want, sizeof(want), "%s:2: profile 'a' has aws_access_key_id but no aws_secret_access_key", path);
    assert_contains(err.message, want);
    resolve_fails(&t, "b", DDB2ES_E_AUTH, &err);
    snprintf(want, sizeof(want), "%s:5: profile 'b' has aws_secret_access_key but no aws_access_key_id", path);
    assert_contains(err.message, want);
}

static void test_unsupported_profile(void **state)
{
    struct env_table t = {0};
    struct ddb2es_error err;
    const char *conf = temp_file("[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\n"
                                 "source_profile = default\n"
                                 "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n");

    (void)state;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", missing_path());
    env_set(&t, "AWS_CONFIG_FILE", conf);
    resolve_fails(&t, "admin", DDB2ES_E_AUTH, &err);
    assert_contains(err.message, "through role_arn");
    assert_contains(err.message, "aws configure export-credentials --profile admin");
    resolve_fails(&t, "sso", DDB2ES_E_AUTH, &err);
    assert_contains(err.message, "through sso_session");
}

static void test_unreadable_file(void **state)
{
    struct env_table t = {0};
    struct ddb2es_error err;
    const char *dir = temp_dir();

    (void)state;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", dir); /* a directory cannot be read as a file */
    env_set(&t, "AWS_CONFIG_FILE", missing_path());
    resolve_fails(&t, NULL, DDB2ES_E_CONFIG, &err);
    assert_contains(err.message, "cannot read");
    assert_contains(err.message, dir);
}

static void test_new_free(void **state)
{
    struct aws_credentials *c;

    (void)state;
    assert_null(aws_credentials_new(NULL, "s", NULL, NULL));
    assert_null(aws_credentials_new("a", NULL, NULL, NULL));
    c = aws_credentials_new("AKIA", SECRET1, NULL, NULL);
    assert_non_null(c);
    assert_string_equal(c->source, "given");
    assert_null(c->session_token);
    aws_credentials_free(c);
    c = aws_credentials_new("AKIA", SECRET1, TOKEN1, "cli");
    assert_non_null(c);
    assert_string_equal(c->session_token, TOKEN1);
    assert_string_equal(c->source, "cli");
    aws_credentials_free(c);
    aws_credentials_free(NULL);
}

static void test_process_getenv(void **state)
{
    (void)state;
    assert_int_equal(setenv("DDB2ES_TEST_CREDENTIALS_VAR", "x1", 1), 0);
    assert_string_equal(aws_process_getenv(NULL, "DDB2ES_TEST_CREDENTIALS_VAR"), "x1");
    assert_int_equal(unsetenv("DDB2ES_TEST_CREDENTIALS_VAR"), 0);
    assert_null(aws_process_getenv(NULL, "DDB2ES_TEST_CREDENTIALS_VAR"));
}

/* ---- region --------------------------------------------------------------------------------- */

static void test_region(void **state)
{
    static const struct {
        const char *aws_region, *default_region; /* environment, NULL: unset */
        int conf;                                /* 1: config_file as AWS_CONFIG_FILE, 2: a malformed
                                                    one (profile "bad": one with a bad region) */
        const char *profile, *fallback;
        int status;
        const char *want; /* region, or a piece of the message */
    } t[] = {
        {"us-west-2", "eu-central-1", 1, "ci", "ca-central-1", DDB2ES_OK, "us-west-2"},
        {NULL, "eu-central-1", 1, "ci", "ca-central-1", DDB2ES_OK, "eu-central-1"},
        {"", "eu-central-1", 1, "ci", NULL, DDB2ES_OK, "eu-central-1"},
        {NULL, NULL, 1, "ci", "ca-central-1", DDB2ES_OK, "eu-west-1"},
        {NULL, NULL, 1, NULL, NULL, DDB2ES_OK, "eu-west-2"},
        {NULL, NULL, 1, "nosuch", "ca-central-1", DDB2ES_OK, "ca-central-1"},
        {NULL, NULL, 0, "ci", "ca-central-1", DDB2ES_OK, "ca-central-1"},
        {NULL, NULL, 0, "ci", NULL, DDB2ES_E_CONFIG, "no AWS region"},
        {NULL, NULL, 1, "nosuch", NULL, DDB2ES_E_CONFIG, "[profile nosuch]"},
        {"EU WEST", NULL, 1, "ci", NULL, DDB2ES_E_CONFIG, "AWS_REGION gives the region 'EU WEST'"},
        {NULL, NULL, 1, "bad", NULL, DDB2ES_E_CONFIG, ":3 gives the region"},
        {"us-east-1", NULL, 2, "ci", NULL, DDB2ES_OK, "us-east-1"}, /* files not read */
        {NULL, NULL, 2, "ci", NULL, DDB2ES_E_CONFIG, "not shown"},
        {"averyveryverylongregionname-1", NULL, 0, NULL, NULL, DDB2ES_E_USAGE, "too long"},
    };
    const char *good = temp_file(config_file);
    const char *bad = temp_file("[profile ci]\nregion\n");
    const char *badregion = temp_file("[profile bad]\n\nregion = Eu_West\n");
    char region[24];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct env_table e = {0};
        struct ddb2es_error err;
        int rc;

        env_set(&e, "AWS_SHARED_CREDENTIALS_FILE", missing_path());
        env_set(&e, "AWS_CONFIG_FILE", t[i].conf == 1 ? good : t[i].conf == 2 ? bad : missing_path());
        if (strcmp(t[i].profile ? t[i].profile : "", "bad") == 0)
            e.value[1] = badregion;
        if (t[i].aws_region)
            env_set(&e, "AWS_REGION", t[i].aws_region);
        if (t[i].default_region)
            env_set(&e, "AWS_DEFAULT_REGION", t[i].default_region);
        memset(region, 'x', sizeof(region));
        ddb2es_error_clear(&err);
        rc = aws_region_resolve(table_getenv, &e, t[i].profile, t[i].fallback, region, sizeof(region), &err);
        if (rc != t[i].status)
            fail_msg("case %zu: expected %s, got %s: %s", i, ddb2es_status_name(t[i].status),
                     ddb2es_status_name(rc), err.message);
        if (rc == DDB2ES_OK)
            assert_string_equal(region, t[i].want);
        else
            assert_contains(err.message, t[i].want);
    }
}

/* The region may sit in the credentials file too (the AWS CLI reads it there). */
static void test_region_in_credentials_file(void **state)
{
    struct env_table t = {0};
    struct ddb2es_error err;
    char region[32];
    const char *cred = temp_file("[dev]\nregion = sa-east-1\n");
    const char *conf = temp_file("[profile dev]\noutput = json\n");

    (void)state;
    env_set(&t, "AWS_SHARED_CREDENTIALS_FILE", cred);
    env_set(&t, "AWS_CONFIG_FILE", conf);
    env_set(&t, "AWS_PROFILE", "dev");
    assert_int_equal(aws_region_resolve(table_getenv, &t, NULL, "eu-west-2", region, sizeof(region), &err),
                     DDB2ES_OK);
    assert_string_equal(region, "sa-east-1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_keys),
        cmocka_unit_test(test_env_partial),
        cmocka_unit_test(test_credentials_file),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_file_precedence),
        cmocka_unit_test(test_home_files),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_malformed_line_hides_secret),
        cmocka_unit_test(test_incomplete_profile),
        cmocka_unit_test(test_unsupported_profile),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_new_free),
        cmocka_unit_test(test_process_getenv),
        cmocka_unit_test(test_region),
        cmocka_unit_test(test_region_in_credentials_file),
    };

    return cmocka_run_group_tests_name("credentials", tests, group_setup, group_teardown);
}
