/* pipeline_ckpt.c - per-page acknowledgement and the checkpoint file. See core/pipeline.c (DESIGN). */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ddb2es/entity.h"
#include "pipeline_int.h"
#include "util.h"

/* ---- checkpoints -------------------------------------------------------- */

/* Serialises the resume state. Caller holds job->lock. */
static char *checkpoint_dump(struct sync_job *job)
{
    json_t *root = json_object(), *segs = json_object();
    char *text = NULL;

    if (!root || !segs)
        goto out;
    json_object_set_new(root, "format", json_string("ddb2es-checkpoint/1"));
    json_object_set_new(root, "table", json_string(job->o.table));
    json_object_set_new(root, "index", json_string(job->o.index));
    json_object_set_new(root, "entity", json_string(entity_name(job->o.entity)));
    json_object_set_new(root, "total_segments", json_integer(job->c.total_segments));
    json_object_set_new(root, "segment_first", json_integer(job->c.segment_first));
    json_object_set_new(root, "segment_last", json_integer(job->c.segment_last));
    json_object_set_new(root, "updated", json_real(util_now_wall()));
    for (int i = 0; i < job->nsegments; i++) {
        struct segment *s = &job->segs[i];
        json_t *o = json_object();
        char key[16];
        if (!o)
            goto out;
        json_object_set_new(o, "done", json_boolean(s->done));
        if (!s->done && s->resume_key)
            json_object_set(o, "key", s->resume_key);
        snprintf(key, sizeof(key), "%d", s->number);
        json_object_set_new(segs, key, o);
    }
    json_object_set(root, "segments", segs);
    text = json_dumps(root, JSON_COMPACT);
out:
    json_decref(segs);
    json_decref(root);
    return text;
}

void pl_checkpoint_write(struct sync_job *job, int force)
{
    struct ddb2es_error e;
    char *text;

    if (!job->o.checkpoint_path)
        return;
    pthread_mutex_lock(&job->lock);
    if (!job->ckpt_dirty && !force) {
        pthread_mutex_unlock(&job->lock);
        return;
    }
    job->ckpt_dirty = 0;
    text = checkpoint_dump(job);
    pthread_mutex_unlock(&job->lock);
    if (!text)
        return;
    ddb2es_error_clear(&e);
    if (util_write_file_atomic(job->o.checkpoint_path, text, strlen(text), &e))
        pl_job_fail(job, &e);
    free(text);
}

int pl_checkpoint_load(struct sync_job *job, struct ddb2es_error *err)
{
    const char *path = job->o.checkpoint_path;
    struct dbuf text = DBUF_INIT;
    json_error_t jerr;
    json_t *root = NULL, *segs;
    int rc;

    rc = util_read_file(path, &text, err);
    if (rc) {
        char why[DDB2ES_ERR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", err ? err->message : "no checkpoint");
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "cannot resume: %s (run without --resume to start afresh)", why);
        goto out;
    }
    root = json_loadb(dbuf_cstr(&text), text.len, 0, &jerr);
    if (!root || !json_is_object(root)) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE, "cannot resume: %s is not a checkpoint (%s)", path,
                          root ? "not an object" : jerr.text);
        goto out;
    }
    if (!json_is_string(json_object_get(root, "table")) ||
        strcmp(json_string_value(json_object_get(root, "table")), job->o.table) != 0 ||
        !json_is_string(json_object_get(root, "index")) ||
        strcmp(json_string_value(json_object_get(root, "index")), job->o.index) != 0 ||
        json_integer_value(json_object_get(root, "total_segments")) != job->c.total_segments ||
        json_integer_value(json_object_get(root, "segment_first")) != job->c.segment_first ||
        json_integer_value(json_object_get(root, "segment_last")) != job->c.segment_last) {
        rc = ddb2es_failf(err, DDB2ES_E_USAGE,
                          "cannot resume: %s belongs to another run (table, index or segments differ: "
                          "it needs the same --table, --index and --segments/--segment-range)",
                          path);
        goto out;
    }
    segs = json_object_get(root, "segments");
    for (int i = 0; i < job->nsegments; i++) {
        struct segment *s = &job->segs[i];
        char key[16];
        json_t *o;
        snprintf(key, sizeof(key), "%d", s->number);
        o = json_object_get(segs, key);
        if (!o)
            continue;
        if (json_is_true(json_object_get(o, "done"))) {
            s->done = 1;
            s->started = 1;
        } else if (json_is_object(json_object_get(o, "key"))) {
            s->start_key = json_deep_copy(json_object_get(o, "key"));
            s->resume_key = json_deep_copy(s->start_key);
            s->started = 1;
        }
    }
out:
    json_decref(root);
    dbuf_free(&text);
    return rc;
}

/* ---- resolution (senders) ----------------------------------------------- */

/* Marks one document resolved; advances its segment's resume point. Caller holds job->lock. */
void pl_resolve_locked(struct sync_job *job, struct batch_item *it)
{
    struct segment *s = it->seg;
    struct page_rec *p;

    it->page->pending--;
    while ((p = s->head) && p->sealed && p->pending == 0) {
        s->head = p->next;
        if (!s->head)
            s->tail = NULL;
        json_decref(s->resume_key);
        s->resume_key = p->last_key; /* moves ownership */
        if (!p->last_key) {
            s->done = 1;
            job->c.segments_done++;
        }
        free(p);
        job->ckpt_dirty = 1;
    }
}

/* Extracts the _id of item i from the batch's action line (for messages and dead letters). */

int pl_checkpoint_peek(const char *path, int *total, int *first, int *last)
{
    json_t *root = json_load_file(path, 0, NULL);
    json_t *t = json_object_get(root, "total_segments");
    json_t *f = json_object_get(root, "segment_first");
    json_t *l = json_object_get(root, "segment_last");
    int rc = -1;

    if (json_is_integer(t) && json_is_integer(f) && json_is_integer(l)) {
        *total = (int)json_integer_value(t);
        *first = (int)json_integer_value(f);
        *last = (int)json_integer_value(l);
        rc = 0;
    }
    json_decref(root);
    return rc;
}
