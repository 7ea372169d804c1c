/* test_entity_set.c - entity files on disk: reading errors, the shipped
 * set, and sets of several directories (override, name checks, a table
 * claimed twice). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ddb2es/ddbjson.h"
#include "entity_test_util.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_shipped_set),
        cmocka_unit_test(test_set_override_and_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
