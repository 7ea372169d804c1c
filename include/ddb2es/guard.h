/*
 * ddb2es/guard.h - the environment guard: an environment's table can only be
 * synced into that environment's cluster.
 *
 * DESIGN
 * An environment names the AWS account that owns its tables (account_id) and
 * the Elasticsearch URLs it owns (url + urls). Before any write:
 *   - the table's ARN (from DescribeTable) must be in the environment's
 *     account, when the environment names one;
 *   - the target URL must be one of the environment's own, compared after
 *     normalisation (scheme and host lower-cased, default port made explicit,
 *     trailing '/' ignored; a URL with a path must match that path prefix).
 * A protected environment also needs the operator to type its name (the
 * console asks; headless takes --confirm NAME). Refusals are DDB2ES_E_GUARD
 * with a message that says what did not match and where to change it.
 */
#ifndef DDB2ES_GUARD_H
#define DDB2ES_GUARD_H

#include "ddb2es/config.h"
#include "ddb2es/error.h"

/* True when `url` is one of env's Elasticsearch URLs (after normalisation). */
int guard_url_owned(const struct ddb2es_env *env, const char *url);

/*
 * Checks a write from the table `table_arn` into `es_url` for environment `env`.
 * table_arn may be NULL when unknown (then only the URL is checked).
 */
int guard_check(const struct ddb2es_env *env, const char *table_arn, const char *es_url, struct ddb2es_error *err);

/* For a protected environment: `typed` must equal the environment's name. */
int guard_confirm(const struct ddb2es_env *env, const char *typed, struct ddb2es_error *err);

/* The environment of cfg that owns `url`, or NULL (borrowed). */
const struct ddb2es_env *guard_env_for_url(const struct ddb2es_config *cfg, const char *url);

/*
 * Normalises an Elasticsearch URL into out[outsz]: "scheme://host:port/path"
 * with no trailing '/', lower-case scheme and host. A bare host ("search.example")
 * is taken as https. DDB2ES_E_USAGE for what is not a URL.
 */
int guard_normalise_url(const char *url, char *out, size_t outsz, struct ddb2es_error *err);

#endif
