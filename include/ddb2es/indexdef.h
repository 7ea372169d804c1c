/*
 * ddb2es/indexdef.h - index definitions: load one, create an index from it,
 * and say whether an existing index's mapping covers it.
 *
 * DESIGN
 * An entity names its index definition file (assets/indices/NAME.json, the
 * body of `PUT /<index>`: "settings" and "mappings"). Before a sync writes
 * anything, indexdef_prepare() looks at the target:
 *   - missing, with a definition: created from it (or, in a dry run such as
 *     preview, reported as "will be created");
 *   - existing, with a definition: its GET _mapping is compared with the
 *     definition's mappings and every difference is listed;
 *   - no definition file: nothing is compared, and a missing index is
 *     created empty (default settings, no mapping), which is what
 *     Elasticsearch's auto-creation would do on the first document (what the
 *     old .NET job relied on) but also works for an empty table or a cluster
 *     with action.auto_create_index off: the fields are mapped dynamically
 *     from the documents, and the report says so.
 *
 * "Covers" means: every field the definition maps exists in the index with
 * the same type, the same analyzers (by name: analyzer, search_analyzer,
 * search_quote_analyzer, normalizer, each with Elasticsearch's fallbacks),
 * the same multi-fields ("id.keyword") and, where the definition sets them,
 * the same "format" and "ignore_malformed" (they decide whether a document is
 * accepted). Fields the index has beyond the definition are fine: dynamic
 * mapping adds them. An object field without "type" is an "object".
 * Mappings from Elasticsearch 6 ({"_doc":{"properties":...}}) are unwrapped.
 * The target may be an alias: the mapping of the one index behind it is used
 * and named in the report.
 *
 * Settings are sent when creating but not compared: an existing index's
 * shard and replica counts are the operator's business.
 *
 * Every function is reentrant; the report is a plain value owned by the
 * caller. Nothing here prints.
 */
#ifndef DDB2ES_INDEXDEF_H
#define DDB2ES_INDEXDEF_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"

struct entity;     /* ddb2es/entity.h */
struct es_client;  /* ddb2es/es.h */

/* ---- a loaded definition ---------------------------------------------- */

struct indexdef {
    char *path;        /* file it was read from (or the source name); owned */
    json_t *body;      /* the whole definition: {"settings":{...},"mappings":{...}}; owned */
    const json_t *mappings; /* body's "mappings" (an object; {} when absent); borrowed from body */
    char *body_text;   /* compact JSON of body, the request body of PUT /<index>; owned */
};

/*
 * Loads and checks a definition file: a JSON object whose keys are among
 * "settings", "mappings", "aliases"; "mappings" holds "properties" (and may
 * hold root options such as "dynamic"); every field is an object whose
 * "type" is a string and whose "properties" / "fields" are objects of fields.
 * On success *out is new, owned by the caller (indexdef_free). Errors name
 * the file and the JSON path: DDB2ES_E_NOTFOUND (no such file), DDB2ES_E_IO
 * (cannot read), DDB2ES_E_CONFIG (not JSON, or not a definition),
 * DDB2ES_E_NOMEM. `path` is copied.
 */
int indexdef_load_file(const char *path, struct indexdef **out, struct ddb2es_error *err);

/* Same from text (len bytes); `source` names it in messages (NULL: "(memory)"); copied. */
int indexdef_load_buffer(const char *text, size_t len, const char *source, struct indexdef **out,
                         struct ddb2es_error *err);

/* Frees a definition. NULL is accepted. */
void indexdef_free(struct indexdef *d);

/* ---- comparing mappings ------------------------------------------------ */

enum indexdef_diff_kind {
    INDEXDEF_DIFF_MISSING = 0, /* the index does not map the field (or multi-field) */
    INDEXDEF_DIFF_TYPE,        /* mapped with another type */
    INDEXDEF_DIFF_PARAM,       /* same type, another analyzer / normalizer / format / ignore_malformed */
};

/* One difference. Strings owned by the report. */
struct indexdef_diff {
    enum indexdef_diff_kind kind;
    char *path;        /* field path: "tenures.uprn", "id.keyword" (a multi-field) */
    char *what;        /* "type", or the parameter: "analyzer", "format", ... */
    char *expected;    /* what the definition says: "keyword", "english", "true" */
    char *actual;      /* what the index has: "text", "default"; NULL when the field is missing */
    char *text;        /* the whole sentence: "tenures.uprn: expected type keyword, index has text" */
};

/* What indexdef_prepare() found or did. */
enum indexdef_outcome {
    INDEXDEF_WILL_CREATE = 0, /* dry run: the index is missing and would be created from the definition */
    INDEXDEF_CREATED,         /* the index was missing and has been created from the definition */
    INDEXDEF_EXISTS_MATCHES,  /* the index exists and its mapping covers the definition */
    INDEXDEF_EXISTS_DIFFERS,  /* the index exists and its mapping lacks or contradicts some fields */
    INDEXDEF_NO_DEFINITION,   /* no definition file: fields are mapped dynamically (see index_exists,
                                 created) */
};

/* Short name of an outcome ("exists-differs"). A constant. */
const char *indexdef_outcome_name(enum indexdef_outcome o);

/* The result of indexdef_prepare() / indexdef_compare(). Init before use; free after. */
struct indexdef_report {
    enum indexdef_outcome outcome;
    bool index_exists;        /* the target existed when looked at (before any creation) */
    bool created;             /* this call created it (CREATED, or NO_DEFINITION created empty) */
    char *index;              /* the target as given; owned */
    char *concrete_index;     /* the index behind an alias (== index when not an alias); NULL when
                                 the index does not exist; owned */
    char *definition_path;    /* the definition file (entity_index_path), even when missing; owned */
    struct indexdef_diff *diffs; /* ndiffs differences, in definition order; owned */
    size_t ndiffs;
    size_t cap;               /* private */
};

void indexdef_report_init(struct indexdef_report *r);
/* Frees what the report owns and re-initialises it. NULL is accepted. */
void indexdef_report_free(struct indexdef_report *r);

/*
 * Compares mappings (pure): `def` is a definition's "mappings" object, `idx`
 * the index's (the "mappings" object of GET /<index>/_mapping, with or
 * without an Elasticsearch 6 type level). Both borrowed. Appends each field
 * the definition maps and the index does not cover to out->diffs; sets
 * out->outcome to EXISTS_MATCHES or EXISTS_DIFFERS. DDB2ES_E_NOMEM only.
 */
int indexdef_compare(const json_t *def, const json_t *idx, struct indexdef_report *out,
                     struct ddb2es_error *err);

/* ---- preparing a target ------------------------------------------------ */

/*
 * Looks at index `index` (a name or an alias; borrowed) for entity `e`
 * (borrowed; its definition file is entity_index_path(e)) and fills *out
 * (reset first; the caller inits and frees it):
 *   - no definition file:      NO_DEFINITION (nothing compared); a missing
 *                              index is created empty when create_if_missing
 *   - missing index:           WILL_CREATE when create_if_missing is 0, else
 *                              creates it (PUT with the definition) -> CREATED;
 *                              if another process created it meanwhile, it is
 *                              compared as an existing one
 *   - existing index or alias: EXISTS_MATCHES / EXISTS_DIFFERS with the diffs
 * A difference is not an error: the caller decides (sync goes on and shows
 * the list). Errors: a definition that cannot be read or is invalid
 * (DDB2ES_E_CONFIG / _IO, naming the file), the service's errors (creation
 * refused, alias naming several indices: DDB2ES_E_USAGE, connection ...).
 * `es` belongs to the calling thread.
 */
int indexdef_prepare(struct es_client *es, const char *index, const struct entity *e, int create_if_missing,
                     struct indexdef_report *out, struct ddb2es_error *err);

/*
 * Appends to *out a description of the report for an operator, one line per
 * sentence, each ending with '\n':
 *   "index 'tenures' does not exist: it will be created from assets/indices/tenures.json"
 *   "index 'tenures' was created from ..."
 *   "index 'tenures' (behind alias 't') exists and its mapping covers ..."
 *   "index 'tenures' exists but its mapping differs from ... in 2 fields:"
 *   "  startOfTenureDate: expected type date, index has text"   (one line per difference)
 *   "index 'rooms' does not exist and there is no index definition at ...:
 *    Elasticsearch will create it with the first documents and map their fields dynamically"
 *   "index 'rooms' did not exist: created empty, with no index definition at ...
 *    Elasticsearch maps the fields dynamically"
 * DDB2ES_OK or DDB2ES_E_NOMEM.
 */
int indexdef_report_describe(const struct indexdef_report *r, struct dbuf *out);

#endif
