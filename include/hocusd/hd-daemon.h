/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "hocusd/hd-accel.h"
#include "hocusd/hd-config.h"

G_BEGIN_DECLS

typedef struct _HdDaemon HdDaemon;

/* Takes config. bus_address, when not NULL, overrides config->bus. */
HdDaemon *hd_daemon_new(HdConfig *config, const char *bus_address);
/* Runs until SIGTERM/SIGINT or a fatal error; returns the exit status. */
int hd_daemon_run(HdDaemon *daemon);
void hd_daemon_free(HdDaemon *daemon);

/* hocusd --probe-accelerator: choose the accelerator now, outside the daemon
 * (blocking), ignoring the cached verdict when use_cache is FALSE. */
gboolean hd_accelerator_choose_now(const HdConfig *config, gboolean use_cache,
                                   HdAccelVerdict *verdict, gboolean *from_cache, GError **error);

G_END_DECLS
