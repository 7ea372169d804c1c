/*
 * ddb2es/preview.h - what a sync would write, before it writes anything.
 *
 * DESIGN
 * A preview reads the first items of a table (Scan with a Limit of what is
 * still wanted, so it reads only what it needs and stops as soon as enough
 * documents are mapped), maps each with the entity exactly as a sync would,
 * and keeps per item: its id, the document text, optionally the item as
 * plain JSON, or the mapping error. It then reports what would happen to the
 * target index (indexdef_prepare() in dry-run mode: will be created / exists
 * and matches / exists and differs / no definition), and, on request,
 * fetches the documents the index holds now for those ids (_mget) and marks
 * each new, unchanged or changed, with a field-level diff of the changed.
 * `ddb2es preview` and the console's preview screen both call preview_run()
 * and only differ in how they show the result.
 *
 * The diff compares JSON values, not text: object members by name whatever
 * their order, lists element by element, numbers by value when they fit a
 * 64-bit integer or a double (12.50 equals 12.5, 1 equals 1.0) and as text
 * otherwise (38-digit DynamoDB numbers are never rounded into equality),
 * strings after unescaping ("\u00e9" equals "é"). Paths read like the
 * mapper's: `tenures[2].uprn`, odd keys quoted as `a["x.y"]`.
 *
 * A result is a plain value owned by the caller: nothing is shared between
 * results or calls, no function keeps state, so previews may run on any
 * thread (each with its own clients). Nothing here prints.
 */
#ifndef DDB2ES_PREVIEW_H
#define DDB2ES_PREVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/indexdef.h"

struct entity;      /* ddb2es/entity.h */
struct ddb_client;  /* ddb2es/dynamo.h */
struct es_client;   /* ddb2es/es.h */

/* Most items a preview shows. */
#define PREVIEW_MAX_LIMIT 10000
/* Most differences kept per document; the rest are only counted (omitted). */
#define PREVIEW_MAX_DIFFS 200

/* ---- field-level differences ------------------------------------------ */

enum preview_diff_kind {
    PREVIEW_DIFF_ADDED = 0, /* the new document has a field the indexed one lacks */
    PREVIEW_DIFF_REMOVED,   /* the indexed document has a field the new one lacks */
    PREVIEW_DIFF_CHANGED,   /* both have it, with different values (or types) */
};

/* One difference. Strings owned by the list. */
struct preview_diff {
    enum preview_diff_kind kind;
    char *path;       /* "title", "tenures[2].uprn", "(document)" when the documents differ as a whole */
    char *old_json;   /* the indexed value as JSON text (as stored); NULL for ADDED */
    char *new_json;   /* the new value as JSON text; NULL for REMOVED */
};

struct preview_diff_list {
    struct preview_diff *v;  /* n differences: the new document's order, then removed fields */
    size_t n;
    size_t omitted;          /* differences beyond PREVIEW_MAX_DIFFS, not kept */
    size_t cap;              /* private */
};

void preview_diff_list_init(struct preview_diff_list *l);
/* Frees the differences and re-initialises. NULL is accepted. */
void preview_diff_list_free(struct preview_diff_list *l);

/* "added", "removed", "changed". A constant. */
const char *preview_diff_kind_name(enum preview_diff_kind k);

/*
 * Compares two JSON texts (pure): `old_doc` (the indexed document) and
 * `new_doc` (the mapped one), both borrowed, `*_len` bytes. Appends the
 * differences to *out (none when equal as JSON values). DDB2ES_E_PROTOCOL
 * when a text is not valid JSON (or nested deeper than 512 levels), naming
 * which; DDB2ES_E_NOMEM.
 */
int preview_diff_json(const char *old_doc, size_t old_len, const char *new_doc, size_t new_len,
                      struct preview_diff_list *out, struct ddb2es_error *err);

/* ---- items and results --------------------------------------------------- */

enum preview_change {
    PREVIEW_NOT_COMPARED = 0, /* no comparison asked, or the item was not mapped */
    PREVIEW_NEW,              /* the index has no document with this id */
    PREVIEW_UNCHANGED,        /* the index holds an equal document */
    PREVIEW_CHANGED,          /* the index holds another document: see diffs */
    PREVIEW_COMPARE_FAILED,   /* the service reported an error for this id: see compare_error */
};

/* "not-compared", "new", "unchanged", "changed", "compare-failed". A constant. */
const char *preview_change_name(enum preview_change c);

/* One item of the preview. Strings are owned by the item (the result). */
struct preview_item {
    size_t position;          /* 0-based, in the order the Scan returned the items */
    char *id;                 /* the document id; NULL when the item's id could not be read */
    bool mapped;              /* true: `document` holds the document; false: `error` says why not */
    char *document;           /* compact JSON text, exactly what a sync sends; NULL when not mapped */
    size_t document_len;
    char *source;             /* the item as plain JSON when asked (with_source), else NULL */
    char *source_error;       /* why the item could not be shown as JSON (too deep...), else NULL */
    char *error;              /* the mapping error, naming the item id and attribute path; NULL when mapped */
    enum preview_change change;
    char *compare_error;      /* PREVIEW_COMPARE_FAILED: the service's message, else NULL */
    struct preview_diff_list diffs; /* PREVIEW_CHANGED: the differences, old = indexed, new = mapped */
};

/* What preview_run() needs. Everything is borrowed and must outlive the call. */
struct preview_options {
    struct ddb_client *ddb;          /* required */
    struct es_client *es;            /* NULL: no index outcome and no comparison */
    const char *table;               /* required */
    const struct entity *entity;     /* required */
    size_t limit;                    /* documents wanted; 0: 10; at most PREVIEW_MAX_LIMIT */
    size_t max_read;                 /* stop after reading this many items even when fewer mapped;
                                        0: 10 x limit + 100 (a table of misfits is not read to the end) */
    bool with_source;                /* keep each item as plain JSON */
    const char *index;               /* report what a sync would do to this index (dry run); NULL: no */
    const char *compare_index;       /* compare with this index's current documents; NULL: no */
    time_t now;                      /* "now" for computed fields; 0: the current time */
};

struct preview_result {
    struct preview_item *items;   /* nitems, mapped and failed, in Scan order; owned */
    size_t nitems;
    size_t cap;                   /* private */
    size_t mapped;                /* items mapped to documents */
    size_t failed;                /* items that failed mapping (each with id and path in `error`) */
    size_t read;                  /* items read from DynamoDB */
    size_t requests;              /* Scan requests sent */
    double consumed_rcu;          /* read capacity the Scans consumed (0 when not reported) */
    bool more;                    /* the table has items after the last one read */
    bool index_checked;           /* index_report holds the target's outcome */
    struct indexdef_report index_report;
    bool compared;                /* items carry new / unchanged / changed */
    char *compare_index;          /* the index compared with; owned */
    bool compare_index_missing;   /* it does not exist: every document is new */
    size_t n_new, n_unchanged, n_changed, n_compare_failed;
};

/*
 * Runs a preview (see DESIGN). On success *out is a new result owned by the
 * caller (preview_result_free). Items that do not map are not errors: they
 * are in the result with their message. Errors: DDB2ES_E_USAGE (bad
 * options), the Scan's errors (table missing, connection, credentials), the
 * index outcome's and _mget's errors (connection, an invalid definition
 * file), DDB2ES_E_NOMEM. On error *out is NULL.
 */
int preview_run(const struct preview_options *o, struct preview_result **out, struct ddb2es_error *err);

/* Frees a result. NULL is accepted. */
void preview_result_free(struct preview_result *r);

/*
 * Maps one item into a new entry of r (pure but for the clock): id, document
 * or error, and the source when with_source. Updates r->mapped / r->failed.
 * `e` and `item` borrowed. A mapping error (DDB2ES_E_MAPPING: the item does
 * not fit) is recorded in the item and is not returned; DDB2ES_E_NOMEM (or
 * any other status entity_map_item gives) is returned and nothing is added.
 */
int preview_add_item(struct preview_result *r, const struct entity *e, const json_t *item, time_t now,
                     bool with_source, struct ddb2es_error *err);

/*
 * Compares the mapped items of r with the documents of `index` (borrowed) and
 * sets each item's change and diffs and r's counts (run again, it starts
 * over). A missing index makes every document new. Service errors are
 * returned; an error for one id marks that item COMPARE_FAILED.
 */
int preview_compare(struct es_client *es, const char *index, struct preview_result *r,
                    struct ddb2es_error *err);

/*
 * Marks one item from the document the index holds (pure): `found` false
 * means new; otherwise `source` (len bytes, borrowed) is compared with the
 * item's document. Does not update r's counts (preview_compare does).
 */
int preview_mark_item(struct preview_item *it, bool found, const char *source, size_t len,
                      struct ddb2es_error *err);

/* ---- showing JSON ---------------------------------------------------------- */

/*
 * Appends valid JSON text `json` (len bytes) re-indented by two spaces per
 * level, each line after the first prefixed by `prefix` (NULL: none), with
 * every token copied as it is (numbers are not re-written). Empty objects
 * and arrays stay `{}` / `[]`. No newline at the end. DDB2ES_E_PROTOCOL when
 * the text is not JSON, DDB2ES_E_NOMEM; *out is then left as it was.
 */
int preview_indent_json(const char *json, size_t len, const char *prefix, struct dbuf *out,
                        struct ddb2es_error *err);

#endif
