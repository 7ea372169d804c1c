/* prepare.c - getting the target index ready before a sync writes to it. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Reads a whole small file; NULL when it cannot be read. Caller frees. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct dbuf b = DBUF_INIT;
    char chunk[8192];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (dbuf_append(&b, chunk, n)) {
            fclose(f);
            dbuf_free(&b);
            return NULL;
        }
    fclose(f);
    return dbuf_detach(&b);
}

int cli_prepare_index(const struct cli_context *ctx, struct es_client *es, const char *index,
                      const struct entity *e, int must_create)
{
    struct ddb2es_error err;
    const char *def_path = entity_index_path(e);
    bool exists = false, already = false;
    char *def = NULL;
    int code = EXIT_ALL_OK;

    (void)ctx;
    ddb2es_error_clear(&err);
    if (es_index_exists(es, index, &exists, &err)) {
        cli_error(&err);
        return EXIT_USAGE;
    }
    if (exists) {
        if (must_create)
            return cli_fail(EXIT_USAGE, "index %s exists already; choose another alias name", index);
        return EXIT_ALL_OK;
    }
    if (def_path)
        def = read_text(def_path);
    if (def_path && !def)
        return cli_fail(EXIT_USAGE, "cannot read the index definition %s of entity %s", def_path, entity_name(e));
    if (es_index_create(es, index, def ? def : "{}", &already, &err)) {
        cli_error(&err);
        code = EXIT_USAGE;
    } else if (!already) {
        fprintf(stderr, "ddb2es: created index %s %s\n", index,
                def ? "from the entity's index definition" : "with dynamic mapping (the entity names no definition)");
    }
    free(def);
    return code;
}
