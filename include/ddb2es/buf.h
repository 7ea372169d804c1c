/*
 * ddb2es/buf.h - a growable byte buffer (always NUL-terminated).
 *
 * A `struct dbuf` is a value the caller owns, usually on its stack or inside
 * another struct. Initialise with DBUF_INIT or dbuf_init(); release with
 * dbuf_free(). `data` is NULL until the first append; dbuf_cstr() never
 * returns NULL. Growth failures return DDB2ES_E_NOMEM and leave the buffer as
 * it was.
 */
#ifndef DDB2ES_BUF_H
#define DDB2ES_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct dbuf {
    char *data;   /* owned; NUL-terminated when non-NULL */
    size_t len;   /* bytes used, excluding the terminating NUL */
    size_t cap;   /* bytes allocated */
};

#define DBUF_INIT {NULL, 0, 0}

void dbuf_init(struct dbuf *b);

/* Frees the storage and resets *b to empty. NULL is accepted. */
void dbuf_free(struct dbuf *b);

/* Sets the length to 0, keeping the storage for reuse. */
void dbuf_reset(struct dbuf *b);

/* Makes room for `extra` more bytes (plus the NUL). */
int dbuf_reserve(struct dbuf *b, size_t extra);

int dbuf_append(struct dbuf *b, const void *data, size_t len);
int dbuf_puts(struct dbuf *b, const char *s);
int dbuf_putc(struct dbuf *b, char c);
int dbuf_printf(struct dbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(__printf__, 2, 3)))
#endif
    ;
int dbuf_vprintf(struct dbuf *b, const char *fmt, va_list ap);

/* Borrowed view: the contents, or "" when empty. Valid until the next change. */
const char *dbuf_cstr(const struct dbuf *b);

/* Hands the storage to the caller (free() it) and resets *b. Returns a
 * malloc'd empty string for an empty buffer; NULL only when out of memory. */
char *dbuf_detach(struct dbuf *b);

#endif
