/*
 * dynamo.c - DynamoDB low-level client. See ddb2es/dynamo.h.
 *
 * DESIGN
 * ddb_call() is the only place that talks HTTP: it builds the signed POST,
 * classifies the answer (success, retryable, fatal) and loops with the retry
 * state. The operations above it only build request bodies with jansson and
 * pick fields out of answers.
 */
#include "ddb2es/dynamo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/http.h"
#include "util.h"

struct ddb_client {
    struct http_client *http;
    char *endpoint;   /* "https://dynamodb.eu-west-2.amazonaws.com" or the override */
    char *region;
    char host[256];   /* host[:port] for messages */
    const struct aws_credentials *creds;
    struct retry_state retry;
    struct ddb_stats stats;
};

struct ddb_client *ddb_client_new(const struct ddb_options *opts, struct ddb2es_error *err)
{
    struct http_options ho = {0};
    struct ddb_client *c;
    char path[8];
    int port;

    if (!opts->region || !*opts->region) {
        ddb2es_failf(err, DDB2ES_E_CONFIG, "no AWS region for DynamoDB; set it in the environment's config");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        goto nomem;
    c->region = util_strdup(opts->region);
    if (opts->endpoint) {
        size_t n = strlen(opts->endpoint);
        while (n > 0 && opts->endpoint[n - 1] == '/')
            n--;
        c->endpoint = util_strndup(opts->endpoint, n);
    } else {
        struct dbuf b = DBUF_INIT;
        if (dbuf_printf(&b, "https://dynamodb.%s.amazonaws.com", opts->region) == 0)
            c->endpoint = dbuf_detach(&b);
        dbuf_free(&b);
    }
    if (!c->region || !c->endpoint)
        goto nomem;
    if (http_url_split(c->endpoint, c->host, sizeof(c->host), &port, path, sizeof(path), err)) {
        ddb_client_free(c);
        return NULL;
    }
    snprintf(c->host + strlen(c->host), sizeof(c->host) - strlen(c->host), ":%d", port);
    c->creds = opts->creds;
    retry_state_init(&c->retry, opts->retry, opts->seed);
    ho.timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 60000;
    ho.ca_file = opts->ca_file;
    ho.abort_flag = opts->abort_flag;
    c->http = http_client_new(&ho, err);
    if (!c->http) {
        ddb_client_free(c);
        return NULL;
    }
    return c;
nomem:
    ddb_client_free(c);
    ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory creating the DynamoDB client");
    return NULL;
}

void ddb_client_free(struct ddb_client *c)
{
    if (!c)
        return;
    http_client_free(c->http);
    free(c->endpoint);
    free(c->region);
    free(c);
}

const struct ddb_stats *ddb_client_stats(const struct ddb_client *c)
{
    return &c->stats;
}

const char *ddb_client_endpoint(const struct ddb_client *c)
{
    return c->endpoint;
}

static const char *after_hash(const char *type)
{
    const char *h = strrchr(type, '#');
    return h ? h + 1 : type;
}

int ddb_is_throttle(const char *type)
{
    const char *t = after_hash(type);
    return strcmp(t, "ProvisionedThroughputExceededException") == 0 || strcmp(t, "ThrottlingException") == 0 ||
           strcmp(t, "RequestLimitExceeded") == 0;
}

int ddb_is_retryable(const char *type, long http_status)
{
    const char *t = type ? after_hash(type) : "";

    if (ddb_is_throttle(t))
        return 1;
    if (strcmp(t, "InternalServerError") == 0 || strcmp(t, "ServiceUnavailable") == 0 ||
        strcmp(t, "InternalFailure") == 0)
        return 1;
    return http_status >= 500;
}

/* A hint for the operator by error type. */
static const char *hint_for(const char *t)
{
    if (strcmp(t, "ResourceNotFoundException") == 0)
        return "; check the table name and the environment's region";
    if (strcmp(t, "UnrecognizedClientException") == 0 || strcmp(t, "InvalidSignatureException") == 0 ||
        strcmp(t, "MissingAuthenticationTokenException") == 0 || strcmp(t, "ExpiredTokenException") == 0)
        return "; check the AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID) and their session token";
    if (strcmp(t, "AccessDeniedException") == 0)
        return "; the credentials lack permission (dynamodb:Scan, dynamodb:DescribeTable, ...)";
    if (ddb_is_throttle(t))
        return "; the table is throttling reads: lower --segments or the read rate, or retry later";
    return "";
}

int ddb_parse_error(const char *body, size_t len, long http_status, const char *endpoint, const char *op,
                    const char *what, struct ddb2es_error *err)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *type = "", *msg = "";
    int st;

    if (root && json_is_object(root)) {
        json_t *t = json_object_get(root, "__type");
        json_t *m = json_object_get(root, "message");
        if (!json_is_string(m))
            m = json_object_get(root, "Message");
        if (json_is_string(t))
            type = after_hash(json_string_value(t));
        if (json_is_string(m))
            msg = json_string_value(m);
    }
    if (!*type && !*msg)
        msg = http_status >= 500 ? "the service is unavailable" : "no error details in the answer";
    if (ddb_is_throttle(type))
        st = DDB2ES_E_THROTTLED;
    else if (strcmp(type, "ResourceNotFoundException") == 0)
        st = DDB2ES_E_NOTFOUND;
    else if (strstr(type, "Client") || strstr(type, "Signature") || strstr(type, "Token") ||
             strcmp(type, "AccessDeniedException") == 0)
        st = DDB2ES_E_AUTH;
    else
        st = DDB2ES_E_SERVICE;
    ddb2es_failf(err, st, "DynamoDB %s%s%s at %s failed: %ld %s%s%s%s", op, what ? " on " : "", what ? what : "",
                 endpoint, http_status, type, *type ? ": " : "", msg, hint_for(type));
    if (err) {
        err->http_status = http_status;
        ddb2es_error_set_type(err, type);
    }
    json_decref(root);
    return st;
}

int ddb_call(struct ddb_client *c, const char *op, const char *body, size_t len, const char *what, json_t **out,
             struct ddb2es_error *err)
{
    char target[96];
    struct http_header hdrs[2] = {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", target}};
    struct http_aws_auth aws = {c->creds, c->region, "dynamodb"};
    struct http_request req = {0};
    struct http_response resp;
    json_error_t jerr;
    int rc, attempt = 0;

    *out = NULL;
    snprintf(target, sizeof(target), "DynamoDB_20120810.%s", op);
    req.method = "POST";
    req.url = c->endpoint;
    req.headers = hdrs;
    req.nheaders = 2;
    req.body = body;
    req.body_len = len;
    req.aws = c->creds ? &aws : NULL;
    http_response_init(&resp);
    for (;;) {
        int retryable = 0, costly = 0;
        long delay;

        attempt++;
        c->stats.requests++;
        rc = http_send(c->http, &req, &resp, err);
        if (rc == DDB2ES_E_NET || rc == DDB2ES_E_TIMEOUT) {
            retryable = 1;
            costly = 1;
        } else if (rc) {
            goto out;
        } else if (resp.status == 200) {
            *out = json_loadb(dbuf_cstr(&resp.body), resp.body.len, 0, &jerr);
            if (!*out)
                rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "DynamoDB %s at %s: unreadable answer: %s", op, c->host,
                                  jerr.text);
            else
                retry_success(&c->retry);
            goto out;
        } else {
            rc = ddb_parse_error(dbuf_cstr(&resp.body), resp.body.len, resp.status, c->host, op, what, err);
            if (c->creds) {
                /* signature errors quote the canonical request back, token included */
                ddb2es_error_redact(err, c->creds->session_token);
                ddb2es_error_redact(err, c->creds->secret_access_key);
            }
            if (rc == DDB2ES_E_THROTTLED)
                c->stats.throttles++;
            retryable = ddb_is_retryable(err ? err->type : "", resp.status) || rc == DDB2ES_E_THROTTLED;
        }
        if (!retryable)
            goto out;
        delay = retry_next_delay(&c->retry, attempt, costly);
        if (delay < 0) {
            if (err) {
                char prev[DDB2ES_ERR_MSG_MAX];
                snprintf(prev, sizeof(prev), "%s", err->message);
                if (costly) /* a transport error does not say which service it was */
                    ddb2es_failf(err, rc, "DynamoDB %s%s%s: %s (gave up after %d attempts)", op, what ? " on " : "",
                                 what ? what : "", prev, attempt);
                else
                    ddb2es_failf(err, rc, "%s (gave up after %d attempts)", prev, attempt);
            }
            goto out;
        }
        c->stats.retries++;
        util_sleep_ms(delay);
    }
out:
    http_response_free(&resp);
    return rc;
}

/* Serialises a request object and calls; takes ownership of `reqj`. */
static int call_json(struct ddb_client *c, const char *op, json_t *reqj, const char *what, json_t **out,
                     struct ddb2es_error *err)
{
    char *body;
    int rc;

    *out = NULL;
    if (!reqj)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory building a DynamoDB %s request", op);
    body = json_dumps(reqj, JSON_COMPACT);
    json_decref(reqj);
    if (!body)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory building a DynamoDB %s request", op);
    rc = ddb_call(c, op, body, strlen(body), what, out, err);
    free(body);
    return rc;
}

void ddb_names_free(char **names)
{
    if (!names)
        return;
    for (char **p = names; *p; p++)
        free(*p);
    free(names);
}

int ddb_list_tables(struct ddb_client *c, char ***names, size_t *count, struct ddb2es_error *err)
{
    char **list = NULL;
    size_t n = 0, cap = 0;
    char *start = NULL;
    json_t *resp = NULL;
    int rc = DDB2ES_OK;

    *names = NULL;
    *count = 0;
    do {
        json_t *reqj = json_pack("{s:i}", "Limit", 100), *tn, *last, *v;
        size_t i;
        if (reqj && start)
            json_object_set_new(reqj, "ExclusiveStartTableName", json_string(start));
        free(start);
        start = NULL;
        rc = call_json(c, "ListTables", reqj, NULL, &resp, err);
        if (rc)
            goto out;
        tn = json_object_get(resp, "TableNames");
        if (!json_is_array(tn)) {
            rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "DynamoDB ListTables at %s: answer has no TableNames", c->host);
            goto out;
        }
        json_array_foreach(tn, i, v) {
            if (!json_is_string(v))
                continue;
            if (n + 2 > cap) {
                size_t ncap = cap ? cap * 2 : 64;
                char **p = realloc(list, ncap * sizeof(*p));
                if (!p) {
                    rc = DDB2ES_E_NOMEM;
                    goto out;
                }
                list = p;
                cap = ncap;
            }
            list[n] = util_strdup(json_string_value(v));
            if (!list[n]) {
                rc = DDB2ES_E_NOMEM;
                goto out;
            }
            list[++n] = NULL;
        }
        last = json_object_get(resp, "LastEvaluatedTableName");
        if (json_is_string(last)) {
            start = util_strdup(json_string_value(last));
            if (!start) {
                rc = DDB2ES_E_NOMEM;
                goto out;
            }
        }
        json_decref(resp);
        resp = NULL;
    } while (start);
    if (!list) {
        list = calloc(1, sizeof(*list));
        if (!list) {
            rc = DDB2ES_E_NOMEM;
            goto out;
        }
    }
out:
    json_decref(resp);
    free(start);
    if (rc) {
        if (rc == DDB2ES_E_NOMEM)
            ddb2es_failf(err, rc, "out of memory listing tables");
        ddb_names_free(list);
        return rc;
    }
    *names = list;
    *count = n;
    return DDB2ES_OK;
}

static char *dup_str_member(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? util_strdup(json_string_value(v)) : NULL;
}

static long long int_member(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return 0;
}

void ddb_table_info_free(struct ddb_table_info *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->arn);
    free(t->status);
    free(t->hash_key);
    free(t->range_key);
    free(t->billing_mode);
    memset(t, 0, sizeof(*t));
}

int ddb_table_info_copy(struct ddb_table_info *dst, const struct ddb_table_info *src)
{
    *dst = *src;
    dst->name = util_strdup(src->name);
    dst->arn = util_strdup(src->arn);
    dst->status = util_strdup(src->status);
    dst->hash_key = util_strdup(src->hash_key);
    dst->range_key = util_strdup(src->range_key);
    dst->billing_mode = util_strdup(src->billing_mode);
    if ((src->name && !dst->name) || (src->arn && !dst->arn) || (src->status && !dst->status) ||
        (src->hash_key && !dst->hash_key) || (src->range_key && !dst->range_key) ||
        (src->billing_mode && !dst->billing_mode)) {
        ddb_table_info_free(dst);
        return DDB2ES_E_NOMEM;
    }
    return DDB2ES_OK;
}

int ddb_describe_table(struct ddb_client *c, const char *table, struct ddb_table_info *out,
                       struct ddb2es_error *err)
{
    char what[300];
    json_t *resp = NULL, *t, *ks, *k;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(what, sizeof(what), "table %s", table);
    rc = call_json(c, "DescribeTable", json_pack("{s:s}", "TableName", table), what, &resp, err);
    if (rc)
        return rc;
    t = json_object_get(resp, "Table");
    if (!json_is_object(t)) {
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "DynamoDB DescribeTable at %s: answer has no Table", c->host);
        goto out;
    }
    out->name = dup_str_member(t, "TableName");
    out->arn = dup_str_member(t, "TableArn");
    out->status = dup_str_member(t, "TableStatus");
    out->item_count = int_member(t, "ItemCount");
    out->size_bytes = int_member(t, "TableSizeBytes");
    out->billing_mode = dup_str_member(json_object_get(t, "BillingModeSummary"), "BillingMode");
    out->read_capacity = int_member(json_object_get(t, "ProvisionedThroughput"), "ReadCapacityUnits");
    ks = json_object_get(t, "KeySchema");
    json_array_foreach(ks, i, k) {
        json_t *kt = json_object_get(k, "KeyType");
        if (!json_is_string(kt))
            continue;
        if (strcmp(json_string_value(kt), "HASH") == 0 && !out->hash_key)
            out->hash_key = dup_str_member(k, "AttributeName");
        else if (strcmp(json_string_value(kt), "RANGE") == 0 && !out->range_key)
            out->range_key = dup_str_member(k, "AttributeName");
    }
    if (!out->name || !out->hash_key)
        rc = ddb2es_failf(err, DDB2ES_E_PROTOCOL, "DynamoDB DescribeTable at %s: answer lacks the table name or key",
                          c->host);
out:
    json_decref(resp);
    if (rc)
        ddb_table_info_free(out);
    return rc;
}

void ddb_arn_account(const char *arn, char *out, size_t outsz)
{
    /* arn:aws:dynamodb:REGION:ACCOUNT:table/NAME */
    const char *p = arn;
    int colons = 0;

    out[0] = '\0';
    if (!arn)
        return;
    while (*p && colons < 4) {
        if (*p == ':')
            colons++;
        p++;
    }
    if (colons == 4) {
        size_t n = strcspn(p, ":");
        if (n >= outsz)
            n = outsz - 1;
        memcpy(out, p, n);
        out[n] = '\0';
    }
}

int ddb_scan_limit_for(const struct ddb_table_info *t)
{
    long long avg, lim;

    if (t->item_count <= 0 || t->size_bytes <= 0)
        return 1000;
    avg = t->size_bytes / t->item_count;
    if (avg < 1)
        avg = 1;
    lim = (1024 * 1024) / avg;
    if (lim < 10)
        lim = 10;
    if (lim > 10000)
        lim = 10000;
    return (int)lim;
}

void ddb_scan_page_free(struct ddb_scan_page *p)
{
    if (!p)
        return;
    json_decref(p->root);
    memset(p, 0, sizeof(*p));
}

int ddb_scan(struct ddb_client *c, const struct ddb_scan_request *r, struct ddb_scan_page *out,
             struct ddb2es_error *err)
{
    char what[300];
    json_t *reqj = json_pack("{s:s, s:s}", "TableName", r->table, "ReturnConsumedCapacity", "TOTAL");
    json_t *cc;
    int rc;

    memset(out, 0, sizeof(*out));
    if (reqj && r->total_segments > 1) {
        json_object_set_new(reqj, "Segment", json_integer(r->segment));
        json_object_set_new(reqj, "TotalSegments", json_integer(r->total_segments));
    }
    if (reqj && r->limit > 0)
        json_object_set_new(reqj, "Limit", json_integer(r->limit));
    if (reqj && r->exclusive_start_key)
        json_object_set(reqj, "ExclusiveStartKey", (json_t *)r->exclusive_start_key);
    if (reqj && r->projection)
        json_object_set_new(reqj, "ProjectionExpression", json_string(r->projection));
    if (reqj && r->attribute_names)
        json_object_set(reqj, "ExpressionAttributeNames", (json_t *)r->attribute_names);
    if (reqj && r->consistent_read)
        json_object_set_new(reqj, "ConsistentRead", json_true());
    if (r->total_segments > 1)
        snprintf(what, sizeof(what), "table %s segment %d/%d", r->table, r->segment, r->total_segments);
    else
        snprintf(what, sizeof(what), "table %s", r->table);
    rc = call_json(c, "Scan", reqj, what, &out->root, err);
    if (rc)
        return rc;
    out->items = json_object_get(out->root, "Items");
    if (!json_is_array(out->items)) {
        ddb_scan_page_free(out);
        return ddb2es_failf(err, DDB2ES_E_PROTOCOL, "DynamoDB Scan at %s: answer has no Items", c->host);
    }
    out->last_key = json_object_get(out->root, "LastEvaluatedKey");
    if (out->last_key && (!json_is_object(out->last_key) || json_object_size(out->last_key) == 0))
        out->last_key = NULL;
    out->scanned_count = (size_t)int_member(out->root, "ScannedCount");
    cc = json_object_get(out->root, "ConsumedCapacity");
    if (json_is_object(cc)) {
        json_t *u = json_object_get(cc, "CapacityUnits");
        out->consumed = json_is_number(u) ? json_number_value(u) : 0;
    }
    return DDB2ES_OK;
}

int ddb_batch_get(struct ddb_client *c, const char *table, const json_t *keys, const char *projection,
                  const json_t *attribute_names, int consistent, json_t **found, struct ddb2es_error *err)
{
    char what[300];
    json_t *pending = NULL, *result = NULL, *resp = NULL;
    int rc = DDB2ES_OK, round = 0;

    *found = NULL;
    if (!json_is_array(keys) || json_array_size(keys) > DDB_BATCH_GET_MAX)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "BatchGetItem takes 1 to %d keys", DDB_BATCH_GET_MAX);
    snprintf(what, sizeof(what), "table %s", table);
    result = json_array();
    pending = json_deep_copy(keys);
    if (!result || !pending) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading keys");
        goto out;
    }
    while (json_array_size(pending) > 0) {
        json_t *req = json_object(), *tab = json_object(), *items, *un, *ukeys, *v;
        size_t i;

        if (!req || !tab) {
            json_decref(req);
            json_decref(tab);
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory reading keys");
            goto out;
        }
        json_object_set(tab, "Keys", pending);
        if (projection)
            json_object_set_new(tab, "ProjectionExpression", json_string(projection));
        if (attribute_names)
            json_object_set(tab, "ExpressionAttributeNames", (json_t *)attribute_names);
        if (consistent)
            json_object_set_new(tab, "ConsistentRead", json_true());
        json_object_set_new(req, "RequestItems", json_pack("{s:o}", table, tab));
        json_object_set_new(req, "ReturnConsumedCapacity", json_string("TOTAL"));
        rc = call_json(c, "BatchGetItem", req, what, &resp, err);
        if (rc)
            goto out;
        items = json_object_get(json_object_get(resp, "Responses"), table);
        json_array_foreach(items, i, v)
            json_array_append(result, v);
        un = json_object_get(json_object_get(resp, "UnprocessedKeys"), table);
        ukeys = un ? json_object_get(un, "Keys") : NULL;
        json_decref(pending);
        pending = json_is_array(ukeys) ? json_incref(ukeys) : json_array();
        json_decref(resp);
        resp = NULL;
        if (json_array_size(pending) > 0) {
            /* DynamoDB answered only part: back off before asking for the rest */
            long delay = retry_next_delay(&c->retry, ++round, 0);
            if (delay < 0) {
                rc = ddb2es_failf(err, DDB2ES_E_THROTTLED,
                                  "DynamoDB BatchGetItem on %s kept returning unprocessed keys (%zu left)", what,
                                  json_array_size(pending));
                goto out;
            }
            c->stats.retries++;
            util_sleep_ms(delay);
        }
    }
out:
    json_decref(resp);
    json_decref(pending);
    if (rc) {
        json_decref(result);
        return rc;
    }
    *found = result;
    return DDB2ES_OK;
}
