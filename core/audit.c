/* audit.c - the append-only audit log. See ddb2es/audit.h. */
#include "ddb2es/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ddb2es/pipeline.h"

int audit_default_path(aws_getenv_fn getenv_fn, void *ctx, char *out, size_t outsz, struct ddb2es_error *err)
{
    const char *v;
    int n;

    if (!getenv_fn)
        getenv_fn = aws_process_getenv;
    v = getenv_fn(ctx, "XDG_STATE_HOME");
    if (v && *v) {
        n = snprintf(out, outsz, "%s/ddb2es/audit.jsonl", v);
    } else {
        v = getenv_fn(ctx, "HOME");
        if (!v || !*v)
            return ddb2es_failf(err, DDB2ES_E_CONFIG, "no HOME: set audit_log in the configuration");
        n = snprintf(out, outsz, "%s/.local/state/ddb2es/audit.jsonl", v);
    }
    if (n < 0 || (size_t)n >= outsz)
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "audit log path too long");
    return DDB2ES_OK;
}

/* mkdir -p of the directory part of path. */
static int make_parents(const char *path, struct ddb2es_error *err)
{
    char dir[4096];
    size_t n = strlen(path);

    if (n >= sizeof(dir))
        return ddb2es_failf(err, DDB2ES_E_IO, "audit log path too long");
    memcpy(dir, path, n + 1);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return ddb2es_failf(err, DDB2ES_E_IO, "cannot create %s for the audit log: %s", dir, strerror(errno));
        *p = '/';
    }
    return DDB2ES_OK;
}

int audit_append(const char *path, const json_t *fields, struct ddb2es_error *err)
{
    json_t *rec = json_object();
    struct passwd pw, *pwp = NULL;
    char pwbuf[1024], when[32];
    const char *user = NULL;
    time_t now = time(NULL);
    struct tm tm;
    char *line = NULL;
    size_t len;
    ssize_t w;
    int fd = -1, rc;

    if (!rec)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory writing the audit log");
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 && pwp)
        user = pw.pw_name;
    if (!user)
        user = getenv("USER");
    json_object_set_new(rec, "time", json_string(when));
    json_object_set_new(rec, "user", user ? json_string(user) : json_null());
    json_object_update(rec, (json_t *)fields);
    line = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    if (!line)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory writing the audit log");
    len = strlen(line);
    line[len++] = '\n'; /* json_dumps leaves room: we overwrite the NUL and never read it as a string again */
    rc = make_parents(path, err);
    if (rc)
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot open the audit log %s: %s", path, strerror(errno));
        goto out;
    }
    do
        w = write(fd, line, len);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)len)
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot write the audit log %s: %s", path,
                          w < 0 ? strerror(errno) : "short write");
out:
    if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}

static void set_opt(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

int audit_sync_append(const char *path, const struct audit_sync *a, struct ddb2es_error *err)
{
    char def[4096];
    json_t *f = json_object();
    int rc;

    if (!f)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory writing the audit log");
    if (!path) {
        rc = audit_default_path(NULL, NULL, def, sizeof(def), err);
        if (rc) {
            json_decref(f);
            return rc;
        }
        path = def;
    }
    set_opt(f, "command", a->command);
    set_opt(f, "environment", a->environment);
    set_opt(f, "table", a->table);
    set_opt(f, "index", a->index);
    set_opt(f, "entity", a->entity);
    set_opt(f, "mode", a->mode);
    set_opt(f, "alias", a->alias);
    set_opt(f, "outcome", a->outcome);
    set_opt(f, "reason", a->reason);
    if (a->snap) {
        const struct sync_snapshot *s = a->snap;
        json_object_set_new(f, "scanned", json_integer((json_int_t)s->scanned));
        json_object_set_new(f, "indexed", json_integer((json_int_t)s->indexed));
        json_object_set_new(f, "failed", json_integer((json_int_t)(s->failed + s->map_failed)));
        json_object_set_new(f, "newer_in_index", json_integer((json_int_t)s->newer_in_index));
        json_object_set_new(f, "seconds", json_real(s->elapsed));
        json_object_set_new(f, "segments", json_pack("{s:i, s:i, s:i}", "first", s->segment_first, "last",
                                                     s->segment_last, "total", s->total_segments));
    }
    rc = audit_append(path, f, err);
    json_decref(f);
    return rc;
}
