/* test_entity_golden.c - the shipped entities against golden mappings
 * (tests/unit/golden/entity/<entity>/<case>.json), the reference DynamoDB
 * scan pages against the Elasticsearch fixtures, and every fixture document
 * turned back into an item and mapped again. */
#include <dirent.h>
#include <stdint.h>
#include <string.h>

#include "ddb2es/ddbjson.h"
#include "entity_test_util.h"

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
        c = tu_json_file(path);
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
    json_t *p = tu_json_shared(page);
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
