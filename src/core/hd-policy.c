/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "hocusd/hd-policy.h"
#include "hocusd/hd-size.h"

/*
 * docs/memory-policy.md explains the rules and the numbers; the unit tables
 * in tests/core/test-policy.c hold one case per rule.
 */

/* Balloon sizes are reported in KiB and move in pages: closer than this is "there". */
#define BALLOON_TOLERANCE (4 * HD_MiB)

static const char *const mode_names[] = { "off", "observe", "active" };

const char *hd_policy_mode_name(HdPolicyMode mode)
{
    return (guint)mode < G_N_ELEMENTS(mode_names) ? mode_names[mode] : "unknown";
}

gboolean hd_policy_mode_parse(const char *text, HdPolicyMode *out)
{
    for (guint i = 0; i < G_N_ELEMENTS(mode_names); i++) {
        if (text != NULL && strcmp(text, mode_names[i]) == 0) {
            *out = (HdPolicyMode)i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *hd_host_level_name(HdHostLevel level)
{
    switch (level) {
    case HD_HOST_CALM:
        return "calm";
    case HD_HOST_STEADY:
        return "steady";
    case HD_HOST_PRESSURE:
        return "pressure";
    case HD_HOST_CRITICAL:
        return "critical";
    }
    return "unknown";
}

const char *hd_vm_policy_state_name(HdVmPolicyState state)
{
    static const char *const names[] = { "steady",  "returning", "reclaiming", "inflating",
                                         "holding", "at-floor",  "protected",  "off" };

    return (guint)state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

void hd_policy_params_default(HdPolicyParams *p)
{
    *p = (HdPolicyParams){
        .psi_some_pressure = 10.0,
        .psi_some_calm = 1.0,
        .psi_full_critical = 10.0,
        .headroom_pressure = 0.10,
        .headroom_calm = 0.20,
        .headroom_critical = 0.05,
        .calm_after_usec = 30 * G_USEC_PER_SEC,
        .step_max = 128 * HD_MiB,
        .tick_max = 512 * HD_MiB,
        .step_min = 16 * HD_MiB,
        .grow_step = 64 * HD_MiB,
        .guest_margin = 64 * HD_MiB,
        .guest_margin_fraction = 0.10,
        .reclaim_cache_min = 64 * HD_MiB,
        .reclaim_lead_usec = 3 * G_USEC_PER_SEC,
        .reclaim_every_usec = 30 * G_USEC_PER_SEC,
        .guest_psi_stall = 5.0,
        .inflate_stall_usec = 5 * G_USEC_PER_SEC,
        .hold_usec = 60 * G_USEC_PER_SEC,
        .idle_grace_usec = 30 * G_USEC_PER_SEC,
    };
}

void hd_policy_params_from_config(HdPolicyParams *p, const HdPolicyConfig *c)
{
    hd_policy_params_default(p);
    p->psi_some_pressure = c->psi_some_pressure;
    p->psi_some_calm = c->psi_some_calm;
    p->psi_full_critical = c->psi_full_critical;
    p->headroom_pressure = c->headroom_pressure_pct / 100.0;
    p->headroom_calm = c->headroom_calm_pct / 100.0;
    p->headroom_critical = c->headroom_critical_pct / 100.0;
    p->calm_after_usec = (guint64)c->calm_after_s * G_USEC_PER_SEC;
    p->step_max = c->step_max;
    p->tick_max = c->tick_max;
    p->grow_step = c->grow_step;
    p->guest_margin = c->guest_margin;
    p->guest_psi_stall = c->guest_psi_stall;
    p->inflate_stall_usec = (guint64)c->inflate_stall_s * G_USEC_PER_SEC;
    p->hold_usec = (guint64)c->hold_s * G_USEC_PER_SEC;
    p->reclaim_lead_usec = (guint64)c->reclaim_lead_s * G_USEC_PER_SEC;
}

guint64 hd_policy_host_target(const HdPolicyParams *p, guint64 budget_bytes)
{
    return (guint64)((double)budget_bytes * p->headroom_calm);
}

static guint64 mib(guint64 bytes)
{
    return bytes / HD_MiB;
}

guint64 hd_policy_floor(const HdPolicyParams *p, const HdPolicyVm *vm)
{
    guint64 margin, floor;

    if (!vm->have_used)
        return vm->memory_max;
    margin = MAX(p->guest_margin, (guint64)((double)vm->used_bytes * p->guest_margin_fraction));
    floor = MAX(vm->memory_min, vm->used_bytes + margin);
    return MIN(floor, vm->memory_max);
}

/* ---- the host ---- */

static double available_fraction(const HdPolicyHost *h)
{
    if (!h->have_budget || h->budget_bytes == 0)
        return 1.0;
    return (double)h->available_bytes / (double)h->budget_bytes;
}

static void describe_short(HdPolicyHostState *hs, const HdPolicyHost *h, double fraction)
{
    g_snprintf(hs->reason, sizeof(hs->reason),
               "%" G_GUINT64_FORMAT " MiB available < %.0f%% of %" G_GUINT64_FORMAT " MiB",
               mib(h->available_bytes), fraction * 100, mib(h->budget_bytes));
}

static void host_level(const HdPolicyParams *p, guint64 now, const HdPolicyHost *h,
                       HdPolicyHostState *hs)
{
    double avail = available_fraction(h);
    gboolean budget_critical = h->have_budget && avail < p->headroom_critical;
    gboolean psi_critical = h->have_psi && h->full_avg10 >= p->psi_full_critical;
    gboolean budget_low = h->have_budget && avail < p->headroom_pressure;
    gboolean psi_high = h->have_psi && h->some_avg10 >= p->psi_some_pressure;
    gboolean calm = (!h->have_psi || h->some_avg10 < p->psi_some_calm) &&
                    (!h->have_budget || avail >= p->headroom_calm);

    if (budget_critical || psi_critical) {
        hs->level = HD_HOST_CRITICAL;
        if (psi_critical)
            g_snprintf(hs->reason, sizeof(hs->reason), "PSI full avg10 %.2f%% >= %.2f%%",
                       h->full_avg10, p->psi_full_critical);
        else
            describe_short(hs, h, p->headroom_critical);
    } else if (budget_low || psi_high) {
        hs->level = HD_HOST_PRESSURE;
        if (psi_high)
            g_snprintf(hs->reason, sizeof(hs->reason), "PSI some avg10 %.2f%% >= %.2f%%",
                       h->some_avg10, p->psi_some_pressure);
        else
            describe_short(hs, h, p->headroom_pressure);
    } else if (calm) {
        hs->level = HD_HOST_CALM;
        if (hs->calm_since_usec == 0)
            hs->calm_since_usec = now;
        g_snprintf(hs->reason, sizeof(hs->reason), "calm for %" G_GUINT64_FORMAT " s",
                   (now - hs->calm_since_usec) / G_USEC_PER_SEC);
    } else {
        hs->level = HD_HOST_STEADY;
        g_snprintf(hs->reason, sizeof(hs->reason), "between the calm and pressure thresholds");
    }
    if (hs->level != HD_HOST_CALM)
        hs->calm_since_usec = 0;
}

/* Bytes to free this tick: back up to the calm headroom, and under PSI at
 * least half a tick's worth even when the budget looks fine (PSI is the
 * earlier signal when memory can be reclaimed, e.g. with host swap). */
static guint64 host_need(const HdPolicyParams *p, const HdPolicyHost *h,
                         const HdPolicyHostState *hs)
{
    guint64 need = 0, cap;

    if (hs->level < HD_HOST_PRESSURE)
        return 0;
    if (h->have_budget) {
        guint64 want = hd_policy_host_target(p, h->budget_bytes);

        if (h->available_bytes < want)
            need = want - h->available_bytes;
    }
    if (h->have_psi && h->some_avg10 >= p->psi_some_pressure)
        need = MAX(need, p->tick_max / 2);
    cap = hs->level == HD_HOST_CRITICAL ? 2 * p->tick_max : p->tick_max;
    return MIN(need, cap) / HD_MiB * HD_MiB; /* targets move in whole MiB */
}

/* ---- one workspace ---- */

static guint64 current_size(const HdPolicyVm *vm, const HdPolicyVmState *st)
{
    if (st->have_target)
        return st->target_bytes;
    if (vm->have_balloon)
        return MIN(vm->balloon_bytes, vm->memory_max);
    return vm->memory_max;
}

static void set_target(HdPolicyVmState *st, HdPolicyAction *a, guint64 target)
{
    st->have_target = TRUE;
    st->target_bytes = target;
    a->set_target = TRUE;
    a->target_bytes = target;
}

static void protect(const HdPolicyParams *p, guint64 now, const HdPolicyVm *vm, HdPolicyVmState *st,
                    HdPolicyAction *a, guint64 give_to)
{
    give_to = MIN(MAX(give_to, current_size(vm, st)), vm->memory_max);
    if (!st->have_target || st->target_bytes != give_to)
        set_target(st, a, give_to);
    if (st->hold_until_usec <= now)
        st->stalls++; /* a new episode, not one that goes on */
    st->state = HD_VM_POLICY_PROTECTED;
    st->hold_until_usec = now + p->hold_usec;
}

/* Stall protection; TRUE when it acted on this workspace this tick. */
static gboolean check_stall(const HdPolicyParams *p, HdPolicyMode mode, guint64 now,
                            HdHostLevel level, const HdPolicyVm *vm, HdPolicyVmState *st,
                            HdPolicyAction *a)
{
    if (vm->have_guest_psi && vm->guest_psi_some >= p->guest_psi_stall &&
        level != HD_HOST_CRITICAL) {
        protect(p, now, vm, st, a, vm->memory_max);
        g_snprintf(
            st->reason, sizeof(st->reason),
            "guest PSI some avg10 %.2f%% >= %.2f%%: memory given back, held for %" G_GUINT64_FORMAT
            " s",
            vm->guest_psi_some, p->guest_psi_stall, p->hold_usec / G_USEC_PER_SEC);
        return TRUE;
    }
    /* Only a balloon that is really being driven can stall or be taken back. */
    if (mode != HD_POLICY_ACTIVE || !st->have_target || !vm->have_balloon)
        return FALSE;
    if (vm->balloon_bytes + BALLOON_TOLERANCE < st->progress_balloon) {
        st->progress_usec = now; /* moving towards the target */
        st->progress_balloon = vm->balloon_bytes;
        return FALSE;
    }
    if (vm->balloon_bytes > st->progress_balloon + BALLOON_TOLERANCE &&
        vm->balloon_bytes > st->target_bytes + BALLOON_TOLERANCE) {
        /* The guest deflated its balloon itself (autodeflate: it was about to OOM). */
        protect(p, now, vm, st, a, vm->balloon_bytes);
        g_snprintf(st->reason, sizeof(st->reason),
                   "the guest took its balloon back (%" G_GUINT64_FORMAT
                   " MiB): held for %" G_GUINT64_FORMAT " s",
                   mib(vm->balloon_bytes), p->hold_usec / G_USEC_PER_SEC);
        st->progress_balloon = vm->balloon_bytes;
        return TRUE;
    }
    if (vm->balloon_bytes > st->target_bytes + BALLOON_TOLERANCE &&
        now - st->progress_usec >= p->inflate_stall_usec) {
        guint64 stuck = vm->balloon_bytes;

        protect(p, now, vm, st, a, stuck + p->step_max);
        g_snprintf(st->reason, sizeof(st->reason),
                   "inflation stalled at %" G_GUINT64_FORMAT " MiB for %" G_GUINT64_FORMAT
                   " s: %" G_GUINT64_FORMAT " MiB given back, held for %" G_GUINT64_FORMAT " s",
                   mib(stuck), (now - st->progress_usec) / G_USEC_PER_SEC,
                   mib(st->target_bytes - MIN(stuck, st->target_bytes)),
                   p->hold_usec / G_USEC_PER_SEC);
        st->progress_usec = now;
        st->progress_balloon = vm->balloon_bytes;
        return TRUE;
    }
    if (vm->balloon_bytes <= st->target_bytes + BALLOON_TOLERANCE)
        st->progress_balloon = vm->balloon_bytes;
    return FALSE;
}

/* The balloon is at its target (in observe mode it never moves: "there" at once). */
static gboolean reached(HdPolicyMode mode, const HdPolicyVm *vm, const HdPolicyVmState *st)
{
    return mode != HD_POLICY_ACTIVE || !vm->have_balloon ||
           vm->balloon_bytes <= st->target_bytes + BALLOON_TOLERANCE;
}

/* ---- choosing whom to take from ---- */

typedef struct {
    guint index;
    gboolean idle;
    gboolean have_ratio;
    double ratio; /* RSS / guest used */
    guint64 size;
} Candidate;

static gint compare_candidates(gconstpointer a, gconstpointer b)
{
    const Candidate *x = a, *y = b;

    if (x->idle != y->idle)
        return x->idle ? -1 : 1;
    if (x->have_ratio != y->have_ratio)
        return x->have_ratio ? -1 : 1;
    if (x->have_ratio && x->ratio != y->ratio)
        return x->ratio > y->ratio ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void describe_take(char *buf, gsize len, const HdPolicyHostState *hs, const Candidate *c,
                          guint64 take, const char *what)
{
    if (c->idle)
        g_snprintf(buf, len, "host %s (%s): %s %" G_GUINT64_FORMAT " MiB from an idle workspace",
                   hd_host_level_name(hs->level), hs->reason, what, mib(take));
    else if (c->have_ratio)
        g_snprintf(buf, len, "host %s (%s): %s %" G_GUINT64_FORMAT " MiB, footprint ratio %.2f",
                   hd_host_level_name(hs->level), hs->reason, what, mib(take), c->ratio);
    else
        g_snprintf(buf, len, "host %s (%s): %s %" G_GUINT64_FORMAT " MiB",
                   hd_host_level_name(hs->level), hs->reason, what, mib(take));
}

static void take_memory(const HdPolicyParams *p, HdPolicyMode mode, guint64 now,
                        const HdPolicyVm *vms, HdPolicyVmState *states, HdPolicyAction *actions,
                        const gboolean *acted, guint n, HdPolicyHostState *hs)
{
    g_autofree Candidate *c = g_new0(Candidate, n + 1);
    guint nc = 0;
    guint64 left = hs->need_bytes;

    for (guint i = 0; i < n; i++) {
        const HdPolicyVm *vm = &vms[i];
        guint64 size = current_size(vm, &states[i]);

        if (acted[i] || states[i].hold_until_usec > now)
            continue;
        if (size < hd_policy_floor(p, vm) + p->step_min) {
            states[i].state = HD_VM_POLICY_AT_FLOOR;
            if (!vm->have_used)
                g_snprintf(states[i].reason, sizeof(states[i].reason),
                           "no guest memory figures: nothing is taken blind");
            else
                g_snprintf(states[i].reason, sizeof(states[i].reason),
                           "at its floor: %" G_GUINT64_FORMAT " MiB (memory_min %" G_GUINT64_FORMAT
                           " MiB, guest used %" G_GUINT64_FORMAT " MiB + margin)",
                           mib(hd_policy_floor(p, vm)), mib(vm->memory_min), mib(vm->used_bytes));
            continue;
        }
        c[nc] = (Candidate){ .index = i,
                             .idle = vm->idle || states[i].idle_until_usec > now,
                             .size = size };
        if (vm->have_rss && vm->have_used && vm->used_bytes > 0) {
            c[nc].have_ratio = TRUE;
            c[nc].ratio = (double)vm->rss_bytes / (double)vm->used_bytes;
        }
        nc++;
    }
    qsort(c, nc, sizeof(*c), compare_candidates);
    /* Idle workspaces first, across ticks too: while what they can still
     * give covers the need, busy ones are left alone (a busy developer would
     * pay in stalls). When critical, speed comes first: everyone in order. */
    if (hs->level == HD_HOST_PRESSURE) {
        guint64 idle_room = 0;
        guint nidle = 0;

        while (nidle < nc && c[nidle].idle) {
            idle_room += c[nidle].size - hd_policy_floor(p, &vms[c[nidle].index]);
            nidle++;
        }
        if (nidle > 0 && idle_room >= left)
            nc = nidle;
    }
    for (guint k = 0; k < nc && left >= p->step_min; k++) {
        guint i = c[k].index;
        const HdPolicyVm *vm = &vms[i];
        HdPolicyVmState *st = &states[i];
        HdPolicyAction *a = &actions[i];
        guint64 size = c[k].size;
        guint64 take = MIN(MIN(p->step_max, size - hd_policy_floor(p, vm)), left) / HD_MiB * HD_MiB;

        if (take < p->step_min)
            continue;
        if (mode == HD_POLICY_ACTIVE && st->have_target && !reached(mode, vm, st)) {
            /* One step at a time: the last one is still on its way. */
            left -= MIN(left, size < vm->balloon_bytes ? vm->balloon_bytes - size : 0);
            continue;
        }
        left -= take;
        /* Under pressure (not critical) ask the agent to drop cold cache first:
         * what it drops is then free memory the balloon takes without the guest
         * having to reclaim under the balloon's pressure. */
        if (hs->level == HD_HOST_PRESSURE && vm->agent && vm->cache_bytes >= p->reclaim_cache_min) {
            if (st->reclaim_asked_usec == 0 ||
                now - st->reclaim_asked_usec >= p->reclaim_every_usec) {
                st->reclaim_asked_usec = now;
                a->reclaim = TRUE;
                a->reclaim_bytes = MIN(take, vm->cache_bytes);
                st->state = HD_VM_POLICY_RECLAIMING;
                describe_take(st->reason, sizeof(st->reason), hs, &c[k], a->reclaim_bytes,
                              "asked the agent to drop page cache before taking");
                continue;
            }
            if (now - st->reclaim_asked_usec < p->reclaim_lead_usec) {
                st->state = HD_VM_POLICY_RECLAIMING;
                continue;
            }
        }
        set_target(st, a, size - take);
        if (c[k].idle)
            st->idle_until_usec = now + p->idle_grace_usec;
        st->progress_usec = now;
        st->progress_balloon = vm->have_balloon ? vm->balloon_bytes : size;
        st->state = HD_VM_POLICY_INFLATING;
        describe_take(st->reason, sizeof(st->reason), hs, &c[k], take, "took");
        hs->taken_bytes += take;
    }
}

/* ---- the tick ---- */

/* A target outside the workspace's range (SetMemoryRange changed it) moves
 * into it at once. */
static void clamp_to_range(guint64 now, const HdPolicyVm *vm, HdPolicyVmState *st,
                           HdPolicyAction *a)
{
    guint64 t;

    if (!st->have_target)
        return;
    t = CLAMP(st->target_bytes, vm->memory_min, vm->memory_max);
    if (t == st->target_bytes)
        return;
    set_target(st, a, t);
    /* A lower target is an inflation like any other: its progress is watched from now. */
    st->progress_usec = now;
    st->progress_balloon = vm->have_balloon ? vm->balloon_bytes : t;
    st->state = t < vm->memory_max ? HD_VM_POLICY_HOLDING : HD_VM_POLICY_STEADY;
    g_snprintf(st->reason, sizeof(st->reason),
               "memory range changed to %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " MiB",
               mib(vm->memory_min), mib(vm->memory_max));
}

static void settle(guint64 now, const HdPolicyHostState *hs, const HdPolicyVm *vm,
                   HdPolicyVmState *st, guint64 size)
{
    if (st->hold_until_usec > now) {
        st->state = HD_VM_POLICY_PROTECTED; /* the reason stays that of the stall */
    } else if (size >= vm->memory_max) {
        st->state = HD_VM_POLICY_STEADY;
        g_snprintf(st->reason, sizeof(st->reason), "at memory_max; host %s",
                   hd_host_level_name(hs->level));
    } else if (st->state != HD_VM_POLICY_INFLATING && st->state != HD_VM_POLICY_RECLAIMING) {
        st->state = HD_VM_POLICY_HOLDING;
        g_snprintf(st->reason, sizeof(st->reason),
                   "%" G_GUINT64_FORMAT " MiB below memory_max; host %s (%s)",
                   mib(vm->memory_max - size), hd_host_level_name(hs->level), hs->reason);
    }
}

void hd_policy_tick(const HdPolicyParams *p, HdPolicyMode mode, guint64 now,
                    const HdPolicyHost *host, HdPolicyHostState *hs, const HdPolicyVm *vms,
                    HdPolicyVmState *states, HdPolicyAction *actions, guint n)
{
    g_autofree gboolean *acted = g_new0(gboolean, n + 1);

    memset(actions, 0, sizeof(*actions) * n);
    hs->need_bytes = 0;
    hs->taken_bytes = 0;
    if (mode == HD_POLICY_OFF) {
        hs->level = HD_HOST_STEADY;
        g_snprintf(hs->reason, sizeof(hs->reason), "policy off");
        for (guint i = 0; i < n; i++) {
            states[i] = (HdPolicyVmState){ .state = HD_VM_POLICY_OFF };
            g_snprintf(states[i].reason, sizeof(states[i].reason), "policy off");
        }
        return;
    }
    host_level(p, now, host, hs);
    for (guint i = 0; i < n; i++) {
        HdPolicyVmState *st = &states[i];

        if (st->state == HD_VM_POLICY_OFF)
            st->state = HD_VM_POLICY_STEADY;
        clamp_to_range(now, &vms[i], st, &actions[i]);
        acted[i] = check_stall(p, mode, now, hs->level, &vms[i], st, &actions[i]);
        if (!acted[i] &&
            (st->state == HD_VM_POLICY_INFLATING || st->state == HD_VM_POLICY_RECLAIMING) &&
            (hs->level < HD_HOST_PRESSURE ||
             (st->state == HD_VM_POLICY_INFLATING && reached(mode, &vms[i], st))))
            st->state = HD_VM_POLICY_HOLDING; /* the pressure is gone, or the balloon is there */
    }
    hs->need_bytes = host_need(p, host, hs);
    if (hs->need_bytes > 0)
        take_memory(p, mode, now, vms, states, actions, acted, n, hs);
    for (guint i = 0; i < n; i++) {
        const HdPolicyVm *vm = &vms[i];
        HdPolicyVmState *st = &states[i];
        guint64 size = current_size(vm, st);

        if (acted[i] || actions[i].set_target || actions[i].reclaim)
            continue;
        if (st->state == HD_VM_POLICY_RECLAIMING && hs->level >= HD_HOST_PRESSURE)
            continue; /* waiting for the agent */
        if (hs->level == HD_HOST_CALM && now - hs->calm_since_usec >= p->calm_after_usec &&
            size < vm->memory_max && st->hold_until_usec <= now) {
            set_target(st, &actions[i], MIN(size + p->grow_step, vm->memory_max));
            st->state = HD_VM_POLICY_RETURNING;
            g_snprintf(st->reason, sizeof(st->reason),
                       "host calm for %" G_GUINT64_FORMAT " s: %" G_GUINT64_FORMAT
                       " MiB given back",
                       (now - hs->calm_since_usec) / G_USEC_PER_SEC, mib(st->target_bytes - size));
            st->progress_balloon = vm->have_balloon ? vm->balloon_bytes : size;
            continue;
        }
        if (hs->level >= HD_HOST_PRESSURE && st->state == HD_VM_POLICY_AT_FLOOR)
            continue;
        settle(now, hs, vm, st, size);
    }
}
