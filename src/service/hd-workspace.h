/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * hd-workspace.c: one workspace's D-Bus object and the jobs its methods
 * start. Not a public interface. A workspace knows nothing of the inventory
 * or the daemon that hold it: what it needs from them is an HdWorkspaceHost.
 */

#include <gio/gio.h>

#include "hd-dbus-generated.h"
#include "hocusd/hd-hypervisor.h"
#include "hocusd/hd-metadata.h"
#include "hocusd/hd-state.h"

typedef struct _HdWorkspace HdWorkspace;

typedef struct {
    HdHypervisor *hv;                  /* its jobs run on this connection */
    GDBusObjectManagerServer *objects; /* where it is exported; NULL: nowhere */
    guint stop_timeout_s;              /* a graceful Stop becomes a power-off after this */
    /* Its Delete job finished while it was attached: domain and disk are gone. */
    void (*deleted)(HdWorkspace *ws, gpointer user_data);
    gpointer user_data;
} HdWorkspaceHost;

/* Exported and attached at once; host is copied. */
HdWorkspace *hd_workspace_new(const HdWorkspaceHost *host, HdMetadata *md, const char *uuid,
                              HdState state);
HdWorkspace *hd_workspace_ref(HdWorkspace *ws);
void hd_workspace_unref(HdWorkspace *ws);
/* Take the object off the bus; in-flight jobs finish against a detached object,
 * which calls its host no more. */
void hd_workspace_detach(HdWorkspace *ws);
gboolean hd_workspace_is_attached(HdWorkspace *ws);
void hd_workspace_update(HdWorkspace *ws, HdMetadata *md, const char *uuid);
/*
 * Start, Stop (graceful: ACPI, and a power-off after stop_timeout_s unless it
 * stops; force: power off at once) and Delete (domain and disk). FALSE with
 * an HD_ERROR if refused (gone, busy, wrong state); otherwise done(ws, error
 * or NULL, user_data) runs on the main loop when libvirt has answered.
 */
typedef void (*HdWorkspaceDone)(HdWorkspace *ws, const GError *error, gpointer user_data);
gboolean hd_workspace_start(HdWorkspace *ws, HdWorkspaceDone done, gpointer user_data,
                            GError **error);
gboolean hd_workspace_stop(HdWorkspace *ws, gboolean force, HdWorkspaceDone done,
                           gpointer user_data, GError **error);
gboolean hd_workspace_delete(HdWorkspace *ws, HdWorkspaceDone done, gpointer user_data,
                             GError **error);
/* SetMemoryRange: checked here (HD_ERROR_INVALID_SPEC), stored by a job. */
gboolean hd_workspace_set_memory_range(HdWorkspace *ws, guint64 memory_min, guint64 memory_max,
                                       HdWorkspaceDone done, gpointer user_data, GError **error);
/* A state libvirt reported, newest first: an event, or a full re-read. */
void hd_workspace_set_state(HdWorkspace *ws, HdState state);
/*
 * A state read back by a job that started when the workspace had seen
 * `seen` state changes. A read is older
 * than any lifecycle event applied after the job started, so it is applied
 * only if none was. TRUE if applied.
 */
gboolean hd_workspace_apply_read_state(HdWorkspace *ws, guint seen, HdState state);
HdState hd_workspace_get_state(HdWorkspace *ws);
const char *hd_workspace_get_name(HdWorkspace *ws);
const char *hd_workspace_get_path(HdWorkspace *ws);
HdDbusWorkspace *hd_workspace_get_iface(HdWorkspace *ws);
const HdSpec *hd_workspace_get_spec(HdWorkspace *ws);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdWorkspace, hd_workspace_unref)
