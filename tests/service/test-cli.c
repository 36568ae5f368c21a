/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command lines: hocusd refuses a bad configuration before it starts
 * anything; hocusctl's output, --json and exit codes against a live hocusd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "hd-test-env.h"
#include "hocusd/hd-names.h"

#define NOBODY 65534

static HdTestEnv *env;

static int hocusctl(uid_t uid, char **out, char **err, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    va_list ap;
    const char *a;

    g_ptr_array_add(argv, (gpointer)hd_test_env_hocusctl(env));
    va_start(ap, err);
    while ((a = va_arg(ap, const char *)) != NULL)
        g_ptr_array_add(argv, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    return hd_test_run_as(env, uid, uid, (gid_t)-1, (const char *const *)argv->pdata, out, err);
}

static void test_hocusd_rejects_bad_config(void **state)
{
    static const struct {
        const char *json;
        const char *message;
    } cases[] = {
        { "{\"sample_interval_ms\": 5}", "key 'sample_interval_ms': 5 is out of range" },
        { "{\"guest\": {\"kernel\": \"relative\"}}", "key 'guest.kernel': must be an absolute" },
        { "{\"libvirt_uri\": \"test:///default\",}", "invalid JSON at line 1" },
        { "{\"typo\": 1}", "key 'typo': unknown key" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name = g_strdup_printf("bad-%zu.json", i);
        g_autofree char *path = hd_test_env_write(env, name, cases[i].json);
        g_autofree char *out = NULL, *err = NULL;
        const char *argv[] = { g_getenv("HD_HOCUSD"), "--config",   path,
                               "--bus-address",       env->address, NULL };
        int rc = hd_test_run_as(env, 0, 0, (gid_t)-1, argv, &out, &err);

        assert_int_equal(rc, 2);
        if (strstr(err, path) == NULL || strstr(err, cases[i].message) == NULL)
            fail_msg("case %zu: stderr '%s' lacks the file or '%s'", i, err, cases[i].message);
    }
    {
        /* A missing explicit file is an error; --check-config passes a good one. */
        g_autofree char *out = NULL, *err = NULL;
        const char *missing[] = { g_getenv("HD_HOCUSD"), "--config", "/nonexistent.json",
                                  "--check-config", NULL };
        const char *check[] = { g_getenv("HD_HOCUSD"), "--config", env->config_path,
                                "--check-config", NULL };
        assert_int_equal(hd_test_run_as(env, 0, 0, (gid_t)-1, missing, &out, &err), 2);
        assert_non_null(strstr(err, "/nonexistent.json"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        assert_int_equal(hd_test_run_as(env, 0, 0, (gid_t)-1, check, &out, &err), 0);
        assert_non_null(strstr(out, "OK"));
    }
}

static void test_hocusd_help_and_version(void **state)
{
    g_autofree char *out = NULL, *err = NULL;
    const char *help[] = { g_getenv("HD_HOCUSD"), "--help", NULL };
    const char *bad[] = { g_getenv("HD_HOCUSD"), "--frobnicate", NULL };

    assert_int_equal(hd_test_run_as(env, 0, 0, (gid_t)-1, help, &out, &err), 0);
    assert_non_null(strstr(out, "--config"));
    assert_non_null(strstr(out, "Exit status"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hd_test_run_as(env, 0, 0, (gid_t)-1, bad, &out, &err), 2);
    assert_non_null(strstr(err, "--frobnicate"));
}

static void test_hocusctl_flow(void **state)
{
    g_autofree char *out = NULL, *err = NULL;
    json_object *o, *v;

    assert_int_equal(hocusctl(0, &out, &err, "create", "cli-1", "--memory", "768M", "--vcpus", "1",
                              "--json", NULL),
                     0);
    o = json_tokener_parse(out);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "name", &v));
    assert_string_equal(json_object_get_string(v), "cli-1");
    assert_true(json_object_object_get_ex(o, "state", &v));
    assert_string_equal(json_object_get_string(v), "shutoff");
    json_object_put(o);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    assert_int_equal(hocusctl(0, &out, &err, "list", NULL), 0);
    assert_non_null(strstr(out, "NAME"));
    assert_non_null(strstr(out, "cli-1"));
    assert_non_null(strstr(out, "768 MiB"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    assert_int_equal(hocusctl(0, &out, &err, "start", "cli-1", NULL), 0);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    /* Readers may look... */
    assert_int_equal(hocusctl(NOBODY, &out, &err, "--json", "show", "cli-1", NULL), 0);
    assert_non_null(strstr(out, "\"state\": \"running\""));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    /* ...but not touch. */
    assert_int_equal(hocusctl(NOBODY, &out, &err, "stop", "cli-1", "--force", NULL), 4);
    assert_non_null(strstr(err, "permission denied"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    assert_int_equal(hocusctl(0, &out, &err, "delete", "cli-1", NULL), 8);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hocusctl(0, &out, &err, "delete", "cli-1", "--force", NULL), 0);
    assert_non_null(strstr(out, "Deleted workspace cli-1"));
}

static void test_hocusctl_exit_codes(void **state)
{
    static const struct {
        const char *args[8];
        int code;
        const char *text; /* in stderr, or stdout for --json */
    } cases[] = {
        { { "show", "nope" }, 3, "no workspace called nope" },
        { { "create", "Bad" }, 6, "key 'name'" },
        { { "create", "x", "--memory", "4X" }, 6, "'4X' has an unknown unit" },
        { { "create", "x", "--vcpus", "zero" }, 2, "--vcpus" },
        { { "create" }, 2, "a workspace name (or --spec FILE) is required" },
        { { "frob" }, 2, "unknown command 'frob'" },
        { { "show" }, 2, "a workspace name is required" },
        { { "show", "a", "b" }, 2, "unexpected argument 'b'" },
        { { "--json", "show", "nope" }, 3, "\"kind\": \"not-found\"" },
        { { "--bus-address", "unix:path=/nonexistent/bus", "list" }, 5, "cannot reach" },
        { { "create", "test" }, 7, "a libvirt domain called test already exists" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autofree char *out = NULL, *err = NULL;
        int rc;

        g_ptr_array_add(argv, (gpointer)hd_test_env_hocusctl(env));
        for (gsize a = 0; cases[i].args[a] != NULL; a++)
            g_ptr_array_add(argv, (gpointer)cases[i].args[a]);
        g_ptr_array_add(argv, NULL);
        rc = hd_test_run_as(env, 0, 0, (gid_t)-1, (const char *const *)argv->pdata, &out, &err);
        if (rc != cases[i].code)
            fail_msg("case %zu: exit %d, want %d (stderr: %s)", i, rc, cases[i].code, err);
        if (strstr(err, cases[i].text) == NULL && strstr(out, cases[i].text) == NULL)
            fail_msg("case %zu: output lacks '%s': %s%s", i, cases[i].text, out, err);
    }
}

static void test_hocusctl_spec_file(void **state)
{
    g_autofree char *spec = hd_test_env_write(
        env, "spec.json", "{\"name\": \"from-file\", \"memory_max\": \"640M\", \"vcpus\": 1}");
    g_autofree char *bad =
        hd_test_env_write(env, "bad-spec.json", "{\"name\": \"x\", \"vcpus\": -1}");
    g_autofree char *out = NULL, *err = NULL;

    assert_int_equal(hocusctl(0, &out, &err, "create", "--spec", spec, "--disk", "2G", NULL), 0);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hocusctl(0, &out, &err, "--json", "show", "from-file", NULL), 0);
    assert_non_null(strstr(out, "\"memory_max\": 671088640"));
    assert_non_null(strstr(out, "\"disk_size\": 2147483648"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hocusctl(0, &out, &err, "create", "--spec", bad, NULL), 6);
    assert_non_null(strstr(err, "bad-spec.json: key 'vcpus': must not be negative"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hocusctl(0, &out, &err, "delete", "from-file", NULL), 0);
}

static int setup(void **state)
{
    env = hd_test_env_new(NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    hd_test_env_free(env);
    return 0;
}

/* Metrics are open to every local user: status, metrics and top as nobody. */
static void test_hocusctl_metrics_views(void **state)
{
    g_autofree char *out = NULL, *err = NULL;
    json_object *o, *host, *v;

    assert_int_equal(hocusctl(NOBODY, &out, &err, "status", NULL), 0);
    assert_non_null(strstr(out, "Host memory:"));
    assert_non_null(strstr(out, "NAME"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    assert_int_equal(hocusctl(NOBODY, &out, &err, "status", "--json", NULL), 0);
    o = json_tokener_parse(out);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "host", &host));
    assert_true(json_object_object_get_ex(host, "MemTotalBytes", &v));
    assert_true(json_object_get_int64(v) > 0);
    assert_true(json_object_object_get_ex(o, "workspaces", &v));
    assert_true(json_object_is_type(v, json_type_object));
    json_object_put(o);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* OpenMetrics: typed families, the host's memory, and the terminator. */
    assert_int_equal(hocusctl(NOBODY, &out, &err, "metrics", NULL), 0);
    assert_non_null(strstr(out, "# TYPE hocusd_host_mem_total_bytes gauge\n"));
    assert_non_null(strstr(out, "# UNIT hocusd_host_mem_total_bytes bytes\n"));
    assert_non_null(strstr(out, "\nhocusd_host_mem_total_bytes "));
    assert_true(g_str_has_suffix(out, "# EOF\n"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    assert_int_equal(
        hocusctl(NOBODY, &out, &err, "top", "-n", "2", "--interval", "0.1", "--json", NULL), 0);
    {
        g_auto(GStrv) lines = g_strsplit(g_strchomp(out), "\n", -1);
        assert_int_equal(g_strv_length(lines), 2); /* one JSON object per refresh */
    }
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    assert_int_equal(hocusctl(0, &out, &err, "metrics", "--format", "xml", NULL), 2);
    assert_non_null(strstr(err, "unknown format 'xml'"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hocusctl(0, &out, &err, "top", "--interval", "0", NULL), 2);
    assert_non_null(strstr(err, "--interval"));
}

int main(void)
{
    const char *why = hd_test_env_unavailable(FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hocusd_rejects_bad_config),
        cmocka_unit_test(test_hocusd_help_and_version),
        cmocka_unit_test(test_hocusctl_flow),
        cmocka_unit_test(test_hocusctl_exit_codes),
        cmocka_unit_test(test_hocusctl_spec_file),
        cmocka_unit_test(test_hocusctl_metrics_views),
    };

    if (why != NULL)
        return hd_test_skip(why);

    return cmocka_run_group_tests(tests, setup, teardown);
}
