/* test_dynamo.c - DynamoDB error bodies, retry classification, table facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ddb2es/dynamo.h"
#include "testutil.h"

/* Every error body in the reference folder: type after '#', status, retryability. */
static const struct {
    const char *file;
    const char *type;
    int status;
    int retryable;
    const char *msg_part; /* from `message` or `Message` */
} error_cases[] = {
    {"reference/dynamodb/errors/resource-not-found.json", "ResourceNotFoundException", DDB2ES_E_NOTFOUND, 0,
     "Requested resource not found"},
    {"reference/dynamodb/errors/provisioned-throughput-exceeded.json", "ProvisionedThroughputExceededException",
     DDB2ES_E_THROTTLED, 1, ""},
    {"reference/dynamodb/errors/provisioned-throughput-exceeded.with-throttling-reasons.json",
     "ProvisionedThroughputExceededException", DDB2ES_E_THROTTLED, 1, ""},
    {"reference/dynamodb/errors/throttling.json", "ThrottlingException", DDB2ES_E_THROTTLED, 1, ""},
    {"reference/dynamodb/errors/request-limit-exceeded.json", "RequestLimitExceeded", DDB2ES_E_THROTTLED, 1, ""},
    {"reference/dynamodb/errors/unrecognized-client.json", "UnrecognizedClientException", DDB2ES_E_AUTH, 0, ""},
    {"reference/dynamodb/errors/invalid-signature.json", "InvalidSignatureException", DDB2ES_E_AUTH, 0, ""},
    {"reference/dynamodb/errors/validation.segment.json", "ValidationException", DDB2ES_E_SERVICE, 0, ""},
    {"reference/dynamodb/errors/validation.exclusive-start-key.json", "ValidationException", DDB2ES_E_SERVICE, 0, ""},
    {"reference/dynamodb/errors/validation.constraints.json", "ValidationException", DDB2ES_E_SERVICE, 0, ""},
};

static void test_reference_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        char path[512];
        size_t len;
        char *body = tu_slurp(tu_shared(error_cases[i].file, path, sizeof(path)), &len);
        struct ddb2es_error err;
        int st;

        ddb2es_error_clear(&err);
        st = ddb_parse_error(body, len, 400, "127.0.0.1:8000", "Scan", "table Persons", &err);
        if (st != error_cases[i].status || strcmp(err.type, error_cases[i].type) != 0)
            fail_msg("%s: status %d type '%s'", error_cases[i].file, st, err.type);
        assert_int_equal(err.http_status, 400);
        assert_int_equal(ddb_is_retryable(err.type, 400), error_cases[i].retryable);
        assert_non_null(strstr(err.message, "Scan on table Persons at 127.0.0.1:8000"));
        assert_non_null(strstr(err.message, error_cases[i].type));
        assert_non_null(strstr(err.message, error_cases[i].msg_part));
        free(body);
    }
}

static void test_capital_message(void **state)
{
    const char *b = "{\"__type\":\"com.amazon.coral.service#SerializationException\",\"Message\":\"Start of "
                    "structure or map found where not expected.\"}";
    struct ddb2es_error err;

    (void)state;
    ddb_parse_error(b, strlen(b), 400, "h:1", "Scan", NULL, &err);
    assert_string_equal(err.type, "SerializationException");
    assert_non_null(strstr(err.message, "Start of structure or map found"));
}

static void test_unreadable_and_5xx(void **state)
{
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(ddb_parse_error("<html>", 6, 503, "h:1", "Scan", NULL, &err), DDB2ES_E_SERVICE);
    assert_true(ddb_is_retryable(err.type, 503));
    assert_non_null(strstr(err.message, "503"));
    assert_false(ddb_is_retryable("ValidationException", 400));
    assert_true(ddb_is_retryable("com.amazonaws.dynamodb.v20120810#InternalServerError", 500));
}

static void test_arn_account(void **state)
{
    char acct[32];

    (void)state;
    ddb_arn_account("arn:aws:dynamodb:eu-west-2:123456789012:table/Persons", acct, sizeof(acct));
    assert_string_equal(acct, "123456789012");
    ddb_arn_account("arn:aws:dynamodb:ddblocal:000000000000:table/Persons", acct, sizeof(acct));
    assert_string_equal(acct, "000000000000");
    ddb_arn_account("garbage", acct, sizeof(acct));
    assert_string_equal(acct, "");
    ddb_arn_account(NULL, acct, sizeof(acct));
    assert_string_equal(acct, "");
}

static void test_scan_limit(void **state)
{
    struct ddb_table_info t;

    (void)state;
    memset(&t, 0, sizeof(t));
    assert_int_equal(ddb_scan_limit_for(&t), 1000);    /* unknown size */
    t.item_count = 1000;
    t.size_bytes = 1000 * 1024;                         /* 1 KB items */
    assert_int_equal(ddb_scan_limit_for(&t), 1024);
    t.size_bytes = 1000LL * 400 * 1024;                 /* 400 KB items */
    assert_int_equal(ddb_scan_limit_for(&t), 10);
    t.size_bytes = 1000 * 10;                           /* tiny items */
    assert_int_equal(ddb_scan_limit_for(&t), 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_errors), cmocka_unit_test(test_capital_message),
        cmocka_unit_test(test_unreadable_and_5xx), cmocka_unit_test(test_arn_account),
        cmocka_unit_test(test_scan_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
