/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* hd-jobs.c: run a blocking libvirt call on a worker thread. Not a public interface. */

#include <gio/gio.h>

#include "hocusd/hd-hypervisor.h"

/* Runs on a worker thread with its own reference to the connection. */
typedef gpointer (*HdJobFunc)(virConnectPtr conn, gpointer data, GError **error);

/* Run func(conn, data) off the main loop; done runs on the main loop, and
 * data_free(data) right after it, on the main loop too. */
void hd_job_run(HdHypervisor *hv, HdJobFunc func, gpointer data, GDestroyNotify data_free,
                GAsyncReadyCallback done, gpointer user_data);
/* The worker's return value (or NULL with error). */
gpointer hd_job_finish(GAsyncResult *res, GError **error);
/* A job's data, for its completion callback. */
gpointer hd_job_data(GAsyncResult *res);
