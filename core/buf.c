/* buf.c - growable byte buffer. See ddb2es/buf.h. */
#include "ddb2es/buf.h"
#include "ddb2es/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dbuf_init(struct dbuf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void dbuf_free(struct dbuf *b)
{
    if (!b)
        return;
    free(b->data);
    dbuf_init(b);
}

void dbuf_reset(struct dbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int dbuf_reserve(struct dbuf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > (size_t)-1 - b->len - 1)
        return DDB2ES_E_NOMEM;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return DDB2ES_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > (size_t)-1 / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (!p)
        return DDB2ES_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return DDB2ES_OK;
}

int dbuf_append(struct dbuf *b, const void *data, size_t len)
{
    int rc = dbuf_reserve(b, len);

    if (rc)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return DDB2ES_OK;
}

int dbuf_puts(struct dbuf *b, const char *s)
{
    return dbuf_append(b, s, strlen(s));
}

int dbuf_putc(struct dbuf *b, char c)
{
    return dbuf_append(b, &c, 1);
}

int dbuf_vprintf(struct dbuf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n, rc;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return DDB2ES_E_INTERNAL;
    rc = dbuf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return DDB2ES_OK;
}

int dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = dbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *dbuf_cstr(const struct dbuf *b)
{
    return b->data ? b->data : "";
}

char *dbuf_detach(struct dbuf *b)
{
    char *p = b->data;

    if (!p) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
        return p;
    }
    dbuf_init(b);
    return p;
}
