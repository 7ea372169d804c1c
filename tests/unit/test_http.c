/* test_http.c - the HTTP client against a tiny loopback server run by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ddb2es/http.h"

/* A one-thread server: answers `nreq` requests with `reply`, counting connections. */
struct tiny {
    int fd;
    int port;
    int nreq;
    int accepts;
    long stall_ms;       /* wait before answering */
    const char *reply;
    char last_request[8192];
    pthread_t th;
};

static void *tiny_main(void *arg)
{
    struct tiny *t = arg;
    int served = 0;

    while (served < t->nreq) {
        int c = accept(t->fd, NULL, NULL);
        if (c < 0)
            break;
        t->accepts++;
        while (served < t->nreq) {
            char buf[8192];
            ssize_t n = recv(c, buf, sizeof(buf) - 1, 0);
            if (n <= 0)
                break;
            buf[n] = '\0';
            snprintf(t->last_request, sizeof(t->last_request), "%s", buf);
            if (t->stall_ms)
                usleep((useconds_t)t->stall_ms * 1000);
            if (send(c, t->reply, strlen(t->reply), MSG_NOSIGNAL) < 0)
                break;
            served++;
        }
        close(c);
    }
    return NULL;
}

static void tiny_start(struct tiny *t, const char *reply, int nreq)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1;

    memset(t, 0, sizeof(*t));
    t->reply = reply;
    t->nreq = nreq;
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(t->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(t->fd, 4), 0);
    getsockname(t->fd, (struct sockaddr *)&a, &alen);
    t->port = ntohs(a.sin_port);
}

static void tiny_run(struct tiny *t)
{
    pthread_create(&t->th, NULL, tiny_main, t);
}

static void tiny_stop(struct tiny *t)
{
    shutdown(t->fd, SHUT_RDWR);
    close(t->fd);
    pthread_join(t->th, NULL);
}

static const char ok_reply[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n"
                               "Content-Length: 11\r\n\r\n{\"ok\":true}";

static void test_get_and_keepalive(void **state)
{
    struct tiny t;
    struct http_client *c;
    struct http_response r;
    struct http_header h[] = {{"X-Test", "yes"}};
    struct http_request req = {"POST", NULL, h, 1, "{\"a\":1}", 7, NULL, NULL};
    char url[64];

    (void)state;
    tiny_start(&t, ok_reply, 2);
    tiny_run(&t);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x?y=1", t.port);
    req.url = url;
    c = http_client_new(NULL, NULL);
    assert_non_null(c);
    http_response_init(&r);
    assert_int_equal(http_send(c, &req, &r, NULL), DDB2ES_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(dbuf_cstr(&r.body), "{\"ok\":true}");
    assert_string_equal(r.content_type, "application/json; charset=UTF-8");
    assert_non_null(strstr(t.last_request, "POST /x?y=1 HTTP/1.1"));
    assert_non_null(strstr(t.last_request, "X-Test: yes"));
    assert_null(strstr(t.last_request, "Expect:"));
    assert_int_equal(http_send(c, &req, &r, NULL), DDB2ES_OK);
    assert_int_equal(r.status, 200);
    tiny_stop(&t);
    assert_int_equal(t.accepts, 1); /* the connection was reused */
    http_response_free(&r);
    http_client_free(c);
}

static void test_error_status_is_an_answer(void **state)
{
    struct tiny t;
    struct http_client *c;
    struct http_response r;
    struct http_request req = {"GET", NULL, NULL, 0, NULL, 0, NULL, NULL};
    char url[64];

    (void)state;
    tiny_start(&t, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", 1);
    tiny_run(&t);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", t.port);
    req.url = url;
    c = http_client_new(NULL, NULL);
    http_response_init(&r);
    assert_int_equal(http_send(c, &req, &r, NULL), DDB2ES_OK);
    assert_int_equal(r.status, 503);
    assert_string_equal(dbuf_cstr(&r.body), "busy");
    tiny_stop(&t);
    http_response_free(&r);
    http_client_free(c);
}

static void test_refused_names_host(void **state)
{
    struct tiny t;
    struct http_client *c;
    struct http_response r;
    struct http_request req = {"GET", NULL, NULL, 0, NULL, 0, "user:s3cret", NULL};
    struct ddb2es_error err;
    char url[64];
    int port;

    (void)state;
    tiny_start(&t, ok_reply, 0);
    port = t.port;
    close(t.fd); /* nothing listens there now */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    req.url = url;
    c = http_client_new(NULL, NULL);
    http_response_init(&r);
    ddb2es_error_clear(&err);
    assert_int_equal(http_send(c, &req, &r, &err), DDB2ES_E_NET);
    assert_non_null(strstr(err.message, "cannot connect to 127.0.0.1:"));
    assert_null(strstr(err.message, "s3cret"));
    http_response_free(&r);
    http_client_free(c);
}

static void test_timeout(void **state)
{
    struct tiny t;
    struct http_options o = {0};
    struct http_client *c;
    struct http_response r;
    struct http_request req = {"GET", NULL, NULL, 0, NULL, 0, NULL, NULL};
    struct ddb2es_error err;
    char url[64];

    (void)state;
    tiny_start(&t, ok_reply, 1);
    t.stall_ms = 1500;
    tiny_run(&t);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", t.port);
    req.url = url;
    o.timeout_ms = 300;
    c = http_client_new(&o, NULL);
    http_response_init(&r);
    assert_int_equal(http_send(c, &req, &r, &err), DDB2ES_E_TIMEOUT);
    assert_non_null(strstr(err.message, "timed out"));
    tiny_stop(&t);
    http_response_free(&r);
    http_client_free(c);
}

static const struct {
    const char *url;
    int rc;
    const char *host;
    int port;
    const char *path;
} split_cases[] = {
    {"http://127.0.0.1:9200", 0, "127.0.0.1", 9200, "/"},
    {"https://search.example:443/prefix/", 0, "search.example", 443, "/prefix/"},
    {"https://h", 0, "h", 443, "/"},
    {"http://h?x=1", 0, "h", 80, "/?x=1"},
    {"http://u:p@h:81/a#frag", 0, "h", 81, "/a"},
    {"http://[::1]:9200/", 0, "[::1]", 9200, "/"},
    {"ftp://h/", DDB2ES_E_USAGE, NULL, 0, NULL},
    {"http://:80/", DDB2ES_E_USAGE, NULL, 0, NULL},
    {"http://h:99999/", DDB2ES_E_USAGE, NULL, 0, NULL},
    {"http://h:x/", DDB2ES_E_USAGE, NULL, 0, NULL},
};

static void test_url_split(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
        char host[64], path[64];
        int port = 0;
        struct ddb2es_error err;
        int rc = http_url_split(split_cases[i].url, host, sizeof(host), &port, path, sizeof(path), &err);
        if (rc != split_cases[i].rc)
            fail_msg("%s: rc %d", split_cases[i].url, rc);
        if (rc)
            continue;
        if (strcmp(host, split_cases[i].host) || port != split_cases[i].port || strcmp(path, split_cases[i].path))
            fail_msg("%s: %s %d %s", split_cases[i].url, host, port, path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_keepalive), cmocka_unit_test(test_error_status_is_an_answer),
        cmocka_unit_test(test_refused_names_host), cmocka_unit_test(test_timeout), cmocka_unit_test(test_url_split),
    };
    int rc;

    http_global_init(NULL);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return rc;
}
