/* cmd_list.c - `ddb2es entities`, `ddb2es tables`, `ddb2es envs`: what is there. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ddb2es/dynamo.h"

/* Parses the common --env/--config/--help options. Returns -1 to go on, else an exit code. */
static int parse_common(int argc, char **argv, const char *usage, const char **env, const char **config)
{
    static const struct option opts[] = {
        {"env", required_argument, NULL, 'e'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, "+h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'e': *env = optarg; break;
        case 'c': *config = optarg; break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_ALL_OK;
        default:
            fprintf(stderr, "ddb2es %s: unknown option or missing value '%s'\n\n%s", argv[0], argv[optind - 1],
                    usage);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ddb2es %s: unexpected argument '%s'\n\n%s", argv[0], argv[optind], usage);
        return EXIT_USAGE;
    }
    return -1;
}

int cmd_entities(int argc, char **argv)
{
    static const char usage[] = "usage: ddb2es entities [--env NAME] [--config FILE]\n"
                                "Lists the entities (shipped and from the config's entities_dirs),\n"
                                "the tables each matches, and the file it was read from.\n";
    struct cli_context ctx;
    const char *env = NULL, *config = NULL;
    int code = parse_common(argc, argv, usage, &env, &config);

    if (code >= 0)
        return code;
    code = cli_context_open(&ctx, config, env);
    if (code == EXIT_ALL_OK) {
        printf("%-14s %-28s %s\n", "ENTITY", "TABLES", "FILE");
        for (size_t i = 0; i < entity_set_count(ctx.entities); i++) {
            const struct entity *e = entity_set_at(ctx.entities, i);
            char tables[256] = "";
            size_t used = 0;
            for (size_t t = 0; t < entity_table_count(e); t++) {
                int n = snprintf(tables + used, sizeof(tables) - used, "%s%s", t ? "," : "", entity_table(e, t));
                if (n < 0 || (size_t)n >= sizeof(tables) - used)
                    break;
                used += (size_t)n;
            }
            printf("%-14s %-28s %s\n", entity_name(e), used ? tables : "-", entity_source_path(e));
        }
    }
    cli_context_close(&ctx);
    return code;
}

int cmd_tables(int argc, char **argv)
{
    static const char usage[] = "usage: ddb2es tables [--env NAME] [--config FILE]\n"
                                "Lists the DynamoDB tables of the environment and the entity each matches.\n";
    struct cli_context ctx;
    struct ddb_options dop;
    struct ddb_client *c = NULL;
    struct ddb2es_error err;
    const char *env = NULL, *config = NULL;
    char **names = NULL;
    size_t n = 0;
    int code = parse_common(argc, argv, usage, &env, &config);

    if (code >= 0)
        return code;
    ddb2es_error_clear(&err);
    code = cli_context_open(&ctx, config, env);
    if (code)
        goto out;
    memset(&dop, 0, sizeof(dop));
    dop.region = ctx.region;
    dop.endpoint = ctx.env->ddb_endpoint;
    dop.creds = ctx.creds;
    c = ddb_client_new(&dop, &err);
    if (!c || ddb_list_tables(c, &names, &n, &err)) {
        cli_error(&err);
        code = EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct entity *e = entity_set_find_table(ctx.entities, names[i]);
        printf("%-40s %s\n", names[i], e ? entity_name(e) : "-");
    }
out:
    ddb_names_free(names);
    ddb_client_free(c);
    cli_context_close(&ctx);
    return code;
}

int cmd_envs(int argc, char **argv)
{
    static const char usage[] = "usage: ddb2es envs [--config FILE]\n"
                                "Lists the environments of the configuration.\n";
    struct ddb2es_config *cfg = NULL;
    struct ddb2es_error err;
    const char *env = NULL, *config = NULL;
    char path[4096];
    int code = parse_common(argc, argv, usage, &env, &config);

    if (code >= 0)
        return code;
    ddb2es_error_clear(&err);
    if (config_locate(config, NULL, NULL, path, sizeof(path), &err) || config_load_file(path, &cfg, &err)) {
        cli_error(&err);
        return EXIT_USAGE;
    }
    printf("%-16s %-12s %-10s %s\n", "ENVIRONMENT", "REGION", "PROTECTED", "ELASTICSEARCH");
    for (size_t i = 0; i < cfg->nenvs; i++)
        printf("%-16s %-12s %-10s %s\n", cfg->envs[i].name, cfg->envs[i].region,
               cfg->envs[i].is_protected ? "yes" : "no", cfg->envs[i].es_url);
    config_free(cfg);
    return EXIT_ALL_OK;
}
