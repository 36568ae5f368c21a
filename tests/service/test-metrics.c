/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control loop's output on the bus: hocusd on a private bus with the
 * real policy, libvirt's test driver (workspace "alpha" running), and the
 * host's /proc and /sys replaced by a fixture tree (config key host_root),
 * so that every figure has a known value. Checks the property types,
 * GetMetrics against the properties, PropertiesChanged carrying only what
 * changed, and LowMemoryWarning with its hysteresis.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd-test-env.h"
#include "hocusd/hd-names.h"

#define ALPHA HD_DBUS_WORKSPACE_PREFIX "alpha"

typedef struct {
    HdTestEnv *env;
    char *root;
} Fixture;

static void put(const char *root, const char *path, const char *content)
{
    g_autofree char *full = g_build_filename(root, path, NULL);
    g_autofree char *dir = g_path_get_dirname(full);
    g_autofree char *tmp = g_strconcat(full, ".tmp", NULL);

    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    /* Replaced atomically: hocusd may be reading it. */
    assert_true(g_file_set_contents(tmp, content, -1, NULL));
    assert_int_equal(g_rename(tmp, full), 0);
}

/* statm counts pages: kib must be a multiple of the page size. */
static void set_rss_kib(const char *root, guint64 kib)
{
    guint64 pages = kib * 1024 / (guint64)sysconf(_SC_PAGESIZE);
    g_autofree char *statm =
        g_strdup_printf("900000 %" G_GUINT64_FORMAT " 1000 500 0 80000 0\n", pages);
    put(root, "proc/4242/statm", statm);
}

static void set_host_psi(const char *root, double avg10)
{
    g_autofree char *psi = g_strdup_printf("some avg10=%.2f avg60=1.00 avg300=0.50 total=999\n"
                                           "full avg10=0.00 avg60=0.00 avg300=0.00 total=77\n",
                                           avg10);
    put(root, "proc/pressure/memory", psi);
}

static void make_host(const char *root)
{
    put(root, "proc/meminfo",
        "MemTotal:        8388608 kB\nMemFree:         4000000 kB\n"
        "MemAvailable:    6291456 kB\nCached:           100000 kB\n");
    set_host_psi(root, 0.0);
    put(root, "sys/kernel/mm/ksm/run", "1\n");
    put(root, "sys/kernel/mm/ksm/pages_sharing", "256\n");
    put(root, "sys/kernel/mm/ksm/pages_shared", "10\n");
    put(root, "proc/self/mountinfo",
        "25 21 0:23 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw\n");
    put(root, "run/libvirt/qemu/alpha.pid", "4242\n");
    set_rss_kib(root, 262144);
    put(root, "proc/4242/stat",
        "4242 (qemu-system-x86) S 1 4242 4242 0 -1 0 0 0 0 0 "
        "700 55 0 0 20 0 5 0 1000 2000000000 60000\n");
    put(root, "proc/4242/cgroup", "0::/machine/qemu-1-alpha.libvirt-qemu\n");
    put(root, "proc/4242/ksm_merging_pages", "64\n");
    put(root, "sys/fs/cgroup/machine/qemu-1-alpha.libvirt-qemu/memory.pressure",
        "some avg10=3.50 avg60=0.10 avg300=0.00 total=10\n"
        "full avg10=1.25 avg60=0.00 avg300=0.00 total=5\n");
}

static guint64 u64_prop(HdTestEnv *env, const char *path, const char *name)
{
    g_autoptr(GVariant) v = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, name);

    assert_non_null(v);
    return g_variant_get_uint64(v);
}

/* alpha's RssBytes in a GetMetrics reply. */
static guint64 metrics_rss(HdTestEnv *env)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r =
        hd_test_call(env, HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE, "GetMetrics", NULL, &error);
    g_autoptr(GVariant) m = NULL, wss = NULL, alpha = NULL;
    guint64 rss = 0;

    if (r == NULL)
        fail_msg("GetMetrics: %s", error->message);
    m = g_variant_get_child_value(r, 0);
    wss = g_variant_lookup_value(m, "workspaces", G_VARIANT_TYPE("a{sa{sv}}"));
    alpha = wss != NULL ? g_variant_lookup_value(wss, "alpha", G_VARIANT_TYPE_VARDICT) : NULL;
    assert_non_null(alpha);
    assert_true(g_variant_lookup(alpha, "RssBytes", "t", &rss));
    return rss;
}

static GVariant *get_all(HdTestEnv *env, const char *path, const char *iface)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = hd_test_call(env, path, "org.freedesktop.DBus.Properties", "GetAll",
                                         g_variant_new("(s)", iface), &error);

    if (r == NULL)
        fail_msg("GetAll %s: %s", iface, error->message);
    return g_variant_get_child_value(r, 0);
}

/*
 * hocusd samples every tick_ms: 200 ms, or 500 ms when it runs under a tool
 * (HD_TEST_HOCUSD_WRAPPER: valgrind), where a 200 ms tick on a busy host
 * leaves samples late enough to count as stale. Waits scale with it.
 */
static guint tick_ms = 200;

static guint ticks(guint n)
{
    return n * tick_ms;
}

/* Poll a uint64 property until it equals want (within 100 ticks). */
static gboolean wait_u64(HdTestEnv *env, const char *path, const char *iface, const char *name,
                         guint64 want)
{
    for (guint i = 0; i < 100 * tick_ms / 50; i++) {
        g_autoptr(GVariant) v = hd_test_get_property(env, path, iface, name);
        if (v != NULL && g_variant_get_uint64(v) == want)
            return TRUE;
        g_usleep(50000);
    }
    return FALSE;
}

/* Wait until a second sample made CpuUsage available: from then on a
 * static fixture gives static figures. */
static void wait_steady(HdTestEnv *env)
{
    for (guint i = 0; i < 100 * tick_ms / 50; i++) {
        g_autoptr(GVariant) v = hd_test_get_property(env, ALPHA, HD_DBUS_WORKSPACE_IFACE, "Absent");
        g_auto(GStrv) list = g_variant_dup_strv(v, NULL);
        if (!g_strv_contains((const char *const *)list, "CpuUsage") &&
            !g_strv_contains((const char *const *)list, "RssBytes"))
            return;
        g_usleep(50000);
    }
    fail_msg("CpuUsage did not appear within %u ms", ticks(100));
}

static int setup(void **state)
{
    g_autofree char *uri =
        g_strdup_printf("test://%s/test-driver-node.xml", g_getenv("HD_TEST_DATA_DIR"));
    g_autofree char *extra = NULL;
    Fixture *f = g_new0(Fixture, 1);
    g_autoptr(GError) error = NULL;

    f->root = g_dir_make_tmp("hd-metrics-root-XXXXXX", NULL);
    make_host(f->root);
    extra = g_strdup_printf("\"host_root\": \"%s\", \"sample_interval_ms\": %u, "
                            "\"metrics\": { \"idle_after_s\": 1 }",
                            f->root, tick_ms);
    f->env = hd_test_env_new(uri, extra);
    assert_non_null(f->env);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->root);

    hd_test_env_free(f->env);
    assert_int_equal(system(cmd), 0);
    g_free(f->root);
    g_free(f);
    return 0;
}

static void assert_type(GVariant *dict, const char *key, const char *type)
{
    g_autoptr(GVariant) v = g_variant_lookup_value(dict, key, NULL);

    if (v == NULL)
        fail_msg("no property %s", key);
    if (strcmp(g_variant_get_type_string(v), type) != 0)
        fail_msg("%s has type %s, want %s", key, g_variant_get_type_string(v), type);
}

static gboolean absent(GVariant *dict, const char *key)
{
    g_autofree const char **list = NULL;

    assert_true(g_variant_lookup(dict, "Absent", "^a&s", &list));
    return g_strv_contains(list, key);
}

/* ---- Idle and Stale, as a client sees them turn ---- */

static gboolean get_bool(HdTestEnv *env, const char *name)
{
    g_autoptr(GVariant) v = hd_test_get_property(env, ALPHA, HD_DBUS_WORKSPACE_IFACE, name);

    assert_non_null(v);
    return g_variant_get_boolean(v);
}

/* Poll a boolean property of alpha until it is want, within n ticks. */
static gboolean wait_bool(HdTestEnv *env, const char *name, gboolean want, guint n)
{
    for (guint i = 0; i < n * tick_ms / 50; i++) {
        if (get_bool(env, name) == want)
            return TRUE;
        g_usleep(50000);
    }
    return FALSE;
}

static void test_figures_and_types(void **state)
{
    Fixture *f = *state;
    g_autoptr(GVariant) ws = NULL, host = NULL;
    guint64 u;
    double d;

    assert_true(wait_u64(f->env, ALPHA, HD_DBUS_WORKSPACE_IFACE, "RssBytes", 262144ull * 1024));
    ws = get_all(f->env, ALPHA, HD_DBUS_WORKSPACE_IFACE);
    host = get_all(f->env, HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE);

    static const char *const ws_types[][2] = {
        { "SampleTimeUsec", "t" },    { "Stale", "b" },
        { "ConfiguredBytes", "t" },   { "RssBytes", "t" },
        { "BalloonBytes", "t" },      { "GuestUsedBytes", "t" },
        { "GuestFreeBytes", "t" },    { "GuestCacheBytes", "t" },
        { "FootprintRatio", "d" },    { "PressureSomeAvg10", "d" },
        { "PressureFullAvg10", "d" }, { "KsmMergingPages", "t" },
        { "CpuUsage", "d" },          { "Idle", "b" },
        { "ReclaimLatencySec", "d" }, { "ReclaimBytes", "t" },
        { "AgentConnected", "b" },    { "AgentLine", "s" },
        { "Guest", "a{sv}" },         { "Absent", "as" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(ws_types); i++)
        assert_type(ws, ws_types[i][0], ws_types[i][1]);
    static const char *const host_types[][2] = {
        { "SampleTimeUsec", "t" },     { "MemTotalBytes", "t" },     { "MemAvailableBytes", "t" },
        { "PressureSomeAvg10", "d" },  { "PressureSomeAvg60", "d" }, { "PressureSomeAvg300", "d" },
        { "PressureFullAvg10", "d" },  { "PressureFullAvg60", "d" }, { "PressureFullAvg300", "d" },
        { "PressureLevel", "y" },      { "KsmRunning", "b" },        { "KsmSavedBytes", "t" },
        { "WorkspacesRunning", "u" },  { "CommittedBytes", "t" },    { "ResidentBytes", "t" },
        { "OvercommitRatio", "d" },    { "Efficiency", "d" },        { "MedianIdleRssBytes", "t" },
        { "HeadroomWorkspaces", "u" }, { "Absent", "as" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(host_types); i++)
        assert_type(host, host_types[i][0], host_types[i][1]);

    /* The fixture's values, through hocusd. */
    assert_true(g_variant_lookup(ws, "ConfiguredBytes", "t", &u));
    assert_int_equal(u, 1073741824);
    assert_true(g_variant_lookup(ws, "KsmMergingPages", "t", &u));
    assert_int_equal(u, 64);
    assert_true(g_variant_lookup(ws, "PressureSomeAvg10", "d", &d));
    assert_true(d == 3.5);
    assert_true(g_variant_lookup(ws, "PressureFullAvg10", "d", &d));
    assert_true(d == 1.25);
    assert_false(absent(ws, "RssBytes"));
    assert_false(absent(ws, "PressureSomeAvg10"));
    /* The test driver has no balloon statistics and no agent: absent, not zero. */
    assert_true(absent(ws, "GuestUsedBytes"));
    assert_true(absent(ws, "FootprintRatio"));
    assert_true(absent(ws, "Guest"));
    assert_true(absent(ws, "ReclaimLatencySec"));

    assert_true(g_variant_lookup(host, "MemTotalBytes", "t", &u));
    assert_int_equal(u, 8388608ull * 1024);
    assert_true(g_variant_lookup(host, "KsmSavedBytes", "t", &u));
    assert_int_equal(u, 256ull * 4096);
    /* alpha: 1 GiB configured of 8 GiB; 256 MiB RSS; 6 GiB available -> 24 more. */
    assert_true(g_variant_lookup(host, "CommittedBytes", "t", &u));
    assert_int_equal(u, 1073741824);
    assert_true(g_variant_lookup(host, "ResidentBytes", "t", &u));
    assert_int_equal(u, 262144ull * 1024);
    assert_true(g_variant_lookup(host, "OvercommitRatio", "d", &d));
    assert_true(d == 0.125);
    {
        guint32 headroom = 0;
        assert_true(g_variant_lookup(host, "HeadroomWorkspaces", "u", &headroom));
        assert_int_equal(headroom, 24);
    }
    assert_true(absent(host, "Efficiency")); /* no guest figures anywhere */
    assert_false(absent(host, "PressureSomeAvg10"));
}

/* GetMetrics is the same data as the properties (the sample time aside, which moves). */
static void test_get_metrics_matches_properties(void **state)
{
    Fixture *f = *state;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = NULL, m = NULL, host = NULL, wss = NULL, alpha = NULL;
    g_autoptr(GVariant) props = NULL, host_props = NULL;
    GVariantIter it;
    const char *key;
    GVariant *value;

    assert_true(wait_u64(f->env, ALPHA, HD_DBUS_WORKSPACE_IFACE, "RssBytes", 262144ull * 1024));
    r = hd_test_call(f->env, HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE, "GetMetrics", NULL, &error);
    assert_non_null(r);
    m = g_variant_get_child_value(r, 0);
    host = g_variant_lookup_value(m, "host", G_VARIANT_TYPE_VARDICT);
    wss = g_variant_lookup_value(m, "workspaces", G_VARIANT_TYPE("a{sa{sv}}"));
    assert_non_null(host);
    assert_non_null(wss);
    alpha = g_variant_lookup_value(wss, "alpha", G_VARIANT_TYPE_VARDICT);
    assert_non_null(alpha);
    props = get_all(f->env, ALPHA, HD_DBUS_WORKSPACE_IFACE);
    host_props = get_all(f->env, HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE);

    g_variant_iter_init(&it, alpha);
    while (g_variant_iter_next(&it, "{&sv}", &key, &value)) {
        g_autoptr(GVariant) prop = g_variant_lookup_value(props, key, NULL);
        if (prop == NULL)
            fail_msg("GetMetrics has %s, the object has no such property", key);
        if (strcmp(key, "SampleTimeUsec") != 0 && !g_variant_equal(prop, value))
            fail_msg("%s: GetMetrics %s, property %s", key, g_variant_print(value, TRUE),
                     g_variant_print(prop, TRUE));
        g_variant_unref(value);
    }
    /* The 8 figures that always have a value, the 4 of the memory policy
     * and the 14 sampled ones. */
    assert_int_equal(g_variant_n_children(alpha), 26);
    g_variant_iter_init(&it, host);
    while (g_variant_iter_next(&it, "{&sv}", &key, &value)) {
        g_autoptr(GVariant) prop = g_variant_lookup_value(host_props, key, NULL);
        if (prop == NULL)
            fail_msg("GetMetrics host has %s, the manager has no such property", key);
        if (strcmp(key, "SampleTimeUsec") != 0 && !g_variant_equal(prop, value))
            fail_msg("host %s: GetMetrics %s, property %s", key, g_variant_print(value, TRUE),
                     g_variant_print(prop, TRUE));
        g_variant_unref(value);
    }
    /* 20 figures, the accelerator and its reason, and 6 of the memory policy. */
    assert_int_equal(g_variant_n_children(host), 28);
}

/* alpha's SampleTimeUsec as GetMetrics has it. */
static guint64 metrics_sample_time(HdTestEnv *env)
{
    g_autoptr(GVariant) r =
        hd_test_call(env, HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE, "GetMetrics", NULL, NULL);
    g_autoptr(GVariant) m = NULL, wss = NULL, alpha = NULL;
    guint64 t = 0;

    assert_non_null(r);
    m = g_variant_get_child_value(r, 0);
    wss = g_variant_lookup_value(m, "workspaces", G_VARIANT_TYPE("a{sa{sv}}"));
    alpha = g_variant_lookup_value(wss, "alpha", G_VARIANT_TYPE_VARDICT);
    assert_non_null(alpha);
    assert_true(g_variant_lookup(alpha, "SampleTimeUsec", "t", &t));
    return t;
}

/* alpha's SampleTimeUsec in GetManagedObjects. */
static guint64 managed_sample_time(HdTestEnv *env)
{
    g_autoptr(GVariant) r =
        hd_test_call(env, HD_DBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                     "GetManagedObjects", NULL, NULL);
    g_autoptr(GVariant) objects = NULL, ifaces = NULL, props = NULL;
    guint64 t = 0;

    assert_non_null(r);
    objects = g_variant_get_child_value(r, 0);
    ifaces = g_variant_lookup_value(objects, ALPHA, G_VARIANT_TYPE("a{sa{sv}}"));
    assert_non_null(ifaces);
    props = g_variant_lookup_value(ifaces, HD_DBUS_WORKSPACE_IFACE, G_VARIANT_TYPE_VARDICT);
    assert_non_null(props);
    assert_true(g_variant_lookup(props, "SampleTimeUsec", "t", &t));
    return t;
}

/*
 * A workspace's SampleTimeUsec is kept beside the generated property and
 * brought to it when read (hd-ws-skeleton.c): Get, GetAll, GetManagedObjects
 * and GetMetrics all give the current sample's time. Reads that straddle a
 * tick are taken again.
 */
static void test_sample_time_every_path(void **state)
{
    Fixture *f = *state;
    gboolean same_tick = FALSE;

    assert_true(wait_u64(f->env, ALPHA, HD_DBUS_WORKSPACE_IFACE, "RssBytes", 262144ull * 1024));
    for (guint attempt = 0; attempt < 10 && !same_tick; attempt++) {
        guint64 before = metrics_sample_time(f->env);
        guint64 got = u64_prop(f->env, ALPHA, "SampleTimeUsec");
        g_autoptr(GVariant) all = get_all(f->env, ALPHA, HD_DBUS_WORKSPACE_IFACE);
        guint64 managed = managed_sample_time(f->env), from_all = 0;
        guint64 after = metrics_sample_time(f->env);

        assert_true(g_variant_lookup(all, "SampleTimeUsec", "t", &from_all));
        assert_true(before > 0);
        if (before != after)
            continue;
        assert_int_equal(got, before);
        assert_int_equal(from_all, before);
        assert_int_equal(managed, before);
        same_tick = TRUE;
    }
    assert_true(same_tick);
}

typedef struct {
    GMainLoop *loop;
    GPtrArray *changed; /* a{sv} of each PropertiesChanged for the Workspace interface */
    GArray *levels;     /* LowMemoryWarning levels */
} Watch;

static void on_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                      const char *signal, GVariant *params, gpointer user_data)
{
    Watch *w = user_data;

    if (strcmp(signal, "PropertiesChanged") == 0) {
        const char *which;
        g_autoptr(GVariant) changed = NULL;
        g_autoptr(GVariant) inval = NULL;

        g_variant_get(params, "(&s@a{sv}@as)", &which, &changed, &inval);
        if (strcmp(which, HD_DBUS_WORKSPACE_IFACE) == 0)
            g_ptr_array_add(w->changed, g_variant_ref(changed));
    } else if (strcmp(signal, "LowMemoryWarning") == 0) {
        guchar level;
        g_variant_get(params, "(y)", &level);
        g_array_append_val(w->levels, level);
    }
}

static gboolean quit_loop(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static void spin(Watch *w, guint ms)
{
    g_timeout_add(ms, quit_loop, w->loop);
    g_main_loop_run(w->loop);
}

static void test_properties_changed_and_warning(void **state)
{
    Fixture *f = *state;
    Watch w = { g_main_loop_new(NULL, FALSE),
                g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref),
                g_array_new(FALSE, FALSE, 1) };
    guint sub_props, sub_warn;
    gboolean saw_rss = FALSE;
    guint64 t0;

    assert_true(wait_u64(f->env, ALPHA, HD_DBUS_WORKSPACE_IFACE, "RssBytes", 262144ull * 1024));
    wait_steady(f->env);
    /* The fixture's QEMU uses no CPU: once idle, it stays so. */
    assert_true(wait_bool(f->env, "Idle", TRUE, 30));
    sub_props = g_dbus_connection_signal_subscribe(
        f->env->conn, HD_DBUS_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged", ALPHA,
        NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &w, NULL);
    sub_warn = g_dbus_connection_signal_subscribe(f->env->conn, HD_DBUS_NAME, HD_DBUS_MANAGER_IFACE,
                                                  "LowMemoryWarning", HD_DBUS_ROOT_PATH, NULL,
                                                  G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &w, NULL);

    /* The fixture is static: in 10 ticks nothing is signalled (the sample
     * time moves, and is not signalled), yet the sample time is read fresh. */
    t0 = u64_prop(f->env, ALPHA, "SampleTimeUsec");
    spin(&w, ticks(10));
    for (guint i = 0; i < w.changed->len; i++)
        fail_msg("unchanged properties were signalled: %s",
                 g_variant_print(w.changed->pdata[i], TRUE));
    assert_true(u64_prop(f->env, ALPHA, "SampleTimeUsec") >= t0 + ticks(5) * 1000ull);
    g_ptr_array_set_size(w.changed, 0);

    /* RSS changes: the signal carries it, and not the figures that stayed. */
    assert_int_equal(metrics_rss(f->env), 262144ull * 1024);
    set_rss_kib(f->root, 131072);
    spin(&w, ticks(5));
    for (guint i = 0; i < w.changed->len; i++) {
        GVariant *c = w.changed->pdata[i];
        guint64 rss;
        if (g_variant_lookup(c, "RssBytes", "t", &rss)) {
            assert_int_equal(rss, 131072ull * 1024);
            saw_rss = TRUE;
        }
        assert_false(g_variant_lookup(c, "ConfiguredBytes", "t", NULL));
        assert_false(g_variant_lookup(c, "KsmMergingPages", "t", NULL));
    }
    assert_true(saw_rss);
    /* GetMetrics, asked before the change, does not answer with the old reply. */
    assert_int_equal(metrics_rss(f->env), 131072ull * 1024);

    /* Host PSI some avg10 45 % crosses the critical level (40), 35 % keeps it
     * (hysteresis: left below 32), 5 % ends it. */
    set_host_psi(f->root, 45.0);
    spin(&w, ticks(5));
    set_host_psi(f->root, 35.0);
    spin(&w, ticks(5));
    set_host_psi(f->root, 5.0);
    spin(&w, ticks(5));
    assert_int_equal(w.levels->len, 2);
    /* low-memory-monitor's scale: 255 critical. */
    assert_int_equal(g_array_index(w.levels, guchar, 0), 255);
    assert_int_equal(g_array_index(w.levels, guchar, 1), 0);

    g_dbus_connection_signal_unsubscribe(f->env->conn, sub_props);
    g_dbus_connection_signal_unsubscribe(f->env->conn, sub_warn);
    g_ptr_array_unref(w.changed);
    g_array_unref(w.levels);
    g_main_loop_unref(w.loop);
}

static void set_cpu_ticks(const char *root, guint64 utime)
{
    g_autofree char *stat =
        g_strdup_printf("4242 (qemu-system-x86) S 1 4242 4242 0 -1 0 0 0 0 0 "
                        "%" G_GUINT64_FORMAT " 55 0 0 20 0 5 0 1000 2000000000 60000\n",
                        utime);
    put(root, "proc/4242/stat", stat);
}

/*
 * Idle: a QEMU that uses no CPU for idle_after_s (1 s here) is idle; one
 * that burns CPU is not, and is idle again a second after it stops.
 * Stale: when samples stop coming (the sampler is stuck on a host file, here
 * a FIFO nobody writes), the figures are marked stale after three ticks, and
 * not stale once samples come again.
 */
static void test_idle_and_stale(void **state)
{
    Fixture *f = *state;
    g_autofree char *psi = g_build_filename(f->root, "proc/pressure/memory", NULL);
    g_autofree char *fifo = g_build_filename(f->root, "proc/pressure/memory.fifo", NULL);
    guint64 utime = 700;
    gboolean seen_busy = FALSE;
    int fd;

    assert_true(wait_u64(f->env, ALPHA, HD_DBUS_WORKSPACE_IFACE, "RssBytes", 262144ull * 1024));
    if (!wait_bool(f->env, "Idle", TRUE, 30))
        fail_msg("a QEMU using no CPU did not turn idle");
    /* Half a CPU's worth of clock ticks per tick: far above idle_cpu_percent. */
    for (int i = 0; i < 15 && !seen_busy; i++) {
        utime += 100 * tick_ms / 1000 / 2 + 10;
        set_cpu_ticks(f->root, utime);
        g_usleep(tick_ms * 1000);
        seen_busy = !get_bool(f->env, "Idle");
    }
    if (!seen_busy)
        fail_msg("a QEMU burning CPU stayed idle");
    if (!wait_bool(f->env, "Idle", TRUE, 30))
        fail_msg("the QEMU did not turn idle again once it stopped using CPU");

    assert_false(get_bool(f->env, "Stale"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(g_rename(fifo, psi), 0);
    if (!wait_bool(f->env, "Stale", TRUE, 20))
        fail_msg("figures did not turn stale with the sampler stuck");
    /* Unstick the samplers (each gets the data or an end of file) and give
     * later ones a plain file again. */
    fd = open(psi, O_WRONLY | O_NONBLOCK);
    assert_true(fd >= 0);
    set_host_psi(f->root, 0.0);
    close(fd);
    if (!wait_bool(f->env, "Stale", FALSE, 20))
        fail_msg("figures stayed stale once samples came again");
}

int main(void)
{
    const char *why = hd_test_env_unavailable(FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_figures_and_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_metrics_matches_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sample_time_every_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_properties_changed_and_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_and_stale, setup, teardown),
    };

    if (g_getenv("HD_TEST_HOCUSD_WRAPPER") != NULL)
        tick_ms = 500;
    if (why != NULL)
        return hd_test_skip(why);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
