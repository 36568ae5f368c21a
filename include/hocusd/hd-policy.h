/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "hocusd/hd-config.h"

G_BEGIN_DECLS

/*
 * The memory policy (docs/memory-policy.md): from the last samples of the
 * host and of every running workspace, decide each workspace's balloon
 * target and which guests are asked to drop cold page cache first. Pure: no
 * I/O; time comes in as `now` (monotonic microseconds). The caller keeps the
 * state structs between ticks and carries out (or, in observe mode, only
 * publishes) the actions.
 *
 * Guest figures are untrusted. What a guest reports can move only its own
 * balloon, only between its memory_min and memory_max, and a guest's own
 * pressure is not heard while the host is critical.
 */

typedef enum {
    HD_POLICY_OFF,
    HD_POLICY_OBSERVE, /* decide and publish; change nothing */
    HD_POLICY_ACTIVE,
} HdPolicyMode;

const char *hd_policy_mode_name(HdPolicyMode mode);
gboolean hd_policy_mode_parse(const char *text, HdPolicyMode *out);

typedef struct {
    /* Host levels. Pressure: PSI some avg10 >= psi_some_pressure, or
     * available below headroom_pressure of the budget. Critical: PSI full
     * avg10 >= psi_full_critical, or available below headroom_critical.
     * Calm: some avg10 below psi_some_calm and available at or above
     * headroom_calm. In between the host is "steady": nothing moves. */
    double psi_some_pressure, psi_some_calm, psi_full_critical; /* percent */
    double headroom_pressure, headroom_calm, headroom_critical; /* fractions of the budget */
    guint64 calm_after_usec; /* calm this long before balloons drift back up */
    /* Steps. */
    guint64 step_max;  /* bytes taken from one workspace per tick at most */
    guint64 tick_max;  /* bytes taken from all workspaces per tick at most */
    guint64 step_min;  /* smaller moves are not made */
    guint64 grow_step; /* bytes given back per workspace per tick when calm */
    /* Floors. */
    guint64 guest_margin;         /* kept above the guest's own used memory, bytes ... */
    double guest_margin_fraction; /* ... or this share of it, whichever is larger */
    /* Reclaim before inflation. */
    guint64 reclaim_cache_min;  /* ask only guests with at least this much page cache */
    guint64 reclaim_lead_usec;  /* after asking, wait this long before inflating */
    guint64 reclaim_every_usec; /* ask one guest at most this often */
    /* Stall protection. */
    double guest_psi_stall;     /* guest PSI some avg10 (percent) that gives memory back */
    guint64 inflate_stall_usec; /* an inflation that made no progress this long has stalled */
    guint64 hold_usec;          /* after a stall, take nothing from that guest this long */
    /* Inflating a balloon costs the guest CPU: a workspace taken from as
     * idle counts as idle this long after, whatever its CPU use. */
    guint64 idle_grace_usec;
} HdPolicyParams;

void hd_policy_params_default(HdPolicyParams *p);
/* The configuration's policy section over the defaults. */
void hd_policy_params_from_config(HdPolicyParams *p, const HdPolicyConfig *c);

typedef enum {
    HD_HOST_CALM,
    HD_HOST_STEADY,
    HD_HOST_PRESSURE,
    HD_HOST_CRITICAL,
} HdHostLevel;

const char *hd_host_level_name(HdHostLevel level);

typedef struct {
    gboolean have_psi;
    double some_avg10, full_avg10;
    /* The memory the workspaces may use together (a memory cgroup limit, or
     * MemTotal) and how much of it is available now. */
    gboolean have_budget;
    guint64 budget_bytes, available_bytes;
} HdPolicyHost;

typedef struct {
    HdHostLevel level;
    guint64 calm_since_usec; /* 0: not calm */
    guint64 need_bytes;      /* what the last tick set out to free */
    guint64 taken_bytes;     /* what it took */
    char reason[128];
} HdPolicyHostState;

typedef struct {
    guint64 memory_min, memory_max;
    gboolean have_balloon;
    guint64 balloon_bytes; /* the balloon's actual size: memory the guest may use */
    gboolean have_rss;
    guint64 rss_bytes;
    gboolean have_used; /* guest figures (clamped) */
    guint64 used_bytes, cache_bytes;
    gboolean have_guest_psi;
    double guest_psi_some; /* agent: guest PSI some avg10, percent */
    gboolean idle;
    gboolean agent; /* an agent that takes reclaim requests is connected */
} HdPolicyVm;

typedef enum {
    HD_VM_POLICY_STEADY,     /* at memory_max, nothing to do */
    HD_VM_POLICY_RETURNING,  /* the host is calm: growing back towards memory_max */
    HD_VM_POLICY_RECLAIMING, /* the agent was asked to drop cache; inflation follows */
    HD_VM_POLICY_INFLATING,  /* memory is being taken */
    HD_VM_POLICY_HOLDING,    /* below memory_max, the host is not calm yet */
    HD_VM_POLICY_AT_FLOOR,   /* nothing more can be taken */
    HD_VM_POLICY_PROTECTED,  /* stall protection: memory given back, not taken for a while */
    HD_VM_POLICY_OFF,
} HdVmPolicyState;

const char *hd_vm_policy_state_name(HdVmPolicyState state);

typedef struct {
    gboolean have_target;
    guint64 target_bytes;
    HdVmPolicyState state;
    char reason[128];
    guint64 hold_until_usec;    /* protected until */
    guint64 reclaim_asked_usec; /* last reclaim request */
    guint64 progress_usec;      /* when the balloon last moved towards the target */
    guint64 progress_balloon;   /* the balloon size then */
    guint64 stalls;             /* stall protections so far */
    guint64 idle_until_usec;    /* taken from as idle: counts as idle until then */
} HdPolicyVmState;

typedef struct {
    gboolean set_target; /* a new balloon target */
    guint64 target_bytes;
    gboolean reclaim; /* ask the guest's agent to drop this much page cache */
    guint64 reclaim_bytes;
} HdPolicyAction;

/* The available memory a tick under pressure works back to (the calm
 * headroom of the budget). */
guint64 hd_policy_host_target(const HdPolicyParams *p, guint64 budget_bytes);

/* The lowest target the policy would set: memory_min, the guest's used
 * memory plus the margin, whichever is higher (memory_max without guest
 * figures), never above memory_max. */
guint64 hd_policy_floor(const HdPolicyParams *p, const HdPolicyVm *vm);

/*
 * One tick for n workspaces. vms[i], states[i] and actions[i] belong
 * together; actions are written for every i (all FALSE when nothing is to
 * be done). In mode off every target is dropped and nothing is done.
 */
void hd_policy_tick(const HdPolicyParams *p, HdPolicyMode mode, guint64 now,
                    const HdPolicyHost *host, HdPolicyHostState *hs, const HdPolicyVm *vms,
                    HdPolicyVmState *states, HdPolicyAction *actions, guint n);

G_END_DECLS
