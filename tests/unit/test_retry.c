/* test_retry.c - backoff bounds, attempts and the retry budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ddb2es/retry.h"

static void test_backoff_bounds(void **state)
{
    struct retry_policy p;
    struct retry_state s;

    (void)state;
    retry_policy_default(&p);
    p.max_attempts = 20;
    p.budget = 1000000;
    retry_state_init(&s, &p, 42);
    for (int attempt = 1; attempt < 20; attempt++) {
        long ceiling = p.base_ms;
        for (int i = 1; i < attempt && ceiling < p.cap_ms; i++)
            ceiling *= 2;
        if (ceiling > p.cap_ms)
            ceiling = p.cap_ms;
        for (int k = 0; k < 200; k++) {
            long d = retry_next_delay(&s, attempt, 0);
            assert_true(d >= 0 && d <= ceiling);
        }
    }
}

static void test_jitter_is_spread(void **state)
{
    struct retry_state s;
    long lo = 1 << 30, hi = -1;

    (void)state;
    retry_state_init(&s, NULL, 7);
    s.tokens = 1 << 30;
    for (int k = 0; k < 1000; k++) {
        long d = retry_next_delay(&s, 5, 0); /* ceiling 800 ms */
        if (d < lo)
            lo = d;
        if (d > hi)
            hi = d;
    }
    assert_true(lo < 100);
    assert_true(hi > 700);
}

static void test_attempts_exhausted(void **state)
{
    struct retry_state s;

    (void)state;
    retry_state_init(&s, NULL, 1);
    assert_true(retry_next_delay(&s, 7, 0) >= 0);
    assert_int_equal(retry_next_delay(&s, 8, 0), -1);
}

static void test_budget(void **state)
{
    struct retry_policy p;
    struct retry_state s;
    int granted = 0;

    (void)state;
    retry_policy_default(&p);
    retry_state_init(&s, &p, 3);
    while (retry_next_delay(&s, 1, 0) >= 0)
        granted++;
    assert_int_equal(granted, p.budget / p.retry_cost); /* 100 retries, then refuse */
    for (int i = 0; i < p.retry_cost; i++)
        retry_success(&s);
    assert_true(retry_next_delay(&s, 1, 0) >= 0);      /* successes refill it */
    assert_int_equal(retry_next_delay(&s, 1, 0), -1);
    /* a timeout costs more */
    retry_state_init(&s, &p, 3);
    granted = 0;
    while (retry_next_delay(&s, 1, 1) >= 0)
        granted++;
    assert_int_equal(granted, p.budget / p.timeout_cost);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_bounds), cmocka_unit_test(test_jitter_is_spread),
        cmocka_unit_test(test_attempts_exhausted), cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
