/*
 * es_internal.h - internal to core/: what the parts of the Elasticsearch
 * client (es.c, es_index.c, es_bulk.c, es_search.c) share: the client
 * structure and the request plumbing. `es__` marks names that are not API.
 *
 * A request is built in c->url (es__url_start, then es__url_name /
 * es__url_index / es__url_query_value), sent with es__exchange (any HTTP
 * answer is DDB2ES_OK, in c->resp) or es__call (non-2xx answers become
 * errors through es_error_from_response), then read from c->resp.
 */
#ifndef DDB2ES_ES_INTERNAL_H
#define DDB2ES_ES_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/es.h"
#include "ddb2es/http.h"

struct es_client {
    struct http_client *http;
    char *base;                 /* URL without trailing '/' and without userinfo */
    char host[256];             /* host[:port] for messages */
    char *userpwd;              /* "user:password" or NULL; wiped on free */
    struct http_aws_auth aws;   /* used when aws.creds is set */
    char *aws_region;
    char *aws_service;
    enum es_flavour flavour;    /* learnt by es_info; names the product in messages */
    struct dbuf url;            /* scratch: the URL of the current request */
    struct http_response resp;  /* reused: large bulk answers keep their buffer */
    double http_seconds;
};

/* "Elasticsearch" or "OpenSearch" as learnt by es_info (constant string). */
const char *es__product(const struct es_client *c);

/* c->url = the base URL. A dbuf status. */
int es__url_start(struct es_client *c);

/* Appends "/" and a percent-encoded name (index, alias, pattern: '*' and ',' kept). A dbuf status. */
int es__url_name(struct es_client *c, const char *name);

/* Appends a percent-encoded query value. A dbuf status. */
int es__url_query_value(struct es_client *c, const char *v);

/* c->url = base + "/" + index (when not NULL) + suffix (when not NULL); err set on failure. */
int es__url_index(struct es_client *c, const char *index, const char *suffix, struct ddb2es_error *err);

/* DDB2ES_E_NOMEM "out of memory building a request URL". */
int es__url_fail(struct ddb2es_error *err);

/* Ends building a request body: on failure (rc) cuts body back to `mark` and, for DDB2ES_E_NOMEM, fills
 * err with "out of memory building <what>" (other failures have filled it already). Returns rc. */
int es__body_end(struct dbuf *body, size_t mark, int rc, const char *what, struct ddb2es_error *err);

/* Prefixes err's message with "what: " (when both are set); returns rc. */
int es__prefix_error(struct ddb2es_error *err, int rc, const char *what);

/* Sends c->url with an optional body (borrowed). DDB2ES_OK for any HTTP answer (in c->resp), else the
 * transport status with the message prefixed by `what`. */
int es__exchange(struct es_client *c, const char *method, const char *ctype, const char *body, size_t len,
                 const char *what, struct ddb2es_error *err);

bool es__is_2xx(long s);

/* The error of the non-2xx answer in c->resp. */
int es__answer_error(struct es_client *c, const char *what, struct ddb2es_error *err);

/* One JSON call (body may be NULL); non-2xx answers become errors. */
int es__call(struct es_client *c, const char *method, const char *body, size_t len, const char *what,
             struct ddb2es_error *err);

/* Parses c->resp as a JSON object (*out: a new reference, caller decrefs). */
int es__resp_json(struct es_client *c, const char *what, json_t **out, struct ddb2es_error *err);

/* DDB2ES_E_USAGE "no index name given" for NULL or "". */
int es__check_index_arg(const char *index, struct ddb2es_error *err);

/* Checks a document id (non-empty, at most ES_ID_MAX_BYTES, UTF-8); the message names it. */
int es__check_id(const char *id, struct ddb2es_error *err);

/* o[key] as a string, or NULL (borrowed from o). */
const char *es__jstr(const json_t *o, const char *key);

/* Appends "REASON[; caused by TYPE: REASON]..." of an ErrorCause object (and its first root_cause when
 * `root` and it says something new). A dbuf status. */
int es__cause_text(const json_t *e, bool root, struct dbuf *out);

/* snprintf of src ("" for NULL) into dst[sz]. */
void es__copy_field(char *dst, size_t sz, const char *src);

#endif
