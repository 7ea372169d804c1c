/* error.c - status descriptions and the failf() helper. See ddb2es/error.h. */
#include "ddb2es/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_desc[] = {
#define DDB2ES_X_DESC(name, desc) desc,
    DDB2ES_STATUS_MAP(DDB2ES_X_DESC)
#undef DDB2ES_X_DESC
};

static const char *const status_names[] = {
#define DDB2ES_X_NAME(name, desc) #name,
    DDB2ES_STATUS_MAP(DDB2ES_X_NAME)
#undef DDB2ES_X_NAME
};

const char *ddb2es_strerror(int status)
{
    if (status < 0 || status >= DDB2ES_STATUS_COUNT)
        return "unknown error";
    return status_desc[status];
}

const char *ddb2es_status_name(int status)
{
    if (status < 0 || status >= DDB2ES_STATUS_COUNT)
        return "UNKNOWN";
    return status_names[status];
}

void ddb2es_error_clear(struct ddb2es_error *err)
{
    if (!err)
        return;
    err->status = DDB2ES_OK;
    err->http_status = 0;
    err->type[0] = '\0';
    err->message[0] = '\0';
}

int ddb2es_failf(struct ddb2es_error *err, int status, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return status;
    err->status = (enum ddb2es_status)status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return status;
}

void ddb2es_error_redact(struct ddb2es_error *err, const char *secret)
{
    static const char mark[] = "[redacted]";
    char out[DDB2ES_ERR_MSG_MAX];
    size_t n, used = 0;
    const char *p, *hit;

    if (!err || !secret || strlen(secret) < 4 || !strstr(err->message, secret))
        return;
    n = strlen(secret);
    p = err->message;
    for (;;) {
        size_t chunk;
        hit = strstr(p, secret);
        chunk = hit ? (size_t)(hit - p) : strlen(p);
        if (used + chunk >= sizeof(out))
            chunk = sizeof(out) - used - 1;
        memcpy(out + used, p, chunk);
        used += chunk;
        if (!hit)
            break;
        if (used + sizeof(mark) - 1 < sizeof(out)) {
            memcpy(out + used, mark, sizeof(mark) - 1);
            used += sizeof(mark) - 1;
        }
        p = hit + n;
    }
    out[used] = '\0';
    memcpy(err->message, out, used + 1);
}

void ddb2es_error_set_type(struct ddb2es_error *err, const char *type)
{
    if (!err)
        return;
    snprintf(err->type, sizeof(err->type), "%s", type ? type : "");
}
