/* guard.c - the environment guard. See ddb2es/guard.h. */
#include "ddb2es/guard.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ddb2es/dynamo.h"
#include "ddb2es/http.h"

int guard_normalise_url(const char *url, char *out, size_t outsz, struct ddb2es_error *err)
{
    char host[256], path[1024], full[1400];
    const char *u = url;
    int port, https, n;
    size_t plen;

    if (!strstr(url, "://")) {
        /* the old system's indexNodeHost may be a bare host name */
        snprintf(full, sizeof(full), "https://%s", url);
        u = full;
    }
    if (http_url_split(u, host, sizeof(host), &port, path, sizeof(path), err))
        return DDB2ES_E_USAGE;
    https = strncmp(u, "https://", 8) == 0 || strncmp(u, "HTTPS://", 8) == 0;
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    path[strcspn(path, "?")] = '\0';
    plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/')
        path[--plen] = '\0';
    n = snprintf(out, outsz, "%s://%s:%d%s", https ? "https" : "http", host, port, path);
    if (n < 0 || (size_t)n >= outsz)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "URL too long");
    return DDB2ES_OK;
}

/* True when `target` equals `owned` or lies under its path. Both normalised. */
static int url_within(const char *owned, const char *target)
{
    size_t n = strlen(owned);

    return strncmp(owned, target, n) == 0 && (target[n] == '\0' || target[n] == '/');
}

int guard_url_owned(const struct ddb2es_env *env, const char *url)
{
    char t[1400], o[1400];

    if (guard_normalise_url(url, t, sizeof(t), NULL))
        return 0;
    if (env->es_url && guard_normalise_url(env->es_url, o, sizeof(o), NULL) == 0 && url_within(o, t))
        return 1;
    for (size_t i = 0; i < env->n_es_urls; i++)
        if (guard_normalise_url(env->es_urls[i], o, sizeof(o), NULL) == 0 && url_within(o, t))
            return 1;
    return 0;
}

const struct ddb2es_env *guard_env_for_url(const struct ddb2es_config *cfg, const char *url)
{
    for (size_t i = 0; i < cfg->nenvs; i++)
        if (guard_url_owned(&cfg->envs[i], url))
            return &cfg->envs[i];
    return NULL;
}

int guard_check(const struct ddb2es_env *env, const char *table_arn, const char *es_url, struct ddb2es_error *err)
{
    char norm[1400];

    if (guard_normalise_url(es_url, norm, sizeof(norm), NULL))
        return ddb2es_failf(err, DDB2ES_E_GUARD, "refused: the target '%s' is not a URL", es_url);
    if (!guard_url_owned(env, es_url))
        return ddb2es_failf(err, DDB2ES_E_GUARD,
                            "refused: %s is not a cluster of environment '%s' (its own: %s%s); a table of one "
                            "environment is only synced into that environment's cluster",
                            norm, env->name, env->es_url, env->n_es_urls ? " and its urls" : "");
    if (env->account_id && table_arn) {
        char acct[32];
        ddb_arn_account(table_arn, acct, sizeof(acct));
        if (strcmp(acct, env->account_id) != 0)
            return ddb2es_failf(err, DDB2ES_E_GUARD,
                                "refused: the table %s belongs to AWS account %s, but environment '%s' is account "
                                "%s; check the credentials (AWS_PROFILE) and the environment",
                                table_arn, acct[0] ? acct : "(unknown)", env->name, env->account_id);
    }
    return DDB2ES_OK;
}

int guard_confirm(const struct ddb2es_env *env, const char *typed, struct ddb2es_error *err)
{
    if (!env->is_protected)
        return DDB2ES_OK;
    if (!typed)
        return ddb2es_failf(err, DDB2ES_E_GUARD,
                            "refused: environment '%s' is protected; confirm with --confirm %s", env->name,
                            env->name);
    if (strcmp(typed, env->name) != 0)
        return ddb2es_failf(err, DDB2ES_E_GUARD,
                            "refused: environment '%s' is protected and the confirmation '%s' does not match its name",
                            env->name, typed);
    return DDB2ES_OK;
}
