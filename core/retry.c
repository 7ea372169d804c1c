/* retry.c - backoff with full jitter and a retry budget. See ddb2es/retry.h. */
#include "ddb2es/retry.h"

#include <stddef.h>

void retry_policy_default(struct retry_policy *p)
{
    p->max_attempts = 8;
    p->base_ms = 50;
    p->cap_ms = 20000;
    p->budget = 500;
    p->retry_cost = 5;
    p->timeout_cost = 10;
}

void retry_state_init(struct retry_state *s, const struct retry_policy *p, uint64_t seed)
{
    if (p)
        s->policy = *p;
    else
        retry_policy_default(&s->policy);
    s->tokens = s->policy.budget;
    /* splitmix64 of the seed: never a zero xorshift state */
    seed += 0x9E3779B97F4A7C15ULL;
    seed = (seed ^ (seed >> 30)) * 0xBF58476D1CE4E5B9ULL;
    seed = (seed ^ (seed >> 27)) * 0x94D049BB133111EBULL;
    seed ^= seed >> 31;
    s->rng = seed ? seed : 1;
}

uint64_t retry_random(struct retry_state *s, uint64_t n)
{
    uint64_t x = s->rng;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return n ? x % n : 0;
}

long retry_next_delay(struct retry_state *s, int attempt, int costly)
{
    int cost = costly ? s->policy.timeout_cost : s->policy.retry_cost;
    long ceiling = s->policy.base_ms;

    if (attempt >= s->policy.max_attempts)
        return -1;
    if (s->tokens < cost)
        return -1;
    s->tokens -= cost;
    for (int i = 1; i < attempt && ceiling < s->policy.cap_ms; i++)
        ceiling *= 2;
    if (ceiling > s->policy.cap_ms)
        ceiling = s->policy.cap_ms;
    return (long)retry_random(s, (uint64_t)ceiling + 1);
}

void retry_success(struct retry_state *s)
{
    if (s->tokens < s->policy.budget)
        s->tokens++;
}
