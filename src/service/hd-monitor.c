/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-daemon-private.h"
#include "hd-governor.h"
#include "hd-metrics-reply.h"
#include "hocusd/hd-agent-channel.h"
#include "hocusd/hd-agent-line.h"
#include "hocusd/hd-domain-xml.h"
#include "hocusd/hd-domstats.h"
#include "hocusd/hd-metrics.h"
#include "hocusd/hd-names.h"
#include "hocusd/hd-procfs.h"
#include "hocusd/hd-vmfiles.h"

/*
 * The control loop. Every sample_interval_ms the main loop starts a sampler
 * on a worker thread (one libvirt bulk-statistics call for all domains, each
 * QEMU's kernel files kept open by hd-vmfiles.c, the host's /proc and /sys
 * files, and a domain's XML once per domain id to find its agent channel)
 * and goes back to serving D-Bus. The sampler hands back a snapshot; the main loop computes
 * the metrics (src/core/hd-metrics.c) and publishes them as properties.
 *
 * A QEMU that does not answer (SIGSTOPped, wedged) can hold one bulk call
 * inside libvirtd until it answers again. Later ticks start new samplers
 * with NOWAIT, which skip the busy domain instead of queueing behind it, so
 * only that workspace's balloon figures go stale. At most MAX_INFLIGHT
 * samplers run at once; a tick that finds them all busy is skipped.
 *
 * Agent channels are read on the main loop without blocking (see
 * hd-agent-channel.c); lines are validated by src/core/hd-agent-line.c.
 */

#define MAX_INFLIGHT 3
#define STALE_TICKS  3

typedef struct {
    char *name;
    HdIdleTracker idle;
    HdReclaimTracker reclaim;
    HdAgentChannel *channel;
    HdAgentLine agent; /* last valid line; canonical NULL before one */
    guint64 bad_lines, bad_lines_logged;
    const char *last_bad_reason;
    int channel_dom_id;  /* domain id whose XML was read for the agent channel */
    guint64 sample_usec; /* of the last sample that had a host RSS */
    gboolean running;
    gboolean stopped_published; /* hd_publish_stopped() values are on the object */
    HdVmFigures figures;        /* for the host aggregates */
    HdPolicyVm policy;          /* for the memory policy */
    HdMonitor *m;
} VmState;

typedef struct {
    int dom_id; /* the domain id the XML was read for */
    char *path; /* NULL: that definition has no agent channel */
} ChannelFound;

static void channel_found_free(ChannelFound *c)
{
    g_free(c->path);
    g_free(c);
}

/* One running workspace in a sample. */
typedef struct {
    char *name;
    int channel_dom_id; /* domain id its agent channel was looked up for */
    /* Results. */
    HdProcSample proc;
    ChannelFound *channel; /* set when the domain was seen with a new id */
} SampleVm;

/*
 * The workspaces a sample covers. The array outlives its sample: the monitor
 * keeps the last one for the next tick. At a thousand workspaces a fresh
 * array each tick cost malloc a search of its free lists, and the names are
 * mostly the same ones in the same order, so most are not copied again.
 */
typedef struct {
    SampleVm *v;
    guint len; /* in use */
    guint cap; /* allocated; entries past len keep their names for reuse */
} SampleVms;

static void sample_vms_clear(SampleVms *a)
{
    for (guint i = 0; i < a->cap; i++) {
        g_free(a->v[i].name);
        if (a->v[i].channel != NULL)
            channel_found_free(a->v[i].channel);
    }
    g_free(a->v);
    *a = (SampleVms){ 0 };
}

struct _HdMonitor {
    HdDaemon *d;
    guint tick_id;
    guint inflight;
    gboolean nowait_supported;
    guint64 last_applied_usec;
    HdVmFiles *files; /* used by the samplers; freed with the monitor */
    GHashTable *vms;  /* name -> VmState */
    HdPressureLevel level;
    gulong get_metrics_id;
    HdMetricsReply *reply;
    HdGovernor *governor;
    SampleVms spare; /* the last sample's array, for the next one */
    guint64 ticks, skipped_ticks;
    gboolean stopping; /* hd_monitor_free() ran while samplers were out */
};

static guint64 now_usec(void)
{
    return (guint64)g_get_monotonic_time();
}

static void vm_state_free(VmState *vm)
{
    hd_agent_channel_free(vm->channel);
    hd_agent_line_clear(&vm->agent);
    g_free(vm->name);
    g_free(vm);
}

static void monitor_free(HdMonitor *m)
{
    sample_vms_clear(&m->spare);
    hd_vm_files_free(m->files);
    g_free(m);
}

/* ---- the sampler (worker thread) ---- */

typedef struct {
    guint64 start_usec;
    char *root;
    char *policy_cgroup;    /* policy.host_cgroup */
    HdVmFiles *files;       /* the monitor's; it outlives its samplers */
    SampleVms vms;          /* the workspaces running when it started */
    gboolean want_channels; /* metrics.agent_channel */
    gboolean nowait_supported;
    /* Results. */
    HdHostSample host;
    HdBudgetSample budget;
    GHashTable *stats;    /* name -> HdDomStats; empty when domstats_error */
    char *domstats_error; /* why libvirt gave no statistics */
} Sample;

static void sample_free(Sample *s)
{
    sample_vms_clear(&s->vms);
    g_free(s->root);
    g_free(s->policy_cgroup);
    g_hash_table_unref(s->stats);
    g_free(s->domstats_error);
    g_free(s);
}

static void collect_stats(virConnectPtr conn, Sample *s)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *list = hd_domstats_collect(conn, &s->nowait_supported, &error);

    if (list == NULL) {
        s->domstats_error = g_strdup(error->message);
        return;
    }
    g_ptr_array_set_free_func(list, NULL);
    for (guint i = 0; i < list->len; i++) {
        HdDomStats *st = list->pdata[i];
        g_hash_table_replace(s->stats, st->name, st);
    }
    g_ptr_array_unref(list);
}

/* A domain's agent channel, read from its XML when its id is new to us. */
static void find_channel(virConnectPtr conn, Sample *s, SampleVm *v, const HdDomStats *st)
{
    g_autofree char *xml = NULL;

    if (!s->want_channels || st == NULL || v->channel_dom_id == st->id)
        return;
    xml = hd_libvirt_get_xml(conn, v->name, NULL);
    if (xml == NULL)
        return; /* gone meanwhile, or libvirt busy: next tick */
    v->channel = g_new0(ChannelFound, 1);
    v->channel->dom_id = st->id;
    v->channel->path = hd_domain_xml_channel_path(xml, HD_AGENT_CHANNEL_NAME);
}

static gpointer sample_thread(virConnectPtr conn, gpointer data, GError **error)
{
    Sample *s = data;
    g_autoptr(GHashTable) keep = g_hash_table_new(g_str_hash, g_str_equal);

    /* Statistics first: where libvirt gave the CPU time, the process is not asked. */
    collect_stats(conn, s);
    for (guint i = 0; i < s->vms.len; i++) {
        SampleVm *v = &s->vms.v[i];
        const HdDomStats *st = g_hash_table_lookup(s->stats, v->name);

        hd_vm_files_read(s->files, v->name, st == NULL || !st->have_cpu, &v->proc);
        g_hash_table_add(keep, v->name);
        find_channel(conn, s, v, st);
    }
    hd_vm_files_retain(s->files, keep);
    hd_procfs_read_host(s->root, &s->host);
    hd_procfs_read_budget(s->root, s->policy_cgroup, &s->host, &s->budget);
    return s;
}

/* ---- publishing ---- */

/* ---- computing what is published ---- */

static void publish_vm(HdMonitor *m, VmState *vm, HdDbusWorkspace *iface, const HdVmSample *s,
                       const HdProcSample *proc, guint64 now)
{
    guint64 stale_after = (guint64)m->d->config->sample_interval_ms * 1000 * STALE_TICKS;
    HdVmView v = { .sample = *s,
                   .proc = proc,
                   .idle = &vm->idle,
                   .reclaim = &vm->reclaim,
                   .agent = &vm->agent,
                   .agent_connected =
                       vm->channel != NULL && hd_agent_channel_connected(vm->channel),
                   .sample_usec = vm->sample_usec,
                   .stale = hd_metrics_is_stale(now, vm->sample_usec, stale_after) };

    v.have_used = s->have_guest_mem;
    if (v.have_used)
        v.used = hd_metrics_guest_used_ballooned(s->guest_total_bytes, s->guest_free_bytes,
                                                 s->guest_cache_bytes, s->have_balloon,
                                                 s->balloon_bytes);
    if (s->have_rss && v.have_used)
        v.have_footprint = hd_metrics_footprint_ratio(s->rss_bytes, v.used, &v.footprint);
    hd_publish_running(iface, &v);
    vm->figures = (HdVmFigures){ .running = TRUE,
                                 .configured_bytes = s->configured_bytes,
                                 .have_rss = s->have_rss,
                                 .rss_bytes = s->rss_bytes,
                                 .have_guest_used = v.have_used,
                                 .guest_used_bytes = v.used,
                                 .idle = vm->idle.idle };
    vm->policy = (HdPolicyVm){ .memory_max = s->configured_bytes,
                               .have_balloon = s->have_balloon,
                               .balloon_bytes = s->balloon_bytes,
                               .have_rss = s->have_rss,
                               .rss_bytes = s->rss_bytes,
                               .have_used = v.have_used,
                               .used_bytes = v.used,
                               .cache_bytes = s->have_guest_mem ? s->guest_cache_bytes : 0,
                               .have_guest_psi = v.agent_connected && vm->agent.have_psi_some,
                               .guest_psi_some = vm->agent.psi_some.avg10,
                               .idle = vm->idle.idle,
                               .agent = v.agent_connected && vm->agent.have_reclaim &&
                                        strcmp(vm->agent.reclaim_state, "disabled") != 0 };
}

static void update_pressure_level(HdMonitor *m, const HdHostSample *h)
{
    const HdConfig *c = m->d->config;
    HdDbusManager *mgr = m->d->manager;
    HdPressureLevel level;

    level = h->have_psi
                ? hd_pressure_level(m->level, h->psi.some.avg10, c->pressure.some_avg10_warning,
                                    c->pressure.some_avg10_critical)
                : HD_PRESSURE_NONE;
    if (level == m->level)
        return;
    if (level > m->level)
        g_warning("Host memory pressure %s: PSI some avg10 %.2f%%",
                  level == HD_PRESSURE_CRITICAL ? "critical" : "high", h->psi.some.avg10);
    else
        g_message("Host memory pressure down to %s: PSI some avg10 %.2f%%",
                  level == HD_PRESSURE_NONE ? "normal" : "high", h->psi.some.avg10);
    m->level = level;
    hd_dbus_manager_set_pressure_level(mgr, (guchar)level);
    hd_dbus_manager_emit_low_memory_warning(mgr, (guchar)level);
}

static void publish_host(HdMonitor *m, const HdHostSample *h, guint64 now)
{
    g_autofree HdVmFigures *figs = g_new0(HdVmFigures, g_hash_table_size(m->vms) + 1);
    HdHostAggregates agg;
    GHashTableIter it;
    VmState *vm;
    guint n = 0;

    g_hash_table_iter_init(&it, m->vms);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&vm)) {
        if (vm->running)
            figs[n++] = vm->figures;
    }
    hd_metrics_aggregate(figs, n, h->have_meminfo, h->meminfo.total,
                         h->have_meminfo && h->meminfo.have_available, h->meminfo.available, &agg);
    hd_publish_host(m->d->manager, h, &agg, now);
    update_pressure_level(m, h);
}

/* ---- agent lines ---- */

static void on_agent_line(const char *line, gsize len, gpointer user_data)
{
    VmState *vm = user_data;
    HdAgentLine parsed;
    const char *why;

    if (!hd_agent_line_parse(line, len, &parsed, &why)) {
        vm->bad_lines++;
        vm->last_bad_reason = why;
        return;
    }
    hd_agent_line_clear(&vm->agent);
    vm->agent = parsed;
}

static void log_bad_lines(VmState *vm)
{
    guint64 oversized = vm->channel != NULL ? hd_agent_channel_oversized(vm->channel) : 0;
    guint64 total = vm->bad_lines + oversized;

    /* One line per burst, not one per bad line: the guest controls the rate. */
    if (total > vm->bad_lines_logged) {
        g_message("Workspace %s: ignored %" G_GUINT64_FORMAT " invalid agent line(s) (%s) and "
                  "%" G_GUINT64_FORMAT " oversized so far",
                  vm->name, vm->bad_lines, vm->last_bad_reason ? vm->last_bad_reason : "none",
                  oversized);
        vm->bad_lines_logged = total;
    }
}

/* ---- applying a snapshot ---- */

static VmState *vm_state(HdMonitor *m, const char *name)
{
    VmState *vm = g_hash_table_lookup(m->vms, name);

    if (vm == NULL) {
        vm = g_new0(VmState, 1);
        vm->name = g_strdup(name);
        vm->m = m;
        g_hash_table_insert(m->vms, vm->name, vm);
    }
    return vm;
}

/* A workspace that is not running: its figures absent, published once. */
static void apply_stopped(HdWorkspace *ws, gpointer user_data)
{
    HdMonitor *m = user_data;
    const char *name;
    VmState *vm;

    if (hd_workspace_get_state(ws) == HD_STATE_RUNNING)
        return;
    name = hd_workspace_get_name(ws);
    vm = g_hash_table_lookup(m->vms, name);
    if (vm != NULL && (vm->running || vm->channel != NULL)) {
        /* Start over next boot: trackers, channel and agent line are of the last one. */
        g_hash_table_remove(m->vms, name);
        vm = NULL;
    }
    if (vm == NULL)
        vm = vm_state(m, name);
    if (!vm->stopped_published)
        hd_publish_stopped(hd_workspace_get_iface(ws), hd_workspace_get_spec(ws));
    vm->stopped_published = TRUE;
}

static void apply_running(HdMonitor *m, HdWorkspace *ws, Sample *snap, SampleVm *sv, guint64 now)
{
    const char *name = sv->name;
    const HdSpec *spec = hd_workspace_get_spec(ws);
    HdDbusWorkspace *iface = hd_workspace_get_iface(ws);
    const HdMetricsConfig *mc = &m->d->config->metrics;
    VmState *vm = vm_state(m, name);
    const HdDomStats *st = g_hash_table_lookup(snap->stats, name);
    const HdProcSample *proc = &sv->proc;
    HdVmSample s = { .configured_bytes = spec->memory_max, .vcpus = spec->vcpus };
    HdIdleParams ip = { .cpu_threshold = mc->idle_cpu_percent / 100.0,
                        .after_usec = (guint64)mc->idle_after_s * G_USEC_PER_SEC };
    HdReclaimParams rp = { .min_jump = mc->reclaim_min_jump,
                           .timeout_usec = (guint64)mc->reclaim_timeout_s * G_USEC_PER_SEC };
    const ChannelFound *found = sv->channel;

    vm->running = TRUE;
    vm->stopped_published = FALSE;
    /* RSS: /proc when hocusd can see the QEMU process, else libvirt's figure. */
    if (proc->have_rss) {
        s.have_rss = TRUE;
        s.rss_bytes = proc->rss_bytes;
    } else if (st != NULL && st->have_rss) {
        s.have_rss = TRUE;
        s.rss_bytes = st->rss_bytes;
    }
    if (st != NULL) {
        s.have_balloon = st->have_balloon;
        s.balloon_bytes = st->balloon_current;
        s.have_guest_mem = st->have_guest_mem;
        s.guest_total_bytes = st->guest_available;
        s.guest_free_bytes = st->guest_unused;
        s.guest_cache_bytes = st->guest_disk_caches;
        s.have_cpu = st->have_cpu;
        s.cpu_time_ns = st->cpu_time_ns;
    }
    if (!s.have_cpu && proc->have_cpu) {
        s.have_cpu = TRUE;
        s.cpu_time_ns = proc->cpu_time_ns;
    }
    hd_metrics_clamp_guest(&s);
    if (s.have_rss)
        vm->sample_usec = snap->start_usec;
    hd_idle_update(&vm->idle, &ip, snap->start_usec, s.have_cpu, s.cpu_time_ns);
    if (hd_reclaim_update(&vm->reclaim, &rp, snap->start_usec, s.have_guest_mem, s.guest_free_bytes,
                          s.have_rss, s.rss_bytes))
        g_info("Workspace %s: %" G_GUINT64_FORMAT " MiB freed in the guest returned to the host "
               "in %.1f s",
               name, vm->reclaim.latency_jump >> 20, vm->reclaim.latency_s);

    if (found != NULL) {
        vm->channel_dom_id = found->dom_id;
        if (found->path == NULL) {
            g_clear_pointer(&vm->channel, hd_agent_channel_free);
        } else if (vm->channel == NULL ||
                   strcmp(hd_agent_channel_path(vm->channel), found->path) != 0) {
            hd_agent_channel_free(vm->channel);
            vm->channel = hd_agent_channel_new(found->path, mc->agent_budget, on_agent_line, vm);
            hd_agent_channel_tick(vm->channel, now);
        }
    }
    log_bad_lines(vm);
    publish_vm(m, vm, iface, &s, proc, now);
    vm->policy.memory_min = spec->memory_min;
}

/* ---- the memory policy ---- */

typedef struct {
    HdMonitor *m;
    GArray *inputs; /* HdGovernorInput */
} PolicyArgs;

static void add_policy_input(HdWorkspace *ws, gpointer user_data)
{
    PolicyArgs *a = user_data;
    VmState *vm = g_hash_table_lookup(a->m->vms, hd_workspace_get_name(ws));
    HdGovernorInput in;

    if (vm == NULL || !vm->running || hd_workspace_get_state(ws) != HD_STATE_RUNNING)
        return;
    in = (HdGovernorInput){ .ws = ws, .vm = vm->policy, .channel = vm->channel };
    g_array_append_val(a->inputs, in);
}

static void run_policy(HdMonitor *m, Sample *snap)
{
    g_autoptr(GArray) inputs = g_array_new(FALSE, TRUE, sizeof(HdGovernorInput));
    PolicyArgs args = { m, inputs };

    hd_inventory_foreach(m->d->inventory, add_policy_input, &args);
    hd_governor_tick(m->governor, snap->start_usec, &snap->host, &snap->budget,
                     (const HdGovernorInput *)(void *)inputs->data, inputs->len);
}

static void sample_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    HdMonitor *m = user_data;
    Sample *snap = hd_job_data(res);
    g_autoptr(GError) error = NULL;
    guint64 now = now_usec();
    GHashTableIter it;
    VmState *vm;

    (void)hd_job_finish(res, &error);
    m->inflight--;
    if (m->stopping) {
        if (m->inflight == 0)
            monitor_free(m);
        return;
    }
    if (error != NULL) {
        g_debug("Sampling skipped: %s", error->message);
        return;
    }
    /* A sampler that was stuck behind a slow QEMU may finish after newer ones. */
    if (snap->start_usec < m->last_applied_usec)
        return;
    m->last_applied_usec = snap->start_usec;
    if (!snap->nowait_supported)
        m->nowait_supported = FALSE;
    if (snap->domstats_error != NULL)
        g_debug("Domain statistics unavailable: %s", snap->domstats_error);

    for (guint i = 0; i < snap->vms.len; i++) {
        HdWorkspace *ws = hd_inventory_lookup(m->d->inventory, snap->vms.v[i].name);

        /* Stopped or gone meanwhile: apply_stopped() or the walk below. */
        if (ws != NULL && hd_workspace_get_state(ws) == HD_STATE_RUNNING)
            apply_running(m, ws, snap, &snap->vms.v[i], now);
    }
    hd_inventory_foreach(m->d->inventory, apply_stopped, m);
    /* Forget workspaces that are gone. */
    g_hash_table_iter_init(&it, m->vms);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&vm)) {
        if (hd_inventory_lookup(m->d->inventory, vm->name) == NULL)
            g_hash_table_iter_remove(&it);
    }
    publish_host(m, &snap->host, snap->start_usec);
    run_policy(m, snap);
    sample_vms_clear(&m->spare);
    m->spare = snap->vms;
    snap->vms = (SampleVms){ 0 };
}

/* ---- the tick ---- */

typedef struct {
    HdMonitor *m;
    guint64 now, stale_after;
} StaleArgs;

static void mark_stale(HdWorkspace *ws, gpointer user_data)
{
    StaleArgs *a = user_data;
    VmState *vm = g_hash_table_lookup(a->m->vms, hd_workspace_get_name(ws));

    if (vm != NULL && vm->running)
        hd_publish_stale(hd_workspace_get_iface(ws),
                         hd_metrics_is_stale(a->now, vm->sample_usec, a->stale_after));
}

/*
 * Between samples. Every applied sample sets Stale itself; the walk below
 * marks figures stale when samples stop coming (libvirt stuck), and is
 * skipped while they come: at a thousand workspaces it was a tenth of the
 * tick. Agent channels get their tick (reconnect, line budget) either way.
 */
static void tick_workspaces(HdMonitor *m, guint64 now)
{
    guint64 interval = (guint64)m->d->config->sample_interval_ms * 1000;
    GHashTableIter it;
    VmState *vm;

    if (now - m->last_applied_usec >= 2 * interval) {
        StaleArgs args = { m, now, interval * STALE_TICKS };

        hd_inventory_foreach(m->d->inventory, mark_stale, &args);
    }
    g_hash_table_iter_init(&it, m->vms);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&vm)) {
        if (vm->running && vm->channel != NULL)
            hd_agent_channel_tick(vm->channel, now);
    }
}

typedef struct {
    HdMonitor *m;
    Sample *s;
} CoverArgs;

/* Which workspaces a sample covers. */
static void add_running(HdWorkspace *ws, gpointer user_data)
{
    CoverArgs *a = user_data;
    const char *name = hd_workspace_get_name(ws);
    SampleVm *v;
    VmState *vm;

    if (hd_workspace_get_state(ws) != HD_STATE_RUNNING)
        return;
    /* Sized by hd_inventory_count() over the same workspaces just before. */
    g_assert(a->s->vms.len < a->s->vms.cap);
    v = &a->s->vms.v[a->s->vms.len++];
    if (v->name == NULL || strcmp(v->name, name) != 0) {
        g_free(v->name);
        v->name = g_strdup(name);
    }
    v->proc = (HdProcSample){ 0 };
    g_clear_pointer(&v->channel, channel_found_free);
    v->channel_dom_id = 0;
    if (a->s->want_channels) {
        vm = g_hash_table_lookup(a->m->vms, name);
        v->channel_dom_id = vm != NULL ? vm->channel_dom_id : 0;
    }
}

static gboolean on_tick(gpointer user_data)
{
    HdMonitor *m = user_data;
    HdDaemon *d = m->d;
    guint64 now = now_usec();
    guint running;
    Sample *s;

    m->ticks++;
    tick_workspaces(m, now);
    if (!hd_inventory_is_discovered(d->inventory) || !hd_hypervisor_is_connected(d->hv))
        return G_SOURCE_CONTINUE;
    if (m->inflight >= MAX_INFLIGHT) {
        m->skipped_ticks++;
        if (m->skipped_ticks == 1 || m->skipped_ticks % 60 == 0)
            g_warning("%u samplers are waiting on libvirt; skipped %" G_GUINT64_FORMAT " ticks",
                      m->inflight, m->skipped_ticks);
        return G_SOURCE_CONTINUE;
    }
    s = g_new0(Sample, 1);
    s->start_usec = now;
    s->root = g_strdup(d->config->host_root);
    s->policy_cgroup = g_strdup(d->config->policy.host_cgroup);
    s->files = m->files;
    (void)hd_inventory_count(d->inventory, &running);
    if (m->spare.cap >= running) {
        s->vms = m->spare;
        s->vms.len = 0;
        m->spare = (SampleVms){ 0 };
    } else {
        sample_vms_clear(&m->spare);
        s->vms.v = g_new0(SampleVm, running);
        s->vms.cap = running;
    }
    s->want_channels = d->config->metrics.agent_channel;
    s->nowait_supported = m->nowait_supported;
    s->stats =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)hd_domstats_free);
    {
        CoverArgs args = { m, s };

        hd_inventory_foreach(d->inventory, add_running, &args);
    }
    m->inflight++;
    hd_job_run(d->hv, sample_thread, s, (GDestroyNotify)sample_free, sample_done, m);
    return G_SOURCE_CONTINUE;
}

/* ---- GetMetrics ---- */

static gboolean handle_get_metrics(HdDbusManager *mgr, GDBusMethodInvocation *invocation,
                                   HdMonitor *m)
{
    g_autoptr(GPtrArray) all = hd_inventory_list(m->d->inventory);

    hd_metrics_reply_answer(m->reply, invocation, all);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- life cycle ---- */

HdMonitor *hd_monitor_new(HdDaemon *d)
{
    HdMonitor *m = g_new0(HdMonitor, 1);
    HdHostSample host;
    g_autofree char *cgroup2_mount = NULL;

    m->d = d;
    m->nowait_supported = TRUE;
    m->vms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)vm_state_free);
    cgroup2_mount = hd_procfs_cgroup2_mount(d->config->host_root);
    m->files = hd_vm_files_new(d->config->host_root, cgroup2_mount);
    if (cgroup2_mount == NULL)
        g_message("No cgroup2 mount under %s: per-workspace memory pressure is absent",
                  d->config->host_root);
    /* Host figures are there before the first workspace sample. */
    hd_procfs_read_host(d->config->host_root, &host);
    publish_host(m, &host, now_usec());
    m->reply = hd_metrics_reply_new(d->manager, d->config->sample_interval_ms);
    m->governor = hd_governor_new(d);
    m->get_metrics_id =
        g_signal_connect(d->manager, "handle-get-metrics", G_CALLBACK(handle_get_metrics), m);
    m->tick_id = g_timeout_add(d->config->sample_interval_ms, on_tick, m);
    return m;
}

void hd_monitor_free(HdMonitor *m)
{
    if (m == NULL)
        return;
    if (m->tick_id != 0)
        g_source_remove(m->tick_id);
    if (m->get_metrics_id != 0)
        g_signal_handler_disconnect(m->d->manager, m->get_metrics_id);
    g_clear_pointer(&m->reply, hd_metrics_reply_free);
    g_clear_pointer(&m->governor, hd_governor_free);
    g_hash_table_unref(m->vms);
    /* Samplers still in flight hold m as user_data; the last one frees it. */
    if (m->inflight == 0)
        monitor_free(m);
    else
        m->stopping = TRUE;
}
