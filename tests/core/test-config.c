/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json.h>
#include <string.h>

#include "hocusd/hd-config.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-size.h"

#define SRC "/etc/hocusd/hocusd.json"

static HdConfig *parse(const char *text, GError **error)
{
    return hd_config_parse(text, strlen(text), SRC, error);
}

static void test_defaults(void **state)
{
    g_autoptr(HdConfig) c = parse("{}", NULL);

    assert_non_null(c);
    assert_string_equal(c->libvirt_uri, "qemu:///system");
    assert_string_equal(c->bus, "system");
    assert_string_equal(c->state_dir, "/var/lib/hocusd");
    assert_string_equal(c->image_dir, "/var/lib/hocusd/images");
    assert_string_equal(c->storage_pool, "hocusd");
    assert_string_equal(c->network, "");
    assert_int_equal(c->sample_interval_ms, 1000);
    assert_int_equal(c->stop_timeout_s, 60);
    assert_int_equal(c->tcg_tb_cache_mib, 64);
    assert_false(c->damon_reclaim.enabled);
    assert_int_equal(c->defaults.vcpus, 2);
    assert_int_equal(c->defaults.memory_max, 4 * HD_GiB);
    assert_true(g_str_has_suffix(c->guest.kernel, "/vmlinuz"));
}

static void test_values(void **state)
{
    const char *text =
        "{\n"
        "  \"libvirt_uri\": \"test:///default\",\n"
        "  \"bus\": \"unix:path=/tmp/hocusd-test/bus\",\n"
        "  \"state_dir\": \"/srv/hocusd\",\n"
        "  \"sample_interval_ms\": 250,\n"
        "  \"guest\": { \"kernel\": \"/k\", \"cmdline\": \"console=ttyS0\" },\n"
        "  \"damon_reclaim\": { \"enabled\": true, \"quota_size\": \"64M\" },\n"
        "  \"defaults\": { \"memory_max\": \"2G\", \"memory_min\": 268435456 },\n"
        "  \"pressure\": { \"some_avg10_warning\": 5, \"some_avg10_critical\": 20.5 }\n"
        "}\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(HdConfig) c = parse(text, &error);

    assert_null(error);
    assert_non_null(c);
    assert_string_equal(c->libvirt_uri, "test:///default");
    assert_string_equal(c->bus, "unix:path=/tmp/hocusd-test/bus");
    assert_string_equal(c->state_dir, "/srv/hocusd");
    assert_string_equal(c->image_dir, "/var/lib/hocusd/images"); /* untouched default */
    assert_int_equal(c->sample_interval_ms, 250);
    assert_string_equal(c->guest.kernel, "/k");
    assert_true(g_str_has_suffix(c->guest.initrd, "/initrd.img"));
    assert_true(c->damon_reclaim.enabled);
    assert_int_equal(c->damon_reclaim.quota_size, 64 * HD_MiB);
    assert_int_equal(c->defaults.memory_max, 2 * HD_GiB);
    assert_int_equal(c->defaults.memory_min, 256 * HD_MiB);
    assert_true(c->pressure.some_avg10_warning == 5.0);
    assert_true(c->pressure.some_avg10_critical == 20.5);
}

typedef struct {
    const char *text;
    const char *message; /* expected substring; the file name is always checked */
} BadCase;

static const BadCase bad_cases[] = {
    { "", "invalid JSON at line 1, column 1" },
    { "{", "invalid JSON" },
    { "{\n  \"bus\": \"system\",\n  oops\n}", "invalid JSON at line 3" },
    { "[]", "expected a JSON object" },
    { "{} {}", "invalid JSON" },
    { "{\"libvirt_url\": \"x\"}", "key 'libvirt_url': unknown key" },
    { "{\"libvirt_uri\": 1}", "key 'libvirt_uri': expected a string, got int" },
    { "{\"libvirt_uri\": \"qemu\"}", "key 'libvirt_uri': 'qemu' is not a libvirt URI" },
    { "{\"bus\": \"bogus\"}", "key 'bus': must be \"system\", \"session\" or a D-Bus address" },
    { "{\"state_dir\": \"relative/dir\"}", "key 'state_dir': must be an absolute path" },
    { "{\"image_dir\": \"/var/../etc\"}", "key 'image_dir': must not contain '.' or '..'" },
    { "{\"state_dir\": \"/a\\u0001b\"}", "key 'state_dir': contains control character 0x01" },
    { "{\"storage_pool\": \"a b\"}", "key 'storage_pool': 'a b' may only contain" },
    { "{\"sample_interval_ms\": 10}", "key 'sample_interval_ms': 10 is out of range [100, 60000]" },
    { "{\"sample_interval_ms\": -5}", "key 'sample_interval_ms': must not be negative" },
    { "{\"sample_interval_ms\": 1.5}",
      "key 'sample_interval_ms': expected a non-negative integer" },
    { "{\"sample_interval_ms\": \"1000\"}", "expected a non-negative integer, got string" },
    { "{\"balloon_period_s\": 0}", "key 'balloon_period_s': 0 is out of range" },
    { "{\"tcg_tb_cache_mib\": 5000}", "key 'tcg_tb_cache_mib': 5000 is out of range" },
    { "{\"guest\": []}", "key 'guest': expected an object, got array" },
    { "{\"guest\": {\"kernal\": \"/k\"}}", "key 'guest.kernal': unknown key" },
    { "{\"guest\": {\"kernel\": \"k\"}}", "key 'guest.kernel': must be an absolute path" },
    { "{\"guest\": {\"cmdline\": \"transparent_hugepage=always\"}}",
      "key 'guest.cmdline': 'transparent_hugepage=always' is set by hocusd's memory recipe" },
    { "{\"damon_reclaim\": {\"enabled\": \"yes\"}}",
      "key 'damon_reclaim.enabled': expected true or false" },
    { "{\"damon_reclaim\": {\"wmarks_high\": 1001}}", "key 'damon_reclaim.wmarks_high': 1001" },
    { "{\"damon_reclaim\": {\"wmarks_low\": 900, \"wmarks_mid\": 500}}",
      "watermarks must satisfy high >= mid >= low" },
    { "{\"defaults\": {\"memory_max\": \"4X\"}}",
      "key 'defaults.memory_max': '4X' has an unknown" },
    { "{\"defaults\": {\"memory_max\": \"1M\"}}",
      "key 'defaults.memory_max': 1 MiB is out of range" },
    { "{\"defaults\": {\"memory_max\": \"1G\", \"memory_min\": \"2G\"}}",
      "key 'defaults.memory_min': 2 GiB is above defaults.memory_max" },
    { "{\"defaults\": {\"vcpus\": 0}}", "key 'defaults.vcpus': 0 is out of range [1, 128]" },
    { "{\"pressure\": {\"some_avg10_warning\": 101}}", "key 'pressure.some_avg10_warning': 101" },
    { "{\"pressure\": {\"some_avg10_warning\": 50, \"some_avg10_critical\": 20}}",
      "is above pressure.some_avg10_critical" },
    { "{\"network\": \"default;rm\"}", "key 'network'" },
    { "{\"policy\": {\"mode\": \"on\"}}",
      "key 'policy.mode': must be \"off\", \"observe\" or \"active\", got 'on'" },
    { "{\"policy\": {\"host_cgroup\": \"machine\"}}",
      "key 'policy.host_cgroup': must be an absolute path" },
    { "{\"policy\": {\"psi_some_calm\": 20}}",
      "key 'policy.psi_some_calm': 20 is not below policy.psi_some_pressure (10)" },
    { "{\"policy\": {\"headroom_critical_pct\": 15}}",
      "headrooms must satisfy critical <= pressure <= calm, got 15/10/20" },
    { "{\"policy\": {\"step_max\": \"1G\"}}",
      "key 'policy.step_max': 1 GiB is above policy.tick_max (512 MiB)" },
    { "{\"policy\": {\"step_max\": \"1M\"}}", "key 'policy.step_max': 1 MiB is out of range" },
};

static void test_bad_input(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(HdConfig) c = parse(bad_cases[i].text, &error);

        if (c != NULL)
            fail_msg("case %zu (%s) was accepted", i, bad_cases[i].text);
        assert_non_null(error);
        assert_int_equal(error->domain, HD_ERROR);
        assert_int_equal(error->code, HD_ERROR_INVALID_CONFIG);
        if (!g_str_has_prefix(error->message, SRC ": "))
            fail_msg("case %zu: message '%s' does not start with the file name", i, error->message);
        if (strstr(error->message, bad_cases[i].message) == NULL)
            fail_msg("case %zu: message '%s' lacks '%s'", i, error->message, bad_cases[i].message);
    }
}

static void test_nul_byte(void **state)
{
    static const char text[] = "{\"bus\": \"system\"}\0{}";
    g_autoptr(GError) error = NULL;
    g_autoptr(HdConfig) c = hd_config_parse(text, sizeof(text) - 1, SRC, &error);

    assert_null(c);
    assert_non_null(strstr(error->message, "NUL byte"));
}

static void test_dump_round_trip(void **state)
{
    g_autoptr(HdConfig) def = hd_config_new_default();
    g_autofree char *json = hd_config_to_json(def);
    g_autoptr(GError) error = NULL;
    g_autoptr(HdConfig) back = parse(json, &error);
    g_autofree char *json2 = NULL;

    assert_null(error);
    assert_non_null(back);
    json2 = hd_config_to_json(back);
    assert_string_equal(json, json2);
}

/* Every key, none at its default (and each a valid value). */
static const char every_key[] =
    "{"
    "\"libvirt_uri\": \"qemu+ssh://h/system\","
    "\"libvirt_keepalive\": {\"interval_s\": 7, \"count\": 4},"
    "\"accelerator\": \"tcg\","
    "\"accelerator_probe\": {\"timeout_s\": 33, \"emulator\": \"/usr/bin/qemu-x\","
    " \"domain_type\": \"qemu\"},"
    "\"bus\": \"session\","
    "\"state_dir\": \"/srv/state\","
    "\"image_dir\": \"/srv/images\","
    "\"storage_pool\": \"pool2\","
    "\"network\": \"default\","
    "\"sample_interval_ms\": 2500,"
    "\"balloon_period_s\": 3,"
    "\"stop_timeout_s\": 17,"
    "\"tcg_tb_cache_mib\": 128,"
    "\"guest\": {\"kernel\": \"/k/vmlinuz\", \"initrd\": \"/k/initrd\","
    " \"cmdline\": \"console=ttyS0 quiet\", \"shared_dir\": \"/k\"},"
    "\"damon_reclaim\": {\"enabled\": true, \"min_age_ms\": 7000, \"quota_ms\": 50,"
    " \"quota_size\": 1048576, \"quota_reset_interval_ms\": 2000, \"wmarks_high\": 900,"
    " \"wmarks_mid\": 800, \"wmarks_low\": 100, \"skip_anon\": false},"
    "\"defaults\": {\"vcpus\": 3, \"memory_max\": 2147483648, \"memory_min\": 268435456,"
    " \"disk_size\": 10737418240},"
    "\"pressure\": {\"some_avg10_warning\": 12.5, \"some_avg10_critical\": 55.0},"
    "\"metrics\": {\"idle_cpu_percent\": 2.5, \"idle_after_s\": 90,"
    " \"reclaim_min_jump\": 33554432, \"reclaim_timeout_s\": 60, \"agent_channel\": false,"
    " \"agent_budget\": 8192},"
    "\"policy\": {\"mode\": \"active\", \"host_cgroup\": \"/sys/fs/cgroup/memory/vms\","
    " \"psi_some_pressure\": 15.5, \"psi_some_calm\": 2.5, \"psi_full_critical\": 7.5,"
    " \"headroom_pressure_pct\": 12, \"headroom_calm_pct\": 25, \"headroom_critical_pct\": 4,"
    " \"calm_after_s\": 45, \"step_max\": 67108864, \"tick_max\": 268435456,"
    " \"grow_step\": 33554432, \"guest_margin\": 100663296, \"guest_psi_stall\": 7.5,"
    " \"inflate_stall_s\": 8, \"hold_s\": 120, \"reclaim_lead_s\": 5},"
    "\"host_root\": \"/tmp/host\""
    "}";

/* Leaf keys as "a.b" paths with their values, from a parsed JSON object. */
static void collect_leaves(json_object *o, const char *prefix, GHashTable *out)
{
    json_object_object_foreach(o, key, val)
    {
        g_autofree char *path = *prefix ? g_strconcat(prefix, ".", key, NULL) : g_strdup(key);

        if (json_object_is_type(val, json_type_object))
            collect_leaves(val, path, out);
        else
            g_hash_table_insert(out, g_steal_pointer(&path), val);
    }
}

/*
 * A configuration with every key away from its default is dumped back as
 * read: a key the parser ignores, or the writer leaves out or writes from
 * the default, fails here. A key added to the defaults and not to
 * every_key fails too.
 */
static void test_every_key_round_trips(void **state)
{
    g_autoptr(HdConfig) def = hd_config_new_default();
    g_autofree char *def_json = hd_config_to_json(def);
    g_autoptr(GError) error = NULL;
    g_autoptr(HdConfig) c = parse(every_key, &error);
    g_autofree char *dumped = NULL;
    json_object *want = json_tokener_parse(every_key);
    json_object *got = NULL, *defaults = json_tokener_parse(def_json);
    g_autoptr(GHashTable) want_leaves =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) def_leaves = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer key, val;

    if (c == NULL)
        fail_msg("every_key does not parse: %s", error->message);
    dumped = hd_config_to_json(c);
    got = json_tokener_parse(dumped);
    assert_non_null(want);
    assert_non_null(got);
    assert_non_null(defaults);
    if (!json_object_equal(want, got))
        fail_msg("dumped back differently:\n%s", dumped);
    collect_leaves(want, "", want_leaves);
    collect_leaves(defaults, "", def_leaves);
    g_hash_table_iter_init(&it, def_leaves);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        json_object *mine = g_hash_table_lookup(want_leaves, key);

        if (mine == NULL)
            fail_msg("key %s is not in every_key", (const char *)key);
        if (json_object_equal(mine, val))
            fail_msg("key %s is at its default in every_key", (const char *)key);
    }
    assert_int_equal(g_hash_table_size(want_leaves), g_hash_table_size(def_leaves));
    json_object_put(want);
    json_object_put(got);
    json_object_put(defaults);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_values),
        cmocka_unit_test(test_bad_input),       cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_dump_round_trip), cmocka_unit_test(test_every_key_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
