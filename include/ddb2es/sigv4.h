/*
 * ddb2es/sigv4.h - AWS Signature Version 4 (HMAC-SHA256, OpenSSL libcrypto).
 *
 * DESIGN
 * The signer follows the documented steps and exposes each one, so the AWS test suite can
 * check them separately: canonical request -> string to sign -> signature -> Authorization.
 * Path normalisation (RFC 3986 remove_dot_segments, collapsing "//") and URI-encoding of the
 * path are done for every service except S3 (ddb2es never signs S3 requests). The path is
 * taken as it goes on the wire and encoded once more, so an escape already in it is encoded
 * again ('%2F' -> '%252F'), as AWS expects of every service but S3. Query parameters are
 * split on '&' and the first '=', each name and value percent-decoded then URI-encoded
 * (unreserved characters kept, '%XX' upper-case; '+' is a literal plus, not a space), sorted
 * by encoded name then value. Header names are lower-cased, values trimmed with inner runs of
 * whitespace (space, tab, CR, LF) folded to one space, repeated headers joined with ',' in
 * their order.
 * The payload is hashed once per request (a caller that already has the hash passes it), and
 * every step is linear in the size of its input apart from sorting headers and query
 * parameters, so multi-MiB bulk bodies cost one SHA-256 pass.
 */
#ifndef DDB2ES_SIGV4_H
#define DDB2ES_SIGV4_H

#include <stddef.h>

#include "ddb2es/buf.h"
#include "ddb2es/credentials.h"
#include "ddb2es/error.h"
#include "ddb2es/http.h"

/* Inputs of one signature. Everything is borrowed. */
struct sigv4_input {
    const char *method;                  /* "GET", "POST", ... */
    const char *path_and_query;          /* request target as on the wire: "/path?query"; the
                                            path may hold raw bytes or %XX escapes (see DESIGN) */
    const struct http_header *headers;   /* headers to sign; must include Host */
    size_t nheaders;
    const void *payload;                 /* body, may be NULL when payload_len is 0 */
    size_t payload_len;
    const char *payload_sha256_hex;      /* lower-case hex SHA-256 of the payload when the
                                            caller has it already, else NULL (hashed here) */
    const char *region;                  /* "eu-west-2" */
    const char *service;                 /* "dynamodb", "es" */
    const char *amz_date;                /* "20150830T123600Z" (UTC) */
    const struct aws_credentials *creds; /* access key, secret, optional session token */
};

/* Outputs. The caller owns the struct; sigv4_output_free releases the buffers. */
struct sigv4_output {
    struct dbuf canonical_request;  /* step 1 */
    struct dbuf string_to_sign;     /* step 2 */
    char signature[65];             /* step 3: lower-case hex */
    struct dbuf authorization;      /* step 4: Authorization header value */
};

/* Empties *out (call before the first sigv4_sign). */
void sigv4_output_init(struct sigv4_output *out);
/* Frees the buffers of *out and empties it. NULL is accepted. */
void sigv4_output_free(struct sigv4_output *out);

/*
 * Computes every step for `in` into *out (its previous contents are replaced; on failure it
 * is left empty). The session token, when present, is NOT added to the signed headers here:
 * a caller that wants it signed passes an X-Amz-Security-Token header (as the test suite's
 * post-sts-header-before case does) — see sigv4_sign_request for the way ddb2es sends
 * requests. DDB2ES_E_USAGE for missing or malformed inputs (no Host header, a bad amz_date,
 * a region or service with '/' or spaces), DDB2ES_E_NOMEM, DDB2ES_E_INTERNAL when libcrypto
 * fails. No output and no message contains the secret key.
 */
int sigv4_sign(const struct sigv4_input *in, struct sigv4_output *out, struct ddb2es_error *err);

/* Headers of a signed request, as sigv4_sign_request returns them. Free with
 * sigv4_headers_free; a zero-initialised struct ({0}) is empty and may be freed. */
struct sigv4_headers {
    struct http_header *headers;   /* owned array: the caller's headers (their strings still
                                      borrowed from the caller) followed by the added ones */
    size_t nheaders;
    char *owned[8];                /* strings this struct allocated (added names' values) */
    size_t nowned;
};

/*
 * Signs an outgoing request as ddb2es sends it: appends to the caller's headers Host (unless
 * the caller gave one: derived from `url`, "host" or "host:port" when the port is not the
 * scheme's default), X-Amz-Date, X-Amz-Security-Token (when the credentials carry one; it
 * is signed, as DynamoDB and OpenSearch Service accept), X-Amz-Content-Sha256 (services "es"
 * and "aoss", which want it) and last Authorization. Every header with a non-empty value is
 * signed; an empty value is passed through unsigned, because libcurl reads "Name:" as
 * "remove this header" and would not send it. The path and query come from `url` as is
 * (see DESIGN). `now` is the signing time (UTC seconds since the epoch). The body is hashed
 * once. On success *out holds a new list (free with sigv4_headers_free) that borrows the
 * caller's header strings, so they must outlive it; pass out->headers/out->nheaders to
 * http_send. On failure *out is empty. DDB2ES_E_USAGE for a malformed URL, a caller header
 * the signer sets itself (X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256,
 * Authorization) or the errors of sigv4_sign; no message contains a secret.
 */
int sigv4_sign_request(const char *method, const char *url, const struct http_header *headers,
                       size_t nheaders, const void *body, size_t body_len, const char *region,
                       const char *service, const struct aws_credentials *creds, long long now,
                       struct sigv4_headers *out, struct ddb2es_error *err);
/* Frees what sigv4_sign_request allocated (wiping the copied token) and empties *h. NULL is
 * accepted. */
void sigv4_headers_free(struct sigv4_headers *h);

/* Lower-case hex SHA-256 of data (NULL allowed when len is 0) into hex[65], NUL-terminated. */
void sigv4_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
