/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hocus-agent's pure parts: the parsers of the guest's kernel files (fed
 * real-shaped and malformed text), the reclaim decision (with hand-computed
 * cases) and the bounded JSON writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "ha.h"

#define MiB (1ull << 20)

static const char meminfo_612[] = "MemTotal:        1001356 kB\n"
                                  "MemFree:          412340 kB\n"
                                  "MemAvailable:     812000 kB\n"
                                  "Buffers:            2048 kB\n"
                                  "Cached:           421888 kB\n"
                                  "SwapCached:            0 kB\n"
                                  "Active:            10000 kB\n"
                                  "Inactive:         420000 kB\n"
                                  "Active(anon):       1000 kB\n"
                                  "Inactive(anon):     9000 kB\n"
                                  "Active(file):      12000 kB\n"
                                  "Inactive(file):   408000 kB\n"
                                  "Unevictable:        1234 kB\n"
                                  "Mlocked:            1234 kB\n"
                                  "AnonPages:         10240 kB\n"
                                  "Shmem:               512 kB\n"
                                  "HugePages_Total:       0\n";

static void test_meminfo(void **state)
{
    HdKpMeminfo m;

    assert_true(hd_kp_meminfo(meminfo_612, &m));
    assert_int_equal(m.total, 1001356ull * 1024);
    assert_int_equal(m.free, 412340ull * 1024);
    assert_int_equal(m.available, 812000ull * 1024);
    assert_int_equal(m.cached, 421888ull * 1024);
    assert_int_equal(m.anon, 10240ull * 1024);
    assert_int_equal(m.active_file + m.inactive_file, 420000ull * 1024);
    assert_true(m.have_file);
    /* "Active(anon)" must not be read as "Active(file)", nor "SwapCached" as "Cached". */
    assert_int_equal(m.active_file, 12000ull * 1024);
}

static void test_meminfo_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "garbage",
        "MemTotal: lots kB\n",
        "MemTotal:        1001356 MB\n",              /* unit other than kB */
        "MemTotal:        99999999999999999999 kB\n", /* overflow */
        "MemFree:          412340 kB\n",              /* no MemTotal */
        "MemTotal 1001356 kB\n",                      /* no colon */
    };
    HdKpMeminfo m;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hd_kp_meminfo(bad[i], &m))
            fail_msg("case %zu accepted", i);
    }
    assert_false(hd_kp_meminfo(NULL, &m));
    /* A truncated file keeps what it had. */
    assert_true(hd_kp_meminfo("MemTotal: 1024 kB\nMemFree: 12", &m));
    assert_int_equal(m.total, 1024 * 1024);
    assert_false(m.have_free);
}

static void test_psi(void **state)
{
    HdKpPsi p;

    assert_true(hd_kp_psi("some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n"
                          "full avg10=0.10 avg60=0.00 avg300=0.00 total=789\n",
                          &p));
    assert_true(p.have_some && p.have_full);
    assert_true(p.some.avg10 == 1.5);
    assert_int_equal(p.some.total_us, 123456);
    assert_int_equal(p.full.total_us, 789);
    /* Older kernels have no "full" line for cpu; memory always has both. */
    assert_true(hd_kp_psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p));
    assert_false(p.have_full);

    static const char *const bad[] = {
        "",
        "some avg10=x avg60=0.00 avg300=0.00 total=1\n",
        "some avg10=0.00 avg60=0.00 total=1\n",
        "some avg10=101.00 avg60=0.00 avg300=0.00 total=1\n",
        "some avg10=-1.00 avg60=0.00 avg300=0.00 total=1\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=-5\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=5 extra\n",
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", /* no "some" */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hd_kp_psi(bad[i], &p))
            fail_msg("case %zu accepted", i);
    }
}

static void test_kv_and_numbers(void **state)
{
    const char *stat = "anon 1048576\nfile 4194304\nfile_mapped 0\nfile_dirty 12\n";
    uint64_t v = 0;
    bool is_max;

    assert_true(hd_kp_kv(stat, "file", &v));
    assert_int_equal(v, 4194304);
    assert_true(hd_kp_kv(stat, "anon", &v));
    assert_int_equal(v, 1048576);
    assert_false(hd_kp_kv(stat, "fil", &v));
    assert_false(hd_kp_kv("file x\n", "file", &v));
    assert_false(hd_kp_kv(NULL, "file", &v));

    assert_true(hd_kp_u64_or_max("max\n", &v, &is_max));
    assert_true(is_max);
    assert_true(hd_kp_u64_or_max("268435456\n", &v, &is_max));
    assert_false(is_max);
    assert_int_equal(v, 268435456);
    assert_false(hd_kp_u64_or_max("maximum\n", &v, &is_max));
    assert_false(hd_kp_u64_or_max("-1\n", &v, &is_max));
    assert_false(hd_kp_u64_or_max("", &v, &is_max));
}

static void test_thp_features_cmdline(void **state)
{
    char mode[16], buf[16];

    assert_true(hd_kp_thp_mode("always madvise [never]\n", mode, sizeof(mode)));
    assert_string_equal(mode, "never");
    assert_true(hd_kp_thp_mode("[always] madvise never\n", mode, sizeof(mode)));
    assert_string_equal(mode, "always");
    assert_false(hd_kp_thp_mode("always madvise never\n", mode, sizeof(mode)));
    assert_false(hd_kp_thp_mode("[]\n", mode, sizeof(mode)));
    assert_false(hd_kp_thp_mode("[averyveryverylongmode]\n", mode, sizeof(mode)));
    assert_false(hd_kp_thp_mode("[N3V]\n", mode, sizeof(mode)));

    assert_true(hd_kp_feature_bit("0000010000\n", 5));
    assert_false(hd_kp_feature_bit("0000000000\n", 5));
    assert_false(hd_kp_feature_bit("0001", 5));
    assert_false(hd_kp_feature_bit(NULL, 0));

    assert_true(hd_kp_cmdline_get("console=ttyS0 hocus.reclaim=0 quiet\n", "hocus.reclaim", buf,
                                  sizeof(buf)));
    assert_string_equal(buf, "0");
    assert_false(hd_kp_cmdline_get("xhocus.reclaim=1", "hocus.reclaim", buf, sizeof(buf)));
    assert_false(hd_kp_cmdline_get("hocus.reclaimer=1", "hocus.reclaim", buf, sizeof(buf)));
    assert_false(
        hd_kp_cmdline_get("hocus.reclaim=0123456789abcdefXYZ", "hocus.reclaim", buf, sizeof(buf)));
}

static HaReclaimDecision step(const HaReclaimParams *p, HaReclaimState *s, uint64_t t_s,
                              uint64_t stall_us, uint64_t file)
{
    HaReclaimInput in = {
        .now_us = t_s * 1000000, .have_psi = true, .stall_total_us = stall_us, .file_bytes = file
    };
    return ha_reclaim_decide(p, s, &in);
}

static void test_reclaim_decisions(void **state)
{
    HaReclaimParams p;
    HaReclaimState s = { 0 };
    HaReclaimDecision d;

    ha_reclaim_params_default(&p);
    /* First sample: no rate yet. */
    d = step(&p, &s, 10, 0, 432 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_WARMUP);
    /* Calm, 416 MiB of file cache, floor 16: reclaimable 400, half = 200 MiB. */
    d = step(&p, &s, 11, 0, 416 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    assert_int_equal(d.bytes, 200 * MiB);
    assert_true(d.pressure == 0.0);
    /* 1132 MiB reclaimable: half is 566, capped at max_step 256. */
    d = step(&p, &s, 12, 0, 1148 * MiB);
    assert_int_equal(d.bytes, 256 * MiB);
    /* Near the floor: 6 MiB left, half is 3 -> min_step 4. */
    d = step(&p, &s, 13, 0, 22 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    assert_int_equal(d.bytes, 4 * MiB);
    /* Below min_step worth: idle. */
    d = step(&p, &s, 14, 0, 19 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_IDLE);
    /* 5 ms of stall in 1 s = 0.5 % > 0.1 %: back off 2 s. */
    d = step(&p, &s, 15, 5000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_BACKOFF);
    assert_true(d.pressure > 0.0049 && d.pressure < 0.0051);
    assert_int_equal(s.backoff_us, 2000000);
    /* Calm but inside the backoff window. */
    d = step(&p, &s, 16, 5000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_BACKOFF);
    /* Stall again: the backoff doubles. */
    d = step(&p, &s, 17, 9000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_BACKOFF);
    assert_int_equal(s.backoff_us, 4000000);
    /* Window over (17 + 4 = 21), calm: reclaim resumes. */
    d = step(&p, &s, 21, 9000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    /* Stall exactly at the target is not above it. */
    d = step(&p, &s, 22, 10000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
}

static void test_reclaim_backoff_cap_and_oddities(void **state)
{
    HaReclaimParams p;
    HaReclaimState s = { 0 };
    HaReclaimDecision d;
    uint64_t stall = 0;

    ha_reclaim_params_default(&p);
    step(&p, &s, 0, 0, 0);
    for (uint64_t t = 1; t < 200; t++) {
        stall += 500000; /* 50 % stall: always backing off */
        d = step(&p, &s, t, stall, 400 * MiB);
        assert_int_equal(d.action, HA_RECLAIM_BACKOFF);
        assert_true(s.backoff_us <= p.backoff_max_us);
    }
    assert_int_equal(s.backoff_us, p.backoff_max_us);

    /* A PSI total that goes backwards (new cgroup) is not a stall. */
    memset(&s, 0, sizeof(s));
    step(&p, &s, 0, 1000000, 400 * MiB);
    d = step(&p, &s, 1, 10, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    assert_true(d.pressure == 0.0);
    /* A clock that does not advance re-primes instead of dividing by zero. */
    d = step(&p, &s, 1, 10, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_WARMUP);
}

static void test_reclaim_without_psi(void **state)
{
    HaReclaimParams p;
    HaReclaimState s = { 0 };
    HaReclaimInput in = { .now_us = 1, .have_psi = false, .file_bytes = 900 * MiB };
    HaReclaimDecision d;

    ha_reclaim_params_default(&p);
    d = ha_reclaim_decide(&p, &s, &in);
    /* No feedback: small steps only. */
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    assert_int_equal(d.bytes, p.min_step);
    assert_true(d.pressure < 0.0);
}

static void test_json_writer(void **state)
{
    char buf[HA_LINE_MAX];
    HaJson j;
    json_object *o, *v;

    ha_json_init(&j, buf, sizeof(buf));
    ha_json_begin_object(&j, NULL);
    ha_json_u64(&j, "v", 1);
    ha_json_string(&j, "s", "a\"b\\c\n\x01\xc3\xa9");
    ha_json_double(&j, "d", 1.0 / 3.0);
    ha_json_null(&j, "n");
    ha_json_begin_array(&j, "arr");
    ha_json_string(&j, NULL, "x");
    ha_json_u64(&j, NULL, 2);
    ha_json_end_array(&j);
    ha_json_begin_object(&j, "o");
    ha_json_bool(&j, "b", true);
    ha_json_i64(&j, "i", -3);
    ha_json_end_object(&j);
    ha_json_end_object(&j);
    assert_true(ha_json_finish(&j));
    assert_int_equal(buf[j.len - 1], '\n');
    assert_null(strchr(buf, '\n') != buf + j.len - 1 ? buf : NULL);
    o = json_tokener_parse(buf);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "s", &v));
    assert_string_equal(json_object_get_string(v), "a\"b\\c\n\x01??");
    assert_true(json_object_object_get_ex(o, "d", &v));
    assert_true(json_object_get_double(v) == 0.33);
    json_object_put(o);
}

static void test_json_overflow(void **state)
{
    char buf[64];
    HaJson j;

    ha_json_init(&j, buf, sizeof(buf));
    ha_json_begin_object(&j, NULL);
    for (int i = 0; i < 20; i++)
        ha_json_string(&j, "key", "a longish value");
    ha_json_end_object(&j);
    assert_false(ha_json_finish(&j));
    assert_true(strlen(buf) < sizeof(buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_meminfo_malformed),
        cmocka_unit_test(test_psi),
        cmocka_unit_test(test_kv_and_numbers),
        cmocka_unit_test(test_thp_features_cmdline),
        cmocka_unit_test(test_reclaim_decisions),
        cmocka_unit_test(test_reclaim_backoff_cap_and_oddities),
        cmocka_unit_test(test_reclaim_without_psi),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_json_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
