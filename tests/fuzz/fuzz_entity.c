/*
 * fuzz_entity.c - libFuzzer target for the entity loader, the item mapper
 * and the DynamoDB JSON converter.
 *
 * Input: ENTITY_TEXT '\0' ITEM_JSON. Without a NUL byte the whole input is
 * tried both as an entity file and as an item. When the entity text does not
 * load, the item is mapped with a built-in entity that uses every field type,
 * policy and computation. Oracles (a violation traps):
 *   - a mapped document and every converted item parse back as JSON, and a
 *     document is a JSON object;
 *   - the id is 1..ENTITY_ID_MAX bytes;
 *   - on failure the status is MAPPING or NOMEM, the message is not empty and
 *     both output buffers hold exactly what they held before the call;
 *   - escaping any bytes yields a JSON string; strict mode agrees with it.
 *
 * Build (from the repository root):
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Icore \
 *     tests/fuzz/fuzz_entity.c core/entity*.c core/ddbjson.c core/jscan.c core/util.c core/buf.c core/error.c \
 *     -ljansson -o build/fuzz/fuzz_entity
 * Run: build/fuzz/fuzz_entity -dict=tests/fuzz/fuzz_entity.dict -max_total_time=60 \
 *        build/fuzz/corpus-entity tests/fuzz/corpus/entity
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddb2es/ddbjson.h"
#include "ddb2es/entity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char builtin_entity[] =
    "{\"name\":\"fuzz\",\"tables\":[\"Fuzz\"],\"id\":\"id\",\"version\":\"v\",\"index\":\"i.json\","
    "\"fields\":{"
    "\"id\":{\"from\":\"id\"},"
    "\"s\":{\"from\":\"s\",\"missing\":\"default\",\"default\":\"\",\"mismatch\":\"null\"},"
    "\"n\":{\"from\":\"n\",\"type\":\"number\",\"mismatch\":\"omit\"},"
    "\"b\":{\"from\":\"b\",\"type\":\"boolean\",\"mismatch\":\"default\",\"default\":false},"
    "\"sl\":{\"from\":\"sl\",\"type\":\"string_list\",\"mismatch\":\"null\"},"
    "\"r\":{\"from\":\"r\",\"type\":\"raw\"},"
    "\"deep\":{\"from\":\"m.a.b\",\"mismatch\":\"null\"},"
    "\"o\":{\"from\":\"m\",\"type\":\"object\",\"mismatch\":\"null\",\"fields\":{"
    "  \"a\":{\"from\":\"a\",\"type\":\"raw\"},\"x\":{\"from\":\"x\",\"null\":\"omit\"}}},"
    "\"l\":{\"from\":\"l\",\"type\":\"list\",\"mismatch\":\"omit\",\"fields\":{"
    "  \"s\":{\"from\":\"s\",\"mismatch\":\"null\"},\"t\":{\"from\":\"t\",\"type\":\"boolean\"},"
    "  \"in\":{\"from\":\"in\",\"type\":\"list\",\"fields\":{\"z\":{\"from\":\"z\",\"type\":\"raw\"}}}}},"
    "\"act\":{\"compute\":\"tenure_active\",\"from\":\"end\"},"
    "\"c\":{\"const\":{\"k\":[1,0.5,\"x\",null]}}"
    "}}";

static void check_json(const char *text, size_t len, int must_be_object)
{
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
                           NULL);

    if (!j || (must_be_object && !json_is_object(j)))
        __builtin_trap();
    json_decref(j);
}

static void map_one(const struct entity *e, const json_t *item)
{
    struct dbuf doc = DBUF_INIT, id = DBUF_INIT;
    struct entity_map_opts o = {1735689600};
    struct ddb2es_error err;
    long long v;
    int rc;

    dbuf_puts(&doc, "pre");
    dbuf_puts(&id, "p");
    rc = entity_map_item(e, item, &o, &doc, &id, &err);
    if (rc == DDB2ES_OK) {
        if (id.len <= 1 || id.len - 1 > ENTITY_ID_MAX || memcmp(doc.data, "pre", 3) != 0)
            __builtin_trap();
        check_json(doc.data + 3, doc.len - 3, 1);
    } else {
        if ((rc != DDB2ES_E_MAPPING && rc != DDB2ES_E_NOMEM) || err.status != rc ||
            err.message[0] == '\0' || strcmp(dbuf_cstr(&doc), "pre") != 0 ||
            strcmp(dbuf_cstr(&id), "p") != 0)
            __builtin_trap();
    }
    dbuf_reset(&id);
    (void)entity_item_id(e, item, &id, &err);
    (void)entity_item_version(e, item, &v, &err);
    dbuf_free(&doc);
    dbuf_free(&id);
}

static void convert_item(const json_t *item)
{
    struct dbuf out = DBUF_INIT;
    struct ddb2es_error err;

    if (ddbjson_item_to_json(&out, item, &err) == DDB2ES_OK)
        check_json(out.data, out.len, 1);
    else if (out.len != 0)
        __builtin_trap();
    dbuf_free(&out);
}

static void escape_bytes(const uint8_t *data, size_t size)
{
    struct dbuf out = DBUF_INIT, strict = DBUF_INIT;
    int rc;

    if (ddbjson_escape_string(&out, (const char *)data, size, 0) != DDB2ES_OK)
        __builtin_trap();
    check_json(out.data, out.len, 0);
    rc = ddbjson_escape_string(&strict, (const char *)data, size, DDBJSON_STRICT_UTF8);
    /* Strict succeeds exactly when nothing had to be replaced. */
    if (rc == DDB2ES_OK && (strict.len != out.len || memcmp(strict.data, out.data, out.len) != 0))
        __builtin_trap();
    if (rc != DDB2ES_OK && strict.len != 0)
        __builtin_trap();
    dbuf_free(&out);
    dbuf_free(&strict);
    if (size < 64)
        (void)ddbjson_number_check((const char *)data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    const char *etext = (const char *)data;
    size_t elen = nul ? (size_t)(nul - data) : size;
    const char *itext = nul ? (const char *)nul + 1 : (const char *)data;
    size_t ilen = nul ? size - elen - 1 : size;
    struct entity *e = NULL, *fallback = NULL;
    struct ddb2es_error err;
    json_t *item;

    if (entity_load_buffer(etext, elen, "fuzz.json", &e, &err) != DDB2ES_OK) {
        if (e || err.message[0] == '\0')
            __builtin_trap();
        if (entity_load_buffer(builtin_entity, sizeof(builtin_entity) - 1, "builtin", &fallback,
                               &err) != DDB2ES_OK)
            __builtin_trap();
    }
    item = json_loadb(itext, ilen, JSON_DECODE_ANY, NULL);
    if (item) {
        map_one(e ? e : fallback, item);
        convert_item(item);
        json_decref(item);
    }
    escape_bytes(data, size < 4096 ? size : 4096);
    entity_free(e);
    entity_free(fallback);
    return 0;
}
