/*
 * ddb2es/error.h - one status enum and one caller-owned error record.
 *
 * DESIGN
 * Every fallible core function returns an `int` status (DDB2ES_OK == 0, or a
 * DDB2ES_E_* value) and, when given a non-NULL `struct ddb2es_error *`, fills
 * it with what a user needs to act: what failed and why, the host, the HTTP
 * status, the service's error type and message. The record is owned by the
 * caller (usually on its stack); core never allocates it. Statuses and their
 * short descriptions come from one X-macro so they never drift apart.
 *
 * Secrets never go into an error message: callers format hosts, tables and
 * service messages, never keys, tokens or signatures.
 */
#ifndef DDB2ES_ERROR_H
#define DDB2ES_ERROR_H

#include <stddef.h>

/* X(NAME, "short description") */
#define DDB2ES_STATUS_MAP(X)                                                 \
    X(OK, "success")                                                         \
    X(NOMEM, "out of memory")                                                \
    X(USAGE, "invalid arguments")                                            \
    X(CONFIG, "configuration error")                                         \
    X(IO, "file error")                                                      \
    X(NET, "network error")                                                  \
    X(TIMEOUT, "timed out")                                                  \
    X(TLS, "TLS error")                                                      \
    X(AUTH, "credentials error")                                             \
    X(SERVICE, "service error")                                              \
    X(THROTTLED, "throttled by the service")                                 \
    X(NOTFOUND, "not found")                                                 \
    X(PROTOCOL, "unexpected response")                                       \
    X(MAPPING, "mapping error")                                              \
    X(GUARD, "refused by the environment guard")                             \
    X(CANCELLED, "cancelled")                                                \
    X(INTERNAL, "internal error")

enum ddb2es_status {
#define DDB2ES_X_ENUM(name, desc) DDB2ES_E_##name,
    DDB2ES_STATUS_MAP(DDB2ES_X_ENUM)
#undef DDB2ES_X_ENUM
    DDB2ES_STATUS_COUNT
};

#define DDB2ES_OK DDB2ES_E_OK

/* Sizes of the text fields of struct ddb2es_error. */
#define DDB2ES_ERR_TYPE_MAX 128
#define DDB2ES_ERR_MSG_MAX 1024

/* What went wrong, filled by ddb2es_failf() and the service modules. */
struct ddb2es_error {
    enum ddb2es_status status;            /* same value the function returned */
    long http_status;                     /* HTTP status when a service answered, else 0 */
    char type[DDB2ES_ERR_TYPE_MAX];       /* service error type ("ResourceNotFoundException",
                                             "mapper_parsing_exception"), or "" */
    char message[DDB2ES_ERR_MSG_MAX];     /* full sentence for the user; never holds secrets */
};

/* Static description of a status ("network error"). Never NULL; the string is
 * a constant and must not be freed. Unknown values give "unknown error". */
const char *ddb2es_strerror(int status);

/* Symbolic name of a status ("NET"). Never NULL; a constant. */
const char *ddb2es_status_name(int status);

/* Resets *err to "no error". NULL is accepted. */
void ddb2es_error_clear(struct ddb2es_error *err);

/*
 * Records a failure in *err (if err is not NULL) and returns `status`, so a
 * caller can write `return ddb2es_failf(err, DDB2ES_E_IO, "cannot open %s: %s",
 * path, strerror(errno));`. The message is printf-formatted and truncated to
 * fit. http_status and type are left unchanged (set them before or after).
 */
int ddb2es_failf(struct ddb2es_error *err, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 3, 4)))
#endif
    ;

/*
 * Replaces every occurrence of `secret` (when not NULL and at least 4 bytes)
 * in err->message with "[redacted]". For answers that quote a request back
 * (AWS signature errors quote the canonical request, session token included).
 */
void ddb2es_error_redact(struct ddb2es_error *err, const char *secret);

/* Copies the service error type into err->type (truncated). NULL type gives "". */
void ddb2es_error_set_type(struct ddb2es_error *err, const char *type);

#endif
