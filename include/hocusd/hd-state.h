/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A workspace's run state, as published on D-Bus (Workspace.State). */
typedef enum {
    HD_STATE_UNKNOWN,
    HD_STATE_RUNNING,
    HD_STATE_BLOCKED,
    HD_STATE_PAUSED,
    HD_STATE_SHUTDOWN, /* guest is powering off */
    HD_STATE_SHUTOFF,
    HD_STATE_CRASHED,
    HD_STATE_PMSUSPENDED,
} HdState;

const char *hd_state_to_string(HdState state);

/* From virDomainGetState()'s virDomainState. */
HdState hd_state_from_virt(int virt_state);

/*
 * From a lifecycle event (virDomainEventType, detail). Returns FALSE when the
 * event says nothing about the run state (DEFINED, UNDEFINED).
 */
gboolean hd_state_from_event(int event, int detail, HdState *state);

G_END_DECLS
