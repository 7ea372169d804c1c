/*
 * ddb2es/dynamo.h - the DynamoDB client (low-level JSON 1.0 protocol).
 *
 * DESIGN
 * Every operation is one POST of a JSON body with X-Amz-Target
 * DynamoDB_20120810.<Operation>, signed with SigV4 (service "dynamodb"), sent
 * through ddb2es/http.h. Answers are parsed with jansson; numbers travel as
 * strings in DynamoDB JSON, so nothing is lost to doubles. Errors are matched
 * on the part of `__type` after '#', with the message read from `message` or
 * `Message`, and turned into a sentence naming the endpoint, operation, table
 * and what to do.
 *
 * Retryable failures (throttling, 5xx, connection errors; see ddb_is_retryable)
 * are retried inside ddb_call with the client's retry state (ddb2es/retry.h);
 * the number of retries and throttles is counted in the client so progress can
 * show them. A client belongs to one thread at a time.
 */
#ifndef DDB2ES_DYNAMO_H
#define DDB2ES_DYNAMO_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "ddb2es/credentials.h"
#include "ddb2es/error.h"
#include "ddb2es/retry.h"

struct ddb_options {
    const char *region;                  /* required */
    const char *endpoint;                /* NULL: https://dynamodb.<region>.amazonaws.com */
    const struct aws_credentials *creds; /* borrowed; must outlive the client */
    long timeout_ms;                     /* per request; 0: 60 s */
    const char *ca_file;                 /* NULL: system CAs */
    const struct retry_policy *retry;    /* NULL: defaults */
    uint64_t seed;                       /* jitter seed (e.g. the segment number) */
    const atomic_int *abort_flag;        /* borrowed: see struct http_options */
};

/* Counters kept by a client; read them between calls from the owning thread. */
struct ddb_stats {
    unsigned long requests;   /* HTTP requests sent, retries included */
    unsigned long retries;    /* requests that were sent again */
    unsigned long throttles;  /* throttling answers (ProvisionedThroughputExceeded, Throttling, RequestLimit) */
};

struct ddb_client;

/* New client. The options' strings are copied; creds is borrowed. NULL on failure (err says why). */
struct ddb_client *ddb_client_new(const struct ddb_options *opts, struct ddb2es_error *err);
void ddb_client_free(struct ddb_client *c);

/* Borrowed view of the client's counters. */
const struct ddb_stats *ddb_client_stats(const struct ddb_client *c);

/* The endpoint URL in use (borrowed). */
const char *ddb_client_endpoint(const struct ddb_client *c);

/*
 * One operation: sends `body` (JSON text) as `op` ("Scan"), retrying what is
 * retryable. On success *out is the parsed answer, owned by the caller
 * (json_decref). On failure err names the service's error type and message.
 * `what` describes the target for messages ("table Persons"), may be NULL.
 */
int ddb_call(struct ddb_client *c, const char *op, const char *body, size_t len, const char *what,
             json_t **out, struct ddb2es_error *err);

/* True for error types worth retrying (matched after '#'). */
int ddb_is_retryable(const char *type, long http_status);

/* True for the throttling error types. */
int ddb_is_throttle(const char *type);

/*
 * Parses an error answer into *err: `__type` after '#', `message`/`Message`.
 * Returns the status it stored (DDB2ES_E_THROTTLED, _NOTFOUND, _AUTH, _SERVICE).
 */
int ddb_parse_error(const char *body, size_t len, long http_status, const char *endpoint, const char *op,
                    const char *what, struct ddb2es_error *err);

/* Every table name, all pages. *names is a NULL-terminated array owned by the caller
 * (free with ddb_names_free). */
int ddb_list_tables(struct ddb_client *c, char ***names, size_t *count, struct ddb2es_error *err);
void ddb_names_free(char **names);

/* What DescribeTable says of a table. Strings owned by the struct. */
struct ddb_table_info {
    char *name;
    char *arn;              /* arn:aws:dynamodb:REGION:ACCOUNT:table/NAME */
    char *status;           /* ACTIVE, ... */
    char *hash_key;         /* partition key attribute name */
    char *range_key;        /* sort key attribute name, or NULL */
    char *billing_mode;     /* PAY_PER_REQUEST, PROVISIONED, or NULL */
    long long item_count;   /* approximate: DynamoDB refreshes it about every six hours */
    long long size_bytes;   /* approximate, same refresh */
    long long read_capacity;/* provisioned RCU, 0 on demand */
};
int ddb_describe_table(struct ddb_client *c, const char *table, struct ddb_table_info *out,
                       struct ddb2es_error *err);
void ddb_table_info_free(struct ddb_table_info *t);

/* Deep copy of *src into *dst (dst's strings are new, freed by ddb_table_info_free). */
int ddb_table_info_copy(struct ddb_table_info *dst, const struct ddb_table_info *src);

/* The account id part of a table ARN into out[outsz]; "" when it has none. */
void ddb_arn_account(const char *arn, char *out, size_t outsz);

/*
 * A Scan page size for a table: about 1 MB / average item size (DynamoDB returns
 * at most 1 MB a page anyway; a Limit near it keeps pages full and cheap).
 * Between 10 and 10000; 1000 when the table reports no size.
 */
int ddb_scan_limit_for(const struct ddb_table_info *t);

struct ddb_scan_request {
    const char *table;
    int segment;                     /* with total_segments > 1 */
    int total_segments;              /* 0 or 1: no parallel scan */
    int limit;                       /* 0: no Limit */
    const json_t *exclusive_start_key; /* borrowed, NULL for the first page */
    const char *projection;          /* ProjectionExpression (already using #names), or NULL */
    const json_t *attribute_names;   /* ExpressionAttributeNames for it, or NULL */
    int consistent_read;
};

/* One Scan answer. `root` owns everything; the other pointers borrow from it. */
struct ddb_scan_page {
    json_t *root;
    json_t *items;          /* array of items (attribute name -> AttributeValue) */
    json_t *last_key;       /* LastEvaluatedKey, NULL on the last page */
    double consumed;        /* ConsumedCapacity.CapacityUnits, 0 when absent */
    size_t scanned_count;   /* ScannedCount */
};

int ddb_scan(struct ddb_client *c, const struct ddb_scan_request *req, struct ddb_scan_page *out,
             struct ddb2es_error *err);
void ddb_scan_page_free(struct ddb_scan_page *p);

/*
 * Reads up to 100 keys of one table with BatchGetItem, re-sending
 * UnprocessedKeys with backoff until every key is answered. `keys` is an array
 * of key objects ({"id": {"S": "..."}}), borrowed. `projection` (may be NULL)
 * limits the attributes returned; `consistent` asks for strongly consistent
 * reads. On success *found is a new array (caller json_decref) of the items that
 * exist, in any order.
 */
#define DDB_BATCH_GET_MAX 100
int ddb_batch_get(struct ddb_client *c, const char *table, const json_t *keys, const char *projection,
                  const json_t *attribute_names, int consistent, json_t **found, struct ddb2es_error *err);

#endif
