/*
 * cmd_orphans.c - `ddb2es orphans`: the documents of an index whose items
 * are gone from the table; with --delete, deleting them safely.
 *
 * The flow: options -> environment (and, to delete, the guard and the
 * confirmation) -> candidates (a listing job whose finds are printed as they
 * come, or a reviewed file given with --from) -> the operator's yes -> the
 * delete job (re-check, cap, if_seq_no, audit in core) -> summary, exit code.
 * Listing never changes anything.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddb2es/audit.h"
#include "ddb2es/es_bulk.h"
#include "ddb2es/guard.h"
#include "orphans_cli.h"

static void orphans_usage(FILE *out)
{
    fprintf(out,
            "usage: ddb2es orphans --env NAME --table TABLE --index INDEX [options]\n"
            "\n"
            "Lists the documents of INDEX whose item no longer exists in TABLE (orphans).\n"
            "Listing never changes anything.\n"
            "\n"
            "  --env NAME                 environment from the configuration\n"
            "  --table TABLE              DynamoDB table\n"
            "  --index INDEX              index (or alias)\n"
            "  --entity NAME              entity (its id attribute names the _id); default: the table's\n"
            "  --config FILE              configuration (default $DDB2ES_CONFIG, ~/.config/ddb2es/config.json)\n"
            "  --format text|json|bulk    text: one id a line; json: an array of {id, seq_no, primary_term};\n"
            "                             bulk: an NDJSON _bulk body of deletes (with if_seq_no) to review\n"
            "  --with-source              json: each orphan's document too\n"
            "  --strategy a|b             a: scan the table's keys, then read the index ids;\n"
            "                             b: check each index id with BatchGetItem (small index, big table);\n"
            "                             default: chosen from ItemCount and the index's _count\n"
            "  --segments N               parallel scan segments of the table (default: from its size)\n"
            "  --progress MODE            auto (a line on a terminal), json (JSON lines), none\n"
            "\n"
            "Deleting:\n"
            "  --delete                   delete the orphans: each is read again from the table first\n"
            "                             (consistent read: an item created since is kept), and each delete\n"
            "                             carries the if_seq_no read at listing (a re-indexed document is kept)\n"
            "  --from FILE                delete the orphans of a reviewed --format bulk or json listing\n"
            "  --yes                      do not ask (needed when stdin is not a terminal)\n"
            "  --confirm NAME             confirm a protected environment by typing its name\n"
            "  --max-delete-percent P     refuse to delete more than P%% of the index (default 10)\n"
            "  --help                     this text\n"
            "\n"
            "Exit: 0 done, 1 some deletes failed, 2 usage/config/connection, 3 guard or cap refused,\n"
            "130 cancelled.\n");
}

enum { OPT_ENTITY = 256, OPT_CONFIG, OPT_FORMAT, OPT_WITH_SOURCE, OPT_STRATEGY, OPT_DELETE, OPT_FROM, OPT_YES,
       OPT_CONFIRM, OPT_MAX_PCT, OPT_PROGRESS, OPT_SEGMENTS };

static const struct option orphans_opts[] = {
    {"env", required_argument, NULL, 'e'},
    {"table", required_argument, NULL, 't'},
    {"index", required_argument, NULL, 'i'},
    {"entity", required_argument, NULL, OPT_ENTITY},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"with-source", no_argument, NULL, OPT_WITH_SOURCE},
    {"strategy", required_argument, NULL, OPT_STRATEGY},
    {"delete", no_argument, NULL, OPT_DELETE},
    {"from", required_argument, NULL, OPT_FROM},
    {"yes", no_argument, NULL, OPT_YES},
    {"confirm", required_argument, NULL, OPT_CONFIRM},
    {"max-delete-percent", required_argument, NULL, OPT_MAX_PCT},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"segments", required_argument, NULL, OPT_SEGMENTS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

enum format { FMT_TEXT, FMT_JSON, FMT_BULK };

struct orphans_cli {
    const char *env, *table, *index, *entity, *config, *from, *confirm;
    enum format fmt;
    int with_source, del, yes;
    enum orphans_strategy strategy;
    double max_pct;
    int segments;
    enum cli_progress pmode;
};

/* ---------------------------------------------------- shared with verify */

int cli_progress_parse(const char *v, enum cli_progress *out)
{
    if (strcmp(v, "auto") == 0)
        *out = CLI_PROGRESS_AUTO;
    else if (strcmp(v, "json") == 0)
        *out = CLI_PROGRESS_JSON;
    else if (strcmp(v, "none") == 0)
        *out = CLI_PROGRESS_NONE;
    else
        return cli_fail(-1, "--progress '%s': expected auto, json or none", v);
    return 0;
}

void cli_orphans_options(const struct cli_context *ctx, const char *table, const char *index,
                         const struct entity *e, struct orphans_options *o)
{
    o->table = table;
    o->index = index;
    o->entity = e;
    o->region = ctx->region;
    o->ddb_endpoint = ctx->env->ddb_endpoint;
    o->creds = ctx->creds;
    o->es_url = ctx->env->es_url;
    o->es_username = ctx->env->es_username;
    o->es_password = ctx->es_password;
    o->es_sigv4 = ctx->env->es_sigv4;
    o->es_aws_service = ctx->env->es_aws_service;
    o->es_ca_file = ctx->env->es_ca_file;
}

static void progress_line(const struct orphans_snapshot *s)
{
    if (s->mode == ORPHANS_DELETE)
        fprintf(stderr, "\r\033[K%s  %llu/%llu  deleted %llu  kept %llu  failed %llu", orphans_stage_name(s->stage),
                s->deleted + s->kept_came_back + s->kept_changed + s->already_gone + s->failed, s->candidates,
                s->deleted, s->kept_came_back + s->kept_changed, s->failed);
    else
        fprintf(stderr, "\r\033[K%s  keys %llu  ids checked %llu  orphans %llu  set %.1f MiB  %.0f s",
                orphans_stage_name(s->stage), s->keys_scanned, s->ids_checked, s->orphans,
                (double)s->set_bytes / 1048576.0, s->elapsed);
    fflush(stderr);
}

static void progress_json(const struct orphans_snapshot *s)
{
    static const char *keys[] = {"prepare", "table", "index", "missing", "delete"};

    fprintf(stderr,
            "{\"stage\":\"%s\",\"state\":\"%s\",\"elapsed\":%.3f,\"strategy\":\"%s\",\"keys_scanned\":%llu,"
            "\"ids_checked\":%llu,\"orphans\":%llu,\"missing\":%llu,\"differing\":%llu,\"set_ids\":%zu,"
            "\"set_bytes\":%zu,\"deleted\":%llu,\"kept_came_back\":%llu,\"kept_changed\":%llu,\"failed\":%llu,"
            "\"ddb_requests\":%llu,\"es_requests\":%llu,\"stage_seconds\":{",
            orphans_stage_name(s->stage), orphans_state_name(s->state), s->elapsed,
            s->strategy == ORPHANS_STRATEGY_B ? "b" : "a", s->keys_scanned, s->ids_checked, s->orphans, s->missing,
            s->differing, s->set_ids, s->set_bytes, s->deleted, s->kept_came_back, s->kept_changed, s->failed,
            s->ddb_requests, s->es_requests);
    for (int i = 0; i < ORPHANS_STAGE_FINISHED; i++)
        fprintf(stderr, "%s\"%s\":%.3f", i ? "," : "", keys[i], s->stage_seconds[i]);
    fputs("}}\n", stderr);
}

int cli_orphans_run(const struct orphans_options *o, enum cli_progress pmode, struct orphans_job **out,
                    struct orphans_snapshot *snap, struct ddb2es_error *err)
{
    struct orphans_job *job = NULL;
    struct pollfd pfd;
    double last_json = -1;
    int rc, seen_int = cli_interrupted();

    *out = NULL;
    memset(snap, 0, sizeof(*snap));
    if (pmode == CLI_PROGRESS_AUTO && !isatty(STDERR_FILENO))
        pmode = CLI_PROGRESS_NONE;
    rc = orphans_start(o, &job, err);
    if (rc)
        return rc;
    pfd.fd = orphans_wait_fd(job);
    pfd.events = POLLIN;
    for (;;) {
        int n = poll(&pfd, 1, 200);
        if (cli_interrupted() > seen_int) {
            seen_int = cli_interrupted();
            fprintf(stderr, "\nddb2es: stopping after the current page\n");
            orphans_cancel(job);
        }
        orphans_snapshot(job, snap);
        if (pmode == CLI_PROGRESS_AUTO) {
            progress_line(snap);
        } else if (pmode == CLI_PROGRESS_JSON && (last_json < 0 || snap->elapsed - last_json >= 1.0)) {
            progress_json(snap);
            last_json = snap->elapsed;
        }
        if (n > 0)
            break;
    }
    if (pmode == CLI_PROGRESS_AUTO)
        fputc('\n', stderr);
    rc = orphans_join(job, err);
    orphans_snapshot(job, snap);
    if (pmode == CLI_PROGRESS_JSON)
        progress_json(snap);
    *out = job;
    return rc;
}

/* ----------------------------------------------------------------- output */

struct printer {
    enum format fmt;
    const char *index;
    size_t n;
    struct dbuf line;
};

static void print_found(void *ctx, const struct orphans_item *it)
{
    struct printer *p = ctx;

    dbuf_reset(&p->line);
    switch (p->fmt) {
    case FMT_TEXT:
        dbuf_puts(&p->line, it->id);
        dbuf_putc(&p->line, '\n');
        break;
    case FMT_BULK:
        es_bulk_delete(&p->line, p->index, it->id, -1, it->seq_no, it->primary_term, NULL);
        break;
    case FMT_JSON:
        dbuf_puts(&p->line, p->n ? ",\n  {\"id\":" : "[\n  {\"id\":");
        es_json_string(&p->line, it->id, strlen(it->id), NULL);
        dbuf_printf(&p->line, ",\"seq_no\":%lld,\"primary_term\":%lld", it->seq_no, it->primary_term);
        if (it->source) {
            dbuf_puts(&p->line, ",\"_source\":");
            dbuf_append(&p->line, it->source, it->source_len);
        }
        dbuf_putc(&p->line, '}');
        break;
    }
    fwrite(p->line.data, 1, p->line.len, stdout);
    p->n++;
}

static void print_end(struct printer *p)
{
    if (p->fmt == FMT_JSON)
        fputs(p->n ? "\n]\n" : "[]\n", stdout);
    fflush(stdout);
}

/* ------------------------------------------------------------------ flow */

static int parse_args(int argc, char **argv, struct orphans_cli *a)
{
    long v;
    int c;

    optind = 1;
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, "+h", orphans_opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'e': a->env = optarg; break;
        case 't': a->table = optarg; break;
        case 'i': a->index = optarg; break;
        case OPT_ENTITY: a->entity = optarg; break;
        case OPT_CONFIG: a->config = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0)
                a->fmt = FMT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                a->fmt = FMT_JSON;
            else if (strcmp(optarg, "bulk") == 0)
                a->fmt = FMT_BULK;
            else
                return cli_fail(EXIT_USAGE, "--format '%s': expected text, json or bulk", optarg);
            break;
        case OPT_WITH_SOURCE: a->with_source = 1; break;
        case OPT_STRATEGY:
            if (strcmp(optarg, "a") == 0 || strcmp(optarg, "A") == 0)
                a->strategy = ORPHANS_STRATEGY_A;
            else if (strcmp(optarg, "b") == 0 || strcmp(optarg, "B") == 0)
                a->strategy = ORPHANS_STRATEGY_B;
            else
                return cli_fail(EXIT_USAGE, "--strategy '%s': expected a or b", optarg);
            break;
        case OPT_DELETE: a->del = 1; break;
        case OPT_FROM: a->from = optarg; break;
        case OPT_YES: a->yes = 1; break;
        case OPT_CONFIRM: a->confirm = optarg; break;
        case OPT_MAX_PCT:
            v = cli_parse_long("--max-delete-percent", optarg, 1, 100);
            if (v < 0)
                return EXIT_USAGE;
            a->max_pct = (double)v;
            break;
        case OPT_PROGRESS:
            if (cli_progress_parse(optarg, &a->pmode))
                return EXIT_USAGE;
            break;
        case OPT_SEGMENTS:
            v = cli_parse_long("--segments", optarg, 1, 1024);
            if (v < 0)
                return EXIT_USAGE;
            a->segments = (int)v;
            break;
        case 'h':
            orphans_usage(stdout);
            return EXIT_ALL_OK;
        default:
            return cli_usage_error("orphans", orphans_usage, "option '%s' needs a value or is unknown", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cli_usage_error("orphans", orphans_usage, "unexpected argument '%s'", argv[optind]);
    }
    if (!a->table || !a->index) {
        return cli_usage_error("orphans", orphans_usage, "--table and --index are required");
    }
    if (!a->del && (a->from || a->yes || a->confirm || a->max_pct > 0))
        return cli_fail(EXIT_USAGE, "--from, --yes, --confirm and --max-delete-percent go with --delete");
    if (a->del && !a->yes && !isatty(STDIN_FILENO))
        return cli_fail(EXIT_USAGE, "--delete asks for confirmation on a terminal; without one, add --yes");
    return -1;
}

static int read_file(const char *path, struct dbuf *out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (!f)
        return cli_fail(EXIT_USAGE, "cannot open %s", path);
    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0)
            break;
        if (dbuf_append(out, chunk, n)) {
            if (f != stdin)
                fclose(f);
            return cli_fail(EXIT_USAGE, "out of memory reading %s", path);
        }
    }
    if (f != stdin)
        fclose(f);
    return EXIT_ALL_OK;
}

/* Asks on the terminal; true only for "yes". */
static int confirmed(const struct orphans_cli *a, const struct cli_context *ctx, size_t n)
{
    char line[64];

    fprintf(stderr, "ddb2es: delete %zu document%s from '%s' (environment %s)? Each is checked again first. "
                    "Type yes: ",
            n, n == 1 ? "" : "s", a->index, ctx->env->name);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "yes") == 0;
}

static int run_delete(const struct orphans_cli *a, const struct cli_context *ctx, const struct entity *e,
                      const struct orphans_list *cands)
{
    struct orphans_options o;
    struct orphans_snapshot snap;
    struct orphans_job *job = NULL;
    struct ddb2es_error err;
    char audit_path[4096];
    int rc, code;

    ddb2es_error_clear(&err);
    if (ctx->cfg->audit_log) {
        snprintf(audit_path, sizeof(audit_path), "%s", ctx->cfg->audit_log);
    } else if (audit_default_path(NULL, NULL, audit_path, sizeof(audit_path), &err)) {
        cli_error(&err);
        return EXIT_USAGE;
    }
    memset(&o, 0, sizeof(o));
    cli_orphans_options(ctx, a->table, a->index, e, &o);
    o.mode = ORPHANS_DELETE;
    o.candidates = cands;
    o.max_delete_percent = a->max_pct;
    o.guard_env = ctx->env;
    o.audit_path = audit_path;
    o.audit_env = ctx->env->name;
    rc = cli_orphans_run(&o, a->pmode, &job, &snap, &err);
    if (job || rc != DDB2ES_E_USAGE)
        fprintf(stderr,
                "ddb2es: %s: deleted %llu, kept because the item came back %llu, kept because the document "
                "changed %llu, already gone %llu, failed %llu\n",
                a->index, snap.deleted, snap.kept_came_back, snap.kept_changed, snap.already_gone, snap.failed);
    if (job) {
        const struct orphans_result *r = orphans_job_result(job);
        for (size_t i = 0; i < r->nfailed; i++)
            fprintf(stderr, "  failed: %s: %s\n", r->failed[i], r->failed_why[i]);
    }
    if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
    } else {
        code = snap.failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
    }
    orphans_free(job);
    return code;
}

int cmd_orphans(int argc, char **argv)
{
    struct orphans_cli a;
    struct cli_context ctx;
    struct orphans_options o;
    struct orphans_snapshot snap;
    struct orphans_job *job = NULL;
    struct orphans_list from;
    struct printer pr;
    struct ddb2es_error err;
    const struct orphans_list *cands = NULL;
    const struct entity *e;
    int rc, code;

    memset(&a, 0, sizeof(a));
    memset(&ctx, 0, sizeof(ctx));
    memset(&pr, 0, sizeof(pr));
    orphans_list_init(&from);
    dbuf_init(&pr.line);
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
    if (a.del) {
        /* before any work: the table's account is checked again by the delete job */
        rc = guard_check(ctx.env, NULL, ctx.env->es_url, &err);
        if (!rc)
            rc = guard_confirm(ctx.env, a.confirm, &err);
        if (rc) {
            cli_error(&err);
            code = EXIT_GUARD;
            goto out;
        }
    }
    if (a.from) {
        struct dbuf text = DBUF_INIT;
        code = read_file(a.from, &text);
        if (!code && orphans_list_parse(text.data ? text.data : "", text.len, a.from, a.index, &from, &err)) {
            cli_error(&err);
            code = EXIT_USAGE;
        }
        dbuf_free(&text);
        if (code)
            goto out;
        cands = &from;
        fprintf(stderr, "ddb2es: %zu candidates read from %s\n", from.n, a.from);
    } else {
        memset(&o, 0, sizeof(o));
        cli_orphans_options(&ctx, a.table, a.index, e, &o);
        o.mode = ORPHANS_LIST;
        o.strategy = a.strategy;
        o.total_segments = a.segments;
        o.with_source = a.with_source && a.fmt == FMT_JSON;
        pr.fmt = a.fmt;
        pr.index = a.index;
        o.on_found = print_found;
        o.on_found_ctx = &pr;
        if (a.del) {
            o.keep = (size_t)-1;
            o.keep_percent = a.max_pct > 0 ? a.max_pct : 10.0;
        }
        rc = cli_orphans_run(&o, a.pmode, &job, &snap, &err);
        print_end(&pr);
        if (rc) {
            cli_error(&err);
            code = cli_exit_for(rc);
            goto out;
        }
        if (snap.strategy == ORPHANS_STRATEGY_B)
            fprintf(stderr, "ddb2es: %s -> %s: %llu orphans among %llu documents (strategy b: each id looked up "
                            "with BatchGetItem, %llu DynamoDB requests; %s; %.2f s)\n",
                    a.table, a.index, snap.orphans, snap.ids_checked, snap.ddb_requests,
                    snap.scan_method[0] ? snap.scan_method : "-", snap.elapsed);
        else
            fprintf(stderr, "ddb2es: %s -> %s: %llu orphans among %llu documents (strategy a: %llu table keys, set "
                            "%.1f MiB; %s; %.2f s)\n",
                    a.table, a.index, snap.orphans, snap.ids_checked, snap.keys_scanned,
                    (double)snap.set_bytes / 1048576.0, snap.scan_method[0] ? snap.scan_method : "-", snap.elapsed);
        cands = orphans_job_found(job);
        if (a.del && snap.orphans > cands->n) {
            /* the listing already exceeds the cap: the delete job would refuse; say so now */
            code = cli_fail(EXIT_GUARD,
                            "refusing to delete %llu documents: more than %g%% of the %lld in '%s'; a wrong "
                            "table or an incomplete scan looks like this. Check, then raise --max-delete-percent",
                            snap.orphans, a.max_pct > 0 ? a.max_pct : 10.0, snap.index_docs, a.index);
            goto out;
        }
    }
    if (!a.del) {
        code = EXIT_ALL_OK;
        goto out;
    }
    if (cands->n == 0) {
        fprintf(stderr, "ddb2es: nothing to delete\n");
        code = EXIT_ALL_OK;
        goto out;
    }
    if (!a.yes && !confirmed(&a, &ctx, cands->n)) {
        fprintf(stderr, "ddb2es: nothing deleted\n");
        code = EXIT_CANCELLED;
        goto out;
    }
    code = run_delete(&a, &ctx, e, cands);
out:
    orphans_free(job);
    orphans_list_free(&from);
    dbuf_free(&pr.line);
    cli_context_close(&ctx);
    return code;
}
