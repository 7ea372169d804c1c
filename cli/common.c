/* common.c - what the headless commands share: context, errors, options. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "cli.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/guard.h"

void cli_error(const struct ddb2es_error *err)
{
    fprintf(stderr, "ddb2es: %s\n", err->message[0] ? err->message : ddb2es_strerror((int)err->status));
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("ddb2es: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_usage_error(const char *cmd, void (*usage)(FILE *out), const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ddb2es %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    usage(stderr);
    return EXIT_USAGE;
}

int cli_exit_for(int status)
{
    switch (status) {
    case DDB2ES_OK:
        return EXIT_ALL_OK;
    case DDB2ES_E_GUARD:
        return EXIT_GUARD;
    case DDB2ES_E_CANCELLED:
        return EXIT_CANCELLED;
    default:
        return EXIT_USAGE;
    }
}

long cli_parse_long(const char *opt, const char *v, long min, long max)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        cli_fail(EXIT_USAGE, "%s '%s': expected a whole number from %ld to %ld", opt, v, min, max);
        return -1;
    }
    return n;
}

/* Loads the configuration into ctx. */
static int load_config(struct cli_context *ctx, const char *config_path)
{
    struct ddb2es_error err;
    int rc;

    memset(ctx, 0, sizeof(*ctx));
    ddb2es_error_clear(&err);
    rc = config_locate(config_path, NULL, NULL, ctx->config_path, sizeof(ctx->config_path), &err);
    if (!rc)
        rc = config_load_file(ctx->config_path, &ctx->cfg, &err);
    if (rc) {
        cli_error(&err);
        return EXIT_USAGE;
    }
    return EXIT_ALL_OK;
}

/* With ctx->env chosen: credentials, region, password, entities. */
static int finish_context(struct cli_context *ctx)
{
    struct ddb2es_error err;
    int rc;

    ddb2es_error_clear(&err);
    rc = aws_region_resolve(NULL, NULL, ctx->env->profile, ctx->env->region, ctx->region, sizeof(ctx->region),
                            &err);
    if (!rc)
        rc = aws_credentials_resolve(NULL, NULL, ctx->env->profile, &ctx->creds, &err);
    if (rc) {
        cli_error(&err);
        return EXIT_USAGE;
    }
    if (ctx->env->es_password_env) {
        ctx->es_password = getenv(ctx->env->es_password_env);
        if (!ctx->es_password)
            return cli_fail(EXIT_USAGE, "environment '%s' names the password variable %s, which is not set",
                            ctx->env->name, ctx->env->es_password_env);
    }
    rc = config_load_entities(ctx->cfg, &ctx->entities, &err);
    if (rc) {
        cli_error(&err);
        return EXIT_USAGE;
    }
    return EXIT_ALL_OK;
}

static void list_envs(const struct cli_context *ctx)
{
    for (size_t i = 0; i < ctx->cfg->nenvs; i++)
        fprintf(stderr, " %s", ctx->cfg->envs[i].name);
    fputc('\n', stderr);
}

int cli_context_open(struct cli_context *ctx, const char *config_path, const char *env_name)
{
    int code = load_config(ctx, config_path);

    if (code)
        return code;
    if (!env_name) {
        if (ctx->cfg->nenvs != 1) {
            fprintf(stderr, "ddb2es: --env is required; %s has:", ctx->config_path);
            list_envs(ctx);
            return EXIT_USAGE;
        }
        ctx->env = &ctx->cfg->envs[0];
    } else {
        ctx->env = config_find_env(ctx->cfg, env_name);
        if (!ctx->env) {
            fprintf(stderr, "ddb2es: no environment '%s' in %s; it has:", env_name, ctx->config_path);
            list_envs(ctx);
            return EXIT_USAGE;
        }
    }
    return finish_context(ctx);
}

int cli_context_open_for_url(struct cli_context *ctx, const char *config_path, const char *es_url)
{
    int code = load_config(ctx, config_path);

    if (code)
        return code;
    ctx->env = guard_env_for_url(ctx->cfg, es_url);
    if (!ctx->env)
        return cli_fail(EXIT_GUARD,
                        "refused: no environment in %s owns the cluster %s; add it to an environment's "
                        "elasticsearch.url or urls",
                        ctx->config_path, es_url);
    return finish_context(ctx);
}

int cli_check_table(const struct cli_context *ctx, const char *table, const char *es_url,
                    struct ddb_table_info *info, struct ddb2es_error *err)
{
    struct ddb_options dop;
    struct ddb_client *c;
    int rc;

    memset(&dop, 0, sizeof(dop));
    dop.region = ctx->region;
    dop.endpoint = ctx->env->ddb_endpoint;
    dop.creds = ctx->creds;
    c = ddb_client_new(&dop, err);
    if (!c)
        return err ? (int)err->status : DDB2ES_E_INTERNAL;
    rc = ddb_describe_table(c, table, info, err);
    if (!rc) {
        rc = guard_check(ctx->env, info->arn, es_url, err);
        if (rc)
            ddb_table_info_free(info);
    }
    ddb_client_free(c);
    return rc;
}

struct es_client *cli_es_client(const struct cli_context *ctx, const char *url, struct ddb2es_error *err)
{
    struct es_options eo;

    memset(&eo, 0, sizeof(eo));
    eo.url = url;
    eo.username = ctx->env->es_username;
    eo.password = ctx->es_password;
    eo.ca_file = ctx->env->es_ca_file;
    if (ctx->env->es_sigv4) {
        eo.aws_creds = ctx->creds;
        eo.aws_region = ctx->region;
        eo.aws_service = ctx->env->es_aws_service;
    }
    return es_client_new(&eo, err);
}


void cli_context_close(struct cli_context *ctx)
{
    entity_set_free(ctx->entities);
    aws_credentials_free(ctx->creds);
    config_free(ctx->cfg);
    memset(ctx, 0, sizeof(*ctx));
}

const struct entity *cli_pick_entity(const struct cli_context *ctx, const char *name, const char *table)
{
    const struct entity *e;

    if (name) {
        e = entity_set_find(ctx->entities, name);
        if (!e) {
            fprintf(stderr, "ddb2es: no entity '%s'; known:", name);
            for (size_t i = 0; i < entity_set_count(ctx->entities); i++)
                fprintf(stderr, " %s", entity_name(entity_set_at(ctx->entities, i)));
            fprintf(stderr, " (add one as a JSON file in %s/entities)\n", config_assets_dir());
        }
        return e;
    }
    e = entity_set_find_table(ctx->entities, table);
    if (!e)
        fprintf(stderr, "ddb2es: no entity matches table '%s'; pass --entity NAME (see 'ddb2es entities')\n",
                table);
    return e;
}
