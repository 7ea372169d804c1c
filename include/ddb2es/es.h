/*
 * ddb2es/es.h - the Elasticsearch / OpenSearch client: connection, product
 * detection, errors, index operations, settings, aliases, _cat/indices.
 * Bulk writes: ddb2es/es_bulk.h. Searches, scans, _mget: ddb2es/es_search.h.
 *
 * DESIGN
 * Every call is one HTTP exchange through ddb2es/http.h (basic auth or SigV4,
 * TLS, keep-alive). A `struct es_client` owns one http_client and one reused
 * response buffer, so it belongs to ONE thread at a time: each bulk sender
 * makes its own client. Nothing here retries; the caller decides with the
 * classifications this module gives (es_bulk_result.outcome, the status
 * codes), because a bulk retry must re-send only the failed documents.
 *
 * The product is detected from `GET /` (es_info): OpenSearch in compatibility
 * mode answers with version 7.10.2, so the tagline, version.distribution and
 * lucene_version are trusted over version.number. The capabilities the rest
 * of the tool needs (point in time flavour, `_shard_doc`, `_type`) are derived
 * once into struct es_info.
 *
 * Large answers (a _bulk reply of several MiB with tens of thousands of items,
 * search pages, _mget) are read by a small validating JSON scanner rather
 * than a DOM: it walks the text once, copies only the strings kept, and hands
 * back raw spans (a document's `_source`, a hit's `sort` values) byte for
 * byte, so nothing is lost to number conversions. Small answers (GET /,
 * errors, settings, aliases, _cat) are read with jansson.
 *
 * Service errors become one sentence: "<what>: Elasticsearch at HOST answered
 * 400 mapper_parsing_exception: failed to parse field [...]; caused by
 * number_format_exception: ...", with err->http_status and err->type set and a
 * hint for the statuses a user can act on (401/403/413/429/5xx). Basic-auth
 * passwords and AWS secrets never appear in a message.
 *
 * Ownership, in short: options are copied (except aws_creds, borrowed);
 * result structs are caller-owned values with an _init/_free pair whose
 * strings live in storage owned by the struct; char ** outputs are malloc'd
 * and freed by the caller with free().
 */
#ifndef DDB2ES_ES_H
#define DDB2ES_ES_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>

#include "ddb2es/buf.h"
#include "ddb2es/credentials.h"
#include "ddb2es/error.h"

/* ------------------------------------------------------------------ client */

struct es_options {
    const char *url;          /* base URL, may carry a path prefix ("https://host/prefix") and
                                 "user:password@" (moved to basic auth, never printed); copied */
    const char *username;     /* basic auth user or NULL; copied */
    const char *password;     /* basic auth password or NULL (""); copied, wiped on free; never printed */
    long connect_timeout_ms;  /* 0: the http default (10 s) */
    long timeout_ms;          /* whole request; 0: the http default (120 s) */
    const char *ca_file;      /* PEM bundle to trust, NULL: the system's; copied */
    const char *user_agent;   /* NULL: the http default; copied */
    const struct aws_credentials *aws_creds; /* sign with SigV4 when not NULL; BORROWED: must outlive the client */
    const char *aws_region;   /* required with aws_creds ("eu-west-2"); copied */
    const char *aws_service;  /* SigV4 service: NULL means "es" (managed domains); "aoss" for serverless; copied */
    const atomic_int *abort_flag; /* borrowed: see struct http_options */
};

struct es_client;

/*
 * New client. Checks the URL (http:// or https://, a host). Returns NULL on
 * failure with err set (DDB2ES_E_USAGE for a bad URL, _CONFIG for aws_creds
 * without a region, _NOMEM). Free with es_client_free(). One thread at a time.
 */
struct es_client *es_client_new(const struct es_options *opts, struct ddb2es_error *err);

/* Frees the client, wiping the stored password. NULL is accepted. */
void es_client_free(struct es_client *c);

/* "host:port" as used in messages (no credentials). Borrowed from the client. */
const char *es_client_host(const struct es_client *c);

/* Seconds spent in HTTP exchanges by this client so far (for throughput figures). */
double es_client_http_seconds(const struct es_client *c);

/* ---------------------------------------------------------- product / info */

enum es_flavour {
    ES_FLAVOUR_UNKNOWN = 0,
    ES_FLAVOUR_ELASTICSEARCH,
    ES_FLAVOUR_OPENSEARCH,
};

/* Which point-in-time API a cluster offers. */
enum es_pit_kind {
    ES_PIT_NONE = 0,     /* none: use scroll */
    ES_PIT_ES,           /* POST /<index>/_pit?keep_alive=, DELETE /_pit {"id"}; answer key "id" */
    ES_PIT_OPENSEARCH,   /* POST /<index>/_search/point_in_time?keep_alive=,
                            DELETE /_search/point_in_time {"pit_id":[...]}; answer key "pit_id" */
};

/* What GET / says, and what the tool derives from it. A plain value. */
struct es_info {
    enum es_flavour flavour;
    char reported_version[32];  /* version.number as sent ("7.10.2" also for OpenSearch in compat mode) */
    int major, minor, patch;    /* the product's own version; 0.0.0 when unknown (compat mode) */
    bool version_known;         /* false when only the compatibility number was reported */
    bool compat_mode;           /* OpenSearch reporting an Elasticsearch version number */
    char build_flavor[16];      /* "default", "oss", or "" when absent (OpenSearch sends none) */
    char lucene_version[24];    /* "9.10.0", or "" */
    char cluster_name[256];     /* "elasticsearch", "<account>:<domain>" on AWS */
    char node_name[128];        /* "name" */
    enum es_pit_kind pit;       /* ES _pit (>= 7.10, default distribution), OpenSearch (>= 2.4), or none.
                                   In compat mode estimated from lucene_version (>= 9.4 means
                                   OpenSearch >= 2.4): probe, and fall back to scroll on refusal. */
    bool shard_doc_sort;        /* "_shard_doc" sort with a PIT (ES >= 7.12). Always false for OpenSearch,
                                   which only added it in a recent 3.x: sort on a unique field there */
    bool accepts_type;          /* `_type` accepted in requests (ES < 8, OpenSearch 1.x) */
};

/* "Elasticsearch", "OpenSearch", or "Elasticsearch" for unknown (constant string). */
const char *es_flavour_name(enum es_flavour f);

/*
 * Parses a `GET /` answer into *out (pure; no network). DDB2ES_E_PROTOCOL when
 * the text is not JSON or has no version.number ("not an Elasticsearch or
 * OpenSearch endpoint"). `host` names the server in messages (may be NULL).
 */
int es_parse_info(const char *body, size_t len, const char *host, struct es_info *out,
                  struct ddb2es_error *err);

/* GET / into *out. The client also remembers the product name for its messages. */
int es_info(struct es_client *c, struct es_info *out, struct ddb2es_error *err);

/* ---------------------------------------------------------------- errors */

/*
 * Turns a non-2xx answer into *err and returns the status stored:
 * 401/403 -> DDB2ES_E_AUTH, 404 -> _NOTFOUND, 429 -> _THROTTLED, else _SERVICE.
 * Understands {"error":{root_cause,type,reason,caused_by},"status":N},
 * {"error":"text"}, AWS {"message"|"Message":"text"}, and non-JSON bodies
 * (a proxy's HTML page: a short printable excerpt). err->http_status and
 * err->type are set. `product` NULL means "Elasticsearch"; `what` (the
 * operation, e.g. "creating index 'persons'") prefixes the message when not
 * NULL. All inputs are borrowed.
 */
int es_error_from_response(const char *product, const char *host, const char *what, long http_status,
                           const char *body, size_t len, struct ddb2es_error *err);

/* True when err holds the service error type `type` ("resource_already_exists_exception"). */
bool es_error_is(const struct ddb2es_error *err, const char *type);

/* ------------------------------------------------------- index operations */
/* `index` is a name, alias or pattern; borrowed. Errors name the index. */

/* HEAD /<index>: *exists = true on 200, false on 404; other answers are errors. */
int es_index_exists(struct es_client *c, const char *index, bool *exists, struct ddb2es_error *err);

/*
 * PUT /<index> with `body_json` (settings + mappings JSON text, may be NULL
 * for defaults; borrowed). When the index already exists the answer is
 * resource_already_exists_exception: with `already_exists` not NULL that is a
 * success with *already_exists = true; with NULL it is DDB2ES_E_SERVICE with
 * err->type "resource_already_exists_exception".
 */
int es_index_create(struct es_client *c, const char *index, const char *body_json, bool *already_exists,
                    struct ddb2es_error *err);

/* DELETE /<index>. A missing index is DDB2ES_E_NOTFOUND (index_not_found_exception). */
int es_index_delete(struct es_client *c, const char *index, struct ddb2es_error *err);

/* POST /<index>/_refresh. */
int es_index_refresh(struct es_client *c, const char *index, struct ddb2es_error *err);

/* Documents matching `query_json` (the query object's JSON text, NULL: all) into *count. */
int es_count(struct es_client *c, const char *index, const char *query_json, long long *count,
             struct ddb2es_error *err);

/*
 * GET /<index>/_mapping: *mappings_json is the "mappings" object of the one
 * concrete index as compact JSON text (malloc'd; caller frees). When
 * `concrete_index` is not NULL it receives the concrete index name (malloc'd;
 * caller frees), useful when `index` is an alias. An alias or pattern that
 * resolves to several indices is DDB2ES_E_USAGE.
 */
int es_get_mapping(struct es_client *c, const char *index, char **mappings_json, char **concrete_index,
                   struct ddb2es_error *err);

/*
 * GET /<index>/_settings?flat_settings=true: *settings_json is the flat
 * "settings" object of the one concrete index ({"index.number_of_replicas":
 * "1", ...}), compact JSON text, malloc'd, caller frees.
 */
int es_get_settings(struct es_client *c, const char *index, char **settings_json, struct ddb2es_error *err);

/* PUT /<index>/_settings with `settings_json` as given (e.g. {"index":{"refresh_interval":"-1"}}). */
int es_put_settings(struct es_client *c, const char *index, const char *settings_json,
                    struct ddb2es_error *err);

/* The two settings a bulk load changes and restores. A plain value. */
struct es_write_settings {
    char refresh_interval[32];  /* "1s", "-1"; "" when not set on the index (the default applies) */
    int number_of_replicas;     /* -1 when unknown / not to change */
};

/* Reads refresh_interval and number_of_replicas of one concrete index. */
int es_get_write_settings(struct es_client *c, const char *index, struct es_write_settings *out,
                          struct ddb2es_error *err);

/*
 * Writes them: refresh_interval "" sends null (back to the default);
 * number_of_replicas < 0 is left unchanged.
 */
int es_put_write_settings(struct es_client *c, const char *index, const struct es_write_settings *s,
                          struct ddb2es_error *err);

/* ---------------------------------------------------------------- aliases */

struct es_alias {
    const char *index;     /* concrete index; owned by the list */
    const char *alias;     /* owned by the list */
    bool is_write_index;   /* "is_write_index": true */
};

/* A list of (index, alias) pairs, sorted by index then alias. Init before use. */
struct es_alias_list {
    struct es_alias *v;    /* n entries; owned */
    size_t n;
    size_t cap;            /* private */
    struct es_pool *pool;  /* private: string storage */
};

void es_alias_list_init(struct es_alias_list *l);
void es_alias_list_free(struct es_alias_list *l);

/* Parses a GET .../_alias answer ({"idx":{"aliases":{"a":{}}}}) into *out (appends). Pure. */
int es_parse_aliases(const char *body, size_t len, struct es_alias_list *out, struct ddb2es_error *err);

/*
 * GET /[<index>/]_alias[/<alias>] (NULL for "all"). A missing alias or index
 * (404) gives an empty list and DDB2ES_OK.
 */
int es_aliases_get(struct es_client *c, const char *index, const char *alias, struct es_alias_list *out,
                   struct ddb2es_error *err);

enum es_alias_op {
    ES_ALIAS_ADD,           /* {"add":{"index","alias"[,"is_write_index"]}} */
    ES_ALIAS_REMOVE,        /* {"remove":{"index","alias"}} */
    ES_ALIAS_REMOVE_INDEX,  /* {"remove_index":{"index"}}: deletes the index (atomic swap) */
};

struct es_alias_action {
    enum es_alias_op op;
    const char *index;      /* borrowed */
    const char *alias;      /* borrowed; unused for ES_ALIAS_REMOVE_INDEX */
    bool is_write_index;    /* ES_ALIAS_ADD only: emitted when true */
};

/* Appends the POST /_aliases body {"actions":[...]} to *out. DDB2ES_E_USAGE for n == 0 or a NULL name. */
int es_aliases_body(const struct es_alias_action *actions, size_t n, struct dbuf *out,
                    struct ddb2es_error *err);

/* POST /_aliases with all the actions in one request (applied atomically). */
int es_aliases_update(struct es_client *c, const struct es_alias_action *actions, size_t n,
                      struct ddb2es_error *err);

/* ----------------------------------------------------------- _cat/indices */

struct es_index_row {
    const char *index;        /* owned by the list */
    const char *health;       /* "green", "yellow", "red", "" (closed) */
    const char *status;       /* "open", "close" */
    const char *uuid;
    int pri, rep;             /* -1 when absent */
    long long docs_count;     /* -1 when absent (closed index) */
    long long docs_deleted;   /* -1 when absent */
    long long store_bytes;    /* "store.size" in bytes ("88.1kb" is read as 90214); -1 when absent */
    long long pri_store_bytes;
};

struct es_index_list {
    struct es_index_row *v;   /* n rows, in the service's order; owned */
    size_t n;
    size_t cap;               /* private */
    struct es_pool *pool;     /* private */
};

void es_index_list_init(struct es_index_list *l);
void es_index_list_free(struct es_index_list *l);

/* Parses a _cat/indices?format=json answer (all values are strings) into *out (appends). Pure. */
int es_parse_cat_indices(const char *body, size_t len, struct es_index_list *out, struct ddb2es_error *err);

/* GET /_cat/indices[/<pattern>]?format=json&bytes=b, sorted by index name. */
int es_cat_indices(struct es_client *c, const char *pattern, struct es_index_list *out,
                   struct ddb2es_error *err);

/* ------------------------------------------------------------- JSON text */

#define ES_ID_MAX_BYTES 512   /* Elasticsearch's limit on _id */

/* Appends `s` as a JSON string literal (quotes included). DDB2ES_E_USAGE when s is not valid UTF-8. */
int es_json_string(struct dbuf *out, const char *s, size_t len, struct ddb2es_error *err);

#endif
