/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Density metrics, as ../shared/design.md defines them, from samples the
 * control loop took. Pure: no I/O, and time comes in as arguments
 * (monotonic microseconds). Every figure has a have_ flag: a figure the host
 * or guest cannot provide is absent, never zero.
 */

/* What one tick read for one running workspace. */
typedef struct {
    guint64 configured_bytes; /* the spec's memory_max */
    guint vcpus;
    gboolean have_rss;
    guint64 rss_bytes; /* host RSS of the QEMU process */
    gboolean have_balloon;
    guint64 balloon_bytes; /* memory the guest may use now (balloon "current") */
    /* Balloon statistics, reported by the (untrusted) guest. */
    gboolean have_guest_mem;
    guint64 guest_total_bytes, guest_free_bytes, guest_cache_bytes;
    gboolean have_cpu;
    guint64 cpu_time_ns; /* QEMU's cumulative CPU time */
} HdVmSample;

/* Guest values clamped to what the host configured: a guest cannot claim
 * more memory than it was given. Returns how many values were clamped. */
guint hd_metrics_clamp_guest(HdVmSample *s);

/* total - free - cache, saturating at 0. */
guint64 hd_metrics_guest_used(guint64 total, guint64 free_bytes, guint64 cache);

/*
 * The same without the balloon's pages. With autodeflate (deflate on OOM)
 * the guest kernel keeps the pages its balloon holds in MemTotal, so they
 * would count as used: a total above the balloon's size is the balloon's
 * share of it (at most; the kernel's reserved memory makes it smaller).
 */
guint64 hd_metrics_guest_used_ballooned(guint64 total, guint64 free_bytes, guint64 cache,
                                        gboolean have_balloon, guint64 balloon);

/* rss / guest_used; FALSE when either is missing or guest_used is 0. */
gboolean hd_metrics_footprint_ratio(guint64 rss, guint64 guest_used, double *ratio);

/* ---- idleness: CPU use below a threshold for a while ---- */

typedef struct {
    double cpu_threshold; /* cores (0.05 = 5 % of one core) */
    guint64 after_usec;   /* how long below the threshold before "idle" */
} HdIdleParams;

typedef struct {
    gboolean have_prev;
    guint64 prev_usec, prev_cpu_ns;
    guint64 quiet_since_usec; /* 0: busy */
    gboolean have_usage;
    double usage; /* cores, over the last interval */
    gboolean idle;
} HdIdleTracker;

void hd_idle_update(HdIdleTracker *t, const HdIdleParams *p, guint64 now_usec, gboolean have_cpu,
                    guint64 cpu_time_ns);

/* ---- reclaim latency ----
 * When the guest's free memory jumps by X (>= min_jump) between two samples,
 * the clock starts at the sample that shows the jump; it stops at the first
 * sample whose RSS is at or below (RSS before the jump - 90 % of X). The
 * latency is the difference. A jump larger than the RSS it could come from is
 * a guest's lie or a balloon artefact and starts nothing. */

typedef struct {
    guint64 min_jump;     /* bytes */
    guint64 timeout_usec; /* give up waiting after this long */
} HdReclaimParams;

typedef struct {
    gboolean have_prev;
    guint64 prev_free, prev_rss;
    gboolean pending;
    guint64 start_usec, target_rss, jump;
    /* Results. */
    gboolean have_latency;
    double latency_s;     /* the last completed measurement */
    guint64 latency_jump; /* the X it was measured for */
    guint completed, timed_out;
} HdReclaimTracker;

/* Feed one sample; TRUE when a measurement completed on this sample. */
gboolean hd_reclaim_update(HdReclaimTracker *t, const HdReclaimParams *p, guint64 now_usec,
                           gboolean have_free, guint64 free_bytes, gboolean have_rss, guint64 rss);

/* ---- host pressure level, with hysteresis ---- */

/* The values on the wire are low-memory-monitor's (LowMemoryWarning in
 * org.freedesktop.LowMemoryMonitor): 0 none, 50 low, 100 medium, 255 critical.
 * hocusd's warning level is its "medium", its critical level its "critical". */
typedef enum {
    HD_PRESSURE_NONE = 0,
    HD_PRESSURE_WARNING = 100,
    HD_PRESSURE_CRITICAL = 255,
} HdPressureLevel;

/* A level is entered at its threshold and left below 80 % of it, so that a
 * PSI figure hovering at a threshold does not make the level flap. */
HdPressureLevel hd_pressure_level(HdPressureLevel prev, double some_avg10, double warning,
                                  double critical);

/* ---- host aggregates ---- */

typedef struct {
    gboolean running;
    guint64 configured_bytes;
    gboolean have_rss;
    guint64 rss_bytes;
    gboolean have_guest_used;
    guint64 guest_used_bytes;
    gboolean idle;
} HdVmFigures;

typedef struct {
    guint running;
    guint64 committed_bytes; /* sum of configured memory of running workspaces */
    guint64 resident_bytes;  /* sum of their RSS */
    gboolean have_overcommit;
    double overcommit_ratio; /* committed / MemTotal */
    gboolean have_efficiency;
    double efficiency; /* sum(guest_used) / sum(rss), over workspaces that have both */
    gboolean have_headroom;
    guint64 median_idle_rss; /* of idle workspaces; of all running ones when none is idle */
    guint headroom;          /* floor(MemAvailable / median_idle_rss) */
} HdHostAggregates;

void hd_metrics_aggregate(const HdVmFigures *vms, guint n, gboolean have_mem_total,
                          guint64 mem_total, gboolean have_mem_available, guint64 mem_available,
                          HdHostAggregates *out);

/* A sample older than stale_after is stale (also when there never was one). */
gboolean hd_metrics_is_stale(guint64 now_usec, guint64 sample_usec, guint64 stale_after_usec);

G_END_DECLS
