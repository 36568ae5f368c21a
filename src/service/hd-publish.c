/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-publish.h"

/*
 * The control loop's results on D-Bus: the metric properties of the manager
 * and the workspaces, and GetMetrics(). No figure is computed here (see
 * hd-monitor.c and src/core/hd-metrics.c); a figure without a value is 0 on
 * the bus and its property name goes into Absent. Setting an unchanged value
 * emits nothing, so PropertiesChanged carries only what changed.
 */

/* Workspace figures that exist only while it runs and has been sampled. */
static const char *const vm_sampled_names[] = { "SampleTimeUsec",
                                                "RssBytes",
                                                "BalloonBytes",
                                                "GuestUsedBytes",
                                                "GuestFreeBytes",
                                                "GuestCacheBytes",
                                                "FootprintRatio",
                                                "PressureSomeAvg10",
                                                "PressureFullAvg10",
                                                "KsmMergingPages",
                                                "CpuUsage",
                                                "ReclaimLatencySec",
                                                "ReclaimBytes",
                                                "Guest",
                                                NULL };

/* ... and the ones that always have a value. */
static const char *const vm_fixed_names[] = { "State",     "Stale",          "ConfiguredBytes",
                                              "Idle",      "AgentConnected", "AgentLine",
                                              "LastError", "Absent",         NULL };

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
                                                 "Absent",
                                                 NULL };

#define ABSENT(name) g_ptr_array_add(absent, (gpointer)(name))

void hd_publish_stopped(HdDbusWorkspace *iface, const HdSpec *spec)
{
    hd_dbus_workspace_set_configured_bytes(iface, spec->memory_max);
    hd_dbus_workspace_set_sample_time_usec(iface, 0);
    hd_dbus_workspace_set_stale(iface, FALSE);
    hd_dbus_workspace_set_rss_bytes(iface, 0);
    hd_dbus_workspace_set_balloon_bytes(iface, 0);
    hd_dbus_workspace_set_guest_used_bytes(iface, 0);
    hd_dbus_workspace_set_guest_free_bytes(iface, 0);
    hd_dbus_workspace_set_guest_cache_bytes(iface, 0);
    hd_dbus_workspace_set_footprint_ratio(iface, 0.0);
    hd_dbus_workspace_set_pressure_some_avg10(iface, 0.0);
    hd_dbus_workspace_set_pressure_full_avg10(iface, 0.0);
    hd_dbus_workspace_set_ksm_merging_pages(iface, 0);
    hd_dbus_workspace_set_cpu_usage(iface, 0.0);
    hd_dbus_workspace_set_idle(iface, FALSE);
    hd_dbus_workspace_set_reclaim_latency_sec(iface, 0.0);
    hd_dbus_workspace_set_reclaim_bytes(iface, 0);
    hd_dbus_workspace_set_agent_connected(iface, FALSE);
    hd_dbus_workspace_set_agent_line(iface, "");
    hd_dbus_workspace_set_guest(iface, g_variant_new("a{sv}", NULL));
    hd_dbus_workspace_set_absent(iface, vm_sampled_names);
}

static GVariant *guest_dict(const HdAgentLine *a, guint64 limit)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    if (a->canonical == NULL)
        return g_variant_builder_end(&b);
    g_variant_builder_add(&b, "{sv}", "seq", g_variant_new_uint64(a->seq));
    if (a->have_mem) {
        g_variant_builder_add(&b, "{sv}", "mem_total",
                              g_variant_new_uint64(MIN(a->mem_total, limit)));
        g_variant_builder_add(&b, "{sv}", "mem_free",
                              g_variant_new_uint64(MIN(a->mem_free, limit)));
        g_variant_builder_add(&b, "{sv}", "mem_cached",
                              g_variant_new_uint64(MIN(a->mem_cached, limit)));
    }
    if (a->have_mem_available)
        g_variant_builder_add(&b, "{sv}", "mem_available",
                              g_variant_new_uint64(MIN(a->mem_available, limit)));
    if (a->have_psi_some)
        g_variant_builder_add(&b, "{sv}", "psi_some_avg10",
                              g_variant_new_double(a->psi_some.avg10));
    if (a->have_psi_full)
        g_variant_builder_add(&b, "{sv}", "psi_full_avg10",
                              g_variant_new_double(a->psi_full.avg10));
    if (a->have_recipe)
        g_variant_builder_add(&b, "{sv}", "recipe_ok", g_variant_new_boolean(a->recipe_ok));
    if (a->have_reclaim) {
        g_variant_builder_add(&b, "{sv}", "reclaim_state", g_variant_new_string(a->reclaim_state));
        g_variant_builder_add(&b, "{sv}", "reclaimed_bytes",
                              g_variant_new_uint64(a->reclaimed_bytes));
    }
    return g_variant_builder_end(&b);
}

/* Ratios are published to 4 decimals so that noise does not signal every tick. */
static double round4(double v)
{
    return (double)(gint64)(v * 10000.0 + 0.5) / 10000.0;
}

void hd_publish_running(HdDbusWorkspace *iface, const HdVmView *v)
{
    g_autoptr(GPtrArray) absent = g_ptr_array_new();
    const HdVmSample *s = &v->sample;
    const HdProcSample *proc = v->proc;

    hd_dbus_workspace_set_configured_bytes(iface, s->configured_bytes);
    hd_dbus_workspace_set_sample_time_usec(iface, v->sample_usec);
    if (v->sample_usec == 0)
        ABSENT("SampleTimeUsec");
    hd_dbus_workspace_set_stale(iface, v->stale);
    hd_dbus_workspace_set_rss_bytes(iface, s->have_rss ? s->rss_bytes : 0);
    if (!s->have_rss)
        ABSENT("RssBytes");
    hd_dbus_workspace_set_balloon_bytes(iface, s->have_balloon ? s->balloon_bytes : 0);
    if (!s->have_balloon)
        ABSENT("BalloonBytes");
    hd_dbus_workspace_set_guest_used_bytes(iface, v->have_used ? v->used : 0);
    hd_dbus_workspace_set_guest_free_bytes(iface, v->have_used ? s->guest_free_bytes : 0);
    hd_dbus_workspace_set_guest_cache_bytes(iface, v->have_used ? s->guest_cache_bytes : 0);
    if (!v->have_used) {
        ABSENT("GuestUsedBytes");
        ABSENT("GuestFreeBytes");
        ABSENT("GuestCacheBytes");
    }
    hd_dbus_workspace_set_footprint_ratio(iface, v->have_footprint ? round4(v->footprint) : 0.0);
    if (!v->have_footprint)
        ABSENT("FootprintRatio");
    hd_dbus_workspace_set_pressure_some_avg10(iface, proc->have_psi ? proc->psi.some.avg10 : 0.0);
    hd_dbus_workspace_set_pressure_full_avg10(
        iface, proc->have_psi && proc->psi.have_full ? proc->psi.full.avg10 : 0.0);
    if (!proc->have_psi)
        ABSENT("PressureSomeAvg10");
    if (!proc->have_psi || !proc->psi.have_full)
        ABSENT("PressureFullAvg10");
    hd_dbus_workspace_set_ksm_merging_pages(iface, proc->have_ksm ? proc->ksm_merging_pages : 0);
    if (!proc->have_ksm)
        ABSENT("KsmMergingPages");
    hd_dbus_workspace_set_cpu_usage(iface, v->idle->have_usage ? round4(v->idle->usage) : 0.0);
    if (!v->idle->have_usage)
        ABSENT("CpuUsage");
    hd_dbus_workspace_set_idle(iface, v->idle->idle);
    hd_dbus_workspace_set_reclaim_latency_sec(
        iface, v->reclaim->have_latency ? round4(v->reclaim->latency_s) : 0.0);
    hd_dbus_workspace_set_reclaim_bytes(iface,
                                        v->reclaim->have_latency ? v->reclaim->latency_jump : 0);
    if (!v->reclaim->have_latency) {
        ABSENT("ReclaimLatencySec");
        ABSENT("ReclaimBytes");
    }
    hd_dbus_workspace_set_agent_connected(iface, v->agent_connected);
    hd_dbus_workspace_set_agent_line(iface, v->agent->canonical != NULL ? v->agent->canonical : "");
    hd_dbus_workspace_set_guest(iface, guest_dict(v->agent, s->configured_bytes));
    if (v->agent->canonical == NULL)
        ABSENT("Guest");
    g_ptr_array_add(absent, NULL);
    hd_dbus_workspace_set_absent(iface, (const char *const *)absent->pdata);
}

void hd_publish_host(HdDbusManager *mgr, const HdHostSample *h, const HdHostAggregates *agg,
                     guint64 now)
{
    g_autoptr(GPtrArray) absent = g_ptr_array_new();
    gboolean have_avail = h->have_meminfo && h->meminfo.have_available;

    hd_dbus_manager_set_sample_time_usec(mgr, now);
    hd_dbus_manager_set_mem_total_bytes(mgr, h->have_meminfo ? h->meminfo.total : 0);
    hd_dbus_manager_set_mem_available_bytes(mgr, have_avail ? h->meminfo.available : 0);
    if (!h->have_meminfo)
        ABSENT("MemTotalBytes");
    if (!have_avail)
        ABSENT("MemAvailableBytes");
    hd_dbus_manager_set_pressure_some_avg10(mgr, h->have_psi ? h->psi.some.avg10 : 0.0);
    hd_dbus_manager_set_pressure_some_avg60(mgr, h->have_psi ? h->psi.some.avg60 : 0.0);
    hd_dbus_manager_set_pressure_some_avg300(mgr, h->have_psi ? h->psi.some.avg300 : 0.0);
    if (!h->have_psi) {
        ABSENT("PressureSomeAvg10");
        ABSENT("PressureSomeAvg60");
        ABSENT("PressureSomeAvg300");
    }
    gboolean full = h->have_psi && h->psi.have_full;
    hd_dbus_manager_set_pressure_full_avg10(mgr, full ? h->psi.full.avg10 : 0.0);
    hd_dbus_manager_set_pressure_full_avg60(mgr, full ? h->psi.full.avg60 : 0.0);
    hd_dbus_manager_set_pressure_full_avg300(mgr, full ? h->psi.full.avg300 : 0.0);
    if (!full) {
        ABSENT("PressureFullAvg10");
        ABSENT("PressureFullAvg60");
        ABSENT("PressureFullAvg300");
    }
    hd_dbus_manager_set_ksm_running(mgr, h->have_ksm && h->ksm_running);
    hd_dbus_manager_set_ksm_saved_bytes(mgr, h->have_ksm ? h->ksm_pages_sharing * h->page_size : 0);
    if (!h->have_ksm) {
        ABSENT("KsmRunning");
        ABSENT("KsmSavedBytes");
    }
    hd_dbus_manager_set_workspaces_running(mgr, agg->running);
    hd_dbus_manager_set_committed_bytes(mgr, agg->committed_bytes);
    hd_dbus_manager_set_resident_bytes(mgr, agg->resident_bytes);
    hd_dbus_manager_set_overcommit_ratio(mgr, agg->have_overcommit ? round4(agg->overcommit_ratio)
                                                                   : 0.0);
    if (!agg->have_overcommit)
        ABSENT("OvercommitRatio");
    hd_dbus_manager_set_efficiency(mgr, agg->have_efficiency ? round4(agg->efficiency) : 0.0);
    if (!agg->have_efficiency)
        ABSENT("Efficiency");
    hd_dbus_manager_set_median_idle_rss_bytes(mgr, agg->median_idle_rss);
    if (agg->median_idle_rss == 0)
        ABSENT("MedianIdleRssBytes");
    hd_dbus_manager_set_headroom_workspaces(mgr, agg->have_headroom ? agg->headroom : 0);
    if (!agg->have_headroom)
        ABSENT("HeadroomWorkspaces");

    g_ptr_array_add(absent, NULL);
    hd_dbus_manager_set_absent(mgr, (const char *const *)absent->pdata);
}

/* ---- GetMetrics ---- */

/* Add the named properties of iface, as they are on the bus now. */
static void pick(GVariantBuilder *b, GDBusInterfaceSkeleton *iface, const char *const *names)
{
    g_autoptr(GVariant) all = g_dbus_interface_skeleton_get_properties(iface);

    for (guint i = 0; names[i] != NULL; i++) {
        g_autoptr(GVariant) v = g_variant_lookup_value(all, names[i], NULL);
        if (v != NULL)
            g_variant_builder_add(b, "{sv}", names[i], v);
    }
}

void hd_publish_get_metrics(HdDbusManager *mgr, GDBusMethodInvocation *invocation,
                            const GPtrArray *all, guint sample_interval_ms)
{
    GVariantBuilder ws, top, host;

    g_variant_builder_init(&ws, G_VARIANT_TYPE("a{sa{sv}}"));
    for (guint i = 0; i < all->len; i++) {
        HdWorkspace *one_ws = g_ptr_array_index(all, i);
        GDBusInterfaceSkeleton *iface = G_DBUS_INTERFACE_SKELETON(hd_workspace_get_iface(one_ws));
        GVariantBuilder one;

        g_variant_builder_init(&one, G_VARIANT_TYPE_VARDICT);
        pick(&one, iface, vm_fixed_names);
        pick(&one, iface, vm_sampled_names);
        g_variant_builder_add(&ws, "{s@a{sv}}", hd_workspace_get_name(one_ws),
                              g_variant_builder_end(&one));
    }
    g_variant_builder_init(&top, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_init(&host, G_VARIANT_TYPE_VARDICT);
    pick(&host, G_DBUS_INTERFACE_SKELETON(mgr), host_metric_names);
    g_variant_builder_add(&top, "{sv}", "host", g_variant_builder_end(&host));
    g_variant_builder_add(&top, "{sv}", "workspaces", g_variant_builder_end(&ws));
    g_variant_builder_add(&top, "{sv}", "sample_interval_ms",
                          g_variant_new_uint32(sample_interval_ms));
    hd_dbus_manager_complete_get_metrics(mgr, invocation, g_variant_builder_end(&top));
}
