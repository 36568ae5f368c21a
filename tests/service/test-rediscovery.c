/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hocusd keeps no database: at start it finds its workspaces in libvirt's
 * domain metadata. Here libvirt is a test-driver host loaded from a file with
 * one workspace, one foreign domain and one with corrupt hocusd metadata.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hd-test-env.h"
#include "hocusd/hd-names.h"

static void test_finds_only_valid_workspaces(void **state)
{
    g_autofree char *uri =
        g_strdup_printf("test://%s/test-driver-node.xml", g_getenv("HD_TEST_DATA_DIR"));
    HdTestEnv *env = hd_test_env_new(uri, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r =
        hd_test_call(env, HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE, "ListWorkspaces", NULL, &error);
    g_autoptr(GVariant) st = NULL, created = NULL;
    g_autofree char *log = NULL;
    const char **paths;
    gsize n;

    assert_non_null(r);
    paths = g_variant_get_objv(g_variant_get_child_value(r, 0), &n);
    assert_int_equal(n, 1);
    assert_string_equal(paths[0], HD_DBUS_WORKSPACE_PREFIX "alpha");
    g_free(paths);
    /* The test driver starts its domains running. */
    st = hd_test_get_property(env, HD_DBUS_WORKSPACE_PREFIX "alpha", HD_DBUS_WORKSPACE_IFACE,
                              "State");
    assert_string_equal(g_variant_get_string(st, NULL), "running");
    created = hd_test_get_property(env, HD_DBUS_WORKSPACE_PREFIX "alpha", HD_DBUS_WORKSPACE_IFACE,
                                   "CreatedUsec");
    assert_int_equal(g_variant_get_uint64(created), 1700000000000000);
    /* The corrupt one is named in the log, with the reason. */
    assert_true(g_file_get_contents(env->log_path, &log, NULL, NULL));
    assert_non_null(strstr(log, "Domain broken carries hocusd metadata that cannot be used"));
    assert_non_null(strstr(log, "key 'vcpus': 'lots' is not a number"));
    assert_null(strstr(log, "Domain foreign"));
    hd_test_env_free(env);
}

int main(void)
{
    const char *why = hd_test_env_unavailable(FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_only_valid_workspaces),
    };

    if (why != NULL)
        return hd_test_skip(why);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
