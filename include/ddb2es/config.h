/*
 * ddb2es/config.h - the environments file.
 *
 * DESIGN
 * One JSON file names the environments an operator may work in. Each binds a
 * DynamoDB side (region, optional endpoint override, AWS account) to the
 * Elasticsearch cluster(s) that environment owns; the pairing is what the
 * environment guard enforces. Located by `--config FILE`, else $DDB2ES_CONFIG,
 * else $XDG_CONFIG_HOME/ddb2es/config.json (default ~/.config/ddb2es/config.json).
 *
 *   {
 *     "environments": {
 *       "local": {
 *         "region": "eu-west-2",                       required
 *         "account_id": "123456789012",                optional; guard compares the TableArn
 *         "profile": "dev",                            optional AWS profile
 *         "protected": false,                          optional; true asks to type the name
 *         "dynamodb": {"endpoint": "http://127.0.0.1:8000"},   endpoint optional
 *         "elasticsearch": {
 *           "url": "http://127.0.0.1:9200",            required
 *           "urls": ["https://other-node:9200"],       optional; more URLs this env owns
 *           "username": "ops", "password_env": "ES_PASSWORD",   optional basic auth
 *           "aws_sigv4": false, "aws_service": "es",   optional; sign ES requests
 *           "ca_file": "/path/ca.pem"                  optional
 *         }
 *       }
 *     },
 *     "entities_dirs": ["/etc/ddb2es/entities"],       optional; added to assets/entities
 *     "audit_log": "/var/log/ddb2es/audit.jsonl"      optional
 *   }
 *
 * Errors name the file and the JSON path of the bad value
 * ("config.json: $.environments.local.region: expected a string").
 * Passwords are never stored in the file: `password_env` names a variable.
 */
#ifndef DDB2ES_CONFIG_H
#define DDB2ES_CONFIG_H

#include <stddef.h>

#include "ddb2es/credentials.h"
#include "ddb2es/error.h"

/* One environment. All strings are owned by the config; NULL when absent. */
struct ddb2es_env {
    char *name;             /* key under "environments" */
    char *region;           /* AWS region of the table */
    char *account_id;       /* AWS account that owns the tables, or NULL (guard off) */
    char *profile;          /* AWS profile for credentials, or NULL */
    int is_protected;       /* ask the operator to type the name before writing */
    char *ddb_endpoint;     /* DynamoDB endpoint override, or NULL for AWS's regional one */
    char *es_url;           /* the environment's Elasticsearch/OpenSearch URL */
    char **es_urls;         /* further URLs this environment owns (may be empty) */
    size_t n_es_urls;
    char *es_username;      /* basic auth user, or NULL */
    char *es_password_env;  /* name of the variable holding the password, or NULL */
    int es_sigv4;           /* sign Elasticsearch requests with SigV4 */
    char *es_aws_service;   /* SigV4 service name for ES ("es" or "aoss"); never NULL */
    char *es_ca_file;       /* CA bundle for TLS, or NULL */
};

struct ddb2es_config {
    char *path;                 /* file it was read from */
    struct ddb2es_env *envs;    /* in file order */
    size_t nenvs;
    char **entity_dirs;         /* extra entity directories */
    size_t n_entity_dirs;
    char *audit_log;            /* audit log path, or NULL for the default */
};

/*
 * Chooses the config path: `cli_path` if not NULL, else $DDB2ES_CONFIG, else
 * $XDG_CONFIG_HOME/ddb2es/config.json, else $HOME/.config/ddb2es/config.json.
 * Writes it to out[outsz]. DDB2ES_E_CONFIG when none can be formed.
 */
int config_locate(const char *cli_path, aws_getenv_fn getenv_fn, void *ctx, char *out, size_t outsz,
                  struct ddb2es_error *err);

/* Reads and validates a config file. *out is new, owned by the caller (config_free). */
int config_load_file(const char *path, struct ddb2es_config **out, struct ddb2es_error *err);

/* Same from text; `name` is used in messages as the file name. */
int config_parse(const char *text, size_t len, const char *name, struct ddb2es_config **out,
                 struct ddb2es_error *err);

/* The environment called `name`, or NULL. Borrowed from cfg. */
const struct ddb2es_env *config_find_env(const struct ddb2es_config *cfg, const char *name);

/* The shipped assets (entities, index definitions): $DDB2ES_ASSETS, else the
 * installed folder. A constant or the environment's string: do not free. */
const char *config_assets_dir(void);

struct entity_set; /* ddb2es/entity.h */

/*
 * Loads the entities: the shipped ones (assets/entities), then each directory
 * of the configuration's entities_dirs (a later one overrides an entity of the
 * same name). *out is new, owned by the caller (entity_set_free).
 */
int config_load_entities(const struct ddb2es_config *cfg, struct entity_set **out, struct ddb2es_error *err);

/* Frees everything. NULL is accepted. */
void config_free(struct ddb2es_config *cfg);

#endif
