/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration: which host files a CreateWorkspace caller may make hocusd (and
 * through it QEMU, as root-relabelled files) open. Members of group "hocus"
 * may name only files every user can read inside guest.shared_dir, symlinks
 * resolved; root may name any file; everybody else is refused by the bus.
 * Refusals must not reveal anything about files outside shared_dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd-test-env.h"
#include "hocusd/hd-names.h"

#define MANAGER HD_DBUS_ROOT_PATH
#define NOBODY  65534

static HdTestEnv *env;
static char *shared;
static gid_t hocus_gid;

/* CreateWorkspace through gdbus as nobody with (or without) group hocus. */
static int create_as(gboolean member, const char *spec, char **err)
{
    const char *argv[] = { "gdbus",  "call",       "--system",
                           "--dest", HD_DBUS_NAME, "--object-path",
                           MANAGER,  "--method",   HD_DBUS_MANAGER_IFACE ".CreateWorkspace",
                           spec,     NULL };

    return hd_test_run_as(env, NOBODY, NOBODY, member ? hocus_gid : (gid_t)-1, argv, NULL, err);
}

static void delete_ws(const char *name)
{
    g_autofree char *path = hd_name_to_object_path(name);
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r =
        hd_test_call(env, path, HD_DBUS_WORKSPACE_IFACE, "Delete", NULL, &error);

    if (r == NULL)
        fail_msg("Delete %s: %s", name, error->message);
}

static void test_member_confined(void **state)
{
    static const struct {
        const char *key, *path; /* path: relative to shared when not absolute */
        const char *says;
    } refused[] = {
        { "kernel", "/etc/shadow", "is not under" },
        { "initrd", "/etc/shadow", "is not under" },
        { "base_image", "/etc/shadow", "is not under" },
        { "kernel", "/proc/self/environ", "is not under" },
        /* A symlink to a file outside, and a file reached through a symlinked
         * directory: the same words whether the target exists or not. */
        { "kernel", "escape", "is not a file that every user may read inside" },
        { "kernel", "etc/shadow", "is not a file that every user may read inside" },
        { "kernel", "etc/hostname", "is not a file that every user may read inside" },
        { "kernel", "etc/no-such-file", "is not a file that every user may read inside" },
        { "base_image", "etc/shadow", "is not a file that every user may read inside" },
        /* Inside, but not for everybody, or not a file. */
        { "kernel", "secret", "is not a file that every user may read inside" },
        { "kernel", "sub", "is not a file that every user may read inside" },
        { "kernel", "missing", "is not a file that every user may read inside" },
        /* ".." never gets as far as the filesystem. */
        { "kernel", "../outside", "'..'" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autofree char *path = refused[i].path[0] == '/'
                                    ? g_strdup(refused[i].path)
                                    : g_strdup_printf("%s/%s", shared, refused[i].path);
        g_autofree char *spec =
            g_strdup_printf("{'name': <'confined'>, '%s': <'%s'>}", refused[i].key, path);
        g_autofree char *err = NULL;
        int rc = create_as(TRUE, spec, &err);

        if (rc == 0)
            fail_msg("a hocus member created with %s=%s", refused[i].key, path);
        if (strstr(err, "dev.hocus.Hocusd1.Error.InvalidSpec") == NULL ||
            strstr(err, refused[i].says) == NULL)
            fail_msg("%s=%s: '%s', want InvalidSpec '%s'", refused[i].key, path, err,
                     refused[i].says);
        /* Nothing about the file itself: no size, no errno text. */
        if (strstr(err, "GiB") || strstr(err, "MiB") || strstr(err, "bytes") ||
            strstr(err, "ermission") || strstr(err, "No such file"))
            fail_msg("%s=%s: the refusal tells too much: %s", refused[i].key, path, err);
    }
}

static void test_member_allowed(void **state)
{
    g_autofree char *spec =
        g_strdup_printf("{'name': <'shared-kernel'>, 'kernel': <'%s/link-to-vmlinuz'>}", shared);
    g_autofree char *err = NULL;
    g_autofree char *real = g_strdup_printf("%s/vmlinuz", shared);
    g_autoptr(GVariant) spec_prop = NULL;
    const char *kernel = NULL;
    int rc = create_as(TRUE, spec, &err);

    if (rc != 0)
        fail_msg("a hocus member could not name a shared kernel: %s", err);
    /* hocusd keeps the resolved path, not the symlink it was given. */
    spec_prop = hd_test_get_property(env, HD_DBUS_WORKSPACE_PREFIX "shared_kernel",
                                     HD_DBUS_WORKSPACE_IFACE, "Spec");
    assert_true(g_variant_lookup(spec_prop, "kernel", "&s", &kernel));
    assert_string_equal(kernel, real);
    delete_ws("shared-kernel");
}

static void test_root_keeps_full_paths(void **state)
{
    g_autofree char *outside = hd_test_env_write(env, "outside-kernel", "not a kernel");
    g_autofree char *text = g_strdup_printf("{'name': <'rooted'>, 'kernel': <'%s'>}", outside);
    g_autoptr(GVariant) spec = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = hd_test_call(env, MANAGER, HD_DBUS_MANAGER_IFACE, "CreateWorkspace",
                                         g_variant_new("(@a{sv})", spec), &error);

    if (r == NULL)
        fail_msg("root could not name %s: %s", outside, error->message);
    delete_ws("rooted");
}

static void test_nobody_refused_by_bus(void **state)
{
    g_autofree char *spec =
        g_strdup_printf("{'name': <'nobodys'>, 'kernel': <'%s/vmlinuz'>}", shared);
    g_autofree char *err = NULL;

    assert_int_not_equal(create_as(FALSE, spec, &err), 0);
    if (strstr(err, "org.freedesktop.DBus.Error.AccessDenied") == NULL)
        fail_msg("nobody was not refused by the bus: %s", err);
}

static void link_in_shared(const char *target, const char *name)
{
    g_autofree char *path = g_build_filename(shared, name, NULL);

    g_assert(symlink(target, path) == 0);
}

static void make_shared_tree(void)
{
    g_autofree char *secret = NULL, *sub = NULL, *vmlinuz = NULL;

    shared = g_build_filename(env->dir, "shared", NULL);
    g_assert(g_mkdir(shared, 0755) == 0);
    /* nobody must be able to reach it, as a real shared directory would be. */
    g_assert(chmod(env->dir, 0755) == 0);
    vmlinuz = g_build_filename(shared, "vmlinuz", NULL);
    g_assert(g_file_set_contents(vmlinuz, "not a kernel", -1, NULL));
    g_assert(chmod(vmlinuz, 0644) == 0);
    secret = g_build_filename(shared, "secret", NULL);
    g_assert(g_file_set_contents(secret, "root only", -1, NULL));
    g_assert(chmod(secret, 0600) == 0);
    sub = g_build_filename(shared, "sub", NULL);
    g_assert(g_mkdir(sub, 0755) == 0);
    link_in_shared("/etc/shadow", "escape");
    link_in_shared("/etc", "etc");
    link_in_shared("vmlinuz", "link-to-vmlinuz");
}

static int setup(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *config = NULL, *with_shared = NULL, *guest = NULL;
    g_auto(GStrv) parts = NULL;

    env = hd_test_env_new_stopped(NULL, NULL);
    make_shared_tree();
    /* Point guest.shared_dir at the tree (the base config has a "guest" object). */
    g_assert(g_file_get_contents(env->config_path, &config, NULL, NULL));
    parts = g_strsplit(config, "\"guest\": { ", 2);
    g_assert(g_strv_length(parts) == 2);
    guest = g_strdup_printf("\"guest\": { \"shared_dir\": \"%s\", ", shared);
    with_shared = g_strconcat(parts[0], guest, parts[1], NULL);
    g_assert(g_file_set_contents(env->config_path, with_shared, -1, NULL));
    if (!hd_test_env_start_hocusd(env, &error))
        fail_msg("%s", error->message);
    return 0;
}

static int teardown(void **state)
{
    hd_test_env_free(env);
    g_free(shared);
    return 0;
}

int main(void)
{
    const char *why = hd_test_env_unavailable(FALSE);
    struct group *g = getgrnam("hocus");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_confined),
        cmocka_unit_test(test_member_allowed),
        cmocka_unit_test(test_root_keeps_full_paths),
        cmocka_unit_test(test_nobody_refused_by_bus),
    };

    if (why != NULL)
        return hd_test_skip(why);

    if (g == NULL)
        return hd_test_skip("no 'hocus' group on this machine (scripts/setup.sh creates it)");

    hocus_gid = g->gr_gid;
    return cmocka_run_group_tests(tests, setup, teardown);
}
