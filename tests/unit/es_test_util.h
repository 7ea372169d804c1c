/*
 * es_test_util.h - what the Elasticsearch client tests share (test_es.c,
 * test_es_bulk.c, test_es_search.c): the reference fixtures of
 * ../shared/reference/elasticsearch (DDB2ES_SHARED overrides ../shared) and
 * a loopback HTTP server with canned answers for the calls that go over the
 * wire. Included by one test file each; the functions are static inline so
 * a file that uses only some of them still builds warning-free.
 */
#ifndef DDB2ES_ES_TEST_UTIL_H
#define DDB2ES_ES_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/es.h"
#include "testutil.h"
#include "util.h"

/* ------------------------------------------------------------ fixtures */

static inline void load(const char *name, struct dbuf *out)
{
    char rel[512], path[1024];
    struct ddb2es_error err;

    snprintf(rel, sizeof(rel), "reference/elasticsearch/%s", name);
    tu_shared(rel, path, sizeof(path));
    dbuf_init(out);
    if (util_read_file(path, out, &err) != DDB2ES_OK)
        fail_msg("cannot read fixture %s: %s", path, err.message);
}

/* Replaces the first occurrence of `from` in a fixture. */
static inline char *edited(const char *file, const char *from, const char *to)
{
    struct dbuf b, o = DBUF_INIT;
    char *at;

    load(file, &b);
    at = strstr(b.data, from);
    assert_non_null(at);
    dbuf_append(&o, b.data, (size_t)(at - b.data));
    dbuf_puts(&o, to);
    dbuf_puts(&o, at + strlen(from));
    dbuf_free(&b);
    return dbuf_detach(&o);
}


/* ====================================================== loopback server */

/*
 * A one-request-per-connection HTTP/1.1 server on 127.0.0.1 with a queue of
 * canned answers; it records the last request. Enough to test what the
 * client sends and how it reads statuses.
 */
struct canned {
    int status;
    const char *body;
};

struct fake {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    int stop;
    struct canned queue[16];
    size_t nq, next;
    /* the last request */
    char method[16], target[1024], ctype[128], auth[256];
    struct dbuf body;
    struct dbuf log;   /* "METHOD TARGET\n" per request */
    size_t requests;
};

static inline bool header_value(const char *head, const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);
    const char *p = head;

    for (;;) {
        p = strstr(p, "\r\n");
        if (!p)
            break;
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *e;
            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            snprintf(out, outsz, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return true;
        }
    }
    out[0] = '\0';
    return false;
}

static inline void serve_one(struct fake *f, int fd)
{
    struct dbuf in = DBUF_INIT, out = DBUF_INIT;
    char buf[65536], cl[32];
    char *end = NULL;
    size_t need = 0, hlen = 0;
    struct canned c = {500, "{}"};
    ssize_t r;

    for (;;) {
        r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            goto out;
        dbuf_append(&in, buf, (size_t)r);
        if (!end) {
            end = strstr(in.data, "\r\n\r\n");
            if (end) {
                hlen = (size_t)(end - in.data) + 4;
                header_value(in.data, "Content-Length", cl, sizeof(cl));
                need = hlen + (size_t)strtoul(cl, NULL, 10);
            }
        }
        if (end && in.len >= need)
            break;
    }
    pthread_mutex_lock(&f->mu);
    sscanf(in.data, "%15s %1023s", f->method, f->target);
    header_value(in.data, "Content-Type", f->ctype, sizeof(f->ctype));
    header_value(in.data, "Authorization", f->auth, sizeof(f->auth));
    dbuf_reset(&f->body);
    dbuf_append(&f->body, in.data + hlen, need - hlen);
    dbuf_printf(&f->log, "%s %s\n", f->method, f->target);
    f->requests++;
    if (f->next < f->nq)
        c = f->queue[f->next++];
    pthread_mutex_unlock(&f->mu);
    dbuf_printf(&out, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                c.status, strlen(c.body));
    if (strcmp(f->method, "HEAD") != 0)
        dbuf_puts(&out, c.body);
    for (size_t off = 0; off < out.len;) {
        r = send(fd, out.data + off, out.len - off, MSG_NOSIGNAL);
        if (r <= 0)
            break;
        off += (size_t)r;
    }
out:
    close(fd);
    dbuf_free(&in);
    dbuf_free(&out);
}

static inline void *fake_main(void *arg)
{
    struct fake *f = arg;

    for (;;) {
        struct pollfd pfd = {f->lfd, POLLIN, 0};
        int stop;

        pthread_mutex_lock(&f->mu);
        stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        if (poll(&pfd, 1, 50) == 1) {
            int fd = accept(f->lfd, NULL, NULL);
            if (fd >= 0)
                serve_one(f, fd);
        }
    }
    return NULL;
}

static inline struct fake *fake_start(void)
{
    struct fake *f = calloc(1, sizeof(*f));
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);

    assert_non_null(f);
    pthread_mutex_init(&f->mu, NULL);
    dbuf_init(&f->body);
    dbuf_init(&f->log);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
    return f;
}

static inline void fake_stop(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    close(f->lfd);
    dbuf_free(&f->body);
    dbuf_free(&f->log);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static inline void fake_answer(struct fake *f, int status, const char *body)
{
    pthread_mutex_lock(&f->mu);
    f->queue[f->nq].status = status;
    f->queue[f->nq].body = body;
    f->nq++;
    pthread_mutex_unlock(&f->mu);
}

static inline int setup_fake(void **state)
{
    *state = fake_start();
    return 0;
}

static inline int teardown_fake(void **state)
{
    fake_stop(*state);
    return 0;
}

static inline struct es_client *fake_client(struct fake *f, const char *userinfo, const char *prefix)
{
    char url[256];
    struct es_options o = {0};
    struct ddb2es_error err;
    struct es_client *c;

    snprintf(url, sizeof(url), "http://%s127.0.0.1:%d%s", userinfo ? userinfo : "", f->port, prefix ? prefix : "");
    o.url = url;
    o.timeout_ms = 10000;
    c = es_client_new(&o, &err);
    if (!c)
        fail_msg("es_client_new: %s", err.message);
    return c;
}

#endif
