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

/* iface: from hd_ws_skeleton_new(), like every workspace's. */
void hd_publish_running(HdDbusWorkspace *iface, const HdVmView *view);
/* Stale alone, between samples. */
void hd_publish_stale(HdDbusWorkspace *iface, gboolean stale);
/* Not running, or not sampled yet: every sampled figure absent. */
void hd_publish_stopped(HdDbusWorkspace *iface, const HdSpec *spec);
void hd_publish_host(HdDbusManager *mgr, const HdHostSample *host, const HdHostAggregates *agg,
                     guint64 now);
