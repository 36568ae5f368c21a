/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include <string.h>

#include "hd-daemon-private.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"

/*
 * The set of workspaces. libvirt is the source of truth: the inventory is
 * rebuilt from domain metadata after every (re)connect and kept current with
 * lifecycle events in between. hocusd stores nothing else.
 */

void hd_inventory_init(HdDaemon *d)
{
    d->workspaces =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)hd_workspace_unref);
    d->creating = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void hd_inventory_clear(HdDaemon *d)
{
    GHashTableIter it;
    gpointer ws;

    if (d->workspaces == NULL)
        return;
    g_hash_table_iter_init(&it, d->workspaces);
    while (g_hash_table_iter_next(&it, NULL, &ws))
        hd_workspace_detach(ws);
    g_clear_pointer(&d->workspaces, g_hash_table_unref);
    g_clear_pointer(&d->creating, g_hash_table_unref);
}

HdWorkspace *hd_inventory_lookup(HdDaemon *d, const char *name)
{
    return g_hash_table_lookup(d->workspaces, name);
}

HdWorkspace *hd_inventory_apply(HdDaemon *d, const HdDomainInfo *info)
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
    ws = hd_inventory_lookup(d, info->name);
    if (ws != NULL) {
        hd_workspace_update(ws, g_steal_pointer(&md), info->uuid);
        hd_workspace_set_state(ws, info->state);
        return ws;
    }
    ws = hd_workspace_new(d, g_steal_pointer(&md), info->uuid, info->state);
    g_hash_table_insert(d->workspaces, g_strdup(info->name), ws);
    g_message("Workspace %s: found (%s)", info->name, hd_state_to_string(info->state));
    hd_daemon_update_status(d);
    return ws;
}

void hd_inventory_remove_workspace(HdDaemon *d, HdWorkspace *ws, const char *why)
{
    if (hd_inventory_lookup(d, hd_workspace_get_name(ws)) != ws) {
        hd_workspace_detach(ws); /* already replaced or gone: only this object leaves */
        return;
    }
    hd_inventory_remove(d, hd_workspace_get_name(ws), why);
}

void hd_inventory_remove(HdDaemon *d, const char *name, const char *why)
{
    HdWorkspace *ws = hd_inventory_lookup(d, name);

    if (ws == NULL)
        return;
    if (why != NULL)
        g_message("Workspace %s: %s", name, why);
    hd_workspace_detach(ws);
    g_hash_table_remove(d->workspaces, name);
    hd_daemon_update_status(d);
}

static gpointer list_thread(virConnectPtr conn, gpointer data, GError **error)
{
    return hd_libvirt_list_workspaces(conn, error);
}

static void reconcile_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    HdDaemon *d = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) infos = hd_job_finish(res, &error);
    g_autoptr(GHashTable) seen = NULL;
    g_autoptr(GPtrArray) gone = NULL;
    GHashTableIter it;
    gpointer key;

    if (infos == NULL) {
        /* The connection dropped again; the next connect reconciles. */
        g_warning("Cannot read workspaces from libvirt: %s", error->message);
        return;
    }
    seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < infos->len; i++) {
        HdDomainInfo *info = g_ptr_array_index(infos, i);
        if (hd_inventory_apply(d, info) != NULL)
            g_hash_table_add(seen, info->name);
    }
    gone = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_iter_init(&it, d->workspaces);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!g_hash_table_contains(seen, key) && !g_hash_table_contains(d->creating, key))
            g_ptr_array_add(gone, g_strdup(key));
    }
    for (guint i = 0; i < gone->len; i++)
        hd_inventory_remove(d, g_ptr_array_index(gone, i), "gone from libvirt");
    if (!d->discovered)
        g_message("Found %u workspace(s) in libvirt", g_hash_table_size(d->workspaces));
    d->discovered = TRUE;
    hd_daemon_update_status(d);
    hd_daemon_maybe_ready(d);
}

void hd_inventory_reconcile(HdDaemon *d)
{
    hd_job_run(d, list_thread, NULL, NULL, reconcile_done, d);
}

static gpointer lookup_thread(virConnectPtr conn, gpointer data, GError **error)
{
    return hd_libvirt_get_domain(conn, data, error);
}

static void refresh_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    HdDaemon *d = user_data;
    const char *name = hd_job_data(res);
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDomainInfo) info = hd_job_finish(res, &error);

    if (g_hash_table_contains(d->creating, name))
        return; /* CreateWorkspace adds it when it completes */
    if (info == NULL) {
        if (!g_error_matches(error, HD_ERROR, HD_ERROR_NOT_FOUND))
            g_warning("Cannot refresh domain %s: %s", name, error->message);
        return;
    }
    if (info->metadata_xml != NULL)
        hd_inventory_apply(d, info);
    else
        hd_inventory_remove(d, name, "hocusd metadata removed outside hocusd; forgetting it");
}

void hd_inventory_domain_event(HdDaemon *d, const char *name, int event, int detail)
{
    HdWorkspace *ws = hd_inventory_lookup(d, name);
    HdState state;

    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
        /* New or redefined (virsh edit): read its metadata again. */
        if (!g_hash_table_contains(d->creating, name))
            hd_job_run(d, lookup_thread, g_strdup(name), g_free, refresh_done, d);
        return;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        if (ws != NULL)
            hd_inventory_remove(d, name, "undefined in libvirt");
        return;
    default:
        break;
    }
    if (ws != NULL && hd_state_from_event(event, detail, &state)) {
        hd_workspace_set_state(ws, state);
        hd_daemon_update_status(d);
    }
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *hd_inventory_paths(HdDaemon *d)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer ws;

    g_hash_table_iter_init(&it, d->workspaces);
    while (g_hash_table_iter_next(&it, NULL, &ws))
        g_ptr_array_add(paths, g_strdup(hd_workspace_get_path(ws)));
    g_ptr_array_sort(paths, compare_strings);
    return paths;
}

guint hd_inventory_count(HdDaemon *d, guint *running)
{
    GHashTableIter it;
    gpointer ws;

    *running = 0;
    g_hash_table_iter_init(&it, d->workspaces);
    while (g_hash_table_iter_next(&it, NULL, &ws)) {
        if (hd_workspace_get_state(ws) == HD_STATE_RUNNING)
            (*running)++;
    }
    return g_hash_table_size(d->workspaces);
}
