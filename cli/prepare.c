/* prepare.c - getting the target index ready before a sync writes to it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ddb2es/indexdef.h"

int cli_prepare_index(const struct cli_context *ctx, struct es_client *es, const char *index,
                      const struct entity *e, int must_create)
{
    struct indexdef_report r;
    struct ddb2es_error err;
    struct dbuf text = DBUF_INIT;
    int rc, code = EXIT_ALL_OK;

    (void)ctx;
    ddb2es_error_clear(&err);
    indexdef_report_init(&r);
    rc = indexdef_prepare(es, index, e, 1, &r, &err);
    if (rc) {
        cli_error(&err);
        code = cli_exit_for(rc);
        goto out;
    }
    if (must_create && r.index_exists) {
        code = cli_fail(EXIT_USAGE, "index %s exists already; choose another alias name", index);
        goto out;
    }
    /* one "ddb2es: " line per sentence: created / matches / differs + each difference / dynamic */
    if (indexdef_report_describe(&r, &text) == DDB2ES_OK) {
        const char *p = dbuf_cstr(&text);
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            fprintf(stderr, "ddb2es: %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
    }
out:
    dbuf_free(&text);
    indexdef_report_free(&r);
    return code;
}
