/* test_indexdef.c - index definitions: the shipped files, mapping comparison
 * against the Hackney originals and edited variants, loader errors, the
 * operator's description, and indexdef_prepare() against a loopback server. */
#include "es_test_util.h"

#include <errno.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ddb2es/entity.h"
#include "ddb2es/indexdef.h"
#include "testutil.h"

static const char *const shipped_names[] = {"persons", "tenures", "assets"};
/* The Hackney originals (shared reference) of the shipped definitions. */
static const char *const hackney_files[] = {"personIndex.json", "tenureIndex.json", "assetIndex.json"};

/* ---- helpers ------------------------------------------------------------- */

static struct indexdef *shipped_def(const char *name)
{
    char path[256];
    struct indexdef *d = NULL;
    struct ddb2es_error err;

    snprintf(path, sizeof(path), "assets/indices/%s.json", name);
    if (indexdef_load_file(path, &d, &err) != DDB2ES_OK)
        fail_msg("cannot load %s: %s", path, err.message);
    return d;
}

static json_t *hackney_mappings(size_t i)
{
    char rel[256];
    json_t *root, *m;

    snprintf(rel, sizeof(rel), "reference/hackney/es-index/%s", hackney_files[i]);
    root = tu_json_shared(rel);
    m = json_incref(json_object_get(root, "mappings"));
    json_decref(root);
    assert_non_null(m);
    return m;
}

/* The object holding the last key of a '/'-separated key path inside root
 * (borrowed); the last key goes to *last. Fails the test when a step is absent. */
static json_t *at(json_t *root, const char *path, char *last, size_t lastsz)
{
    json_t *cur = root;
    const char *p = path, *slash;
    char seg[128];

    for (;;) {
        slash = strchr(p, '/');
        if (!slash) {
            snprintf(last, lastsz, "%s", p);
            return cur;
        }
        snprintf(seg, sizeof(seg), "%.*s", (int)(slash - p), p);
        cur = json_object_get(cur, seg);
        if (!json_is_object(cur))
            fail_msg("test path %s: no object at %s", path, seg);
        p = slash + 1;
    }
}

static void compare_expect(const json_t *def, const json_t *idx, const char *const *want, const char *what)
{
    struct indexdef_report r;
    struct ddb2es_error err;
    size_t n = 0;

    indexdef_report_init(&r);
    assert_int_equal(indexdef_compare(def, idx, &r, &err), DDB2ES_OK);
    while (want[n])
        n++;
    if (r.ndiffs != n) {
        for (size_t i = 0; i < r.ndiffs; i++)
            fprintf(stderr, "  got: %s\n", r.diffs[i].text);
        fail_msg("%s: %zu differences, want %zu", what, r.ndiffs, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(r.diffs[i].text, want[i]) != 0)
            fail_msg("%s: difference %zu is \"%s\", want \"%s\"", what, i, r.diffs[i].text, want[i]);
    }
    assert_int_equal(r.outcome, n ? INDEXDEF_EXISTS_DIFFERS : INDEXDEF_EXISTS_MATCHES);
    indexdef_report_free(&r);
}

/* ---- the shipped definitions ------------------------------------------------ */

static void test_shipped_files_load_and_entities_point_at_them(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct indexdef *d = shipped_def(shipped_names[i]), *via = NULL;
        struct entity *e = NULL;
        struct ddb2es_error err;
        char epath[256];
        json_t *body;

        assert_true(json_object_size(json_object_get(d->mappings, "properties")) > 0);
        /* the request body is the file's content */
        body = tu_json(d->body_text);
        assert_true(json_equal(body, d->body));
        assert_non_null(json_object_get(body, "settings"));
        json_decref(body);

        snprintf(epath, sizeof(epath), "assets/entities/%s.json", shipped_names[i]);
        if (entity_load_file(epath, &e, &err) != DDB2ES_OK)
            fail_msg("%s: %s", epath, err.message);
        assert_int_equal(indexdef_load_file(entity_index_path(e), &via, &err), DDB2ES_OK);
        assert_true(json_equal(via->body, d->body));
        indexdef_free(via);
        entity_free(e);
        indexdef_free(d);
    }
}

/* Every shipped definition covers itself, and the Hackney original covers it
 * but for the one documented change: tenures' startOfTenureDate ignores
 * malformed dates (the "" the old job wrote for a missing date). */
static void test_shipped_against_hackney(void **state)
{
    static const char *const none[] = {NULL};
    static const char *const tenures_diff[] = {
        "startOfTenureDate: expected ignore_malformed true, index has false", NULL};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct indexdef *d = shipped_def(shipped_names[i]);
        json_t *orig = hackney_mappings(i);

        compare_expect(d->mappings, d->mappings, none, shipped_names[i]);
        compare_expect(d->mappings, orig, i == 1 ? tenures_diff : none, hackney_files[i]);
        /* the other way round nothing is missing: a parameter the index adds is fine */
        compare_expect(orig, d->mappings, none, "reverse");
        json_decref(orig);
        indexdef_free(d);
    }
}

/* ---- variants: a shipped definition against an edited copy as the index ---- */

enum edit_op { EDIT_DELETE, EDIT_SET };

struct variant_case {
    const char *name;
    const char *def;          /* shipped definition */
    enum edit_op op;
    const char *path;         /* '/'-separated keys inside "mappings" */
    const char *value;        /* JSON for EDIT_SET */
    const char *want[4];      /* expected difference texts, in order */
};

static const struct variant_case variant_cases[] = {
    {"nested member missing", "persons", EDIT_DELETE, "properties/tenures/properties/uprn", NULL,
     {"tenures.uprn: expected type keyword, missing from the index"}},
    {"other type", "persons", EDIT_SET, "properties/id/type", "\"text\"",
     {"id: expected type keyword, index has text"}},
    {"nested became object", "persons", EDIT_DELETE, "properties/tenures/type", NULL,
     {"tenures: expected type nested, index has object"}},
    {"analyzer", "persons", EDIT_SET, "properties/title/analyzer", "\"english\"",
     {"title: expected analyzer default, index has english"}},
    {"search analyzer", "persons", EDIT_SET, "properties/dateOfBirth/search_analyzer", "\"simple\"",
     {"dateOfBirth: expected search_analyzer default, index has simple"}},
    {"normalizer", "persons", EDIT_SET, "properties/personTypes/normalizer", "\"lowercase\"",
     {"personTypes: expected normalizer none, index has lowercase"}},
    {"dynamic addition is fine", "persons", EDIT_SET, "properties/placeOfBirth",
     "{\"type\":\"text\",\"fields\":{\"keyword\":{\"type\":\"keyword\",\"ignore_above\":256}}}", {NULL}},
    {"multi-field missing", "tenures", EDIT_DELETE, "properties/id/fields/keyword", NULL,
     {"id.keyword: expected type keyword, missing from the index"}},
    {"multi-field other type", "tenures", EDIT_SET, "properties/id/fields/keyword/type", "\"text\"",
     {"id.keyword: expected type keyword, index has text"}},
    {"date became text", "tenures", EDIT_SET, "properties/startOfTenureDate/type", "\"text\"",
     {"startOfTenureDate: expected type date, index has text"}},
    {"ignore_malformed as a string", "tenures", EDIT_SET, "properties/startOfTenureDate/ignore_malformed",
     "\"true\"", {NULL}},
    {"deep multi-field", "tenures", EDIT_DELETE,
     "properties/tempAccommodationInfo/properties/assignedOfficer/properties/email/fields", NULL,
     {"tempAccommodationInfo.assignedOfficer.email.keyword: expected type keyword, missing from the index"}},
    {"ignore_above is not compared", "tenures", EDIT_SET, "properties/id/fields/keyword/ignore_above", "32",
     {NULL}},
    {"object missing: reported once", "assets", EDIT_DELETE, "properties/assetAddress", NULL,
     {"assetAddress: expected type object, missing from the index"}},
    {"numeric type", "assets", EDIT_SET, "properties/assetCharacteristics/properties/numberOfBedrooms/type",
     "\"integer\"", {"assetCharacteristics.numberOfBedrooms: expected type long, index has integer"}},
    {"keyword became text with a keyword multi-field", "assets", EDIT_SET, "properties/assetId",
     "{\"type\":\"text\",\"fields\":{\"keyword\":{\"type\":\"keyword\"}}}",
     {"assetId: expected type keyword, index has text"}},
};

static void test_variants(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(variant_cases) / sizeof(variant_cases[0]); i++) {
        const struct variant_case *c = &variant_cases[i];
        struct indexdef *d = shipped_def(c->def);
        json_t *idx = json_deep_copy(d->mappings), *parent;
        char key[128];

        parent = at(idx, c->path, key, sizeof(key));
        if (c->op == EDIT_DELETE)
            assert_int_equal(json_object_del(parent, key), 0);
        else
            assert_int_equal(json_object_set_new(parent, key, tu_json(c->value)), 0);
        compare_expect(d->mappings, idx, c->want, c->name);
        json_decref(idx);
        indexdef_free(d);
    }
}

/* ---- comparison rules on small mappings ---------------------------------- */

struct rule_case {
    const char *name;
    const char *def;
    const char *idx;
    const char *want[4];
};

static const struct rule_case rule_cases[] = {
    {"search_analyzer falls back to analyzer",
     "{\"properties\":{\"t\":{\"type\":\"text\",\"analyzer\":\"english\",\"search_analyzer\":\"english\"}}}",
     "{\"properties\":{\"t\":{\"type\":\"text\",\"analyzer\":\"english\"}}}", {NULL}},
    {"search_quote_analyzer falls back to search_analyzer",
     "{\"properties\":{\"t\":{\"type\":\"text\",\"search_analyzer\":\"simple\"}}}",
     "{\"properties\":{\"t\":{\"type\":\"text\",\"search_analyzer\":\"simple\",\"search_quote_analyzer\":\"simple\"}}}",
     {NULL}},
    {"analyzer differs",
     "{\"properties\":{\"t\":{\"type\":\"text\",\"analyzer\":\"english\"}}}",
     "{\"properties\":{\"t\":{\"type\":\"text\"}}}", {"t: expected analyzer english, index has default"}},
    {"default date format left out by the index",
     "{\"properties\":{\"d\":{\"type\":\"date\",\"format\":\"strict_date_optional_time||epoch_millis\"}}}",
     "{\"properties\":{\"d\":{\"type\":\"date\"}}}", {NULL}},
    {"date format differs",
     "{\"properties\":{\"d\":{\"type\":\"date\",\"format\":\"yyyy-MM-dd\"}}}",
     "{\"properties\":{\"d\":{\"type\":\"date\"}}}",
     {"d: expected format yyyy-MM-dd, index has strict_date_optional_time||epoch_millis"}},
    {"Elasticsearch 6 type level",
     "{\"properties\":{\"id\":{\"type\":\"keyword\"},\"n\":{\"type\":\"long\"}}}",
     "{\"_doc\":{\"properties\":{\"id\":{\"type\":\"keyword\"},\"n\":{\"type\":\"integer\"}}}}",
     {"n: expected type long, index has integer"}},
    {"explicit object type equals an untyped object",
     "{\"properties\":{\"o\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"keyword\"}}}}}",
     "{\"properties\":{\"o\":{\"properties\":{\"a\":{\"type\":\"keyword\"}}}}}", {NULL}},
    {"object became nested: children still compared",
     "{\"properties\":{\"o\":{\"properties\":{\"a\":{\"type\":\"keyword\"},\"b\":{\"type\":\"text\"}}}}}",
     "{\"properties\":{\"o\":{\"type\":\"nested\",\"properties\":{\"a\":{\"type\":\"keyword\"}}}}}",
     {"o: expected type object, index has nested", "o.b: expected type text, missing from the index"}},
    {"a leaf where an object is expected",
     "{\"properties\":{\"o\":{\"properties\":{\"a\":{\"type\":\"keyword\"}}}}}",
     "{\"properties\":{\"o\":{\"type\":\"keyword\"}}}", {"o: expected type object, index has keyword"}},
    {"empty index mapping",
     "{\"properties\":{\"a\":{\"type\":\"keyword\"},\"b\":{\"type\":\"long\"}}}", "{}",
     {"a: expected type keyword, missing from the index", "b: expected type long, missing from the index"}},
    {"empty definition covers anything", "{}", "{\"properties\":{\"a\":{\"type\":\"keyword\"}}}", {NULL}},
    {"root options are not compared",
     "{\"dynamic\":\"strict\",\"properties\":{\"a\":{\"type\":\"keyword\"}}}",
     "{\"dynamic\":\"true\",\"properties\":{\"a\":{\"type\":\"keyword\"}}}", {NULL}},
};

static void test_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
        json_t *def = tu_json(rule_cases[i].def), *idx = tu_json(rule_cases[i].idx);
        compare_expect(def, idx, rule_cases[i].want, rule_cases[i].name);
        json_decref(def);
        json_decref(idx);
    }
}

static void test_diff_fields(void **state)
{
    json_t *def = tu_json("{\"properties\":{\"a\":{\"properties\":{\"b\":{\"type\":\"keyword\"}}},"
                        "\"d\":{\"type\":\"date\",\"ignore_malformed\":true}}}");
    json_t *idx = tu_json("{\"properties\":{\"a\":{\"properties\":{}},\"d\":{\"type\":\"date\"}}}");
    struct indexdef_report r;
    struct ddb2es_error err;

    (void)state;
    indexdef_report_init(&r);
    assert_int_equal(indexdef_compare(def, idx, &r, &err), DDB2ES_OK);
    assert_int_equal(r.ndiffs, 2);
    assert_int_equal(r.diffs[0].kind, INDEXDEF_DIFF_MISSING);
    assert_string_equal(r.diffs[0].path, "a.b");
    assert_string_equal(r.diffs[0].expected, "keyword");
    assert_null(r.diffs[0].actual);
    assert_int_equal(r.diffs[1].kind, INDEXDEF_DIFF_PARAM);
    assert_string_equal(r.diffs[1].path, "d");
    assert_string_equal(r.diffs[1].what, "ignore_malformed");
    assert_string_equal(r.diffs[1].expected, "true");
    assert_string_equal(r.diffs[1].actual, "false");
    indexdef_report_free(&r);
    indexdef_report_free(NULL);
    json_decref(def);
    json_decref(idx);
}

/* ---- loading errors ------------------------------------------------------------ */

struct load_case {
    const char *text;
    int status;
    const char *message; /* the whole message */
};

static const struct load_case load_cases[] = {
    {"not json", DDB2ES_E_CONFIG, "x.json:1:3: not valid JSON: '[' or '{' expected near 'not'"},
    {"{\"mappings\":{},\"mappings\":{}}", DDB2ES_E_CONFIG,
     "x.json:1:25: not valid JSON: duplicate object key near '\"mappings\"'"},
    {"[]", DDB2ES_E_CONFIG, "x.json: $: expected an object with \"mappings\" and \"settings\""},
    {"{\"mapping\":{}}", DDB2ES_E_CONFIG,
     "x.json: $.mapping: unknown key (an index definition holds settings, mappings, aliases)"},
    {"{\"settings\":5}", DDB2ES_E_CONFIG, "x.json: $.settings: expected an object"},
    {"{\"mappings\":{\"properties\":{\"id\":{\"type\":5}}}}", DDB2ES_E_CONFIG,
     "x.json: $.mappings.properties.id.type: expected a string"},
    {"{\"mappings\":{\"properties\":{\"a\":{\"properties\":{\"b\":[]}}}}}", DDB2ES_E_CONFIG,
     "x.json: $.mappings.properties.a.properties.b: expected an object (a field definition)"},
    {"{\"mappings\":{\"properties\":{\"a\":{\"fields\":5}}}}", DDB2ES_E_CONFIG,
     "x.json: $.mappings.properties.a.fields: expected an object of field definitions"},
    {"{\"mappings\":{\"properties\":[]}}", DDB2ES_E_CONFIG,
     "x.json: $.mappings.properties: expected an object of field definitions"},
    {"{\"mappings\":{\"_doc\":{\"properties\":{}}}}", DDB2ES_E_CONFIG,
     "x.json: $.mappings._doc: a mapping type level (Elasticsearch 6); put the fields in $.mappings.properties"},
    {"{\"mappings\":{\"properties\":{\"\":{}}}}", DDB2ES_E_CONFIG,
     "x.json: $.mappings.properties: a field with an empty name"},
    {"{}", DDB2ES_OK, ""},
    {"{\"settings\":{\"index\":{\"number_of_shards\":\"1\"}}}", DDB2ES_OK, ""},
};

static void test_load_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
        const struct load_case *c = &load_cases[i];
        struct indexdef *d = (struct indexdef *)1;
        struct ddb2es_error err;
        int rc;

        ddb2es_error_clear(&err);
        rc = indexdef_load_buffer(c->text, strlen(c->text), "x.json", &d, &err);
        if (rc != c->status)
            fail_msg("%s: status %d, want %d (%s)", c->text, rc, c->status, err.message);
        if (rc) {
            assert_null(d);
            if (strcmp(err.message, c->message) != 0)
                fail_msg("%s: message\n  \"%s\", want\n  \"%s\"", c->text, err.message, c->message);
        } else {
            /* without mappings the definition still has an (empty) mappings object */
            assert_true(json_is_object(d->mappings));
            assert_string_equal(d->path, "x.json");
            indexdef_free(d);
        }
    }
    indexdef_free(NULL);
}

static void test_load_missing_file(void **state)
{
    struct indexdef *d = NULL;
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(indexdef_load_file("/nonexistent-ddb2es/x.json", &d, &err), DDB2ES_E_NOTFOUND);
    assert_null(d);
    assert_string_equal(err.message, "no index definition at /nonexistent-ddb2es/x.json");
    /* a directory is not a definition: an I/O or parse error, never a crash */
    assert_int_not_equal(indexdef_load_file("assets", &d, &err), DDB2ES_OK);
    assert_null(d);
}

/* ---- describing a report -------------------------------------------------------- */

static void test_describe(void **state)
{
    struct indexdef_report r;
    struct dbuf out = DBUF_INIT;
    json_t *def = tu_json("{\"properties\":{\"a\":{\"type\":\"keyword\"},\"b\":{\"type\":\"date\"}}}");
    json_t *idx = tu_json("{\"properties\":{\"b\":{\"type\":\"text\"}}}");
    struct ddb2es_error err;

    (void)state;
    indexdef_report_init(&r);
    r.index = util_strdup("tenures");
    r.definition_path = util_strdup("assets/indices/tenures.json");

    r.outcome = INDEXDEF_WILL_CREATE;
    assert_int_equal(indexdef_report_describe(&r, &out), DDB2ES_OK);
    assert_string_equal(out.data,
                        "index 'tenures' does not exist: it will be created from assets/indices/tenures.json\n");
    dbuf_reset(&out);
    r.outcome = INDEXDEF_CREATED;
    indexdef_report_describe(&r, &out);
    assert_string_equal(out.data, "index 'tenures' did not exist: created from assets/indices/tenures.json\n");
    dbuf_reset(&out);
    r.outcome = INDEXDEF_NO_DEFINITION;
    indexdef_report_describe(&r, &out);
    assert_string_equal(out.data, "index 'tenures' does not exist and there is no index definition at "
                                  "assets/indices/tenures.json: Elasticsearch will create it with the first "
                                  "documents and map their fields dynamically\n");
    dbuf_reset(&out);
    r.index_exists = true;
    indexdef_report_describe(&r, &out);
    assert_string_equal(out.data, "index 'tenures' exists; there is no index definition at "
                                  "assets/indices/tenures.json, so its mapping is not checked\n");
    dbuf_reset(&out);
    r.concrete_index = util_strdup("tenures-2024");
    assert_int_equal(indexdef_compare(def, idx, &r, &err), DDB2ES_OK);
    indexdef_report_describe(&r, &out);
    assert_string_equal(out.data,
                        "index 'tenures-2024' (alias 'tenures') exists but its mapping differs from "
                        "assets/indices/tenures.json in 2 fields (a sync does not change an existing mapping: "
                        "documents may be refused or searched differently):\n"
                        "  a: expected type keyword, missing from the index\n"
                        "  b: expected type date, index has text\n");
    dbuf_reset(&out);
    r.outcome = INDEXDEF_EXISTS_MATCHES;
    indexdef_report_describe(&r, &out);
    assert_string_equal(out.data, "index 'tenures-2024' (alias 'tenures') exists and its mapping covers "
                                  "assets/indices/tenures.json\n");
    assert_string_equal(indexdef_outcome_name(INDEXDEF_EXISTS_DIFFERS), "exists-differs");
    assert_string_equal(indexdef_outcome_name(INDEXDEF_WILL_CREATE), "will-create");
    indexdef_report_free(&r);
    assert_null(r.index);
    assert_int_equal(r.ndiffs, 0);
    dbuf_free(&out);
    json_decref(def);
    json_decref(idx);
}

/* ---- indexdef_prepare against a loopback server ---------------------------------- */

static struct entity *shipped_entity(const char *name)
{
    char path[256];
    struct entity *e = NULL;
    struct ddb2es_error err;

    snprintf(path, sizeof(path), "assets/entities/%s.json", name);
    if (entity_load_file(path, &e, &err) != DDB2ES_OK)
        fail_msg("%s: %s", path, err.message);
    return e;
}

/* An entity whose index definition is `defname` in a fresh temporary directory
 * holding `deftext` there (NULL: no such file). */
static struct entity *temp_entity(const char *deftext, char *dir, size_t dirsz)
{
    static const char entity_text[] =
        "{\"name\":\"rooms\",\"tables\":[\"Rooms\"],\"id\":\"id\",\"index\":\"rooms-index.json\","
        "\"fields\":{\"id\":{\"from\":\"id\"}}}";
    char src[512];
    struct entity *e = NULL;
    struct ddb2es_error err;

    snprintf(dir, dirsz, "/tmp/ddb2es-test-indexdef-XXXXXX");
    assert_non_null(mkdtemp(dir));
    if (deftext) {
        char p[600];
        FILE *f;
        snprintf(p, sizeof(p), "%s/rooms-index.json", dir);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs(deftext, f);
        fclose(f);
    }
    snprintf(src, sizeof(src), "%s/rooms.json", dir);
    if (entity_load_buffer(entity_text, strlen(entity_text), src, &e, &err) != DDB2ES_OK)
        fail_msg("test entity: %s", err.message);
    return e;
}

static void remove_temp(const char *dir)
{
    char p[600];

    snprintf(p, sizeof(p), "%s/rooms-index.json", dir);
    unlink(p);
    rmdir(dir);
}

/* {"<concrete>":{"mappings": <the shipped tenures mappings>}} */
static char *mapping_answer(const char *concrete, const char *edit_from, const char *edit_to)
{
    struct indexdef *d = shipped_def("tenures");
    char *m = json_dumps(d->mappings, JSON_COMPACT);
    struct dbuf b = DBUF_INIT;
    char *at_ = edit_from ? strstr(m, edit_from) : NULL;

    if (edit_from)
        assert_non_null(at_);
    dbuf_printf(&b, "{\"%s\":{\"mappings\":", concrete);
    if (at_) {
        dbuf_append(&b, m, (size_t)(at_ - m));
        dbuf_puts(&b, edit_to);
        dbuf_puts(&b, at_ + strlen(edit_from));
    } else {
        dbuf_puts(&b, m);
    }
    dbuf_puts(&b, "}}");
    free(m);
    indexdef_free(d);
    return dbuf_detach(&b);
}

static void test_prepare_missing_dry_run(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    struct entity *e = shipped_entity("tenures");
    struct indexdef_report r;
    struct ddb2es_error err;

    indexdef_report_init(&r);
    fake_answer(f, 404, "");
    assert_int_equal(indexdef_prepare(c, "tenures", e, 0, &r, &err), DDB2ES_OK);
    assert_int_equal(r.outcome, INDEXDEF_WILL_CREATE);
    assert_false(r.index_exists);
    assert_string_equal(f->log.data, "HEAD /tenures\n"); /* nothing created */
    /* the definition named as the file it is, without "entities/.." */
    assert_true(r.definition_path[0] == '/');
    assert_null(strstr(r.definition_path, ".."));
    assert_non_null(strstr(r.definition_path, "/assets/indices/tenures.json"));
    assert_non_null(strstr(entity_index_path(e), "/../indices/tenures.json"));
    indexdef_report_free(&r);
    entity_free(e);
    es_client_free(c);
}

static void test_prepare_missing_creates(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    struct entity *e = shipped_entity("tenures");
    struct indexdef *d = shipped_def("tenures");
    struct indexdef_report r;
    struct ddb2es_error err;
    json_t *sent;

    indexdef_report_init(&r);
    fake_answer(f, 404, "");
    fake_answer(f, 200, "{\"acknowledged\":true,\"shards_acknowledged\":true,\"index\":\"tenures\"}");
    assert_int_equal(indexdef_prepare(c, "tenures", e, 1, &r, &err), DDB2ES_OK);
    assert_int_equal(r.outcome, INDEXDEF_CREATED);
    assert_true(r.created);
    assert_false(r.index_exists);
    assert_string_equal(f->log.data, "HEAD /tenures\nPUT /tenures\n");
    sent = tu_json(f->body.data);
    assert_true(json_equal(sent, d->body)); /* settings and mappings of the file */
    assert_string_equal(r.concrete_index, "tenures");
    json_decref(sent);
    indexdef_free(d);
    indexdef_report_free(&r);
    entity_free(e);
    es_client_free(c);
}

static void test_prepare_existing_alias_matches_and_differs(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    struct entity *e = shipped_entity("tenures");
    struct indexdef_report r;
    struct ddb2es_error err;
    char *same = mapping_answer("tenures-2024", NULL, NULL);
    char *other = mapping_answer("tenures-2024", "\"startOfTenureDate\":{\"type\":\"date\",\"ignore_malformed\":true}",
                                 "\"startOfTenureDate\":{\"type\":\"text\"}");

    indexdef_report_init(&r);
    fake_answer(f, 200, "");
    fake_answer(f, 200, same);
    assert_int_equal(indexdef_prepare(c, "tenures", e, 1, &r, &err), DDB2ES_OK);
    assert_int_equal(r.outcome, INDEXDEF_EXISTS_MATCHES);
    assert_true(r.index_exists);
    assert_string_equal(r.concrete_index, "tenures-2024");
    assert_string_equal(f->log.data, "HEAD /tenures\nGET /tenures/_mapping\n");

    fake_answer(f, 200, "");
    fake_answer(f, 200, other);
    assert_int_equal(indexdef_prepare(c, "tenures", e, 1, &r, &err), DDB2ES_OK);
    assert_int_equal(r.outcome, INDEXDEF_EXISTS_DIFFERS);
    assert_int_equal(r.ndiffs, 1);
    assert_string_equal(r.diffs[0].text, "startOfTenureDate: expected type date, index has text");
    indexdef_report_free(&r);
    free(same);
    free(other);
    entity_free(e);
    es_client_free(c);
}

static void test_prepare_created_meanwhile(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    struct entity *e = shipped_entity("tenures");
    struct indexdef_report r;
    struct ddb2es_error err;
    struct dbuf exists;
    char *same = mapping_answer("tenures", NULL, NULL);

    load("error-resource-already-exists.json", &exists);
    indexdef_report_init(&r);
    fake_answer(f, 404, "");
    fake_answer(f, 400, exists.data);
    fake_answer(f, 200, same);
    assert_int_equal(indexdef_prepare(c, "tenures", e, 1, &r, &err), DDB2ES_OK);
    assert_int_equal(r.outcome, INDEXDEF_EXISTS_MATCHES);
    assert_true(r.index_exists);
    assert_false(r.created);
    assert_string_equal(f->log.data, "HEAD /tenures\nPUT /tenures\nGET /tenures/_mapping\n");
    indexdef_report_free(&r);
    dbuf_free(&exists);
    free(same);
    entity_free(e);
    es_client_free(c);
}

static void test_prepare_no_definition(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    char dir[128];
    struct entity *e = temp_entity(NULL, dir, sizeof(dir));
    struct indexdef_report r;
    struct ddb2es_error err;

    struct dbuf text = DBUF_INIT;
    char want[512];

    indexdef_report_init(&r);
    /* dry run: nothing created */
    fake_answer(f, 404, "");
    assert_int_equal(indexdef_prepare(c, "rooms", e, 0, &r, &err), DDB2ES_OK);
    assert_int_equal(r.outcome, INDEXDEF_NO_DEFINITION);
    assert_false(r.index_exists);
    assert_false(r.created);
    assert_string_equal(f->log.data, "HEAD /rooms\n");
    /* created empty: default settings, dynamic mapping */
    fake_answer(f, 404, "");
    fake_answer(f, 200, "{\"acknowledged\":true}");
    assert_int_equal(indexdef_prepare(c, "rooms", e, 1, &r, &err), DDB2ES_OK);
    assert_int_equal(r.outcome, INDEXDEF_NO_DEFINITION);
    assert_false(r.index_exists);
    assert_true(r.created);
    assert_string_equal(f->log.data, "HEAD /rooms\nHEAD /rooms\nPUT /rooms\n");
    assert_string_equal(f->body.data, "{}");
    assert_int_equal(indexdef_report_describe(&r, &text), DDB2ES_OK);
    snprintf(want, sizeof(want), "index 'rooms' did not exist: created empty, with no index definition at "
             "%s/rooms-index.json: Elasticsearch maps the fields dynamically\n", dir);
    assert_string_equal(text.data, want);
    /* existing: not compared */
    fake_answer(f, 200, "");
    assert_int_equal(indexdef_prepare(c, "rooms", e, 1, &r, &err), DDB2ES_OK);
    assert_int_equal(r.outcome, INDEXDEF_NO_DEFINITION);
    assert_true(r.index_exists);
    assert_false(r.created);
    assert_string_equal(f->log.data, "HEAD /rooms\nHEAD /rooms\nPUT /rooms\nHEAD /rooms\n");
    dbuf_free(&text);
    indexdef_report_free(&r);
    entity_free(e);
    remove_temp(dir);
    es_client_free(c);
}

static void test_prepare_errors(void **state)
{
    struct fake *f = *state;
    struct es_client *c = fake_client(f, NULL, NULL);
    char dir[128];
    struct entity *bad = temp_entity("{\"mappings\":{\"properties\":{\"id\":{\"type\":[]}}}}", dir, sizeof(dir));
    struct entity *e = shipped_entity("tenures");
    struct indexdef_report r;
    struct ddb2es_error err;

    indexdef_report_init(&r);
    /* an invalid definition is an error before any request */
    assert_int_equal(indexdef_prepare(c, "rooms", bad, 1, &r, &err), DDB2ES_E_CONFIG);
    assert_non_null(strstr(err.message, "rooms-index.json: $.mappings.properties.id.type: expected a string"));
    assert_int_equal(f->requests, 0);
    /* refused credentials */
    fake_answer(f, 401, "{\"error\":\"unauthorized\",\"status\":401}");
    assert_int_equal(indexdef_prepare(c, "tenures", e, 1, &r, &err), DDB2ES_E_AUTH);
    /* creation refused */
    fake_answer(f, 404, "");
    fake_answer(f, 400, "{\"error\":{\"type\":\"illegal_argument_exception\",\"reason\":\"unknown setting\"},"
                        "\"status\":400}");
    assert_int_equal(indexdef_prepare(c, "tenures", e, 1, &r, &err), DDB2ES_E_SERVICE);
    assert_non_null(strstr(err.message, "creating index 'tenures'"));
    /* an alias over two indices */
    fake_answer(f, 200, "");
    fake_answer(f, 200, "{\"a\":{\"mappings\":{}},\"b\":{\"mappings\":{}}}");
    assert_int_equal(indexdef_prepare(c, "tenures", e, 1, &r, &err), DDB2ES_E_USAGE);
    assert_non_null(strstr(err.message, "names 2 indices"));
    indexdef_report_free(&r);
    entity_free(e);
    entity_free(bad);
    remove_temp(dir);
    es_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_files_load_and_entities_point_at_them),
        cmocka_unit_test(test_shipped_against_hackney),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_diff_fields),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_describe),
        cmocka_unit_test_setup_teardown(test_prepare_missing_dry_run, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_prepare_missing_creates, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_prepare_existing_alias_matches_and_differs, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_prepare_created_meanwhile, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_prepare_no_definition, setup_fake, teardown_fake),
        cmocka_unit_test_setup_teardown(test_prepare_errors, setup_fake, teardown_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
