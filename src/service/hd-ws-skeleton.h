/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * hd-ws-skeleton.c: the generated Workspace skeleton, with room for what
 * hd-publish.c last set on it and with SampleTimeUsec kept in a plain field.
 * Not a public interface.
 *
 * SampleTimeUsec changes every tick on every running workspace and is not
 * signalled (EmitsChangedSignal=false). Setting it as a GObject property
 * (a lookup by name, a GValue, freeze/notify/thaw) was the largest
 * per-workspace cost left on the main loop: 1.4 ms per tick at 1000. Here a
 * set is a store; the property is brought up to date only when something
 * reads it: D-Bus Get and GetAll, GetManagedObjects, and the C getter.
 * Setting it emits nothing, neither PropertiesChanged nor GObject notify.
 */

#include "hd-dbus-generated.h"

/*
 * The figures hd-publish.c last set on the object, as plain values. Every
 * tick compares a thousand workspaces' figures; comparing with these costs a
 * fraction of asking the generated getters (a lock and a GValue each).
 * Only hd-publish.c reads or writes them.
 */
typedef struct {
    gboolean valid; /* FALSE: nothing known, set everything */
    guint64 configured, rss, balloon, used, free, cache, ksm, reclaim_bytes;
    double footprint, psi_some, psi_full, cpu, reclaim_latency;
    gboolean stale, idle, agent_connected;
    guint32 absent;   /* bit i: the i-th sampled figure is absent */
    char *agent_line; /* freed with the object */
} HdPublished;

HdDbusWorkspace *hd_ws_skeleton_new(void);
/* iface must come from hd_ws_skeleton_new(). */
HdPublished *hd_ws_skeleton_published(HdDbusWorkspace *iface);
/* iface must come from hd_ws_skeleton_new(). */
void hd_ws_skeleton_set_sample_time(HdDbusWorkspace *iface, guint64 usec);
