/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of src/service/; not a public interface. */

#include <gio/gio.h>

#include "hd-dbus-generated.h"
#include "hocusd/hd-accel.h"
#include "hocusd/hd-config.h"
#include "hocusd/hd-daemon.h"
#include "hocusd/hd-hypervisor.h"
#include "hocusd/hd-libvirt-ops.h"
#include "hocusd/hd-metadata.h"
#include "hocusd/hd-state.h"
#include "hocusd/hd-agent-line.h"
#include "hocusd/hd-metrics.h"
#include "hocusd/hd-procfs.h"

typedef struct _HdWorkspace HdWorkspace;
typedef struct _HdMonitor HdMonitor;
typedef struct _HdAccelerator HdAccelerator;

struct _HdDaemon {
    HdConfig *config;
    char *bus_address;
    GMainLoop *loop;
    int exit_code;

    GDBusConnection *bus;
    guint own_id;
    gboolean name_owned;
    GDBusObjectManagerServer *object_manager;
    HdDbusManager *manager;

    HdHypervisor *hv;
    HdAccelerator *accel;
    gboolean discovered; /* the first inventory from libvirt is in */
    gboolean ready_sent;
    guint watchdog_id;
    HdMonitor *monitor;

    GHashTable *workspaces; /* name -> HdWorkspace* (a reference) */
    GHashTable *creating;   /* names reserved by CreateWorkspace calls in flight */
};

/* hd-daemon.c */
void hd_daemon_update_status(HdDaemon *d);
void hd_daemon_maybe_ready(HdDaemon *d);

/* hd-inventory.c: the registry of workspaces, kept in step with libvirt. */
void hd_inventory_init(HdDaemon *d);
void hd_inventory_clear(HdDaemon *d);
HdWorkspace *hd_inventory_lookup(HdDaemon *d, const char *name);
/* Add or refresh from what libvirt reported; FALSE if its metadata is unusable. */
HdWorkspace *hd_inventory_apply(HdDaemon *d, const HdDomainInfo *info);
void hd_inventory_remove(HdDaemon *d, const char *name, const char *why);
/* Remove ws itself, and nothing if another workspace now holds its name. */
void hd_inventory_remove_workspace(HdDaemon *d, HdWorkspace *ws, const char *why);
/* Re-read every workspace from libvirt (after each (re)connect). */
void hd_inventory_reconcile(HdDaemon *d);
void hd_inventory_domain_event(HdDaemon *d, const char *name, int event, int detail);
/* Sorted object paths. */
GPtrArray *hd_inventory_paths(HdDaemon *d);
guint hd_inventory_count(HdDaemon *d, guint *running);

/* hd-workspace.c: one workspace's D-Bus object and its jobs. */
HdWorkspace *hd_workspace_new(HdDaemon *d, HdMetadata *md, const char *uuid, HdState state);
HdWorkspace *hd_workspace_ref(HdWorkspace *ws);
void hd_workspace_unref(HdWorkspace *ws);
/* Take the object off the bus; in-flight jobs finish against a detached object. */
void hd_workspace_detach(HdWorkspace *ws);
void hd_workspace_update(HdWorkspace *ws, HdMetadata *md, const char *uuid);
void hd_workspace_set_state(HdWorkspace *ws, HdState state);
HdState hd_workspace_get_state(HdWorkspace *ws);
const char *hd_workspace_get_name(HdWorkspace *ws);
const char *hd_workspace_get_path(HdWorkspace *ws);
HdDbusWorkspace *hd_workspace_get_iface(HdWorkspace *ws);
const HdSpec *hd_workspace_get_spec(HdWorkspace *ws);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdWorkspace, hd_workspace_unref)

/* hd-monitor.c: the control loop (sample -> compute -> publish) and GetMetrics. */
HdMonitor *hd_monitor_new(HdDaemon *d);
void hd_monitor_free(HdMonitor *m);

/* hd-publish.c: metric properties and GetMetrics(); computes nothing. */
typedef struct {
    HdVmSample sample; /* clamped */
    const HdProcSample *proc;
    gboolean have_used, have_footprint;
    guint64 used;
    double footprint;
    const HdIdleTracker *idle;
    const HdReclaimTracker *reclaim;
    const HdAgentLine *agent;
    gboolean agent_connected;
    guint64 sample_usec;
    gboolean stale;
} HdVmView;
void hd_publish_running(HdDbusWorkspace *iface, const HdVmView *view);
void hd_publish_stopped(HdDbusWorkspace *iface, const HdSpec *spec);
void hd_publish_host(HdDbusManager *mgr, const HdHostSample *host, const HdHostAggregates *agg,
                     guint64 now);
/* handle-get-metrics of the manager skeleton; user_data is the HdDaemon. */
gboolean hd_publish_handle_get_metrics(HdDbusManager *mgr, GDBusMethodInvocation *invocation,
                                       gpointer user_data);

/* hd-accelerator.c: the accelerator verdict (KVM or TCG) and why. */
HdAccelerator *hd_accelerator_new(HdDaemon *d);
void hd_accelerator_free(HdAccelerator *a);
/* libvirt is connected: choose now, if not chosen yet. */
void hd_accelerator_connected(HdAccelerator *a);
/* NULL until chosen. */
const HdAccelVerdict *hd_accelerator_get(HdAccelerator *a);
/* func runs once the verdict is in (at once if it is), or with NULL at shutdown. */
typedef void (*HdAcceleratorReady)(const HdAccelVerdict *verdict, gpointer user_data);
void hd_accelerator_wait(HdAccelerator *a, HdAcceleratorReady func, gpointer user_data);

/* hd-manager.c: the Manager interface. */
void hd_manager_init(HdDaemon *d);

/* hd-jobs.c: run a blocking libvirt call on a worker thread. */
typedef gpointer (*HdJobFunc)(virConnectPtr conn, gpointer data, GError **error);
void hd_job_run(HdDaemon *d, HdJobFunc func, gpointer data, GDestroyNotify data_free,
                GAsyncReadyCallback done, gpointer user_data);
/* The worker's return value (or NULL with error). */
gpointer hd_job_finish(GAsyncResult *res, GError **error);
/* A job's data, for its completion callback. */
gpointer hd_job_data(GAsyncResult *res);
