/* target.c - fast-load settings and alias swaps. See ddb2es/target.h. */
#include "ddb2es/target.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int target_fast_load_begin(struct es_client *es, const char *index, const char *state_path,
                           struct target_fast_load *fl, struct ddb2es_error *err)
{
    struct es_write_settings fast;
    int rc;

    memset(fl, 0, sizeof(*fl));
    snprintf(fl->index, sizeof(fl->index), "%s", index);
    rc = es_get_write_settings(es, index, &fl->saved, err);
    if (rc)
        return rc;
    if (state_path) {
        json_t *o = json_pack("{s:s, s:s, s:i}", "index", index, "refresh_interval", fl->saved.refresh_interval,
                              "number_of_replicas", fl->saved.number_of_replicas);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!text)
            return ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory saving the index settings");
        rc = util_write_file_atomic(state_path, text, strlen(text), err);
        free(text);
        if (rc)
            return rc;
    }
    memset(&fast, 0, sizeof(fast));
    snprintf(fast.refresh_interval, sizeof(fast.refresh_interval), "-1");
    fast.number_of_replicas = 0;
    rc = es_put_write_settings(es, index, &fast, err);
    fl->active = 1; /* even when the put failed half-way: restoring is always safe */
    return rc;
}

int target_fast_load_end(struct es_client *es, const char *state_path, struct target_fast_load *fl,
                         struct ddb2es_error *err)
{
    int rc;

    if (!fl->active)
        return DDB2ES_OK;
    rc = es_put_write_settings(es, fl->index, &fl->saved, err);
    if (rc) {
        char why[DDB2ES_ERR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", err ? err->message : "");
        return ddb2es_failf(err, rc,
                            "could not restore refresh_interval=%s and number_of_replicas=%d on %s: %s; set them "
                            "by hand (PUT %s/_settings)%s%s",
                            fl->saved.refresh_interval[0] ? fl->saved.refresh_interval : "(default)",
                            fl->saved.number_of_replicas, fl->index, why, fl->index,
                            state_path ? "; they are also kept in " : "", state_path ? state_path : "");
    }
    fl->active = 0;
    if (state_path)
        unlink(state_path);
    return DDB2ES_OK;
}

int target_fast_load_recover(const char *state_path, struct target_fast_load *fl, struct ddb2es_error *err)
{
    struct dbuf text = DBUF_INIT;
    json_t *o = NULL, *idx, *ri, *nr;
    int rc;

    memset(fl, 0, sizeof(*fl));
    if (access(state_path, F_OK) != 0)
        return DDB2ES_OK;
    rc = util_read_file(state_path, &text, err);
    if (rc)
        goto out;
    o = json_loadb(dbuf_cstr(&text), text.len, 0, NULL);
    idx = json_object_get(o, "index");
    ri = json_object_get(o, "refresh_interval");
    nr = json_object_get(o, "number_of_replicas");
    if (!json_is_string(idx) || !json_is_string(ri) || !json_is_integer(nr)) {
        rc = ddb2es_failf(err, DDB2ES_E_IO, "%s is not a fast-load state file; remove it after checking the index "
                                            "settings by hand", state_path);
        goto out;
    }
    snprintf(fl->index, sizeof(fl->index), "%s", json_string_value(idx));
    snprintf(fl->saved.refresh_interval, sizeof(fl->saved.refresh_interval), "%s", json_string_value(ri));
    fl->saved.number_of_replicas = (int)json_integer_value(nr);
    fl->active = 1;
out:
    json_decref(o);
    dbuf_free(&text);
    return rc;
}

int target_alias_index_name(const char *alias, long long now, char *out, size_t outsz, struct ddb2es_error *err)
{
    time_t t = (time_t)now;
    struct tm tm;
    char stamp[32];
    int n;

    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    n = snprintf(out, outsz, "%s-%s", alias, stamp);
    if (n < 0 || (size_t)n >= outsz)
        return ddb2es_failf(err, DDB2ES_E_USAGE, "alias name too long");
    return DDB2ES_OK;
}

int target_alias_swap(struct es_client *es, const char *alias, const char *new_index, long long expected,
                      int delete_old, size_t *old_out, struct ddb2es_error *err)
{
    struct es_alias_list cur;
    struct es_alias_action *acts = NULL;
    long long count = -1;
    size_t n = 0;
    bool exists = false;
    int rc;

    es_alias_list_init(&cur);
    if (old_out)
        *old_out = 0;
    rc = es_index_refresh(es, new_index, err);
    if (!rc)
        rc = es_count(es, new_index, NULL, &count, err);
    if (rc)
        goto out;
    if (count != expected) {
        rc = ddb2es_failf(err, DDB2ES_E_SERVICE,
                          "not moving alias %s: the new index %s holds %lld documents, but %lld were indexed; "
                          "the alias still points where it did",
                          alias, new_index, count, expected);
        goto out;
    }
    rc = es_aliases_get(es, NULL, alias, &cur, err);
    if (rc)
        goto out;
    if (cur.n == 0) {
        rc = es_index_exists(es, alias, &exists, err);
        if (rc)
            goto out;
        if (exists) {
            rc = ddb2es_failf(err, DDB2ES_E_USAGE,
                              "not moving alias %s: an index of that name exists; reindex it under another alias "
                              "name, or delete it first (the new data is in %s)",
                              alias, new_index);
            goto out;
        }
    }
    acts = calloc(cur.n * 2 + 1, sizeof(*acts));
    if (!acts) {
        rc = ddb2es_failf(err, DDB2ES_E_NOMEM, "out of memory moving an alias");
        goto out;
    }
    acts[n].op = ES_ALIAS_ADD;
    acts[n].index = new_index;
    acts[n].alias = alias;
    n++;
    for (size_t i = 0; i < cur.n; i++) {
        if (strcmp(cur.v[i].index, new_index) == 0)
            continue;
        acts[n].op = delete_old ? ES_ALIAS_REMOVE_INDEX : ES_ALIAS_REMOVE;
        acts[n].index = cur.v[i].index;
        acts[n].alias = alias;
        n++;
    }
    rc = es_aliases_update(es, acts, n, err);
    if (!rc && old_out)
        *old_out = n - 1;
out:
    free(acts);
    es_alias_list_free(&cur);
    return rc;
}
