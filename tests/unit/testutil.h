/* testutil.h - helpers for the cmocka unit tests (header-only). */
#ifndef DDB2ES_TESTUTIL_H
#define DDB2ES_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/buf.h"

/* Path of a file under the shared reference folder: $DDB2ES_SHARED or ../shared. */
static inline const char *tu_shared(const char *rel, char *out, size_t outsz)
{
    const char *root = getenv("DDB2ES_SHARED");
    snprintf(out, outsz, "%s/%s", root && *root ? root : "../shared", rel);
    return out;
}

/* Reads a whole file; aborts the test program when missing (never a silent skip). */
static inline char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct dbuf b = DBUF_INIT;
    char chunk[8192];
    size_t n;

    if (!f) {
        fprintf(stderr, "missing test input %s (set DDB2ES_SHARED to the shared folder)\n", path);
        exit(2);
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        dbuf_append(&b, chunk, n);
    fclose(f);
    if (len)
        *len = b.len;
    return dbuf_detach(&b);
}

#endif
