/*
 * cmd_sync.c - `ddb2es sync`: copy a table into an index, headless.
 *
 * The flow: options (flags, or the old system's event / environment
 * variables) -> environment and guard -> target preparation (alias index,
 * fast-load) -> the run (core pipeline, progress on stderr) -> finishing
 * (restore settings, move the alias) -> summary, audit record, exit code.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ddb2es/audit.h"
#include "ddb2es/buf.h"
#include "ddb2es/dynamo.h"
#include "ddb2es/guard.h"
#include "ddb2es/legacy.h"
#include "ddb2es/pipeline.h"
#include "ddb2es/report.h"
#include "ddb2es/target.h"

static void sync_usage(FILE *out)
{
    fprintf(out,
            "usage: ddb2es sync --env NAME --table TABLE --index INDEX [options]\n"
            "       ddb2es sync --event FILE|-       the old system's {\"dynamoTable\",\"indexNodeHost\",\"indexName\"}\n"
            "       ddb2es sync                      with DYNAMODB_TABLE, ELASTICSEARCH_HOST, ELASTICSEARCH_INDEX set\n"
            "\n"
            "Copies every item of a DynamoDB table into an Elasticsearch/OpenSearch index,\n"
            "as documents built by the table's entity (see 'ddb2es entities').\n"
            "\n"
            "  --env NAME            environment from the configuration\n"
            "  --table TABLE         DynamoDB table\n"
            "  --index INDEX         target index (or alias)\n"
            "  --entity NAME         entity mapping; default: the one matching the table\n"
            "  --config FILE         configuration (default $DDB2ES_CONFIG, ~/.config/ddb2es/config.json)\n"
            "  --confirm NAME        confirm a protected environment by typing its name\n"
            "  --segments N          parallel scan segments (default: from the table's size)\n"
            "  --segment-range a-b/N only segments a..b of an N-segment scan (several hosts)\n"
            "  --workers N           share the segments among N processes; this one is number\n"
            "                        $JOB_COMPLETION_INDEX or $AWS_BATCH_JOB_ARRAY_INDEX\n"
            "  --concurrency N       concurrent bulk requests (default 4)\n"
            "  --bulk-bytes N        flush a bulk at N bytes (default 5242880)\n"
            "  --bulk-docs N         ... or at N documents (default 5000)\n"
            "  --scan-limit N        Scan page size (default: 1 MB / average item size)\n"
            "  --max-rate N          at most N documents per second\n"
            "  --max-rcu N           at most N read capacity units per second\n"
            "  --checkpoint FILE     save progress to FILE; with --resume continue from it\n"
            "  --resume              continue from --checkpoint\n"
            "  --resume-if-present   continue from --checkpoint when it exists, else start (for retried jobs)\n"
            "  --dead-letter FILE    where refused documents go (NDJSON; default under\n"
            "                        $XDG_STATE_HOME/ddb2es/dead-letter/, created on the first failure)\n"
            "  --external-version    send the entity's version with version_type=external_gte,\n"
            "                        so an item updated during the sync keeps its newer document\n"
            "  --fast-load           refresh_interval -1 and no replicas while loading; restored after\n"
            "  --alias NAME          load a new index NAME-<UTC time>, then move alias NAME onto it\n"
            "  --delete-old          with --alias: delete the indices the alias pointed to\n"
            "  --max-attempts N      tries per request before giving up (default 8)\n"
            "  --progress MODE       auto (a line on a terminal), json (JSON lines), none\n"
            "  --summary-json FILE   write the result as JSON\n"
            "  --help                this text\n"
            "\n"
            "Exit: 0 all indexed, 1 some failed, 2 usage/config/connection, 3 guard, 130 cancelled.\n");
}

enum { OPT_SEGMENTS = 256, OPT_RANGE, OPT_WORKERS, OPT_CONCURRENCY, OPT_BULK_BYTES, OPT_BULK_DOCS,
       OPT_SCAN_LIMIT, OPT_MAX_RATE, OPT_MAX_RCU, OPT_CHECKPOINT, OPT_RESUME, OPT_DEAD_LETTER, OPT_EXT_VERSION,
       OPT_MAX_ATTEMPTS, OPT_PROGRESS, OPT_SUMMARY, OPT_CONFIG, OPT_ENTITY, OPT_EVENT, OPT_CONFIRM,
       OPT_FAST_LOAD, OPT_ALIAS, OPT_DELETE_OLD, OPT_RESUME_IF };

static const struct option sync_opts[] = {
    {"env", required_argument, NULL, 'e'},
    {"table", required_argument, NULL, 't'},
    {"index", required_argument, NULL, 'i'},
    {"entity", required_argument, NULL, OPT_ENTITY},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"event", required_argument, NULL, OPT_EVENT},
    {"confirm", required_argument, NULL, OPT_CONFIRM},
    {"segments", required_argument, NULL, OPT_SEGMENTS},
    {"segment-range", required_argument, NULL, OPT_RANGE},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"bulk-bytes", required_argument, NULL, OPT_BULK_BYTES},
    {"bulk-docs", required_argument, NULL, OPT_BULK_DOCS},
    {"scan-limit", required_argument, NULL, OPT_SCAN_LIMIT},
    {"max-rate", required_argument, NULL, OPT_MAX_RATE},
    {"max-rcu", required_argument, NULL, OPT_MAX_RCU},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"resume-if-present", no_argument, NULL, OPT_RESUME_IF},
    {"dead-letter", required_argument, NULL, OPT_DEAD_LETTER},
    {"external-version", no_argument, NULL, OPT_EXT_VERSION},
    {"fast-load", no_argument, NULL, OPT_FAST_LOAD},
    {"alias", required_argument, NULL, OPT_ALIAS},
    {"delete-old", no_argument, NULL, OPT_DELETE_OLD},
    {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"summary-json", required_argument, NULL, OPT_SUMMARY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

enum progress_mode { PROGRESS_AUTO, PROGRESS_JSON, PROGRESS_NONE };

/* Everything the command line said. */
struct sync_cli {
    struct sync_options so;
    const char *env, *config, *entity, *summary, *range, *event, *confirm, *alias;
    int workers;
    int fast_load, delete_old, resume_if_present;
    enum progress_mode pmode;
    struct legacy_request legacy;   /* from --event or the old environment variables */
    int legacy_mode;
};

static int parse_num(const char *opt, long min, long max, long *out)
{
    *out = cli_parse_long(opt, optarg, min, max);
    return *out < 0 ? -1 : 0;
}

/* Returns -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, struct sync_cli *a)
{
    long v;
    int c;

    optind = 1;
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, "+h", sync_opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'e': a->env = optarg; break;
        case 't': a->so.table = optarg; break;
        case 'i': a->so.index = optarg; break;
        case OPT_ENTITY: a->entity = optarg; break;
        case OPT_CONFIG: a->config = optarg; break;
        case OPT_EVENT: a->event = optarg; break;
        case OPT_CONFIRM: a->confirm = optarg; break;
        case OPT_SEGMENTS:
            if (parse_num("--segments", 1, SYNC_MAX_SEGMENTS, &v))
                return EXIT_USAGE;
            a->so.total_segments = (int)v;
            break;
        case OPT_RANGE: a->range = optarg; break;
        case OPT_WORKERS:
            if (parse_num("--workers", 1, SYNC_MAX_SEGMENTS, &v))
                return EXIT_USAGE;
            a->workers = (int)v;
            break;
        case OPT_CONCURRENCY:
            if (parse_num("--concurrency", 1, 64, &v))
                return EXIT_USAGE;
            a->so.concurrency = (int)v;
            break;
        case OPT_BULK_BYTES:
            if (parse_num("--bulk-bytes", 1024, 512L * 1024 * 1024, &v))
                return EXIT_USAGE;
            a->so.bulk_bytes = (size_t)v;
            break;
        case OPT_BULK_DOCS:
            if (parse_num("--bulk-docs", 1, 100000, &v))
                return EXIT_USAGE;
            a->so.bulk_docs = (size_t)v;
            break;
        case OPT_SCAN_LIMIT:
            if (parse_num("--scan-limit", 1, 100000, &v))
                return EXIT_USAGE;
            a->so.scan_limit = (int)v;
            break;
        case OPT_MAX_RATE:
            if (parse_num("--max-rate", 1, 100000000, &v))
                return EXIT_USAGE;
            a->so.max_docs_per_sec = (double)v;
            break;
        case OPT_MAX_RCU:
            if (parse_num("--max-rcu", 1, 100000000, &v))
                return EXIT_USAGE;
            a->so.max_rcu_per_sec = (double)v;
            break;
        case OPT_CHECKPOINT: a->so.checkpoint_path = optarg; break;
        case OPT_RESUME: a->so.resume = 1; break;
        case OPT_RESUME_IF: a->resume_if_present = 1; break;
        case OPT_DEAD_LETTER: a->so.dead_letter_path = optarg; break;
        case OPT_EXT_VERSION: a->so.external_version = 1; break;
        case OPT_FAST_LOAD: a->fast_load = 1; break;
        case OPT_ALIAS: a->alias = optarg; break;
        case OPT_DELETE_OLD: a->delete_old = 1; break;
        case OPT_MAX_ATTEMPTS:
            if (parse_num("--max-attempts", 1, 100, &v))
                return EXIT_USAGE;
            a->so.max_attempts = (int)v;
            break;
        case OPT_PROGRESS:
            if (strcmp(optarg, "auto") == 0)
                a->pmode = PROGRESS_AUTO;
            else if (strcmp(optarg, "json") == 0)
                a->pmode = PROGRESS_JSON;
            else if (strcmp(optarg, "none") == 0)
                a->pmode = PROGRESS_NONE;
            else
                return cli_fail(EXIT_USAGE, "--progress '%s': expected auto, json or none", optarg);
            break;
        case OPT_SUMMARY: a->summary = optarg; break;
        case 'h':
            sync_usage(stdout);
            return EXIT_ALL_OK;
        default:
            return cli_usage_error("sync", sync_usage, "option '%s' needs a value or is unknown", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cli_usage_error("sync", sync_usage, "unexpected argument '%s'", argv[optind]);
    }
    return -1;
}

/* Fills table/index from --event or the old environment variables when the flags do not. */
static int resolve_request(struct sync_cli *a)
{
    struct ddb2es_error err;
    int rc;

    ddb2es_error_clear(&err);
    if (a->event) {
        struct dbuf text = DBUF_INIT;
        FILE *f = strcmp(a->event, "-") == 0 ? stdin : fopen(a->event, "rb");
        char chunk[4096];
        size_t n;
        if (!f)
            return cli_fail(EXIT_USAGE, "cannot open the event file %s", a->event);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            dbuf_append(&text, chunk, n);
        if (f != stdin)
            fclose(f);
        rc = legacy_parse_event(dbuf_cstr(&text), text.len, strcmp(a->event, "-") == 0 ? "stdin" : a->event,
                                &a->legacy, &err);
        dbuf_free(&text);
        if (rc) {
            cli_error(&err);
            return EXIT_USAGE;
        }
        a->legacy_mode = 1;
    } else if (!a->so.table && !a->so.index) {
        rc = legacy_from_env(NULL, NULL, &a->legacy, &err);
        if (rc == DDB2ES_OK)
            a->legacy_mode = 1;
        else if (rc != DDB2ES_E_NOTFOUND) {
            cli_error(&err);
            return EXIT_USAGE;
        }
    }
    if (a->legacy_mode) {
        if (a->so.table || a->so.index)
            return cli_fail(EXIT_USAGE, "give the table and index either as flags or in the event, not both");
        a->so.table = a->legacy.table;
        a->so.index = a->legacy.index;
    }
    if (!a->so.table || !a->so.index) {
        return cli_usage_error("sync", sync_usage, "--table and --index are required (or --event FILE)");
    }
    if ((a->so.resume || a->resume_if_present) && !a->so.checkpoint_path)
        return cli_fail(EXIT_USAGE, "--resume needs --checkpoint FILE");
    if (a->resume_if_present && access(a->so.checkpoint_path, F_OK) == 0)
        a->so.resume = 1;
    if (a->delete_old && !a->alias)
        return cli_fail(EXIT_USAGE, "--delete-old goes with --alias NAME");
    if (a->alias && a->so.resume)
        return cli_fail(EXIT_USAGE, "--alias starts a new index each time; it cannot be resumed");
    return -1;
}

/* Works out this process's share of the segments. */
static int resolve_range(struct sync_cli *a)
{
    struct ddb2es_error err;
    int total;

    ddb2es_error_clear(&err);
    if (a->range && a->workers)
        return cli_fail(EXIT_USAGE, "--segment-range and --workers exclude each other");
    if (a->range) {
        if (sync_parse_segment_range(a->range, &a->so.segment_first, &a->so.segment_last, &total, &err)) {
            cli_error(&err);
            return EXIT_USAGE;
        }
        if (a->so.total_segments && a->so.total_segments != total)
            return cli_fail(EXIT_USAGE, "--segments %d disagrees with --segment-range %s", a->so.total_segments,
                            a->range);
        a->so.total_segments = total;
    } else if (a->workers) {
        const char *idx = getenv("JOB_COMPLETION_INDEX");
        long i;
        if (!idx || !*idx)
            idx = getenv("AWS_BATCH_JOB_ARRAY_INDEX");
        if (!idx || !*idx)
            return cli_fail(EXIT_USAGE, "--workers needs JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or "
                                        "AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) to say which worker this is");
        if (!a->so.total_segments)
            return cli_fail(EXIT_USAGE, "--workers needs --segments N (every worker must use the same N)");
        i = cli_parse_long("the worker index", idx, 0, a->workers - 1);
        if (i < 0)
            return EXIT_USAGE;
        if (sync_worker_range((int)i, a->workers, a->so.total_segments, &a->so.segment_first, &a->so.segment_last,
                              &err)) {
            cli_error(&err);
            return EXIT_USAGE;
        }
    }
    return -1;
}

static void fmt_duration(double s, char *out, size_t outsz)
{
    long t = s < 0 ? 0 : (long)(s + 0.5);

    if (t >= 3600)
        snprintf(out, outsz, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(out, outsz, "%ld:%02ld", t / 60, t % 60);
}

static void progress_line(const struct sync_snapshot *s)
{
    char eta[32] = "?";

    if (s->eta_seconds >= 0)
        fmt_duration(s->eta_seconds, eta, sizeof(eta));
    fprintf(stderr,
            "\r\033[K%s  segments %d/%d  scanned %llu  indexed %llu  failed %llu  %.0f docs/s  "
            "ETA %s (from ItemCount, which AWS refreshes about every 6 h)",
            sync_state_name(s->state), s->segments_done, s->segment_last - s->segment_first + 1, s->scanned,
            s->indexed, s->failed + s->map_failed, s->docs_per_sec, eta);
    fflush(stderr);
}

static void progress_json(const struct sync_snapshot *s)
{
    struct dbuf b = DBUF_INIT;

    if (report_sync_json(s, NULL, &b) == 0)
        fprintf(stderr, "%s\n", dbuf_cstr(&b));
    dbuf_free(&b);
}

/* Runs the job to its end, showing progress and passing on Ctrl-C. */
static int watch(struct sync_job *job, enum progress_mode pmode, struct sync_snapshot *snap,
                 struct ddb2es_error *err)
{
    struct pollfd pfd = {sync_wait_fd(job), POLLIN, 0};
    double last_json = -1;
    int seen_int = 0;

    for (;;) {
        int n = poll(&pfd, 1, 200);
        int intr = cli_interrupted();
        if (intr > seen_int) {
            if (intr == 1) {
                fprintf(stderr, "\nddb2es: cancelling: draining in-flight bulks and saving the checkpoint "
                                "(interrupt again to stop at once)\n");
                sync_cancel(job);
            } else {
                fprintf(stderr, "\nddb2es: stopping now\n");
                sync_abort(job);
            }
            seen_int = intr;
        }
        sync_snapshot(job, snap);
        if (pmode == PROGRESS_AUTO) {
            progress_line(snap);
        } else if (pmode == PROGRESS_JSON && (last_json < 0 || snap->elapsed - last_json >= 1.0)) {
            progress_json(snap);
            last_json = snap->elapsed;
        }
        if (n > 0)
            break;
    }
    if (pmode == PROGRESS_AUTO)
        fputc('\n', stderr);
    return sync_join(job, err);
}

static void write_audit(const struct cli_context *ctx, const struct sync_cli *a, const char *target_index,
                        const struct sync_snapshot *snap, const char *outcome, const char *why)
{
    struct audit_sync rec;
    struct ddb2es_error err;

    memset(&rec, 0, sizeof(rec));
    rec.command = "sync";
    rec.environment = ctx->env ? ctx->env->name : NULL;
    rec.table = a->so.table;
    rec.index = target_index;
    rec.entity = a->so.entity ? entity_name(a->so.entity) : NULL;
    rec.mode = a->alias ? "alias" : "in-place";
    rec.alias = a->alias;
    rec.outcome = outcome;
    rec.reason = why;
    rec.snap = snap;
    ddb2es_error_clear(&err);
    if (!ctx->cfg)
        return;
    if (audit_sync_append(ctx->cfg->audit_log, &rec, &err))
        cli_error(&err);
}

int cmd_sync(int argc, char **argv)
{
    struct sync_cli a;
    struct cli_context ctx;
    struct sync_snapshot snap;
    struct sync_summary_meta meta;
    struct ddb2es_error err;
    struct target_fast_load fl;
    struct ddb_table_info table_info;
    int have_info = 0;
    struct sync_job *job = NULL;
    struct es_client *es = NULL;
    char alias_index[512], dl_path[4096] = "", fl_state[4200] = "";
    const char *es_url;
    int rc, code, ran = 0;

    memset(&a, 0, sizeof(a));
    memset(&ctx, 0, sizeof(ctx));
    memset(&fl, 0, sizeof(fl));
    memset(&snap, 0, sizeof(snap));
    a.so.segment_first = a.so.segment_last = -1;
    ddb2es_error_clear(&err);
    code = parse_args(argc, argv, &a);
    if (code < 0)
        code = resolve_request(&a);
    if (code < 0)
        code = resolve_range(&a);
    if (code >= 0)
        goto out_args;

    /* the environment: named, or (old interface) the one that owns indexNodeHost */
    if (a.legacy_mode && !a.env) {
        code = cli_context_open_for_url(&ctx, a.config, a.legacy.es_host);
        if (code == EXIT_GUARD) {
            char why[1200];
            snprintf(why, sizeof(why), "no environment owns the cluster %s", a.legacy.es_host);
            write_audit(&ctx, &a, a.so.index, NULL, "refused", why);
        }
    } else {
        code = cli_context_open(&ctx, a.config, a.env);
    }
    if (code)
        goto out;
    es_url = a.legacy_mode ? a.legacy.es_host : ctx.env->es_url;
    a.so.entity = cli_pick_entity(&ctx, a.entity, a.so.table);
    if (!a.so.entity) {
        code = EXIT_USAGE;
        goto out;
    }
    rc = guard_check(ctx.env, NULL, es_url, &err);
    if (!rc)
        rc = guard_confirm(ctx.env, a.confirm, &err);
    if (rc) {
        cli_error(&err);
        write_audit(&ctx, &a, a.so.index, NULL, "refused", err.message);
        code = EXIT_GUARD;
        goto out;
    }
    a.so.guard_env = ctx.env; /* the table's account is checked once DescribeTable answered */
    a.so.region = ctx.region;
    a.so.ddb_endpoint = ctx.env->ddb_endpoint;
    a.so.creds = ctx.creds;
    a.so.es_url = es_url;
    a.so.es_username = ctx.env->es_username;
    a.so.es_password = ctx.es_password;
    a.so.es_sigv4 = ctx.env->es_sigv4;
    a.so.es_aws_service = ctx.env->es_aws_service;
    a.so.es_ca_file = ctx.env->es_ca_file;
    if (!a.so.dead_letter_path) {
        char stem[1024];
        snprintf(stem, sizeof(stem), "%s-%s-%s", ctx.env->name, a.so.table, a.alias ? a.alias : a.so.index);
        report_state_file("dead-letter", stem, ".ndjson", dl_path, sizeof(dl_path));
        a.so.dead_letter_path = dl_path;
    }

    es = cli_es_client(&ctx, es_url, &err);
    if (!es) {
        cli_error(&err);
        code = EXIT_USAGE;
        goto out;
    }
    if (a.alias) {
        if (target_alias_index_name(a.alias, (long long)time(NULL), alias_index, sizeof(alias_index), &err)) {
            cli_error(&err);
            code = EXIT_USAGE;
            goto out;
        }
        a.so.index = alias_index;
    }
    /* the table must exist and belong to this environment before anything is written */
    rc = cli_check_table(&ctx, a.so.table, es_url, &table_info, &err);
    if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
        write_audit(&ctx, &a, a.so.index, NULL, rc == DDB2ES_E_GUARD ? "refused" : "failed", err.message);
        goto out;
    }
    have_info = 1;
    a.so.table_info = &table_info; /* the run starts from this answer instead of asking again */
    code = cli_prepare_index(&ctx, es, a.so.index, a.so.entity, a.alias != NULL);
    if (code) {
        write_audit(&ctx, &a, a.so.index, NULL, "failed", "the target index could not be prepared");
        goto out;
    }
    /* the saved settings live beside the checkpoint, else beside the dead-letter file */
    snprintf(fl_state, sizeof(fl_state), "%s.settings",
             a.so.checkpoint_path ? a.so.checkpoint_path : a.so.dead_letter_path);
    if (a.so.resume && target_fast_load_recover(fl_state, &fl, &err) == 0 && fl.active)
        /* a --fast-load run was stopped before it could put the settings back */
        fprintf(stderr, "ddb2es: the index settings saved in %s by an earlier run are restored at the end\n",
                fl_state);
    if (a.fast_load && !fl.active && target_fast_load_begin(es, a.so.index, fl_state, &fl, &err)) {
        cli_error(&err);
        target_fast_load_end(es, fl_state, &fl, &err);
        code = EXIT_USAGE;
        write_audit(&ctx, &a, a.so.index, NULL, "failed", err.message);
        goto out;
    }

    rc = sync_start(&a.so, &job, &err);
    if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
        write_audit(&ctx, &a, a.so.index, NULL, rc == DDB2ES_E_GUARD ? "refused" : "failed", err.message);
        goto out;
    }
    ran = 1;
    if (a.pmode == PROGRESS_AUTO && !isatty(STDERR_FILENO))
        a.pmode = PROGRESS_NONE;
    rc = watch(job, a.pmode, &snap, &err);
    sync_snapshot(job, &snap);
    if (a.pmode == PROGRESS_JSON)
        progress_json(&snap);

    if (rc == DDB2ES_E_CANCELLED) {
        cli_error(&err);
        code = EXIT_CANCELLED;
    } else if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
    } else if (snap.failed || snap.map_failed) {
        fprintf(stderr, "ddb2es: %llu documents failed; they are kept in %s\n", snap.failed + snap.map_failed,
                a.so.dead_letter_path);
        code = EXIT_SOME_FAILED;
    } else {
        code = EXIT_ALL_OK;
    }
out:
    if (fl.active) {
        struct ddb2es_error ferr;
        ddb2es_error_clear(&ferr);
        if (target_fast_load_end(es, fl_state, &fl, &ferr)) {
            cli_error(&ferr);
            if (code == EXIT_ALL_OK)
                code = EXIT_USAGE;
        }
    }
    if (ran && a.alias) {
        if (code == EXIT_ALL_OK) {
            size_t old = 0;
            struct ddb2es_error aerr;
            ddb2es_error_clear(&aerr);
            if (target_alias_swap(es, a.alias, a.so.index, (long long)snap.indexed, a.delete_old, &old, &aerr)) {
                cli_error(&aerr);
                code = EXIT_USAGE;
            } else {
                fprintf(stderr, "ddb2es: alias %s now points to %s%s\n", a.alias, a.so.index,
                        old ? (a.delete_old ? " (the old index was deleted)" : " (the old index is kept)") : "");
            }
        } else {
            fprintf(stderr, "ddb2es: alias %s was not moved; the partial index %s is kept for inspection\n",
                    a.alias, a.so.index);
        }
    }
    if (ran) {
        memset(&meta, 0, sizeof(meta));
        meta.environment = ctx.env->name;
        meta.table = a.so.table;
        meta.index = a.so.index;
        meta.entity = entity_name(a.so.entity);
        if (a.summary) {
            struct dbuf b = DBUF_INIT;
            struct ddb2es_error werr;
            ddb2es_error_clear(&werr);
            if (report_sync_json(&snap, &meta, &b) || dbuf_putc(&b, '\n') ||
                report_write_file(a.summary, b.data, b.len, &werr))
                cli_fail(0, "cannot write the summary %s%s%s", a.summary, werr.message[0] ? ": " : "",
                         werr.message);
            dbuf_free(&b);
        }
        printf("%s: %s -> %s: scanned %llu, indexed %llu, failed %llu, not mapped %llu, newer in index %llu, "
               "%.1f s\n",
               code == EXIT_ALL_OK ? "done" : sync_state_name(snap.state), a.so.table, a.so.index, snap.scanned,
               snap.indexed, snap.failed, snap.map_failed, snap.newer_in_index, snap.elapsed);
        write_audit(&ctx, &a, a.so.index, &snap,
                    code == EXIT_ALL_OK ? "done" : code == EXIT_SOME_FAILED ? "some-failed"
                                                  : code == EXIT_CANCELLED ? "cancelled" : "failed",
                    code == EXIT_ALL_OK ? NULL : err.message);
    }
    sync_free(job);
    if (have_info)
        ddb_table_info_free(&table_info);
    es_client_free(es);
    cli_context_close(&ctx);
out_args:
    legacy_request_free(&a.legacy);
    return code;
}
