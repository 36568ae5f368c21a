/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * hd-inventory.c: the set of workspaces, kept in step with libvirt, and the
 * names reserved by creates in flight. It owns both; nothing else changes
 * them. It tells its holder what changed through callbacks and never sees
 * the daemon. Not a public interface.
 */

#include "hd-workspace.h"
#include "hocusd/hd-libvirt-ops.h"

typedef struct _HdInventory HdInventory;

typedef struct {
    /* A workspace came or went, or one's state changed. */
    void (*changed)(gpointer user_data);
    /* The first complete list from libvirt is in (called once). */
    void (*discovered)(gpointer user_data);
} HdInventoryCallbacks;

/* Workspaces run their jobs on hv and are exported on objects (NULL: nowhere). */
HdInventory *hd_inventory_new(HdHypervisor *hv, GDBusObjectManagerServer *objects,
                              guint stop_timeout_s, const HdInventoryCallbacks *callbacks,
                              gpointer user_data);
/* Detaches every workspace. Jobs the inventory started must have finished. */
void hd_inventory_free(HdInventory *inv);

/* The first complete list from libvirt is in: lists and name checks are reliable. */
gboolean hd_inventory_is_discovered(HdInventory *inv);
HdWorkspace *hd_inventory_lookup(HdInventory *inv, const char *name);
/* func(ws, user_data) for every workspace, in no order; func must not add or remove any. */
typedef void (*HdInventoryFunc)(HdWorkspace *ws, gpointer user_data);
void hd_inventory_foreach(HdInventory *inv, HdInventoryFunc func, gpointer user_data);
/* The workspaces sorted by name, borrowed (valid until the main loop runs again). */
GPtrArray *hd_inventory_list(HdInventory *inv);
guint hd_inventory_count(HdInventory *inv, guint *running);
/* Libvirt jobs started by the inventory and not finished yet. */
guint hd_inventory_jobs_in_flight(HdInventory *inv);

/*
 * A create holds its name from the call until it has defined the domain (or
 * failed): FALSE if the name is a workspace's or already reserved. While a
 * name is reserved, neither a reconcile nor a DEFINED event adds or removes
 * it: the create applies what it defined.
 */
gboolean hd_inventory_reserve(HdInventory *inv, const char *name);
void hd_inventory_release(HdInventory *inv, const char *name);
gboolean hd_inventory_is_reserved(HdInventory *inv, const char *name);

/*
 * A create defined its domain: release the name and add the workspace. info
 * without a UUID is what was defined, not read back from libvirt (reading it
 * failed): the workspace is added all the same and read again.
 */
HdWorkspace *hd_inventory_add_created(HdInventory *inv, const HdDomainInfo *info);
/* Add or refresh from what libvirt reported; NULL if its metadata is unusable. */
HdWorkspace *hd_inventory_apply(HdInventory *inv, const HdDomainInfo *info);
/* Read one domain again from libvirt (as on a DEFINED event). */
void hd_inventory_refresh(HdInventory *inv, const char *name);
/* Re-read every workspace from libvirt (after each (re)connect). */
void hd_inventory_reconcile(HdInventory *inv);
/* A libvirt lifecycle event (virDomainEventType, detail). */
void hd_inventory_domain_event(HdInventory *inv, const char *name, int event, int detail);
