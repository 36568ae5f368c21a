/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration: the real hocusd binary on a private bus with the real bus
 * policy, against libvirt's test:///default driver. Clients that must be
 * refused run under uid 65534 (nobody).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "hd-test-env.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"

#define MANAGER HD_DBUS_ROOT_PATH
#define NOBODY  65534

static HdTestEnv *env;

static GVariant *create(const char *spec_text, GError **error)
{
    g_autoptr(GError) perr = NULL;
    GVariant *spec = g_variant_parse(G_VARIANT_TYPE_VARDICT, spec_text, NULL, NULL, &perr);

    if (spec == NULL)
        fail_msg("bad test spec %s: %s", spec_text, perr->message);
    return hd_test_call(env, MANAGER, HD_DBUS_MANAGER_IFACE, "CreateWorkspace",
                        g_variant_new("(@a{sv})", spec), error);
}

static char *create_ok(const char *spec_text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = create(spec_text, &error);
    char *path = NULL;

    if (r == NULL)
        fail_msg("CreateWorkspace(%s): %s", spec_text, error->message);
    g_variant_get(r, "(o)", &path);
    return path;
}

static void call_ws(const char *path, const char *method, GVariant *params)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r =
        hd_test_call(env, path, HD_DBUS_WORKSPACE_IFACE, method, params, &error);
    if (r == NULL)
        fail_msg("%s on %s: %s", method, path, error->message);
}

static GPtrArray *list_paths(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r =
        hd_test_call(env, MANAGER, HD_DBUS_MANAGER_IFACE, "ListWorkspaces", NULL, &error);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GVariantIter) it = NULL;
    const char *p;

    if (r == NULL)
        fail_msg("ListWorkspaces: %s", error->message);
    g_variant_get(r, "(ao)", &it);
    while (g_variant_iter_next(it, "&o", &p))
        g_ptr_array_add(out, g_strdup(p));
    return out;
}

static gboolean listed(const char *path)
{
    g_autoptr(GPtrArray) paths = list_paths();

    for (guint i = 0; i < paths->len; i++) {
        if (strcmp(g_ptr_array_index(paths, i), path) == 0)
            return TRUE;
    }
    return FALSE;
}

static void expect_error(GError *error, const char *dbus_name, const char *text)
{
    g_autofree char *remote = NULL;

    if (error == NULL)
        fail_msg("expected %s, got success", dbus_name);
    remote = g_dbus_error_get_remote_error(error);
    if (g_strcmp0(remote, dbus_name) != 0)
        fail_msg("expected %s, got %s: %s", dbus_name, remote, error->message);
    if (text != NULL && strstr(error->message, text) == NULL)
        fail_msg("message '%s' lacks '%s'", error->message, text);
}

static void test_lifecycle(void **state)
{
    g_autofree char *path = create_ok("{'name': <'life-1'>, 'memory_max': <'512M'>}");
    g_autoptr(GVariant) name = NULL, st = NULL, spec = NULL, uuid = NULL;
    guint64 mem = 0;

    assert_string_equal(path, HD_DBUS_WORKSPACE_PREFIX "life_1");
    assert_true(listed(path));
    name = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, "Name");
    assert_string_equal(g_variant_get_string(name, NULL), "life-1");
    st = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, "State");
    assert_string_equal(g_variant_get_string(st, NULL), "shutoff");
    spec = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, "Spec");
    assert_true(g_variant_is_of_type(spec, G_VARIANT_TYPE_VARDICT));
    assert_true(g_variant_lookup(spec, "memory_max", "t", &mem));
    assert_int_equal(mem, 512 * 1024 * 1024);
    uuid = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, "Uuid");
    assert_int_equal(strlen(g_variant_get_string(uuid, NULL)), 36);

    call_ws(path, "Start", NULL);
    assert_true(hd_test_wait_state(env, path, "running", 5000));
    call_ws(path, "Stop", g_variant_new("(b)", TRUE));
    assert_true(hd_test_wait_state(env, path, "shutoff", 5000));
    call_ws(path, "Delete", NULL);
    assert_false(listed(path));
}

static void test_get_workspace(void **state)
{
    g_autofree char *path = create_ok("{'name': <'get-me'>}");
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = hd_test_call(env, MANAGER, HD_DBUS_MANAGER_IFACE, "GetWorkspace",
                                         g_variant_new("(s)", "get-me"), &error);
    g_autoptr(GVariant) r2 = NULL;
    const char *p;

    assert_non_null(r);
    g_variant_get(r, "(&o)", &p);
    assert_string_equal(p, path);
    r2 = hd_test_call(env, MANAGER, HD_DBUS_MANAGER_IFACE, "GetWorkspace",
                      g_variant_new("(s)", "no-such"), &error);
    assert_null(r2);
    expect_error(error, "dev.hocus.Hocusd1.Error.NotFound", "no workspace called no-such");
    call_ws(path, "Delete", NULL);
}

static void test_errors(void **state)
{
    static const struct {
        const char *spec;
        const char *error;
        const char *text;
    } cases[] = {
        { "{'name': <'Bad'>}", "dev.hocus.Hocusd1.Error.InvalidSpec", "key 'name'" },
        { "{'memory_max': <'1G'>}", "dev.hocus.Hocusd1.Error.InvalidSpec",
          "key 'name': is required" },
        { "{'name': <'ok'>, 'vcpus': <uint32 1000>}", "dev.hocus.Hocusd1.Error.InvalidSpec",
          "key 'vcpus': 1000 is out of range" },
        { "{'name': <'ok'>, 'bogus': <1>}", "dev.hocus.Hocusd1.Error.InvalidSpec",
          "key 'bogus': unknown key" },
        { "{'name': <'ok'>, 'kernel': <'/nonexistent/vmlinuz'>}",
          "dev.hocus.Hocusd1.Error.InvalidSpec", "key 'kernel': /nonexistent/vmlinuz" },
        { "{'name': <'ok'>, 'base_image': <'/nonexistent.qcow2'>}",
          "dev.hocus.Hocusd1.Error.InvalidSpec", "key 'base_image'" },
        { "{'name': <'ok'>, 'cmdline_extra': <'transparent_hugepage=always'>}",
          "dev.hocus.Hocusd1.Error.InvalidSpec", "memory recipe" },
        /* The test driver's own domain: the name is taken in libvirt. */
        { "{'name': <'test'>}", "dev.hocus.Hocusd1.Error.AlreadyExists",
          "a libvirt domain called test already exists" },
    };
    g_autoptr(GPtrArray) before = list_paths();

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = create(cases[i].spec, &error);
        assert_null(r);
        expect_error(error, cases[i].error, cases[i].text);
    }
    {
        /* Nothing half-made is left behind: same list, and the name is free. */
        g_autoptr(GPtrArray) after = list_paths();
        g_autofree char *path = NULL;
        assert_int_equal(before->len, after->len);
        path = create_ok("{'name': <'ok'>}");
        call_ws(path, "Delete", NULL);
    }
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = hd_test_call(env, MANAGER, HD_DBUS_MANAGER_IFACE, "CreateWorkspace",
                                             g_variant_new("(s)", "not a dict"), &error);
        assert_null(r);
        expect_error(error, "org.freedesktop.DBus.Error.InvalidArgs", NULL);
    }
}

static void test_disk_smaller_than_base(void **state)
{
    /* A qcow2 header (magic, version 3) whose disk is 4 GiB. */
    unsigned char header[32] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
    g_autofree char *base = g_build_filename(env->dir, "base.qcow2", NULL);
    g_autofree char *spec = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = NULL;

    header[27] = 0x01; /* bytes 24..31 big-endian: 0x0000000100000000 = 4 GiB */
    assert_true(g_file_set_contents(base, (const char *)header, sizeof(header), NULL));
    spec = g_strdup_printf("{'name': <'small'>, 'base_image': <'%s'>, 'disk_size': <'1G'>}", base);
    r = create(spec, &error);
    assert_null(r);
    expect_error(error, "dev.hocus.Hocusd1.Error.InvalidSpec",
                 "key 'disk_size': 1 GiB is smaller than the base image");
    assert_false(listed(HD_DBUS_WORKSPACE_PREFIX "small"));
    g_clear_pointer(&spec, g_free);
    spec = g_strdup_printf("{'name': <'big-enough'>, 'base_image': <'%s'>, 'disk_size': <'4G'>}",
                           base);
    g_clear_pointer(&r, g_variant_unref);
    g_clear_error(&error);
    r = create(spec, &error);
    assert_non_null(r);
    call_ws(HD_DBUS_WORKSPACE_PREFIX "big_enough", "Delete", NULL);
}

static void test_state_errors(void **state)
{
    g_autofree char *path = create_ok("{'name': <'state-1'>}");
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
    g_autoptr(GVariant) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;

    r1 = create("{'name': <'state-1'>}", &e1);
    expect_error(e1, "dev.hocus.Hocusd1.Error.AlreadyExists", "workspace state-1 already exists");
    r2 = hd_test_call(env, path, HD_DBUS_WORKSPACE_IFACE, "Stop", g_variant_new("(b)", FALSE), &e2);
    expect_error(e2, "dev.hocus.Hocusd1.Error.InvalidState", "is not running");
    call_ws(path, "Start", NULL);
    assert_true(hd_test_wait_state(env, path, "running", 5000));
    r3 = hd_test_call(env, path, HD_DBUS_WORKSPACE_IFACE, "Start", NULL, &e3);
    expect_error(e3, "dev.hocus.Hocusd1.Error.InvalidState", "already running");
    r4 = hd_test_call(env, path, HD_DBUS_WORKSPACE_IFACE, "Delete", NULL, &e4);
    expect_error(e4, "dev.hocus.Hocusd1.Error.InvalidState", "stop it before deleting it");
    assert_true(listed(path));
    call_ws(path, "Stop", g_variant_new("(b)", TRUE));
    assert_true(hd_test_wait_state(env, path, "shutoff", 5000));
    call_ws(path, "Delete", NULL);
}

static void test_object_manager(void **state)
{
    g_autofree char *path = create_ok("{'name': <'om-1'>, 'vcpus': <uint32 2>}");
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = hd_test_call(env, MANAGER, "org.freedesktop.DBus.ObjectManager",
                                         "GetManagedObjects", NULL, &error);
    g_autoptr(GVariant) objs = NULL, ifaces = NULL, props = NULL;
    guint32 vcpus = 0;
    const char *st;

    assert_non_null(r);
    objs = g_variant_get_child_value(r, 0);
    assert_true(g_variant_lookup(objs, path, "@a{sa{sv}}", &ifaces));
    assert_true(g_variant_lookup(ifaces, HD_DBUS_WORKSPACE_IFACE, "@a{sv}", &props));
    assert_true(g_variant_lookup(props, "State", "&s", &st));
    assert_string_equal(st, "shutoff");
    {
        g_autoptr(GVariant) spec = g_variant_lookup_value(props, "Spec", G_VARIANT_TYPE_VARDICT);
        assert_non_null(spec);
        assert_true(g_variant_lookup(spec, "vcpus", "u", &vcpus));
        assert_int_equal(vcpus, 2);
    }
    call_ws(path, "Delete", NULL);
}

static void test_manager_properties(void **state)
{
    g_autoptr(GVariant) uri =
        hd_test_get_property(env, MANAGER, HD_DBUS_MANAGER_IFACE, "LibvirtUri");
    g_autoptr(GVariant) conn =
        hd_test_get_property(env, MANAGER, HD_DBUS_MANAGER_IFACE, "Connected");
    g_autoptr(GVariant) virt = NULL;
    g_autoptr(GVariant) reason = NULL;

    assert_string_equal(g_variant_get_string(uri, NULL), "test:///default");
    assert_true(g_variant_get_boolean(conn));
    /* libvirt's test driver never offers KVM (nor does a host without a usable
     * /dev/kvm): TCG, and the reason says which fact decided. The choice is
     * made off the main loop right after the connection: wait for it. */
    for (int i = 0; i < 100; i++) {
        g_clear_pointer(&virt, g_variant_unref);
        virt = hd_test_get_property(env, MANAGER, HD_DBUS_MANAGER_IFACE, "Virtualization");
        if (*g_variant_get_string(virt, NULL) != '\0')
            break;
        g_usleep(50 * 1000);
    }
    reason = hd_test_get_property(env, MANAGER, HD_DBUS_MANAGER_IFACE, "VirtualizationReason");
    assert_string_equal(g_variant_get_string(virt, NULL), "tcg");
    if (!g_str_has_prefix(g_variant_get_string(reason, NULL), "tcg: /dev/kvm ") &&
        !g_str_has_prefix(g_variant_get_string(reason, NULL), "tcg: libvirt does not offer KVM"))
        fail_msg("VirtualizationReason '%s'", g_variant_get_string(reason, NULL));
}

/* Run gdbus as uid 65534; returns its stderr (the D-Bus error, if any). */
static int gdbus_as(uid_t uid, gid_t extra_gid, char **err, const char *path, const char *method,
                    const char *arg)
{
    const char *argv[] = { "gdbus", "call",     "--system", "--dest", HD_DBUS_NAME, "--object-path",
                           path,    "--method", method,     arg,      NULL };

    return hd_test_run_as(env, uid, NOBODY, extra_gid, argv, NULL, err);
}

static void test_policy_denies_mutations(void **state)
{
    g_autofree char *path = create_ok("{'name': <'policy-1'>}");
    static const struct {
        const char *method;
        const char *arg;
        gboolean on_manager;
    } mutations[] = {
        { HD_DBUS_MANAGER_IFACE ".CreateWorkspace", "{'name': <'evil'>}", TRUE },
        { HD_DBUS_WORKSPACE_IFACE ".Start", NULL, FALSE },
        { HD_DBUS_WORKSPACE_IFACE ".Stop", "true", FALSE },
        { HD_DBUS_WORKSPACE_IFACE ".Delete", NULL, FALSE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(mutations); i++) {
        g_autofree char *err = NULL;
        int rc = gdbus_as(NOBODY, (gid_t)-1, &err, mutations[i].on_manager ? MANAGER : path,
                          mutations[i].method, mutations[i].arg);
        if (rc == 0 || strstr(err, "org.freedesktop.DBus.Error.AccessDenied") == NULL)
            fail_msg("%s as nobody: rc %d, stderr %s", mutations[i].method, rc, err);
    }
    /* Nothing changed. */
    assert_true(listed(path));
    assert_true(hd_test_wait_state(env, path, "shutoff", 100));
    assert_false(listed(HD_DBUS_WORKSPACE_PREFIX "evil"));
    call_ws(path, "Delete", NULL);
}

/* SetMemoryRange: checked like a spec, stored in the metadata (Spec and
 * MemoryMinBytes follow), refused to nobody by the bus; GetPolicyLog is
 * open to every user. */
static void test_set_memory_range(void **state)
{
    g_autofree char *path =
        create_ok("{'name': <'range-1'>, 'memory_max': <'1G'>, 'memory_min': <'256M'>}");
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = NULL, spec = NULL, min = NULL, log = NULL;
    g_autofree char *err = NULL, *out = NULL;
    guint64 v = 0;
    const char *set_argv[] = { "gdbus",     "call",       "--system",
                               "--dest",    HD_DBUS_NAME, "--object-path",
                               path,        "--method",   HD_DBUS_WORKSPACE_IFACE ".SetMemoryRange",
                               "268435456", "536870912",  NULL };
    const char *log_argv[] = { "gdbus",  "call",       "--system",
                               "--dest", HD_DBUS_NAME, "--object-path",
                               MANAGER,  "--method",   HD_DBUS_MANAGER_IFACE ".GetPolicyLog",
                               NULL };

    call_ws(path, "SetMemoryRange", g_variant_new("(tt)", (guint64)512 << 20, (guint64)768 << 20));
    spec = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, "Spec");
    assert_true(g_variant_lookup(spec, "memory_max", "t", &v));
    assert_int_equal(v, 768 << 20);
    assert_true(g_variant_lookup(spec, "memory_min", "t", &v));
    assert_int_equal(v, 512 << 20);
    min = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, "MemoryMinBytes");
    assert_int_equal(g_variant_get_uint64(min), 512 << 20);

    r = hd_test_call(env, path, HD_DBUS_WORKSPACE_IFACE, "SetMemoryRange",
                     g_variant_new("(tt)", (guint64)32 << 20, (guint64)1 << 30), &error);
    assert_null(r);
    expect_error(error, "dev.hocus.Hocusd1.Error.InvalidSpec", "key 'memory_min': 32 MiB");
    g_clear_error(&error);
    r = hd_test_call(env, path, HD_DBUS_WORKSPACE_IFACE, "SetMemoryRange",
                     g_variant_new("(tt)", (guint64)600 << 20, (guint64)300 << 20), &error);
    assert_null(r);
    expect_error(error, "dev.hocus.Hocusd1.Error.InvalidSpec", "is above memory_max");
    g_clear_error(&error);

    /* Refused by the bus to nobody; nothing changed. */
    assert_int_not_equal(hd_test_run_as(env, NOBODY, NOBODY, (gid_t)-1, set_argv, &out, &err), 0);
    assert_non_null(strstr(err, "org.freedesktop.DBus.Error.AccessDenied"));
    g_clear_pointer(&spec, g_variant_unref);
    spec = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, "Spec");
    assert_true(g_variant_lookup(spec, "memory_max", "t", &v));
    assert_int_equal(v, 768 << 20);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hd_test_run_as(env, NOBODY, NOBODY, (gid_t)-1, log_argv, &out, &err), 0);
    assert_non_null(strstr(out, "@aa{sv} []"));
    call_ws(path, "Delete", NULL);
}

static void test_policy_allows_reads(void **state)
{
    g_autofree char *path = create_ok("{'name': <'reader-1'>}");
    g_autofree char *err = NULL, *out = NULL;
    const char *list[] = { "gdbus",  "call",       "--system",
                           "--dest", HD_DBUS_NAME, "--object-path",
                           MANAGER,  "--method",   HD_DBUS_MANAGER_IFACE ".ListWorkspaces",
                           NULL };
    const char *om[] = {
        "gdbus",  "call",       "--system",
        "--dest", HD_DBUS_NAME, "--object-path",
        MANAGER,  "--method",   "org.freedesktop.DBus.ObjectManager.GetManagedObjects",
        NULL
    };
    const char *prop[] = { "gdbus",
                           "call",
                           "--system",
                           "--dest",
                           HD_DBUS_NAME,
                           "--object-path",
                           path,
                           "--method",
                           "org.freedesktop.DBus.Properties.GetAll",
                           HD_DBUS_WORKSPACE_IFACE,
                           NULL };

    assert_int_equal(hd_test_run_as(env, NOBODY, NOBODY, (gid_t)-1, list, &out, &err), 0);
    assert_non_null(strstr(out, path));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hd_test_run_as(env, NOBODY, NOBODY, (gid_t)-1, om, &out, &err), 0);
    assert_non_null(strstr(out, "reader-1"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    assert_int_equal(hd_test_run_as(env, NOBODY, NOBODY, (gid_t)-1, prop, &out, &err), 0);
    assert_non_null(strstr(out, "'State': <'shutoff'>"));
    call_ws(path, "Delete", NULL);
}

static void test_policy_hocus_group(void **state)
{
    struct group *g = getgrnam("hocus");
    g_autofree char *err = NULL;
    int rc;

    if (g == NULL) {
        /* A case that cannot run is a skip only where skips are allowed. */
        if (!hd_test_skips_allowed())
            fail_msg("no 'hocus' group on this machine (scripts/setup.sh creates it)");
        print_message("SKIP: no 'hocus' group on this machine (scripts/setup.sh creates it)\n");
        skip();
    }
    rc = gdbus_as(NOBODY, g->gr_gid, &err, MANAGER, HD_DBUS_MANAGER_IFACE ".CreateWorkspace",
                  "{'name': <'grouped'>}");
    if (rc != 0)
        fail_msg("a member of 'hocus' could not create: %s", err);
    call_ws(HD_DBUS_WORKSPACE_PREFIX "grouped", "Delete", NULL);
}

static void test_sigterm_exits_cleanly(void **state)
{
    /* SIGTERM is a clean exit and a new hocusd takes the name again. That a
     * restart keeps the workspaces cannot show here (test:///default lives
     * inside hocusd): test-rediscovery shows it with a driver file, and the
     * e2e lifecycle test with a running VM after hocusd was SIGKILLed. */
    g_autoptr(GError) error = NULL;
    int status = hd_test_env_stop_hocusd(env, SIGTERM);

    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(hd_test_env_start_hocusd(env, &error));
}

/* ---- signals clients rely on ---- */

typedef struct {
    GPtrArray *seen; /* "Added <path>", "Removed <path>", "State <value>", in order */
} Signals;

static void on_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                      const char *signal, GVariant *params, gpointer user_data)
{
    Signals *s = user_data;

    if (strcmp(signal, "InterfacesAdded") == 0 || strcmp(signal, "InterfacesRemoved") == 0) {
        const char *obj;

        g_variant_get_child(params, 0, "&o", &obj);
        g_ptr_array_add(s->seen,
                        g_strdup_printf("%s %s", signal[10] == 'A' ? "Added" : "Removed", obj));
    } else if (strcmp(signal, "PropertiesChanged") == 0) {
        g_autoptr(GVariant) changed = g_variant_get_child_value(params, 1);
        const char *state;

        if (g_variant_lookup(changed, "State", "&s", &state))
            g_ptr_array_add(s->seen, g_strdup_printf("State %s", state));
    }
}

static gboolean signals_contain(Signals *s, const char *what)
{
    for (guint i = 0; i < s->seen->len; i++) {
        if (strcmp(g_ptr_array_index(s->seen, i), what) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Iterate the main context until what was signalled, at most 5 s. */
static void wait_signal(Signals *s, const char *what)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (!signals_contain(s, what) && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(10000);
    if (!signals_contain(s, what)) {
        g_autofree char *all = NULL;

        g_ptr_array_add(s->seen, NULL);
        all = g_strjoinv(", ", (char **)s->seen->pdata);
        fail_msg("no signal '%s'; got: %s", what, all);
    }
}

/*
 * What a client watching the object manager sees: InterfacesAdded when a
 * workspace is created, PropertiesChanged on State as it starts and stops,
 * InterfacesRemoved when it is deleted.
 */
static void test_signals(void **state)
{
    Signals s = { g_ptr_array_new_with_free_func(g_free) };
    g_autofree char *path = NULL, *added = NULL, *removed = NULL;
    guint sub_om, sub_props;

    sub_om = g_dbus_connection_signal_subscribe(
        env->conn, HD_DBUS_NAME, "org.freedesktop.DBus.ObjectManager", NULL, HD_DBUS_ROOT_PATH,
        NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &s, NULL);
    sub_props = g_dbus_connection_signal_subscribe(
        env->conn, HD_DBUS_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged", NULL,
        HD_DBUS_WORKSPACE_IFACE, G_DBUS_SIGNAL_FLAGS_MATCH_ARG0_NAMESPACE, on_signal, &s, NULL);

    path = create_ok("{'name': <'signalled'>}");
    added = g_strdup_printf("Added %s", path);
    wait_signal(&s, added);
    call_ws(path, "Start", NULL);
    wait_signal(&s, "State running");
    call_ws(path, "Stop", g_variant_new("(b)", TRUE));
    wait_signal(&s, "State shutoff");
    call_ws(path, "Delete", NULL);
    removed = g_strdup_printf("Removed %s", path);
    wait_signal(&s, removed);

    g_dbus_connection_signal_unsubscribe(env->conn, sub_om);
    g_dbus_connection_signal_unsubscribe(env->conn, sub_props);
    g_ptr_array_unref(s.seen);
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

int main(void)
{
    const char *why = hd_test_env_unavailable(FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_get_workspace),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_state_errors),
        cmocka_unit_test(test_disk_smaller_than_base),
        cmocka_unit_test(test_object_manager),
        cmocka_unit_test(test_manager_properties),
        cmocka_unit_test(test_policy_denies_mutations),
        cmocka_unit_test(test_policy_allows_reads),
        cmocka_unit_test(test_set_memory_range),
        cmocka_unit_test(test_policy_hocus_group),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_sigterm_exits_cleanly),
    };

    if (why != NULL)
        return hd_test_skip(why);

    return cmocka_run_group_tests(tests, setup, teardown);
}
