/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-hypervisor"

#include <libvirt-glib/libvirt-glib.h>
#include <libvirt/virterror.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-hypervisor.h"
#include "hocusd/hd-libvirt-ops.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS   30000

struct _HdHypervisor {
    gint refcount;
    char *uri;
    guint keepalive_interval_s;
    guint keepalive_count;
    HdHypervisorCallbacks cb;
    gpointer user_data;
    GMainContext *context;

    GMutex lock; /* guards conn: worker threads take references */
    virConnectPtr conn;
    int lifecycle_id;                /* event callback id on conn, -1 when none */
    struct _ConnWatch *watch;        /* close-callback state of conn */
    struct _ConnWatch *registration; /* the reference registered with conn, or NULL */

    gboolean started;
    gboolean stopped;
    gboolean connecting;
    guint retry_source;
    guint backoff_ms;
    guint attempts;
};

/*
 * One per connection, registered with its close callback before the
 * connection is handed to the main loop: a close that libvirt reports in
 * between is remembered here (closed), and open_done then treats the
 * connection as already lost instead of publishing a dead one.
 *
 * The registration holds a reference of its own, dropped by whoever
 * unregisters the callback, after unregistering. It is not given to libvirt
 * as a free function: drivers without close callbacks (test:///) accept the
 * registration and never call it, which leaked every connection's watch.
 */
typedef struct _ConnWatch {
    gint refcount;
    HdHypervisor *hv; /* a reference */
    gint closed;      /* atomic: libvirt reported the close */
    gint reason;
} ConnWatch;

typedef struct {
    ConnWatch *watch;
    int reason;
} CloseReport;

void hd_hypervisor_global_init(void)
{
    hd_libvirt_silence_errors();
    gvir_init(NULL, NULL);
    gvir_event_register();
}

static const char *close_reason_string(int reason)
{
    switch (reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR:
        return "I/O error";
    case VIR_CONNECT_CLOSE_REASON_EOF:
        return "libvirtd closed the connection";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
        return "keepalive timeout";
    case VIR_CONNECT_CLOSE_REASON_CLIENT:
        return "closed by client";
    default:
        return "unknown reason";
    }
}

static void schedule_connect(HdHypervisor *hv, guint delay_ms);
static void on_close(virConnectPtr conn, int reason, void *opaque);

static ConnWatch *watch_ref(ConnWatch *w)
{
    g_atomic_int_inc(&w->refcount);
    return w;
}

static void watch_unref(void *data)
{
    ConnWatch *w = data;

    if (w != NULL && g_atomic_int_dec_and_test(&w->refcount)) {
        hd_hypervisor_unref(w->hv);
        g_free(w);
    }
}

static void close_report_free(gpointer data)
{
    CloseReport *r = data;

    watch_unref(r->watch);
    g_free(r);
}

typedef struct {
    virConnectPtr conn;
    int lifecycle_id;
    ConnWatch *registration;
} Closing;

static gpointer close_thread(gpointer data)
{
    Closing *c = data;

    /* On a dead connection these fail at once; on a live one they are RPCs. */
    if (c->lifecycle_id >= 0)
        virConnectDomainEventDeregisterAny(c->conn, c->lifecycle_id);
    if (c->registration != NULL) {
        virConnectUnregisterCloseCallback(c->conn, on_close);
        watch_unref(c->registration);
    }
    virConnectClose(c->conn);
    g_free(c);
    return NULL;
}

/* Forget the current connection; its teardown RPCs run on a short-lived
 * thread so that a hung libvirtd cannot stall the main loop. */
static void drop_connection(HdHypervisor *hv)
{
    ConnWatch *w;
    Closing *c;

    g_mutex_lock(&hv->lock);
    if (hv->conn == NULL) {
        g_mutex_unlock(&hv->lock);
        return;
    }
    c = g_new0(Closing, 1);
    c->conn = hv->conn;
    c->lifecycle_id = hv->lifecycle_id;
    c->registration = g_steal_pointer(&hv->registration);
    hv->conn = NULL;
    hv->lifecycle_id = -1;
    w = g_steal_pointer(&hv->watch);
    g_mutex_unlock(&hv->lock);
    watch_unref(w); /* outside the lock: it may drop a reference on hv */
    g_thread_unref(g_thread_new("hd-conn-close", close_thread, c));
}

/* Main loop: the current connection is gone; tell and reconnect. */
static void connection_lost(HdHypervisor *hv, int reason)
{
    g_warning("Lost the libvirt connection to %s (%s); reconnecting", hv->uri,
              close_reason_string(reason));
    drop_connection(hv);
    if (hv->cb.disconnected != NULL)
        hv->cb.disconnected(hv, close_reason_string(reason), hv->user_data);
    hv->backoff_ms = BACKOFF_FIRST_MS;
    schedule_connect(hv, 0);
}

static gboolean handle_close_report(gpointer data)
{
    CloseReport *r = data;
    HdHypervisor *hv = r->watch->hv;
    gboolean current;

    /* Reports of a connection already dropped (or not yet handed over: then
     * open_done sees the closed flag) are ignored. */
    g_mutex_lock(&hv->lock);
    current = hv->conn != NULL && hv->watch == r->watch;
    g_mutex_unlock(&hv->lock);
    if (!current || hv->stopped)
        return G_SOURCE_REMOVE;
    connection_lost(hv, r->reason);
    return G_SOURCE_REMOVE;
}

/* May run on any thread (whichever noticed the socket close). */
static void on_close(virConnectPtr conn, int reason, void *opaque)
{
    ConnWatch *w = opaque;
    CloseReport *r = g_new0(CloseReport, 1);
    GSource *source;

    g_atomic_int_set(&w->reason, reason);
    g_atomic_int_set(&w->closed, 1);
    r->watch = watch_ref(w);
    r->reason = reason;
    /* Always deferred: libvirt calls this with its client lock held, often on
     * the main thread itself, where g_main_context_invoke() would run the
     * handler at once and deadlock on that lock. */
    source = g_idle_source_new();
    g_source_set_callback(source, handle_close_report, r, close_report_free);
    g_source_attach(source, w->hv->context);
    g_source_unref(source);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    HdHypervisor *hv = opaque;
    const char *name = virDomainGetName(dom); /* local, no RPC */

    if (hv->cb.domain_event != NULL && name != NULL)
        hv->cb.domain_event(hv, name, event, detail, hv->user_data);
    return 0;
}

typedef struct {
    virConnectPtr conn;
    int lifecycle_id;
    ConnWatch *watch;
    ConnWatch *registration;
} OpenResult;

static void open_result_free(OpenResult *r)
{
    watch_unref(r->watch);
    if (r->conn != NULL) {
        if (r->lifecycle_id >= 0)
            virConnectDomainEventDeregisterAny(r->conn, r->lifecycle_id);
        if (r->registration != NULL) {
            virConnectUnregisterCloseCallback(r->conn, on_close);
            watch_unref(r->registration);
        }
        virConnectClose(r->conn);
    }
    g_free(r);
}

/* Worker thread: everything here is a blocking RPC. */
static void open_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
    HdHypervisor *hv = task_data;
    OpenResult *r = g_new0(OpenResult, 1);
    g_autoptr(GError) error = NULL;

    r->lifecycle_id = -1;
    r->conn = virConnectOpen(hv->uri);
    if (r->conn == NULL) {
        hd_libvirt_set_error(&error, "cannot connect to %s", hv->uri);
        g_free(r);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    /* Not every driver has keepalive or close callbacks (test:///, for one). */
    if (virConnectSetKeepAlive(r->conn, (int)hv->keepalive_interval_s, hv->keepalive_count) < 0)
        g_debug("keepalive not available on %s: %s", hv->uri, virGetLastErrorMessage());
    r->watch = g_new0(ConnWatch, 1);
    r->watch->refcount = 1; /* the result's */
    r->watch->hv = hd_hypervisor_ref(hv);
    if (virConnectRegisterCloseCallback(r->conn, on_close, r->watch, NULL) == 0)
        r->registration = watch_ref(r->watch);
    else
        g_debug("close callback not available on %s: %s", hv->uri, virGetLastErrorMessage());
    r->lifecycle_id =
        virConnectDomainEventRegisterAny(r->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), hv, NULL);
    if (r->lifecycle_id < 0) {
        hd_libvirt_set_error(&error, "cannot register for domain events on %s", hv->uri);
        open_result_free(r);
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_task_return_pointer(task, r, (GDestroyNotify)open_result_free);
}

static void open_done(GObject *source, GAsyncResult *res, gpointer data)
{
    HdHypervisor *hv = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;
    OpenResult *r = g_task_propagate_pointer(G_TASK(res), &error);

    hv->connecting = FALSE;
    if (hv->stopped) {
        if (r != NULL)
            open_result_free(r);
        return;
    }
    hv->attempts++;
    if (r == NULL) {
        guint delay = hv->backoff_ms;

        hv->backoff_ms = MIN(hv->backoff_ms * 2, BACKOFF_MAX_MS);
        if (hv->cb.connect_failed != NULL)
            hv->cb.connect_failed(hv, error->message, hv->attempts, delay, hv->user_data);
        schedule_connect(hv, delay);
        return;
    }
    g_mutex_lock(&hv->lock);
    hv->conn = r->conn;
    hv->lifecycle_id = r->lifecycle_id;
    hv->watch = g_steal_pointer(&r->watch);
    hv->registration = g_steal_pointer(&r->registration);
    g_mutex_unlock(&hv->lock);
    g_free(r);
    hv->backoff_ms = BACKOFF_FIRST_MS;
    hv->attempts = 0;
    if (g_atomic_int_get(&hv->watch->closed)) {
        /* It dropped between the worker's registration and now. */
        connection_lost(hv, g_atomic_int_get(&hv->watch->reason));
        return;
    }
    g_message("Connected to libvirt at %s", hv->uri);
    if (hv->cb.connected != NULL)
        hv->cb.connected(hv, hv->user_data);
}

static gboolean connect_now(gpointer data)
{
    HdHypervisor *hv = data;
    g_autoptr(GTask) task = NULL;

    hv->retry_source = 0;
    if (hv->connecting)
        return G_SOURCE_REMOVE;
    hv->connecting = TRUE;
    task = g_task_new(NULL, NULL, open_done, NULL);
    g_task_set_source_tag(task, connect_now);
    g_task_set_task_data(task, hd_hypervisor_ref(hv), (GDestroyNotify)hd_hypervisor_unref);
    g_task_run_in_thread(task, open_thread);
    return G_SOURCE_REMOVE;
}

static void schedule_connect(HdHypervisor *hv, guint delay_ms)
{
    if (hv->retry_source != 0 || hv->connecting || hv->stopped)
        return;
    hv->retry_source = g_timeout_add(delay_ms, connect_now, hv);
}

HdHypervisor *hd_hypervisor_new(const char *uri, guint keepalive_interval_s, guint keepalive_count,
                                const HdHypervisorCallbacks *callbacks, gpointer user_data)
{
    HdHypervisor *hv = g_new0(HdHypervisor, 1);

    hv->refcount = 1;
    hv->uri = g_strdup(uri);
    hv->keepalive_interval_s = keepalive_interval_s;
    hv->keepalive_count = keepalive_count;
    if (callbacks != NULL)
        hv->cb = *callbacks;
    hv->user_data = user_data;
    hv->context = g_main_context_ref_thread_default();
    g_mutex_init(&hv->lock);
    hv->lifecycle_id = -1;
    hv->backoff_ms = BACKOFF_FIRST_MS;
    return hv;
}

void hd_hypervisor_start(HdHypervisor *hv)
{
    if (hv->started)
        return;
    hv->started = TRUE;
    schedule_connect(hv, 0);
}

gboolean hd_hypervisor_is_connected(HdHypervisor *hv)
{
    gboolean up;

    g_mutex_lock(&hv->lock);
    up = hv->conn != NULL;
    g_mutex_unlock(&hv->lock);
    return up;
}

virConnectPtr hd_hypervisor_ref_conn(HdHypervisor *hv, GError **error)
{
    virConnectPtr conn;

    g_mutex_lock(&hv->lock);
    conn = hv->conn;
    if (conn != NULL)
        virConnectRef(conn);
    g_mutex_unlock(&hv->lock);
    if (conn == NULL)
        g_set_error(error, HD_ERROR, HD_ERROR_UNAVAILABLE,
                    "not connected to libvirt at %s (reconnecting)", hv->uri);
    return conn;
}

HdHypervisor *hd_hypervisor_ref(HdHypervisor *hv)
{
    g_atomic_int_inc(&hv->refcount);
    return hv;
}

void hd_hypervisor_unref(HdHypervisor *hv)
{
    if (hv == NULL || !g_atomic_int_dec_and_test(&hv->refcount))
        return;
    drop_connection(hv);
    g_main_context_unref(hv->context);
    g_free(hv->uri);
    g_mutex_clear(&hv->lock);
    g_free(hv);
}

void hd_hypervisor_stop(HdHypervisor *hv)
{
    hv->stopped = TRUE;
    if (hv->retry_source != 0) {
        g_source_remove(hv->retry_source);
        hv->retry_source = 0;
    }
    drop_connection(hv);
}
