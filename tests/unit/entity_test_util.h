/*
 * entity_test_util.h - what the entity tests (test_entity_*.c) and
 * test_preview.c share: the "now" instants of the cases, the shipped
 * entities, and mapping an item with the test failing on a mapping error.
 * Header-only, static inline, like testutil.h.
 */
#ifndef DDB2ES_ENTITY_TEST_UTIL_H
#define DDB2ES_ENTITY_TEST_UTIL_H

#include "testutil.h"

#include <time.h>

#include "ddb2es/entity.h"

/* 2025-01-01T00:00:00Z: "now" of the golden cases unless a case says otherwise. */
#define NOW_2025 1735689600
/* 2025-11-01T00:00:00Z: after every end date in the tenure fixtures (latest 2025-10-22). */
#define NOW_FIXTURES 1761955200

/* The shipped entity file assets/entities/NAME.json (tests run from the repo root). */
static inline struct entity *shipped(const char *name)
{
    char path[256];
    struct entity *e = NULL;
    struct ddb2es_error err;

    snprintf(path, sizeof(path), "assets/entities/%s.json", name);
    if (entity_load_file(path, &e, &err) != DDB2ES_OK)
        fail_msg("cannot load %s: %s", path, err.message);
    return e;
}

/* Maps an item and parses the document back; fails the test on a mapping error. */
static inline json_t *map_doc(const struct entity *e, const json_t *item, time_t now, char **id_out)
{
    struct entity_map_opts o = {now};
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct ddb2es_error err;
    json_error_t je;
    json_t *j;

    if (entity_map_item(e, item, &o, &doc, &id, &err) != DDB2ES_OK)
        fail_msg("mapping failed: %s", err.message);
    j = json_loadb(doc.data, doc.len, JSON_DECODE_INT_AS_REAL, &je);
    if (!j)
        fail_msg("document is not JSON (%s): %s", je.text, dbuf_cstr(&doc));
    if (id_out)
        *id_out = dbuf_detach(&id);
    dbuf_free(&doc);
    dbuf_free(&id);
    return j;
}

#endif
