/*
 * entity_set.c - the entities of one or more directories: loading them in
 * order (a later directory overrides an entity of the same name), lookups by
 * name and by table. Built on the public entity API only.
 */
#include "ddb2es/entity.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entity_set {
    struct entity **items;     /* owned, sorted by name once loaded */
    size_t n;                  /* entries in items */
};

void entity_set_free(struct entity_set *set)
{
    size_t i;

    if (!set)
        return;
    for (i = 0; i < set->n; i++)
        entity_free(set->items[i]);
    free(set->items);
    free(set);
}

size_t entity_set_count(const struct entity_set *set) { return set->n; }

const struct entity *entity_set_at(const struct entity_set *set, size_t i)
{
    return i < set->n ? set->items[i] : NULL;
}

const struct entity *entity_set_find(const struct entity_set *set, const char *name)
{
    size_t i;

    for (i = 0; i < set->n; i++)
        if (strcmp(entity_name(set->items[i]), name) == 0)
            return set->items[i];
    return NULL;
}

const struct entity *entity_set_find_table(const struct entity_set *set, const char *table)
{
    size_t i;

    for (i = 0; i < set->n; i++)
        if (entity_matches_table(set->items[i], table))
            return set->items[i];
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_entity(const void *a, const void *b)
{
    return strcmp(entity_name(*(struct entity *const *)a), entity_name(*(struct entity *const *)b));
}

/* Adds e to the set, replacing an entity of the same name (takes e). */
static int set_put(struct entity_set *set, struct entity *e, struct ddb2es_error *err)
{
    size_t i;
    struct entity **grown;

    for (i = 0; i < set->n; i++) {
        if (strcmp(entity_name(set->items[i]), entity_name(e)) == 0) {
            entity_free(set->items[i]);
            set->items[i] = e;
            return DDB2ES_OK;
        }
    }
    grown = realloc(set->items, (set->n + 1) * sizeof(*grown));
    if (!grown) {
        entity_free(e);
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while loading entities");
    }
    set->items = grown;
    set->items[set->n++] = e;
    return DDB2ES_OK;
}

/* Lists the *.json names of dir, sorted. *names owned by the caller. */
static int list_dir(const char *dir, char ***names, size_t *n, struct ddb2es_error *err)
{
    DIR *d;
    struct dirent *de;
    char **v = NULL, **grown;
    size_t cnt = 0, i;
    int rc = DDB2ES_OK;

    *names = NULL;
    *n = 0;
    d = opendir(dir);
    if (!d)
        return ddb2es_failf(err, DDB2ES_E_IO, "cannot read entity directory %s: %s", dir,
                            strerror(errno));
    for (;;) {
        size_t len;

        errno = 0;
        de = readdir(d);
        if (!de)
            break;
        len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        grown = realloc(v, (cnt + 1) * sizeof(*v));
        if (!grown) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while listing %s", dir);
            goto out;
        }
        v = grown;
        v[cnt] = util_strdup(de->d_name);
        if (!v[cnt]) {
            rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while listing %s", dir);
            goto out;
        }
        cnt++;
    }
    if (errno) {
        rc = ddb2es_failf(err, DDB2ES_E_IO, "cannot read entity directory %s: %s", dir,
                          strerror(errno));
        goto out;
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof(*v), cmp_str);
out:
    closedir(d);
    if (rc) {
        for (i = 0; i < cnt; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    *names = v;
    *n = cnt;
    return DDB2ES_OK;
}

int entity_set_load_dirs(const char *const *dirs, size_t ndirs, struct entity_set **out,
                         struct ddb2es_error *err)
{
    struct entity_set *set;
    char **names = NULL;
    size_t nnames = 0, di, i, j, k;
    int rc = DDB2ES_OK;

    *out = NULL;
    set = calloc(1, sizeof(*set));
    if (!set)
        return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while loading entities");
    for (di = 0; di < ndirs && !rc; di++) {
        rc = list_dir(dirs[di], &names, &nnames, err);
        if (rc)
            break;
        for (i = 0; i < nnames && !rc; i++) {
            struct entity *e = NULL;
            size_t plen = strlen(dirs[di]) + 1 + strlen(names[i]) + 1;
            char *path = malloc(plen);

            if (!path) {
                rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory while loading entities");
                break;
            }
            snprintf(path, plen, "%s/%s", dirs[di], names[i]);
            rc = entity_load_file(path, &e, err);
            if (!rc && (strlen(entity_name(e)) != strlen(names[i]) - 5 ||
                        strncmp(entity_name(e), names[i], strlen(names[i]) - 5) != 0)) {
                rc = ddb2es_failf(err, DDB2ES_E_CONFIG,
                                  "%s: $.name: \"%s\" differs from the file name (the entity in "
                                  "NAME.json must be named NAME)", path, entity_name(e));
                entity_free(e);
                e = NULL;
            }
            free(path);
            if (!rc)
                rc = set_put(set, e, err);
        }
        for (i = 0; i < nnames; i++)
            free(names[i]);
        free(names);
        names = NULL;
    }
    if (rc)
        goto fail;
    if (set->n > 1)
        qsort(set->items, set->n, sizeof(*set->items), cmp_entity);
    /* One table, one entity: otherwise a sync would not know which to use. */
    for (i = 0; i < set->n; i++) {
        const struct entity *a = set->items[i];

        for (j = i + 1; j < set->n; j++) {
            const struct entity *b = set->items[j];

            for (k = 0; k < entity_table_count(a); k++)
                if (entity_matches_table(b, entity_table(a, k))) {
                    rc = ddb2es_failf(err, DDB2ES_E_CONFIG,
                                      "table %s is claimed by two entities: %s (%s) and %s (%s)",
                                      entity_table(a, k), entity_name(a), entity_source_path(a),
                                      entity_name(b), entity_source_path(b));
                    goto fail;
                }
        }
    }
    *out = set;
    return DDB2ES_OK;
fail:
    entity_set_free(set);
    return rc;
}
