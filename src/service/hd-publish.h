/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* hd-publish.c: metric properties and GetMetrics(); computes nothing. Not a
 * public interface. */

#include "hd-dbus-generated.h"
#include "hocusd/hd-metrics.h"
#include "hocusd/hd-procfs.h"
#include "hocusd/hd-vmfiles.h"
#include "hocusd/hd-agent-line.h"
#include "hd-workspace.h"
#include "hocusd/hd-spec.h"

typedef struct {
    HdVmSample sample; /* clamped */
    const HdProcSample *proc;
    gboolean have_used, have_footprint;
    guint64 used;
    double footprint;
    const HdIdleTracker *idle;
    const HdReclaimTracker *reclaim;
    const HdAgentLine *agent;
    gboolean agent_connected;
    guint64 sample_usec;
    gboolean stale;
} HdVmView;

/*
 * What hd_publish_running() last set on one workspace object. Every tick
 * compares a thousand workspaces' figures; comparing with these plain values
 * costs a fraction of asking the generated getters (a lock and a GValue
 * each). Holds a reference on the object, so a new object (the workspace was
 * re-created under the same name) is never mistaken for the old one.
 */
typedef struct {
    HdDbusWorkspace *iface; /* NULL: nothing known, set everything */
    guint64 configured, rss, balloon, used, free, cache, ksm, reclaim_bytes;
    double footprint, psi_some, psi_full, cpu, reclaim_latency;
    gboolean stale, idle, agent_connected;
    guint32 absent; /* bit i: the i-th sampled figure is absent */
    char *agent_line;
} HdPublished;
/* Forgets what was published (and drops the reference). */
void hd_published_clear(HdPublished *pub);

void hd_publish_running(HdDbusWorkspace *iface, HdPublished *pub, const HdVmView *view);
/* Stale alone, between samples. */
void hd_publish_stale(HdPublished *pub, gboolean stale);
/* Not running, or not sampled yet: every sampled figure absent. Callers that
 * keep an HdPublished clear it. */
void hd_publish_stopped(HdDbusWorkspace *iface, const HdSpec *spec);
void hd_publish_host(HdDbusManager *mgr, const HdHostSample *host, const HdHostAggregates *agg,
                     guint64 now);
