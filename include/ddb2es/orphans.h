/*
 * ddb2es/orphans.h - the documents of an index whose items are gone from the
 * table (orphans), deleting them safely, and proving an index equals its
 * table (verify).
 *
 * DESIGN
 * Listing never changes anything. Two strategies find the orphans:
 *   A  scan the table's ids only (ProjectionExpression on the entity's id
 *      attribute, parallel segments, pages sized by ddb_scan_limit_for) into
 *      a compact hash set (struct orphans_set), then stream every _id of the
 *      index (es_scan: PIT + search_after, or scroll; `_source: false`,
 *      seq_no_primary_term) and report those absent from the set. Cost: one
 *      key scan plus one id stream, whatever the number of orphans.
 *   B  for an index much smaller than its table: stream the index ids and
 *      ask BatchGetItem for them, 100 keys a request.
 * AUTO picks B when the index holds fewer than a tenth of the table's items
 * (DescribeTable's ItemCount against the index's _count: a Scan page holds
 * about ten times the items a BatchGetItem asks for) and the table's key is
 * the entity's id attribute alone; otherwise A.
 *
 * The set stores a 128-bit keyed hash (SipHash-2-4-128, a random key per
 * set) of each id and nothing else: 16 bytes a slot, open addressing with
 * linear probing, grown by doubling at 3/4 full, so 21-43 bytes per id
 * whatever the ids' length (ENTITY_ID_MAX is 512 bytes). The only error this
 * admits is two different ids with the same hash: an orphan whose hash equals
 * that of some table id would look present and be kept, never deleted (in
 * verify, that pair would hide one orphan and one missing id). For n
 * table ids and m index ids its probability is below n*m/2^127 (one bit of
 * the 128 marks "seen" for verify): 6e-23 for 10^8 each; and since the key
 * is random, nobody can choose ids that collide.
 *
 * Deleting is a separate job over a candidate list (from a listing, or from
 * a reviewed file: orphans_list_parse). Before anything is deleted: the
 * environment guard must accept the table's ARN and the URL; the candidates
 * must be at most max_delete_percent (default 10) of the index's documents,
 * so a wrong table or an empty scan cannot wipe an index. Then, 100 at a
 * time: a strongly consistent BatchGetItem (ConsistentRead) keeps every
 * candidate whose item exists again; the rest go in one _bulk of deletes,
 * each carrying the if_seq_no/if_primary_term read when it was listed, so a
 * document re-indexed since then answers 409 and is kept. Every deleted id
 * is appended to the audit log.
 *
 * Verify reports the ids missing from the index, the orphans and, with
 * `content`, the documents that differ from what the entity maps now,
 * compared as JSON values (orphans_json_diff).
 *
 * A job runs on background threads like a sync (ddb2es/pipeline.h): start,
 * then snapshot / cancel from any thread, join, free.
 */
#ifndef DDB2ES_ORPHANS_H
#define DDB2ES_ORPHANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ddb2es/buf.h"
#include "ddb2es/credentials.h"
#include "ddb2es/error.h"
struct entity;     /* ddb2es/entity.h */
struct ddb2es_env; /* ddb2es/config.h */

/* ---------------------------------------------------------------- hash set */

/* A 128-bit hash of an id. */
struct orphans_hash {
    uint64_t lo, hi;
};

/* SipHash-2-4 with 128-bit output of data[0..len) under `key` (16 bytes), as the
 * reference implementation lays it out: out[0..16) little-endian. Pure. */
void orphans_siphash128(const unsigned char key[16], const void *data, size_t len, unsigned char out[16]);

struct orphans_set;

/*
 * New set sized for about `expected` ids (a hint: it grows). `key` (16 bytes,
 * copied) keys the hash; NULL draws a random one. NULL on failure (err set).
 */
struct orphans_set *orphans_set_new(size_t expected, const unsigned char *key, struct ddb2es_error *err);

/* Frees the set. NULL is accepted. */
void orphans_set_free(struct orphans_set *s);

/* The set's hash of an id (pure: may run on any thread without the set's owner's lock). */
void orphans_set_hash(const struct orphans_set *s, const char *id, size_t len, struct orphans_hash *h);

/*
 * Adds a hash; *added (may be NULL) tells whether it was new. DDB2ES_E_NOMEM
 * when the table cannot grow (the set is then unchanged). Not thread-safe.
 */
int orphans_set_add_hash(struct orphans_set *s, const struct orphans_hash *h, bool *added, struct ddb2es_error *err);

/* orphans_set_hash + orphans_set_add_hash. */
int orphans_set_add(struct orphans_set *s, const char *id, size_t len, bool *added, struct ddb2es_error *err);

bool orphans_set_contains_hash(const struct orphans_set *s, const struct orphans_hash *h);
bool orphans_set_contains(const struct orphans_set *s, const char *id, size_t len);

/*
 * Marks an id as seen (verify). Returns false when it is not in the set;
 * *first (may be NULL) is true when this is the first mark.
 */
bool orphans_set_mark(struct orphans_set *s, const char *id, size_t len, bool *first);

/* True when the id is in the set and not marked. */
bool orphans_set_unmarked(const struct orphans_set *s, const char *id, size_t len);

size_t orphans_set_count(const struct orphans_set *s);    /* distinct hashes held */
size_t orphans_set_marked(const struct orphans_set *s);   /* distinct hashes marked */
size_t orphans_set_slots(const struct orphans_set *s);    /* table size (a power of two) */
size_t orphans_set_bytes(const struct orphans_set *s);    /* memory held, in bytes */

/* ------------------------------------------------------------- candidates */

/* One orphan: a document id and what the index said of it. Strings owned by the list. */
struct orphans_item {
    const char *id;
    long long seq_no;         /* _seq_no read when listed; -1 when unknown */
    long long primary_term;   /* _primary_term read when listed; -1 when unknown */
    const char *source;       /* raw _source JSON text (listings with_source), or NULL */
    size_t source_len;
};

/* A list of orphans. Init before use. */
struct orphans_list {
    struct orphans_item *v;   /* n items; owned */
    size_t n;
    size_t cap;               /* private */
    struct es_pool *pool;     /* private: string storage */
};

void orphans_list_init(struct orphans_list *l);
void orphans_list_free(struct orphans_list *l);

/* Appends a copy of `it` (strings copied). */
int orphans_list_add(struct orphans_list *l, const struct orphans_item *it, struct ddb2es_error *err);

/*
 * Reads a reviewed listing back (text borrowed; `name` names it in messages):
 * the `--format bulk` output (NDJSON delete actions; their _index must be
 * `index`) or the `--format json` output (an array of {"id", "seq_no",
 * "primary_term"}). Each entry must carry if_seq_no/if_primary_term (seq_no,
 * primary_term): a delete without them could remove a document re-indexed
 * since the listing. A plain id list is refused for the same reason.
 * Appends to *out. DDB2ES_E_USAGE with the line or position on bad input.
 */
int orphans_list_parse(const char *text, size_t len, const char *name, const char *index, struct orphans_list *out,
                       struct ddb2es_error *err);

/* ------------------------------------------------------------ JSON values */

/*
 * Compares two JSON texts as values: objects member by member whatever the
 * order, arrays element by element, strings after unescaping, numbers by
 * value as normalised decimals ("1.50" equals "15e-1", "-0" equals "0";
 * exact whatever the number of digits; an exponent beyond +-10^15 is
 * compared as written). *differ tells the outcome; when true, path[pathsz]
 * names the first difference ("tenures[2].uprn", "" for the root). Texts
 * are borrowed. DDB2ES_E_PROTOCOL when either is not JSON, DDB2ES_E_NOMEM.
 */
int orphans_json_diff(const char *a, size_t alen, const char *b, size_t blen, bool *differ, char *path,
                      size_t pathsz, struct ddb2es_error *err);

/* -------------------------------------------------------------------- jobs */

enum orphans_mode {
    ORPHANS_LIST = 0,   /* find the orphans */
    ORPHANS_DELETE,     /* delete `candidates`, safely */
    ORPHANS_VERIFY,     /* compare table and index */
};

enum orphans_strategy {
    ORPHANS_AUTO = 0,   /* from ItemCount and _count (see DESIGN) */
    ORPHANS_STRATEGY_A, /* table keys into a set, then the index ids */
    ORPHANS_STRATEGY_B, /* index ids checked with BatchGetItem */
};

/* Called on a job thread for each orphan found, in index order. `it` is borrowed for the call. */
typedef void (*orphans_found_fn)(void *ctx, const struct orphans_item *it);

/* What a job does. Strings and pointers are borrowed and must outlive the job. */
struct orphans_options {
    enum orphans_mode mode;
    /* source */
    const char *table;
    const char *region;
    const char *ddb_endpoint;            /* NULL: AWS's */
    const struct aws_credentials *creds;
    const char *ca_file;
    /* index */
    const char *es_url;
    const char *index;                   /* index or alias */
    const char *es_username;             /* basic auth, or NULL */
    const char *es_password;             /* never shown */
    int es_sigv4;
    const char *es_aws_service;
    const char *es_ca_file;
    const struct entity *entity;         /* the id attribute, and the mapping for verify content; required */
    /* LIST */
    enum orphans_strategy strategy;
    int with_source;                     /* read each orphan's _source too */
    orphans_found_fn on_found;           /* may be NULL */
    void *on_found_ctx;
    size_t keep;                         /* keep up to this many orphans for orphans_job_found() (0: none) */
    double keep_percent;                 /* > 0: keep at most this share of the index's documents, plus
                                            one (so that a listing beyond a deletion cap shows) */
    /* DELETE */
    const struct orphans_list *candidates;
    double max_delete_percent;           /* 0: 10 */
    const struct ddb2es_env *guard_env;  /* required: the table's account and es_url must be its own */
    const char *audit_path;              /* where deleted ids are recorded; NULL: none (tests only) */
    const char *audit_env;               /* environment name for the audit records */
    /* VERIFY */
    int content;                         /* also compare each document with what the entity maps now */
    size_t first_ids;                    /* ids kept per kind of difference; 0: 20 */
    /* shape */
    int total_segments;                  /* table scan segments; 0: from the table's size */
    int scan_limit;                      /* Scan Limit; 0: ddb_scan_limit_for */
    int max_attempts;                    /* per request; 0: 8 */
    long connect_timeout_ms, timeout_ms; /* 0: defaults */
};

enum orphans_state { ORPHANS_RUNNING = 0, ORPHANS_DONE, ORPHANS_CANCELLED, ORPHANS_FAILED };

enum orphans_stage {
    ORPHANS_STAGE_PREPARE = 0, /* DescribeTable, GET /, _count */
    ORPHANS_STAGE_TABLE,       /* scanning the table (keys, or items for verify content) */
    ORPHANS_STAGE_INDEX,       /* reading the index ids (A), or checking them (B) */
    ORPHANS_STAGE_MISSING,     /* verify: naming the ids missing from the index */
    ORPHANS_STAGE_DELETE,      /* re-checking and deleting */
    ORPHANS_STAGE_FINISHED,
};

/* Constant names ("running", "scanning the table"). */
const char *orphans_state_name(enum orphans_state s);
const char *orphans_stage_name(enum orphans_stage s);

/* A copy of a job's counters, taken under its lock. */
struct orphans_snapshot {
    enum orphans_mode mode;
    enum orphans_state state;
    enum orphans_stage stage;
    enum orphans_strategy strategy;      /* the one chosen (A or B) */
    double elapsed;                      /* seconds since start */
    double stage_seconds[ORPHANS_STAGE_FINISHED + 1]; /* time spent in each stage so far */
    long long table_items;               /* DescribeTable ItemCount (approximate); -1 unknown */
    long long index_docs;                /* _count at start; -1 unknown */
    int total_segments, segments_done;
    char scan_method[24];                /* "pit+search_after" or "scroll" once the index is read */
    unsigned long long keys_scanned;     /* table items read */
    unsigned long long ids_checked;      /* index ids looked up */
    unsigned long long orphans;          /* index ids absent from the table */
    unsigned long long missing;          /* verify: table ids absent from the index */
    unsigned long long differing;        /* verify content: documents that differ */
    unsigned long long compared;         /* verify content: documents compared */
    unsigned long long unmapped;         /* verify content: items the entity cannot map */
    unsigned long long candidates;       /* delete: ids given */
    unsigned long long deleted;          /* delete: documents removed */
    unsigned long long kept_came_back;   /* delete: the item exists again (consistent read) */
    unsigned long long kept_changed;     /* delete: re-indexed since the listing (409) */
    unsigned long long already_gone;     /* delete: no such document any more */
    unsigned long long failed;           /* delete: the index refused (see error) */
    size_t set_ids;                      /* ids in the set */
    size_t set_bytes;                    /* memory of the set */
    unsigned long long ddb_requests, ddb_retries, throttles;
    unsigned long long es_requests;
    double consumed_rcu;
    struct ddb2es_error error;           /* why it failed (state ORPHANS_FAILED) */
};

/* The first ids of each finding (counts are in the snapshot). Owned by the job. */
struct orphans_result {
    const char **missing;     /* first ids missing from the index */
    size_t nmissing;
    const char **orphans;     /* first orphans */
    size_t norphans;
    const char **differing;   /* first documents that differ */
    const char **diff_paths;  /* the first differing field of each ("" for the whole document) */
    size_t ndiffering;
    const char **unmapped;    /* first items the entity cannot map, with why */
    size_t nunmapped;
    const char **failed;      /* delete: first documents the index refused to delete */
    const char **failed_why;  /* ... and its reason */
    size_t nfailed;
};

struct orphans_job;

/*
 * Checks the options and starts the job on a background thread. On success
 * *out is the running job, owned by the caller: orphans_join() then
 * orphans_free(). On failure nothing runs and err says why.
 */
int orphans_start(const struct orphans_options *opts, struct orphans_job **out, struct ddb2es_error *err);

/* Copies the counters. Thread-safe. */
void orphans_snapshot(struct orphans_job *job, struct orphans_snapshot *out);

/* Asks the job to stop at the next page. Thread-safe, returns at once. */
void orphans_cancel(struct orphans_job *job);

/* A descriptor that becomes readable when the job ends (poll with stdin). Borrowed. */
int orphans_wait_fd(const struct orphans_job *job);

/* Waits for the job; returns DDB2ES_OK, DDB2ES_E_CANCELLED or the fatal status (err filled). */
int orphans_join(struct orphans_job *job, struct ddb2es_error *err);

/* After join: the orphans kept (LIST with `keep`). Borrowed from the job. */
const struct orphans_list *orphans_job_found(const struct orphans_job *job);

/* After join: the first ids of each finding (verify, delete failures). Borrowed from the job. */
const struct orphans_result *orphans_job_result(const struct orphans_job *job);

/* Frees a joined job. NULL is accepted. */
void orphans_free(struct orphans_job *job);

#endif
