/*
 * session.c - where the console works: configuration, entities, the chosen
 * environment's region and keys, and clients for it.
 *
 * The same steps as the headless commands' context (cli/common.c), but
 * reporting through struct ddb2es_error instead of printing: the console
 * shows errors in panels, and a stray line on stderr would tear the screen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "ddb2es/dynamo.h"
#include "ddb2es/es.h"
#include "ddb2es/report.h"
#include "tui.h"


int tui_session_load(struct tui_session *s, const char *config_arg, struct ddb2es_error *err)
{
    int rc;

    rc = config_locate(config_arg, NULL, NULL, s->config_path, sizeof(s->config_path), err);
    if (rc)
        return rc;
    rc = config_load_file(s->config_path, &s->cfg, err);
    if (rc)
        return rc;
    if (s->cfg->nenvs == 0)
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "%s names no environment; add one under \"environments\"",
                            s->config_path);
    return config_load_entities(s->cfg, &s->entities, err);
}

int tui_session_open_env(struct tui_session *s, const struct ddb2es_env *env, struct ddb2es_error *err)
{
    int rc;

    tui_session_close_env(s);
    rc = aws_region_resolve(NULL, NULL, env->profile, env->region, s->region, sizeof(s->region), err);
    if (rc)
        return rc;
    rc = aws_credentials_resolve(NULL, NULL, env->profile, &s->creds, err);
    if (rc)
        return rc;
    if (env->es_password_env) {
        s->es_password = getenv(env->es_password_env);
        if (!s->es_password) {
            aws_credentials_free(s->creds);
            s->creds = NULL;
            return ddb2es_failf(err, DDB2ES_E_CONFIG,
                                "environment '%s' takes the Elasticsearch password from the variable %s, which is "
                                "not set; export it and start the console again",
                                env->name, env->es_password_env);
        }
    }
    s->env = env;
    return DDB2ES_OK;
}

void tui_session_close_env(struct tui_session *s)
{
    aws_credentials_free(s->creds);
    s->creds = NULL;
    s->env = NULL;
    s->es_password = NULL;
    s->region[0] = '\0';
}

void tui_session_free(struct tui_session *s)
{
    tui_session_close_env(s);
    entity_set_free(s->entities);
    config_free(s->cfg);
    s->entities = NULL;
    s->cfg = NULL;
}

struct ddb_client *tui_session_ddb(const struct tui_session *s, int interactive, struct ddb2es_error *err)
{
    struct ddb_options o;
    struct retry_policy rp;

    memset(&o, 0, sizeof(o));
    o.region = s->region;
    o.endpoint = s->env->ddb_endpoint;
    o.creds = s->creds;
    if (interactive) {
        /* someone is waiting: a few quick tries, then say what is wrong */
        retry_policy_default(&rp);
        rp.max_attempts = 3;
        rp.cap_ms = 1000;
        o.retry = &rp;
        o.timeout_ms = 20000;
    }
    return ddb_client_new(&o, err);
}

struct es_client *tui_session_es(const struct tui_session *s, struct ddb2es_error *err)
{
    struct es_options o;

    memset(&o, 0, sizeof(o));
    o.url = s->env->es_url;
    o.username = s->env->es_username;
    o.password = s->es_password;
    o.ca_file = s->env->es_ca_file;
    if (s->env->es_sigv4) {
        o.aws_creds = s->creds;
        o.aws_region = s->region;
        o.aws_service = s->env->es_aws_service;
    }
    return es_client_new(&o, err);
}

void tui_state_file(const char *sub, const char *stem, const char *ext, char *out, size_t outsz)
{
    report_state_file(sub, stem, ext, out, outsz);
}
