/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include <string.h>

#include "hd-inventory.h"
#include "hd-jobs.h"
#include "hd-publish.h"
#include "hocusd/hd-error.h"

/*
 * The set of workspaces. libvirt is the source of truth: the inventory is
 * rebuilt from domain metadata after every (re)connect and kept current with
 * lifecycle events in between. hocusd stores nothing else.
 */
struct _HdInventory {
    HdWorkspaceHost host; /* given to every workspace */
    HdInventoryCallbacks callbacks;
    gpointer user_data;
    GHashTable *workspaces; /* name -> HdWorkspace* (a reference) */
    GHashTable *reserved;   /* names held by creates in flight */
    gboolean discovered;
    guint jobs;
};

static void changed(HdInventory *inv)
{
    if (inv->callbacks.changed != NULL)
        inv->callbacks.changed(inv->user_data);
}

static void remove_name(HdInventory *inv, const char *name, const char *why)
{
    HdWorkspace *ws = hd_inventory_lookup(inv, name);

    if (ws == NULL)
        return;
    if (why != NULL)
        g_message("Workspace %s: %s", name, why);
    hd_workspace_detach(ws);
    g_hash_table_remove(inv->workspaces, name);
    changed(inv);
}

/* A Delete job finished: remove that object, and nothing if another workspace
 * holds its name by now. */
static void on_deleted(HdWorkspace *ws, gpointer user_data)
{
    HdInventory *inv = user_data;

    if (hd_inventory_lookup(inv, hd_workspace_get_name(ws)) != ws) {
        hd_workspace_detach(ws);
        return;
    }
    remove_name(inv, hd_workspace_get_name(ws), NULL);
}

HdInventory *hd_inventory_new(HdHypervisor *hv, GDBusObjectManagerServer *objects,
                              guint stop_timeout_s, const HdInventoryCallbacks *callbacks,
                              gpointer user_data)
{
    HdInventory *inv = g_new0(HdInventory, 1);

    inv->host.hv = hd_hypervisor_ref(hv);
    inv->host.objects = objects != NULL ? g_object_ref(objects) : NULL;
    inv->host.stop_timeout_s = stop_timeout_s;
    inv->host.deleted = on_deleted;
    inv->host.user_data = inv;
    inv->callbacks = *callbacks;
    inv->user_data = user_data;
    inv->workspaces =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)hd_workspace_unref);
    inv->reserved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return inv;
}

void hd_inventory_free(HdInventory *inv)
{
    GHashTableIter it;
    gpointer ws;

    if (inv == NULL)
        return;
    g_hash_table_iter_init(&it, inv->workspaces);
    while (g_hash_table_iter_next(&it, NULL, &ws))
        hd_workspace_detach(ws);
    g_hash_table_unref(inv->workspaces);
    g_hash_table_unref(inv->reserved);
    hd_hypervisor_unref(inv->host.hv);
    g_clear_object(&inv->host.objects);
    g_free(inv);
}

gboolean hd_inventory_is_discovered(HdInventory *inv)
{
    return inv->discovered;
}

HdWorkspace *hd_inventory_lookup(HdInventory *inv, const char *name)
{
    return g_hash_table_lookup(inv->workspaces, name);
}

void hd_inventory_foreach(HdInventory *inv, HdInventoryFunc func, gpointer user_data)
{
    GHashTableIter it;
    gpointer ws;

    g_hash_table_iter_init(&it, inv->workspaces);
    while (g_hash_table_iter_next(&it, NULL, &ws))
        func(ws, user_data);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(hd_workspace_get_name(*(HdWorkspace *const *)a),
                  hd_workspace_get_name(*(HdWorkspace *const *)b));
}

GPtrArray *hd_inventory_list(HdInventory *inv)
{
    GPtrArray *all = g_ptr_array_new_full(g_hash_table_size(inv->workspaces), NULL);
    GHashTableIter it;
    gpointer ws;

    g_hash_table_iter_init(&it, inv->workspaces);
    while (g_hash_table_iter_next(&it, NULL, &ws))
        g_ptr_array_add(all, ws);
    g_ptr_array_sort(all, by_name);
    return all;
}

guint hd_inventory_count(HdInventory *inv, guint *running)
{
    GHashTableIter it;
    gpointer ws;

    *running = 0;
    g_hash_table_iter_init(&it, inv->workspaces);
    while (g_hash_table_iter_next(&it, NULL, &ws)) {
        if (hd_workspace_get_state(ws) == HD_STATE_RUNNING)
            (*running)++;
    }
    return g_hash_table_size(inv->workspaces);
}

guint hd_inventory_jobs_in_flight(HdInventory *inv)
{
    return inv->jobs;
}

gboolean hd_inventory_reserve(HdInventory *inv, const char *name)
{
    if (hd_inventory_lookup(inv, name) != NULL || hd_inventory_is_reserved(inv, name))
        return FALSE;
    g_hash_table_add(inv->reserved, g_strdup(name));
    return TRUE;
}

void hd_inventory_release(HdInventory *inv, const char *name)
{
    g_hash_table_remove(inv->reserved, name);
}

gboolean hd_inventory_is_reserved(HdInventory *inv, const char *name)
{
    return g_hash_table_contains(inv->reserved, name);
}

/* Without telling the holder: see hd_inventory_apply. */
static HdWorkspace *apply(HdInventory *inv, const HdDomainInfo *info)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdMetadata) md = hd_metadata_from_xml(info->metadata_xml, &error);
    HdWorkspace *ws;

    if (md == NULL) {
        g_warning("Domain %s carries hocusd metadata that cannot be used (%s); ignoring it",
                  info->name, error->message);
        return NULL;
    }
    if (strcmp(md->spec->name, info->name) != 0) {
        g_warning("Domain %s carries the metadata of workspace %s (renamed outside hocusd?); "
                  "ignoring it",
                  info->name, md->spec->name);
        return NULL;
    }
    ws = hd_inventory_lookup(inv, info->name);
    if (ws != NULL) {
        hd_workspace_update(ws, g_steal_pointer(&md), info->uuid);
        hd_workspace_set_state(ws, info->state);
        return ws;
    }
    ws = hd_workspace_new(&inv->host, g_steal_pointer(&md), info->uuid, info->state);
    /* No figures before its first sample: absent, not zero. */
    hd_publish_stopped(hd_workspace_get_iface(ws), hd_workspace_get_spec(ws));
    g_hash_table_insert(inv->workspaces, g_strdup(info->name), ws);
    g_message("Workspace %s: found (%s)", info->name, hd_state_to_string(info->state));
    return ws;
}

HdWorkspace *hd_inventory_apply(HdInventory *inv, const HdDomainInfo *info)
{
    HdWorkspace *ws = apply(inv, info);

    if (ws != NULL)
        changed(inv);
    return ws;
}

HdWorkspace *hd_inventory_add_created(HdInventory *inv, const HdDomainInfo *info)
{
    HdWorkspace *ws;

    hd_inventory_release(inv, info->name);
    ws = hd_inventory_apply(inv, info);
    if (ws != NULL && info->uuid == NULL)
        hd_inventory_refresh(inv, info->name);
    return ws;
}

static gpointer list_thread(virConnectPtr conn, gpointer data, GError **error)
{
    return hd_libvirt_list_workspaces(conn, error);
}

static void reconcile_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    HdInventory *inv = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) infos = hd_job_finish(res, &error);
    g_autoptr(GHashTable) seen = NULL;
    g_autoptr(GPtrArray) gone = NULL;
    GHashTableIter it;
    gpointer key;

    inv->jobs--;
    if (infos == NULL) {
        /* The connection dropped again; the next connect reconciles. */
        g_warning("Cannot read workspaces from libvirt: %s", error->message);
        return;
    }
    seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < infos->len; i++) {
        HdDomainInfo *info = g_ptr_array_index(infos, i);

        /* A create in flight applies what it defined itself. */
        if (hd_inventory_is_reserved(inv, info->name))
            continue;
        if (apply(inv, info) != NULL)
            g_hash_table_add(seen, info->name);
    }
    gone = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_iter_init(&it, inv->workspaces);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!g_hash_table_contains(seen, key) && !hd_inventory_is_reserved(inv, key))
            g_ptr_array_add(gone, g_strdup(key));
    }
    for (guint i = 0; i < gone->len; i++)
        remove_name(inv, g_ptr_array_index(gone, i), "gone from libvirt");
    if (!inv->discovered) {
        g_message("Found %u workspace(s) in libvirt", g_hash_table_size(inv->workspaces));
        inv->discovered = TRUE;
        if (inv->callbacks.discovered != NULL)
            inv->callbacks.discovered(inv->user_data);
    }
    changed(inv);
}

void hd_inventory_reconcile(HdInventory *inv)
{
    inv->jobs++;
    hd_job_run(inv->host.hv, list_thread, NULL, NULL, reconcile_done, inv);
}

static gpointer lookup_thread(virConnectPtr conn, gpointer data, GError **error)
{
    return hd_libvirt_get_domain(conn, data, error);
}

static void refresh_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    HdInventory *inv = user_data;
    const char *name = hd_job_data(res);
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDomainInfo) info = hd_job_finish(res, &error);

    inv->jobs--;
    if (hd_inventory_is_reserved(inv, name))
        return; /* the create applies what it defined when it completes */
    if (info == NULL) {
        if (!g_error_matches(error, HD_ERROR, HD_ERROR_NOT_FOUND))
            g_warning("Cannot refresh domain %s: %s", name, error->message);
        return;
    }
    if (info->metadata_xml != NULL)
        hd_inventory_apply(inv, info);
    else
        remove_name(inv, name, "hocusd metadata removed outside hocusd; forgetting it");
}

void hd_inventory_refresh(HdInventory *inv, const char *name)
{
    inv->jobs++;
    hd_job_run(inv->host.hv, lookup_thread, g_strdup(name), g_free, refresh_done, inv);
}

void hd_inventory_domain_event(HdInventory *inv, const char *name, int event, int detail)
{
    HdWorkspace *ws = hd_inventory_lookup(inv, name);
    HdState state;

    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
        /* New or redefined (virsh edit): read its metadata again. */
        if (!hd_inventory_is_reserved(inv, name))
            hd_inventory_refresh(inv, name);
        return;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        remove_name(inv, name, "undefined in libvirt");
        return;
    default:
        break;
    }
    if (ws != NULL && hd_state_from_event(event, detail, &state)) {
        hd_workspace_set_state(ws, state);
        changed(inv);
    }
}
