/*
 * entity_internal.h - internal to core/: the loaded form of an entity, shared
 * by the loader (entity.c: reading, checking, accessors) and the mapper
 * (entity_map.c: items to documents, ids, versions). Entity sets
 * (entity_set.c) use the public API only.
 *
 * Not a public API: nothing outside core/ includes it. Everything here is
 * built by the loader and only read afterwards, which is what lets mapping
 * threads share one const struct entity.
 */
#ifndef DDB2ES_ENTITY_INTERNAL_H
#define DDB2ES_ENTITY_INTERNAL_H

#include <stddef.h>

#include "ddb2es/entity.h"

enum fkind {
    FK_ATTR,     /* value from an attribute ("from") */
    FK_CONST,    /* constant ("const") */
    FK_COMPUTE   /* computed ("compute" + "from") */
};

/* The "type" of an FK_ATTR field: what the attribute must hold and how it is written. */
enum ftype {
    FT_STRING,
    FT_NUMBER,
    FT_BOOLEAN,
    FT_STRING_LIST,
    FT_RAW,
    FT_OBJECT,
    FT_LIST
};

/*
 * What a field gives when its attribute does not fit (see assets/entities/README.md):
 *   missing   the attribute (or a map on the way to it) is absent or NULL-on-
 *             the-way; default: null
 *   null      the attribute is present and NULL; default: null
 *   mismatch  the attribute has a type the field cannot use; default: error
 * A malformed AttributeValue or an invalid number is always an error: that
 * is a broken response, not an item shape.
 */
enum policy {
    POL_NULL,
    POL_OMIT,
    POL_DEFAULT,
    POL_ERROR
};

enum compute {
    CP_TENURE_ACTIVE
};

/* One segment of a "from" path: an attribute name. */
struct seg {
    char *name;   /* owned, NUL-terminated */
    size_t len;   /* strlen(name) */
};

struct field {
    char *name;                /* document field name (owned) */
    char *key;                 /* `"name":` escaped JSON text (owned) */
    size_t key_len;            /* length of key */
    enum fkind kind;           /* where the value comes from */
    enum ftype type;           /* FK_ATTR only */
    enum compute compute;      /* FK_COMPUTE only */
    struct seg *from;          /* source path (owned array), FK_ATTR / FK_COMPUTE */
    size_t nfrom;              /* segments in from */
    enum policy on_missing;    /* FK_ATTR: attribute absent */
    enum policy on_null;       /* FK_ATTR: attribute NULL */
    enum policy on_mismatch;   /* FK_ATTR: attribute of a type the field cannot use */
    char *value;               /* FK_CONST: the constant; else the default, as JSON text, or NULL */
    size_t value_len;          /* length of value */
    struct field *sub;         /* FT_OBJECT / FT_LIST: the member fields (owned array) */
    size_t nsub;               /* entries in sub */
};

struct entity {
    char *name;                /* "name" (owned) */
    char *description;         /* "description", or "" (owned) */
    char **tables;             /* "tables" (owned array of owned strings) */
    size_t ntables;            /* entries in tables */
    char *id_attr;             /* "id": the attribute holding the document id (owned) */
    size_t id_attr_len;        /* strlen(id_attr) */
    char *version_attr;        /* "version" (owned), NULL when none */
    char *index_ref;           /* "index" as written (owned) */
    char *index_path;          /* index_ref resolved against the file's directory (owned) */
    char *source;              /* the file (or buffer name) loaded from (owned) */
    struct field *fields;      /* the document's top-level fields, in file order (owned array) */
    size_t nfields;            /* entries in fields */
};

#endif
