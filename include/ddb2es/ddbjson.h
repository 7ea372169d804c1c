/*
 * ddb2es/ddbjson.h - DynamoDB JSON (AttributeValue) to plain JSON text.
 *
 * DESIGN
 * DynamoDB sends every value wrapped in a one-member object naming its type
 * ({"S":"x"}, {"N":"12.5"}, {"M":{...}}, ...). This module turns such a
 * value, or a whole item, into plain JSON text appended to a struct dbuf, so
 * a document is written once, straight into the buffer that becomes the bulk
 * request: no json_t tree is built and nothing is allocated per value.
 *
 * Rules (the unit tests pin each one):
 *   S              JSON string, escaped (see ddbjson_escape_string)
 *   N              JSON number written from its text, never through a double:
 *                  "12345678901234567890.123456789" and "-1E-130" are kept as
 *                  they are. The text must have DynamoDB's number form and
 *                  range (ddbjson_number_check); what JSON cannot carry is
 *                  rewritten without changing the value: a leading '+' is
 *                  dropped, leading zeros are dropped ("007" -> "7"), a bare
 *                  point gets its zero (".5" -> "0.5", "5." -> "5").
 *   B              the base64 text as a JSON string, not decoded or checked
 *   BOOL           true / false
 *   NULL           null ({"NULL": true}; {"NULL": false} is malformed)
 *   M              JSON object, members in the order they arrived
 *   L              JSON array
 *   SS / NS / BS   JSON arrays of strings / numbers / base64 strings
 * Anything else (not a one-member object, an unknown type, a member of the
 * wrong JSON type, {"S": 5}) is malformed.
 *
 * Nesting: DynamoDB allows 32 levels. A value's level is 1 for a top-level
 * attribute and one more for each M or L around it; an M or L (or set) deeper
 * than DDBJSON_MAX_DEPTH is refused. The limit bounds the recursion, so no
 * input can exhaust the stack.
 *
 * Errors are DDB2ES_E_MAPPING with a message that starts with the attribute
 * path, e.g. `tenures[3].uprn: invalid number "1e"`. Keys that are not plain
 * names are quoted in the path: `a["x.y"]`.
 *
 * Invalid UTF-8 never reaches the output (Elasticsearch rejects a whole bulk
 * request over one bad byte). jansson already refuses invalid UTF-8 when it
 * parses a response, so values coming from DynamoDB are valid; the converter
 * still checks (DDBJSON_STRICT_UTF8) and reports a bad string as an error.
 * Other callers of ddbjson_escape_string may ask for replacement instead.
 *
 * Every function here is reentrant: no state besides its arguments.
 */
#ifndef DDB2ES_DDBJSON_H
#define DDB2ES_DDBJSON_H

#include <stddef.h>

#include <jansson.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"

/* Deepest M / L / set level accepted (DynamoDB's own limit is 32). */
#define DDBJSON_MAX_DEPTH 32

/* The ten AttributeValue types, plus DDBJSON_T_INVALID for malformed input. */
enum ddbjson_type {
    DDBJSON_T_INVALID = 0,
    DDBJSON_T_S,
    DDBJSON_T_N,
    DDBJSON_T_B,
    DDBJSON_T_BOOL,
    DDBJSON_T_NULL,
    DDBJSON_T_M,
    DDBJSON_T_L,
    DDBJSON_T_SS,
    DDBJSON_T_NS,
    DDBJSON_T_BS
};

/* Most path segments kept for a message; deeper ones print as "...". */
#define DDBJSON_PATH_MAX 48

/*
 * The attribute path of the value being converted, kept as a stack of
 * borrowed segments so that walking costs no allocation and no formatting:
 * the text is built only when an error is reported. A caller that walks an
 * item itself (the entity mapper) pushes its own segments and hands the same
 * path to ddbjson_value_to_json_at(). Initialise with DDBJSON_PATH_INIT.
 */
struct ddbjson_path {
    int n;   /* segments pushed; may exceed DDBJSON_PATH_MAX (the extra are not kept) */
    struct ddbjson_path_seg {
        const char *text;  /* key or prefix (borrowed), or NULL for an index */
        size_t len;        /* bytes of text */
        size_t index;      /* list index when text is NULL */
        int raw;           /* text is an already formatted prefix, printed as is */
    } seg[DDBJSON_PATH_MAX];
};

#define DDBJSON_PATH_INIT {0, {{NULL, 0, 0, 0}}}

/* Push a map key (borrowed: must outlive its segment), a list index, or a
 * formatted prefix; pop the last segment. Never fail. */
void ddbjson_path_push_key(struct ddbjson_path *p, const char *key, size_t len);
void ddbjson_path_push_index(struct ddbjson_path *p, size_t index);
void ddbjson_path_push_raw(struct ddbjson_path *p, const char *prefix);
void ddbjson_path_pop(struct ddbjson_path *p);

/*
 * Writes the path as text into buf (always NUL-terminated when cap > 0,
 * truncated to fit): keys joined by '.', indices as [3], and keys that are
 * empty or hold '.', '[', ']', '"', '\\', a space or a control byte quoted
 * as ["x.y"] (control bytes shown as \xNN). A prefix pushed with
 * ddbjson_path_push_raw() is printed as it is. Returns buf. An empty path
 * gives "(item)"; segments beyond DDBJSON_PATH_MAX print as "...".
 */
const char *ddbjson_path_format(const struct ddbjson_path *p, char *buf, size_t cap);

/* Flags of ddbjson_escape_string(). */
#define DDBJSON_STRICT_UTF8 0x1u  /* invalid UTF-8 is an error (DDB2ES_E_MAPPING) */

/*
 * The type of an AttributeValue and its payload. *payload (may be NULL) is
 * set to the borrowed inner value ({"S":"x"} -> the json string "x"). The
 * payload's JSON type is checked: S/N/B need a string, BOOL a boolean, NULL
 * `true`, M an object, L/SS/NS/BS an array. Returns DDBJSON_T_INVALID for
 * anything else (set elements are checked by the converters, not here).
 */
enum ddbjson_type ddbjson_type_of(const json_t *av, const json_t **payload);

/* Descriptor text of a type ("S", "NULL", ...); "invalid" for INVALID. A constant. */
const char *ddbjson_type_name(enum ddbjson_type t);

/*
 * Appends one AttributeValue as plain JSON text to *out.
 *   path   the value's attribute path, used only in error messages
 *          ("tenures[3]"); borrowed; NULL or "" for none.
 *   depth  the value's nesting level in its item: 1 for a top-level
 *          attribute. Callers that convert a nested value pass its level so
 *          that the limit counts from the item's top.
 * On error *out is restored to its length on entry and err is filled:
 * DDB2ES_E_MAPPING (malformed value, invalid number, invalid UTF-8, too deep;
 * message starts with the path) or DDB2ES_E_NOMEM.
 */
int ddbjson_value_to_json(struct dbuf *out, const json_t *av, const char *path, int depth,
                          struct ddb2es_error *err);

/*
 * Same as ddbjson_value_to_json() with the path given as segments: *path is
 * the path of av; it is used (and left as it was on entry) while walking.
 */
int ddbjson_value_to_json_at(struct dbuf *out, const json_t *av, struct ddbjson_path *path,
                             int depth, struct ddb2es_error *err);

/*
 * Appends a whole item (a JSON object of attribute name -> AttributeValue, as
 * in GetItem's "Item" or an element of Scan's "Items") as one JSON object.
 * Same errors as ddbjson_value_to_json(); *out is restored on error.
 */
int ddbjson_item_to_json(struct dbuf *out, const json_t *item, struct ddb2es_error *err);

/*
 * Checks that text[0..len) is a DynamoDB number: optional sign, digits with
 * at most one '.', at least one digit, optional exponent (e/E, optional sign,
 * digits); no spaces. At most 38 significant digits, and a non-zero value's
 * magnitude within 1E-130 .. 9.99..9E+125 (DynamoDB's range). Returns 1 when
 * valid, 0 otherwise. Never allocates.
 */
int ddbjson_number_check(const char *text, size_t len);

/*
 * Appends the JSON form of a DynamoDB number (rules in DESIGN above).
 * Returns DDB2ES_OK, DDB2ES_E_MAPPING when ddbjson_number_check() refuses the
 * text (nothing appended), or DDB2ES_E_NOMEM. No error record: the caller
 * knows the path and writes the message.
 */
int ddbjson_append_number(struct dbuf *out, const char *text, size_t len);

/*
 * Appends s[0..len) as a JSON string literal, quotes included. '"', '\\' and
 * the control characters below 0x20 are escaped (\n, \t, ... or \u00XX);
 * valid UTF-8 is copied as it is; NUL bytes become \u0000. Invalid UTF-8:
 * with DDBJSON_STRICT_UTF8 the call fails with DDB2ES_E_MAPPING and appends
 * nothing; without it each byte that does not start a valid sequence is
 * replaced by U+FFFD and the call succeeds. Overlong forms, surrogates
 * (U+D800..U+DFFF) and values above U+10FFFF count as invalid.
 * Returns DDB2ES_OK, DDB2ES_E_MAPPING or DDB2ES_E_NOMEM.
 */
int ddbjson_escape_string(struct dbuf *out, const char *s, size_t len, unsigned flags);

#endif
