/*
 * ddb2es/legacy.h - the old system's interface, so existing CI/CD keeps working.
 *
 * The replaced Lambda took an event {"dynamoTable", "indexNodeHost",
 * "indexName"}; its container read DYNAMODB_TABLE, ELASTICSEARCH_HOST and
 * ELASTICSEARCH_INDEX. Both name no environment: the environment is the one
 * whose cluster is indexNodeHost (see guard_env_for_url), and the entity
 * follows from the table name, as before.
 */
#ifndef DDB2ES_LEGACY_H
#define DDB2ES_LEGACY_H

#include "ddb2es/credentials.h"
#include "ddb2es/error.h"

/* What the old system was told. Strings owned by the struct. */
struct legacy_request {
    char *table;       /* dynamoTable / DYNAMODB_TABLE */
    char *es_host;     /* indexNodeHost / ELASTICSEARCH_HOST: a URL or a bare host */
    char *index;       /* indexName / ELASTICSEARCH_INDEX */
};

/* Parses an event's JSON text; `name` is used in messages (a file name or "stdin"). */
int legacy_parse_event(const char *text, size_t len, const char *name, struct legacy_request *out,
                       struct ddb2es_error *err);

/*
 * Reads DYNAMODB_TABLE, ELASTICSEARCH_HOST, ELASTICSEARCH_INDEX. Returns
 * DDB2ES_E_NOTFOUND when none is set (the caller then needs flags), and
 * DDB2ES_E_USAGE naming the missing ones when only some are.
 */
int legacy_from_env(aws_getenv_fn getenv_fn, void *ctx, struct legacy_request *out, struct ddb2es_error *err);

void legacy_request_free(struct legacy_request *r);

#endif
