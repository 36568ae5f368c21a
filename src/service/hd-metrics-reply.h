/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* hd-metrics-reply.c: the GetMetrics() reply, built once per change. Not a
 * public interface. */

#include "hd-dbus-generated.h"

typedef struct _HdMetricsReply HdMetricsReply;

HdMetricsReply *hd_metrics_reply_new(HdDbusManager *mgr, guint sample_interval_ms);
void hd_metrics_reply_free(HdMetricsReply *reply);

/* Answers invocation with the manager's host figures and those of every
 * workspace in all (HdWorkspace*, sorted by name): the reply built last
 * time if no property of those objects changed since, else a new one. */
void hd_metrics_reply_answer(HdMetricsReply *reply, GDBusMethodInvocation *invocation,
                             const GPtrArray *all);
