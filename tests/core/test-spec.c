/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-spec.h"

static GVariant *dict_from_text(const char *text)
{
    g_autoptr(GError) error = NULL;
    GVariant *v = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

    if (v == NULL)
        fail_msg("bad test input '%s': %s", text, error->message);
    return v; /* g_variant_parse() gives a full reference, not a floating one */
}

static void test_variant_ok(void **state)
{
    g_autoptr(GVariant) d = dict_from_text(
        "{'name': <'dev-1'>, 'vcpus': <uint32 4>, 'memory_max': <uint64 8589934592>,"
        " 'memory_min': <'1G'>, 'disk_size': <int64 21474836480>,"
        " 'base_image': <'/var/lib/hocusd/guest/base.qcow2'>, 'cmdline_extra': <'quiet'>}");
    g_autoptr(GError) error = NULL;
    g_autoptr(HdSpec) s = hd_spec_from_variant(d, &error);

    assert_null(error);
    assert_string_equal(s->name, "dev-1");
    assert_int_equal(s->vcpus, 4);
    assert_int_equal(s->memory_max, 8 * HD_GiB);
    assert_int_equal(s->memory_min, HD_GiB);
    assert_int_equal(s->disk_size, 20 * HD_GiB);
    assert_string_equal(s->base_image, "/var/lib/hocusd/guest/base.qcow2");
    assert_string_equal(s->cmdline_extra, "quiet");
    assert_null(s->kernel);
    assert_int_equal(s->present, HD_SPEC_NAME | HD_SPEC_VCPUS | HD_SPEC_MEMORY_MAX |
                                     HD_SPEC_MEMORY_MIN | HD_SPEC_DISK_SIZE | HD_SPEC_BASE_IMAGE |
                                     HD_SPEC_CMDLINE_EXTRA);
}

typedef struct {
    const char *dict;
    const char *message;
} BadCase;

static const BadCase bad_variants[] = {
    { "{'nmae': <'x'>}", "key 'nmae': unknown key" },
    { "{'name': <'X'>}", "key 'name': workspace name must start with a lowercase letter" },
    { "{'name': <'a_b'>}", "key 'name': workspace name has '_' at position 2" },
    { "{'name': <uint32 1>}", "key 'name': expected a string, got D-Bus type 'u'" },
    { "{'name': <'abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd'>}",
      "key 'name': is 64 bytes long; at most 63" },
    { "{'vcpus': <uint32 0>}", "key 'vcpus': 0 is out of range [1, 128]" },
    { "{'vcpus': <uint32 129>}", "key 'vcpus': 129 is out of range [1, 128]" },
    { "{'vcpus': <int32 -1>}", "key 'vcpus': must not be negative" },
    { "{'vcpus': <'2'>}", "key 'vcpus': expected a non-negative integer, got D-Bus type 's'" },
    { "{'vcpus': <2.0>}", "key 'vcpus': expected a non-negative integer, got D-Bus type 'd'" },
    { "{'memory_max': <uint64 1048576>}",
      "key 'memory_max': 1 MiB is out of range [128 MiB, 1 TiB]" },
    { "{'memory_max': <'2T'>}", "key 'memory_max': 2 TiB is out of range" },
    { "{'memory_max': <'lots'>}", "key 'memory_max': 'lots' is not a size" },
    { "{'memory_max': <uint64 1073741825>}",
      "key 'memory_max': 1.0 GiB (1073741825 bytes) is not a whole number of MiB" },
    { "{'memory_min': <uint64 1024>}", "key 'memory_min': 1 KiB is out of range [64 MiB, 1 TiB]" },
    { "{'disk_size': <'17T'>}", "key 'disk_size': 17 TiB is out of range" },
    { "{'disk_size': <true>}", "key 'disk_size': expected a size" },
    { "{'base_image': <'base.qcow2'>}", "key 'base_image': must be an absolute path" },
    { "{'kernel': <'/boot/../etc/shadow'>}", "key 'kernel': must not contain '.' or '..'" },
    { "{'initrd': <'/a\\nb'>}", "key 'initrd': contains control character 0x0a" },
    { "{'cmdline_extra': <'page_reporting.page_reporting_order=9'>}",
      "key 'cmdline_extra': 'page_reporting.page_reporting_order=9' is set by hocusd's memory "
      "recipe" },
    { "{'cmdline_extra': <'init=\"/bin/sh\"'>}", "key 'cmdline_extra': quotes and backslashes" },
};

static void test_variant_bad(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad_variants); i++) {
        g_autoptr(GVariant) d = dict_from_text(bad_variants[i].dict);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSpec) s = hd_spec_from_variant(d, &error);

        if (s != NULL)
            fail_msg("case %zu (%s) was accepted", i, bad_variants[i].dict);
        assert_int_equal(error->code, HD_ERROR_INVALID_SPEC);
        if (strstr(error->message, bad_variants[i].message) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, error->message, bad_variants[i].message);
    }
}

static void test_variant_not_a_dict(void **state)
{
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_string("x"));
    g_autoptr(GError) error = NULL;

    assert_null(hd_spec_from_variant(v, &error));
    assert_int_equal(error->code, HD_ERROR_INVALID_SPEC);
}

static void test_json(void **state)
{
    const char *good = "{\"name\": \"ws\", \"memory_max\": \"2G\", \"vcpus\": 1}";
    g_autoptr(GError) error = NULL;
    g_autoptr(HdSpec) s = hd_spec_from_json(good, strlen(good), &error);

    assert_null(error);
    assert_string_equal(s->name, "ws");
    assert_int_equal(s->memory_max, 2 * HD_GiB);
    assert_int_equal(s->vcpus, 1);

    static const BadCase bad_json[] = {
        { "{\"name\": \"ws\",}", "invalid JSON" },
        { "{\"name\": null}", "key 'name': expected a string, got null" },
        { "{\"vcpus\": -2}", "key 'vcpus': must not be negative" },
        { "{\"vcpus\": 99999999999999999999}", "key 'vcpus'" },
        { "{\"extra\": 1}", "key 'extra': unknown key" },
        { "\"ws\"", "expected a JSON object" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad_json); i++) {
        g_autoptr(GError) e = NULL;
        g_autoptr(HdSpec) b = hd_spec_from_json(bad_json[i].dict, strlen(bad_json[i].dict), &e);
        if (b != NULL)
            fail_msg("JSON case %zu was accepted", i);
        assert_int_equal(e->code, HD_ERROR_INVALID_SPEC);
        if (strstr(e->message, bad_json[i].message) == NULL)
            fail_msg("JSON case %zu: '%s' lacks '%s'", i, e->message, bad_json[i].message);
    }
}

static void test_resolve(void **state)
{
    g_autoptr(HdConfig) cfg = hd_config_new_default();
    g_autoptr(GVariant) d = dict_from_text("{'name': <'ws'>, 'memory_max': <'256M'>}");
    g_autoptr(HdSpec) s = hd_spec_from_variant(d, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(HdSpec) r = hd_spec_resolve(s, cfg, &error);

    assert_null(error);
    assert_int_equal(r->vcpus, cfg->defaults.vcpus);
    assert_int_equal(r->memory_max, 256 * HD_MiB);
    /* default floor (512M) is above this max: follows the max */
    assert_int_equal(r->memory_min, 256 * HD_MiB);
    assert_int_equal(r->disk_size, cfg->defaults.disk_size);
    assert_string_equal(r->kernel, cfg->guest.kernel);
    assert_string_equal(r->initrd, cfg->guest.initrd);
    assert_null(r->base_image);
    assert_true(r->present & HD_SPEC_KERNEL);
}

static void test_resolve_errors(void **state)
{
    g_autoptr(HdConfig) cfg = hd_config_new_default();
    static const BadCase cases[] = {
        { "{'vcpus': <uint32 1>}", "key 'name': is required" },
        { "{'name': <'a'>, 'memory_max': <'1G'>, 'memory_min': <'2G'>}",
          "key 'memory_min': 2 GiB is above memory_max (1 GiB)" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GVariant) d = dict_from_text(cases[i].dict);
        g_autoptr(HdSpec) s = hd_spec_from_variant(d, NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSpec) r = NULL;

        assert_non_null(s);
        r = hd_spec_resolve(s, cfg, &error);
        assert_null(r);
        assert_int_equal(error->code, HD_ERROR_INVALID_SPEC);
        if (strstr(error->message, cases[i].message) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, error->message, cases[i].message);
    }
}

static void test_to_variant_round_trip(void **state)
{
    g_autoptr(HdConfig) cfg = hd_config_new_default();
    g_autoptr(GVariant) d = dict_from_text("{'name': <'rt'>, 'base_image': <'/b.qcow2'>}");
    g_autoptr(HdSpec) s = hd_spec_from_variant(d, NULL);
    g_autoptr(HdSpec) r = hd_spec_resolve(s, cfg, NULL);
    g_autoptr(GVariant) out = g_variant_ref_sink(hd_spec_to_variant(r));
    g_autoptr(HdSpec) back = hd_spec_from_variant(out, NULL);
    guint64 mm = 0;

    assert_non_null(back);
    assert_string_equal(back->name, "rt");
    assert_string_equal(back->base_image, "/b.qcow2");
    assert_int_equal(back->memory_max, r->memory_max);
    assert_int_equal(back->present, r->present);
    assert_true(g_variant_lookup(out, "memory_max", "t", &mm));
    assert_int_equal(mm, r->memory_max);
    assert_false(g_variant_lookup(out, "cmdline_extra", "s", NULL));
}

/* SetMemoryRange's checks: the spec's bounds and messages, min <= max. */
static void test_memory_range(void **state)
{
    g_autoptr(HdSpec) base = hd_spec_new();
    static const struct {
        guint64 min, max;
        const char *error;
    } rows[] = {
        { 256 * HD_MiB, HD_GiB, NULL },
        { 64 * HD_MiB, 128 * HD_MiB, NULL },
        { 32 * HD_MiB, HD_GiB, "key 'memory_min': 32 MiB is out of range" },
        { 256 * HD_MiB, 64 * HD_MiB, "key 'memory_max': 64 MiB is out of range" },
        { 512 * HD_MiB, 256 * HD_MiB, "key 'memory_min': 512 MiB is above memory_max (256 MiB)" },
        { 256 * HD_MiB + 1, HD_GiB, "key 'memory_min'" },
        { 256 * HD_MiB, 2 * HD_TiB, "key 'memory_max'" },
    };

    base->name = g_strdup("ws");
    base->memory_max = 4 * HD_GiB;
    base->memory_min = 512 * HD_MiB;
    base->present = HD_SPEC_NAME | HD_SPEC_MEMORY_MAX | HD_SPEC_MEMORY_MIN;
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(HdSpec) r = hd_spec_with_memory_range(base, rows[i].min, rows[i].max, &error);

        if (rows[i].error == NULL) {
            if (r == NULL)
                fail_msg("row %u: %s", i, error->message);
            assert_int_equal(r->memory_min, rows[i].min);
            assert_int_equal(r->memory_max, rows[i].max);
            assert_string_equal(r->name, "ws");
        } else {
            assert_null(r);
            assert_true(g_error_matches(error, HD_ERROR, HD_ERROR_INVALID_SPEC));
            if (strstr(error->message, rows[i].error) == NULL)
                fail_msg("row %u: '%s' lacks '%s'", i, error->message, rows[i].error);
        }
    }
    assert_int_equal(base->memory_max, 4 * HD_GiB); /* the original is untouched */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variant_ok),
        cmocka_unit_test(test_variant_bad),
        cmocka_unit_test(test_variant_not_a_dict),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_resolve_errors),
        cmocka_unit_test(test_to_variant_round_trip),
        cmocka_unit_test(test_memory_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
