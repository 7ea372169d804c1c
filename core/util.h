/*
 * util.h - small helpers shared inside core/ (not part of the public API).
 */
#ifndef DDB2ES_UTIL_H
#define DDB2ES_UTIL_H

#include <stddef.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"

/* malloc'd copy of s (NULL for NULL or when out of memory). Caller frees. */
char *util_strdup(const char *s);

/* malloc'd copy of the first n bytes of s, NUL-terminated. Caller frees. */
char *util_strndup(const char *s, size_t n);

/* Reads a whole file into *out (appended). DDB2ES_E_IO names the file and errno. */
int util_read_file(const char *path, struct dbuf *out, struct ddb2es_error *err);

/*
 * Writes data to path atomically and durably: a temporary file beside it,
 * fsync, rename over path, fsync of the directory. A reader sees the old
 * content or the new, never a mix.
 */
int util_write_file_atomic(const char *path, const void *data, size_t len, struct ddb2es_error *err);

/* Monotonic clock in seconds. */
double util_now_mono(void);

/* Wall clock in seconds since the epoch. */
double util_now_wall(void);

/* Sleeps for ms milliseconds (restarts on EINTR). */
void util_sleep_ms(long ms);

#endif
