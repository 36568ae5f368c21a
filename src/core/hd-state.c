/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libvirt/libvirt.h>

#include "hocusd/hd-state.h"

const char *hd_state_to_string(HdState state)
{
    switch (state) {
    case HD_STATE_RUNNING:
        return "running";
    case HD_STATE_BLOCKED:
        return "blocked";
    case HD_STATE_PAUSED:
        return "paused";
    case HD_STATE_SHUTDOWN:
        return "shutdown";
    case HD_STATE_SHUTOFF:
        return "shutoff";
    case HD_STATE_CRASHED:
        return "crashed";
    case HD_STATE_PMSUSPENDED:
        return "pmsuspended";
    case HD_STATE_UNKNOWN:
        break;
    }
    return "unknown";
}

HdState hd_state_from_virt(int virt_state)
{
    switch (virt_state) {
    case VIR_DOMAIN_RUNNING:
        return HD_STATE_RUNNING;
    case VIR_DOMAIN_BLOCKED:
        return HD_STATE_BLOCKED;
    case VIR_DOMAIN_PAUSED:
        return HD_STATE_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return HD_STATE_SHUTDOWN;
    case VIR_DOMAIN_SHUTOFF:
        return HD_STATE_SHUTOFF;
    case VIR_DOMAIN_CRASHED:
        return HD_STATE_CRASHED;
    case VIR_DOMAIN_PMSUSPENDED:
        return HD_STATE_PMSUSPENDED;
    default:
        return HD_STATE_UNKNOWN;
    }
}

gboolean hd_state_from_event(int event, int detail, HdState *state)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
    case VIR_DOMAIN_EVENT_RESUMED:
        *state = HD_STATE_RUNNING;
        return TRUE;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        *state = HD_STATE_PAUSED;
        return TRUE;
    case VIR_DOMAIN_EVENT_STOPPED:
        *state = HD_STATE_SHUTOFF;
        return TRUE;
    case VIR_DOMAIN_EVENT_SHUTDOWN:
        /* FINISHED: the guest is done; a STOPPED event follows (on_poweroff=destroy). */
        *state = HD_STATE_SHUTDOWN;
        return TRUE;
    case VIR_DOMAIN_EVENT_CRASHED:
        *state = HD_STATE_CRASHED;
        return TRUE;
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
        *state = HD_STATE_PMSUSPENDED;
        return TRUE;
    default:
        (void)detail;
        return FALSE;
    }
}
