/*
 * cmd_verify.c - `ddb2es verify`: does the index hold exactly the table?
 * Reports the ids missing from the index, the orphans, and with --content
 * the documents that differ from what the entity maps now; exit 0 when
 * equal, 1 when not, so CI can gate a reindex on it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ddb2es/es.h"
#include "orphans_cli.h"

static void verify_usage(FILE *out)
{
    fprintf(out,
            "usage: ddb2es verify --env NAME --table TABLE --index INDEX [options]\n"
            "\n"
            "Compares a table with its index: the ids missing from the index, the documents\n"
            "whose item is gone (orphans) and, with --content, the documents that differ from\n"
            "what the entity maps now (field by field, as JSON values).\n"
            "\n"
            "  --env NAME            environment from the configuration\n"
            "  --table TABLE         DynamoDB table\n"
            "  --index INDEX         index (or alias)\n"
            "  --entity NAME         entity mapping; default: the table's\n"
            "  --content             also compare every document (reads every item and document)\n"
            "  --first N             how many ids of each kind to show (default 20)\n"
            "  --segments N          parallel scan segments of the table (default: from its size)\n"
            "  --format text|json    the report on stdout\n"
            "  --config FILE         configuration (default $DDB2ES_CONFIG, ~/.config/ddb2es/config.json)\n"
            "  --progress MODE       auto (a line on a terminal), json (JSON lines), none\n"
            "  --help                this text\n"
            "\n"
            "Exit: 0 equal, 1 different, 2 usage/config/connection, 130 cancelled.\n");
}

enum { OPT_ENTITY = 256, OPT_CONFIG, OPT_CONTENT, OPT_FIRST, OPT_FORMAT, OPT_PROGRESS, OPT_SEGMENTS };

static const struct option verify_opts[] = {
    {"env", required_argument, NULL, 'e'},
    {"table", required_argument, NULL, 't'},
    {"index", required_argument, NULL, 'i'},
    {"entity", required_argument, NULL, OPT_ENTITY},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"content", no_argument, NULL, OPT_CONTENT},
    {"first", required_argument, NULL, OPT_FIRST},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"segments", required_argument, NULL, OPT_SEGMENTS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct verify_cli {
    const char *env, *table, *index, *entity, *config;
    int content, json;
    long first, segments;
    enum cli_progress pmode;
};

static int parse_args(int argc, char **argv, struct verify_cli *a)
{
    int c;

    optind = 1;
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, "+h", verify_opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'e': a->env = optarg; break;
        case 't': a->table = optarg; break;
        case 'i': a->index = optarg; break;
        case OPT_ENTITY: a->entity = optarg; break;
        case OPT_CONFIG: a->config = optarg; break;
        case OPT_CONTENT: a->content = 1; break;
        case OPT_FIRST:
            a->first = cli_parse_long("--first", optarg, 1, 100000);
            if (a->first < 0)
                return EXIT_USAGE;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                a->json = 1;
            else if (strcmp(optarg, "text") != 0)
                return cli_fail(EXIT_USAGE, "--format '%s': expected text or json", optarg);
            break;
        case OPT_PROGRESS:
            if (cli_progress_parse(optarg, &a->pmode))
                return EXIT_USAGE;
            break;
        case OPT_SEGMENTS:
            a->segments = cli_parse_long("--segments", optarg, 1, 1024);
            if (a->segments < 0)
                return EXIT_USAGE;
            break;
        case 'h':
            verify_usage(stdout);
            return EXIT_ALL_OK;
        default:
            return cli_usage_error("verify", verify_usage, "option '%s' needs a value or is unknown", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cli_usage_error("verify", verify_usage, "unexpected argument '%s'", argv[optind]);
    }
    if (!a->table || !a->index) {
        return cli_usage_error("verify", verify_usage, "--table and --index are required");
    }
    return -1;
}

static void text_list(const char *title, unsigned long long count, const char *const *ids, const char *const *why,
                      size_t n)
{
    printf("%s: %llu\n", title, count);
    for (size_t i = 0; i < n; i++) {
        if (why && why[i] && why[i][0] && ids[i][0])
            printf("  %s: %s\n", ids[i], why[i]);
        else
            printf("  %s\n", ids[i][0] ? ids[i] : why[i]);
    }
    if (count > n)
        printf("  ... and %llu more\n", count - n);
}

static void json_list(struct dbuf *b, const char *key, unsigned long long count, const char *const *ids,
                      const char *const *why, const char *why_key, size_t n)
{
    dbuf_printf(b, ",\"%s\":{\"count\":%llu,\"first\":[", key, count);
    for (size_t i = 0; i < n; i++) {
        if (i)
            dbuf_putc(b, ',');
        if (why) {
            dbuf_puts(b, "{\"id\":");
            es_json_string(b, ids[i], strlen(ids[i]), NULL);
            dbuf_printf(b, ",\"%s\":", why_key);
            es_json_string(b, why[i], strlen(why[i]), NULL);
            dbuf_putc(b, '}');
        } else {
            es_json_string(b, ids[i], strlen(ids[i]), NULL);
        }
    }
    dbuf_puts(b, "]}");
}

static void report(const struct verify_cli *a, const struct orphans_snapshot *s, const struct orphans_result *r,
                   int equal)
{
    if (a->json) {
        struct dbuf b = DBUF_INIT;

        dbuf_puts(&b, "{\"table\":");
        es_json_string(&b, a->table, strlen(a->table), NULL);
        dbuf_puts(&b, ",\"index\":");
        es_json_string(&b, a->index, strlen(a->index), NULL);
        dbuf_printf(&b, ",\"equal\":%s,\"content\":%s,\"table_items\":%llu,\"index_documents\":%llu",
                    equal ? "true" : "false", a->content ? "true" : "false", s->keys_scanned, s->ids_checked);
        json_list(&b, "missing", s->missing, r->missing, NULL, NULL, r->nmissing);
        json_list(&b, "orphans", s->orphans, r->orphans, NULL, NULL, r->norphans);
        if (a->content) {
            dbuf_printf(&b, ",\"compared\":%llu", s->compared);
            json_list(&b, "differing", s->differing, r->differing, r->diff_paths, "field", r->ndiffering);
        }
        dbuf_printf(&b, ",\"unmapped\":{\"count\":%llu,\"first\":[", s->unmapped);
        for (size_t i = 0; i < r->nunmapped; i++) {
            if (i)
                dbuf_putc(&b, ',');
            es_json_string(&b, r->unmapped[i], strlen(r->unmapped[i]), NULL);
        }
        dbuf_printf(&b, "]},\"seconds\":%.3f}\n", s->elapsed);
        fputs(dbuf_cstr(&b), stdout);
        dbuf_free(&b);
        return;
    }
    printf("%s: table %s (%llu items) and index %s (%llu documents)%s\n", equal ? "equal" : "different", a->table,
           s->keys_scanned, a->index, s->ids_checked, a->content ? ", content compared" : "");
    text_list("missing from the index", s->missing, r->missing, NULL, r->nmissing);
    text_list("orphans (in the index, not in the table)", s->orphans, r->orphans, NULL, r->norphans);
    if (a->content)
        text_list("documents that differ from the entity's mapping", s->differing, r->differing, r->diff_paths,
                  r->ndiffering);
    if (s->unmapped)
        text_list("items the entity cannot map", s->unmapped, r->unmapped, NULL, r->nunmapped);
}

int cmd_verify(int argc, char **argv)
{
    struct verify_cli a;
    struct cli_context ctx;
    struct orphans_options o;
    struct orphans_snapshot snap;
    struct orphans_job *job = NULL;
    struct ddb2es_error err;
    const struct entity *e;
    int rc, code, equal;

    memset(&a, 0, sizeof(a));
    memset(&ctx, 0, sizeof(ctx));
    ddb2es_error_clear(&err);
    code = parse_args(argc, argv, &a);
    if (code >= 0)
        return code;
    code = cli_context_open(&ctx, a.config, a.env);
    if (code)
        goto out;
    e = cli_pick_entity(&ctx, a.entity, a.table);
    if (!e) {
        code = EXIT_USAGE;
        goto out;
    }
    memset(&o, 0, sizeof(o));
    cli_orphans_options(&ctx, a.table, a.index, e, &o);
    o.mode = ORPHANS_VERIFY;
    o.content = a.content;
    o.first_ids = a.first > 0 ? (size_t)a.first : 0;
    o.total_segments = (int)a.segments;
    rc = cli_orphans_run(&o, a.pmode, &job, &snap, &err);
    if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
        goto out;
    }
    equal = snap.missing == 0 && snap.orphans == 0 && snap.differing == 0 && snap.unmapped == 0;
    report(&a, &snap, orphans_job_result(job), equal);
    fflush(stdout);
    code = equal ? EXIT_ALL_OK : EXIT_SOME_FAILED;
out:
    orphans_free(job);
    cli_context_close(&ctx);
    return code;
}
