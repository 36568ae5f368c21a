/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-jobs.h"
#include "hd-workspace.h"
#include "hd-ws-skeleton.h"
#include "hocusd/hd-libvirt-ops.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"

/*
 * One workspace: its D-Bus object (dev.hocus.Hocusd1.Workspace) and the jobs
 * its methods start. State comes from libvirt (events, inventory); this file
 * never guesses it.
 */
struct _HdWorkspace {
    gint refcount; /* main thread only: see hd-jobs.c */
    HdWorkspaceHost host;
    char *name;
    char *path;
    HdMetadata *md;
    char *uuid;
    HdState state;
    HdDbusObjectSkeleton *object;
    HdDbusWorkspace *iface;
    gboolean attached;   /* exported on the bus and listed in the inventory */
    gboolean busy;       /* a Start/Stop/Delete job is in flight */
    guint state_changes; /* bumped by every state change, so a job sees newer news */
    guint stop_timer;    /* escalates a graceful Stop to a power-off */
};

typedef enum {
    OP_START,
    OP_STOP,
    OP_DELETE,
    OP_SET_RANGE,
} OpKind;

typedef struct {
    HdWorkspace *ws;
    HdWorkspaceDone done; /* NULL for hocusd's own jobs */
    gpointer done_data;
    OpKind kind;
    gboolean force;
    char *name;
    char *pool;
    char *volume;
    HdSpec *spec;        /* OP_SET_RANGE: the spec with the new range */
    char *metadata_xml;  /* ... and the metadata that carries it */
    guint state_changes; /* the workspace's count when the job started */
} Op;

static void op_free(Op *op)
{
    hd_workspace_unref(op->ws);
    g_free(op->name);
    g_free(op->pool);
    g_free(op->volume);
    hd_spec_free(op->spec);
    g_free(op->metadata_xml);
    g_free(op);
}

/* Worker thread. Start and Stop return the state libvirt reports afterwards. */
static gpointer op_thread(virConnectPtr conn, gpointer data, GError **error)
{
    Op *op = data;

    switch (op->kind) {
    case OP_START:
        if (!hd_libvirt_start(conn, op->name, error))
            return NULL;
        return hd_libvirt_get_domain(conn, op->name, error);
    case OP_STOP:
        if (!hd_libvirt_stop(conn, op->name, op->force, error))
            return NULL;
        return hd_libvirt_get_domain(conn, op->name, error);
    case OP_DELETE:
        if (!hd_libvirt_undefine(conn, op->name, error))
            return NULL;
        if (!hd_libvirt_delete_volume(conn, op->pool, op->volume, error)) {
            g_prefix_error(error,
                           "workspace %s was undefined, but its disk was not deleted: ", op->name);
            return NULL;
        }
        return NULL;
    case OP_SET_RANGE:
        hd_libvirt_set_memory_range(conn, op->name, op->metadata_xml, op->spec->memory_max, error);
        return NULL;
    }
    return NULL;
}

static void set_last_error(HdWorkspace *ws, const char *message)
{
    hd_dbus_workspace_set_last_error(ws->iface, message != NULL ? message : "");
    hd_dbus_workspace_set_last_error_usec(ws->iface,
                                          message != NULL ? (guint64)g_get_real_time() : 0);
}

static void cancel_stop_timer(HdWorkspace *ws)
{
    if (ws->stop_timer != 0) {
        g_source_remove(ws->stop_timer);
        ws->stop_timer = 0;
    }
}

static void start_op(HdWorkspace *ws, OpKind kind, gboolean force, HdWorkspaceDone done,
                     gpointer done_data);

static gboolean is_active(HdState s)
{
    return s != HD_STATE_SHUTOFF && s != HD_STATE_CRASHED && s != HD_STATE_UNKNOWN;
}

static gboolean on_stop_timeout(gpointer data)
{
    HdWorkspace *ws = data;

    ws->stop_timer = 0;
    if (!ws->attached || !is_active(ws->state) || ws->busy)
        return G_SOURCE_REMOVE;
    g_warning("Workspace %s did not shut down within %u s; powering it off", ws->name,
              ws->host.stop_timeout_s);
    start_op(ws, OP_STOP, TRUE, NULL, NULL);
    return G_SOURCE_REMOVE;
}

static void publish_spec(HdWorkspace *ws);

static void op_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    Op *op = hd_job_data(res);
    HdWorkspace *ws = op->ws;
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDomainInfo) info = hd_job_finish(res, &error);

    ws->busy = FALSE;
    if (error != NULL) {
        g_warning("Workspace %s: %s", ws->name, error->message);
        /* Kept on the object: a client that was not watching can still see why. */
        if (op->kind == OP_START || (op->kind == OP_STOP && op->force))
            set_last_error(ws, error->message);
        if (op->done != NULL)
            op->done(ws, error, op->done_data);
        return;
    }
    /* The state read right after the RPC, unless a lifecycle event newer than
     * that read came in meanwhile (a guest that powers off at once). */
    if (info != NULL && ws->attached)
        hd_workspace_apply_read_state(ws, op->state_changes, info->state);
    switch (op->kind) {
    case OP_START:
        g_message("Workspace %s: started", ws->name);
        set_last_error(ws, NULL);
        break;
    case OP_STOP:
        if (op->force) {
            g_message("Workspace %s: powered off", ws->name);
        } else if (is_active(ws->state) && ws->attached) {
            g_message("Workspace %s: shutdown requested; power-off in %u s unless it stops",
                      ws->name, ws->host.stop_timeout_s);
            cancel_stop_timer(ws);
            ws->stop_timer = g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, ws->host.stop_timeout_s,
                                                        on_stop_timeout, hd_workspace_ref(ws),
                                                        (GDestroyNotify)hd_workspace_unref);
        } else {
            g_message("Workspace %s: shut down", ws->name);
        }
        break;
    case OP_DELETE:
        g_message("Workspace %s: deleted (domain and disk %s)", ws->name, op->volume);
        /* This object: a workspace made meanwhile under the same name stays. */
        if (ws->attached && ws->host.deleted != NULL)
            ws->host.deleted(ws, ws->host.user_data);
        break;
    case OP_SET_RANGE:
        g_message("Workspace %s: memory range %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " MiB",
                  ws->name, op->spec->memory_min >> 20, op->spec->memory_max >> 20);
        hd_spec_free(ws->md->spec);
        ws->md->spec = g_steal_pointer(&op->spec);
        publish_spec(ws);
        break;
    }
    if (op->done != NULL)
        op->done(ws, NULL, op->done_data);
}

static Op *new_op(HdWorkspace *ws, OpKind kind, gboolean force, HdWorkspaceDone done,
                  gpointer done_data)
{
    Op *op = g_new0(Op, 1);

    op->ws = hd_workspace_ref(ws);
    op->done = done;
    op->done_data = done_data;
    op->kind = kind;
    op->force = force;
    op->name = g_strdup(ws->name);
    op->pool = g_strdup(ws->md->storage_pool);
    op->volume = g_strdup(ws->md->volume);
    op->state_changes = ws->state_changes;
    return op;
}

static void run_op(HdWorkspace *ws, Op *op)
{
    ws->busy = TRUE;
    hd_job_run(ws->host.hv, op_thread, op, (GDestroyNotify)op_free, op_done, NULL);
}

static void start_op(HdWorkspace *ws, OpKind kind, gboolean force, HdWorkspaceDone done,
                     gpointer done_data)
{
    run_op(ws, new_op(ws, kind, force, done, done_data));
}

/* Common refusals; TRUE when the operation may go on. */
static gboolean check_callable(HdWorkspace *ws, GError **error)
{
    if (!ws->attached) {
        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND, "workspace %s no longer exists", ws->name);
        return FALSE;
    }
    if (ws->busy) {
        g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                    "workspace %s has another operation in progress; try again", ws->name);
        return FALSE;
    }
    return TRUE;
}

gboolean hd_workspace_start(HdWorkspace *ws, HdWorkspaceDone done, gpointer user_data,
                            GError **error)
{
    if (!check_callable(ws, error))
        return FALSE;
    if (is_active(ws->state)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_STATE, "workspace %s is already %s", ws->name,
                    hd_state_to_string(ws->state));
        return FALSE;
    }
    start_op(ws, OP_START, FALSE, done, user_data);
    return TRUE;
}

gboolean hd_workspace_stop(HdWorkspace *ws, gboolean force, HdWorkspaceDone done,
                           gpointer user_data, GError **error)
{
    if (!check_callable(ws, error))
        return FALSE;
    if (!is_active(ws->state)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_STATE,
                    "workspace %s is not running (state %s)", ws->name,
                    hd_state_to_string(ws->state));
        return FALSE;
    }
    start_op(ws, OP_STOP, force, done, user_data);
    return TRUE;
}

gboolean hd_workspace_delete(HdWorkspace *ws, HdWorkspaceDone done, gpointer user_data,
                             GError **error)
{
    if (!check_callable(ws, error))
        return FALSE;
    if (is_active(ws->state)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_STATE,
                    "workspace %s is %s; stop it before deleting it", ws->name,
                    hd_state_to_string(ws->state));
        return FALSE;
    }
    start_op(ws, OP_DELETE, FALSE, done, user_data);
    return TRUE;
}

gboolean hd_workspace_set_memory_range(HdWorkspace *ws, guint64 memory_min, guint64 memory_max,
                                       HdWorkspaceDone done, gpointer user_data, GError **error)
{
    g_autoptr(HdSpec) spec = NULL;
    HdMetadata md;
    Op *op;

    if (!check_callable(ws, error))
        return FALSE;
    spec = hd_spec_with_memory_range(ws->md->spec, memory_min, memory_max, error);
    if (spec == NULL)
        return FALSE;
    md = *ws->md;
    md.spec = spec;
    op = new_op(ws, OP_SET_RANGE, FALSE, done, user_data);
    op->metadata_xml = hd_metadata_to_xml(&md);
    op->spec = g_steal_pointer(&spec);
    run_op(ws, op);
    return TRUE;
}

/* ---- the D-Bus methods: each replies when its operation is done ---- */

static void reply(HdWorkspace *ws, const GError *error, gpointer user_data)
{
    GDBusMethodInvocation *invocation = user_data;

    if (error != NULL)
        g_dbus_method_invocation_return_gerror(invocation, error);
    else
        g_dbus_method_invocation_return_value(invocation, NULL);
}

/* The handler owns the invocation's reference; a reply consumes it. */
static gboolean refused(GDBusMethodInvocation *invocation, GError *error)
{
    g_dbus_method_invocation_take_error(invocation, error);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean handle_start(HdDbusWorkspace *iface, GDBusMethodInvocation *invocation,
                             HdWorkspace *ws)
{
    GError *error = NULL;

    if (!hd_workspace_start(ws, reply, invocation, &error))
        return refused(invocation, error);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean handle_stop(HdDbusWorkspace *iface, GDBusMethodInvocation *invocation,
                            gboolean force, HdWorkspace *ws)
{
    GError *error = NULL;

    if (!hd_workspace_stop(ws, force, reply, invocation, &error))
        return refused(invocation, error);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean handle_delete(HdDbusWorkspace *iface, GDBusMethodInvocation *invocation,
                              HdWorkspace *ws)
{
    GError *error = NULL;

    if (!hd_workspace_delete(ws, reply, invocation, &error))
        return refused(invocation, error);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean handle_set_memory_range(HdDbusWorkspace *iface, GDBusMethodInvocation *invocation,
                                        guint64 memory_min, guint64 memory_max, HdWorkspace *ws)
{
    GError *error = NULL;

    if (!hd_workspace_set_memory_range(ws, memory_min, memory_max, reply, invocation, &error))
        return refused(invocation, error);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void publish_spec(HdWorkspace *ws)
{
    g_autoptr(GVariant) spec = g_variant_ref_sink(hd_spec_to_variant(ws->md->spec));

    /* Kept in serialised form: as a tree of small values it is several times
     * the bytes, for every workspace (docs/performance.md, B4 memory). */
    (void)g_variant_get_data(spec);
    hd_dbus_workspace_set_spec(ws->iface, spec);
    hd_dbus_workspace_set_uuid(ws->iface, ws->uuid != NULL ? ws->uuid : "");
    hd_dbus_workspace_set_created_usec(ws->iface, (guint64)MAX(ws->md->created_usec, 0));
    hd_dbus_workspace_set_memory_min_bytes(ws->iface, ws->md->spec->memory_min);
}

HdWorkspace *hd_workspace_new(const HdWorkspaceHost *host, HdMetadata *md, const char *uuid,
                              HdState state)
{
    HdWorkspace *ws = g_new0(HdWorkspace, 1);

    ws->refcount = 1;
    ws->host = *host;
    ws->host.hv = hd_hypervisor_ref(host->hv);
    if (host->objects != NULL)
        ws->host.objects = g_object_ref(host->objects);
    ws->md = md;
    ws->name = g_strdup(md->spec->name);
    ws->path = hd_name_to_object_path(ws->name);
    ws->uuid = g_strdup(uuid);
    ws->state = state;
    ws->object = hd_dbus_object_skeleton_new(ws->path);
    ws->iface = hd_ws_skeleton_new();
    hd_dbus_workspace_set_name(ws->iface, ws->name);
    hd_dbus_workspace_set_state(ws->iface, hd_state_to_string(state));
    publish_spec(ws);
    g_signal_connect(ws->iface, "handle-start", G_CALLBACK(handle_start), ws);
    g_signal_connect(ws->iface, "handle-set-memory-range", G_CALLBACK(handle_set_memory_range), ws);
    g_signal_connect(ws->iface, "handle-stop", G_CALLBACK(handle_stop), ws);
    g_signal_connect(ws->iface, "handle-delete", G_CALLBACK(handle_delete), ws);
    hd_dbus_object_skeleton_set_workspace(ws->object, ws->iface);
    if (ws->host.objects != NULL)
        g_dbus_object_manager_server_export(ws->host.objects, G_DBUS_OBJECT_SKELETON(ws->object));
    ws->attached = TRUE;
    return ws;
}

HdWorkspace *hd_workspace_ref(HdWorkspace *ws)
{
    ws->refcount++; /* main thread only */
    return ws;
}

void hd_workspace_unref(HdWorkspace *ws)
{
    if (ws == NULL || --ws->refcount > 0)
        return;
    g_assert(!ws->attached);
    g_signal_handlers_disconnect_by_data(ws->iface, ws);
    g_object_unref(ws->iface);
    g_object_unref(ws->object);
    hd_hypervisor_unref(ws->host.hv);
    g_clear_object(&ws->host.objects);
    hd_metadata_free(ws->md);
    g_free(ws->uuid);
    g_free(ws->path);
    g_free(ws->name);
    g_free(ws);
}

void hd_workspace_detach(HdWorkspace *ws)
{
    if (!ws->attached)
        return;
    ws->attached = FALSE;
    cancel_stop_timer(ws);
    if (ws->host.objects != NULL)
        g_dbus_object_manager_server_unexport(ws->host.objects, ws->path);
}

gboolean hd_workspace_is_attached(HdWorkspace *ws)
{
    return ws->attached;
}

void hd_workspace_update(HdWorkspace *ws, HdMetadata *md, const char *uuid)
{
    hd_metadata_free(ws->md);
    ws->md = md;
    if (uuid != NULL && g_strcmp0(uuid, ws->uuid) != 0) {
        g_free(ws->uuid);
        ws->uuid = g_strdup(uuid);
    }
    publish_spec(ws);
}

void hd_workspace_set_state(HdWorkspace *ws, HdState state)
{
    if (state == ws->state)
        return;
    g_debug("Workspace %s: %s -> %s", ws->name, hd_state_to_string(ws->state),
            hd_state_to_string(state));
    ws->state = state;
    ws->state_changes++;
    if (state == HD_STATE_SHUTOFF || state == HD_STATE_CRASHED)
        cancel_stop_timer(ws);
    /* The generated setter emits PropertiesChanged only when the value differs. */
    hd_dbus_workspace_set_state(ws->iface, hd_state_to_string(state));
}

gboolean hd_workspace_apply_read_state(HdWorkspace *ws, guint seen, HdState state)
{
    if (ws->state_changes != seen)
        return FALSE;
    hd_workspace_set_state(ws, state);
    return TRUE;
}

HdState hd_workspace_get_state(HdWorkspace *ws)
{
    return ws->state;
}

const char *hd_workspace_get_name(HdWorkspace *ws)
{
    return ws->name;
}

const char *hd_workspace_get_path(HdWorkspace *ws)
{
    return ws->path;
}

HdDbusWorkspace *hd_workspace_get_iface(HdWorkspace *ws)
{
    return ws->iface;
}

const HdSpec *hd_workspace_get_spec(HdWorkspace *ws)
{
    return ws->md->spec;
}
