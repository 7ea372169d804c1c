/*
 * ddb2es/http.h - the one HTTP client of ddb2es (a libcurl easy handle).
 *
 * DESIGN
 * Both services (DynamoDB and Elasticsearch) talk through this module. A
 * `struct http_client` wraps one reused libcurl easy handle, so connections
 * are kept alive between requests to the same host. A client is NOT thread
 * safe: each worker thread owns its own client. TLS verification is always
 * on (an environment may name a CA bundle); signals are never used by curl
 * (CURLOPT_NOSIGNAL), so the process must ignore SIGPIPE.
 *
 * Transport failures (DNS, refused, reset, timeout, TLS) become a status and
 * a message naming the host and what to check. An HTTP answer of any status
 * is a success at this level: the service modules read the status and body
 * and turn service errors into messages (see dynamo.h, es.h).
 *
 * http_global_init() must be called once from main before any thread starts.
 */
#ifndef DDB2ES_HTTP_H
#define DDB2ES_HTTP_H

#include <stdatomic.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"

/* One request or response header. Both strings are borrowed. */
struct http_header {
    const char *name;
    const char *value;
};

/* Client-wide settings. All strings are copied by http_client_new(). */
struct http_options {
    long connect_timeout_ms;  /* 0: 10 s */
    long timeout_ms;          /* whole request; 0: 120 s */
    const char *ca_file;      /* PEM bundle to trust, or NULL for the system's */
    const char *user_agent;   /* NULL: "ddb2es/<version>" */
    const atomic_int *abort_flag; /* borrowed; when it becomes non-zero, a request in flight
                                     stops at once with DDB2ES_E_CANCELLED (a hard abort) */
};

struct aws_credentials; /* ddb2es/credentials.h */

/* SigV4 signing of a request. Everything is borrowed. */
struct http_aws_auth {
    const struct aws_credentials *creds;
    const char *region;    /* "eu-west-2" */
    const char *service;   /* "dynamodb", "es", "aoss" */
};

/* A request. Everything is borrowed for the duration of http_send(). */
struct http_request {
    const char *method;                  /* "GET", "POST", "PUT", "DELETE", "HEAD" */
    const char *url;                     /* absolute http:// or https:// URL */
    const struct http_header *headers;   /* extra headers, may be NULL */
    size_t nheaders;
    const char *body;                    /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *userpwd;                 /* "user:password" for basic auth, or NULL */
    const struct http_aws_auth *aws;     /* sign with AWS SigV4 when not NULL */
};

/* A response. The caller owns it; http_response_free() releases the body. */
struct http_response {
    long status;                 /* HTTP status code */
    struct dbuf body;            /* response body (NUL-terminated) */
    char content_type[128];      /* Content-Type header value, or "" */
    double seconds;              /* total time of the exchange */
};

/* Call once before any thread starts (wraps curl_global_init). */
int http_global_init(struct ddb2es_error *err);
void http_global_cleanup(void);

/* New client; NULL opts means defaults. Returns NULL when out of memory or
 * libcurl cannot start (err says which). Free with http_client_free(). */
struct http_client *http_client_new(const struct http_options *opts, struct ddb2es_error *err);

/* Frees the client and closes its connections. NULL is accepted. */
void http_client_free(struct http_client *c);

/* Initialises an empty response (call before http_send). */
void http_response_init(struct http_response *r);
/* Releases the response body. NULL is accepted. */
void http_response_free(struct http_response *r);

/*
 * Sends `req` and fills `resp` (its previous body is discarded). Returns
 * DDB2ES_OK when the server answered with any HTTP status; otherwise
 * DDB2ES_E_NET / _TIMEOUT / _TLS / _NOMEM / _USAGE with a message naming the
 * host ("cannot connect to 127.0.0.1:9200: Connection refused; is the server
 * running and the URL right?").
 */
int http_send(struct http_client *c, const struct http_request *req,
              struct http_response *resp, struct ddb2es_error *err);

/*
 * Splits an absolute URL into its parts. Writes the host (without port) to
 * host[hostsz], the port (default 80/443 from the scheme) to *port, and the
 * path (at least "/") with its query string to path[pathsz]. Returns
 * DDB2ES_E_USAGE with a message for a malformed URL.
 */
int http_url_split(const char *url, char *host, size_t hostsz, int *port,
                   char *path, size_t pathsz, struct ddb2es_error *err);

#endif
