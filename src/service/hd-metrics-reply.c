/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-metrics-reply.h"
#include "hd-workspace.h"

/*
 * GetMetrics() answers from values already on the bus objects, so the reply
 * is kept and sent again until one of them changes: every object it covers
 * is watched for GObject "notify" (emitted by every set of a generated
 * property; hd-publish.c sets only values that differ), and a different list
 * of workspaces builds it again too.
 * A tick changes the sample times, so a reply lives at most one tick: a
 * workspace's SampleTimeUsec emits no notify (hd-ws-skeleton.c), but it
 * changes only with the manager's, which does.
 *
 * Workspace values are read with the generated getters, not through
 * g_dbus_interface_skeleton_get_properties(): that converts every property
 * of every workspace from a GValue and was most of a 170 ms reply at a
 * thousand workspaces.
 */

static const char *const host_metric_names[] = { "Virtualization",
                                                 "VirtualizationReason",
                                                 "SampleTimeUsec",
                                                 "MemTotalBytes",
                                                 "MemAvailableBytes",
                                                 "PressureSomeAvg10",
                                                 "PressureSomeAvg60",
                                                 "PressureSomeAvg300",
                                                 "PressureFullAvg10",
                                                 "PressureFullAvg60",
                                                 "PressureFullAvg300",
                                                 "PressureLevel",
                                                 "KsmRunning",
                                                 "KsmSavedBytes",
                                                 "WorkspacesRunning",
                                                 "CommittedBytes",
                                                 "ResidentBytes",
                                                 "OvercommitRatio",
                                                 "Efficiency",
                                                 "MedianIdleRssBytes",
                                                 "HeadroomWorkspaces",
                                                 "PolicyMode",
                                                 "PolicyHostLevel",
                                                 "PolicyHostReason",
                                                 "PolicyBudgetBytes",
                                                 "PolicyAvailableBytes",
                                                 "PolicyHostTargetBytes",
                                                 "Absent",
                                                 NULL };

typedef struct {
    const char *name;
    char kind; /* the D-Bus type: 't' 'd' 'b' 's', 'S' for "as", 'v' for "a{sv}" */
    union {
        guint64 (*t)(HdDbusWorkspace *);
        gdouble (*d)(HdDbusWorkspace *);
        gboolean (*b)(HdDbusWorkspace *);
        const gchar *(*s)(HdDbusWorkspace *);
        const gchar *const *(*as)(HdDbusWorkspace *);
        GVariant *(*v)(HdDbusWorkspace *);
    } get;
} WsField;

#define T(n, f)                                                                                    \
    {                                                                                              \
        n, 't',                                                                                    \
        {                                                                                          \
            .t = hd_dbus_workspace_get_##f                                                         \
        }                                                                                          \
    }
#define D(n, f)                                                                                    \
    {                                                                                              \
        n, 'd',                                                                                    \
        {                                                                                          \
            .d = hd_dbus_workspace_get_##f                                                         \
        }                                                                                          \
    }
#define B(n, f)                                                                                    \
    {                                                                                              \
        n, 'b',                                                                                    \
        {                                                                                          \
            .b = hd_dbus_workspace_get_##f                                                         \
        }                                                                                          \
    }
#define S(n, f)                                                                                    \
    {                                                                                              \
        n, 's',                                                                                    \
        {                                                                                          \
            .s = hd_dbus_workspace_get_##f                                                         \
        }                                                                                          \
    }

/* What GetMetrics() gives of a workspace: the figures that always have a
 * value, then the sampled ones (docs/dbus-api.md). */
static const WsField ws_fields[] = {
    S("State", state),
    B("Stale", stale),
    T("ConfiguredBytes", configured_bytes),
    B("Idle", idle),
    B("AgentConnected", agent_connected),
    S("AgentLine", agent_line),
    S("LastError", last_error),
    T("MemoryMinBytes", memory_min_bytes),
    T("PolicyTargetBytes", policy_target_bytes),
    S("PolicyState", policy_state),
    S("PolicyReason", policy_reason),
    { "Absent", 'S', { .as = hd_dbus_workspace_get_absent } },
    T("SampleTimeUsec", sample_time_usec),
    T("RssBytes", rss_bytes),
    T("BalloonBytes", balloon_bytes),
    T("GuestUsedBytes", guest_used_bytes),
    T("GuestFreeBytes", guest_free_bytes),
    T("GuestCacheBytes", guest_cache_bytes),
    D("FootprintRatio", footprint_ratio),
    D("PressureSomeAvg10", pressure_some_avg10),
    D("PressureFullAvg10", pressure_full_avg10),
    T("KsmMergingPages", ksm_merging_pages),
    D("CpuUsage", cpu_usage),
    D("ReclaimLatencySec", reclaim_latency_sec),
    T("ReclaimBytes", reclaim_bytes),
    { "Guest", 'v', { .v = hd_dbus_workspace_get_guest } },
};

struct _HdMetricsReply {
    HdDbusManager *mgr;
    guint sample_interval_ms;
    GVariant *reply;     /* NULL: build again */
    GHashTable *watched; /* GObject* (a reference) -> notify handler id */
};

static void on_notify(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    HdMetricsReply *r = user_data;

    g_clear_pointer(&r->reply, g_variant_unref);
}

static void watch(HdMetricsReply *r, gpointer object)
{
    gulong id;

    if (g_hash_table_contains(r->watched, object))
        return;
    id = g_signal_connect(object, "notify", G_CALLBACK(on_notify), r);
    g_hash_table_insert(r->watched, g_object_ref(object), GSIZE_TO_POINTER(id));
}

static void unwatch_all(HdMetricsReply *r)
{
    GHashTableIter it;
    gpointer object, id;

    g_hash_table_iter_init(&it, r->watched);
    while (g_hash_table_iter_next(&it, &object, &id)) {
        g_signal_handler_disconnect(object, GPOINTER_TO_SIZE(id));
        g_hash_table_iter_remove(&it);
    }
}

HdMetricsReply *hd_metrics_reply_new(HdDbusManager *mgr, guint sample_interval_ms)
{
    HdMetricsReply *r = g_new0(HdMetricsReply, 1);

    r->mgr = mgr;
    r->sample_interval_ms = sample_interval_ms;
    r->watched = g_hash_table_new_full(g_direct_hash, g_direct_equal, g_object_unref, NULL);
    return r;
}

void hd_metrics_reply_free(HdMetricsReply *r)
{
    if (r == NULL)
        return;
    unwatch_all(r);
    g_hash_table_unref(r->watched);
    g_clear_pointer(&r->reply, g_variant_unref);
    g_free(r);
}

static GVariant *ws_value(HdDbusWorkspace *iface, const WsField *f)
{
    static const char *const none[] = { NULL };

    switch (f->kind) {
    case 't':
        return g_variant_new_uint64(f->get.t(iface));
    case 'd':
        return g_variant_new_double(f->get.d(iface));
    case 'b':
        return g_variant_new_boolean(f->get.b(iface));
    case 's': {
        const char *v = f->get.s(iface);
        return g_variant_new_string(v != NULL ? v : "");
    }
    case 'S': {
        const char *const *v = f->get.as(iface);
        return g_variant_new_strv(v != NULL ? v : none, -1);
    }
    default: {
        GVariant *v = f->get.v(iface);
        return v != NULL ? v : g_variant_new("a{sv}", NULL);
    }
    }
}

static GVariant *ws_dict(HdDbusWorkspace *iface)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    for (gsize i = 0; i < G_N_ELEMENTS(ws_fields); i++)
        g_variant_builder_add_value(
            &b, g_variant_new_dict_entry(g_variant_new_string(ws_fields[i].name),
                                         g_variant_new_variant(ws_value(iface, &ws_fields[i]))));
    return g_variant_builder_end(&b);
}

/* The manager's host figures, as they are on the bus now. */
static GVariant *host_dict(HdDbusManager *mgr)
{
    g_autoptr(GVariant) all =
        g_dbus_interface_skeleton_get_properties(G_DBUS_INTERFACE_SKELETON(mgr));
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    for (guint i = 0; host_metric_names[i] != NULL; i++) {
        g_autoptr(GVariant) v = g_variant_lookup_value(all, host_metric_names[i], NULL);
        if (v != NULL)
            g_variant_builder_add(&b, "{sv}", host_metric_names[i], v);
    }
    return g_variant_builder_end(&b);
}

/* Whether the objects watched are the manager and exactly those of all. */
static gboolean same_list(HdMetricsReply *r, const GPtrArray *all)
{
    if (g_hash_table_size(r->watched) != all->len + 1)
        return FALSE;
    for (guint i = 0; i < all->len; i++) {
        if (!g_hash_table_contains(r->watched, hd_workspace_get_iface(all->pdata[i])))
            return FALSE;
    }
    return TRUE;
}

static GVariant *build(HdMetricsReply *r, const GPtrArray *all)
{
    GVariantBuilder ws, top;

    g_variant_builder_init(&ws, G_VARIANT_TYPE("a{sa{sv}}"));
    for (guint i = 0; i < all->len; i++) {
        HdWorkspace *one = all->pdata[i];

        g_variant_builder_add(&ws, "{s@a{sv}}", hd_workspace_get_name(one),
                              ws_dict(hd_workspace_get_iface(one)));
    }
    g_variant_builder_init(&top, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&top, "{sv}", "host", host_dict(r->mgr));
    g_variant_builder_add(&top, "{sv}", "workspaces", g_variant_builder_end(&ws));
    g_variant_builder_add(&top, "{sv}", "sample_interval_ms",
                          g_variant_new_uint32(r->sample_interval_ms));
    return g_variant_ref_sink(
        g_variant_new_tuple((GVariant *[]){ g_variant_builder_end(&top) }, 1));
}

void hd_metrics_reply_answer(HdMetricsReply *r, GDBusMethodInvocation *invocation,
                             const GPtrArray *all)
{
    if (!same_list(r, all)) {
        unwatch_all(r);
        watch(r, r->mgr);
        for (guint i = 0; i < all->len; i++)
            watch(r, hd_workspace_get_iface(all->pdata[i]));
        g_clear_pointer(&r->reply, g_variant_unref);
    }
    if (r->reply == NULL) {
        r->reply = build(r, all);
    }
    /* Not floating: GDBus takes a reference for the send and drops it after. */
    g_dbus_method_invocation_return_value(invocation, r->reply);
}
