/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pressure-driven proactive reclaim in the spirit of senpai: keep asking the
 * kernel to reclaim a little more page cache as long as the guest shows no
 * memory stall; the moment it does (the working set is being refaulted), stop
 * and back off, doubling the pause while stalls repeat. Cold cache therefore
 * leaves within seconds of a job ending, and a busy job keeps what it uses.
 */
#include "ha.h"

void ha_reclaim_params_default(HaReclaimParams *p)
{
    p->pressure_target = 0.001; /* 1 ms of stall per second */
    p->min_step = 4ull << 20;
    p->max_step = 256ull << 20;
    p->step_ratio = 0.5;
    p->file_floor = 16ull << 20;
    p->backoff_min_us = 2000000;
    p->backoff_max_us = 60000000;
}

const char *ha_reclaim_action_name(HaReclaimAction a)
{
    switch (a) {
    case HA_RECLAIM_IDLE:
        return "idle";
    case HA_RECLAIM_RECLAIM:
        return "reclaiming";
    case HA_RECLAIM_BACKOFF:
        return "backoff";
    case HA_RECLAIM_WARMUP:
        return "warmup";
    }
    return "unknown";
}

HaReclaimDecision ha_reclaim_decide(const HaReclaimParams *p, HaReclaimState *s,
                                    const HaReclaimInput *in)
{
    HaReclaimDecision d = { HA_RECLAIM_IDLE, 0, -1.0 };
    uint64_t reclaimable, step;

    if (in->have_psi) {
        if (!s->primed || in->now_us <= s->last_now_us) {
            s->primed = true;
            s->last_now_us = in->now_us;
            s->last_stall_us = in->stall_total_us;
            d.action = HA_RECLAIM_WARMUP;
            return d;
        }
        /* A counter that went backwards (a new cgroup) counts as no stall. */
        d.pressure = in->stall_total_us >= s->last_stall_us
                         ? (double)(in->stall_total_us - s->last_stall_us) /
                               (double)(in->now_us - s->last_now_us)
                         : 0.0;
        s->last_now_us = in->now_us;
        s->last_stall_us = in->stall_total_us;
        if (d.pressure > p->pressure_target) {
            s->backoff_us = s->backoff_us == 0 ? p->backoff_min_us : s->backoff_us * 2;
            if (s->backoff_us > p->backoff_max_us)
                s->backoff_us = p->backoff_max_us;
            s->backoff_until_us = in->now_us + s->backoff_us;
            d.action = HA_RECLAIM_BACKOFF;
            return d;
        }
    }
    if (in->now_us < s->backoff_until_us) {
        d.action = HA_RECLAIM_BACKOFF;
        return d;
    }
    /* Calm again: forget old backoffs gradually. */
    s->backoff_us /= 2;
    if (s->backoff_us < p->backoff_min_us)
        s->backoff_us = 0;

    reclaimable = in->file_bytes > p->file_floor ? in->file_bytes - p->file_floor : 0;
    if (reclaimable < p->min_step)
        return d;
    /* Without PSI there is no feedback: only ever take small steps. */
    step = in->have_psi ? (uint64_t)((double)reclaimable * p->step_ratio) : p->min_step;
    if (step < p->min_step)
        step = p->min_step;
    if (step > p->max_step)
        step = p->max_step;
    if (step > reclaimable)
        step = reclaimable;
    d.action = HA_RECLAIM_RECLAIM;
    d.bytes = step;
    return d;
}
