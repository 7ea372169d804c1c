/*
 * orphans_internal.h - internal to core/: what the parts of the orphans jobs
 * share (orphans_job.c: lifecycle and preparation; orphans_scan.c: the table
 * scan, listing and verify; orphans_delete.c: deleting). `orphans__` marks names
 * that are not API.
 */
#ifndef DDB2ES_ORPHANS_INTERNAL_H
#define DDB2ES_ORPHANS_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "ddb2es/dynamo.h"
#include "ddb2es/es.h"
#include "ddb2es/orphans.h"
#include "ddb2es/retry.h"
#include "jscan.h"

#define ORPHANS__MAX_SCANNERS 16  /* scanner threads at most (segments beyond are taken in turn) */
#define ORPHANS__FIRST_IDS 20     /* default first ids kept per finding */

/* First ids of one kind (verify), with a note each (the differing field, why it did not map). */
struct orphans__names {
    const char **id;   /* n entries in the job's pool */
    const char **why;
    size_t n, cap, cap2;
};

enum { ORPHANS__KEYS, ORPHANS__ITEMS, ORPHANS__NAMING };

enum { ORPHANS__MISSING, ORPHANS__ORPHANS, ORPHANS__DIFFERING, ORPHANS__UNMAPPED, ORPHANS__FAILED, ORPHANS__NAME_KINDS };

struct orphans_job {
    struct orphans_options o;     /* copy; strings borrowed from the caller */
    pthread_t thread;
    int started;                  /* thread not joined yet */
    pthread_mutex_t lock;         /* guards c, set, found, names, pool */
    atomic_int cancel;            /* the operator asked to stop */
    atomic_int failing;           /* a fatal error: every thread stops */
    int wake[2];                  /* written once when the job ends */
    double t_start;
    double stage_t0;              /* when the current stage began */
    struct orphans_snapshot c;    /* the counters */
    int has_fatal;
    struct ddb2es_error fatal;    /* the first fatal error */
    int rc;                       /* final status */

    /* what prepare() learnt; read-only afterwards */
    struct ddb_table_info table;
    char key_type;                /* 'S', 'N' (or 'B') of the hash key; 0 unknown */
    bool key_is_id;               /* the hash key is the entity's id attribute */
    bool by_batch_get;            /* ... and there is no sort key: BatchGetItem can look ids up */
    struct es_info info;
    char *sort_field;             /* PIT sort field when the cluster has no _shard_doc, or NULL */
    int scan_limit;
    int nsegments;
    size_t keep;                  /* orphans to keep in `found` */

    /* state */
    struct orphans_set *set;      /* table ids (A, verify) */
    int next_segment;             /* scanners' shared cursor (under lock) */
    int table_mode;               /* ORPHANS__KEYS, ORPHANS__ITEMS (verify content) or ORPHANS__NAMING (name missing ids) */
    atomic_int naming_done;       /* ORPHANS__NAMING: enough ids named */
    struct orphans_list found;    /* kept orphans */
    struct orphans__names names[ORPHANS__NAME_KINDS];
    struct es_pool *pool;         /* strings of names */
    struct orphans_result result;   /* filled when the job ends */
    struct ddb_stats main_stats;  /* the job thread's DynamoDB client, as last counted */
};

bool orphans__stopping(struct orphans_job *job);
void orphans__fail(struct orphans_job *job, const struct ddb2es_error *err);
void orphans__stage(struct orphans_job *job, enum orphans_stage s);
struct ddb_client *orphans__ddb(struct orphans_job *job, uint64_t seed, struct retry_policy *rp, struct ddb2es_error *err);
struct es_client *orphans__es(struct orphans_job *job, struct ddb2es_error *err);
void orphans__count_ddb(struct orphans_job *job, const struct ddb_client *c, struct ddb_stats *last, double rcu);
int orphans__note(struct orphans_job *job, struct orphans__names *l, const char *id, const char *why);
json_t *orphans__key(const struct orphans_job *job, const char *id);
const char *orphans__item_id(const struct orphans_job *job, const json_t *item);

/* The stages (orphans_scan.c, orphans_delete.c). Each returns a status with err filled. */
int orphans__list_a(struct orphans_job *job, struct es_client *es, struct ddb2es_error *err);
int orphans__list_b(struct orphans_job *job, struct ddb_client *ddb, struct es_client *es, struct ddb2es_error *err);
int orphans__verify(struct orphans_job *job, struct es_client *es, struct ddb2es_error *err);
int orphans__delete(struct orphans_job *job, struct ddb_client *ddb, struct es_client *es, struct ddb2es_error *err);

#endif
