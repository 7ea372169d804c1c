/* legacy.c - the old system's event and environment variables. See ddb2es/legacy.h. */
#include "ddb2es/legacy.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void legacy_request_free(struct legacy_request *r)
{
    if (!r)
        return;
    free(r->table);
    free(r->es_host);
    free(r->index);
    memset(r, 0, sizeof(*r));
}

int legacy_parse_event(const char *text, size_t len, const char *name, struct legacy_request *out,
                       struct ddb2es_error *err)
{
    static const char *const keys[] = {"dynamoTable", "indexNodeHost", "indexName"};
    json_error_t jerr;
    json_t *root;
    char **dst[3];
    int rc = DDB2ES_OK;

    memset(out, 0, sizeof(*out));
    dst[0] = &out->table;
    dst[1] = &out->es_host;
    dst[2] = &out->index;
    root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "event %s: line %d: %s", name, jerr.line, jerr.text);
    if (!json_is_object(root)) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE,
                          "event %s: expected {\"dynamoTable\": ..., \"indexNodeHost\": ..., \"indexName\": ...}",
                          name);
        goto out;
    }
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(root, keys[i]);
        if (!json_is_string(v) || json_string_length(v) == 0) {
            rc = ddb2es_failf(err, DDB2ES_E_USAGE, "event %s: $.%s: %s", name, keys[i],
                              v ? "expected a non-empty string" : "missing");
            goto out;
        }
        *dst[i] = util_strdup(json_string_value(v));
        if (!*dst[i]) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading the event");
            goto out;
        }
    }
out:
    json_decref(root);
    if (rc)
        legacy_request_free(out);
    return rc;
}

int legacy_from_env(aws_getenv_fn getenv_fn, void *ctx, struct legacy_request *out, struct ddb2es_error *err)
{
    static const char *const names[] = {"DYNAMODB_TABLE", "ELASTICSEARCH_HOST", "ELASTICSEARCH_INDEX"};
    const char *v[3];
    int set = 0;

    memset(out, 0, sizeof(*out));
    if (!getenv_fn)
        getenv_fn = aws_process_getenv;
    for (int i = 0; i < 3; i++) {
        v[i] = getenv_fn(ctx, names[i]);
        if (v[i] && !*v[i])
            v[i] = NULL;
        set += v[i] != NULL;
    }
    if (set == 0)
        return DDB2ES_E_NOTFOUND;
    if (set < 3) {
        for (int i = 0; i < 3; i++)
            if (!v[i])
                return ddb2es_failf(err, DDB2ES_E_USAGE,
                                    "%s is not set (the old interface needs DYNAMODB_TABLE, ELASTICSEARCH_HOST "
                                    "and ELASTICSEARCH_INDEX together)",
                                    names[i]);
    }
    out->table = util_strdup(v[0]);
    out->es_host = util_strdup(v[1]);
    out->index = util_strdup(v[2]);
    if (!out->table || !out->es_host || !out->index) {
        legacy_request_free(out);
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory");
    }
    return DDB2ES_OK;
}
