/*
 * stages.c - CPU cost per item of each stage of ddb2es's pipeline, measured
 * in isolation on real data, for `make bench` (tests/bench/bench.py builds
 * and runs it; not a test, it prints figures).
 *
 *   stages SCAN_PAGE.json ENTITY.json [BULK_ANSWER.json] [REPEAT]
 *
 * SCAN_PAGE.json is one Scan answer exactly as DynamoDB Local sent it (about
 * 1 MB); BULK_ANSWER.json one _bulk answer of the test server. Prints the
 * page's size and the heap its jansson tree holds (mallinfo2: glibc), then one
 * line per stage: "stage <ns per item> <items> <name>", the best of REPEAT rounds
 * (CPU time of this thread), so another process on the machine slows the
 * figures little.
 *
 * DESIGN
 * The stages are those a scanner thread runs for every page (core/pipeline_scan.c):
 * json_loadb of the page, entity_map_item + es_bulk_index per item,
 * json_decref of the page; and a sender's es_parse_bulk_response. Beside them,
 * "validate only" walks the same page with the jscan validating scanner
 * without building anything: the floor for a reader that maps straight from
 * the text instead of through a jansson tree, so the difference to json_loadb
 * + json_decref is what such a reader could save at most.
 */
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ddb2es/buf.h"
#include "ddb2es/entity.h"
#include "ddb2es/error.h"
#include "ddb2es/es_bulk.h"
#include "jscan.h"

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct dbuf b = DBUF_INIT;
    char chunk[65536];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (dbuf_append(&b, chunk, n)) {
            fclose(f);
            dbuf_free(&b);
            return NULL;
        }
    }
    fclose(f);
    *len = b.len;
    return dbuf_detach(&b);
}

struct best {
    const char *name;
    double secs;
};

static void keep_best(struct best *b, double secs)
{
    if (b->secs < 0 || secs < b->secs)
        b->secs = secs;
}

int main(int argc, char **argv)
{
    struct best parse = {"json_loadb (Scan page -> jansson tree)", -1};
    struct best map = {"entity_map_item (tree -> document)", -1};
    struct best bulk = {"es_bulk_index (action + document into the body)", -1};
    struct best release = {"json_decref (free the page's tree)", -1};
    struct best walk = {"validate only (jscan walk of the page, no tree)", -1};
    struct best answer = {"es_parse_bulk_response (per item of the answer)", -1};
    struct ddb2es_error err;
    struct entity *ent = NULL;
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT, body = DBUF_INIT;
    struct entity_map_opts mo;
    struct es_bulk_result res;
    char *page = NULL, *ans = NULL;
    size_t page_len = 0, ans_len = 0, nitems = 0, nanswer = 0, tree_bytes = 0;
    int repeat = 20, rc = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: stages SCAN_PAGE.json ENTITY.json [BULK_ANSWER.json] [REPEAT]\n");
        return 2;
    }
    if (argc > 4) {
        char *end;
        long v = strtol(argv[4], &end, 10);
        if (*end || v < 1 || v > 100000) {
            fprintf(stderr, "stages: REPEAT must be 1..100000\n");
            return 2;
        }
        repeat = (int)v;
    }
    ddb2es_error_clear(&err);
    es_bulk_result_init(&res, 0);
    page = slurp(argv[1], &page_len);
    if (!page) {
        fprintf(stderr, "stages: cannot read %s\n", argv[1]);
        goto out;
    }
    if (entity_load_file(argv[2], &ent, &err)) {
        fprintf(stderr, "stages: %s\n", err.message);
        goto out;
    }
    if (argc > 3 && argv[3][0]) {
        ans = slurp(argv[3], &ans_len);
        if (!ans) {
            fprintf(stderr, "stages: cannot read %s\n", argv[3]);
            goto out;
        }
    }
    memset(&mo, 0, sizeof(mo));
    mo.now = time(NULL);

    for (int r = 0; r < repeat; r++) {
        json_error_t jerr;
        json_t *root, *items, *item;
        size_t i;
        double t0, t1, t_map = 0, t_bulk = 0;
        struct js j;

        {
            /* heap held by the tree: what a scanner holds per page besides the text */
            struct mallinfo2 before = mallinfo2(), after;

            t0 = cpu_now();
            root = json_loadb(page, page_len, 0, &jerr);
            t1 = cpu_now();
            after = mallinfo2();
            if (after.uordblks > before.uordblks)
                tree_bytes = after.uordblks - before.uordblks;
        }
        if (!root) {
            fprintf(stderr, "stages: %s: %s\n", argv[1], jerr.text);
            goto out;
        }
        keep_best(&parse, t1 - t0);
        items = json_object_get(root, "Items");
        nitems = json_array_size(items);
        dbuf_reset(&body);
        json_array_foreach(items, i, item) {
            double a, b, c;

            dbuf_reset(&doc);
            dbuf_reset(&id);
            a = cpu_now();
            if (entity_map_item(ent, item, &mo, &doc, &id, &err)) {
                /* counted like the pipeline: a mapping failure is a dead letter, not a stop */
                continue;
            }
            b = cpu_now();
            if (es_bulk_index(&body, "persons", dbuf_cstr(&id), -1, doc.data, doc.len, &err)) {
                fprintf(stderr, "stages: es_bulk_index: %s\n", err.message);
                json_decref(root);
                goto out;
            }
            c = cpu_now();
            t_map += b - a;
            t_bulk += c - b;
        }
        keep_best(&map, t_map);
        keep_best(&bulk, t_bulk);
        t0 = cpu_now();
        json_decref(root);
        keep_best(&release, cpu_now() - t0);

        t0 = cpu_now();
        js_init(&j, page, page_len);
        if (js_skip(&j) || js_end(&j)) {
            fprintf(stderr, "stages: the jscan walk refused %s\n", argv[1]);
            goto out;
        }
        keep_best(&walk, cpu_now() - t0);

        if (ans) {
            /* one result reused from answer to answer, as a sender thread does */
            es_bulk_result_reset(&res);
            t0 = cpu_now();
            if (es_parse_bulk_response(ans, ans_len, &res, &err)) {
                fprintf(stderr, "stages: %s: %s\n", argv[3], err.message);
                goto out;
            }
            keep_best(&answer, cpu_now() - t0);
            nanswer = res.nitems;
        }
    }
    printf("page %zu bytes %zu items %zu bytes/item; its jansson tree holds %.1f MiB of heap\n", page_len, nitems,
           nitems ? page_len / nitems : 0, (double)tree_bytes / (1024.0 * 1024.0));
    {
        struct best *all[] = {&parse, &map, &bulk, &release, &walk};
        for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
            printf("stage %.0f %zu %s\n", nitems ? all[k]->secs * 1e9 / (double)nitems : 0.0, nitems,
                   all[k]->name);
    }
    if (ans)
        printf("stage %.0f %zu %s\n", nanswer ? answer.secs * 1e9 / (double)nanswer : 0.0, nanswer, answer.name);
    rc = 0;
out:
    es_bulk_result_free(&res);
    entity_free(ent);
    dbuf_free(&doc);
    dbuf_free(&id);
    dbuf_free(&body);
    free(page);
    free(ans);
    return rc;
}
