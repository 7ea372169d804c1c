/*
 * cmd_preview.c - `ddb2es preview`: the documents a sync would write for the
 * first items of a table, what would happen to the index, and, with
 * --compare, what would change in it. Read-only: nothing is written to
 * DynamoDB or Elasticsearch (the console's preview calls the same
 * preview_run()).
 *
 * Output: with --format ndjson, stdout holds only JSON lines (the documents,
 * or one record per item when the source or a comparison is asked) and the
 * summary goes to stderr, so the output can be piped; with --format pretty
 * (the default) everything is on stdout for a person to read.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ddb2es/buf.h"
#include "ddb2es/ddbjson.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/es.h"
#include "ddb2es/indexdef.h"
#include "ddb2es/preview.h"

/* Longest value a pretty diff line shows before cutting it ("..."). */
#define SHOW_MAX 200

static void preview_usage(FILE *out)
{
    fprintf(out,
            "usage: ddb2es preview --env NAME --table TABLE [options]\n"
            "\n"
            "Shows the documents a sync would write for the first items of a table, what\n"
            "would happen to the target index, and the items that do not map. Writes nothing.\n"
            "\n"
            "  --env NAME          environment from the configuration\n"
            "  --table TABLE       DynamoDB table\n"
            "  --entity NAME       entity mapping; default: the one matching the table\n"
            "  --limit N           documents to show (default 10, at most %d); the Scan reads\n"
            "                      only what it needs\n"
            "  --format FORMAT     pretty (default: indented, for reading) or ndjson (one JSON\n"
            "                      line per document on stdout, the summary on stderr)\n"
            "  --show-source       also show each item as it is in DynamoDB (as plain JSON)\n"
            "  --compare INDEX     fetch the documents INDEX holds for those ids and mark each\n"
            "                      new, unchanged or changed, with the changed fields\n"
            "  --index INDEX       the index a sync would write to, for the index outcome\n"
            "                      (default: the --compare index, else the entity's name)\n"
            "  --config FILE       configuration (default $DDB2ES_CONFIG, ~/.config/ddb2es/config.json)\n"
            "  --help              this text\n"
            "\n"
            "With --format ndjson and --show-source or --compare, each line is a record:\n"
            "  {\"id\":..,\"document\":..,\"error\":..,\"source\":..,\"change\":..,\"diff\":[{\"op\",\"path\",\"old\",\"new\"}]}\n"
            "\n"
            "Exit: 0 shown (also when some items do not map), 2 usage/config/connection.\n",
            PREVIEW_MAX_LIMIT);
}

enum { OPT_ENTITY = 256, OPT_LIMIT, OPT_FORMAT, OPT_SHOW_SOURCE, OPT_COMPARE, OPT_INDEX, OPT_CONFIG };

static const struct option preview_opts[] = {
    {"env", required_argument, NULL, 'e'},
    {"table", required_argument, NULL, 't'},
    {"entity", required_argument, NULL, OPT_ENTITY},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"show-source", no_argument, NULL, OPT_SHOW_SOURCE},
    {"compare", required_argument, NULL, OPT_COMPARE},
    {"index", required_argument, NULL, OPT_INDEX},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct preview_args {
    const char *env, *config, *table, *entity, *compare, *index;
    long limit;
    int ndjson;
    int show_source;
};

/* Returns -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, struct preview_args *a)
{
    int c;

    memset(a, 0, sizeof(*a));
    a->limit = 10;
    optind = 1;
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, "+h", preview_opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'e': a->env = optarg; break;
        case 't': a->table = optarg; break;
        case OPT_ENTITY: a->entity = optarg; break;
        case OPT_LIMIT:
            a->limit = cli_parse_long("--limit", optarg, 1, PREVIEW_MAX_LIMIT);
            if (a->limit < 0)
                return EXIT_USAGE;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "ndjson") == 0)
                a->ndjson = 1;
            else if (strcmp(optarg, "pretty") == 0)
                a->ndjson = 0;
            else
                return cli_fail(EXIT_USAGE, "--format '%s': expected ndjson or pretty", optarg);
            break;
        case OPT_SHOW_SOURCE: a->show_source = 1; break;
        case OPT_COMPARE: a->compare = optarg; break;
        case OPT_INDEX: a->index = optarg; break;
        case OPT_CONFIG: a->config = optarg; break;
        case 'h':
            preview_usage(stdout);
            return EXIT_ALL_OK;
        default:
            return cli_usage_error("preview", preview_usage, "option '%s' needs a value or is unknown", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cli_usage_error("preview", preview_usage, "unexpected argument '%s'", argv[optind]);
    }
    if (!a->table) {
        return cli_usage_error("preview", preview_usage, "--table is required");
    }
    return -1;
}

/* ---- ndjson ------------------------------------------------------------------ */

static int put_string(struct dbuf *b, const char *s)
{
    return ddbjson_escape_string(b, s, strlen(s), 0);
}

/* One record line: {"id","document"|"error","source","change","diff"}. */
static int ndjson_record(const struct preview_item *it, int show_source, int compared, struct dbuf *b)
{
    int rc = dbuf_puts(b, "{\"id\":");

    if (!rc)
        rc = it->id ? put_string(b, it->id) : dbuf_puts(b, "null");
    if (!rc && it->mapped) {
        rc = dbuf_puts(b, ",\"document\":");
        if (!rc)
            rc = dbuf_append(b, it->document, it->document_len);
    } else if (!rc) {
        rc = dbuf_puts(b, ",\"document\":null,\"error\":");
        if (!rc)
            rc = put_string(b, it->error);
    }
    if (!rc && show_source) {
        rc = dbuf_puts(b, ",\"source\":");
        if (!rc)
            rc = it->source ? dbuf_puts(b, it->source) : dbuf_puts(b, "null");
        if (!rc && it->source_error) {
            rc = dbuf_puts(b, ",\"source_error\":");
            if (!rc)
                rc = put_string(b, it->source_error);
        }
    }
    if (!rc && compared && it->mapped) {
        rc = dbuf_puts(b, ",\"change\":");
        if (!rc)
            rc = put_string(b, preview_change_name(it->change));
        if (!rc && it->compare_error) {
            rc = dbuf_puts(b, ",\"compare_error\":");
            if (!rc)
                rc = put_string(b, it->compare_error);
        }
        if (!rc && it->change == PREVIEW_CHANGED) {
            rc = dbuf_puts(b, ",\"diff\":[");
            for (size_t k = 0; !rc && k < it->diffs.n; k++) {
                const struct preview_diff *d = &it->diffs.v[k];
                rc = dbuf_printf(b, "%s{\"op\":\"%s\",\"path\":", k ? "," : "", preview_diff_kind_name(d->kind));
                if (!rc)
                    rc = put_string(b, d->path);
                if (!rc && d->old_json)
                    rc = dbuf_printf(b, ",\"old\":%s", d->old_json);
                if (!rc && d->new_json)
                    rc = dbuf_printf(b, ",\"new\":%s", d->new_json);
                if (!rc)
                    rc = dbuf_putc(b, '}');
            }
            if (!rc)
                rc = dbuf_putc(b, ']');
            if (!rc && it->diffs.omitted)
                rc = dbuf_printf(b, ",\"diff_omitted\":%zu", it->diffs.omitted);
        }
    }
    if (!rc)
        rc = dbuf_puts(b, "}\n");
    return rc;
}

static int print_ndjson(const struct preview_result *r, const struct preview_args *a)
{
    struct dbuf b = DBUF_INIT;
    int records = a->show_source || a->compare, rc = DDB2ES_OK;

    for (size_t i = 0; !rc && i < r->nitems; i++) {
        const struct preview_item *it = &r->items[i];
        dbuf_reset(&b);
        if (records) {
            rc = ndjson_record(it, a->show_source, r->compared, &b);
        } else if (it->mapped) {
            rc = dbuf_append(&b, it->document, it->document_len);
            if (!rc)
                rc = dbuf_putc(&b, '\n');
        }
        if (!rc && b.len)
            fwrite(b.data, 1, b.len, stdout);
    }
    dbuf_free(&b);
    return rc;
}

/* ---- pretty -------------------------------------------------------------------- */

/* A JSON value on one line, cut after SHOW_MAX bytes (at a UTF-8 boundary). */
static void show_value(FILE *out, const char *json)
{
    size_t n = strlen(json);

    if (n <= SHOW_MAX) {
        fputs(json, out);
        return;
    }
    n = SHOW_MAX;
    while (n > 0 && ((unsigned char)json[n] & 0xC0) == 0x80)
        n--;
    fprintf(out, "%.*s... (%zu bytes)", (int)n, json, strlen(json));
}

static void print_indented(FILE *out, const char *json, size_t len)
{
    struct dbuf b = DBUF_INIT;
    struct ddb2es_error err;

    dbuf_puts(&b, "  ");
    if (preview_indent_json(json, len, "  ", &b, &err) == DDB2ES_OK)
        fprintf(out, "%s\n", b.data);
    else
        fprintf(out, "  %.*s\n", (int)len, json);
    dbuf_free(&b);
}

static void print_item_pretty(FILE *out, const struct preview_item *it, size_t total, int compared)
{
    fprintf(out, "== item %zu of %zu: id %s", it->position + 1, total, it->id ? it->id : "(unreadable)");
    if (!it->mapped)
        fprintf(out, ": NOT MAPPED ==\n  %s\n", it->error);
    else if (compared)
        fprintf(out, ": %s ==\n", preview_change_name(it->change));
    else
        fprintf(out, " ==\n");
    if (it->mapped) {
        fprintf(out, "document:\n");
        print_indented(out, it->document, it->document_len);
    }
    if (it->source) {
        fprintf(out, "source (the DynamoDB item as JSON):\n");
        print_indented(out, it->source, strlen(it->source));
    } else if (it->source_error) {
        fprintf(out, "source: cannot be shown: %s\n", it->source_error);
    }
    if (it->compare_error)
        fprintf(out, "cannot compare: %s\n", it->compare_error);
    if (it->change == PREVIEW_CHANGED) {
        fprintf(out, "changes (indexed -> new):\n");
        for (size_t k = 0; k < it->diffs.n; k++) {
            const struct preview_diff *d = &it->diffs.v[k];
            switch (d->kind) {
            case PREVIEW_DIFF_ADDED:
                fprintf(out, "  + %s: ", d->path);
                show_value(out, d->new_json);
                break;
            case PREVIEW_DIFF_REMOVED:
                fprintf(out, "  - %s: ", d->path);
                show_value(out, d->old_json);
                break;
            case PREVIEW_DIFF_CHANGED:
                fprintf(out, "  ~ %s: ", d->path);
                show_value(out, d->old_json);
                fputs(" -> ", out);
                show_value(out, d->new_json);
                break;
            }
            fputc('\n', out);
        }
        if (it->diffs.omitted)
            fprintf(out, "  ... and %zu more\n", it->diffs.omitted);
    }
    fputc('\n', out);
}

/* ---- summary --------------------------------------------------------------------- */

static void print_summary(FILE *out, const struct preview_result *r, const struct preview_args *a,
                          const struct entity *e)
{
    struct dbuf b = DBUF_INIT;

    fprintf(out, "preview of table %s with entity %s (%s):\n", a->table, entity_name(e), entity_source_path(e));
    fprintf(out, "  read %zu item%s in %zu Scan request%s (%.1f read capacity units)%s\n", r->read,
            r->read == 1 ? "" : "s", r->requests, r->requests == 1 ? "" : "s", r->consumed_rcu,
            r->more ? "; the table has more" : "; that is the whole table");
    fprintf(out, "  mapped %zu, failed mapping %zu\n", r->mapped, r->failed);
    for (size_t i = 0; i < r->nitems; i++)
        if (!r->items[i].mapped)
            fprintf(out, "    not mapped: %s\n", r->items[i].error);
    if (r->index_checked && indexdef_report_describe(&r->index_report, &b) == DDB2ES_OK) {
        /* one line per sentence, indented under the summary */
        const char *p = dbuf_cstr(&b);
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            fprintf(out, "  %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
    }
    if (r->compared) {
        fprintf(out, "  compared with index '%s'%s: %zu new, %zu unchanged, %zu changed", r->compare_index,
                r->compare_index_missing ? " (it does not exist)" : "", r->n_new, r->n_unchanged, r->n_changed);
        if (r->n_compare_failed)
            fprintf(out, ", %zu could not be compared", r->n_compare_failed);
        fputc('\n', out);
    }
    dbuf_free(&b);
}

/* ---- the command ------------------------------------------------------------------- */

int cmd_preview(int argc, char **argv)
{
    struct preview_args a;
    struct cli_context ctx;
    struct ddb_options dop;
    struct preview_options po;
    struct ddb2es_error err;
    struct ddb_client *ddb = NULL;
    struct es_client *es = NULL;
    struct preview_result *r = NULL;
    const struct entity *e;
    int code, rc, ctx_open = 0;

    code = parse_args(argc, argv, &a);
    if (code >= 0)
        return code;
    ddb2es_error_clear(&err);
    code = cli_context_open(&ctx, a.config, a.env);
    ctx_open = 1;
    if (code)
        goto out;
    e = cli_pick_entity(&ctx, a.entity, a.table);
    if (!e) {
        code = EXIT_USAGE;
        goto out;
    }
    memset(&dop, 0, sizeof(dop));
    dop.region = ctx.region;
    dop.endpoint = ctx.env->ddb_endpoint;
    dop.creds = ctx.creds;
    ddb = ddb_client_new(&dop, &err);
    if (ddb)
        es = cli_es_client(&ctx, ctx.env->es_url, &err);
    if (!ddb || !es) {
        cli_error(&err);
        code = EXIT_USAGE;
        goto out;
    }
    memset(&po, 0, sizeof(po));
    po.ddb = ddb;
    po.es = es;
    po.table = a.table;
    po.entity = e;
    po.limit = (size_t)a.limit;
    po.with_source = a.show_source != 0;
    po.index = a.index ? a.index : a.compare ? a.compare : entity_name(e);
    po.compare_index = a.compare;
    rc = preview_run(&po, &r, &err);
    if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
        goto out;
    }
    if (a.ndjson) {
        if (print_ndjson(r, &a)) {
            code = cli_fail(EXIT_USAGE, "out of memory printing the preview");
            goto out;
        }
        fflush(stdout);
        print_summary(stderr, r, &a, e);
    } else {
        for (size_t i = 0; i < r->nitems; i++)
            print_item_pretty(stdout, &r->items[i], r->nitems, r->compared);
        print_summary(stdout, r, &a, e);
    }
    code = EXIT_ALL_OK;
out:
    preview_result_free(r);
    es_client_free(es);
    ddb_client_free(ddb);
    if (ctx_open)
        cli_context_close(&ctx);
    return code;
}
