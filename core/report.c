/* report.c - run summaries as JSON and atomic files. See ddb2es/report.h. */
#include "ddb2es/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

long report_peak_rss_kb(void)
{
    /* VmHWM is this process's own peak; getrusage's ru_maxrss carries over the
     * peak of the parent that forked us (a 600 MB test runner, say) */
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    struct rusage ru;

    if (f) {
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "VmHWM:", 6) == 0) {
                kb = strtol(line + 6, NULL, 10);
                break;
            }
        }
        fclose(f);
    }
    if (kb >= 0)
        return kb;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss; /* KiB on Linux */
}

int report_write_file(const char *path, const void *data, size_t len, struct ddb2es_error *err)
{
    return util_write_file_atomic(path, data, len, err);
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

int report_sync_json(const struct sync_snapshot *s, const struct sync_summary_meta *meta, struct dbuf *out)
{
    json_t *o = json_object();
    char *text;
    int rc;

    if (!o)
        return DDB2ES_E_NOMEM;
    if (meta) {
        set_str(o, "environment", meta->environment);
        set_str(o, "table", meta->table);
        set_str(o, "index", meta->index);
        set_str(o, "entity", meta->entity);
    }
    json_object_set_new(o, "state", json_string(sync_state_name(s->state)));
    json_object_set_new(o, "scanned", json_integer((json_int_t)s->scanned));
    json_object_set_new(o, "mapped", json_integer((json_int_t)s->mapped));
    json_object_set_new(o, "indexed", json_integer((json_int_t)s->indexed));
    json_object_set_new(o, "failed", json_integer((json_int_t)(s->failed + s->map_failed)));
    json_object_set_new(o, "index_failed", json_integer((json_int_t)s->failed));
    json_object_set_new(o, "map_failed", json_integer((json_int_t)s->map_failed));
    json_object_set_new(o, "newer_in_index", json_integer((json_int_t)s->newer_in_index));
    json_object_set_new(o, "retried_docs", json_integer((json_int_t)s->retried_docs));
    json_object_set_new(o, "bulk_requests", json_integer((json_int_t)s->bulk_requests));
    json_object_set_new(o, "bulk_retries", json_integer((json_int_t)s->bulk_retries));
    json_object_set_new(o, "ddb_requests", json_integer((json_int_t)s->ddb_requests));
    json_object_set_new(o, "ddb_retries", json_integer((json_int_t)s->ddb_retries));
    json_object_set_new(o, "throttles", json_integer((json_int_t)s->throttles));
    json_object_set_new(o, "bytes_sent", json_integer((json_int_t)s->bytes_sent));
    json_object_set_new(o, "consumed_rcu", json_real(s->consumed_rcu));
    json_object_set_new(o, "segments_total", json_integer(s->total_segments));
    json_object_set_new(o, "segment_first", json_integer(s->segment_first));
    json_object_set_new(o, "segment_last", json_integer(s->segment_last));
    json_object_set_new(o, "segments_done", json_integer(s->segments_done));
    json_object_set_new(o, "table_items_approx", json_integer((json_int_t)s->table_items));
    json_object_set_new(o, "seconds", json_real(s->elapsed));
    json_object_set_new(o, "docs_per_sec", json_real(s->elapsed > 0 ? (double)s->indexed / s->elapsed : 0));
    json_object_set_new(o, "recent_docs_per_sec", json_real(s->docs_per_sec));
    json_object_set_new(o, "eta_seconds", s->eta_seconds >= 0 ? json_real(s->eta_seconds) : json_null());
    json_object_set_new(o, "queued_batches", json_integer((json_int_t)s->queued_batches));
    json_object_set_new(o, "scanner_threads", json_integer(s->scanner_threads));
    json_object_set_new(o, "sender_threads", json_integer(s->sender_threads));
    json_object_set_new(o, "peak_rss_kb", json_integer(report_peak_rss_kb()));
    {
        json_t *segs = json_array();
        for (int i = 0; segs && i < s->nsegments; i++)
            json_array_append_new(segs, json_pack("{s:i, s:I, s:b}", "segment", s->segs[i].number, "scanned",
                                                  (json_int_t)s->segs[i].scanned, "done", s->segs[i].done));
        if (segs)
            json_object_set_new(o, "segments", segs);
    }
    if (s->state == SYNC_FAILED && s->error.message[0]) {
        json_t *e = json_object();
        if (e) {
            json_object_set_new(e, "status", json_string(ddb2es_status_name((int)s->error.status)));
            json_object_set_new(e, "message", json_string(s->error.message));
            if (s->error.type[0])
                json_object_set_new(e, "type", json_string(s->error.type));
            if (s->error.http_status)
                json_object_set_new(e, "http_status", json_integer(s->error.http_status));
            json_object_set_new(o, "error", e);
        }
    }
    text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!text)
        return DDB2ES_E_NOMEM;
    rc = dbuf_puts(out, text);
    free(text);
    return rc;
}

void report_mkdirs(const char *dir)
{
    char p[4096];
    size_t n = strlen(dir);

    if (n >= sizeof(p))
        return;
    memcpy(p, dir, n + 1);
    for (char *q = p + 1; *q; q++) {
        if (*q == '/') {
            *q = '\0';
            mkdir(p, 0700);
            *q = '/';
        }
    }
    mkdir(p, 0700);
}

void report_state_file(const char *sub, const char *stem, const char *ext, char *out, size_t outsz)
{
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32], dir[2048];
    int n;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    if (state && *state)
        snprintf(dir, sizeof(dir), "%s/ddb2es/%s", state, sub);
    else
        snprintf(dir, sizeof(dir), "%s/.local/state/ddb2es/%s", home && *home ? home : ".", sub);
    report_mkdirs(dir);
    n = snprintf(out, outsz, "%s/%s-%s%s", dir, stem, stamp, ext);
    if (n < 0 || (size_t)n >= outsz)
        snprintf(out, outsz, "ddb2es-%s-%s%s", sub, stamp, ext);
}
