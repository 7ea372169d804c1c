/*
 * ddb2es/es_bulk.h - bulk writes to Elasticsearch / OpenSearch: building an
 * NDJSON _bulk body, sending it, and reading what happened to each action.
 *
 * DESIGN
 * The builder appends to a caller-owned struct dbuf and leaves it unchanged
 * when it refuses an action, so a caller can skip one bad document and go
 * on. es_bulk_send never retries: it classifies the whole request
 * (es_bulk_result.outcome, request_retryable) and the items (failed,
 * conflicts, retryable), because a retry must re-send only what failed.
 * Answers are read in one pass without a DOM (see es.h); with "errors":
 * false only counts are kept unless ES_BULK_ALL_ITEMS asks for every item.
 *
 * Ownership: inputs are borrowed; a struct es_bulk_result owns its items and
 * their strings (es_bulk_result_init / _free).
 */
#ifndef DDB2ES_ES_BULK_H
#define DDB2ES_ES_BULK_H

#include <stdbool.h>
#include <stddef.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/es.h"

/* -------------------------------------------------------------------- bulk */

/*
 * Appends an `index` action to the NDJSON body *body:
 *   {"index":{"_index":I,"_id":ID[,"version":V,"version_type":"external_gte"]}}\n DOC\n
 * `doc` is JSON text used as is (not re-serialised), `doc_len` bytes, and must
 * not contain a newline. `version` < 0 means no external version. `index`
 * and `id` are escaped as JSON strings and must be valid UTF-8; `id` at most
 * ES_ID_MAX_BYTES bytes. DDB2ES_E_USAGE (with a message naming the id) for a
 * bad id or document; then, as on DDB2ES_E_NOMEM, *body is left unchanged.
 * Everything is borrowed.
 */
int es_bulk_index(struct dbuf *body, const char *index, const char *id, long long version, const char *doc,
                  size_t doc_len, struct ddb2es_error *err);

/*
 * Appends a `delete` action (one line, no document):
 *   {"delete":{"_index":I,"_id":ID[,"version":V,"version_type":"external_gte"]
 *              [,"if_seq_no":S,"if_primary_term":T]}}\n
 * `version` < 0: none. `if_seq_no` < 0: no optimistic concurrency check;
 * otherwise if_primary_term must be >= 1. Versions and seq_no together are
 * DDB2ES_E_USAGE (the service refuses the mix). Same rules as es_bulk_index.
 */
int es_bulk_delete(struct dbuf *body, const char *index, const char *id, long long version, long long if_seq_no,
                   long long if_primary_term, struct ddb2es_error *err);

enum es_bulk_op { ES_OP_UNKNOWN = 0, ES_OP_INDEX, ES_OP_CREATE, ES_OP_DELETE, ES_OP_UPDATE };

/* One item of a _bulk answer. Strings are owned by the es_bulk_result ("" when absent). */
struct es_bulk_item {
    size_t position;          /* 0-based position of the action in the request (== index in items[]) */
    enum es_bulk_op op;       /* the item's key: index / create / delete / update */
    const char *index;        /* "_index" */
    const char *id;           /* "_id" */
    int status;               /* the item's HTTP status */
    bool failed;              /* the item carries an "error" object */
    const char *result;       /* "created", "updated", "deleted", "not_found", "noop"; "" when failed */
    const char *error_type;   /* error.type ("mapper_parsing_exception"); "" when not failed */
    const char *reason;       /* error.reason, then "; caused by TYPE: REASON" for each caused_by */
    long long version;        /* "_version"; -1 when absent */
    long long seq_no;         /* "_seq_no"; -1 when absent */
    long long primary_term;   /* "_primary_term"; -1 when absent */
};

/* What happened to a whole _bulk request. */
enum es_bulk_outcome {
    ES_BULK_DONE = 0,      /* HTTP 200: read the per-item results */
    ES_BULK_THROTTLED,     /* 429: the cluster refused the whole request; back off and resend */
    ES_BULK_TOO_LARGE,     /* 413: the body exceeds http.max_content_length; split it */
    ES_BULK_UNAVAILABLE,   /* 502/503/504: the cluster or a proxy is unavailable; resend later */
    ES_BULK_REJECTED,      /* any other 4xx: resending the same body will fail again */
    ES_BULK_SERVER_ERROR,  /* any other 5xx: may be resent a few times */
    ES_BULK_TRANSPORT,     /* no HTTP answer (connection, timeout, TLS); see err->status */
    ES_BULK_BAD_ANSWER,    /* 200 with an unreadable body: whether documents were written is unknown */
};

/* Short name of an outcome ("throttled"). Constant string. */
const char *es_bulk_outcome_name(enum es_bulk_outcome o);

/* Flags of es_bulk_result_init. */
#define ES_BULK_ALL_ITEMS 1u  /* record every item also when "errors" is false (default: count only) */

struct es_bulk_result {
    unsigned flags;              /* ES_BULK_* given to es_bulk_result_init */
    enum es_bulk_outcome outcome;
    long http_status;            /* 0 when there was no HTTP answer */
    bool request_retryable;      /* the whole request may be sent again unchanged (throttled,
                                    unavailable, 5xx, connection or timeout) */
    double seconds;              /* duration of the exchange */
    long long took_ms;           /* "took"; -1 when absent */
    bool errors;                 /* the service's "errors" flag */
    size_t nitems;               /* items in the answer (== actions sent) */
    size_t succeeded;            /* items without "error" (a delete of a missing document counts here) */
    size_t failed;               /* items with "error" */
    size_t conflicts;            /* failed with status 409 (version_conflict_engine_exception) */
    size_t retryable;            /* failed with status 429 or >= 500: worth sending again */
    bool have_items;             /* items[] holds all nitems records (errors, or ES_BULK_ALL_ITEMS) */
    struct es_bulk_item *items;  /* nitems records; read them only when have_items (the storage
                                    is kept between answers); owned */
    size_t cap;                  /* private */
    struct es_pool *pool;        /* private: string storage */
};

void es_bulk_result_init(struct es_bulk_result *r, unsigned flags);
/* Forgets the previous answer, keeping storage and flags. */
void es_bulk_result_reset(struct es_bulk_result *r);
void es_bulk_result_free(struct es_bulk_result *r);

/*
 * Parses a 200 _bulk answer into *r (pure). Items are recorded when "errors"
 * is true or r->flags has ES_BULK_ALL_ITEMS; otherwise only counted (the fast
 * path). DDB2ES_E_PROTOCOL for an unreadable answer (r->outcome is then
 * ES_BULK_BAD_ANSWER).
 */
int es_parse_bulk_response(const char *body, size_t len, struct es_bulk_result *r, struct ddb2es_error *err);

/*
 * POST /_bulk with `body` (NDJSON, `len` bytes, borrowed; must end with '\n'),
 * Content-Type application/x-ndjson. Returns DDB2ES_OK when the service
 * answered 200, whatever happened to single items (read r's counts and
 * items). Otherwise r->outcome and r->request_retryable classify the failure
 * and err says "sending a bulk request of B bytes: OpenSearch at HOST
 * answered 429 es_rejected_execution_exception: ...; the cluster is
 * overloaded: ...". *r is reset first.
 */
int es_bulk_send(struct es_client *c, const char *body, size_t len, struct es_bulk_result *r,
                 struct ddb2es_error *err);

#endif
