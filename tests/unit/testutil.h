/*
 * testutil.h - helpers for the cmocka unit tests (header-only): where the
 * shared reference files are, reading them, and parsing JSON. The functions
 * are static inline so a test that uses only some of them builds
 * warning-free. A missing input ends the test program with status 2 (never
 * a silent skip).
 */
#ifndef DDB2ES_TESTUTIL_H
#define DDB2ES_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "util.h"

/* Path of a file under the shared reference folder: $DDB2ES_SHARED or ../shared. */
static inline const char *tu_shared(const char *rel, char *out, size_t outsz)
{
    const char *root = getenv("DDB2ES_SHARED");
    snprintf(out, outsz, "%s/%s", root && *root ? root : "../shared", rel);
    return out;
}

/* Reads a whole file (malloc'd, NUL-terminated; caller frees); *len its length when len is given. */
static inline char *tu_slurp(const char *path, size_t *len)
{
    struct dbuf b = DBUF_INIT;
    struct ddb2es_error err;

    if (util_read_file(path, &b, &err) != DDB2ES_OK) {
        fprintf(stderr, "missing test input %s (set DDB2ES_SHARED to the shared folder): %s\n", path,
                err.message);
        exit(2);
    }
    if (len)
        *len = b.len;
    return dbuf_detach(&b);
}

/* Parses JSON text (any value) or fails the test. Caller decrefs. */
static inline json_t *tu_json(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);

    if (!j)
        fail_msg("test JSON does not parse: %s: %s", je.text, text);
    return j;
}

/* Parses a JSON file. Caller decrefs. */
static inline json_t *tu_json_file(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);

    if (!j) {
        fprintf(stderr, "missing or bad test input %s: %s (set DDB2ES_SHARED)\n", path, je.text);
        exit(2);
    }
    return j;
}

/* Parses a JSON file of the shared reference folder (see tu_shared). Caller decrefs. */
static inline json_t *tu_json_shared(const char *rel)
{
    char path[1024];

    return tu_json_file(tu_shared(rel, path, sizeof(path)));
}

#endif
