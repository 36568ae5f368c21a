/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service layer in-process, with no bus: an inventory and its
 * workspaces on a real libvirt connection (the test driver, test:///default,
 * whose state every connection of this process shares). The hypervisor
 * forwards no lifecycle events here: each test injects them itself, in the
 * order whose handling it checks, and changes libvirt through a connection
 * of its own, as virsh would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd-daemon-private.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-libvirt-ops.h"

#define URI  "test:///default"
#define POOL "default-pool"

typedef struct {
    HdHypervisor *hv;
    HdInventory *inv;
    virConnectPtr conn; /* the test's own, like virsh's */
    guint changed;
    guint discovered;
} Fixture;

/* ---- waiting on the main loop ---- */

static gboolean wake(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

/* Iterate the main loop until pred(data), at most 10 s. */
static gboolean spin_until(gboolean (*pred)(gpointer), gpointer data)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    guint waker = g_timeout_add(20, wake, NULL);
    gboolean ok;

    while (!(ok = pred(data)) && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(waker);
    return ok;
}

static gboolean hv_connected(gpointer data)
{
    return hd_hypervisor_is_connected(((Fixture *)data)->hv);
}

static gboolean inventory_idle(gpointer data)
{
    return hd_inventory_jobs_in_flight(((Fixture *)data)->inv) == 0;
}

/* ---- the fixture ---- */

static void on_changed(gpointer user_data)
{
    ((Fixture *)user_data)->changed++;
}

static void on_discovered(gpointer user_data)
{
    ((Fixture *)user_data)->discovered++;
}

static const HdInventoryCallbacks inventory_callbacks = {
    .changed = on_changed,
    .discovered = on_discovered,
};

static Fixture *fixture_new(guint stop_timeout_s)
{
    static const HdHypervisorCallbacks no_events = { 0 };
    Fixture *f = g_new0(Fixture, 1);

    f->conn = virConnectOpen(URI);
    assert_non_null(f->conn);
    f->hv = hd_hypervisor_new(URI, 0, 0, &no_events, NULL);
    hd_hypervisor_start(f->hv);
    assert_true(spin_until(hv_connected, f));
    f->inv = hd_inventory_new(f->hv, NULL, stop_timeout_s, &inventory_callbacks, f);
    hd_inventory_reconcile(f->inv);
    assert_true(spin_until(inventory_idle, f));
    assert_true(hd_inventory_is_discovered(f->inv));
    assert_int_equal(f->discovered, 1);
    return f;
}

static void fixture_free(Fixture *f)
{
    assert_true(spin_until(inventory_idle, f));
    hd_inventory_free(f->inv);
    hd_hypervisor_stop(f->hv);
    hd_hypervisor_unref(f->hv);
    virConnectClose(f->conn);
    g_free(f);
}

/* ---- libvirt, changed from outside (as with virsh) ---- */

/* Define NAME as a hocusd workspace with its disk NAME.qcow2 in POOL. */
static void define_workspace(Fixture *f, const char *name)
{
    g_autofree char *vol_name = g_strdup_printf("%s.qcow2", name);
    g_autofree char *vol_xml =
        g_strdup_printf("<volume><name>%s</name><capacity>1048576</capacity></volume>", vol_name);
    g_autofree char *xml = g_strdup_printf(
        "<domain type='test'><name>%s</name><memory>1048576</memory>"
        "<os><type>hvm</type></os><metadata>"
        "<hocus:workspace xmlns:hocus='https://hocus.dev/xmlns/hocusd/1' version='1'>"
        "<hocus:name>%s</hocus:name><hocus:vcpus>1</hocus:vcpus>"
        "<hocus:memory_max>1073741824</hocus:memory_max>"
        "<hocus:memory_min>268435456</hocus:memory_min>"
        "<hocus:disk_size>1073741824</hocus:disk_size>"
        "<hocus:kernel>/k</hocus:kernel><hocus:initrd>/i</hocus:initrd>"
        "<hocus:storage_pool>" POOL "</hocus:storage_pool>"
        "<hocus:volume>%s.qcow2</hocus:volume>"
        "<hocus:created_usec>1700000000000000</hocus:created_usec>"
        "</hocus:workspace></metadata></domain>",
        name, name, name);
    virStoragePoolPtr pool = virStoragePoolLookupByName(f->conn, POOL);
    virStorageVolPtr vol;
    virDomainPtr dom;

    assert_non_null(pool);
    vol = virStorageVolLookupByName(pool, vol_name);
    if (vol == NULL)
        vol = virStorageVolCreateXML(pool, vol_xml, 0);
    assert_non_null(vol);
    virStorageVolFree(vol);
    virStoragePoolFree(pool);
    dom = virDomainDefineXML(f->conn, xml);
    assert_non_null(dom);
    virDomainFree(dom);
}

static virDomainPtr domain(Fixture *f, const char *name)
{
    return virDomainLookupByName(f->conn, name);
}

static gboolean domain_exists(Fixture *f, const char *name)
{
    virDomainPtr dom = domain(f, name);

    if (dom == NULL)
        return FALSE;
    virDomainFree(dom);
    return TRUE;
}

static int domain_active(Fixture *f, const char *name)
{
    virDomainPtr dom = domain(f, name);
    int active;

    assert_non_null(dom);
    active = virDomainIsActive(dom);
    virDomainFree(dom);
    return active;
}

static void domain_do(Fixture *f, const char *name, int (*op)(virDomainPtr))
{
    virDomainPtr dom = domain(f, name);

    assert_non_null(dom);
    assert_int_equal(op(dom), 0);
    virDomainFree(dom);
}

static int undefine_domain(virDomainPtr dom)
{
    return virDomainUndefine(dom);
}

/* Wait, without running the main loop (so no job completes meanwhile), until
 * libvirt itself shows what a job did. */
static void wait_libvirt(Fixture *f, const char *name, gboolean (*pred)(Fixture *, const char *))
{
    for (int i = 0; i < 1000 && !pred(f, name); i++)
        g_usleep(10000);
    assert_true(pred(f, name));
}

static gboolean is_gone(Fixture *f, const char *name)
{
    return !domain_exists(f, name);
}

static gboolean is_active(Fixture *f, const char *name)
{
    return domain_active(f, name) == 1;
}

static gboolean is_inactive(Fixture *f, const char *name)
{
    return domain_active(f, name) == 0;
}

static HdDomainInfo *read_domain(Fixture *f, const char *name)
{
    g_autoptr(GError) error = NULL;
    HdDomainInfo *info = hd_libvirt_get_domain(f->conn, name, &error);

    assert_non_null(info);
    return info;
}

static HdWorkspace *add(Fixture *f, const char *name)
{
    g_autoptr(HdDomainInfo) info = read_domain(f, name);
    HdWorkspace *ws = hd_inventory_apply(f->inv, info);

    assert_non_null(ws);
    return ws;
}

/* ---- operations ---- */

typedef struct {
    gboolean done;
    GError *error;
} Outcome;

static void on_done(HdWorkspace *ws, const GError *error, gpointer user_data)
{
    Outcome *o = user_data;

    o->done = TRUE;
    o->error = error != NULL ? g_error_copy(error) : NULL;
}

static gboolean outcome_done(gpointer data)
{
    return ((Outcome *)data)->done;
}

static void event(Fixture *f, const char *name, int type, int detail)
{
    hd_inventory_domain_event(f->inv, name, type, detail);
}

/* libvirt undefines name and says so. */
static void forget(Fixture *f, const char *name)
{
    domain_do(f, name, undefine_domain);
    event(f, name, VIR_DOMAIN_EVENT_UNDEFINED, 0);
}

/* ---- the tests ---- */

/* A reconcile while a create is in flight neither adds the half-made
 * workspace (a client could delete it before the create returns, and the
 * create would then bring it back) nor removes it; a workspace gone from
 * libvirt meanwhile goes. */
static void test_reconcile_during_create(void **state)
{
    Fixture *f = fixture_new(60);
    g_autoptr(HdDomainInfo) info = NULL;
    HdWorkspace *ws;

    define_workspace(f, "rc-old");
    add(f, "rc-old");
    domain_do(f, "rc-old", undefine_domain);
    assert_true(hd_inventory_reserve(f->inv, "rc-new"));
    assert_false(hd_inventory_reserve(f->inv, "rc-new"));
    assert_false(hd_inventory_reserve(f->inv, "rc-old"));
    define_workspace(f, "rc-new"); /* the create's define */

    hd_inventory_reconcile(f->inv);
    assert_true(spin_until(inventory_idle, f));
    assert_null(hd_inventory_lookup(f->inv, "rc-old"));
    assert_null(hd_inventory_lookup(f->inv, "rc-new"));
    assert_true(hd_inventory_is_reserved(f->inv, "rc-new"));

    /* The create completes: one workspace, the name released. */
    info = read_domain(f, "rc-new");
    ws = hd_inventory_add_created(f->inv, info);
    assert_non_null(ws);
    assert_ptr_equal(hd_inventory_lookup(f->inv, "rc-new"), ws);
    assert_false(hd_inventory_is_reserved(f->inv, "rc-new"));
    assert_int_equal(hd_inventory_jobs_in_flight(f->inv), 0); /* read back: no refresh */
    forget(f, "rc-new");
    assert_null(hd_inventory_lookup(f->inv, "rc-new"));
    fixture_free(f);
}

/* libvirt announces a create's domain (DEFINED) before the create returns:
 * nothing is read or added then. When reading the domain back failed, the
 * create still adds the workspace from what it defined and reads it again. */
static void test_defined_during_create(void **state)
{
    Fixture *f = fixture_new(60);
    g_autoptr(HdDomainInfo) read = NULL;
    HdDomainInfo defined = { 0 };
    HdWorkspace *ws;

    assert_true(hd_inventory_reserve(f->inv, "dc"));
    define_workspace(f, "dc");
    event(f, "dc", VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_ADDED);
    assert_int_equal(hd_inventory_jobs_in_flight(f->inv), 0);
    assert_null(hd_inventory_lookup(f->inv, "dc"));

    read = read_domain(f, "dc");
    defined.name = read->name;
    defined.state = HD_STATE_SHUTOFF;
    defined.metadata_xml = read->metadata_xml; /* no UUID: not read back */
    ws = hd_inventory_add_created(f->inv, &defined);
    assert_non_null(ws);
    assert_string_equal(hd_dbus_workspace_get_uuid(hd_workspace_get_iface(ws)), "");
    assert_int_equal(hd_inventory_jobs_in_flight(f->inv), 1);
    assert_true(spin_until(inventory_idle, f));
    assert_ptr_equal(hd_inventory_lookup(f->inv, "dc"), ws);
    assert_string_equal(hd_dbus_workspace_get_uuid(hd_workspace_get_iface(ws)), read->uuid);

    forget(f, "dc");
    fixture_free(f);
}

/* A Delete that completes after its workspace was undefined and a new one
 * made under the same name removes its own object, not the new workspace. */
static void test_delete_acts_on_its_object(void **state)
{
    Fixture *f = fixture_new(60);
    g_autoptr(HdWorkspace) old_ws = NULL;
    g_autoptr(GError) error = NULL;
    Outcome o = { 0 };
    HdWorkspace *new_ws;

    define_workspace(f, "del");
    old_ws = hd_workspace_ref(add(f, "del"));
    assert_true(hd_workspace_delete(old_ws, on_done, &o, &error));
    /* Refused while it runs. */
    assert_false(hd_workspace_delete(old_ws, on_done, &o, &error));
    assert_true(g_error_matches(error, HD_ERROR, HD_ERROR_BUSY));

    /* libvirt undefines it and says so; a create makes "del" again. */
    wait_libvirt(f, "del", is_gone);
    event(f, "del", VIR_DOMAIN_EVENT_UNDEFINED, 0);
    assert_false(hd_workspace_is_attached(old_ws));
    define_workspace(f, "del");
    new_ws = add(f, "del");
    assert_true(new_ws != old_ws);

    assert_true(spin_until(outcome_done, &o));
    assert_null(o.error);
    assert_ptr_equal(hd_inventory_lookup(f->inv, "del"), new_ws);
    assert_true(hd_workspace_is_attached(new_ws));

    forget(f, "del");
    fixture_free(f);
}

/* Start reads the state back right after the RPC; a guest that powered off
 * at once has sent newer news by the time that read is applied. */
static void test_read_state_older_than_event(void **state)
{
    Fixture *f = fixture_new(60);
    g_autoptr(GError) error = NULL;
    Outcome o = { 0 };
    HdWorkspace *ws;

    define_workspace(f, "ooo");
    ws = add(f, "ooo");
    assert_int_equal(hd_workspace_get_state(ws), HD_STATE_SHUTOFF);
    assert_true(hd_workspace_start(ws, on_done, &o, &error));
    wait_libvirt(f, "ooo", is_active); /* the job read "running" or is about to */
    event(f, "ooo", VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
    event(f, "ooo", VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN);
    assert_int_equal(hd_workspace_get_state(ws), HD_STATE_SHUTOFF);

    assert_true(spin_until(outcome_done, &o));
    assert_null(o.error);
    assert_int_equal(hd_workspace_get_state(ws), HD_STATE_SHUTOFF);
    assert_string_equal(hd_dbus_workspace_get_state(hd_workspace_get_iface(ws)), "shutoff");

    domain_do(f, "ooo", virDomainDestroy);
    forget(f, "ooo");
    fixture_free(f);
}

static gboolean is_shutoff(gpointer data)
{
    return hd_workspace_get_state(data) == HD_STATE_SHUTOFF;
}

/* A graceful Stop the guest does not follow (here: it is running again by
 * the time the Stop completes) becomes a power-off after stop_timeout_s. */
static void test_stop_escalates(void **state)
{
    Fixture *f = fixture_new(1);
    g_autoptr(GError) error = NULL;
    Outcome o = { 0 };
    HdWorkspace *ws;
    gint64 t0;

    define_workspace(f, "esc");
    domain_do(f, "esc", virDomainCreate);
    ws = add(f, "esc");
    assert_int_equal(hd_workspace_get_state(ws), HD_STATE_RUNNING);
    t0 = g_get_monotonic_time();
    assert_true(hd_workspace_stop(ws, FALSE, on_done, &o, &error));
    wait_libvirt(f, "esc", is_inactive);
    domain_do(f, "esc", virDomainCreate);
    event(f, "esc", VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN);
    event(f, "esc", VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
    assert_true(spin_until(outcome_done, &o));
    assert_null(o.error);
    assert_int_equal(hd_workspace_get_state(ws), HD_STATE_RUNNING);

    assert_true(spin_until(is_shutoff, ws));
    /* Not before the time-out (GLib's second timers may fire up to 1/4 s early). */
    assert_true(g_get_monotonic_time() - t0 >= 700 * 1000);
    assert_int_equal(domain_active(f, "esc"), 0);
    assert_int_equal(strlen(hd_dbus_workspace_get_last_error(hd_workspace_get_iface(ws)) ?: ""), 0);

    forget(f, "esc");
    fixture_free(f);
}

/* ---- jobs ---- */

typedef struct {
    GThread *main_thread;
    guint freed, freed_elsewhere, done;
    GPtrArray *holders; /* threads holding a reference to a finished job */
} JobCount;

typedef struct {
    JobCount *count;
} JobData;

static gpointer nothing_thread(virConnectPtr conn, gpointer data, GError **error)
{
    return NULL;
}

static void job_data_free(gpointer data)
{
    JobData *jd = data;

    jd->count->freed++;
    if (g_thread_self() != jd->count->main_thread)
        jd->count->freed_elsewhere++;
    g_free(jd);
}

static gpointer unref_later(gpointer task)
{
    g_usleep(20000);
    g_object_unref(task);
    return NULL;
}

/* Whoever else holds a finished job (GTask's worker may, for a moment) lets
 * go of it last, on another thread. */
static void job_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    JobCount *c = user_data;

    (void)hd_job_finish(res, NULL);
    c->done++;
    g_ptr_array_add(c->holders, g_thread_new("holder", unref_later, g_object_ref(res)));
}

static gboolean all_done(gpointer data)
{
    return ((JobCount *)data)->done == 50;
}

/* A job's data may hold workspaces, whose reference count is not atomic: it
 * is freed on the main thread after the job's callback, whichever thread
 * drops the last reference to the job. */
static void test_job_data_freed_on_main_thread(void **state)
{
    Fixture *f = fixture_new(60);
    JobCount c = { g_thread_self(), 0, 0, 0, g_ptr_array_new() };

    for (int i = 0; i < 50; i++) {
        JobData *jd = g_new0(JobData, 1);

        jd->count = &c;
        hd_job_run(f->hv, nothing_thread, jd, job_data_free, job_done, &c);
    }
    assert_true(spin_until(all_done, &c));
    for (guint i = 0; i < c.holders->len; i++)
        g_thread_join(g_ptr_array_index(c.holders, i));
    g_ptr_array_unref(c.holders);
    assert_int_equal(c.freed, 50);
    assert_int_equal(c.freed_elsewhere, 0);
    fixture_free(f);
}

/* ---- the control loop ---- */

typedef struct {
    GArray *seen; /* every PressureSomeAvg10 the manager published, in order */
} Published;

static void on_pressure(GObject *mgr, GParamSpec *pspec, gpointer user_data)
{
    Published *p = user_data;
    double v = hd_dbus_manager_get_pressure_some_avg10(HD_DBUS_MANAGER(mgr));

    g_array_append_val(p->seen, v);
}

static gboolean published_fresh(gpointer data)
{
    Published *p = data;

    for (guint i = 0; i < p->seen->len; i++) {
        if (g_array_index(p->seen, double, i) == 2.0)
            return TRUE;
    }
    return FALSE;
}

typedef struct {
    const char *path;
    int fd;
} Fifo;

/* A sampler has the FIFO open for reading (until then a writer's
 * non-blocking open fails with ENXIO); the writer stays open, so the
 * sampler blocks in read() until the test writes. */
static gboolean reader_waits(gpointer data)
{
    Fifo *fifo = data;

    fifo->fd = open(fifo->path, O_WRONLY | O_NONBLOCK);
    if (fifo->fd < 0) {
        assert_int_equal(errno, ENXIO);
        return FALSE;
    }
    return TRUE;
}

static void write_psi(const char *path, double avg10)
{
    g_autofree char *text = g_strdup_printf("some avg10=%.2f avg60=0.00 avg300=0.00 total=1\n"
                                            "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                                            avg10);

    assert_true(g_file_set_contents(path, text, -1, NULL));
}

/*
 * A sampler stuck on a slow read finishes after samplers started later: its
 * older snapshot is dropped, never published over a newer one. The host's
 * PSI file is a FIFO for the first sampler, which blocks in it until the test
 * writes, and a plain file for the later ones.
 */
static void test_out_of_order_samples(void **state)
{
    Fixture *f = fixture_new(60);
    g_autofree char *root = g_dir_make_tmp("hd-service-core-XXXXXX", NULL);
    g_autofree char *proc = g_build_filename(root, "proc", "pressure", NULL);
    g_autofree char *psi = g_build_filename(proc, "memory", NULL);
    g_autofree char *fifo = g_build_filename(proc, "memory.fifo", NULL);
    g_autofree char *fresh = g_build_filename(proc, "memory.new", NULL);
    g_autoptr(HdConfig) config = hd_config_new_default();
    Published p = { g_array_new(FALSE, FALSE, sizeof(double)) };
    HdDaemon d = { 0 };
    HdMonitor *m;
    Fifo writer = { psi, -1 };

    assert_int_equal(g_mkdir_with_parents(proc, 0755), 0);
    write_psi(psi, 1.0); /* read once, on the main loop, at start */
    g_free(config->host_root);
    config->host_root = g_strdup(root);
    config->sample_interval_ms = 50;
    d.config = config;
    d.manager = hd_dbus_manager_skeleton_new();
    d.hv = f->hv;
    d.inventory = f->inv;
    m = hd_monitor_new(&d);
    g_signal_connect(d.manager, "notify::pressure-some-avg10", G_CALLBACK(on_pressure), &p);

    /* The next sampler opens the FIFO and waits for a writer. */
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(rename(fifo, psi), 0);
    assert_true(spin_until(reader_waits, &writer));
    /* Later samplers read a plain file; wait until one has published. */
    write_psi(fresh, 2.0);
    assert_int_equal(rename(fresh, psi), 0);
    assert_true(spin_until(published_fresh, &p));

    /* The first sampler gets its (old) figures now and finishes. */
    {
        const char *old = "some avg10=90.00 avg60=0.00 avg300=0.00 total=1\n";

        assert_int_equal(write(writer.fd, old, strlen(old)), (ssize_t)strlen(old));
        close(writer.fd);
    }
    {
        gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC;

        while (g_get_monotonic_time() < end)
            if (!g_main_context_iteration(NULL, FALSE))
                g_usleep(5000);
    }
    for (guint i = 0; i < p.seen->len; i++)
        assert_true(g_array_index(p.seen, double, i) != 90.0);
    assert_true(hd_dbus_manager_get_pressure_some_avg10(d.manager) == 2.0);

    hd_monitor_free(m);
    g_object_unref(d.manager);
    g_array_unref(p.seen);
    g_unlink(psi);
    g_rmdir(proc);
    {
        g_autofree char *procdir = g_path_get_dirname(proc);

        g_rmdir(procdir);
    }
    g_rmdir(root);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconcile_during_create),
        cmocka_unit_test(test_defined_during_create),
        cmocka_unit_test(test_delete_acts_on_its_object),
        cmocka_unit_test(test_read_state_older_than_event),
        cmocka_unit_test(test_stop_escalates),
        cmocka_unit_test(test_job_data_freed_on_main_thread),
        cmocka_unit_test(test_out_of_order_samples),
    };

    hd_libvirt_silence_errors();
    hd_hypervisor_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
