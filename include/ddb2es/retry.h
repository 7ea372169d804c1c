/*
 * ddb2es/retry.h - when to try again, and how long to wait.
 *
 * DESIGN
 * The policy of the AWS SDKs' "standard" retry mode, used for both services:
 *  - exponential backoff with full jitter: sleep = random(0, min(cap, base * 2^attempt));
 *  - a bounded number of attempts per request (default 8 for a sync: a long
 *    job prefers waiting to failing);
 *  - a retry budget (token bucket) shared by the requests of one client: each
 *    retry costs tokens (more for timeouts), each success refunds one. When
 *    the bucket is empty the request fails at once instead of piling retries
 *    onto a struggling service.
 * A `struct retry_state` belongs to one thread (one client); it holds its own
 * random state, so no global state is touched.
 */
#ifndef DDB2ES_RETRY_H
#define DDB2ES_RETRY_H

#include <stdint.h>

struct retry_policy {
    int max_attempts;       /* total tries including the first; default 8 */
    long base_ms;           /* first backoff ceiling; default 50 */
    long cap_ms;            /* largest backoff; default 20000 */
    int budget;             /* token bucket size; default 500 */
    int retry_cost;         /* tokens a retry takes; default 5 */
    int timeout_cost;       /* tokens a retry after a timeout/connection error takes; default 10 */
};

struct retry_state {
    struct retry_policy policy;
    int tokens;             /* tokens left in the bucket */
    uint64_t rng;           /* xorshift state */
};

/* Fills *p with the defaults above. */
void retry_policy_default(struct retry_policy *p);

/* Initialises a state from a policy (NULL: defaults) and a seed (any value). */
void retry_state_init(struct retry_state *s, const struct retry_policy *p, uint64_t seed);

/*
 * Asks for permission to retry after failed attempt number `attempt` (1 for the
 * first try). Returns the milliseconds to wait (>= 0), or -1 when the attempts
 * or the budget are exhausted. `costly` marks a timeout or connection error.
 */
long retry_next_delay(struct retry_state *s, int attempt, int costly);

/* Records a success: refunds one token, up to the budget. */
void retry_success(struct retry_state *s);

/* A uniform random number in [0, n) from the state's generator (n > 0). */
uint64_t retry_random(struct retry_state *s, uint64_t n);

#endif
