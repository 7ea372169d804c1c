/* test_buf.c - the growable buffer and the error record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"

static void test_append_grow(void **state)
{
    struct dbuf b = DBUF_INIT;

    (void)state;
    assert_string_equal(dbuf_cstr(&b), "");
    for (int i = 0; i < 10000; i++)
        assert_int_equal(dbuf_printf(&b, "%d,", i % 10), 0);
    assert_int_equal(b.len, 20000);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data, "0,1,2,", 6);
    dbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(dbuf_cstr(&b), "");
    assert_int_equal(dbuf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    dbuf_free(&b);
    dbuf_free(&b); /* twice is fine */
    dbuf_free(NULL);
}

static void test_detach(void **state)
{
    struct dbuf b = DBUF_INIT;
    char *p;

    (void)state;
    p = dbuf_detach(&b);
    assert_string_equal(p, "");
    free(p);
    dbuf_puts(&b, "hello");
    p = dbuf_detach(&b);
    assert_string_equal(p, "hello");
    assert_null(b.data);
    free(p);
}

static void test_error_map(void **state)
{
    struct ddb2es_error e;

    (void)state;
    assert_string_equal(ddb2es_strerror(DDB2ES_OK), "success");
    assert_string_equal(ddb2es_strerror(DDB2ES_E_NET), "network error");
    assert_string_equal(ddb2es_status_name(DDB2ES_E_GUARD), "GUARD");
    assert_string_equal(ddb2es_strerror(-1), "unknown error");
    assert_string_equal(ddb2es_strerror(DDB2ES_STATUS_COUNT), "unknown error");
    assert_int_equal(ddb2es_failf(&e, DDB2ES_E_IO, "cannot open %s", "x"), DDB2ES_E_IO);
    assert_int_equal(e.status, DDB2ES_E_IO);
    assert_string_equal(e.message, "cannot open x");
    assert_int_equal(ddb2es_failf(NULL, DDB2ES_E_IO, "no record"), DDB2ES_E_IO);
    ddb2es_error_set_type(&e, "mapper_parsing_exception");
    assert_string_equal(e.type, "mapper_parsing_exception");
    ddb2es_error_clear(&e);
    assert_int_equal(e.status, DDB2ES_OK);
    assert_string_equal(e.message, "");
}

static void test_redact(void **state)
{
    struct ddb2es_error e;

    (void)state;
    ddb2es_failf(&e, DDB2ES_E_AUTH, "x-amz-security-token:TOKEN123 and again TOKEN123.");
    ddb2es_error_redact(&e, "TOKEN123");
    assert_string_equal(e.message, "x-amz-security-token:[redacted] and again [redacted].");
    ddb2es_error_redact(&e, NULL);
    ddb2es_error_redact(&e, "ab"); /* too short to be a secret: left alone */
    assert_string_equal(e.message, "x-amz-security-token:[redacted] and again [redacted].");
    ddb2es_error_redact(NULL, "TOKEN123");
}

static void test_long_message_truncates(void **state)
{
    struct ddb2es_error e;
    char big[4000];

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ddb2es_failf(&e, DDB2ES_E_SERVICE, "%s", big);
    assert_int_equal(strlen(e.message), DDB2ES_ERR_MSG_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grow), cmocka_unit_test(test_detach), cmocka_unit_test(test_error_map),
        cmocka_unit_test(test_long_message_truncates), cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
