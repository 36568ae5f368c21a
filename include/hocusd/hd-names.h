/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Names fixed by the design; keep them in one place. */
#define HD_DBUS_NAME              "dev.hocus.Hocusd1"
#define HD_DBUS_ROOT_PATH         "/dev/hocus/Hocusd1"
#define HD_DBUS_WORKSPACE_PREFIX  "/dev/hocus/Hocusd1/workspace/"
#define HD_DBUS_MANAGER_IFACE     "dev.hocus.Hocusd1.Manager"
#define HD_DBUS_WORKSPACE_IFACE   "dev.hocus.Hocusd1.Workspace"
#define HD_XMLNS_URI              "https://hocus.dev/xmlns/hocusd/1"
#define HD_XMLNS_PREFIX           "hocus"
#define HD_AGENT_CHANNEL_NAME     "dev.hocus.agent.0"
#define HD_WORKSPACE_NAME_MAX_LEN 63

/*
 * Workspace names match [a-z][a-z0-9-]{0,62}. They end up in libvirt domain
 * names, file names and D-Bus object paths, so nothing else is accepted.
 */
gboolean hd_name_validate(const char *name, GError **error);

/*
 * D-Bus path elements allow [A-Za-z0-9_] only. Names never contain '_', so
 * mapping '-' to '_' is a bijection and keeps paths readable:
 * "my-ws" <-> "/dev/hocus/Hocusd1/workspace/my_ws".
 */
char *hd_name_to_object_path(const char *name);

G_END_DECLS
