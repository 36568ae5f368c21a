/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory policy (src/core/hd-policy.c), one table or trace per rule of
 * docs/memory-policy.md: host levels, calm drift back to memory_max, who is
 * taken from first, floors, bounded steps, reclaim before inflation, stall
 * protection (guest PSI, a stalled inflation, a guest that deflates its
 * balloon), what a guest can and cannot make the policy do, and the modes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hocusd/hd-policy.h"
#include "hocusd/hd-size.h"

#define S   G_USEC_PER_SEC
#define MiB HD_MiB
#define GiB HD_GiB

/* A 1 GiB workspace whose guest uses 200 MiB with 100 MiB of cache. */
static HdPolicyVm vm_1g(void)
{
    return (HdPolicyVm){ .memory_min = 256 * MiB,
                         .memory_max = GiB,
                         .have_balloon = TRUE,
                         .balloon_bytes = GiB,
                         .have_rss = TRUE,
                         .rss_bytes = 400 * MiB,
                         .have_used = TRUE,
                         .used_bytes = 200 * MiB,
                         .cache_bytes = 100 * MiB };
}

static HdPolicyHost host_psi(double some, double full)
{
    return (HdPolicyHost){ .have_psi = TRUE, .some_avg10 = some, .full_avg10 = full };
}

static HdPolicyHost host_budget(guint64 budget, guint64 available)
{
    return (HdPolicyHost){
        .have_psi = TRUE, .have_budget = TRUE, .budget_bytes = budget, .available_bytes = available
    };
}

typedef struct {
    HdPolicyParams p;
    HdPolicyHostState hs;
    HdPolicyVm vms[8];
    HdPolicyVmState st[8];
    HdPolicyAction act[8];
    guint n;
} World;

static void world_init(World *w, guint n)
{
    memset(w, 0, sizeof(*w));
    hd_policy_params_default(&w->p);
    w->n = n;
    for (guint i = 0; i < n; i++)
        w->vms[i] = vm_1g();
}

static void tick(World *w, HdPolicyMode mode, guint64 now, HdPolicyHost host)
{
    hd_policy_tick(&w->p, mode, now, &host, &w->hs, w->vms, w->st, w->act, w->n);
}

/* An active-mode guest whose balloon follows every target at once. */
static void follow(World *w)
{
    for (guint i = 0; i < w->n; i++) {
        if (w->act[i].set_target)
            w->vms[i].balloon_bytes = w->act[i].target_bytes;
    }
}

static void test_names(void **state)
{
    HdPolicyMode m;

    assert_true(hd_policy_mode_parse("observe", &m));
    assert_int_equal(m, HD_POLICY_OBSERVE);
    assert_true(hd_policy_mode_parse("active", &m));
    assert_int_equal(m, HD_POLICY_ACTIVE);
    assert_true(hd_policy_mode_parse("off", &m));
    assert_int_equal(m, HD_POLICY_OFF);
    assert_false(hd_policy_mode_parse("Active", &m));
    assert_false(hd_policy_mode_parse(NULL, &m));
    assert_string_equal(hd_policy_mode_name(HD_POLICY_OBSERVE), "observe");
    assert_string_equal(hd_vm_policy_state_name(HD_VM_POLICY_AT_FLOOR), "at-floor");
    assert_string_equal(hd_host_level_name(HD_HOST_CRITICAL), "critical");
}

/* The configuration's defaults are the policy's defaults. */
static void test_config_defaults(void **state)
{
    g_autoptr(HdConfig) c = hd_config_new_default();
    HdPolicyParams want, got;
    HdPolicyMode mode;

    hd_policy_params_default(&want);
    hd_policy_params_from_config(&got, &c->policy);
    assert_memory_equal(&want, &got, sizeof(want));
    assert_true(hd_policy_mode_parse(c->policy.mode, &mode));
    assert_int_equal(mode, HD_POLICY_OBSERVE);
}

/* Host levels: one row per threshold, both sides of it. */
static void test_host_levels(void **state)
{
    static const struct {
        HdPolicyHost host;
        HdHostLevel want;
    } rows[] = {
        { { .have_psi = TRUE, .some_avg10 = 0.5 }, HD_HOST_CALM },
        { { .have_psi = TRUE, .some_avg10 = 1.0 }, HD_HOST_STEADY },
        { { .have_psi = TRUE, .some_avg10 = 9.99 }, HD_HOST_STEADY },
        { { .have_psi = TRUE, .some_avg10 = 10.0 }, HD_HOST_PRESSURE },
        { { .have_psi = TRUE, .some_avg10 = 50, .full_avg10 = 9.9 }, HD_HOST_PRESSURE },
        { { .have_psi = TRUE, .some_avg10 = 50, .full_avg10 = 10 }, HD_HOST_CRITICAL },
        /* Headroom alone: no PSI warning before an OOM kill without swap. */
        { { .have_budget = TRUE, .budget_bytes = 1000 * MiB, .available_bytes = 200 * MiB },
          HD_HOST_CALM },
        { { .have_budget = TRUE, .budget_bytes = 1000 * MiB, .available_bytes = 199 * MiB },
          HD_HOST_STEADY },
        { { .have_budget = TRUE, .budget_bytes = 1000 * MiB, .available_bytes = 99 * MiB },
          HD_HOST_PRESSURE },
        { { .have_budget = TRUE, .budget_bytes = 1000 * MiB, .available_bytes = 49 * MiB },
          HD_HOST_CRITICAL },
        /* Low PSI does not make a short budget calm. */
        { { .have_psi = TRUE,
            .have_budget = TRUE,
            .budget_bytes = 1000 * MiB,
            .available_bytes = 80 * MiB },
          HD_HOST_PRESSURE },
        /* Nothing known: nothing to act on. */
        { { 0 }, HD_HOST_CALM },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        World w;

        world_init(&w, 0);
        tick(&w, HD_POLICY_ACTIVE, 100 * S, rows[i].host);
        if (w.hs.level != rows[i].want)
            fail_msg("row %u: level %s, want %s (%s)", i, hd_host_level_name(w.hs.level),
                     hd_host_level_name(rows[i].want), w.hs.reason);
    }
}

/* What a tick sets out to free: back to the calm headroom, at least half a
 * tick under PSI, at most tick_max (twice that when critical). */
static void test_need(void **state)
{
    static const struct {
        HdPolicyHost host;
        guint64 want;
    } rows[] = {
        { { .have_budget = TRUE, .budget_bytes = 1000 * MiB, .available_bytes = 90 * MiB },
          110 * MiB },
        { { .have_psi = TRUE,
            .some_avg10 = 20,
            .have_budget = TRUE,
            .budget_bytes = 1000 * MiB,
            .available_bytes = 150 * MiB },
          256 * MiB },
        { { .have_budget = TRUE, .budget_bytes = 10 * GiB, .available_bytes = 700 * MiB },
          512 * MiB },
        { { .have_budget = TRUE, .budget_bytes = 10 * GiB, .available_bytes = 100 * MiB },
          1024 * MiB },
        { { .have_psi = TRUE, .some_avg10 = 5 }, 0 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        World w;

        world_init(&w, 0);
        tick(&w, HD_POLICY_ACTIVE, 100 * S, rows[i].host);
        if (w.hs.need_bytes != rows[i].want)
            fail_msg("row %u: need %" G_GUINT64_FORMAT " MiB, want %" G_GUINT64_FORMAT, i,
                     w.hs.need_bytes / MiB, rows[i].want / MiB);
    }
}

/* Calm: nothing moves until the host has been calm for calm_after, then
 * balloons drift back by grow_step a tick up to memory_max. */
static void test_calm_drift(void **state)
{
    World w;
    guint64 t = 1000 * S;

    world_init(&w, 1);
    w.st[0].have_target = TRUE;
    w.st[0].target_bytes = 800 * MiB;
    w.vms[0].balloon_bytes = 800 * MiB;
    tick(&w, HD_POLICY_ACTIVE, t, host_psi(0, 0));
    assert_false(w.act[0].set_target);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_HOLDING);
    tick(&w, HD_POLICY_ACTIVE, t + 29 * S, host_psi(0, 0));
    assert_false(w.act[0].set_target);
    for (guint k = 0; k < 4; k++) {
        tick(&w, HD_POLICY_ACTIVE, t + (30 + k) * S, host_psi(0, 0));
        follow(&w);
    }
    assert_int_equal(w.st[0].target_bytes, GiB); /* 800 + 3 * 64 = 992, then capped at 1024 */
    assert_int_equal(w.st[0].state, HD_VM_POLICY_RETURNING);
    tick(&w, HD_POLICY_ACTIVE, t + 35 * S, host_psi(0, 0));
    assert_false(w.act[0].set_target);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_STEADY);
    /* A spike of pressure restarts the calm clock. */
    w.st[0].target_bytes = w.vms[0].balloon_bytes = 700 * MiB;
    tick(&w, HD_POLICY_ACTIVE, t + 36 * S, host_psi(3, 0));
    tick(&w, HD_POLICY_ACTIVE, t + 37 * S, host_psi(0, 0));
    tick(&w, HD_POLICY_ACTIVE, t + 60 * S, host_psi(0, 0));
    assert_false(w.act[0].set_target);
    tick(&w, HD_POLICY_ACTIVE, t + 67 * S, host_psi(0, 0));
    assert_true(w.act[0].set_target);
    assert_int_equal(w.act[0].target_bytes, 764 * MiB);
}

/* Under pressure: idle workspaces first (busy ones only once what the idle
 * ones can still give does not cover the need), then the largest footprint
 * ratio; each step bounded, the tick bounded. */
static void test_order_and_bounds(void **state)
{
    World w;

    world_init(&w, 4);
    w.vms[0].rss_bytes = 300 * MiB; /* ratio 1.5 */
    w.vms[1].rss_bytes = 900 * MiB; /* ratio 4.5 */
    w.vms[2].rss_bytes = 250 * MiB; /* ratio 1.25, idle */
    w.vms[2].idle = TRUE;
    w.vms[3].rss_bytes = 600 * MiB; /* ratio 3 */
    /* 20 % of 2 GiB = 409.6 MiB wanted, 110 available: need 299 MiB. The
     * idle one can give 768 MiB more: it alone gives, a step a tick. */
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_budget(2 * GiB, 110 * MiB));
    assert_int_equal(w.hs.level, HD_HOST_PRESSURE);
    assert_int_equal(w.hs.need_bytes, 299 * MiB);
    assert_true(w.act[2].set_target);
    assert_int_equal(w.act[2].target_bytes, GiB - 128 * MiB);
    assert_false(w.act[0].set_target || w.act[1].set_target || w.act[3].set_target);
    assert_int_equal(w.st[2].state, HD_VM_POLICY_INFLATING);
    assert_non_null(strstr(w.st[2].reason, "idle"));
    assert_int_equal(w.st[1].state, HD_VM_POLICY_STEADY);

    /* The idle one near its floor (264 MiB: used 200 + 64; room 92 MiB <
     * need): the busy ones give too, the largest footprint ratio first:
     * 4.5 a full step, then 3 the rest (299 - 92 - 128 = 79). */
    world_init(&w, 4);
    w.vms[0].rss_bytes = 300 * MiB;
    w.vms[1].rss_bytes = 900 * MiB;
    w.vms[2].rss_bytes = 250 * MiB;
    w.vms[2].idle = TRUE;
    w.vms[3].rss_bytes = 600 * MiB;
    w.st[2] = (HdPolicyVmState){ .have_target = TRUE, .target_bytes = 356 * MiB };
    w.vms[2].balloon_bytes = 356 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_budget(2 * GiB, 110 * MiB));
    assert_int_equal(w.act[2].target_bytes, 264 * MiB);
    assert_int_equal(w.act[1].target_bytes, GiB - 128 * MiB);
    assert_int_equal(w.act[3].target_bytes, GiB - 79 * MiB);
    assert_false(w.act[0].set_target);
    assert_int_equal(w.hs.taken_bytes, w.hs.need_bytes);
    assert_non_null(strstr(w.st[1].reason, "footprint ratio 4.50"));

    /* Eight workspaces, critical: everyone in order, at most 2 * tick_max. */
    world_init(&w, 8);
    w.vms[5].idle = TRUE;
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_budget(20 * GiB, 0));
    assert_int_equal(w.hs.taken_bytes, 1024 * MiB);
    for (guint i = 0; i < 8; i++)
        assert_true(w.act[i].set_target && GiB - w.act[i].target_bytes <= 128 * MiB);
}

/* Inflating a balloon costs the guest CPU: a workspace taken from as idle
 * stays first in line for idle_grace although it looks busy meanwhile. */
static void test_idle_grace(void **state)
{
    World w;

    world_init(&w, 2);
    w.vms[0].idle = TRUE;
    w.vms[1].rss_bytes = 900 * MiB; /* the higher footprint ratio */
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_psi(20, 0));
    assert_true(w.act[0].set_target && !w.act[1].set_target);
    follow(&w);
    w.vms[0].idle = FALSE; /* the inflation made it busy */
    tick(&w, HD_POLICY_ACTIVE, 11 * S, host_psi(20, 0));
    assert_true(w.act[0].set_target && !w.act[1].set_target);
    follow(&w);
    /* 30 s after the last step taken as idle, it is busy like the other. */
    tick(&w, HD_POLICY_ACTIVE, 42 * S, host_psi(20, 0));
    assert_true(w.act[1].set_target);
}

/* Floors: memory_min, and the guest's used memory plus max(64 MiB, 10 %). */
static void test_floors(void **state)
{
    static const struct {
        guint64 min, used;
        gboolean have_used;
        guint64 want;
    } rows[] = {
        { 256 * MiB, 100 * MiB, TRUE, 256 * MiB },
        { 256 * MiB, 300 * MiB, TRUE, 364 * MiB },
        { 128 * MiB, 800 * MiB, TRUE, 880 * MiB },
        { 128 * MiB, 1000 * MiB, TRUE, GiB },
        { 128 * MiB, 0, FALSE, GiB },
    };
    HdPolicyParams p;

    hd_policy_params_default(&p);
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        HdPolicyVm vm = vm_1g();

        vm.memory_min = rows[i].min;
        vm.used_bytes = rows[i].used;
        vm.have_used = rows[i].have_used;
        assert_int_equal(hd_policy_floor(&p, &vm), rows[i].want);
    }
}

/* Pressure that lasts takes a workspace down to its floor and no further. */
static void test_never_below_floor(void **state)
{
    World w;

    world_init(&w, 2);
    w.vms[0].used_bytes = 500 * MiB; /* floor 564 */
    w.vms[1].have_used = FALSE;      /* no figures: never taken */
    for (guint k = 0; k < 20; k++) {
        tick(&w, HD_POLICY_ACTIVE, (10 + k) * S, host_budget(4 * GiB, 0));
        follow(&w);
        w.vms[0].used_bytes = 500 * MiB;
    }
    assert_int_equal(w.st[0].target_bytes, 564 * MiB);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_AT_FLOOR);
    assert_false(w.st[1].have_target);
    assert_int_equal(w.st[1].state, HD_VM_POLICY_AT_FLOOR);
    assert_non_null(strstr(w.st[1].reason, "no guest memory figures"));
}

/* Under pressure a guest with an agent and cache is asked to reclaim first;
 * the balloon follows after reclaim_lead; when critical it does not wait. */
static void test_reclaim_first(void **state)
{
    World w;

    world_init(&w, 1);
    w.vms[0].agent = TRUE;
    w.vms[0].cache_bytes = 300 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_psi(20, 0));
    assert_true(w.act[0].reclaim);
    assert_int_equal(w.act[0].reclaim_bytes, 128 * MiB);
    assert_false(w.act[0].set_target);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_RECLAIMING);
    tick(&w, HD_POLICY_ACTIVE, 12 * S, host_psi(20, 0));
    assert_false(w.act[0].reclaim || w.act[0].set_target);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_RECLAIMING);
    tick(&w, HD_POLICY_ACTIVE, 13 * S, host_psi(20, 0));
    assert_false(w.act[0].reclaim);
    assert_true(w.act[0].set_target);
    assert_int_equal(w.act[0].target_bytes, GiB - 128 * MiB);
    /* Not asked again before reclaim_every. */
    follow(&w);
    tick(&w, HD_POLICY_ACTIVE, 14 * S, host_psi(20, 0));
    assert_false(w.act[0].reclaim);
    assert_true(w.act[0].set_target);

    /* Little cache, or no agent: the balloon at once. */
    world_init(&w, 2);
    w.vms[0].agent = TRUE;
    w.vms[0].cache_bytes = 10 * MiB;
    w.vms[1].cache_bytes = 500 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_psi(20, 0));
    assert_false(w.act[0].reclaim || w.act[1].reclaim);
    assert_true(w.act[0].set_target && w.act[1].set_target);

    /* Critical: no waiting. */
    world_init(&w, 1);
    w.vms[0].agent = TRUE;
    w.vms[0].cache_bytes = 300 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_psi(50, 20));
    assert_false(w.act[0].reclaim);
    assert_true(w.act[0].set_target);
}

/* A guest whose PSI rises gets memory_max back at once and is not taken
 * from for hold_usec, even while the host stays under pressure. */
static void test_guest_psi_protection(void **state)
{
    World w;

    world_init(&w, 2);
    w.st[0].have_target = TRUE;
    w.st[0].target_bytes = w.vms[0].balloon_bytes = 600 * MiB;
    w.vms[0].have_guest_psi = TRUE;
    w.vms[0].guest_psi_some = 12.5;
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_psi(20, 0));
    assert_true(w.act[0].set_target);
    assert_int_equal(w.act[0].target_bytes, GiB);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_PROTECTED);
    assert_non_null(strstr(w.st[0].reason, "guest PSI some avg10 12.50%"));
    assert_int_equal(w.st[0].stalls, 1);
    assert_true(w.act[1].set_target); /* the other one pays */
    follow(&w);
    /* A stall that lasts is one episode; the hold runs from its last tick. */
    tick(&w, HD_POLICY_ACTIVE, 11 * S, host_psi(20, 0));
    assert_int_equal(w.st[0].stalls, 1);
    assert_int_equal(w.st[0].hold_until_usec, 71 * S);
    follow(&w);
    w.vms[0].guest_psi_some = 0;
    for (guint k = 2; k < 61; k++) {
        tick(&w, HD_POLICY_ACTIVE, (10 + k) * S, host_psi(20, 0));
        follow(&w);
        assert_false(w.act[0].set_target);
        assert_int_equal(w.st[0].state, HD_VM_POLICY_PROTECTED);
    }
    tick(&w, HD_POLICY_ACTIVE, 71 * S, host_psi(20, 0));
    assert_true(w.act[0].set_target);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_INFLATING);
    assert_int_equal(w.st[0].stalls, 1);
}

/* What a guest can make the policy do is bounded: while the host is
 * critical its PSI claims are not heard, and whatever it claims it never
 * gets more than memory_max nor pushes another guest below its floor. */
static void test_untrusted_guest(void **state)
{
    World w;

    world_init(&w, 2);
    w.st[0].have_target = TRUE;
    w.st[0].target_bytes = w.vms[0].balloon_bytes = 600 * MiB;
    w.vms[0].have_guest_psi = TRUE;
    w.vms[0].guest_psi_some = 100;
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_budget(4 * GiB, 10 * MiB));
    assert_int_equal(w.hs.level, HD_HOST_CRITICAL);
    assert_true(w.act[0].set_target);
    assert_int_equal(w.act[0].target_bytes, 472 * MiB);
    assert_int_not_equal(w.st[0].state, HD_VM_POLICY_PROTECTED);

    /* A guest claiming it uses everything keeps memory_max, nothing more. */
    world_init(&w, 2);
    w.vms[0].used_bytes = 100 * GiB;
    w.vms[0].have_guest_psi = TRUE;
    w.vms[0].guest_psi_some = 99;
    for (guint k = 0; k < 30; k++) {
        tick(&w, HD_POLICY_ACTIVE, (10 + k) * S, host_psi(30, 0));
        follow(&w);
        assert_true(!w.st[0].have_target || w.st[0].target_bytes <= GiB);
        assert_true(!w.st[1].have_target || w.st[1].target_bytes >= 264 * MiB);
    }
    assert_int_equal(w.st[1].target_bytes, 264 * MiB); /* used 200 + 64 margin */
}

/* Active mode: an inflation that makes no progress for inflate_stall_usec
 * is a stall: step_max given back above where it stuck, and held. */
static void test_inflation_stall(void **state)
{
    World w;

    world_init(&w, 1);
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_psi(20, 0));
    assert_int_equal(w.act[0].target_bytes, 896 * MiB);
    /* The balloon moves to 990 MiB and sticks there. */
    w.vms[0].balloon_bytes = 990 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 11 * S, host_psi(20, 0));
    for (guint k = 2; k < 6; k++) {
        tick(&w, HD_POLICY_ACTIVE, (10 + k) * S, host_psi(20, 0));
        assert_int_not_equal(w.st[0].state, HD_VM_POLICY_PROTECTED);
    }
    tick(&w, HD_POLICY_ACTIVE, 16 * S, host_psi(20, 0));
    assert_int_equal(w.st[0].state, HD_VM_POLICY_PROTECTED);
    assert_true(w.act[0].set_target);
    assert_int_equal(w.act[0].target_bytes, GiB); /* 990 + 128, capped */
    assert_non_null(strstr(w.st[0].reason, "inflation stalled at 990 MiB"));

    /* Observe mode: the balloon never follows, and that is no stall. */
    world_init(&w, 1);
    for (guint k = 0; k < 10; k++)
        tick(&w, HD_POLICY_OBSERVE, (10 + k) * S, host_psi(20, 0));
    assert_int_not_equal(w.st[0].state, HD_VM_POLICY_PROTECTED);
    /* 896, 768, 640, 512, 384, then the floor: used 200 + 64 MiB. */
    assert_int_equal(w.st[0].target_bytes, 264 * MiB);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_AT_FLOOR);
}

/* autodeflate: a guest about to OOM takes its balloon back; the policy
 * follows it instead of fighting it. */
static void test_autodeflate(void **state)
{
    World w;

    world_init(&w, 1);
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_psi(20, 0));
    follow(&w);
    tick(&w, HD_POLICY_ACTIVE, 11 * S, host_psi(20, 0));
    follow(&w);
    assert_int_equal(w.st[0].target_bytes, 768 * MiB);
    tick(&w, HD_POLICY_ACTIVE, 12 * S, host_psi(5, 0)); /* the balloon is seen at 768 */
    assert_false(w.act[0].set_target);
    w.vms[0].balloon_bytes = 900 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 13 * S, host_psi(20, 0));
    assert_int_equal(w.st[0].state, HD_VM_POLICY_PROTECTED);
    assert_true(w.act[0].set_target);
    assert_int_equal(w.act[0].target_bytes, 900 * MiB);
    assert_non_null(strstr(w.st[0].reason, "took its balloon back"));
}

/* Modes: observe decides as active does; off drops every target. */
static void test_modes(void **state)
{
    World a, o;

    world_init(&a, 3);
    world_init(&o, 3);
    a.vms[1].idle = o.vms[1].idle = TRUE;
    tick(&a, HD_POLICY_ACTIVE, 10 * S, host_budget(3 * GiB, 100 * MiB));
    tick(&o, HD_POLICY_OBSERVE, 10 * S, host_budget(3 * GiB, 100 * MiB));
    for (guint i = 0; i < 3; i++) {
        assert_int_equal(a.act[i].set_target, o.act[i].set_target);
        assert_int_equal(a.act[i].target_bytes, o.act[i].target_bytes);
        assert_string_equal(a.st[i].reason, o.st[i].reason);
    }
    tick(&o, HD_POLICY_OFF, 11 * S, host_budget(3 * GiB, 100 * MiB));
    for (guint i = 0; i < 3; i++) {
        assert_false(o.act[i].set_target || o.act[i].reclaim);
        assert_false(o.st[i].have_target);
        assert_int_equal(o.st[i].state, HD_VM_POLICY_OFF);
    }
}

/* A new memory range (SetMemoryRange) moves the target into it at once, up
 * or down, and says why. */
static void test_set_range(void **state)
{
    World w;

    world_init(&w, 1);
    w.st[0] = (HdPolicyVmState){ .have_target = TRUE, .target_bytes = 300 * MiB };
    w.vms[0].balloon_bytes = 300 * MiB;
    w.vms[0].memory_min = 400 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 10 * S, host_psi(5, 0));
    assert_true(w.act[0].set_target);
    assert_int_equal(w.act[0].target_bytes, 400 * MiB);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_HOLDING);
    assert_string_equal(w.st[0].reason, "memory range changed to 400-1024 MiB");
    follow(&w);
    w.vms[0].memory_min = 256 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 11 * S, host_psi(5, 0));
    assert_false(w.act[0].set_target); /* inside the range: nothing to do */
    w.vms[0].memory_max = 320 * MiB;
    tick(&w, HD_POLICY_ACTIVE, 12 * S, host_psi(5, 0));
    assert_int_equal(w.act[0].target_bytes, 320 * MiB);
    assert_int_equal(w.st[0].state, HD_VM_POLICY_STEADY);
}

/*
 * A trace of the shape the e2e test produces (two 1 GiB guests under a
 * 1 GiB budget, one tick a second, figures in MiB): guest 0 allocates, guest
 * 1 is idle. The policy must take from the idle guest only, stop once the
 * budget is back between the thresholds, and give back after calm_after.
 */
static void test_trace(void **state)
{
    static const struct {
        guint t;
        double some;
        guint avail_mib; /* of 1024 */
        guint used0, used1;
        gboolean idle1;
        gint want1; /* target of guest 1 after the tick, -1: none set */
    } trace[] = {
        { 0, 0.0, 420, 120, 110, FALSE, -1 }, /* calm */
        { 1, 0.0, 300, 240, 110, TRUE, -1 },
        { 2, 0.0, 180, 360, 110, TRUE, -1 },  /* 17.6 %: steady */
        { 3, 0.8, 90, 480, 110, TRUE, 910 },  /* 8.8 %: pressure, 204.8 - 90 = 114 MiB */
        { 4, 2.1, 120, 480, 110, TRUE, 910 }, /* steady: nothing moves */
        { 5, 1.2, 190, 480, 110, TRUE, 910 },
        { 6, 0.4, 230, 480, 110, TRUE, 910 }, /* calm from here */
        { 7, 0.1, 350, 130, 110, TRUE, 910 },
        { 35, 0.0, 360, 130, 110, TRUE, 910 }, /* calm for 29 s */
        { 36, 0.0, 360, 130, 110, TRUE, 974 }, /* 30 s: + 64 MiB a tick */
        { 37, 0.0, 300, 130, 110, TRUE, 1024 },
        { 38, 0.0, 280, 130, 110, TRUE, 1024 },
    };
    World w;

    world_init(&w, 2);
    w.vms[0].have_balloon = w.vms[1].have_balloon = TRUE;
    for (guint k = 0; k < G_N_ELEMENTS(trace); k++) {
        HdPolicyHost h = host_budget(GiB, (guint64)trace[k].avail_mib * MiB);

        h.some_avg10 = trace[k].some;
        w.vms[0].used_bytes = (guint64)trace[k].used0 * MiB;
        w.vms[1].used_bytes = (guint64)trace[k].used1 * MiB;
        w.vms[1].idle = trace[k].idle1;
        tick(&w, HD_POLICY_ACTIVE, (guint64)(100 + trace[k].t) * S, h);
        follow(&w);
        if (trace[k].want1 < 0) {
            if (w.st[1].have_target)
                fail_msg("t=%u: a target was set for guest 1", trace[k].t);
        } else if (!w.st[1].have_target || w.st[1].target_bytes != (guint64)trace[k].want1 * MiB) {
            fail_msg("t=%u: guest 1 target %" G_GUINT64_FORMAT " MiB, want %d (%s)", trace[k].t,
                     w.st[1].target_bytes / MiB, trace[k].want1, w.st[1].reason);
        }
        if (w.st[0].have_target && w.st[0].target_bytes < GiB)
            fail_msg("t=%u: the busy guest was taken from", trace[k].t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_host_levels),
        cmocka_unit_test(test_need),
        cmocka_unit_test(test_calm_drift),
        cmocka_unit_test(test_order_and_bounds),
        cmocka_unit_test(test_idle_grace),
        cmocka_unit_test(test_floors),
        cmocka_unit_test(test_never_below_floor),
        cmocka_unit_test(test_reclaim_first),
        cmocka_unit_test(test_guest_psi_protection),
        cmocka_unit_test(test_untrusted_guest),
        cmocka_unit_test(test_inflation_stall),
        cmocka_unit_test(test_autodeflate),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_set_range),
        cmocka_unit_test(test_trace),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
