/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * hd-ws-skeleton.c: the generated Workspace skeleton with SampleTimeUsec
 * kept in a plain field. Not a public interface.
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

HdDbusWorkspace *hd_ws_skeleton_new(void);
/* iface must come from hd_ws_skeleton_new(). */
void hd_ws_skeleton_set_sample_time(HdDbusWorkspace *iface, guint64 usec);
