/*
 * ddb2es/entity.h - entities as data: which tables, and how an item becomes
 * an Elasticsearch document.
 *
 * DESIGN
 * An entity is one JSON file (assets/entities/NAME.json, format described in
 * assets/entities/README.md): its name, the DynamoDB tables it applies to,
 * the id attribute (the document's _id), an optional version attribute, the
 * index definition file, and the list of document fields, each saying where
 * its value comes from and what a missing, NULL or ill-typed attribute
 * gives. Knowledge of Hackney's tables lives in those files, not in C.
 *
 * Loading checks the whole file and names the file and the JSON path of the
 * first problem ("assets/entities/x.json: $.fields.tenures.fields.uprn.from:
 * expected a string or an array of strings"). A loaded entity is immutable:
 * every string it needs while mapping (the escaped "key": text, serialised
 * defaults and constants) is prepared at load time. entity_map_item() only
 * reads it, writes into the caller's buffers and keeps its walking state on
 * its own stack, so any number of threads may map with one shared const
 * entity at the same time, without locks.
 *
 * Mapping looks each attribute up by key (json_object_get) and appends the
 * document as JSON text straight into the caller's dbuf: no json_t tree and
 * no allocation per field. An item that does not fit (a list where a map is
 * expected, a missing or non-string id, an invalid number, nesting beyond
 * DynamoDB's 32 levels, ...) gives DDB2ES_E_MAPPING with the item's id (when
 * it could be read) and the attribute path: `item "830a...": tenures[3]:
 * expected a map (M) for field "tenures", got S`. It never crashes and
 * leaves both output buffers as they were.
 */
#ifndef DDB2ES_ENTITY_H
#define DDB2ES_ENTITY_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"

struct entity;      /* one loaded entity file (opaque, immutable after load) */
struct entity_set;  /* the entities of one or more directories (opaque) */

/* Longest _id Elasticsearch accepts, in bytes. */
#define ENTITY_ID_MAX 512

/* ---- loading ---------------------------------------------------------- */

/*
 * Loads and checks one entity file. On success *out is a new entity owned by
 * the caller (entity_free). On failure *out is NULL and err says which file
 * and which JSON path: DDB2ES_E_IO (cannot read), DDB2ES_E_CONFIG (not JSON,
 * or not a valid entity), DDB2ES_E_NOMEM. `path` is copied.
 */
int entity_load_file(const char *path, struct entity **out, struct ddb2es_error *err);

/*
 * Same from text in memory (len bytes, need not be NUL-terminated). `source`
 * names the text in messages and is what entity_source_path() returns; the
 * index definition path is resolved against its directory. Both are copied;
 * source may be NULL ("(memory)").
 */
int entity_load_buffer(const char *text, size_t len, const char *source, struct entity **out,
                       struct ddb2es_error *err);

/* Frees an entity. NULL is accepted. */
void entity_free(struct entity *e);

/* ---- accessors (all strings borrowed from e, valid until entity_free) -- */

const char *entity_name(const struct entity *e);
/* The "description" text, or "" when the file has none. */
const char *entity_description(const struct entity *e);
/* Number of table names and the i-th one (i < count), as listed in the file. */
size_t entity_table_count(const struct entity *e);
const char *entity_table(const struct entity *e, size_t i);
/* 1 when `table` is one of the listed names (exact, case-sensitive match). */
int entity_matches_table(const struct entity *e, const char *table);
/* The top-level attribute holding the document id ("id"). */
const char *entity_id_attribute(const struct entity *e);
/* The version attribute ("versionNumber"), or NULL when the file names none. */
const char *entity_version_attribute(const struct entity *e);
/* The index definition file as written in the entity file ("../indices/x.json"). */
const char *entity_index_ref(const struct entity *e);
/* The same resolved against the entity file's directory (unchanged if absolute). */
const char *entity_index_path(const struct entity *e);
/* The file the entity was loaded from (or the source given to entity_load_buffer). */
const char *entity_source_path(const struct entity *e);
/* Number of top-level document fields and the name of the i-th one. */
size_t entity_field_count(const struct entity *e);
const char *entity_field_name(const struct entity *e, size_t i);

/* ---- mapping ---------------------------------------------------------- */

/* Options of entity_map_item(). A zeroed struct (or NULL) gives the defaults. */
struct entity_map_opts {
    time_t now;  /* "now" for computed fields such as tenure_active, in seconds
                    since the epoch (UTC); 0: the current time, read once per call */
};

/*
 * Maps one DynamoDB item (a JSON object of attribute name -> AttributeValue,
 * borrowed) to a document. Appends to *doc the document as one JSON object
 * (fields in the order of the entity file, no newline) and to *id the
 * document id as raw bytes (not quoted or escaped; from an S attribute, or
 * the text of an N, 1..ENTITY_ID_MAX bytes).
 * Returns DDB2ES_OK; DDB2ES_E_MAPPING when the item does not fit (err names
 * the item id when readable and the attribute path); DDB2ES_E_NOMEM. On error
 * *doc and *id are cut back to their length on entry.
 * Thread safety: e is only read; concurrent calls with the same e are safe.
 */
int entity_map_item(const struct entity *e, const json_t *item, const struct entity_map_opts *opts,
                    struct dbuf *doc, struct dbuf *id, struct ddb2es_error *err);

/*
 * Appends only the item's id to *id, with the same rules as entity_map_item()
 * (for dead-letter records and deletes). DDB2ES_E_MAPPING when the id is
 * missing, not S or N, empty or longer than ENTITY_ID_MAX bytes.
 */
int entity_item_id(const struct entity *e, const json_t *item, struct dbuf *id,
                   struct ddb2es_error *err);

/*
 * Reads the item's version attribute as a non-negative integer (what
 * Elasticsearch's external versioning takes). DDB2ES_E_NOTFOUND when the
 * entity names no version attribute or the item has none (or NULL);
 * DDB2ES_E_MAPPING when it is not an N holding an integer in 0..2^63-1.
 */
int entity_item_version(const struct entity *e, const json_t *item, long long *version,
                        struct ddb2es_error *err);

/* ---- entity sets ------------------------------------------------------ */

/*
 * Loads every *.json file (names starting with '.' are skipped) of each
 * directory, in order. Each file's "name" must equal its file name without
 * ".json". An entity in a later directory replaces one of the same name from
 * an earlier directory (an operator's directory can override a shipped
 * entity). Two remaining entities claiming the same table is an error naming
 * both files. A directory that cannot be read is an error (DDB2ES_E_IO).
 * On success *out is owned by the caller (entity_set_free); the strings in
 * dirs are copied as needed. On failure *out is NULL.
 */
int entity_set_load_dirs(const char *const *dirs, size_t ndirs, struct entity_set **out,
                         struct ddb2es_error *err);

/* Frees a set and its entities. NULL is accepted. */
void entity_set_free(struct entity_set *set);

/* Number of entities, and the i-th one in name order (borrowed from the set). */
size_t entity_set_count(const struct entity_set *set);
const struct entity *entity_set_at(const struct entity_set *set, size_t i);

/* The entity with this name, or NULL. Borrowed from the set. */
const struct entity *entity_set_find(const struct entity_set *set, const char *name);

/* The entity listing this table name (exact match), or NULL. Borrowed. */
const struct entity *entity_set_find_table(const struct entity_set *set, const char *table);

#endif
