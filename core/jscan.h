/*
 * jscan.h - internal to core/: the validating JSON scanner and the chunked
 * string pool that es.c, es_bulk.c and es_search.c read large answers with
 * (a _bulk answer of tens of thousands of items, search pages, _mget), and
 * the one UTF-8 validator of core/ (ddbjson.c's escaper uses it too).
 *
 * Not a public API: nothing outside core/ includes it.
 *
 * Ownership: strings from js_pool_* and js_get_str live in the pool until it
 * is reset or freed; js_get_strdup hands out malloc'd strings; js_string and
 * js_raw hand back spans borrowed from the scanned text.
 */
#ifndef DDB2ES_JSCAN_H
#define DDB2ES_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"

/* ------------------------------------------------------------------- pool */

struct es_pool; /* opaque: chunked string storage (public structs keep a pointer to one) */

/* n bytes from the pool (*pp created on first use). NULL when out of memory. */
char *js_pool_alloc(struct es_pool **pp, size_t n);

/* Forgets every string, keeping the newest block for reuse. NULL is accepted. */
void js_pool_reset(struct es_pool *p);

/* Frees the pool. NULL is accepted. */
void js_pool_free(struct es_pool *p);

/* A NUL-terminated copy of s[0..n) in the pool, or NULL when out of memory. */
const char *js_pool_strndup(struct es_pool **pp, const char *s, size_t n);

/* Grows *v (an array of `size`-byte elements, capacity *cap) to hold `need`. DDB2ES_E_NOMEM on failure. */
int js_grow_array(void **v, size_t *cap, size_t need, size_t size);

/* Cuts *b back to `len` bytes (an earlier mark), keeping it NUL-terminated. */
void js_dbuf_truncate(struct dbuf *b, size_t len);

/* ---------------------------------------------------------------- scanner */

/*
 * A validating JSON walker over [p, end). Values are consumed in document
 * order: js_member/js_elem position the cursor on a value, which the caller
 * must then consume (js_skip or one of the js_get_* readers). Every function
 * returns 0 / -1, or for the iterators 1 (a value follows), 0 (container
 * closed), -1 (syntax error). Nesting is bounded so hostile input cannot
 * exhaust the stack.
 */
struct js {
    const char *p;
    const char *end;
    int depth;
};

/* Starts scanning s[0..n) (borrowed: must outlive the scanner). */
void js_init(struct js *j, const char *s, size_t n);

/* The next non-blank byte (not consumed), or -1 at the end. */
int js_peek(struct js *j);

/* A string at the cursor: *s, *n give the raw bytes between the quotes (borrowed), *esc when escaped. */
int js_string(struct js *j, const char **s, size_t *n, bool *esc);

/* Consumes the opening bracket `open` ('{' or '[') of a container. */
int js_enter(struct js *j, int open);

/* Next member of an object: 1 with the raw key in *key, *klen (borrowed) and the cursor on the value, 0 at '}',
 * -1 on a syntax error. *first starts at 1. */
int js_member(struct js *j, int *first, const char **key, size_t *klen);

/* Next element of an array: 1 (cursor on it), 0 at ']', -1 on a syntax error. */
int js_elem(struct js *j, int *first);

/* Skips (and validates) the value at the cursor. */
int js_skip(struct js *j);

/* After the root value: 0 when only blanks follow. */
int js_end(struct js *j);

/* The raw span of the value at the cursor (borrowed), consumed. */
int js_raw(struct js *j, const char **s, size_t *n);

/* Decodes the escapes of a string validated by js_string (raw bytes s[0..n), e.g. an object key) into
 * out, which has room for n bytes (never longer once decoded). Returns the decoded length; a lone
 * surrogate becomes U+FFFD. */
size_t js_unescape(const char *s, size_t n, char *out);

/* Reads a string value into the pool (*out), or skips a non-string leaving *out unchanged.
 * -1 on a syntax error, -2 out of memory. */
int js_get_str(struct js *j, struct es_pool **pool, const char **out);

/* The last string read with js_get_str_memo. Zero-initialise; valid while the scanned text and the pool are. */
struct js_str_memo {
    const char *raw;   /* its raw bytes (borrowed from the scanned text) */
    size_t len;        /* their length */
    const char *copy;  /* its decoded copy in the pool, NULL before the first */
};

/* As js_get_str, but a string whose raw bytes equal the last one read with memo is not copied again: *out is
 * that copy. A run of equal strings (the index names of a bulk answer's items or of a page's hits) shares one.
 * memo NULL: exactly js_get_str. */
int js_get_str_memo(struct js *j, struct es_pool **pool, struct js_str_memo *memo, const char **out);

/* As js_get_str into a malloc'd string: *out is replaced (the previous value freed); caller frees. */
int js_get_strdup(struct js *j, char **out);

/* The raw JSON text of the value at the cursor copied into the pool (*out, NUL-terminated; *len bytes).
 * -1 on a syntax error, -2 out of memory. */
int js_get_raw(struct js *j, struct es_pool **pool, const char **out, size_t *len);

/* Reads an integer into *v; other values (and integers beyond 64 bits) are skipped, v unchanged. */
int js_get_int(struct js *j, long long *v);

/* Reads true/false into *v; other values are skipped. */
int js_get_bool(struct js *j, bool *v);

/* Maps a js_get_* failure (-1 / -2) to DDB2ES_E_PROTOCOL / _NOMEM with a message naming `what`. */
int js_fail(int r, const char *what, struct ddb2es_error *err);

/* True when the raw key k[0..kn) is `name`. */
bool js_key_is(const char *k, size_t kn, const char *name);

int js_is_digit(int c);

/* -------------------------------------------------------------- UTF-8 text */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
size_t js_utf8_seq(const unsigned char *s, size_t n);

bool js_utf8_valid(const char *s, size_t n);

/* Writes code point cp (at most U+10FFFF) as UTF-8 into o (room for 4 bytes); returns the length. */
size_t js_put_utf8(char *o, unsigned cp);

/* A printable, bounded rendering of s[0..n) (an id, a name) into out, for messages. */
void js_printable(const char *s, size_t n, char *out, size_t outsz);

#endif
