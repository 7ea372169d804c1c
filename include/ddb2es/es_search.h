/*
 * ddb2es/es_search.h - reading from Elasticsearch / OpenSearch: search pages,
 * point in time (both APIs), scroll, a scan over every document of an index
 * that hides which of them the cluster offers, and _mget.
 *
 * DESIGN
 * Every answer is read without a DOM (see es.h): a hit's _source and sort
 * values stay raw JSON text, byte for byte. A scan (orphans, verify) uses
 * PIT + search_after when the cluster has it (es_info.pit), else a scroll,
 * and falls back to a scroll when opening the PIT is refused; a page with
 * failed shards stops it rather than let ids look absent.
 *
 * Ownership: inputs are borrowed (es_scan_options are copied); pages and doc
 * lists own their hits/documents and strings (_init / _free); char **
 * outputs are malloc'd and freed by the caller.
 */
#ifndef DDB2ES_ES_SEARCH_H
#define DDB2ES_ES_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/es.h"

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
