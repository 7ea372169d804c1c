/* cmd_sync.c - `ddb2es sync`: copy a table into an index, headless. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ddb2es/buf.h"
#include "ddb2es/pipeline.h"
#include "ddb2es/report.h"

static void sync_usage(FILE *out)
{
    fprintf(out,
            "usage: ddb2es sync --env NAME --table TABLE --index INDEX [options]\n"
            "\n"
            "Copies every item of a DynamoDB table into an Elasticsearch/OpenSearch index,\n"
            "as documents built by the table's entity (see 'ddb2es entities').\n"
            "\n"
            "  --env NAME            environment from the configuration\n"
            "  --table TABLE         DynamoDB table\n"
            "  --index INDEX         target index (or alias)\n"
            "  --entity NAME         entity mapping; default: the one matching the table\n"
            "  --config FILE         configuration (default $DDB2ES_CONFIG, ~/.config/ddb2es/config.json)\n"
            "  --segments N          parallel scan segments (default: from the table's size)\n"
            "  --segment-range a-b/N only segments a..b of an N-segment scan (several hosts)\n"
            "  --concurrency N       concurrent bulk requests (default 4)\n"
            "  --bulk-bytes N        flush a bulk at N bytes (default 5242880)\n"
            "  --bulk-docs N         ... or at N documents (default 5000)\n"
            "  --scan-limit N        Scan page size (default: 1 MB / average item size)\n"
            "  --max-rate N          at most N documents per second\n"
            "  --max-rcu N           at most N read capacity units per second\n"
            "  --checkpoint FILE     save progress to FILE; with --resume continue from it\n"
            "  --resume              continue from --checkpoint\n"
            "  --dead-letter FILE    append documents the index refused (NDJSON)\n"
            "  --external-version    send the entity's version with version_type=external_gte\n"
            "  --max-attempts N      tries per request before giving up (default 8)\n"
            "  --progress MODE       auto (a line on a terminal), json (JSON lines), none\n"
            "  --summary-json FILE   write the result as JSON\n"
            "  --help                this text\n"
            "\n"
            "Exit: 0 all indexed, 1 some failed, 2 usage/config/connection, 3 guard, 130 cancelled.\n");
}

enum { OPT_SEGMENTS = 256, OPT_RANGE, OPT_CONCURRENCY, OPT_BULK_BYTES, OPT_BULK_DOCS, OPT_SCAN_LIMIT,
       OPT_MAX_RATE, OPT_MAX_RCU, OPT_CHECKPOINT, OPT_RESUME, OPT_DEAD_LETTER, OPT_EXT_VERSION,
       OPT_MAX_ATTEMPTS, OPT_PROGRESS, OPT_SUMMARY, OPT_CONFIG, OPT_ENTITY };

static const struct option sync_opts[] = {
    {"env", required_argument, NULL, 'e'},
    {"table", required_argument, NULL, 't'},
    {"index", required_argument, NULL, 'i'},
    {"entity", required_argument, NULL, OPT_ENTITY},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"segments", required_argument, NULL, OPT_SEGMENTS},
    {"segment-range", required_argument, NULL, OPT_RANGE},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"bulk-bytes", required_argument, NULL, OPT_BULK_BYTES},
    {"bulk-docs", required_argument, NULL, OPT_BULK_DOCS},
    {"scan-limit", required_argument, NULL, OPT_SCAN_LIMIT},
    {"max-rate", required_argument, NULL, OPT_MAX_RATE},
    {"max-rcu", required_argument, NULL, OPT_MAX_RCU},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"dead-letter", required_argument, NULL, OPT_DEAD_LETTER},
    {"external-version", no_argument, NULL, OPT_EXT_VERSION},
    {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"summary-json", required_argument, NULL, OPT_SUMMARY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

enum progress_mode { PROGRESS_AUTO, PROGRESS_JSON, PROGRESS_NONE };

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
            "\r\033[K%s  segments %d/%d  scanned %llu  indexed %llu  failed %llu  %.0f docs/s  ETA %s (approx.)",
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

int cmd_sync(int argc, char **argv)
{
    struct sync_options so;
    struct cli_context ctx;
    struct sync_snapshot snap;
    struct sync_summary_meta meta;
    struct ddb2es_error err;
    struct sync_job *job = NULL;
    const char *env = NULL, *config = NULL, *entity = NULL, *summary = NULL, *range = NULL;
    enum progress_mode pmode = PROGRESS_AUTO;
    int rc, code = EXIT_USAGE, c, ctx_open = 0, seen_int = 0;
    long v;

    memset(&so, 0, sizeof(so));
    so.segment_first = so.segment_last = -1;
    ddb2es_error_clear(&err);
    optind = 1;
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, "+h", sync_opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'e': env = optarg; break;
        case 't': so.table = optarg; break;
        case 'i': so.index = optarg; break;
        case OPT_ENTITY: entity = optarg; break;
        case OPT_CONFIG: config = optarg; break;
        case OPT_SEGMENTS:
            v = cli_parse_long("--segments", optarg, 1, SYNC_MAX_SEGMENTS);
            if (v < 0)
                return EXIT_USAGE;
            so.total_segments = (int)v;
            break;
        case OPT_RANGE: range = optarg; break;
        case OPT_CONCURRENCY:
            v = cli_parse_long("--concurrency", optarg, 1, 64);
            if (v < 0)
                return EXIT_USAGE;
            so.concurrency = (int)v;
            break;
        case OPT_BULK_BYTES:
            v = cli_parse_long("--bulk-bytes", optarg, 1024, 512L * 1024 * 1024);
            if (v < 0)
                return EXIT_USAGE;
            so.bulk_bytes = (size_t)v;
            break;
        case OPT_BULK_DOCS:
            v = cli_parse_long("--bulk-docs", optarg, 1, 100000);
            if (v < 0)
                return EXIT_USAGE;
            so.bulk_docs = (size_t)v;
            break;
        case OPT_SCAN_LIMIT:
            v = cli_parse_long("--scan-limit", optarg, 1, 100000);
            if (v < 0)
                return EXIT_USAGE;
            so.scan_limit = (int)v;
            break;
        case OPT_MAX_RATE:
            v = cli_parse_long("--max-rate", optarg, 1, 100000000);
            if (v < 0)
                return EXIT_USAGE;
            so.max_docs_per_sec = (double)v;
            break;
        case OPT_MAX_RCU:
            v = cli_parse_long("--max-rcu", optarg, 1, 100000000);
            if (v < 0)
                return EXIT_USAGE;
            so.max_rcu_per_sec = (double)v;
            break;
        case OPT_CHECKPOINT: so.checkpoint_path = optarg; break;
        case OPT_RESUME: so.resume = 1; break;
        case OPT_DEAD_LETTER: so.dead_letter_path = optarg; break;
        case OPT_EXT_VERSION: so.external_version = 1; break;
        case OPT_MAX_ATTEMPTS:
            v = cli_parse_long("--max-attempts", optarg, 1, 100);
            if (v < 0)
                return EXIT_USAGE;
            so.max_attempts = (int)v;
            break;
        case OPT_PROGRESS:
            if (strcmp(optarg, "auto") == 0)
                pmode = PROGRESS_AUTO;
            else if (strcmp(optarg, "json") == 0)
                pmode = PROGRESS_JSON;
            else if (strcmp(optarg, "none") == 0)
                pmode = PROGRESS_NONE;
            else
                return cli_fail(EXIT_USAGE, "--progress '%s': expected auto, json or none", optarg);
            break;
        case OPT_SUMMARY: summary = optarg; break;
        case 'h':
            sync_usage(stdout);
            return EXIT_ALL_OK;
        default:
            if (optopt)
                fprintf(stderr, "ddb2es sync: option '%s' needs a value or is unknown\n\n", argv[optind - 1]);
            else
                fprintf(stderr, "ddb2es sync: unknown option '%s'\n\n", argv[optind - 1]);
            sync_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ddb2es sync: unexpected argument '%s'\n\n", argv[optind]);
        sync_usage(stderr);
        return EXIT_USAGE;
    }
    if (!so.table || !so.index) {
        fprintf(stderr, "ddb2es sync: --table and --index are required\n\n");
        sync_usage(stderr);
        return EXIT_USAGE;
    }
    if (so.resume && !so.checkpoint_path)
        return cli_fail(EXIT_USAGE, "--resume needs --checkpoint FILE");
    if (range) {
        int total;
        if (sync_parse_segment_range(range, &so.segment_first, &so.segment_last, &total, &err)) {
            cli_error(&err);
            return EXIT_USAGE;
        }
        if (so.total_segments && so.total_segments != total)
            return cli_fail(EXIT_USAGE, "--segments %d disagrees with --segment-range %s", so.total_segments, range);
        so.total_segments = total;
    }

    code = cli_context_open(&ctx, config, env);
    ctx_open = 1;
    if (code)
        goto out;
    so.entity = cli_pick_entity(&ctx, entity, so.table);
    if (!so.entity) {
        code = EXIT_USAGE;
        goto out;
    }
    so.region = ctx.region;
    so.ddb_endpoint = ctx.env->ddb_endpoint;
    so.creds = ctx.creds;
    so.es_url = ctx.env->es_url;
    so.es_username = ctx.env->es_username;
    so.es_password = ctx.es_password;
    so.es_sigv4 = ctx.env->es_sigv4;
    so.es_aws_service = ctx.env->es_aws_service;
    so.es_ca_file = ctx.env->es_ca_file;

    rc = sync_start(&so, &job, &err);
    if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
        goto out;
    }
    if (pmode == PROGRESS_AUTO && !isatty(STDERR_FILENO))
        pmode = PROGRESS_NONE;
    {
        struct pollfd pfd = {sync_wait_fd(job), POLLIN, 0};
        double last_json = 0;
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
            sync_snapshot(job, &snap);
            if (pmode == PROGRESS_AUTO) {
                progress_line(&snap);
            } else if (pmode == PROGRESS_JSON && snap.elapsed - last_json >= 1.0) {
                progress_json(&snap);
                last_json = snap.elapsed;
            }
            if (n > 0)
                break;
        }
        if (pmode == PROGRESS_AUTO)
            fputc('\n', stderr);
    }
    rc = sync_join(job, &err);
    sync_snapshot(job, &snap);
    if (pmode == PROGRESS_JSON)
        progress_json(&snap);

    memset(&meta, 0, sizeof(meta));
    meta.environment = ctx.env->name;
    meta.table = so.table;
    meta.index = so.index;
    meta.entity = entity_name(so.entity);
    if (summary) {
        struct dbuf b = DBUF_INIT;
        struct ddb2es_error werr;
        ddb2es_error_clear(&werr);
        if (report_sync_json(&snap, &meta, &b) || dbuf_putc(&b, '\n') ||
            report_write_file(summary, b.data, b.len, &werr)) {
            if (werr.message[0])
                cli_error(&werr);
            else
                cli_fail(0, "cannot write the summary %s", summary);
        }
        dbuf_free(&b);
    }
    printf("%s: %s -> %s: scanned %llu, indexed %llu, failed %llu, not mapped %llu, newer in index %llu, "
           "%.1f s\n",
           sync_state_name(snap.state), so.table, so.index, snap.scanned, snap.indexed, snap.failed,
           snap.map_failed, snap.newer_in_index, snap.elapsed);
    if (rc == DDB2ES_E_CANCELLED) {
        cli_error(&err);
        code = EXIT_CANCELLED;
    } else if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
    } else if (snap.failed || snap.map_failed) {
        if (so.dead_letter_path)
            fprintf(stderr, "ddb2es: %llu documents failed; they are in %s\n", snap.failed + snap.map_failed,
                    so.dead_letter_path);
        else
            fprintf(stderr, "ddb2es: %llu documents failed; pass --dead-letter FILE to keep them\n",
                    snap.failed + snap.map_failed);
        code = EXIT_SOME_FAILED;
    } else {
        code = EXIT_ALL_OK;
    }
out:
    sync_free(job);
    if (ctx_open)
        cli_context_close(&ctx);
    return code;
}
