/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * hd-governor.c: the memory policy's wiring. Each tick the control loop
 * hands it what it sampled; it runs the pure policy (src/core/hd-policy.c),
 * carries out the actions in active mode (balloon targets through libvirt
 * on worker threads, reclaim requests on the agent channels), publishes
 * targets, states and reasons, emits PolicyDecision and keeps the log that
 * GetPolicyLog returns. Not a public interface.
 */

#include "hd-daemon-private.h"
#include "hocusd/hd-agent-channel.h"
#include "hocusd/hd-policy.h"

typedef struct _HdGovernor HdGovernor;

typedef struct {
    HdWorkspace *ws;
    HdPolicyVm vm;
    HdAgentChannel *channel; /* NULL: no agent channel */
} HdGovernorInput;

HdGovernor *hd_governor_new(HdDaemon *d);
/* Jobs still out finish against a governor that is stopping; the last frees it. */
void hd_governor_free(HdGovernor *g);
void hd_governor_tick(HdGovernor *g, guint64 now, const HdHostSample *host,
                      const HdBudgetSample *budget, const HdGovernorInput *in, guint n);
