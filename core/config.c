/* config.c - the environments file. See ddb2es/config.h for the format. */
#include "ddb2es/config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/entity.h"
#include "util.h"

/* A parse in progress: the file name for messages. */
struct cparse {
    const char *name;
    struct ddb2es_error *err;
};

static int bad(struct cparse *p, const char *path, const char *what)
{
    return ddb2es_failf(p->err, DDB2ES_E_CONFIG, "%s: %s: %s", p->name, path, what);
}

/* Optional string member: absent or null leaves *out NULL. */
static int get_str(struct cparse *p, json_t *obj, const char *key, const char *path, int required, char **out)
{
    json_t *v = json_object_get(obj, key);
    char where[512];

    snprintf(where, sizeof(where), "%s.%s", path, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return bad(p, where, "missing; this value is required");
        return DDB2ES_OK;
    }
    if (!json_is_string(v))
        return bad(p, where, "expected a string");
    if (json_string_length(v) == 0)
        return bad(p, where, "must not be empty");
    *out = util_strdup(json_string_value(v));
    return *out ? DDB2ES_OK : DDB2ES_E_NOMEM;
}

static int get_bool(struct cparse *p, json_t *obj, const char *key, const char *path, int *out)
{
    json_t *v = json_object_get(obj, key);
    char where[512];

    *out = 0;
    if (!v || json_is_null(v))
        return DDB2ES_OK;
    if (!json_is_boolean(v)) {
        snprintf(where, sizeof(where), "%s.%s", path, key);
        return bad(p, where, "expected true or false");
    }
    *out = json_is_true(v);
    return DDB2ES_OK;
}

/* Rejects members we do not know: a typo must not silently disable a guard. */
static int check_keys(struct cparse *p, json_t *obj, const char *path, const char *const *known)
{
    const char *key;
    json_t *v;
    char where[512];

    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            if (strcmp(*k, key) == 0)
                ok = 1;
        if (!ok) {
            snprintf(where, sizeof(where), "%s.%s", path, key);
            return bad(p, where, "unknown setting (check its spelling)");
        }
    }
    return DDB2ES_OK;
}

static int is_http_url(const char *s)
{
    const char *p, *end;

    if (strncmp(s, "http://", 7) == 0)
        p = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        p = s + 8;
    else
        return 0;
    /* credentials never live in a URL: they would show wherever the URL is shown */
    end = p + strcspn(p, "/?#");
    return memchr(p, '@', (size_t)(end - p)) == NULL && end > p;
}

static int parse_env(struct cparse *p, const char *name, json_t *o, struct ddb2es_env *e)
{
    static const char *const env_keys[] = {"region", "account_id", "profile", "protected", "dynamodb",
                                           "elasticsearch", "description", NULL};
    static const char *const ddb_keys[] = {"endpoint", NULL};
    static const char *const es_keys[] = {"url", "urls", "username", "password_env", "aws_sigv4",
                                          "aws_service", "ca_file", NULL};
    char path[300], sub[320];
    json_t *ddb, *es, *urls;
    int rc;

    snprintf(path, sizeof(path), "$.environments.%s", name);
    if (!json_is_object(o))
        return bad(p, path, "expected an object");
    rc = check_keys(p, o, path, env_keys);
    if (rc)
        return rc;
    e->name = util_strdup(name);
    if (!e->name)
        return DDB2ES_E_NOMEM;
    rc = get_str(p, o, "region", path, 1, &e->region);
    if (!rc)
        rc = get_str(p, o, "account_id", path, 0, &e->account_id);
    if (!rc)
        rc = get_str(p, o, "profile", path, 0, &e->profile);
    if (!rc)
        rc = get_bool(p, o, "protected", path, &e->is_protected);
    if (rc)
        return rc;
    if (e->account_id) {
        size_t n = strlen(e->account_id);
        if (n != 12 || strspn(e->account_id, "0123456789") != n) {
            snprintf(sub, sizeof(sub), "%s.account_id", path);
            return bad(p, sub, "expected a 12-digit AWS account id");
        }
    }

    ddb = json_object_get(o, "dynamodb");
    snprintf(sub, sizeof(sub), "%s.dynamodb", path);
    if (ddb && !json_is_null(ddb)) {
        if (!json_is_object(ddb))
            return bad(p, sub, "expected an object");
        rc = check_keys(p, ddb, sub, ddb_keys);
        if (!rc)
            rc = get_str(p, ddb, "endpoint", sub, 0, &e->ddb_endpoint);
        if (rc)
            return rc;
        if (e->ddb_endpoint && !is_http_url(e->ddb_endpoint)) {
            char w[340];
            snprintf(w, sizeof(w), "%s.endpoint", sub);
            return bad(p, w, "must be an http:// or https:// URL without user or password (use username and password_env)");
        }
    }

    es = json_object_get(o, "elasticsearch");
    snprintf(sub, sizeof(sub), "%s.elasticsearch", path);
    if (!es || !json_is_object(es))
        return bad(p, sub, es ? "expected an object" : "missing; every environment names its cluster");
    rc = check_keys(p, es, sub, es_keys);
    if (!rc)
        rc = get_str(p, es, "url", sub, 1, &e->es_url);
    if (!rc)
        rc = get_str(p, es, "username", sub, 0, &e->es_username);
    if (!rc)
        rc = get_str(p, es, "password_env", sub, 0, &e->es_password_env);
    if (!rc)
        rc = get_str(p, es, "aws_service", sub, 0, &e->es_aws_service);
    if (!rc)
        rc = get_str(p, es, "ca_file", sub, 0, &e->es_ca_file);
    if (!rc)
        rc = get_bool(p, es, "aws_sigv4", sub, &e->es_sigv4);
    if (rc)
        return rc;
    if (!is_http_url(e->es_url)) {
        char w[340];
        snprintf(w, sizeof(w), "%s.url", sub);
        return bad(p, w, "must be an http:// or https:// URL without user or password (use username and password_env)");
    }
    if (!e->es_aws_service) {
        e->es_aws_service = util_strdup("es");
        if (!e->es_aws_service)
            return DDB2ES_E_NOMEM;
    }
    urls = json_object_get(es, "urls");
    if (urls && !json_is_null(urls)) {
        size_t i;
        json_t *u;
        char w[360];
        snprintf(w, sizeof(w), "%s.urls", sub);
        if (!json_is_array(urls))
            return bad(p, w, "expected a list of URLs");
        e->es_urls = calloc(json_array_size(urls) + 1, sizeof(char *));
        if (!e->es_urls)
            return DDB2ES_E_NOMEM;
        json_array_foreach(urls, i, u) {
            if (!json_is_string(u) || !is_http_url(json_string_value(u))) {
                snprintf(w, sizeof(w), "%s.urls[%zu]", sub, i);
                return bad(p, w, "expected an http:// or https:// URL");
            }
            e->es_urls[i] = util_strdup(json_string_value(u));
            if (!e->es_urls[i])
                return DDB2ES_E_NOMEM;
            e->n_es_urls = i + 1;
        }
    }
    return DDB2ES_OK;
}

static void env_free(struct ddb2es_env *e)
{
    free(e->name);
    free(e->region);
    free(e->account_id);
    free(e->profile);
    free(e->ddb_endpoint);
    free(e->es_url);
    for (size_t i = 0; i < e->n_es_urls; i++)
        free(e->es_urls[i]);
    free(e->es_urls);
    free(e->es_username);
    free(e->es_password_env);
    free(e->es_aws_service);
    free(e->es_ca_file);
}

void config_free(struct ddb2es_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nenvs; i++)
        env_free(&cfg->envs[i]);
    free(cfg->envs);
    for (size_t i = 0; i < cfg->n_entity_dirs; i++)
        free(cfg->entity_dirs[i]);
    free(cfg->entity_dirs);
    free(cfg->audit_log);
    free(cfg->path);
    free(cfg);
}

int config_parse(const char *text, size_t len, const char *name, struct ddb2es_config **out,
                 struct ddb2es_error *err)
{
    static const char *const top_keys[] = {"environments", "entities_dirs", "audit_log", NULL};
    struct cparse p = {name, err};
    struct ddb2es_config *cfg = NULL;
    json_error_t jerr;
    json_t *root = NULL, *envs, *dirs, *v;
    const char *key;
    int rc = DDB2ES_OK;

    *out = NULL;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = ddb2es_failf(err, DDB2ES_E_CONFIG, "%s: line %d, column %d: %s", name, jerr.line, jerr.column,
                          jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = bad(&p, "$", "expected an object with \"environments\"");
        goto out;
    }
    rc = check_keys(&p, root, "$", top_keys);
    if (rc)
        goto out;
    cfg = calloc(1, sizeof(*cfg));
    if (!cfg || !(cfg->path = util_strdup(name))) {
        rc = DDB2ES_E_NOMEM;
        goto out;
    }
    envs = json_object_get(root, "environments");
    if (!json_is_object(envs) || json_object_size(envs) == 0) {
        rc = bad(&p, "$.environments", "expected an object with at least one environment");
        goto out;
    }
    cfg->envs = calloc(json_object_size(envs), sizeof(*cfg->envs));
    if (!cfg->envs) {
        rc = DDB2ES_E_NOMEM;
        goto out;
    }
    json_object_foreach(envs, key, v) {
        rc = parse_env(&p, key, v, &cfg->envs[cfg->nenvs]);
        cfg->nenvs++;
        if (rc)
            goto out;
    }
    dirs = json_object_get(root, "entities_dirs");
    if (dirs && !json_is_null(dirs)) {
        size_t i;
        json_t *d;
        if (!json_is_array(dirs)) {
            rc = bad(&p, "$.entities_dirs", "expected a list of directories");
            goto out;
        }
        cfg->entity_dirs = calloc(json_array_size(dirs) + 1, sizeof(char *));
        if (!cfg->entity_dirs) {
            rc = DDB2ES_E_NOMEM;
            goto out;
        }
        json_array_foreach(dirs, i, d) {
            char w[64];
            if (!json_is_string(d)) {
                snprintf(w, sizeof(w), "$.entities_dirs[%zu]", i);
                rc = bad(&p, w, "expected a directory path");
                goto out;
            }
            cfg->entity_dirs[i] = util_strdup(json_string_value(d));
            if (!cfg->entity_dirs[i]) {
                rc = DDB2ES_E_NOMEM;
                goto out;
            }
            cfg->n_entity_dirs = i + 1;
        }
    }
    rc = get_str(&p, root, "audit_log", "$", 0, &cfg->audit_log);
out:
    if (rc == DDB2ES_E_NOMEM)
        ddb2es_failf(err, rc, "%s: out of memory reading the configuration", name);
    json_decref(root);
    if (rc) {
        config_free(cfg);
        return rc;
    }
    *out = cfg;
    return DDB2ES_OK;
}

int config_load_file(const char *path, struct ddb2es_config **out, struct ddb2es_error *err)
{
    struct dbuf text = DBUF_INIT;
    int rc;

    *out = NULL;
    rc = util_read_file(path, &text, err);
    if (rc == DDB2ES_E_IO) {
        char why[DDB2ES_ERR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", err ? err->message : "cannot read the configuration");
        rc = ddb2es_failf(err, DDB2ES_E_CONFIG,
                          "%s; create it (see assets/config.example.json) or pass --config FILE", why);
    }
    if (!rc)
        rc = config_parse(dbuf_cstr(&text), text.len, path, out, err);
    dbuf_free(&text);
    return rc;
}

int config_locate(const char *cli_path, aws_getenv_fn getenv_fn, void *ctx, char *out, size_t outsz,
                  struct ddb2es_error *err)
{
    const char *v;
    int n;

    if (!getenv_fn)
        getenv_fn = aws_process_getenv;
    if (cli_path) {
        n = snprintf(out, outsz, "%s", cli_path);
    } else if ((v = getenv_fn(ctx, "DDB2ES_CONFIG")) && *v) {
        n = snprintf(out, outsz, "%s", v);
    } else if ((v = getenv_fn(ctx, "XDG_CONFIG_HOME")) && *v) {
        n = snprintf(out, outsz, "%s/ddb2es/config.json", v);
    } else if ((v = getenv_fn(ctx, "HOME")) && *v) {
        n = snprintf(out, outsz, "%s/.config/ddb2es/config.json", v);
    } else {
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "no configuration: pass --config FILE or set DDB2ES_CONFIG");
    }
    if (n < 0 || (size_t)n >= outsz)
        return ddb2es_failf(err, DDB2ES_E_CONFIG, "configuration path too long");
    return DDB2ES_OK;
}

const struct ddb2es_env *config_find_env(const struct ddb2es_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nenvs; i++)
        if (strcmp(cfg->envs[i].name, name) == 0)
            return &cfg->envs[i];
    return NULL;
}

const char *config_assets_dir(void)
{
    const char *v = getenv("DDB2ES_ASSETS");

    return v && *v ? v : DDB2ES_DATADIR;
}

int config_load_entities(const struct ddb2es_config *cfg, struct entity_set **out, struct ddb2es_error *err)
{
    const char *dirs[65];
    char shipped[4096];
    size_t ndirs = 0;

    snprintf(shipped, sizeof(shipped), "%s/entities", config_assets_dir());
    dirs[ndirs++] = shipped;
    for (size_t i = 0; cfg && i < cfg->n_entity_dirs && ndirs < 64; i++)
        dirs[ndirs++] = cfg->entity_dirs[i];
    return entity_set_load_dirs(dirs, ndirs, out, err);
}
