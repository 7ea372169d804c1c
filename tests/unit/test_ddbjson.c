/* test_ddbjson.c - DynamoDB JSON to plain JSON: every type, exact numbers,
 * escaping, depth, and errors that name the attribute path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "ddb2es/ddbjson.h"
#include "testutil.h"

/* Converts one AttributeValue given as text; returns the status, output in *out. */
static int conv(const char *av_text, struct dbuf *out, struct ddb2es_error *err)
{
    json_t *av = tu_json(av_text);
    int rc = ddbjson_value_to_json(out, av, "v", 1, err);

    json_decref(av);
    return rc;
}

/* ---- the reference examples -------------------------------------------- */

static void test_attribute_value_types(void **state)
{
    /* One example of each of the 10 types, from the API reference. */
    static const struct {
        const char *type;
        const char *want;
    } cases[] = {
        {"S", "\"Hello\""},
        {"N", "123.45"},
        {"B", "\"dGhpcyB0ZXh0IGlzIGJhc2U2NC1lbmNvZGVk\""},
        {"BOOL", "true"},
        {"NULL", "null"},
        {"M", "{\"Name\":\"Joe\",\"Age\":35}"},
        {"L", "[\"Cookies\",\"Coffee\",3.14159]"},
        {"SS", "[\"Giraffe\",\"Hippo\",\"Zebra\"]"},
        {"NS", "[42.2,-19,7.5,3.14]"},
        {"BS", "[\"U3Vubnk=\",\"UmFpbnk=\",\"U25vd3k=\"]"},
    };
    json_t *all = tu_json_shared("reference/dynamodb/attribute-value-types.json");
    struct ddb2es_error err;
    size_t i;

    (void)state;
    assert_int_equal(json_object_size(all), 10);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dbuf out = DBUF_INIT;
        const json_t *av = json_object_get(all, cases[i].type);

        assert_non_null(av);
        assert_string_equal(ddbjson_type_name(ddbjson_type_of(av, NULL)), cases[i].type);
        assert_int_equal(ddbjson_value_to_json(&out, av, cases[i].type, 1, &err), DDB2ES_OK);
        assert_string_equal(dbuf_cstr(&out), cases[i].want);
        dbuf_free(&out);
    }
    json_decref(all);
}

static void test_getitem_nested(void **state)
{
    json_t *resp = tu_json_shared("reference/dynamodb/getitem-response.nested-types.json");
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;
    json_t *back;

    (void)state;
    assert_int_equal(ddbjson_item_to_json(&out, json_object_get(resp, "Item"), &err), DDB2ES_OK);
    /* Members keep the order they arrived in. */
    assert_string_equal(dbuf_cstr(&out),
                        "{\"Age\":8,\"Colors\":[\"White\",\"Brown\",\"Black\"],\"Name\":\"Fido\","
                        "\"Vaccinations\":{\"Rabies\":[\"2009-03-17\",\"2011-09-21\",\"2014-07-08\"],"
                        "\"Distemper\":\"2015-10-13\"},\"Breed\":\"Beagle\",\"AnimalType\":\"Dog\"}");
    back = tu_json(dbuf_cstr(&out));
    assert_true(json_is_object(back));
    json_decref(back);
    dbuf_free(&out);
    json_decref(resp);
}

/* ---- types --------------------------------------------------------------- */

static void test_type_of(void **state)
{
    static const struct {
        const char *av;
        enum ddbjson_type want;
    } cases[] = {
        {"{\"S\":\"x\"}", DDBJSON_T_S},
        {"{\"N\":\"1\"}", DDBJSON_T_N},
        {"{\"B\":\"AA==\"}", DDBJSON_T_B},
        {"{\"BOOL\":false}", DDBJSON_T_BOOL},
        {"{\"NULL\":true}", DDBJSON_T_NULL},
        {"{\"M\":{}}", DDBJSON_T_M},
        {"{\"L\":[]}", DDBJSON_T_L},
        {"{\"SS\":[]}", DDBJSON_T_SS},
        {"{\"NS\":[]}", DDBJSON_T_NS},
        {"{\"BS\":[]}", DDBJSON_T_BS},
        /* malformed */
        {"{\"S\":5}", DDBJSON_T_INVALID},
        {"{\"N\":12}", DDBJSON_T_INVALID},
        {"{\"BOOL\":\"true\"}", DDBJSON_T_INVALID},
        {"{\"NULL\":false}", DDBJSON_T_INVALID},
        {"{\"M\":[]}", DDBJSON_T_INVALID},
        {"{\"L\":{}}", DDBJSON_T_INVALID},
        {"{\"SS\":\"a\"}", DDBJSON_T_INVALID},
        {"{\"X\":\"a\"}", DDBJSON_T_INVALID},
        {"{\"s\":\"a\"}", DDBJSON_T_INVALID},
        {"{\"SSS\":[]}", DDBJSON_T_INVALID},
        {"{\"NUL\":true}", DDBJSON_T_INVALID},
        {"{\"S\":\"a\",\"N\":\"1\"}", DDBJSON_T_INVALID},
        {"{}", DDBJSON_T_INVALID},
        {"[]", DDBJSON_T_INVALID},
        {"\"S\"", DDBJSON_T_INVALID},
        {"null", DDBJSON_T_INVALID},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *av = tu_json(cases[i].av);
        const json_t *payload = (const json_t *)&payload;

        if (ddbjson_type_of(av, &payload) != cases[i].want)
            fail_msg("case %zu %s: got %s", i, cases[i].av,
                     ddbjson_type_name(ddbjson_type_of(av, NULL)));
        if (cases[i].want == DDBJSON_T_INVALID)
            assert_null(payload);
        else
            assert_ptr_equal(payload, json_object_iter_value(json_object_iter(av)));
        json_decref(av);
    }
    assert_string_equal(ddbjson_type_name(DDBJSON_T_INVALID), "invalid");
}

/* ---- numbers ------------------------------------------------------------- */

static void test_numbers_exact_and_normalised(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        /* kept exactly: beyond a double's precision or range */
        {"12345678901234567890.123456789", "12345678901234567890.123456789"},
        {"-1E-130", "-1E-130"},
        {"1E-130", "1E-130"},
        {"9.9999999999999999999999999999999999999E+125",
         "9.9999999999999999999999999999999999999E+125"},
        {"-9.9999999999999999999999999999999999999E+125",
         "-9.9999999999999999999999999999999999999E+125"},
        {"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
        {"0.1", "0.1"},
        {"100", "100"},
        {"0", "0"},
        {"-0", "-0"},
        {"1e5", "1e5"},
        {"1E+05", "1E+05"},
        {"2.50", "2.50"},
        /* rewritten only where JSON cannot spell DynamoDB's form */
        {"+5", "5"},
        {"007", "7"},
        {"-007.5", "-7.5"},
        {"00.50", "0.50"},
        {".5", "0.5"},
        {"-.5", "-0.5"},
        {"5.", "5"},
        {"-5.e3", "-5e3"},
        {"+.5e-3", "0.5e-3"},
        {"000", "0"},
        {"0.", "0"},
        /* significant digits, not length, are limited */
        {"1230000000000000000000000000000000000000000", "1230000000000000000000000000000000000000000"},
        {"0.000000000000000000000000000000000000000000000000000001",
         "0.000000000000000000000000000000000000000000000000000001"},
        {"10e-131", "10e-131"},
        {"0e999999999999", "0e999999999999"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dbuf out = DBUF_INIT;
        json_t *back;
        json_error_t je;

        dbuf_puts(&out, "x=");
        if (ddbjson_append_number(&out, cases[i].in, strlen(cases[i].in)) != DDB2ES_OK)
            fail_msg("case %zu %s refused", i, cases[i].in);
        assert_string_equal(dbuf_cstr(&out) + 2, cases[i].want);
        /* The output is a JSON number. */
        back = json_loads(dbuf_cstr(&out) + 2, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
        if (!back)
            fail_msg("case %zu: %s is not JSON: %s", i, dbuf_cstr(&out) + 2, je.text);
        assert_true(json_is_number(back));
        json_decref(back);
        dbuf_free(&out);
    }
}

static void test_numbers_invalid(void **state)
{
    static const char *const bad[] = {
        "", "-", "+", ".", "-.", "e5", "1e", "1e+", "1E-", "1.2.3", " 1", "1 ", "0x10", "NaN",
        "Infinity", "-Infinity", "1,5", "--1", "+-1", "1e5.5", "1e5e5", "1_000", "١",
        /* 39 significant digits */
        "123456789012345678901234567890123456789",
        "1.23456789012345678901234567890123456789",
        /* out of DynamoDB's range */
        "1E126", "1e126", "10E125", "-1E126", "1E-131", "0.1E-130", "1e99999999999999999999",
        "1e-99999999999999999999",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dbuf out = DBUF_INIT;

        dbuf_puts(&out, "keep");
        if (ddbjson_number_check(bad[i], strlen(bad[i])))
            fail_msg("accepted invalid number \"%s\"", bad[i]);
        assert_int_equal(ddbjson_append_number(&out, bad[i], strlen(bad[i])), DDB2ES_E_MAPPING);
        assert_string_equal(dbuf_cstr(&out), "keep");
        dbuf_free(&out);
    }
    /* Length is explicit: a valid prefix of a longer buffer is checked alone. */
    assert_true(ddbjson_number_check("12x", 2));
    assert_false(ddbjson_number_check("12x", 3));
}

static void test_number_errors_name_path(void **state)
{
    const char *item = "{\"id\":{\"S\":\"a\"},\"tenures\":{\"L\":[{\"M\":{}},{\"M\":{}},{\"M\":{}},"
                       "{\"M\":{\"uprn\":{\"N\":\"1e\"}}}]}}";
    json_t *j = tu_json(item);
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;

    (void)state;
    dbuf_puts(&out, "prefix");
    assert_int_equal(ddbjson_item_to_json(&out, j, &err), DDB2ES_E_MAPPING);
    assert_int_equal(err.status, DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "tenures[3].uprn: invalid number \"1e\"");
    assert_string_equal(dbuf_cstr(&out), "prefix");
    json_decref(j);

    /* NS elements are checked too. */
    assert_int_equal(conv("{\"NS\":[\"1\",\"2\",\"x\"]}", &out, &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "v[2]: invalid number \"x\"");
    assert_string_equal(dbuf_cstr(&out), "prefix");
    dbuf_free(&out);
}

/* ---- strings ------------------------------------------------------------- */

static void test_escape(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"", 0, "\"\""},
        {"say \"hi\"", 8, "\"say \\\"hi\\\"\""},
        {"back\\slash", 10, "\"back\\\\slash\""},
        {"a/b", 3, "\"a/b\""},
        {"\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"nul\0in", 6, "\"nul\\u0000in\""},
        {"\x7f", 1, "\"\x7f\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
        {"\xe2\x82\xac 5", 5, "\"\xe2\x82\xac 5\""},
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},
        {"\xef\xbf\xbf\xf4\x8f\xbf\xbf", 7, "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\""},
        {"\xe2\x80\xa8", 3, "\"\xe2\x80\xa8\""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dbuf out = DBUF_INIT;
        json_t *back;
        json_error_t je;

        dbuf_puts(&out, "[");
        assert_int_equal(ddbjson_escape_string(&out, cases[i].in, cases[i].len, DDBJSON_STRICT_UTF8),
                         DDB2ES_OK);
        if (strcmp(dbuf_cstr(&out) + 1, cases[i].want) != 0)
            fail_msg("case %zu: got %s want %s", i, dbuf_cstr(&out) + 1, cases[i].want);
        /* jansson reads back the same bytes. */
        dbuf_puts(&out, "]");
        back = json_loads(dbuf_cstr(&out), JSON_ALLOW_NUL, &je);
        if (!back)
            fail_msg("case %zu: not JSON: %s", i, je.text);
        assert_int_equal(json_string_length(json_array_get(back, 0)), cases[i].len);
        assert_memory_equal(json_string_value(json_array_get(back, 0)), cases[i].in, cases[i].len);
        json_decref(back);
        dbuf_free(&out);
    }
}

static void test_escape_invalid_utf8(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *replaced; /* without DDBJSON_STRICT_UTF8 */
    } cases[] = {
        {"\xff", 1, "\"\xef\xbf\xbd\""},
        {"a\x80z", 3, "\"a\xef\xbf\xbdz\""},                                  /* lone continuation */
        {"\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},                      /* overlong '/' */
        {"\xe0\x80\xaf", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},       /* overlong */
        {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},       /* surrogate */
        {"\xf4\x90\x80\x80", 4,
         "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},             /* > U+10FFFF */
        {"x\xe2\x82", 3, "\"x\xef\xbf\xbd\xef\xbf\xbd\""},                    /* cut short */
        {"\xf5\x80\x80\x80", 4,
         "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"ok\xc3\xa9\xc3", 5, "\"ok\xc3\xa9\xef\xbf\xbd\""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dbuf out = DBUF_INIT;

        dbuf_puts(&out, "keep");
        assert_int_equal(ddbjson_escape_string(&out, cases[i].in, cases[i].len, DDBJSON_STRICT_UTF8),
                         DDB2ES_E_MAPPING);
        assert_string_equal(dbuf_cstr(&out), "keep");
        assert_int_equal(ddbjson_escape_string(&out, cases[i].in, cases[i].len, 0), DDB2ES_OK);
        if (strcmp(dbuf_cstr(&out) + 4, cases[i].replaced) != 0)
            fail_msg("case %zu: got %s", i, dbuf_cstr(&out) + 4);
        dbuf_free(&out);
    }
}

/* Random byte strings: the replacing escape always yields JSON jansson accepts. */
static void test_escape_random_bytes_give_valid_json(void **state)
{
    uint32_t seed = 12345;
    int round;

    (void)state;
    for (round = 0; round < 3000; round++) {
        char in[64];
        size_t len = (size_t)(seed % 64), i;
        struct dbuf out = DBUF_INIT;
        json_t *back;
        json_error_t je;

        for (i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (char)(seed >> 16);
        }
        seed = seed * 1103515245u + 12345u;
        assert_int_equal(ddbjson_escape_string(&out, in, len, 0), DDB2ES_OK);
        back = json_loadb(out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!back)
            fail_msg("round %d: not JSON: %s", round, je.text);
        /* A string that was valid UTF-8 comes back unchanged. */
        if (ddbjson_escape_string(&out, in, len, DDBJSON_STRICT_UTF8) == DDB2ES_OK) {
            assert_int_equal(json_string_length(back), len);
            assert_memory_equal(json_string_value(back), in, len);
        }
        json_decref(back);
        dbuf_free(&out);
    }
}

static void test_string_values(void **state)
{
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(conv("{\"S\":\"line1\\nline2 \\\"q\\\" \\\\ \\u0007 \\u00e9\"}", &out, &err),
                     DDB2ES_OK);
    assert_string_equal(dbuf_cstr(&out), "\"line1\\nline2 \\\"q\\\" \\\\ \\u0007 \xc3\xa9\"");
    dbuf_free(&out);
    /* Member names are escaped too. */
    assert_int_equal(conv("{\"M\":{\"a\\\"b\":{\"S\":\"\"}}}", &out, &err), DDB2ES_OK);
    assert_string_equal(dbuf_cstr(&out), "{\"a\\\"b\":\"\"}");
    dbuf_free(&out);
}

/* A string that was not built by jansson's parser can hold invalid UTF-8. */
static void test_invalid_utf8_in_value_is_an_error(void **state)
{
    json_t *av = json_pack("{s:o}", "S", json_stringn_nocheck("ab\xff", 3));
    json_t *item = json_object();
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;

    (void)state;
    json_object_set_new(item, "name", av);
    assert_int_equal(ddbjson_item_to_json(&out, item, &err), DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "name: string is not valid UTF-8");
    assert_int_equal(out.len, 0);
    json_decref(item);
    dbuf_free(&out);
}

static void test_large_string(void **state)
{
    size_t n = 350 * 1024, i;
    char *big = malloc(n + 1);
    json_t *av;
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;
    json_t *back;

    (void)state;
    for (i = 0; i < n; i++)
        big[i] = (i % 100 == 99) ? '\n' : (char)('a' + i % 26);
    big[n] = '\0';
    av = json_pack("{s:s}", "S", big);
    assert_int_equal(ddbjson_value_to_json(&out, av, "big", 1, &err), DDB2ES_OK);
    assert_int_equal(out.len, n + n / 100 + 2); /* one extra byte per \n escape, two quotes */
    back = json_loadb(out.data, out.len, JSON_DECODE_ANY, NULL);
    assert_non_null(back);
    assert_string_equal(json_string_value(back), big);
    json_decref(back);
    json_decref(av);
    dbuf_free(&out);
    free(big);
}

/* ---- structure ------------------------------------------------------------ */

static void test_empty_and_binary(void **state)
{
    static const struct {
        const char *av;
        const char *want;
    } cases[] = {
        {"{\"M\":{}}", "{}"},
        {"{\"L\":[]}", "[]"},
        {"{\"SS\":[]}", "[]"},
        {"{\"S\":\"\"}", "\"\""},
        {"{\"B\":\"\"}", "\"\""},
        {"{\"B\":\"AAEC/w==\"}", "\"AAEC/w==\""},
        /* base64 is passed as is, not checked or decoded */
        {"{\"B\":\"not base64!\"}", "\"not base64!\""},
        {"{\"BS\":[\"AA==\",\"AQ==\"]}", "[\"AA==\",\"AQ==\"]"},
        {"{\"L\":[{\"NULL\":true},{\"BOOL\":false},{\"L\":[{\"N\":\"-0.5\"}]},{\"M\":{\"k\":{\"SS\":[\"x\"]}}}]}",
         "[null,false,[-0.5],{\"k\":[\"x\"]}]"},
        {"{\"NS\":[\"+1\",\".5\",\"1E+2\"]}", "[1,0.5,1E+2]"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dbuf out = DBUF_INIT;
        struct ddb2es_error err;

        assert_int_equal(conv(cases[i].av, &out, &err), DDB2ES_OK);
        assert_string_equal(dbuf_cstr(&out), cases[i].want);
        dbuf_free(&out);
    }
}

/* Builds {"M":{"a":{"M":{"a":...{"S":"leaf"}}}}} with `levels` maps. */
static json_t *nested_maps(int levels, const char *kind)
{
    json_t *v = json_pack("{s:s}", "S", "leaf");
    int i;

    for (i = 0; i < levels; i++) {
        if (strcmp(kind, "M") == 0)
            v = json_pack("{s:{s:o}}", "M", "a", v);
        else
            v = json_pack("{s:[o]}", "L", v);
    }
    return v;
}

static void test_depth_limit(void **state)
{
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;
    json_t *ok = nested_maps(DDBJSON_MAX_DEPTH, "M");
    json_t *deep = nested_maps(DDBJSON_MAX_DEPTH + 1, "M");
    json_t *deepl = nested_maps(DDBJSON_MAX_DEPTH + 1, "L");
    json_t *item;
    char want[512];
    int i;

    (void)state;
    /* 32 levels, DynamoDB's limit, pass. */
    assert_int_equal(ddbjson_value_to_json(&out, ok, "top", 1, &err), DDB2ES_OK);
    assert_non_null(strstr(dbuf_cstr(&out), "\"a\":\"leaf\"}"));
    dbuf_reset(&out);
    /* 33 are refused, naming where. */
    assert_int_equal(ddbjson_value_to_json(&out, deep, "top", 1, &err), DDB2ES_E_MAPPING);
    snprintf(want, sizeof(want), "top");
    for (i = 0; i < DDBJSON_MAX_DEPTH; i++)
        strncat(want, ".a", sizeof(want) - strlen(want) - 1);
    strncat(want, ": nested deeper than 32 levels", sizeof(want) - strlen(want) - 1);
    assert_string_equal(err.message, want);
    assert_int_equal(out.len, 0);
    assert_int_equal(ddbjson_value_to_json(&out, deepl, "l", 1, &err), DDB2ES_E_MAPPING);
    assert_non_null(strstr(err.message, "l[0][0][0]"));
    assert_non_null(strstr(err.message, "nested deeper than 32 levels"));
    /* The depth given by the caller counts: at level 2 the 32-map chain is one too deep. */
    assert_int_equal(ddbjson_value_to_json(&out, ok, "x", 2, &err), DDB2ES_E_MAPPING);
    /* Through an item: the attribute is level 1. */
    item = json_pack("{s:O}", "top", ok);
    assert_int_equal(ddbjson_item_to_json(&out, item, &err), DDB2ES_OK);
    json_decref(item);
    item = json_pack("{s:O}", "top", deep);
    assert_int_equal(ddbjson_item_to_json(&out, item, &err), DDB2ES_E_MAPPING);
    json_decref(item);
    json_decref(ok);
    json_decref(deep);
    json_decref(deepl);
    dbuf_free(&out);
}

static void test_malformed_values_name_path(void **state)
{
    static const struct {
        const char *item;
        const char *msg;
    } cases[] = {
        {"{\"a\":{\"S\":5}}", "a: malformed attribute value: \"S\" must hold a string"},
        {"{\"a\":{\"M\":{\"b\":{\"BOOL\":1}}}}", "a.b: malformed attribute value: \"BOOL\" must hold true or false"},
        {"{\"a\":{\"NULL\":false}}", "a: malformed attribute value: \"NULL\" must hold true"},
        {"{\"a\":{\"L\":[{\"S\":\"x\"},{\"Q\":\"y\"}]}}", "a[1]: malformed attribute value: unknown type \"Q\""},
        {"{\"a\":{\"S\":\"x\",\"N\":\"1\"}}",
         "a: malformed attribute value: expected an object with exactly one type member (S, N, B, "
         "BOOL, NULL, M, L, SS, NS or BS)"},
        {"{\"a\":\"plain\"}",
         "a: malformed attribute value: expected an object with exactly one type member (S, N, B, "
         "BOOL, NULL, M, L, SS, NS or BS)"},
        {"{\"tags\":{\"SS\":[\"x\",1]}}", "tags[1]: SS element is not a string"},
        {"{\"b\":{\"BS\":[null]}}", "b[0]: BS element is not a string"},
        {"{\"x.y\":{\"M\":{\"k k\":{\"L\":[{\"N\":\"z\"}]}}}}", "[\"x.y\"][\"k k\"][0]: invalid number \"z\""},
        {"{\"q\":{\"M\":{\"\":{\"N\":\"z\"}}}}", "q[\"\"]: invalid number \"z\""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *item = tu_json(cases[i].item);
        struct dbuf out = DBUF_INIT;
        struct ddb2es_error err;

        assert_int_equal(ddbjson_item_to_json(&out, item, &err), DDB2ES_E_MAPPING);
        if (strcmp(err.message, cases[i].msg) != 0)
            fail_msg("case %zu: got '%s' want '%s'", i, err.message, cases[i].msg);
        assert_int_equal(out.len, 0);
        json_decref(item);
        dbuf_free(&out);
    }
}

static void test_item_not_object(void **state)
{
    json_t *arr = json_array();
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;

    (void)state;
    assert_int_equal(ddbjson_item_to_json(&out, arr, &err), DDB2ES_E_MAPPING);
    assert_non_null(strstr(err.message, "item is not a JSON object"));
    json_decref(arr);
    dbuf_free(&out);
}

static void test_path_format(void **state)
{
    struct ddbjson_path p = DDBJSON_PATH_INIT;
    char buf[64];
    int i;

    (void)state;
    assert_string_equal(ddbjson_path_format(&p, buf, sizeof(buf)), "(item)");
    ddbjson_path_push_key(&p, "tenures", 7);
    ddbjson_path_push_index(&p, 3);
    ddbjson_path_push_key(&p, "uprn", 4);
    assert_string_equal(ddbjson_path_format(&p, buf, sizeof(buf)), "tenures[3].uprn");
    ddbjson_path_pop(&p);
    ddbjson_path_push_key(&p, "a\"b\n", 4);
    assert_string_equal(ddbjson_path_format(&p, buf, sizeof(buf)), "tenures[3][\"a\\\"b\\x0a\"]");
    p.n = 0;
    ddbjson_path_push_raw(&p, "pre.fix[2]");
    ddbjson_path_push_key(&p, "k", 1);
    assert_string_equal(ddbjson_path_format(&p, buf, sizeof(buf)), "pre.fix[2].k");
    /* Truncated to the buffer, always terminated. */
    assert_string_equal(ddbjson_path_format(&p, buf, 6), "pre.f");
    /* Deeper than kept: marked, never overflowing. */
    p.n = 0;
    for (i = 0; i < DDBJSON_PATH_MAX + 5; i++)
        ddbjson_path_push_index(&p, 0);
    assert_int_equal(p.n, DDBJSON_PATH_MAX + 5);
    ddbjson_path_format(&p, buf, sizeof(buf));
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    for (i = 0; i < DDBJSON_PATH_MAX + 10; i++)
        ddbjson_path_pop(&p);
    assert_int_equal(p.n, 0);
}

static void test_appends_and_restores(void **state)
{
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;

    (void)state;
    dbuf_puts(&out, "head,");
    assert_int_equal(conv("{\"M\":{\"a\":{\"N\":\"1\"}}}", &out, &err), DDB2ES_OK);
    assert_string_equal(dbuf_cstr(&out), "head,{\"a\":1}");
    /* A failure deep inside a value leaves nothing of it behind. */
    assert_int_equal(conv("{\"M\":{\"a\":{\"N\":\"1\"},\"b\":{\"L\":[{\"S\":\"x\"},{\"N\":\"bad\"}]}}}",
                          &out, &err),
                     DDB2ES_E_MAPPING);
    assert_string_equal(err.message, "v.b[1]: invalid number \"bad\"");
    assert_string_equal(dbuf_cstr(&out), "head,{\"a\":1}");
    /* A NULL err is allowed. */
    assert_int_equal(conv("{\"N\":\"x\"}", &out, NULL), DDB2ES_E_MAPPING);
    dbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attribute_value_types),
        cmocka_unit_test(test_getitem_nested),
        cmocka_unit_test(test_type_of),
        cmocka_unit_test(test_numbers_exact_and_normalised),
        cmocka_unit_test(test_numbers_invalid),
        cmocka_unit_test(test_number_errors_name_path),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_invalid_utf8),
        cmocka_unit_test(test_escape_random_bytes_give_valid_json),
        cmocka_unit_test(test_string_values),
        cmocka_unit_test(test_invalid_utf8_in_value_is_an_error),
        cmocka_unit_test(test_large_string),
        cmocka_unit_test(test_empty_and_binary),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_malformed_values_name_path),
        cmocka_unit_test(test_item_not_object),
        cmocka_unit_test(test_path_format),
        cmocka_unit_test(test_appends_and_restores),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
