/* util.c - small helpers shared inside core/. See util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *util_strdup(const char *s)
{
    return s ? util_strndup(s, strlen(s)) : NULL;
}

char *util_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

int util_read_file(const char *path, struct dbuf *out, struct ddb2es_error *err)
{
    char chunk[65536];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = DDB2ES_OK;

    if (!f)
        return ddb2es_failf(err, DDB2ES_E_IO, "cannot open %s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = dbuf_append(out, chunk, n);
        if (rc) {
            ddb2es_failf(err, rc, "out of memory reading %s", path);
            goto out;
        }
    }
    if (ferror(f))
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot read %s: %s", path, strerror(errno));
out:
    fclose(f);
    return rc;
}

int util_write_file_atomic(const char *path, const void *data, size_t len, struct ddb2es_error *err)
{
    struct dbuf tmp = DBUF_INIT;
    const char *p = data;
    int fd = -1, rc = DDB2ES_OK;

    rc = dbuf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    if (rc)
        return ddb2es_failf(err, rc, "out of memory writing %s", path);
    fd = open(dbuf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot create %s: %s", dbuf_cstr(&tmp), strerror(errno));
        goto out;
    }
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot write %s: %s", dbuf_cstr(&tmp), strerror(errno));
            goto out;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot sync %s: %s", dbuf_cstr(&tmp), strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(dbuf_cstr(&tmp), path) != 0) {
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot rename %s to %s: %s", dbuf_cstr(&tmp), path,
                          strerror(errno));
        goto out;
    }
    {
        /* the rename is durable only once the directory is synced */
        char dir[4096];
        const char *slash = strrchr(path, '/');
        int dfd;
        if (slash && (size_t)(slash - path) < sizeof(dir)) {
            memcpy(dir, path, (size_t)(slash - path));
            dir[slash == path ? 1 : slash - path] = '\0';
        } else {
            dir[0] = '.';
            dir[1] = '\0';
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
out:
    if (fd >= 0) {
        close(fd);
        unlink(dbuf_cstr(&tmp));
    }
    dbuf_free(&tmp);
    return rc;
}

double util_now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double util_now_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void util_sleep_ms(long ms)
{
    struct timespec ts, rem;

    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
        ts = rem;
}
