/* test_entity.c - entity files: golden mappings per entity, the reference
 * scan pages against the Elasticsearch fixtures, loader errors, entity sets,
 * items that do not fit, policies, computed fields and concurrent mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ddb2es/ddbjson.h"
#include "ddb2es/entity.h"
#include "testutil.h"

/* 2025-01-01T00:00:00Z: "now" of the golden cases unless a case says otherwise. */
#define NOW_2025 1735689600
/* 2025-11-01T00:00:00Z: after every end date in the tenure fixtures (latest 2025-10-22). */
#define NOW_FIXTURES 1761955200

/* ---- helpers ------------------------------------------------------------- */

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);

    if (!j)
        fail_msg("test JSON does not parse: %s: %s", je.text, text);
    return j;
}

static json_t *load_path(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);

    if (!j) {
        fprintf(stderr, "missing or bad test input %s: %s (set DDB2ES_SHARED)\n", path, je.text);
        exit(2);
    }
    return j;
}

static json_t *load_shared(const char *rel)
{
    char path[1024];

    return load_path(tu_shared(rel, path, sizeof(path)));
}

/* The shipped entity file assets/entities/NAME.json (tests run from the repo root). */
static struct entity *shipped(const char *name)
{
    char path[256];
    struct entity *e = NULL;
    struct ddb2es_error err;

    snprintf(path, sizeof(path), "assets/entities/%s.json", name);
    if (entity_load_file(path, &e, &err) != DDB2ES_OK)
        fail_msg("cannot load %s: %s", path, err.message);
    return e;
}

static struct entity *from_text(const char *text)
{
    struct entity *e = NULL;
    struct ddb2es_error err;

    if (entity_load_buffer(text, strlen(text), "test.json", &e, &err) != DDB2ES_OK)
        fail_msg("test entity refused: %s", err.message);
    return e;
}

/* Maps an item and parses the document back; fails the test on a mapping error. */
static json_t *map_doc(const struct entity *e, const json_t *item, time_t now, char **id_out)
{
    struct entity_map_opts o = {now};
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct ddb2es_error err;
    json_error_t je;
    json_t *j;

    if (entity_map_item(e, item, &o, &doc, &id, &err) != DDB2ES_OK)
        fail_msg("mapping failed: %s", err.message);
    j = json_loadb(doc.data, doc.len, JSON_DECODE_INT_AS_REAL, &je);
    if (!j)
        fail_msg("document is not JSON (%s): %s", je.text, dbuf_cstr(&doc));
    if (id_out)
        *id_out = dbuf_detach(&id);
    dbuf_free(&doc);
    dbuf_free(&id);
    return j;
}

/* Maps text-given item, returns the document text (caller frees). */
static char *map_text(const struct entity *e, const char *item_text, time_t now)
{
    struct entity_map_opts o = {now};
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct ddb2es_error err;
    json_t *item = load(item_text);

    if (entity_map_item(e, item, &o, &doc, &id, &err) != DDB2ES_OK)
        fail_msg("mapping failed: %s", err.message);
    json_decref(item);
    dbuf_free(&id);
    return dbuf_detach(&doc);
}

/* Maps an item expected to fail; returns the status, message in err. */
static int map_fail(const struct entity *e, const char *item_text, struct ddb2es_error *err)
{
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    json_t *item = load(item_text);
    int rc;

    dbuf_puts(&doc, "D");
    dbuf_puts(&id, "I");
    rc = entity_map_item(e, item, NULL, &doc, &id, err);
    /* Both buffers are left as they were. */
    assert_string_equal(dbuf_cstr(&doc), "D");
    assert_string_equal(dbuf_cstr(&id), "I");
    json_decref(item);
    dbuf_free(&doc);
    dbuf_free(&id);
    return rc;
}

/* Same JSON value and same member order. */
static void assert_same_doc(const json_t *got, const json_t *want, const char *what)
{
    char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
    char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);

    if (!json_equal((json_t *)got, (json_t *)want) || strcmp(g, w) != 0)
        fail_msg("%s:\n got  %s\n want %s", what, g, w);
    free(g);
    free(w);
}

/* ---- golden cases: tests/unit/golden/entity/<entity>/<case>.json --------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t run_golden(const char *entity_name)
{
    char dir[256], path[512];
    struct entity *e = shipped(entity_name);
    DIR *d;
    struct dirent *de;
    char *names[256];
    size_t n = 0, i;

    snprintf(dir, sizeof(dir), "tests/unit/golden/entity/%s", entity_name);
    d = opendir(dir);
    if (!d)
        fail_msg("missing golden directory %s (run from the repository root)", dir);
    for (de = readdir(d); de && n < 256; de = readdir(d)) {
        size_t len = strlen(de->d_name);

        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (i = 0; i < n; i++) {
        json_t *c, *item, *want, *errs;
        time_t now;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        c = load_path(path);
        item = json_object_get(c, "item");
        want = json_object_get(c, "doc");
        errs = json_object_get(c, "error");
        now = (time_t)json_integer_value(json_object_get(c, "now"));
        assert_non_null(item);
        assert_true(now > 0);
        if (want) {
            char *id = NULL;
            json_t *got = map_doc(e, item, now, &id);

            assert_same_doc(got, want, path);
            /* The id is the item's id attribute as raw text. */
            assert_string_equal(id, json_string_value(json_object_get(want, "id")));
            free(id);
            json_decref(got);
        } else {
            struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
            struct entity_map_opts o = {now};
            struct ddb2es_error err;

            assert_true(json_is_string(errs));
            if (entity_map_item(e, item, &o, &doc, &id, &err) != DDB2ES_E_MAPPING)
                fail_msg("%s: mapped, but an error was expected: %s", path, dbuf_cstr(&doc));
            if (strcmp(err.message, json_string_value(errs)) != 0)
                fail_msg("%s:\n got  %s\n want %s", path, err.message, json_string_value(errs));
            assert_int_equal(doc.len, 0);
            assert_int_equal(id.len, 0);
            dbuf_free(&doc);
            dbuf_free(&id);
        }
        json_decref(c);
        free(names[i]);
    }
    entity_free(e);
    return n;
}

static void test_golden_persons(void **state)
{
    (void)state;
    assert_true(run_golden("persons") >= 18);
}

static void test_golden_tenures(void **state)
{
    (void)state;
    assert_true(run_golden("tenures") >= 15);
}

static void test_golden_assets(void **state)
{
    (void)state;
    assert_true(run_golden("assets") >= 6);
}

/* ---- scan pages and fixtures ------------------------------------------------ */

/* Fixture documents by id, from a _bulk NDJSON file (action line, document line). */
static json_t *fixture_docs(const char *rel)
{
    char path[1024];
    size_t len, at = 0, line = 0;
    char *text = tu_slurp(tu_shared(rel, path, sizeof(path)), &len);
    json_t *byid = json_object();

    while (at < len) {
        char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;

        if (line % 2 == 1) {
            json_error_t je;
            json_t *doc = json_loadb(text + at, end - at, JSON_DECODE_INT_AS_REAL, &je);

            if (!doc)
                fail_msg("%s line %zu: %s", rel, line + 1, je.text);
            json_object_set_new(byid, json_string_value(json_object_get(doc, "id")), doc);
        }
        line++;
        at = end + 1;
    }
    free(text);
    return byid;
}

/*
 * A fixture field the mapping cannot (or, following the old system, does not)
 * reproduce from the DynamoDB item. Each one is checked to really differ in
 * the stated way, so a stale exception fails too; then it is removed from both
 * sides and the rest is compared as JSON values.
 */
enum exc_kind {
    EXC_DIFFERS,       /* both have it, with different values */
    EXC_FIXTURE_ONLY,  /* the fixture has it, the document does not */
    EXC_DOC_ONLY       /* the document has it, the fixture does not */
};

struct exception {
    const char *entity;
    const char *path;   /* "a.b", or "a[].b" for each element of list a */
    enum exc_kind kind;
    const char *why;
};

/* Exceptions for the hand-made scan pages (DynamoDB-typed) vs the fixtures. */
static const struct exception scan_exceptions[] = {
    {"persons", "preferredTitle", EXC_DIFFERS,
     "the scan page stores preferredTitle as NULL (shapes doc: S | NULL); the old indexer read a "
     "NULL as a null string, the fixture shows \"\""},
    {"persons", "dateOfBirth", EXC_DIFFERS,
     "DynamoDB holds the converter format 1917-03-27T00:00:00.0000000Z, passed through as the old "
     "indexer did; the fixture shows 1917-03-27T00:00:00Z"},
    {"tenures", "startOfTenureDate", EXC_DIFFERS,
     "converter date format in DynamoDB (…T00:00:00.0000000Z) vs …T00:00:00Z in the fixture"},
    {"tenures", "householdMembers[].dateOfBirth", EXC_FIXTURE_ONLY,
     "the old indexer's PersonForTenure has only id, type, fullName, isResponsible"},
    {"tenures", "householdMembers[].personTenureType", EXC_FIXTURE_ONLY,
     "the old indexer's PersonForTenure has only id, type, fullName, isResponsible"},
    {"assets", "tenure.endOfTenureDate", EXC_DIFFERS,
     "the tenure map omits null members, so endOfTenureDate is absent: the old indexer writes \"\", "
     "the fixture null"},
    {"assets", "tenure.isActive", EXC_FIXTURE_ONLY,
     "computed by the search side's model, never written by the old indexer"},
    {"assets", "assetCharacteristics", EXC_FIXTURE_ONLY,
     "not written by the old indexer (and optionToTax has no DynamoDB attribute at all)"},
    {"assets", "isCautionaryAlerted", EXC_DOC_ONLY,
     "the old indexer always writes false; the fixture has no such field"},
    {NULL, NULL, EXC_DIFFERS, NULL},
};

/* Exceptions when items are rebuilt from the fixture documents themselves. */
static const struct exception roundtrip_exceptions[] = {
    {"tenures", "householdMembers[].dateOfBirth", EXC_FIXTURE_ONLY,
     "the old indexer's PersonForTenure has only id, type, fullName, isResponsible"},
    {"tenures", "householdMembers[].personTenureType", EXC_FIXTURE_ONLY,
     "the old indexer's PersonForTenure has only id, type, fullName, isResponsible"},
    {"assets", "tenure.isActive", EXC_FIXTURE_ONLY,
     "computed by the search side's model, never written by the old indexer"},
    {"assets", "assetCharacteristics", EXC_FIXTURE_ONLY,
     "not written by the old indexer"},
    {"assets", "isCautionaryAlerted", EXC_DOC_ONLY,
     "the old indexer always writes false; the fixture has no such field"},
    {NULL, NULL, EXC_DIFFERS, NULL},
};

/* Checks one exception at `path` under a and b, then deletes it from both. */
static void apply_exception(json_t *doc, json_t *fix, const char *path, enum exc_kind kind,
                            const char *where)
{
    const char *dot = strchr(path, '.');
    const char *br = strstr(path, "[]");
    char head[128];
    size_t hl;

    if (br && (!dot || br < dot)) {
        /* "list[].rest": apply to each element pair. */
        json_t *dl, *fl;
        size_t i;

        hl = (size_t)(br - path);
        memcpy(head, path, hl);
        head[hl] = '\0';
        dl = json_object_get(doc, head);
        fl = json_object_get(fix, head);
        if (!json_is_array(dl) || !json_is_array(fl) || json_array_size(dl) != json_array_size(fl))
            fail_msg("%s: %s: not two lists of the same length", where, path);
        for (i = 0; i < json_array_size(dl); i++)
            apply_exception(json_array_get(dl, i), json_array_get(fl, i), br + 3, kind, where);
        return;
    }
    if (dot) {
        hl = (size_t)(dot - path);
        memcpy(head, path, hl);
        head[hl] = '\0';
        apply_exception(json_object_get(doc, head), json_object_get(fix, head), dot + 1, kind,
                        where);
        return;
    }
    {
        json_t *dv = json_object_get(doc, path);
        json_t *fv = json_object_get(fix, path);

        switch (kind) {
        case EXC_DIFFERS:
            if (!dv || !fv || json_equal(dv, fv))
                fail_msg("%s: exception %s says the values differ; they do not (stale?)", where,
                         path);
            break;
        case EXC_FIXTURE_ONLY:
            if (dv || !fv)
                fail_msg("%s: exception %s says only the fixture has it", where, path);
            break;
        case EXC_DOC_ONLY:
            if (!dv || fv)
                fail_msg("%s: exception %s says only the document has it", where, path);
            break;
        }
        json_object_del(doc, path);
        json_object_del(fix, path);
    }
}

static void compare_to_fixture(const char *entity_name, json_t *doc, json_t *fix,
                               const struct exception *exc, const char *where)
{
    size_t i;

    for (i = 0; exc[i].entity; i++)
        if (strcmp(exc[i].entity, entity_name) == 0)
            apply_exception(doc, fix, exc[i].path, exc[i].kind, where);
    /* Field by field, so a failure names the field. */
    {
        const char *k;
        json_t *v;

        json_object_foreach(fix, k, v) {
            json_t *dv = json_object_get(doc, k);

            if (!dv || !json_equal(dv, v)) {
                char *a = dv ? json_dumps(dv, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
                char *b = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

                fail_msg("%s: field %s: document %s, fixture %s", where, k, a ? a : "(absent)", b);
            }
        }
        json_object_foreach(doc, k, v) {
            if (!json_object_get(fix, k))
                fail_msg("%s: field %s is in the document, not in the fixture", where, k);
        }
    }
    assert_true(json_equal(doc, fix));
}

static void scan_page_vs_fixtures(const char *entity_name, const char *page, const char *fixture)
{
    json_t *p = load_shared(page);
    json_t *fixtures = fixture_docs(fixture);
    json_t *items = json_object_get(p, "Items");
    struct entity *e = shipped(entity_name);
    size_t i;

    assert_int_equal(json_array_size(items), 2);
    for (i = 0; i < json_array_size(items); i++) {
        char *id = NULL;
        json_t *doc = map_doc(e, json_array_get(items, i), NOW_2025, &id);
        json_t *fix = json_deep_copy(json_object_get(fixtures, id));
        char where[256];

        snprintf(where, sizeof(where), "%s item %s", entity_name, id);
        if (!fix)
            fail_msg("%s: no fixture document with this id", where);
        compare_to_fixture(entity_name, doc, fix, scan_exceptions, where);
        json_decref(doc);
        json_decref(fix);
        free(id);
    }
    entity_free(e);
    json_decref(fixtures);
    json_decref(p);
}

static void test_scan_page_persons(void **state)
{
    (void)state;
    scan_page_vs_fixtures("persons", "reference/hackney/dynamodb/persons-scan-page.json",
                          "reference/hackney/es-fixtures/persons.json");
}

static void test_scan_page_tenures(void **state)
{
    (void)state;
    scan_page_vs_fixtures("tenures", "reference/hackney/dynamodb/tenureinformation-scan-page.json",
                          "reference/hackney/es-fixtures/tenures.json");
}

static void test_scan_page_assets(void **state)
{
    (void)state;
    scan_page_vs_fixtures("assets", "reference/hackney/dynamodb/assets-scan-page.json",
                          "reference/hackney/es-fixtures/assets.json");
}

/*
 * A DynamoDB item typed the way the tables store it (shapes doc §1): strings
 * S, booleans BOOL, null NULL, numbers N, lists L, objects M; attribute names
 * renamed back to DynamoDB's where the index renames them.
 */
static json_t *to_item(const json_t *v, const char *const *renames)
{
    const char *k;
    json_t *m, *out;
    size_t i;

    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_pack("{s:O}", "S", (json_t *)v);
    case JSON_TRUE:
    case JSON_FALSE:
        return json_pack("{s:O}", "BOOL", (json_t *)v);
    case JSON_NULL:
        return json_pack("{s:b}", "NULL", 1);
    case JSON_INTEGER:
    case JSON_REAL: {
        char num[64];

        snprintf(num, sizeof(num), "%.17g", json_number_value(v));
        return json_pack("{s:s}", "N", num);
    }
    case JSON_ARRAY:
        out = json_array();
        for (i = 0; i < json_array_size(v); i++)
            json_array_append_new(out, to_item(json_array_get(v, i), NULL));
        return json_pack("{s:o}", "L", out);
    case JSON_OBJECT:
        out = json_object();
        json_object_foreach((json_t *)v, k, m) {
            const char *name = k;

            for (i = 0; renames && renames[i]; i += 2)
                if (strcmp(k, renames[i]) == 0)
                    name = renames[i + 1];
            json_object_set_new(out, name, to_item(m, NULL));
        }
        return json_pack("{s:o}", "M", out);
    }
    return NULL;
}

static size_t roundtrip_fixtures(const char *entity_name, const char *fixture,
                                 const char *const *renames, time_t now)
{
    json_t *fixtures = fixture_docs(fixture);
    struct entity *e = shipped(entity_name);
    const char *k;
    json_t *fix;
    size_t n = 0;

    json_object_foreach(fixtures, k, fix) {
        json_t *av = to_item(fix, renames);
        json_t *item = json_object_get(av, "M");
        json_t *doc = map_doc(e, item, now, NULL);
        json_t *want = json_deep_copy(fix);
        char where[256];

        snprintf(where, sizeof(where), "%s fixture %s rebuilt as an item", entity_name, k);
        compare_to_fixture(entity_name, doc, want, roundtrip_exceptions, where);
        json_decref(doc);
        json_decref(want);
        json_decref(av);
        n++;
    }
    entity_free(e);
    json_decref(fixtures);
    return n;
}

static void test_roundtrip_fixtures(void **state)
{
    static const char *const person_renames[] = {"firstname", "firstName", "preferredFirstname",
                                                 "preferredFirstName", NULL};

    (void)state;
    assert_int_equal(roundtrip_fixtures("persons", "reference/hackney/es-fixtures/persons.json",
                                        person_renames, NOW_FIXTURES),
                     2541);
    /* isActive included: every fixture tenure that has an end date is over by NOW_FIXTURES. */
    assert_int_equal(roundtrip_fixtures("tenures", "reference/hackney/es-fixtures/tenures.json",
                                        NULL, NOW_FIXTURES),
                     1000);
    assert_int_equal(roundtrip_fixtures("assets", "reference/hackney/es-fixtures/assets.json",
                                        NULL, NOW_FIXTURES),
                     1000);
}

/* An earlier "now" makes the tenures ending after it active again: "now" is really used. */
static void test_fixture_tenures_now_injected(void **state)
{
    json_t *fixtures = fixture_docs("reference/hackney/es-fixtures/tenures.json");
    struct entity *e = shipped("tenures");
    const time_t now = 1685577600; /* 2023-06-01T00:00:00Z */
    const char *k;
    json_t *fix;
    size_t active = 0, expected = 0;

    (void)state;
    json_object_foreach(fixtures, k, fix) {
        json_t *av = to_item(fix, NULL);
        json_t *doc = map_doc(e, json_object_get(av, "M"), now, NULL);
        const char *end = json_string_value(json_object_get(fix, "endOfTenureDate"));

        /* Same-format UTC strings compare like the instants they name. */
        if (!end || strcmp(end, "2023-06-01T00:00:00Z") >= 0)
            expected++;
        if (json_is_true(json_object_get(doc, "isActive")))
            active++;
        json_decref(doc);
        json_decref(av);
    }
    assert_int_equal(active, expected);
    assert_true(expected > 503); /* more than the 503 with no end date */
    entity_free(e);
    json_decref(fixtures);
}

/* ---- loader errors -------------------------------------------------------- */

#define HEAD "\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i.json\""

static void test_loader_errors(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"{", "test.json:1:1: not valid JSON: "},
        {"[]", "test.json: $: expected an object, got an array"},
        {"{\"nmae\":\"x\"}", "test.json: $.nmae: unknown key (allowed here: name, description, "
                             "comment, tables, id, version, index, fields)"},
        {"{\"tables\":[\"Tab\"]}", "test.json: $.name: missing (expected a string)"},
        {"{\"name\":\"a b\"}", "test.json: $.name: \"a b\" is not a valid name"},
        {"{\"name\":5}", "test.json: $.name: expected a string, got a number"},
        {"{\"name\":\"x\"}", "test.json: $.tables: missing"},
        {"{\"name\":\"x\",\"tables\":[]}", "test.json: $.tables: expected a non-empty array"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\",7]}", "test.json: $.tables[1]: expected a string, got a number"},
        {"{\"name\":\"x\",\"tables\":[\"ab\"]}", "test.json: $.tables[0]: \"ab\" is not a DynamoDB table name"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"]}", "test.json: $.id: missing (expected a string)"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":[]}", "test.json: $.id: expected a string, got an array"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"\"}", "test.json: $.id: expected a non-empty string"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"id\",\"version\":1}", "test.json: $.version: expected a string, got a number"},
        {"{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"id\"}", "test.json: $.index: missing"},
        {"{" HEAD "}", "test.json: $.fields: missing"},
        {"{" HEAD ",\"fields\":[]}", "test.json: $.fields: expected an object of field name -> field, got an array"},
        {"{" HEAD ",\"fields\":{}}", "test.json: $.fields: expected at least one field"},
        {"{" HEAD ",\"description\":3,\"fields\":{}}", "test.json: $.description: expected a string, got a number"},
        {"{" HEAD ",\"fields\":{\"x\":\"id\"}}", "test.json: $.fields.x: expected an object describing the field, got a string"},
        {"{" HEAD ",\"fields\":{\"x\":{\"form\":\"id\"}}}", "test.json: $.fields.x.form: unknown key (allowed here: from, type"},
        {"{" HEAD ",\"fields\":{\"x\":{}}}", "test.json: $.fields.x.from: missing (every field needs"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":5}}}", "test.json: $.fields.x.from: expected a string or an array of strings, got a number"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a..b\"}}}", "test.json: $.fields.x.from: empty segment in attribute path \"a..b\""},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"\"}}}", "test.json: $.fields.x.from: expected a non-empty attribute path"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":[\"a\",\"\"]}}}", "test.json: $.fields.x.from[1]: expected a non-empty string"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":[]}}}", "test.json: $.fields.x.from: expected a non-empty array"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"type\":\"text\"}}}", "test.json: $.fields.x.type: unknown type \"text\""},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"missing\":\"blank\"}}}", "test.json: $.fields.x.missing: unknown policy \"blank\""},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"null\":null}}}", "test.json: $.fields.x.null: expected a string, got null"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"missing\":\"default\"}}}", "test.json: $.fields.x.default: missing (a policy says \"default\")"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"default\":\"\"}}}", "test.json: $.fields.x.default: given but no policy uses it"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"type\":\"object\"}}}", "test.json: $.fields.x.fields: missing (an object field needs its member fields)"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"type\":\"list\",\"fields\":{}}}}", "test.json: $.fields.x.fields: expected at least one field"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"fields\":{\"y\":{\"from\":\"b\"}}}}}", "test.json: $.fields.x.fields: only object and list fields have member fields"},
        {"{" HEAD ",\"fields\":{\"x\":{\"const\":1,\"from\":\"a\"}}}", "test.json: $.fields.x.from: unknown key (allowed here: a \"const\" field takes only const and comment)"},
        {"{" HEAD ",\"fields\":{\"x\":{\"compute\":\"tenure_active\"}}}", "test.json: $.fields.x.from: missing"},
        {"{" HEAD ",\"fields\":{\"x\":{\"compute\":\"age\",\"from\":\"a\"}}}", "test.json: $.fields.x.compute: unknown computation \"age\""},
        {"{" HEAD ",\"fields\":{\"x\":{\"compute\":true,\"from\":\"a\"}}}", "test.json: $.fields.x.compute: expected a string, got a boolean"},
        {"{" HEAD ",\"fields\":{\"x\":{\"compute\":\"tenure_active\",\"from\":\"a\",\"type\":\"string\"}}}", "test.json: $.fields.x.type: unknown key"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\",\"comment\":1}}}", "test.json: $.fields.x.comment: expected a string, got a number"},
        {"{" HEAD ",\"fields\":{\"a.b\":{\"from\":1}}}", "test.json: $.fields[\"a.b\"].from: expected a string or an array of strings"},
        {"{" HEAD ",\"fields\":{\"\":{\"from\":\"a\"}}}", "test.json: $.fields[\"\"]: empty field name"},
        {"{" HEAD ",\"fields\":{\"tenures\":{\"from\":\"tenures\",\"type\":\"list\",\"fields\":{\"id\":{\"from\":\"id\"},\"uprn\":{\"from\":[1]}}}}}",
         "test.json: $.fields.tenures.fields.uprn.from[0]: expected a non-empty string"},
        {"{" HEAD ",\"fields\":{\"tenures\":{\"from\":\"tenures\",\"type\":\"list\",\"fields\":{\"id\":{\"from\":\"id\"},\"uprn\":{\"from\":true}}}}}",
         "test.json: $.fields.tenures.fields.uprn.from: expected a string or an array of strings, got a boolean"},
        {"{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\"},\"x\":{\"from\":\"b\"}}}", "test.json:1:"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct entity *e = (struct entity *)&e;
        struct ddb2es_error err;
        int rc = entity_load_buffer(cases[i].text, strlen(cases[i].text), "test.json", &e, &err);

        if (rc == DDB2ES_OK)
            fail_msg("case %zu accepted: %s", i, cases[i].text);
        assert_int_equal(rc, DDB2ES_E_CONFIG);
        assert_int_equal(err.status, DDB2ES_E_CONFIG);
        assert_null(e);
        if (strncmp(err.message, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("case %zu:\n got  %s\n want %s...", i, err.message, cases[i].msg);
    }
}

static void test_loader_duplicate_key_named(void **state)
{
    const char *t = "{" HEAD ",\"fields\":{\"x\":{\"from\":\"a\"},\"x\":{\"from\":\"b\"}}}";
    struct entity *e;
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(entity_load_buffer(t, strlen(t), NULL, &e, &err), DDB2ES_E_CONFIG);
    assert_non_null(strstr(err.message, "(memory):1:"));
    assert_non_null(strstr(err.message, "duplicate object key"));
}

/* Nesting deeper than an item can be is refused at load time. */
static void test_loader_depth(void **state)
{
    struct dbuf t = DBUF_INIT;
    struct entity *e;
    struct ddb2es_error err;
    int i;

    (void)state;
    /* 32 nested object fields reach level 32: fine. */
    dbuf_puts(&t, "{" HEAD ",\"fields\":");
    for (i = 0; i < DDBJSON_MAX_DEPTH - 1; i++)
        dbuf_puts(&t, "{\"o\":{\"from\":\"o\",\"type\":\"object\",\"fields\":");
    dbuf_puts(&t, "{\"leaf\":{\"from\":\"leaf\"}}");
    for (i = 0; i < DDBJSON_MAX_DEPTH - 1; i++)
        dbuf_puts(&t, "}}");
    dbuf_puts(&t, "}");
    assert_int_equal(entity_load_buffer(t.data, t.len, "deep.json", &e, &err), DDB2ES_OK);
    entity_free(e);
    dbuf_reset(&t);
    /* One more is refused. */
    dbuf_puts(&t, "{" HEAD ",\"fields\":");
    for (i = 0; i < DDBJSON_MAX_DEPTH; i++)
        dbuf_puts(&t, "{\"o\":{\"from\":\"o\",\"type\":\"object\",\"fields\":");
    dbuf_puts(&t, "{\"leaf\":{\"from\":\"leaf\"}}");
    for (i = 0; i < DDBJSON_MAX_DEPTH; i++)
        dbuf_puts(&t, "}}");
    dbuf_puts(&t, "}");
    assert_int_equal(entity_load_buffer(t.data, t.len, "deep.json", &e, &err), DDB2ES_E_CONFIG);
    assert_non_null(strstr(err.message, "deep.json: $.fields.o.fields.o"));
    assert_non_null(strstr(err.message, "nested deeper than an item can be (32 levels)"));
    /* A dotted path counts each segment. */
    dbuf_reset(&t);
    dbuf_puts(&t, "{" HEAD ",\"fields\":{\"x\":{\"from\":\"");
    for (i = 0; i < DDBJSON_MAX_DEPTH + 1; i++)
        dbuf_puts(&t, i ? ".a" : "a");
    dbuf_puts(&t, "\"}}}");
    assert_int_equal(entity_load_buffer(t.data, t.len, "deep.json", &e, &err), DDB2ES_E_CONFIG);
    assert_non_null(strstr(err.message, "$.fields.x.from: more than 32 path segments"));
    dbuf_free(&t);
}

/* ---- files and sets ----------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];

    if (!d)
        return;
    for (de = readdir(d); de; de = readdir(d)) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static const char *ent_text(char *buf, size_t cap, const char *name, const char *table)
{
    snprintf(buf, cap,
             "{\"name\":\"%s\",\"tables\":[\"%s\"],\"id\":\"id\",\"index\":\"../indices/%s.json\","
             "\"fields\":{\"id\":{\"from\":\"id\"}}}",
             name, table, name);
    return buf;
}

static void test_load_file_errors(void **state)
{
    char dir[] = "/tmp/ddb2es-entity-XXXXXX";
    char path[256], t[1024];
    struct entity *e;
    struct ddb2es_error err;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/missing.json", dir);
    assert_int_equal(entity_load_file(path, &e, &err), DDB2ES_E_IO);
    assert_null(e);
    assert_non_null(strstr(err.message, "cannot read entity file"));
    assert_non_null(strstr(err.message, path));
    write_file(dir, "syntax.json", "{\n  \"name\": \"x\",\n  oops\n}\n");
    snprintf(path, sizeof(path), "%s/syntax.json", dir);
    assert_int_equal(entity_load_file(path, &e, &err), DDB2ES_E_CONFIG);
    snprintf(t, sizeof(t), "%s:3:", path);
    assert_non_null(strstr(err.message, t));
    write_file(dir, "x.json", "{\"name\":\"x\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i.json\","
                              "\"fields\":{\"tenures\":{\"from\":\"t\",\"type\":\"list\","
                              "\"fields\":{\"a\":{\"from\":\"a\"},\"b\":{\"from\":\"b\"},"
                              "\"uprn\":{\"from\":7}}}}}");
    snprintf(path, sizeof(path), "%s/x.json", dir);
    assert_int_equal(entity_load_file(path, &e, &err), DDB2ES_E_CONFIG);
    snprintf(t, sizeof(t), "%s: $.fields.tenures.fields.uprn.from: expected a string or an array "
                           "of strings, got a number", path);
    assert_string_equal(err.message, t);
    rm_tree(dir);
}

static void test_shipped_set(void **state)
{
    const char *dirs[] = {"assets/entities"};
    struct entity_set *set = NULL;
    struct ddb2es_error err;
    const struct entity *p, *t, *a;

    (void)state;
    if (entity_set_load_dirs(dirs, 1, &set, &err) != DDB2ES_OK)
        fail_msg("%s", err.message);
    assert_int_equal(entity_set_count(set), 3);
    assert_string_equal(entity_name(entity_set_at(set, 0)), "assets");
    assert_string_equal(entity_name(entity_set_at(set, 1)), "persons");
    assert_string_equal(entity_name(entity_set_at(set, 2)), "tenures");
    assert_null(entity_set_at(set, 3));
    p = entity_set_find_table(set, "Persons");
    t = entity_set_find_table(set, "TenureInformation");
    a = entity_set_find_table(set, "Assets");
    assert_ptr_equal(p, entity_set_find(set, "persons"));
    assert_ptr_equal(t, entity_set_find(set, "tenures"));
    assert_ptr_equal(a, entity_set_find(set, "assets"));
    /* Exact match only. */
    assert_null(entity_set_find_table(set, "persons"));
    assert_null(entity_set_find_table(set, "Person"));
    assert_null(entity_set_find(set, "Persons"));
    assert_string_equal(entity_id_attribute(p), "id");
    assert_string_equal(entity_version_attribute(t), "versionNumber");
    assert_string_equal(entity_index_ref(a), "../indices/assets.json");
    assert_string_equal(entity_index_path(a), "assets/entities/../indices/assets.json");
    assert_string_equal(entity_source_path(p), "assets/entities/persons.json");
    assert_int_equal(entity_table_count(t), 1);
    assert_string_equal(entity_table(t, 0), "TenureInformation");
    assert_null(entity_table(t, 1));
    assert_true(entity_matches_table(t, "TenureInformation"));
    assert_false(entity_matches_table(t, "Assets"));
    assert_true(strlen(entity_description(p)) > 0);
    /* Fields in file order. */
    assert_int_equal(entity_field_count(p), 13);
    assert_string_equal(entity_field_name(p, 0), "id");
    assert_string_equal(entity_field_name(p, 3), "preferredFirstname");
    assert_string_equal(entity_field_name(p, 12), "personTypes");
    assert_null(entity_field_name(p, 13));
    assert_int_equal(entity_field_count(t), 8);
    assert_string_equal(entity_field_name(t, 4), "isActive");
    assert_int_equal(entity_field_count(a), 6);
    assert_string_equal(entity_field_name(a, 5), "isCautionaryAlerted");
    entity_set_free(set);
    entity_set_free(NULL);
    entity_free(NULL);
}

static void test_set_override_and_errors(void **state)
{
    char d1[] = "/tmp/ddb2es-ent1-XXXXXX", d2[] = "/tmp/ddb2es-ent2-XXXXXX";
    char t[512], want[1024];
    const char *dirs[2];
    struct entity_set *set = (struct entity_set *)&set;
    struct ddb2es_error err;
    const struct entity *e;

    (void)state;
    assert_non_null(mkdtemp(d1));
    assert_non_null(mkdtemp(d2));
    dirs[0] = d1;
    dirs[1] = d2;
    write_file(d1, "alpha.json", ent_text(t, sizeof(t), "alpha", "TableA1"));
    write_file(d1, "beta.json", ent_text(t, sizeof(t), "beta", "TableB"));
    write_file(d1, "README.md", "not an entity");
    write_file(d1, ".hidden.json", "not even JSON");
    write_file(d2, "alpha.json", ent_text(t, sizeof(t), "alpha", "TableA2"));
    assert_int_equal(entity_set_load_dirs(dirs, 2, &set, &err), DDB2ES_OK);
    assert_int_equal(entity_set_count(set), 2);
    e = entity_set_find(set, "alpha");
    snprintf(want, sizeof(want), "%s/alpha.json", d2);
    assert_string_equal(entity_source_path(e), want);
    snprintf(want, sizeof(want), "%s/../indices/alpha.json", d2);
    assert_string_equal(entity_index_path(e), want);
    assert_ptr_equal(entity_set_find_table(set, "TableA2"), e);
    assert_null(entity_set_find_table(set, "TableA1"));
    assert_ptr_equal(entity_set_find_table(set, "TableB"), entity_set_find(set, "beta"));
    entity_set_free(set);

    /* The same table claimed twice. */
    write_file(d2, "gamma.json", ent_text(t, sizeof(t), "gamma", "TableB"));
    assert_int_equal(entity_set_load_dirs(dirs, 2, &set, &err), DDB2ES_E_CONFIG);
    assert_null(set);
    assert_non_null(strstr(err.message, "table TableB is claimed by two entities: beta"));
    assert_non_null(strstr(err.message, "gamma"));
    snprintf(want, sizeof(want), "%s/gamma.json", d2);
    unlink(want);

    /* The name must match the file name. */
    write_file(d2, "delta.json", ent_text(t, sizeof(t), "epsilon", "TableD"));
    assert_int_equal(entity_set_load_dirs(dirs, 2, &set, &err), DDB2ES_E_CONFIG);
    snprintf(want, sizeof(want), "%s/delta.json: $.name: \"epsilon\" differs from the file name", d2);
    assert_non_null(strstr(err.message, want));
    snprintf(want, sizeof(want), "%s/delta.json", d2);
    unlink(want);

    /* A broken file is reported with its name. */
    write_file(d2, "zeta.json", "{\"name\":\"zeta\"}");
    assert_int_equal(entity_set_load_dirs(dirs, 2, &set, &err), DDB2ES_E_CONFIG);
    snprintf(want, sizeof(want), "%s/zeta.json: $.tables: missing", d2);
    assert_non_null(strstr(err.message, want));
    rm_tree(d2);

    /* A directory that cannot be read. */
    assert_int_equal(entity_set_load_dirs(dirs, 2, &set, &err), DDB2ES_E_IO);
    assert_non_null(strstr(err.message, "cannot read entity directory"));
    assert_non_null(strstr(err.message, d2));

    /* No directory at all: an empty set. */
    assert_int_equal(entity_set_load_dirs(dirs, 0, &set, &err), DDB2ES_OK);
    assert_int_equal(entity_set_count(set), 0);
    assert_null(entity_set_find_table(set, "TableA1"));
    entity_set_free(set);
    rm_tree(d1);
}

/* ---- policies, types, paths ------------------------------------------------- */

static void test_policies_and_types(void **state)
{
    struct entity *e = from_text(
        "{\"name\":\"p\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i.json\",\"fields\":{"
        "\"gone\":{\"from\":\"nope\",\"missing\":\"omit\"},"
        "\"id\":{\"from\":\"id\"},"
        "\"dflt\":{\"from\":\"nope\",\"missing\":\"default\",\"default\":{\"a\":[1,0.1,\"x\",null,true]}},"
        "\"nulled\":{\"from\":\"nul\",\"null\":\"default\",\"default\":0},"
        "\"omitnull\":{\"from\":\"nul\",\"null\":\"omit\"},"
        "\"mm\":{\"from\":\"s\",\"type\":\"number\",\"mismatch\":\"default\",\"default\":-1},"
        "\"mmomit\":{\"from\":\"s\",\"type\":\"boolean\",\"mismatch\":\"omit\"},"
        "\"mmnull\":{\"from\":\"s\",\"type\":\"object\",\"mismatch\":\"null\",\"fields\":{\"q\":{\"from\":\"q\"}}},"
        "\"num\":{\"from\":\"n\",\"type\":\"number\"},"
        "\"numtext\":{\"from\":\"n\"},"
        "\"raw\":{\"from\":\"m\",\"type\":\"raw\"},"
        "\"nested\":{\"from\":\"m.inner.leaf\"},"
        "\"dotted\":{\"from\":[\"dot.ted\"]},"
        "\"viaNull\":{\"from\":\"nul.x\",\"missing\":\"default\",\"default\":\"gone\"},"
        "\"viaBad\":{\"from\":\"s.x\",\"mismatch\":\"null\"},"
        "\"c\":{\"const\":\"fixed\"},"
        "\"c2\":{\"const\":{\"k\":[0.5,1e300,-2]}},"
        "\"lst\":{\"from\":\"lst\",\"type\":\"list\",\"mismatch\":\"omit\",\"fields\":{\"v\":{\"from\":\"v\"}}},"
        "\"lst2\":{\"from\":\"lst2\",\"type\":\"list\",\"fields\":{\"v\":{\"from\":\"v\",\"type\":\"raw\"}}},"
        "\"strs\":{\"from\":\"strs\",\"type\":\"string_list\",\"mismatch\":\"default\",\"default\":[]},"
        "\"b\":{\"from\":\"bin\",\"type\":\"raw\"},"
        "\"last\":{\"from\":\"nope\",\"missing\":\"omit\"}"
        "}}");
    char *doc = map_text(
        e,
        "{\"id\":{\"S\":\"k1\"},\"nul\":{\"NULL\":true},\"s\":{\"S\":\"text\"},"
        "\"n\":{\"N\":\"+007.50\"},\"m\":{\"M\":{\"inner\":{\"M\":{\"leaf\":{\"S\":\"deep\"}}},"
        "\"x\":{\"NS\":[\"1\",\"2\"]}}},\"dot.ted\":{\"S\":\"dotted name\"},"
        "\"lst\":{\"L\":[{\"M\":{\"v\":{\"S\":\"a\"}}},{\"S\":\"not a map\"}]},"
        "\"lst2\":{\"L\":[{\"M\":{\"v\":{\"BS\":[\"AA==\"]}}},{\"NULL\":true},{\"M\":{}}]},"
        "\"strs\":{\"L\":[{\"S\":\"a\"},{\"NULL\":true}]},\"bin\":{\"B\":\"AAEC\"}}",
        NOW_2025);

    (void)state;
    assert_string_equal(
        doc,
        "{\"id\":\"k1\",\"dflt\":{\"a\":[1,0.1,\"x\",null,true]},\"nulled\":0,\"mm\":-1,"
        "\"mmnull\":null,\"num\":7.50,\"numtext\":\"+007.50\","
        "\"raw\":{\"inner\":{\"leaf\":\"deep\"},\"x\":[1,2]},\"nested\":\"deep\","
        "\"dotted\":\"dotted name\",\"viaNull\":\"gone\",\"viaBad\":null,\"c\":\"fixed\","
        "\"c2\":{\"k\":[0.5,1e+300,-2]},\"lst2\":[{\"v\":[\"AA==\"]},null,{\"v\":null}],"
        "\"strs\":[],\"b\":\"AAEC\"}");
    free(doc);
    entity_free(e);
}

static void test_all_fields_omitted(void **state)
{
    struct entity *e = from_text("{\"name\":\"p\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i\","
                                 "\"fields\":{\"a\":{\"from\":\"a\",\"missing\":\"omit\"},"
                                 "\"o\":{\"from\":\"o\",\"type\":\"object\",\"fields\":{"
                                 "\"b\":{\"from\":\"b\",\"missing\":\"omit\"}}}}}");
    char *doc = map_text(e, "{\"id\":{\"S\":\"k\"},\"o\":{\"M\":{}}}", NOW_2025);

    (void)state;
    assert_string_equal(doc, "{\"o\":{}}");
    free(doc);
    entity_free(e);
}

static void test_error_policies(void **state)
{
    struct entity *e = from_text(
        "{\"name\":\"strict\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i\",\"fields\":{"
        "\"a\":{\"from\":\"a\",\"missing\":\"error\",\"null\":\"error\"},"
        "\"n\":{\"from\":\"o.n\",\"type\":\"number\"}}}");
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": a: attribute is missing (field \"a\" requires it)");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"NULL\":true}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": a: attribute is NULL (field \"a\" requires a value)");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"M\":{\"n\":{\"S\":\"1\"}}}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": o.n: expected N for field \"n\", got S");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"L\":[]}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message,
                        "strict item \"k\": o: expected a map (M) on the path for field \"n\", got L");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"M\":{\"n\":{\"N\":\"1e999\"}}}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": o.n: invalid number \"1e999\"");
    /* Malformed values are errors whatever the policies say. */
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"M\":{\"n\":{\"N\":1}}}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": o.n: malformed attribute value: \"N\" must hold a string");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"k\"},\"a\":{\"S\":\"\"},\"o\":{\"MM\":{}}}", &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "strict item \"k\": o: malformed attribute value: unknown type \"MM\"");
    entity_free(e);
}

/* ---- items that do not fit -------------------------------------------------- */

static const char *raw_entity =
    "{\"name\":\"r\",\"tables\":[\"Tab\"],\"id\":\"id\",\"version\":\"v\",\"index\":\"i\",\"fields\":{"
    "\"id\":{\"from\":\"id\"},\"s\":{\"from\":\"s\"},\"deep\":{\"from\":\"deep\",\"type\":\"raw\"},"
    "\"obj\":{\"from\":\"obj\",\"type\":\"object\",\"fields\":{\"deep\":{\"from\":\"deep\",\"type\":\"raw\"}}},"
    "\"tags\":{\"from\":\"tags\",\"type\":\"string_list\"}}}";

static json_t *chain(int levels)
{
    json_t *v = json_pack("{s:s}", "S", "bottom");
    int i;

    for (i = 0; i < levels; i++)
        v = json_pack("{s:{s:o}}", "M", "a", v);
    return v;
}

static void test_misfit_nesting(void **state)
{
    struct entity *e = from_text(raw_entity);
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct ddb2es_error err;
    json_t *item;

    (void)state;
    /* A raw attribute nesting 32 levels: DynamoDB's maximum, mapped. */
    item = json_pack("{s:{s:s},s:o}", "id", "S", "n1", "deep", chain(32));
    assert_int_equal(entity_map_item(e, item, NULL, &doc, &id, &err), DDB2ES_OK);
    assert_non_null(strstr(dbuf_cstr(&doc), "{\"a\":\"bottom\"}"));
    json_decref(item);
    /* 33 levels: refused with the item id and the path. */
    item = json_pack("{s:{s:s},s:o}", "id", "S", "n2", "deep", chain(33));
    dbuf_reset(&doc);
    dbuf_reset(&id);
    assert_int_equal(entity_map_item(e, item, NULL, &doc, &id, &err), DDB2ES_E_MAPPING);
    assert_int_equal(strncmp(err.message, "r item \"n2\": deep.a.a.a", 23), 0);
    assert_non_null(strstr(err.message, ": nested deeper than 32 levels"));
    assert_int_equal(doc.len, 0);
    assert_int_equal(id.len, 0);
    json_decref(item);
    /* Inside an object field the level counts from the item's top: 31 more maps fit, 32 do not. */
    item = json_pack("{s:{s:s},s:{s:{s:o}}}", "id", "S", "n3", "obj", "M", "deep", chain(31));
    assert_int_equal(entity_map_item(e, item, NULL, &doc, &id, &err), DDB2ES_OK);
    json_decref(item);
    item = json_pack("{s:{s:s},s:{s:{s:o}}}", "id", "S", "n4", "obj", "M", "deep", chain(32));
    assert_int_equal(entity_map_item(e, item, NULL, &doc, &id, &err), DDB2ES_E_MAPPING);
    assert_non_null(strstr(err.message, "r item \"n4\": obj.deep.a.a"));
    json_decref(item);
    dbuf_free(&doc);
    dbuf_free(&id);
    entity_free(e);
}

static void test_misfit_large_and_binary(void **state)
{
    struct entity *e = from_text(raw_entity);
    struct entity *persons = shipped("persons");
    size_t n = 350 * 1024, i;
    char *big = malloc(n + 1);
    json_t *item, *doc;
    struct ddb2es_error err;

    (void)state;
    for (i = 0; i < n; i++)
        big[i] = (char)('A' + i % 26);
    big[n] = '\0';
    /* A 350 KB string attribute. */
    item = json_pack("{s:{s:s},s:{s:s}}", "id", "S", "big", "firstName", "S", big);
    doc = map_doc(persons, item, NOW_2025, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "firstname")), big);
    json_decref(doc);
    json_decref(item);
    /* A 350 KB list, raw. */
    item = json_pack("{s:{s:s},s:{s:[]}}", "id", "S", "biglist", "deep", "L");
    for (i = 0; i < 3500; i++)
        json_array_append_new(json_object_get(json_object_get(item, "deep"), "L"),
                              json_pack("{s:s#}", "S", big, (int)100));
    doc = map_doc(e, item, NOW_2025, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "deep")), 3500);
    json_decref(doc);
    json_decref(item);
    /* Binary data: raw passes base64 through, a string field refuses B, a string list refuses BS. */
    item = load("{\"id\":{\"S\":\"bin\"},\"deep\":{\"B\":\"AP8=\"},\"tags\":{\"SS\":[\"x\"]}}");
    doc = map_doc(e, item, NOW_2025, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "deep")), "AP8=");
    json_decref(doc);
    json_decref(item);
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"bin\"},\"s\":{\"B\":\"AP8=\"}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r item \"bin\": s: expected S or N for field \"s\", got B");
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"bin\"},\"tags\":{\"BS\":[\"AP8=\"]}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message,
                        "r item \"bin\": tags: expected SS, NS, or L of S/N for field \"tags\", got BS");
    /* The persons entity turns a binary name into null, as the old indexer did. */
    item = load("{\"id\":{\"S\":\"bin\"},\"surname\":{\"B\":\"AP8=\"}}");
    doc = map_doc(persons, item, NOW_2025, NULL);
    assert_true(json_is_null(json_object_get(doc, "surname")));
    json_decref(doc);
    json_decref(item);
    free(big);
    entity_free(e);
    entity_free(persons);
}

static void test_misfit_ids(void **state)
{
    struct entity *e = from_text(raw_entity);
    struct dbuf id = DBUF_INIT, txt = DBUF_INIT;
    struct ddb2es_error err;
    json_t *item;
    int i;

    (void)state;
    assert_int_equal(map_fail(e, "[]", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r: item is not a JSON object of attribute name -> AttributeValue");
    assert_int_equal(map_fail(e, "{\"id\":{\"L\":[]}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r: item id attribute \"id\" is L, expected S (or N)");
    assert_int_equal(map_fail(e, "{\"id\":{\"B\":\"AA==\"}}", &err), DDB2ES_E_MAPPING);
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":1}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r: item id attribute \"id\" is a malformed value, expected S (or N)");
    assert_int_equal(map_fail(e, "{\"id\":{\"N\":\"12a\"}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r: item id \"12a\" is not a valid number");
    /* A number id is its text. */
    item = load("{\"id\":{\"N\":\"42\"}}");
    assert_int_equal(entity_item_id(e, item, &id, &err), DDB2ES_OK);
    assert_string_equal(dbuf_cstr(&id), "42");
    json_decref(item);
    /* 512 bytes is Elasticsearch's limit for _id. */
    for (i = 0; i < ENTITY_ID_MAX; i++)
        dbuf_putc(&txt, 'x');
    item = json_pack("{s:{s:s}}", "id", "S", txt.data);
    dbuf_reset(&id);
    assert_int_equal(entity_item_id(e, item, &id, &err), DDB2ES_OK);
    assert_int_equal(id.len, ENTITY_ID_MAX);
    json_decref(item);
    dbuf_putc(&txt, 'x');
    item = json_pack("{s:{s:s}}", "id", "S", txt.data);
    dbuf_reset(&id);
    assert_int_equal(entity_item_id(e, item, &id, &err), DDB2ES_E_MAPPING);
    assert_non_null(strstr(err.message, "is 513 bytes; Elasticsearch allows at most 512"));
    json_decref(item);
    /* Quotes and control bytes in an id are made printable in messages. */
    assert_int_equal(map_fail(e, "{\"id\":{\"S\":\"a\\\"b\\nc\"},\"s\":{\"M\":{}}}", &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "r item \"a\\\"b?c\": s: expected S or N for field \"s\", got M");
    dbuf_free(&id);
    dbuf_free(&txt);
    entity_free(e);
}

static void test_item_version(void **state)
{
    struct entity *e = from_text(raw_entity);
    struct entity *nov = from_text("{\"name\":\"nv\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i\","
                                   "\"fields\":{\"id\":{\"from\":\"id\"}}}");
    static const struct {
        const char *item;
        int rc;
        long long v;
    } cases[] = {
        {"{\"v\":{\"N\":\"7\"}}", DDB2ES_OK, 7},
        {"{\"v\":{\"N\":\"0\"}}", DDB2ES_OK, 0},
        {"{\"v\":{\"N\":\"9223372036854775807\"}}", DDB2ES_OK, 9223372036854775807LL},
        {"{\"v\":{\"N\":\"9223372036854775808\"}}", DDB2ES_E_MAPPING, 0},
        {"{\"v\":{\"N\":\"-1\"}}", DDB2ES_E_MAPPING, 0},
        {"{\"v\":{\"N\":\"1.5\"}}", DDB2ES_E_MAPPING, 0},
        {"{\"v\":{\"S\":\"7\"}}", DDB2ES_E_MAPPING, 0},
        {"{\"v\":{\"NULL\":true}}", DDB2ES_E_NOTFOUND, 0},
        {"{}", DDB2ES_E_NOTFOUND, 0},
    };
    struct ddb2es_error err;
    long long v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *item = load(cases[i].item);

        assert_int_equal(entity_item_version(e, item, &v, &err), cases[i].rc);
        if (cases[i].rc == DDB2ES_OK)
            assert_true(v == cases[i].v);
        json_decref(item);
    }
    {
        json_t *item = load("{\"v\":{\"N\":\"7\"}}");

        assert_int_equal(entity_item_version(nov, item, &v, &err), DDB2ES_E_NOTFOUND);
        assert_null(entity_version_attribute(nov));
        json_decref(item);
    }
    entity_free(e);
    entity_free(nov);
}

/* ---- tenure_active --------------------------------------------------------------- */

static void test_tenure_active(void **state)
{
    static const struct {
        const char *end; /* AttributeValue text, or NULL for missing */
        time_t now;
        int want;
    } cases[] = {
        {NULL, NOW_2025, 1},
        {"{\"NULL\":true}", NOW_2025, 1},
        {"{\"S\":\"\"}", NOW_2025, 1},
        {"{\"S\":\"garbage\"}", NOW_2025, 1},
        {"{\"N\":\"5\"}", NOW_2025, 1},
        {"{\"M\":{}}", NOW_2025, 1},
        {"{\"S\":\"2024-12-31T23:59:59Z\"}", NOW_2025, 0},
        {"{\"S\":\"2025-01-01T00:00:00Z\"}", NOW_2025, 1},
        {"{\"S\":\"2025-01-01T00:00:00.0000000Z\"}", NOW_2025, 1},
        {"{\"S\":\"2025-01-01T00:00:00.9999999Z\"}", NOW_2025 + 1, 0},
        {"{\"S\":\"2025-01-01\"}", NOW_2025, 1},
        {"{\"S\":\"2025-01-01\"}", NOW_2025 + 1, 0},
        {"{\"S\":\"2025-01-01T00:00\"}", NOW_2025, 1},
        {"{\"S\":\"2025-01-01 00:00:01\"}", NOW_2025 + 1, 1},
        {"{\"S\":\"2025-01-01T01:00:00+02:00\"}", NOW_2025, 0},
        {"{\"S\":\"2025-01-01T01:00:00+0200\"}", NOW_2025, 0},
        {"{\"S\":\"2025-01-01T01:00:00+02\"}", NOW_2025, 0},
        {"{\"S\":\"2024-12-31T23:00:00-02:00\"}", NOW_2025, 1},
        {"{\"S\":\"1900-01-01T00:00:00.0000000Z\"}", NOW_2025, 1},
        {"{\"S\":\"1900-01-01\"}", NOW_2025, 1},
        {"{\"S\":\"1900-01-01T23:59:59Z\"}", NOW_2025, 1},
        {"{\"S\":\"1900-01-02T00:00:00Z\"}", NOW_2025, 0},
        {"{\"S\":\"1899-12-31T00:00:00Z\"}", NOW_2025, 0},
        {"{\"S\":\"2024-02-29T00:00:00Z\"}", NOW_2025, 0},
        {"{\"S\":\"2023-02-29T00:00:00Z\"}", NOW_2025, 1}, /* no such day: unparseable */
        {"{\"S\":\"2025-13-01\"}", NOW_2025, 1},
        {"{\"S\":\"2024-06-01T24:00:00Z\"}", NOW_2025, 1},
        {"{\"S\":\"2024-06-01T\"}", NOW_2025, 1},
        {"{\"S\":\"2024-06-01Z\"}", NOW_2025, 0},
        {"{\"S\":\"2024-06-01T10:00:00Zjunk\"}", NOW_2025, 1},
        {"{\"S\":\"0000-01-01\"}", NOW_2025, 1},
        {"{\"S\":\"9999-12-31T23:59:59Z\"}", NOW_2025, 1},
        {"{\"S\":\"2024-06-01\"}", 1704067200 /* 2024-01-01 */, 1},
    };
    struct entity *e = from_text("{\"name\":\"t\",\"tables\":[\"Tab\"],\"id\":\"id\",\"index\":\"i\","
                                 "\"fields\":{\"a\":{\"compute\":\"tenure_active\",\"from\":\"end\"},"
                                 "\"b\":{\"compute\":\"tenure_active\",\"from\":\"end.x\"}}}");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char item[256], want[64];
        char *doc;

        if (cases[i].end)
            snprintf(item, sizeof(item), "{\"id\":{\"S\":\"k\"},\"end\":%s}", cases[i].end);
        else
            snprintf(item, sizeof(item), "{\"id\":{\"S\":\"k\"}}");
        doc = map_text(e, item, cases[i].now);
        /* "b" goes through a non-map: always absent, so active. */
        snprintf(want, sizeof(want), "{\"a\":%s,\"b\":true}", cases[i].want ? "true" : "false");
        if (strcmp(doc, want) != 0)
            fail_msg("case %zu (%s): got %s", i, cases[i].end ? cases[i].end : "missing", doc);
        free(doc);
    }
    entity_free(e);
}

/* ---- concurrency -------------------------------------------------------------------- */

struct worker {
    const struct entity *e;
    const json_t *items;
    const char *const *want;
    int bad;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct entity_map_opts o = {NOW_2025};
    int round;
    size_t i;

    for (round = 0; round < 300; round++) {
        for (i = 0; i < json_array_size(w->items); i++) {
            dbuf_reset(&doc);
            dbuf_reset(&id);
            if (entity_map_item(w->e, json_array_get(w->items, i), &o, &doc, &id, NULL) != DDB2ES_OK ||
                strcmp(dbuf_cstr(&doc), w->want[i]) != 0)
                w->bad++;
        }
    }
    dbuf_free(&doc);
    dbuf_free(&id);
    return NULL;
}

/* Many threads share one const entity; every result equals the single-threaded one. */
static void test_concurrent_mapping(void **state)
{
    json_t *page = load_shared("reference/hackney/dynamodb/tenureinformation-scan-page.json");
    const json_t *items = json_object_get(page, "Items");
    struct entity *e = shipped("tenures");
    char *want[2];
    struct worker w[8];
    pthread_t th[8];
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
        struct entity_map_opts o = {NOW_2025};

        assert_int_equal(entity_map_item(e, json_array_get(items, i), &o, &doc, &id, NULL), DDB2ES_OK);
        want[i] = dbuf_detach(&doc);
        dbuf_free(&id);
    }
    for (i = 0; i < 8; i++) {
        w[i].e = e;
        w[i].items = items;
        w[i].want = (const char *const *)want;
        w[i].bad = 0;
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    free(want[0]);
    free(want[1]);
    entity_free(e);
    json_decref(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_persons),
        cmocka_unit_test(test_golden_tenures),
        cmocka_unit_test(test_golden_assets),
        cmocka_unit_test(test_scan_page_persons),
        cmocka_unit_test(test_scan_page_tenures),
        cmocka_unit_test(test_scan_page_assets),
        cmocka_unit_test(test_roundtrip_fixtures),
        cmocka_unit_test(test_fixture_tenures_now_injected),
        cmocka_unit_test(test_loader_errors),
        cmocka_unit_test(test_loader_duplicate_key_named),
        cmocka_unit_test(test_loader_depth),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_shipped_set),
        cmocka_unit_test(test_set_override_and_errors),
        cmocka_unit_test(test_policies_and_types),
        cmocka_unit_test(test_all_fields_omitted),
        cmocka_unit_test(test_error_policies),
        cmocka_unit_test(test_misfit_nesting),
        cmocka_unit_test(test_misfit_large_and_binary),
        cmocka_unit_test(test_misfit_ids),
        cmocka_unit_test(test_item_version),
        cmocka_unit_test(test_tenure_active),
        cmocka_unit_test(test_concurrent_mapping),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
