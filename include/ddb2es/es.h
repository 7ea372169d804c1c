/*
 * ddb2es/es.h - the Elasticsearch / OpenSearch client.
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

/* -------------------------------------------------------------------- bulk */

#define ES_ID_MAX_BYTES 512   /* Elasticsearch's limit on _id */

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

/* Appends `s` as a JSON string literal (quotes included). DDB2ES_E_USAGE when s is not valid UTF-8. */
int es_json_string(struct dbuf *out, const char *s, size_t len, struct ddb2es_error *err);

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

/* ------------------------------------------------------ search / scanning */

/* One hit of a search page. Strings are owned by the page. */
struct es_hit {
    const char *index;        /* "_index" */
    const char *id;           /* "_id" */
    long long seq_no;         /* "_seq_no" when asked, else -1 */
    long long primary_term;   /* "_primary_term" when asked, else -1 */
    long long version;        /* "_version" when present, else -1 */
    const char *source;       /* "_source" raw JSON text as the service sent it, or NULL */
    size_t source_len;
};

/* A page of a search / scroll answer. Init before use; reusable. */
struct es_page {
    struct es_hit *hits;      /* nhits; owned */
    size_t nhits;
    char *pit_id;             /* top-level "pit_id" (may change between pages), or NULL; owned */
    char *scroll_id;          /* "_scroll_id", or NULL; owned */
    char *search_after;       /* JSON text of the last hit's "sort" array, or NULL; owned */
    long long total;          /* hits.total.value (or a number in ES 6), -1 when absent */
    bool total_is_lower_bound;/* hits.total.relation "gte" */
    bool timed_out;
    size_t shards_failed;     /* _shards.failed: when > 0 the page may be incomplete */
    size_t cap;               /* private */
    struct es_pool *pool;     /* private */
};

void es_page_init(struct es_page *p);
void es_page_reset(struct es_page *p);
void es_page_free(struct es_page *p);

/* Parses a search or scroll answer (pure). */
int es_parse_search_page(const char *body, size_t len, struct es_page *out, struct ddb2es_error *err);

/* A search request body (see es_search_body). Everything borrowed. */
struct es_search_params {
    size_t size;              /* page size; 0: 1000 */
    const char *query_json;   /* query object JSON text; NULL: match_all */
    const char *pit_id;       /* with a PIT ("pit":{"id","keep_alive"}), else NULL */
    const char *keep_alive;   /* "5m"; NULL: "5m" */
    const char *sort_field;   /* sort ascending on this field; NULL: "_shard_doc" with a PIT, "_doc" without */
    const char *search_after; /* JSON array text from the previous page (es_page.search_after), or NULL */
    bool seq_no_primary_term; /* ask for _seq_no/_primary_term */
    bool source;              /* true: "_source": true; false: "_source": false (ids only) */
    bool track_total_hits;    /* false: "track_total_hits": false (cheaper; Elasticsearch >= 7 and
                                 OpenSearch only); true: the key is left out */
};

/* Appends the JSON body of a search to *out. Pure. */
int es_search_body(const struct es_search_params *p, struct dbuf *out, struct ddb2es_error *err);

/* Parses an open-PIT answer: "id" (Elasticsearch) or "pit_id" (OpenSearch). *pit_id malloc'd, caller frees. */
int es_parse_pit_open(const char *body, size_t len, char **pit_id, struct ddb2es_error *err);

/* Appends the close body: {"id":ID} (ES) or {"pit_id":[ID]} (OpenSearch). */
int es_pit_close_body(enum es_pit_kind kind, const char *pit_id, struct dbuf *out, struct ddb2es_error *err);

/*
 * Parses a close answer: ES {"succeeded":true,"num_freed":N}; OpenSearch
 * {"pits":[{"successful":bool,"pit_id":...}]} (*freed = successful ones).
 */
int es_parse_pit_close(const char *body, size_t len, size_t *freed, struct ddb2es_error *err);

/* POST /<index>/_pit or /<index>/_search/point_in_time ?keep_alive=K. *pit_id malloc'd, caller frees.
 * DDB2ES_E_USAGE for kind ES_PIT_NONE. */
int es_pit_open(struct es_client *c, enum es_pit_kind kind, const char *index, const char *keep_alive,
                char **pit_id, struct ddb2es_error *err);

/* DELETE /_pit or /_search/point_in_time. An expired PIT (404) is DDB2ES_OK. */
int es_pit_close(struct es_client *c, enum es_pit_kind kind, const char *pit_id, struct ddb2es_error *err);

/*
 * One search request: POST /<index>/_search?scroll=K when `scroll_keep_alive`
 * is not NULL (first scroll page), POST /_search when p->pit_id is set (a PIT
 * names its indices), else POST /<index>/_search. Fills *out (reset first).
 */
int es_search(struct es_client *c, const char *index, const struct es_search_params *p,
              const char *scroll_keep_alive, struct es_page *out, struct ddb2es_error *err);

/* POST /_search/scroll {"scroll":K,"scroll_id":ID}: the next scroll page into *out. */
int es_scroll_next(struct es_client *c, const char *scroll_id, const char *keep_alive, struct es_page *out,
                   struct ddb2es_error *err);

/* DELETE /_search/scroll {"scroll_id":ID}. A scroll already gone (404) is DDB2ES_OK. */
int es_scroll_clear(struct es_client *c, const char *scroll_id, struct ddb2es_error *err);

/*
 * A scan over every document id of an index (orphans, verify), hiding the
 * paging mechanism: PIT + search_after when the cluster has it (sorted on
 * _shard_doc, or on `sort_field` when _shard_doc is unavailable), else
 * scroll sorted on _doc. If opening the PIT is refused (a compat-mode or OSS
 * cluster), it falls back to scroll.
 */
enum es_scan_mode { ES_SCAN_AUTO = 0, ES_SCAN_PIT, ES_SCAN_SCROLL };

struct es_scan_options {
    const char *index;         /* index or alias; copied */
    enum es_scan_mode mode;    /* AUTO: PIT when possible, else scroll */
    const char *sort_field;    /* unique, sortable field (keyword: "id", "id.keyword") used with a PIT
                                  when _shard_doc is unavailable; NULL: scroll there; copied */
    size_t page_size;          /* 0: 1000 */
    const char *keep_alive;    /* NULL: "5m"; copied */
    const char *query_json;    /* NULL: all documents; copied */
    bool seq_no_primary_term;  /* also return _seq_no/_primary_term */
    bool source;               /* also return _source */
};

struct es_scan;

/*
 * Starts a scan. `c` and `info` are borrowed and must outlive the scan; the
 * options are copied. *out is owned by the caller: es_scan_close().
 */
int es_scan_open(struct es_client *c, const struct es_info *info, const struct es_scan_options *opts,
                 struct es_scan **out, struct ddb2es_error *err);

/* The next page into *page (reset first); page->nhits == 0 means the scan is over. */
int es_scan_next(struct es_scan *s, struct es_page *page, struct ddb2es_error *err);

/* "pit+search_after" or "scroll": how the scan pages (constant string). */
const char *es_scan_method(const struct es_scan *s);

/* Releases the PIT or scroll context (best effort: errors are ignored) and frees. NULL is accepted. */
void es_scan_close(struct es_scan *s);

/* ------------------------------------------------------------------ _mget */

/* One document of an _mget answer. Strings are owned by the list. */
struct es_doc {
    const char *index;        /* "_index" */
    const char *id;           /* "_id" */
    bool found;
    const char *source;       /* raw "_source" JSON text as stored, NULL when not found */
    size_t source_len;
    long long version, seq_no, primary_term; /* -1 when absent */
    const char *error;        /* "TYPE: REASON" when the service reported an error for this id, else NULL */
};

struct es_doc_list {
    struct es_doc *v;         /* n documents, in the order of the ids asked; owned */
    size_t n;
    size_t cap;               /* private */
    struct es_pool *pool;     /* private */
};

void es_doc_list_init(struct es_doc_list *l);
void es_doc_list_reset(struct es_doc_list *l);
void es_doc_list_free(struct es_doc_list *l);

/* Appends the body {"ids":[...]} for ids[0..n). */
int es_mget_body(const char *const *ids, size_t n, struct dbuf *out, struct ddb2es_error *err);

/* Parses an _mget answer {"docs":[...]} into *out (appends). Pure. */
int es_parse_mget(const char *body, size_t len, struct es_doc_list *out, struct ddb2es_error *err);

/* POST /<index>/_mget for ids[0..n) (borrowed) into *out (reset first). */
int es_mget(struct es_client *c, const char *index, const char *const *ids, size_t n, struct es_doc_list *out,
            struct ddb2es_error *err);

#endif
