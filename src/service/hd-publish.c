/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-publish.h"
#include "hd-ws-skeleton.h"

/*
 * The control loop's results on D-Bus: the metric properties of the manager
 * and the workspaces, and GetMetrics(). No figure is computed here (see
 * hd-monitor.c and src/core/hd-metrics.c); a figure without a value is 0 on
 * the bus and its property name goes into Absent. Setting an unchanged value
 * emits nothing, so PropertiesChanged carries only what changed. GetMetrics()
 * is answered by hd-metrics-reply.c.
 */

/* Workspace figures that exist only while it runs and has been sampled, in
 * the order Absent lists them; HdPublished.absent has one bit for each. */
enum {
    A_SAMPLE_TIME,
    A_RSS,
    A_BALLOON,
    A_GUEST_USED,
    A_GUEST_FREE,
    A_GUEST_CACHE,
    A_FOOTPRINT,
    A_PSI_SOME,
    A_PSI_FULL,
    A_KSM,
    A_CPU,
    A_RECLAIM_LATENCY,
    A_RECLAIM_BYTES,
    A_GUEST,
    N_SAMPLED
};

static const char *const vm_sampled_names[] = {
    [A_SAMPLE_TIME] = "SampleTimeUsec",
    [A_RSS] = "RssBytes",
    [A_BALLOON] = "BalloonBytes",
    [A_GUEST_USED] = "GuestUsedBytes",
    [A_GUEST_FREE] = "GuestFreeBytes",
    [A_GUEST_CACHE] = "GuestCacheBytes",
    [A_FOOTPRINT] = "FootprintRatio",
    [A_PSI_SOME] = "PressureSomeAvg10",
    [A_PSI_FULL] = "PressureFullAvg10",
    [A_KSM] = "KsmMergingPages",
    [A_CPU] = "CpuUsage",
    [A_RECLAIM_LATENCY] = "ReclaimLatencySec",
    [A_RECLAIM_BYTES] = "ReclaimBytes",
    [A_GUEST] = "Guest",
    [N_SAMPLED] = NULL,
};
G_STATIC_ASSERT(N_SAMPLED <= 32);

#define ABSENT(name) g_ptr_array_add(absent, (gpointer)(name))

/*
 * A workspace property is set only when its value differs. The generated
 * setter goes through GObject's property machinery (a lookup by name, a
 * GValue, a comparison) even for an unchanged value; at a thousand
 * workspaces per tick that cost more than the sampling itself.
 */
#define SET(iface, prop, value)                                                                    \
    G_STMT_START                                                                                   \
    {                                                                                              \
        __typeof__(hd_dbus_workspace_get_##prop(iface)) v_ = (value);                              \
        if (hd_dbus_workspace_get_##prop(iface) != v_)                                             \
            hd_dbus_workspace_set_##prop(iface, v_);                                               \
    }                                                                                              \
    G_STMT_END

static void set_absent(HdDbusWorkspace *iface, const char *const *names)
{
    const char *const *now = hd_dbus_workspace_get_absent(iface);

    if (now == NULL || !g_strv_equal(now, names))
        hd_dbus_workspace_set_absent(iface, names);
}

void hd_publish_stopped(HdDbusWorkspace *iface, const HdSpec *spec)
{
    SET(iface, configured_bytes, spec->memory_max);
    hd_ws_skeleton_set_sample_time(iface, 0);
    SET(iface, stale, FALSE);
    SET(iface, rss_bytes, 0);
    SET(iface, balloon_bytes, 0);
    SET(iface, guest_used_bytes, 0);
    SET(iface, guest_free_bytes, 0);
    SET(iface, guest_cache_bytes, 0);
    SET(iface, footprint_ratio, 0.0);
    SET(iface, pressure_some_avg10, 0.0);
    SET(iface, pressure_full_avg10, 0.0);
    SET(iface, ksm_merging_pages, 0);
    SET(iface, cpu_usage, 0.0);
    SET(iface, idle, FALSE);
    SET(iface, reclaim_latency_sec, 0.0);
    SET(iface, reclaim_bytes, 0);
    SET(iface, agent_connected, FALSE);
    if (g_strcmp0(hd_dbus_workspace_get_agent_line(iface), "") != 0)
        hd_dbus_workspace_set_agent_line(iface, "");
    if (hd_dbus_workspace_get_guest(iface) == NULL ||
        g_variant_n_children(hd_dbus_workspace_get_guest(iface)) != 0)
        hd_dbus_workspace_set_guest(iface, g_variant_new("a{sv}", NULL));
    /* The memory policy starts over at the next boot. */
    SET(iface, policy_target_bytes, spec->memory_max);
    if (g_strcmp0(hd_dbus_workspace_get_policy_state(iface), "steady") != 0)
        hd_dbus_workspace_set_policy_state(iface, "steady");
    if (g_strcmp0(hd_dbus_workspace_get_policy_reason(iface), "not running") != 0)
        hd_dbus_workspace_set_policy_reason(iface, "not running");
    set_absent(iface, vm_sampled_names);
    /* What hd_publish_running() knew is no longer on the object. */
    hd_ws_skeleton_published(iface)->valid = FALSE;
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
    if (a->have_host) {
        /* The policy's reclaim requests, as the agent counts them. */
        g_variant_builder_add(&b, "{sv}", "host_requests", g_variant_new_uint64(a->host_requests));
        g_variant_builder_add(&b, "{sv}", "host_requests_done", g_variant_new_uint64(a->host_done));
        g_variant_builder_add(&b, "{sv}", "host_reclaimed_bytes",
                              g_variant_new_uint64(a->host_reclaimed_bytes));
    }
    return g_variant_builder_end(&b);
}

/* Ratios are published to 4 decimals so that noise does not signal every tick. */
static double round4(double v)
{
    return (double)(gint64)(v * 10000.0 + 0.5) / 10000.0;
}

/* Set when the value differs from what pub says the object holds (always
 * when pub knows nothing), and remember it. */
#define PUT(field, prop, value)                                                                    \
    G_STMT_START                                                                                   \
    {                                                                                              \
        __typeof__(pub->field) v_ = (value);                                                       \
        if (all || pub->field != v_)                                                               \
            hd_dbus_workspace_set_##prop(iface, v_);                                               \
        pub->field = v_;                                                                           \
    }                                                                                              \
    G_STMT_END

#define MISSING(bit) (absent |= 1u << (bit))

static void put_absent(HdDbusWorkspace *iface, guint32 absent)
{
    const char *names[N_SAMPLED + 1];
    guint n = 0;

    for (guint i = 0; i < N_SAMPLED; i++) {
        if (absent & (1u << i))
            names[n++] = vm_sampled_names[i];
    }
    names[n] = NULL;
    set_absent(iface, names);
}

void hd_publish_running(HdDbusWorkspace *iface, const HdVmView *v)
{
    HdPublished *pub = hd_ws_skeleton_published(iface);
    const HdVmSample *s = &v->sample;
    const HdProcSample *proc = v->proc;
    const char *line = v->agent->canonical != NULL ? v->agent->canonical : "";
    gboolean all = !pub->valid;
    guint32 absent = 0;

    PUT(configured, configured_bytes, s->configured_bytes);
    hd_ws_skeleton_set_sample_time(iface, v->sample_usec);
    if (v->sample_usec == 0)
        MISSING(A_SAMPLE_TIME);
    PUT(stale, stale, v->stale);
    PUT(rss, rss_bytes, s->have_rss ? s->rss_bytes : 0);
    if (!s->have_rss)
        MISSING(A_RSS);
    PUT(balloon, balloon_bytes, s->have_balloon ? s->balloon_bytes : 0);
    if (!s->have_balloon)
        MISSING(A_BALLOON);
    PUT(used, guest_used_bytes, v->have_used ? v->used : 0);
    PUT(free, guest_free_bytes, v->have_used ? s->guest_free_bytes : 0);
    PUT(cache, guest_cache_bytes, v->have_used ? s->guest_cache_bytes : 0);
    if (!v->have_used) {
        MISSING(A_GUEST_USED);
        MISSING(A_GUEST_FREE);
        MISSING(A_GUEST_CACHE);
    }
    PUT(footprint, footprint_ratio, v->have_footprint ? round4(v->footprint) : 0.0);
    if (!v->have_footprint)
        MISSING(A_FOOTPRINT);
    PUT(psi_some, pressure_some_avg10, proc->have_psi ? proc->psi.some.avg10 : 0.0);
    PUT(psi_full, pressure_full_avg10,
        proc->have_psi && proc->psi.have_full ? proc->psi.full.avg10 : 0.0);
    if (!proc->have_psi)
        MISSING(A_PSI_SOME);
    if (!proc->have_psi || !proc->psi.have_full)
        MISSING(A_PSI_FULL);
    PUT(ksm, ksm_merging_pages, proc->have_ksm ? proc->ksm_merging_pages : 0);
    if (!proc->have_ksm)
        MISSING(A_KSM);
    PUT(cpu, cpu_usage, v->idle->have_usage ? round4(v->idle->usage) : 0.0);
    if (!v->idle->have_usage)
        MISSING(A_CPU);
    PUT(idle, idle, v->idle->idle);
    PUT(reclaim_latency, reclaim_latency_sec,
        v->reclaim->have_latency ? round4(v->reclaim->latency_s) : 0.0);
    PUT(reclaim_bytes, reclaim_bytes, v->reclaim->have_latency ? v->reclaim->latency_jump : 0);
    if (!v->reclaim->have_latency) {
        MISSING(A_RECLAIM_LATENCY);
        MISSING(A_RECLAIM_BYTES);
    }
    PUT(agent_connected, agent_connected, v->agent_connected);
    /* Guest is made from the line and ConfiguredBytes (set above, and
     * constant while the workspace runs): a new dictionary only for a new line. */
    if (all || strcmp(pub->agent_line, line) != 0) {
        g_autoptr(GVariant) guest = g_variant_ref_sink(guest_dict(v->agent, s->configured_bytes));

        (void)g_variant_get_data(guest); /* serialised: a fraction of a tree's bytes */
        hd_dbus_workspace_set_agent_line(iface, line);
        hd_dbus_workspace_set_guest(iface, guest);
        g_free(pub->agent_line);
        pub->agent_line = g_strdup(line);
    }
    if (v->agent->canonical == NULL)
        MISSING(A_GUEST);
    if (all || pub->absent != absent)
        put_absent(iface, absent);
    pub->absent = absent;
    pub->valid = TRUE;
}

void hd_publish_stale(HdDbusWorkspace *iface, gboolean stale)
{
    HdPublished *pub = hd_ws_skeleton_published(iface);

    if (pub->valid && pub->stale == stale)
        return;
    hd_dbus_workspace_set_stale(iface, stale);
    pub->stale = stale;
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
