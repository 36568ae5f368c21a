/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the files of src/service/; not a public interface. */

#include <gio/gio.h>

#include "hd-dbus-generated.h"
#include "hd-inventory.h"
#include "hd-jobs.h"
#include "hd-publish.h"
#include "hd-workspace.h"
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
    gboolean ready_sent;
    guint watchdog_id;
    guint trim_id; /* gives freed heap back after the workspace list changed */
    HdMonitor *monitor;

    HdInventory *inventory; /* the workspaces; created with the libvirt connection */
};

/* hd-daemon.c */
void hd_daemon_update_status(HdDaemon *d);
void hd_daemon_maybe_ready(HdDaemon *d);

/* hd-monitor.c: the control loop (sample -> compute -> publish) and GetMetrics. */
HdMonitor *hd_monitor_new(HdDaemon *d);
void hd_monitor_free(HdMonitor *m);

/* hd-accelerator.c: the accelerator verdict (KVM or TCG) and why. */
HdAccelerator *hd_accelerator_new(HdDaemon *d);
void hd_accelerator_free(HdAccelerator *a);
/* libvirt is connected: choose now, if not chosen yet. */
void hd_accelerator_connected(HdAccelerator *a);
/* NULL until chosen. */
/* func runs once the verdict is in (at once if it is), or with NULL at shutdown. */
typedef void (*HdAcceleratorReady)(const HdAccelVerdict *verdict, gpointer user_data);
void hd_accelerator_wait(HdAccelerator *a, HdAcceleratorReady func, gpointer user_data);

/* hd-manager.c: the Manager interface. */
void hd_manager_init(HdDaemon *d);
