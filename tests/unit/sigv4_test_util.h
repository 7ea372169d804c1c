/*
 * sigv4_test_util.h - what the SigV4 tests (test_sigv4_suite.c,
 * test_sigv4_sign.c) share: the suite's secret key, and the check that it
 * never shows in anything the signer writes. Header-only, static inline.
 */
#ifndef DDB2ES_SIGV4_TEST_UTIL_H
#define DDB2ES_SIGV4_TEST_UTIL_H

#include "testutil.h"

#include "ddb2es/sigv4.h"

/* The secret_access_key of the suite's context.json, also used by the hand-made cases. */
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static inline void assert_no_secret(const char *s)
{
    if (s && strstr(s, SECRET))
        fail_msg("the secret key leaked into: %.80s...", s);
}

#endif
