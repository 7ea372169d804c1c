/*
 * test_orphans.c - the pieces of the orphans module that do no I/O: the
 * SipHash-128 reference vectors, the id hash set (inserts, lookups, growth,
 * memory per id, bucket and hash collisions, verify's marks), reviewed
 * candidate files, and the comparison of documents as JSON values.
 * The jobs are tested end to end in tests/integration/test_orphans.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/buf.h"
#include "ddb2es/error.h"
#include "ddb2es/orphans.h"

static const unsigned char KEY[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* ---------------------------------------------------------------- SipHash */

/* From the reference implementation's vectors.h (vectors_sip128): key 00..0f, message 00..len-1. */
static const struct {
    size_t len;
    unsigned char out[16];
} sip_cases[] = {
    {0, {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93}},
    {1, {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45}},
    {7, {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f, 0xf0, 0x82, 0x39}},
    {8, {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3, 0x14, 0x97, 0xb4}},
    {15, {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3, 0xd9}},
    {16, {0x6e, 0xe2, 0xa4, 0xca, 0x67, 0xb0, 0x54, 0xbb, 0xfd, 0x33, 0x15, 0xbf, 0x85, 0x23, 0x05, 0x77}},
    {34, {0x37, 0xa6, 0x98, 0x6c, 0xb8, 0x84, 0x7e, 0xdf, 0x09, 0x25, 0xf0, 0xf1, 0x30, 0x9b, 0x54, 0xde}},
    {63, {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97, 0x3f, 0xbd, 0x7c}},
};

static void test_siphash_vectors(void **state)
{
    unsigned char msg[64], out[16];
    (void)state;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof(sip_cases) / sizeof(sip_cases[0]); i++) {
        print_message("  length %zu\n", sip_cases[i].len);
        orphans_siphash128(KEY, msg, sip_cases[i].len, out);
        assert_memory_equal(out, sip_cases[i].out, 16);
    }
}

/* The set's hash is that function under the set's key. */
static void test_set_hash_is_siphash(void **state)
{
    struct orphans_set *s = orphans_set_new(0, KEY, NULL);
    struct orphans_hash h;
    unsigned char out[16];
    uint64_t lo = 0, hi = 0;
    (void)state;

    orphans_set_hash(s, "b69e6519-3712-4509-a30e-0b5af596915b", 36, &h);
    orphans_siphash128(KEY, "b69e6519-3712-4509-a30e-0b5af596915b", 36, out);
    for (int i = 7; i >= 0; i--) {
        lo = lo << 8 | out[i];
        hi = hi << 8 | out[8 + i];
    }
    assert_true(h.lo == lo && h.hi == hi);
    orphans_set_free(s);
    orphans_set_free(NULL);
}

/* --------------------------------------------------------------- the set */

static void uuid_like(size_t i, unsigned salt, char out[48])
{
    /* distinct for distinct (i, salt), shaped like the ids of Hackney's tables */
    snprintf(out, 48, "%08x-%04x-4%03x-a%03x-%012zx", (unsigned)(i * 2654435761u) & 0xffffffffu, salt & 0xffff,
             (unsigned)(i & 0xfff), (unsigned)((i >> 12) & 0xfff), i);
}

static void test_set_insert_lookup(void **state)
{
    struct orphans_set *s = orphans_set_new(1000, NULL, NULL);
    char id[48];
    bool added;
    size_t i, n = 50000, false_hits = 0;
    (void)state;

    assert_non_null(s);
    for (i = 0; i < n; i++) {
        uuid_like(i, 1, id);
        assert_int_equal(orphans_set_add(s, id, strlen(id), &added, NULL), DDB2ES_OK);
        assert_true(added);
    }
    assert_int_equal(orphans_set_count(s), n);
    /* adding again changes nothing */
    for (i = 0; i < n; i += 7) {
        uuid_like(i, 1, id);
        assert_int_equal(orphans_set_add(s, id, strlen(id), &added, NULL), DDB2ES_OK);
        assert_false(added);
    }
    assert_int_equal(orphans_set_count(s), n);
    for (i = 0; i < n; i++) {
        uuid_like(i, 1, id);
        assert_true(orphans_set_contains(s, id, strlen(id)));
        uuid_like(i, 2, id); /* never added */
        false_hits += orphans_set_contains(s, id, strlen(id));
    }
    assert_int_equal(false_hits, 0);
    /* length matters: a prefix is another id; the empty id is an id */
    assert_false(orphans_set_contains(s, id, strlen(id) - 1));
    assert_false(orphans_set_contains(s, "", 0));
    assert_int_equal(orphans_set_add(s, "", 0, &added, NULL), DDB2ES_OK);
    assert_true(added && orphans_set_contains(s, "", 0));
    orphans_set_free(s);
}

/* Growth from the smallest table: doubling, load never above 3/4, everything still found. */
static void test_set_growth(void **state)
{
    struct orphans_set *s = orphans_set_new(0, KEY, NULL);
    size_t slots = orphans_set_slots(s), grew = 0, n = 100000;
    char id[48];
    (void)state;

    assert_int_equal(slots, 64);
    for (size_t i = 0; i < n; i++) {
        uuid_like(i, 3, id);
        assert_int_equal(orphans_set_add(s, id, strlen(id), NULL, NULL), DDB2ES_OK);
        if (orphans_set_slots(s) != slots) {
            assert_int_equal(orphans_set_slots(s), slots * 2);
            slots = orphans_set_slots(s);
            grew++;
        }
        assert_true(orphans_set_count(s) * 4 <= orphans_set_slots(s) * 3);
    }
    print_message("  %zu doublings to %zu slots\n", grew, slots);
    assert_int_equal(slots, 262144); /* 100000 / 0.75 -> the next power of two above 133334 */
    for (size_t i = 0; i < n; i++) {
        uuid_like(i, 3, id);
        assert_true(orphans_set_contains(s, id, strlen(id)));
    }
    orphans_set_free(s);
}

/* Memory per id stays within the budget at every size, sized from ItemCount or grown. */
static void test_set_memory_per_id(void **state)
{
    static const size_t sizes[] = {1000, 10000, 49153, 100000, 196609, 300000};
    char id[48];
    (void)state;

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (int hinted = 0; hinted < 2; hinted++) {
            struct orphans_set *s = orphans_set_new(hinted ? sizes[k] : 0, NULL, NULL);
            double per;

            for (size_t i = 0; i < sizes[k]; i++) {
                uuid_like(i, 4, id);
                orphans_set_add(s, id, strlen(id), NULL, NULL);
            }
            per = (double)orphans_set_bytes(s) / (double)orphans_set_count(s);
            print_message("  %zu ids (%s): %.1f bytes per id\n", sizes[k], hinted ? "sized" : "grown", per);
            assert_true(per <= 64.0);
            assert_true(per >= 16.0 * 4 / 3 - 0.01); /* at most 3/4 full */
            orphans_set_free(s);
        }
    }
}

/* Hashes sharing a bucket (same low bits) probe on; the same 127-bit hash is one entry. */
static void test_set_collisions(void **state)
{
    struct orphans_set *s = orphans_set_new(0, KEY, NULL);
    struct orphans_hash h;
    bool added;
    size_t i;
    (void)state;

    /* 60 hashes in the last bucket: the run wraps around to slot 0, then the table grows under it */
    for (i = 0; i < 60; i++) {
        h.lo = 63 | (UINT64_C(1) << 40); /* bucket 63 of 64, and of every larger table */
        h.hi = i + 1;
        assert_int_equal(orphans_set_add_hash(s, &h, &added, NULL), DDB2ES_OK);
        assert_true(added);
    }
    assert_int_equal(orphans_set_count(s), 60);
    assert_int_equal(orphans_set_slots(s), 128);
    for (i = 0; i < 60; i++) {
        h.lo = 63 | (UINT64_C(1) << 40);
        h.hi = i + 1;
        assert_true(orphans_set_contains_hash(s, &h));
    }
    h.hi = 61;
    assert_false(orphans_set_contains_hash(s, &h));
    /* the same hash again: present, not added; the top bit of hi is not part of the hash */
    h.hi = 5;
    assert_int_equal(orphans_set_add_hash(s, &h, &added, NULL), DDB2ES_OK);
    assert_false(added);
    h.hi = 5 | (UINT64_C(1) << 63);
    assert_true(orphans_set_contains_hash(s, &h));
    /* the all-zero hash is storable (as lo = 1) and does not look like an empty slot */
    h.lo = h.hi = 0;
    assert_false(orphans_set_contains_hash(s, &h));
    assert_int_equal(orphans_set_add_hash(s, &h, &added, NULL), DDB2ES_OK);
    assert_true(added);
    assert_true(orphans_set_contains_hash(s, &h));
    assert_int_equal(orphans_set_count(s), 61);
    orphans_set_free(s);
}

/* Verify's marks: first mark counted once, kept across growth, unmarked ids named. */
static void test_set_marks(void **state)
{
    struct orphans_set *s = orphans_set_new(0, KEY, NULL);
    char id[48];
    bool first;
    size_t i, n = 5000;
    (void)state;

    for (i = 0; i < n / 2; i++) {
        uuid_like(i, 5, id);
        orphans_set_add(s, id, strlen(id), NULL, NULL);
    }
    for (i = 0; i < n / 2; i += 2) {
        uuid_like(i, 5, id);
        assert_true(orphans_set_mark(s, id, strlen(id), &first));
        assert_true(first);
        assert_true(orphans_set_mark(s, id, strlen(id), &first));
        assert_false(first);
    }
    for (i = n / 2; i < n; i++) { /* grows with marks in the table */
        uuid_like(i, 5, id);
        orphans_set_add(s, id, strlen(id), NULL, NULL);
    }
    assert_int_equal(orphans_set_marked(s), n / 4);
    for (i = 0; i < n; i++) {
        uuid_like(i, 5, id);
        assert_true(orphans_set_contains(s, id, strlen(id)));
        assert_int_equal(orphans_set_unmarked(s, id, strlen(id)), !(i < n / 2 && i % 2 == 0));
    }
    assert_false(orphans_set_mark(s, "absent", 6, &first));
    assert_false(orphans_set_unmarked(s, "absent", 6));
    orphans_set_free(s);
}

/* ------------------------------------------------------- candidate files */

static void test_list_parse(void **state)
{
    static const char bulk[] =
        "{\"delete\":{\"_index\":\"persons\",\"_id\":\"a\",\"if_seq_no\":5,\"if_primary_term\":1}}\n"
        "\n"
        "  {\"delete\":{\"_index\":\"persons\",\"_id\":\"b\\\"q\",\"if_seq_no\":0,\"if_primary_term\":2}}\r\n";
    static const char json[] = "[{\"id\":\"a\",\"seq_no\":7,\"primary_term\":1,\"_source\":{\"x\":1}},"
                               "{\"id\":\"c\",\"seq_no\":8,\"primary_term\":3}]";
    static const struct {
        const char *text, *needle;
    } bad[] = {
        {"a\nb\n", "plain id list"},
        {"{\"delete\":{\"_index\":\"persons\",\"_id\":\"a\"}}\n", "if_seq_no"},
        {"{\"delete\":{\"_index\":\"other\",\"_id\":\"a\",\"if_seq_no\":1,\"if_primary_term\":1}}\n", "'other'"},
        {"{\"index\":{\"_index\":\"persons\",\"_id\":\"a\"}}\n", "only {\"delete\""},
        {"[{\"id\":\"a\"}]", "seq_no"},
        {"[{\"seq_no\":1,\"primary_term\":1}]", "no \"id\""},
        {"[1,", "not a JSON array"},
    };
    struct orphans_list l;
    struct ddb2es_error err;
    (void)state;

    orphans_list_init(&l);
    assert_int_equal(orphans_list_parse(bulk, strlen(bulk), "f.ndjson", "persons", &l, &err), DDB2ES_OK);
    assert_int_equal(orphans_list_parse(json, strlen(json), "f.json", "persons", &l, &err), DDB2ES_OK);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].id, "a");
    assert_int_equal(l.v[0].seq_no, 5);
    assert_int_equal(l.v[0].primary_term, 1);
    assert_string_equal(l.v[1].id, "b\"q");
    assert_int_equal(l.v[1].seq_no, 0);
    assert_int_equal(l.v[1].primary_term, 2);
    assert_string_equal(l.v[3].id, "c");
    assert_int_equal(l.v[3].primary_term, 3);
    orphans_list_free(&l);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        orphans_list_init(&l);
        ddb2es_error_clear(&err);
        assert_int_equal(orphans_list_parse(bad[i].text, strlen(bad[i].text), "f", "persons", &l, &err),
                         DDB2ES_E_USAGE);
        print_message("  %s\n", err.message);
        assert_non_null(strstr(err.message, bad[i].needle));
        orphans_list_free(&l);
    }
}

/* ------------------------------------------------------------ JSON values */

static const struct {
    const char *a, *b;
    bool differ;
    const char *path;
} diff_cases[] = {
    {"{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1}", false, ""},               /* member order */
    {"{\"n\":1.50}", "{\"n\":15e-1}", false, ""},                               /* numbers by value */
    {"{\"n\":100}", "{\"n\":1E2}", false, ""},
    {"{\"n\":-0.0}", "{\"n\":0}", false, ""},
    {"{\"n\":0.000}", "{\"n\":0e99}", false, ""},
    {"{\"n\":123456789012345678901234567890}", "{\"n\":1.23456789012345678901234567890e29}", false, ""},
    {"{\"n\":123456789012345678901234567890}", "{\"n\":123456789012345678901234567891}", true, "n"},
    {"{\"n\":0.1}", "{\"n\":0.10000000000000001}", true, "n"},                  /* equal as doubles, not as values */
    {"{\"s\":\"caf\\u00e9 \\/\"}", "{\"s\":\"caf\xc3\xa9 /\"}", false, ""},     /* strings after unescaping */
    {"{\"s\":\"1\"}", "{\"s\":1}", true, "s"},                                  /* types matter */
    {"{\"s\":null}", "{}", true, "s"},                                          /* null is not absent */
    {"{\"t\":true}", "{\"t\":false}", true, "t"},
    {"{\"a\":{\"b\":[{\"c\":1},{\"c\":2}]}}", "{\"a\":{\"b\":[{\"c\":1},{\"c\":3}]}}", true, "a.b[1].c"},
    {"{\"l\":[1,2]}", "{\"l\":[1,2,3]}", true, "l[2]"},
    {"{\"l\":[2,1]}", "{\"l\":[1,2]}", true, "l[0]"},                           /* arrays keep their order */
    {"{\"x.y\":1}", "{\"x.y\":2}", true, "[\"x.y\"]"},
    {"{\"a\":1}", "{\"a\":1,\"z\":2}", true, "z"},
    {"[]", "{}", true, ""},
    {"  {\"big\":1e999999999999999999}", "{\"big\":1e999999999999999999}\n", false, ""},
};

static void test_json_diff(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(diff_cases) / sizeof(diff_cases[0]); i++) {
        char path[128];
        bool d = !diff_cases[i].differ;

        print_message("  case %zu\n", i);
        assert_int_equal(orphans_json_diff(diff_cases[i].a, strlen(diff_cases[i].a), diff_cases[i].b,
                                           strlen(diff_cases[i].b), &d, path, sizeof(path), NULL),
                         DDB2ES_OK);
        assert_int_equal(d, diff_cases[i].differ);
        assert_string_equal(path, diff_cases[i].path);
        /* symmetric */
        assert_int_equal(orphans_json_diff(diff_cases[i].b, strlen(diff_cases[i].b), diff_cases[i].a,
                                           strlen(diff_cases[i].a), &d, path, sizeof(path), NULL),
                         DDB2ES_OK);
        assert_int_equal(d, diff_cases[i].differ);
    }
}

static void test_json_diff_refuses_bad_json(void **state)
{
    static const char *bad[] = {"{", "{\"a\":}", "[1,]", "{\"a\":1} x", "", "01", "{\"a\":\"\x01\"}"};
    struct ddb2es_error err;
    bool d;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(orphans_json_diff(bad[i], strlen(bad[i]), "{}", 2, &d, NULL, 0, &err), DDB2ES_E_PROTOCOL);
        assert_int_equal(orphans_json_diff("{}", 2, bad[i], strlen(bad[i]), &d, NULL, 0, &err), DDB2ES_E_PROTOCOL);
    }
    /* nesting deeper than the scanner allows is refused, not a stack overflow */
    {
        struct dbuf deep = DBUF_INIT;
        for (int i = 0; i < 100000; i++)
            dbuf_putc(&deep, '[');
        assert_int_equal(orphans_json_diff(deep.data, deep.len, "[]", 2, &d, NULL, 0, &err), DDB2ES_E_PROTOCOL);
        dbuf_free(&deep);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_vectors),
        cmocka_unit_test(test_set_hash_is_siphash),
        cmocka_unit_test(test_set_insert_lookup),
        cmocka_unit_test(test_set_growth),
        cmocka_unit_test(test_set_memory_per_id),
        cmocka_unit_test(test_set_collisions),
        cmocka_unit_test(test_set_marks),
        cmocka_unit_test(test_list_parse),
        cmocka_unit_test(test_json_diff),
        cmocka_unit_test(test_json_diff_refuses_bad_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
