/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdlib.h>

#include "hocusd/hd-metrics.h"

guint hd_metrics_clamp_guest(HdVmSample *s)
{
    guint clamped = 0;
    guint64 limit = s->configured_bytes;

    if (limit == 0)
        return 0;
#define CLAMP_TO(field, max)                                                                       \
    do {                                                                                           \
        if ((field) > (max)) {                                                                     \
            (field) = (max);                                                                       \
            clamped++;                                                                             \
        }                                                                                          \
    } while (0)
    if (s->have_balloon)
        CLAMP_TO(s->balloon_bytes, limit);
    if (s->have_guest_mem) {
        CLAMP_TO(s->guest_total_bytes, limit);
        CLAMP_TO(s->guest_free_bytes, s->guest_total_bytes);
        CLAMP_TO(s->guest_cache_bytes, s->guest_total_bytes);
    }
#undef CLAMP_TO
    return clamped;
}

guint64 hd_metrics_guest_used(guint64 total, guint64 free_bytes, guint64 cache)
{
    if (free_bytes >= total || cache >= total - free_bytes)
        return 0;
    return total - free_bytes - cache;
}

guint64 hd_metrics_guest_used_ballooned(guint64 total, guint64 free_bytes, guint64 cache,
                                        gboolean have_balloon, guint64 balloon)
{
    guint64 used = hd_metrics_guest_used(total, free_bytes, cache);
    guint64 in_balloon = have_balloon && total > balloon ? total - balloon : 0;

    return used - MIN(used, in_balloon);
}

gboolean hd_metrics_footprint_ratio(guint64 rss, guint64 guest_used, double *ratio)
{
    if (guest_used == 0)
        return FALSE;
    *ratio = (double)rss / (double)guest_used;
    return TRUE;
}

void hd_idle_update(HdIdleTracker *t, const HdIdleParams *p, guint64 now_usec, gboolean have_cpu,
                    guint64 cpu_time_ns)
{
    if (!have_cpu) {
        /* Without CPU figures idleness is unknown: not idle. */
        *t = (HdIdleTracker){ 0 };
        return;
    }
    if (t->have_prev && now_usec > t->prev_usec && cpu_time_ns >= t->prev_cpu_ns) {
        double wall_ns = (double)(now_usec - t->prev_usec) * 1000.0;

        t->usage = (double)(cpu_time_ns - t->prev_cpu_ns) / wall_ns;
        t->have_usage = TRUE;
        if (t->usage < p->cpu_threshold) {
            if (t->quiet_since_usec == 0)
                t->quiet_since_usec = t->prev_usec;
        } else {
            t->quiet_since_usec = 0;
        }
        t->idle = t->quiet_since_usec != 0 && now_usec - t->quiet_since_usec >= p->after_usec;
    } else if (t->have_prev) {
        /* Time or CPU counter went backwards (a restarted QEMU): start over. */
        t->have_usage = FALSE;
        t->quiet_since_usec = 0;
        t->idle = FALSE;
    }
    t->have_prev = TRUE;
    t->prev_usec = now_usec;
    t->prev_cpu_ns = cpu_time_ns;
}

gboolean hd_reclaim_update(HdReclaimTracker *t, const HdReclaimParams *p, guint64 now_usec,
                           gboolean have_free, guint64 free_bytes, gboolean have_rss, guint64 rss)
{
    gboolean done = FALSE;

    if (!have_free || !have_rss) {
        t->have_prev = FALSE;
        return FALSE;
    }
    if (t->pending && rss <= t->target_rss) {
        t->pending = FALSE;
        t->have_latency = TRUE;
        t->latency_s = (double)(now_usec - t->start_usec) / 1e6;
        t->latency_jump = t->jump;
        t->completed++;
        done = TRUE;
    } else if (t->pending && now_usec - t->start_usec > p->timeout_usec) {
        t->pending = FALSE;
        t->timed_out++;
    }
    if (t->have_prev && free_bytes > t->prev_free && free_bytes - t->prev_free >= p->min_jump) {
        guint64 jump = free_bytes - t->prev_free;
        guint64 expect = jump / 10 * 9;

        /* A newer jump replaces a measurement still in progress. */
        if (expect < t->prev_rss) {
            t->pending = TRUE;
            t->start_usec = now_usec;
            t->jump = jump;
            t->target_rss = t->prev_rss - expect;
            if (rss <= t->target_rss) {
                /* Returned within the same sample interval. */
                t->pending = FALSE;
                t->have_latency = TRUE;
                t->latency_s = 0.0;
                t->latency_jump = jump;
                t->completed++;
                done = TRUE;
            }
        }
    }
    t->have_prev = TRUE;
    t->prev_free = free_bytes;
    t->prev_rss = rss;
    return done;
}

HdPressureLevel hd_pressure_level(HdPressureLevel prev, double some_avg10, double warning,
                                  double critical)
{
    const double leave = 0.8;

    if (isnan(some_avg10))
        return prev;
    if (some_avg10 >= critical)
        return HD_PRESSURE_CRITICAL;
    if (prev == HD_PRESSURE_CRITICAL && some_avg10 >= critical * leave)
        return HD_PRESSURE_CRITICAL;
    if (some_avg10 >= warning)
        return HD_PRESSURE_WARNING;
    if (prev >= HD_PRESSURE_WARNING && some_avg10 >= warning * leave)
        return HD_PRESSURE_WARNING;
    return HD_PRESSURE_NONE;
}

static int cmp_u64(const void *a, const void *b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

static guint64 median_u64(guint64 *v, guint n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    return n % 2 == 1 ? v[n / 2] : v[n / 2 - 1] / 2 + v[n / 2] / 2;
}

void hd_metrics_aggregate(const HdVmFigures *vms, guint n, gboolean have_mem_total,
                          guint64 mem_total, gboolean have_mem_available, guint64 mem_available,
                          HdHostAggregates *out)
{
    g_autofree guint64 *idle_rss = g_new(guint64, n + 1);
    g_autofree guint64 *all_rss = g_new(guint64, n + 1);
    guint n_idle = 0, n_all = 0;
    guint64 used_sum = 0, rss_with_used = 0;

    *out = (HdHostAggregates){ 0 };
    for (guint i = 0; i < n; i++) {
        const HdVmFigures *v = &vms[i];

        if (!v->running)
            continue;
        out->running++;
        out->committed_bytes += v->configured_bytes;
        if (!v->have_rss)
            continue;
        out->resident_bytes += v->rss_bytes;
        all_rss[n_all++] = v->rss_bytes;
        if (v->idle)
            idle_rss[n_idle++] = v->rss_bytes;
        if (v->have_guest_used) {
            used_sum += v->guest_used_bytes;
            rss_with_used += v->rss_bytes;
        }
    }
    if (have_mem_total && mem_total > 0) {
        out->have_overcommit = TRUE;
        out->overcommit_ratio = (double)out->committed_bytes / (double)mem_total;
    }
    if (rss_with_used > 0) {
        out->have_efficiency = TRUE;
        out->efficiency = (double)used_sum / (double)rss_with_used;
    }
    if (n_idle > 0 || n_all > 0) {
        out->median_idle_rss =
            n_idle > 0 ? median_u64(idle_rss, n_idle) : median_u64(all_rss, n_all);
        if (have_mem_available && out->median_idle_rss > 0) {
            out->have_headroom = TRUE;
            out->headroom = (guint)MIN(mem_available / out->median_idle_rss, G_MAXUINT);
        }
    }
}

gboolean hd_metrics_is_stale(guint64 now_usec, guint64 sample_usec, guint64 stale_after_usec)
{
    return sample_usec == 0 || now_usec < sample_usec || now_usec - sample_usec > stale_after_usec;
}
