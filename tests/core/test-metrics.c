/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The density metrics of ../shared/design.md with hand-computed cases: guest
 * used, footprint, idleness, reclaim latency, pressure levels with
 * hysteresis, host aggregates and staleness.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>

#include "hocusd/hd-metrics.h"
#include "hocusd/hd-size.h"

#define S G_USEC_PER_SEC

static void assert_close(double got, double want)
{
    if (fabs(got - want) > 1e-9)
        fail_msg("got %.12f, want %.12f", got, want);
}

static void test_guest_used_and_footprint(void **state)
{
    double r = 0;

    /* 4 GiB guest, 3 GiB free, 512 MiB cache: 512 MiB used. */
    assert_int_equal(hd_metrics_guest_used(4 * HD_GiB, 3 * HD_GiB, 512 * HD_MiB), 512 * HD_MiB);
    /* Free + cache above total (a lying guest): saturates at 0. */
    assert_int_equal(hd_metrics_guest_used(HD_GiB, HD_GiB, 1), 0);
    assert_int_equal(hd_metrics_guest_used(HD_GiB, 2 * HD_GiB, 0), 0);
    assert_int_equal(hd_metrics_guest_used(HD_GiB, HD_GiB / 2, HD_GiB), 0);
    assert_int_equal(hd_metrics_guest_used(0, 0, 0), 0);

    /* A balloon of 384 MiB in a 1 GiB guest that keeps it in MemTotal
     * (autodeflate): 1000 MiB total, 500 free, 100 cache, balloon 640 MiB.
     * 400 MiB "used", of which 360 MiB are the balloon's: 40 MiB. */
    assert_int_equal(hd_metrics_guest_used_ballooned(1000 * HD_MiB, 500 * HD_MiB, 100 * HD_MiB,
                                                     TRUE, 640 * HD_MiB),
                     40 * HD_MiB);
    /* A deflated balloon (total below its size) or none: nothing taken off. */
    assert_int_equal(hd_metrics_guest_used_ballooned(1000 * HD_MiB, 500 * HD_MiB, 100 * HD_MiB,
                                                     TRUE, 1024 * HD_MiB),
                     400 * HD_MiB);
    assert_int_equal(
        hd_metrics_guest_used_ballooned(1000 * HD_MiB, 500 * HD_MiB, 100 * HD_MiB, FALSE, 0),
        400 * HD_MiB);
    /* A guest whose figures say the balloon is larger than what it uses: 0. */
    assert_int_equal(hd_metrics_guest_used_ballooned(1000 * HD_MiB, 800 * HD_MiB, 100 * HD_MiB,
                                                     TRUE, 256 * HD_MiB),
                     0);

    /* 600 MiB RSS for 400 MiB used: 1.5. */
    assert_true(hd_metrics_footprint_ratio(600 * HD_MiB, 400 * HD_MiB, &r));
    assert_close(r, 1.5);
    assert_false(hd_metrics_footprint_ratio(600 * HD_MiB, 0, &r));
}

static void test_clamp_guest(void **state)
{
    HdVmSample s = { .configured_bytes = 2 * HD_GiB,
                     .have_balloon = TRUE,
                     .balloon_bytes = 8 * HD_GiB,
                     .have_guest_mem = TRUE,
                     .guest_total_bytes = 100 * HD_GiB,
                     .guest_free_bytes = 200 * HD_GiB,
                     .guest_cache_bytes = HD_GiB };

    assert_int_equal(hd_metrics_clamp_guest(&s), 3);
    assert_int_equal(s.balloon_bytes, 2 * HD_GiB);
    assert_int_equal(s.guest_total_bytes, 2 * HD_GiB);
    assert_int_equal(s.guest_free_bytes, 2 * HD_GiB);
    assert_int_equal(s.guest_cache_bytes, HD_GiB);
    /* An honest sample is left alone. */
    s = (HdVmSample){ .configured_bytes = 2 * HD_GiB,
                      .have_guest_mem = TRUE,
                      .guest_total_bytes = HD_GiB,
                      .guest_free_bytes = HD_GiB / 2 };
    assert_int_equal(hd_metrics_clamp_guest(&s), 0);
    assert_int_equal(s.guest_free_bytes, HD_GiB / 2);
}

static void test_idle(void **state)
{
    HdIdleParams p = { .cpu_threshold = 0.05, .after_usec = 10 * S };
    HdIdleTracker t = { 0 };
    const guint64 ms = 1000000; /* ns */

    hd_idle_update(&t, &p, 100 * S, TRUE, 0);
    assert_false(t.have_usage);
    /* 500 ms of CPU in 1 s: 0.5 cores, busy. */
    hd_idle_update(&t, &p, 101 * S, TRUE, 500 * ms);
    assert_true(t.have_usage);
    assert_close(t.usage, 0.5);
    assert_false(t.idle);
    /* 10 ms per second from here: quiet since t=101 s. */
    for (guint64 sec = 102; sec <= 110; sec++) {
        hd_idle_update(&t, &p, sec * S, TRUE, 500 * ms + (sec - 101) * 10 * ms);
        assert_close(t.usage, 0.01);
        assert_false(t.idle); /* less than 10 s quiet */
    }
    hd_idle_update(&t, &p, 111 * S, TRUE, 500 * ms + 100 * ms);
    assert_true(t.idle); /* 111 - 101 = 10 s */
    /* One busy second ends it. */
    hd_idle_update(&t, &p, 112 * S, TRUE, 600 * ms + 200 * ms);
    assert_close(t.usage, 0.2);
    assert_false(t.idle);
    /* A CPU counter that goes backwards (QEMU restarted) resets. */
    hd_idle_update(&t, &p, 113 * S, TRUE, 5 * ms);
    assert_false(t.have_usage);
    assert_false(t.idle);
    /* No CPU figure: unknown, not idle. */
    hd_idle_update(&t, &p, 114 * S, FALSE, 0);
    assert_false(t.have_prev);
    assert_false(t.idle);
}

static void test_reclaim_latency(void **state)
{
    HdReclaimParams p = { .min_jump = 64 * HD_MiB, .timeout_usec = 60 * S };
    HdReclaimTracker t = { 0 };

    /* Guest at 200 MiB free, RSS 800 MiB. */
    assert_false(hd_reclaim_update(&t, &p, 10 * S, TRUE, 200 * HD_MiB, TRUE, 800 * HD_MiB));
    /* The guest frees 600 MiB: clock starts at t=11 s; target 800 - 540 = 260 MiB. */
    assert_false(hd_reclaim_update(&t, &p, 11 * S, TRUE, 800 * HD_MiB, TRUE, 790 * HD_MiB));
    assert_true(t.pending);
    assert_int_equal(t.target_rss, 260 * HD_MiB);
    assert_false(hd_reclaim_update(&t, &p, 12 * S, TRUE, 800 * HD_MiB, TRUE, 500 * HD_MiB));
    assert_false(hd_reclaim_update(&t, &p, 13 * S, TRUE, 800 * HD_MiB, TRUE, 261 * HD_MiB));
    /* 260 MiB reached at t=14.5 s: 3.5 s. */
    assert_true(hd_reclaim_update(&t, &p, 14 * S + S / 2, TRUE, 800 * HD_MiB, TRUE, 250 * HD_MiB));
    assert_true(t.have_latency);
    assert_close(t.latency_s, 3.5);
    assert_int_equal(t.latency_jump, 600 * HD_MiB);
    assert_int_equal(t.completed, 1);

    /* A jump below min_jump starts nothing. */
    assert_false(hd_reclaim_update(&t, &p, 20 * S, TRUE, 863 * HD_MiB, TRUE, 250 * HD_MiB));
    assert_false(t.pending);

    /* A jump that RSS cannot account for (guest claims 1 GiB freed, RSS 250 MiB). */
    assert_false(hd_reclaim_update(&t, &p, 21 * S, TRUE, 1887 * HD_MiB, TRUE, 250 * HD_MiB));
    assert_false(t.pending);

    /* A measurement that never completes times out and keeps the old result. */
    t = (HdReclaimTracker){ 0 };
    hd_reclaim_update(&t, &p, 100 * S, TRUE, 0, TRUE, HD_GiB);
    hd_reclaim_update(&t, &p, 101 * S, TRUE, 512 * HD_MiB, TRUE, HD_GiB);
    assert_true(t.pending);
    hd_reclaim_update(&t, &p, 161 * S, TRUE, 512 * HD_MiB, TRUE, HD_GiB);
    assert_true(t.pending); /* exactly 60 s: not yet */
    hd_reclaim_update(&t, &p, 162 * S, TRUE, 512 * HD_MiB, TRUE, HD_GiB);
    assert_false(t.pending);
    assert_int_equal(t.timed_out, 1);
    assert_false(t.have_latency);

    /* Returned within one interval: latency 0. */
    t = (HdReclaimTracker){ 0 };
    hd_reclaim_update(&t, &p, 1 * S, TRUE, 0, TRUE, HD_GiB);
    assert_true(hd_reclaim_update(&t, &p, 2 * S, TRUE, 100 * HD_MiB, TRUE, 900 * HD_MiB));
    assert_close(t.latency_s, 0.0);

    /* A gap in the figures forgets the baseline: no jump across it. */
    t = (HdReclaimTracker){ 0 };
    hd_reclaim_update(&t, &p, 1 * S, TRUE, 0, TRUE, HD_GiB);
    hd_reclaim_update(&t, &p, 2 * S, FALSE, 0, TRUE, HD_GiB);
    hd_reclaim_update(&t, &p, 3 * S, TRUE, 512 * HD_MiB, TRUE, HD_GiB);
    assert_false(t.pending);
}

static void test_pressure_level(void **state)
{
    const double w = 10.0, c = 40.0;

    assert_int_equal(hd_pressure_level(HD_PRESSURE_NONE, 0.0, w, c), HD_PRESSURE_NONE);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_NONE, 9.99, w, c), HD_PRESSURE_NONE);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_NONE, 10.0, w, c), HD_PRESSURE_WARNING);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_NONE, 55.0, w, c), HD_PRESSURE_CRITICAL);
    /* Hysteresis: critical holds down to 32 (80 % of 40), warning down to 8. */
    assert_int_equal(hd_pressure_level(HD_PRESSURE_CRITICAL, 33.0, w, c), HD_PRESSURE_CRITICAL);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_CRITICAL, 31.0, w, c), HD_PRESSURE_WARNING);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_WARNING, 8.5, w, c), HD_PRESSURE_WARNING);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_WARNING, 7.9, w, c), HD_PRESSURE_NONE);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_CRITICAL, 1.0, w, c), HD_PRESSURE_NONE);
    /* Entering needs the full threshold. */
    assert_int_equal(hd_pressure_level(HD_PRESSURE_NONE, 9.0, w, c), HD_PRESSURE_NONE);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_WARNING, 39.0, w, c), HD_PRESSURE_WARNING);
    assert_int_equal(hd_pressure_level(HD_PRESSURE_WARNING, NAN, w, c), HD_PRESSURE_WARNING);
}

static void test_aggregate(void **state)
{
    HdVmFigures vms[] = {
        /* idle, 300 MiB RSS for 200 MiB used, 4 GiB configured */
        { .running = TRUE,
          .configured_bytes = 4 * HD_GiB,
          .have_rss = TRUE,
          .rss_bytes = 300 * HD_MiB,
          .have_guest_used = TRUE,
          .guest_used_bytes = 200 * HD_MiB,
          .idle = TRUE },
        /* busy, 1 GiB RSS for 900 MiB used */
        { .running = TRUE,
          .configured_bytes = 8 * HD_GiB,
          .have_rss = TRUE,
          .rss_bytes = HD_GiB,
          .have_guest_used = TRUE,
          .guest_used_bytes = 900 * HD_MiB },
        /* idle, 500 MiB RSS, no balloon statistics */
        { .running = TRUE,
          .configured_bytes = 4 * HD_GiB,
          .have_rss = TRUE,
          .rss_bytes = 500 * HD_MiB,
          .idle = TRUE },
        /* stopped: counts for nothing */
        { .running = FALSE,
          .configured_bytes = 64 * HD_GiB,
          .have_rss = TRUE,
          .rss_bytes = HD_GiB },
    };
    HdHostAggregates a;

    hd_metrics_aggregate(vms, 4, TRUE, 32 * HD_GiB, TRUE, 10 * HD_GiB, &a);
    assert_int_equal(a.running, 3);
    assert_int_equal(a.committed_bytes, 16 * HD_GiB);
    assert_int_equal(a.resident_bytes, (300 + 1024 + 500) * HD_MiB);
    assert_true(a.have_overcommit);
    assert_close(a.overcommit_ratio, 0.5);
    /* (200 + 900) / (300 + 1024): the third has no guest figures. */
    assert_true(a.have_efficiency);
    assert_close(a.efficiency, 1100.0 / 1324.0);
    /* Median idle RSS of {300, 500} MiB = 400 MiB; 10 GiB / 400 MiB = 25.6 -> 25. */
    assert_int_equal(a.median_idle_rss, 400 * HD_MiB);
    assert_true(a.have_headroom);
    assert_int_equal(a.headroom, 25);

    /* Nobody idle: the median of all running ones {300, 1024, 500} = 500 MiB. */
    vms[0].idle = vms[2].idle = FALSE;
    hd_metrics_aggregate(vms, 4, TRUE, 32 * HD_GiB, TRUE, 10 * HD_GiB, &a);
    assert_int_equal(a.median_idle_rss, 500 * HD_MiB);
    assert_int_equal(a.headroom, 20);

    /* Nothing running, no meminfo: everything absent. */
    hd_metrics_aggregate(vms + 3, 1, FALSE, 0, FALSE, 0, &a);
    assert_int_equal(a.running, 0);
    assert_false(a.have_overcommit);
    assert_false(a.have_efficiency);
    assert_false(a.have_headroom);
    hd_metrics_aggregate(NULL, 0, TRUE, HD_GiB, TRUE, HD_GiB, &a);
    assert_true(a.have_overcommit);
    assert_close(a.overcommit_ratio, 0.0);
    assert_false(a.have_headroom);
}

static void test_stale(void **state)
{
    assert_false(hd_metrics_is_stale(10 * S, 8 * S, 3 * S));
    assert_false(hd_metrics_is_stale(11 * S, 8 * S, 3 * S));
    assert_true(hd_metrics_is_stale(11 * S + 1, 8 * S, 3 * S));
    assert_true(hd_metrics_is_stale(10 * S, 0, 3 * S)); /* never sampled */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_used_and_footprint),
        cmocka_unit_test(test_clamp_guest),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_reclaim_latency),
        cmocka_unit_test(test_pressure_level),
        cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
