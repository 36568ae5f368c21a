/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include <glib-unix.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <systemd/sd-daemon.h>

#include "hd-daemon-private.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"

/*
 * Process lifecycle: the bus and its name, libvirt, readiness and watchdog
 * notifications to systemd, signals. READY=1 is sent once the bus name is
 * owned and the workspaces are known from libvirt. SIGTERM leaves every VM
 * running: workspaces live in libvirt, not in this process.
 */

HdDaemon *hd_daemon_new(HdConfig *config, const char *bus_address)
{
    HdDaemon *d = g_new0(HdDaemon, 1);

    d->config = config;
    d->bus_address = g_strdup(bus_address);
    d->loop = g_main_loop_new(NULL, FALSE);
    return d;
}

static void quit(HdDaemon *d, int code)
{
    if (code != 0 && d->exit_code == 0)
        d->exit_code = code;
    g_main_loop_quit(d->loop);
}

void hd_daemon_update_status(HdDaemon *d)
{
    guint running = 0, total;

    if (d->inventory == NULL || !hd_inventory_is_discovered(d->inventory))
        return;
    total = hd_inventory_count(d->inventory, &running);
    if (hd_hypervisor_is_connected(d->hv))
        sd_notifyf(0, "STATUS=Managing %u workspace(s), %u running", total, running);
    else
        sd_notifyf(0, "STATUS=libvirt at %s unreachable; reconnecting (%u workspace(s) last known)",
                   d->config->libvirt_uri, total);
}

void hd_daemon_maybe_ready(HdDaemon *d)
{
    if (d->ready_sent || !d->name_owned || !hd_inventory_is_discovered(d->inventory))
        return;
    d->ready_sent = TRUE;
    sd_notify(0, "READY=1");
    hd_daemon_update_status(d);
    g_message("Ready: %s on the %s bus, libvirt %s", HD_DBUS_NAME,
              d->bus_address != NULL ? "given" : d->config->bus, d->config->libvirt_uri);
}

/* ---- libvirt ---- */

static void on_hv_connected(HdHypervisor *hv, gpointer user_data)
{
    HdDaemon *d = user_data;

    hd_dbus_manager_set_connected(d->manager, TRUE);
    hd_accelerator_connected(d->accel);
    hd_inventory_reconcile(d->inventory);
}

static void on_hv_disconnected(HdHypervisor *hv, const char *reason, gpointer user_data)
{
    HdDaemon *d = user_data;

    hd_dbus_manager_set_connected(d->manager, FALSE);
    hd_daemon_update_status(d);
}

static void on_hv_connect_failed(HdHypervisor *hv, const char *message, guint attempt,
                                 guint next_retry_ms, gpointer user_data)
{
    HdDaemon *d = user_data;

    /* Log the first failure and then every tenth, not every retry. */
    if (attempt == 1 || attempt % 10 == 0)
        g_warning("%s (attempt %u; next attempt in %.1f s)", message, attempt,
                  next_retry_ms / 1000.0);
    if (!hd_inventory_is_discovered(d->inventory))
        sd_notifyf(0, "STATUS=Waiting for libvirt at %s (attempt %u)", d->config->libvirt_uri,
                   attempt);
    else
        hd_daemon_update_status(d);
}

static void on_hv_domain_event(HdHypervisor *hv, const char *name, int event, int detail,
                               gpointer user_data)
{
    HdDaemon *d = user_data;

    hd_inventory_domain_event(d->inventory, name, event, detail);
}

static const HdHypervisorCallbacks hv_callbacks = {
    .connected = on_hv_connected,
    .disconnected = on_hv_disconnected,
    .connect_failed = on_hv_connect_failed,
    .domain_event = on_hv_domain_event,
};

/* ---- the inventory ---- */

/*
 * Adding or removing workspaces is a burst of short-lived allocations (at
 * start, an InterfacesAdded signal with every property of every workspace,
 * queued for the bus: 20 MiB at 1000 workspaces). glibc keeps what was freed
 * in its heap; a few seconds after the burst it is given back to the kernel
 * (docs/performance.md, B4 memory). With GLib < 2.76 this needs
 * G_SLICE=always-malloc too (hocusd.service sets it): the slice allocator's
 * own pages are not malloc's to give back.
 */
#define TRIM_DELAY_S 5

static gboolean on_trim(gpointer user_data)
{
    HdDaemon *d = user_data;

    d->trim_id = 0;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    return G_SOURCE_REMOVE;
}

static void on_inventory_changed(gpointer user_data)
{
    HdDaemon *d = user_data;

    hd_daemon_update_status(d);
    if (d->trim_id == 0)
        d->trim_id = g_timeout_add_seconds(TRIM_DELAY_S, on_trim, d);
}

static void on_inventory_discovered(gpointer user_data)
{
    hd_daemon_maybe_ready(user_data);
}

static const HdInventoryCallbacks inventory_callbacks = {
    .changed = on_inventory_changed,
    .discovered = on_inventory_discovered,
};

/* ---- D-Bus ---- */

static GDBusConnection *open_bus(HdDaemon *d, GError **error)
{
    const char *bus = d->bus_address != NULL ? d->bus_address : d->config->bus;

    if (g_strcmp0(bus, "system") == 0)
        return g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, error);
    if (g_strcmp0(bus, "session") == 0)
        return g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, error);
    return g_dbus_connection_new_for_address_sync(
        bus,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, error);
}

static void on_name_acquired(GDBusConnection *bus, const char *name, gpointer user_data)
{
    HdDaemon *d = user_data;

    d->name_owned = TRUE;
    g_debug("Owning %s", name);
    hd_daemon_maybe_ready(d);
}

static void on_name_lost(GDBusConnection *bus, const char *name, gpointer user_data)
{
    HdDaemon *d = user_data;

    if (bus == NULL)
        g_critical("The D-Bus connection closed; exiting");
    else if (!d->name_owned)
        g_critical("Cannot own %s on the bus: another hocusd runs, or the bus policy "
                   "(dev.hocus.Hocusd1.conf) does not allow this user to own it",
                   name);
    else
        g_critical("Lost the bus name %s; exiting", name);
    d->name_owned = FALSE;
    quit(d, 1);
}

static void on_bus_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
                          gpointer user_data)
{
    g_critical("The D-Bus connection closed%s%s; exiting", error != NULL ? ": " : "",
               error != NULL ? error->message : "");
    quit(user_data, 1);
}

static gboolean export_objects(HdDaemon *d, GError **error)
{
    d->object_manager = g_dbus_object_manager_server_new(HD_DBUS_ROOT_PATH);
    g_dbus_object_manager_server_set_connection(d->object_manager, d->bus);
    return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(d->manager), d->bus,
                                            HD_DBUS_ROOT_PATH, error);
}

/* ---- signals and watchdog ---- */

static gboolean on_terminate(gpointer user_data)
{
    HdDaemon *d = user_data;

    g_message("Stopping on signal; workspaces keep running");
    quit(d, 0);
    return G_SOURCE_CONTINUE;
}

static gboolean on_hangup(gpointer user_data)
{
    g_message("SIGHUP ignored: the configuration is read at start only; restart hocusd "
              "(systemctl restart hocusd; workspaces keep running) to apply changes");
    return G_SOURCE_CONTINUE;
}

static gboolean on_watchdog(gpointer user_data)
{
    /* Sent from the main loop: a stuck loop stops the pings and systemd restarts us. */
    sd_notify(0, "WATCHDOG=1");
    return G_SOURCE_CONTINUE;
}

static void setup_watchdog(HdDaemon *d)
{
    uint64_t usec = 0;

    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    d->watchdog_id = g_timeout_add(MAX(usec / 2000, 1), on_watchdog, d);
    g_debug("Watchdog: ping every %" G_GUINT64_FORMAT " ms", (guint64)(usec / 2000));
}

int hd_daemon_run(HdDaemon *d)
{
    g_autoptr(GError) error = NULL;
    guint sig_term, sig_int, sig_hup;

    (void)hd_error_quark(); /* D-Bus error names for HdError */
    hd_hypervisor_global_init();
    hd_manager_init(d);
    d->accel = hd_accelerator_new(d);

    sd_notify(0, "STATUS=Connecting to D-Bus");
    d->bus = open_bus(d, &error);
    if (d->bus == NULL) {
        g_critical("Cannot connect to the D-Bus bus: %s", error->message);
        return 1;
    }
    g_dbus_connection_set_exit_on_close(d->bus, FALSE);
    g_signal_connect(d->bus, "closed", G_CALLBACK(on_bus_closed), d);
    if (!export_objects(d, &error)) {
        g_critical("Cannot export D-Bus objects: %s", error->message);
        return 1;
    }
    d->own_id =
        g_bus_own_name_on_connection(d->bus, HD_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                     on_name_acquired, on_name_lost, d, NULL);

    sd_notifyf(0, "STATUS=Connecting to libvirt at %s", d->config->libvirt_uri);
    d->hv = hd_hypervisor_new(d->config->libvirt_uri, d->config->libvirt_keepalive.interval_s,
                              d->config->libvirt_keepalive.count, &hv_callbacks, d);
    d->inventory = hd_inventory_new(d->hv, d->object_manager, d->config->stop_timeout_s,
                                    &inventory_callbacks, d);
    hd_hypervisor_start(d->hv);

    d->monitor = hd_monitor_new(d);

    sig_term = g_unix_signal_add(SIGTERM, on_terminate, d);
    sig_int = g_unix_signal_add(SIGINT, on_terminate, d);
    sig_hup = g_unix_signal_add(SIGHUP, on_hangup, d);
    setup_watchdog(d);

    g_main_loop_run(d->loop);

    sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
    g_source_remove(sig_term);
    g_source_remove(sig_int);
    g_source_remove(sig_hup);
    return d->exit_code;
}

void hd_daemon_free(HdDaemon *d)
{
    if (d == NULL)
        return;
    if (d->watchdog_id != 0)
        g_source_remove(d->watchdog_id);
    if (d->trim_id != 0)
        g_source_remove(d->trim_id);
    if (d->own_id != 0)
        g_bus_unown_name(d->own_id);
    g_clear_pointer(&d->monitor, hd_monitor_free);
    g_clear_pointer(&d->accel, hd_accelerator_free);
    g_clear_pointer(&d->inventory, hd_inventory_free);
    if (d->manager != NULL && d->bus != NULL)
        g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(d->manager));
    g_clear_object(&d->object_manager);
    g_clear_object(&d->manager);
    if (d->hv != NULL) {
        hd_hypervisor_stop(d->hv);
        hd_hypervisor_unref(d->hv);
    }
    if (d->bus != NULL) {
        g_signal_handlers_disconnect_by_data(d->bus, d);
        g_dbus_connection_flush_sync(d->bus, NULL, NULL);
        g_object_unref(d->bus);
    }
    g_main_loop_unref(d->loop);
    hd_config_free(d->config);
    g_free(d->bus_address);
    g_free(d);
}
