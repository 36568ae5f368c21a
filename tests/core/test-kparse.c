/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel-file parsers shared by hocusd and hocus-agent: real-shaped text
 * from 6.1 and 6.12 kernels, and malformed or truncated text that must be
 * refused rather than misread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hocusd/hd-kparse.h"

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

static void test_cgroup2_path(void **state)
{
    char path[64];
    static const char *const bad[] = {
        "",
        "12:memory:/machine/qemu-1-dev.libvirt-qemu\n", /* cgroup v1 only */
        "0::\n",                                        /* empty path */
        "0::relative/path\n",
        "0::/machine/../../etc\n", /* would climb out of the cgroup tree */
        "0::/machine.slice/machine-qemu\\x2d1\\x2dverylongname-that-does-not-fit.scope\n",
    };

    assert_true(hd_kp_cgroup2_path("0::/machine.slice/machine-qemu\\x2d1\\x2ddev.scope/libvirt\n",
                                   path, sizeof(path)));
    assert_string_equal(path, "/machine.slice/machine-qemu\\x2d1\\x2ddev.scope/libvirt");
    /* Hybrid hierarchy: v1 lines first, the v2 line last, no trailing newline. */
    assert_true(hd_kp_cgroup2_path("12:memory:/x\n1:name=systemd:/y\n0::/machine/qemu-1-dev", path,
                                   sizeof(path)));
    assert_string_equal(path, "/machine/qemu-1-dev");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hd_kp_cgroup2_path(bad[i], path, sizeof(path)))
            fail_msg("case %zu accepted: %s", i, path);
    }
    assert_false(hd_kp_cgroup2_path(NULL, path, sizeof(path)));
    assert_false(hd_kp_cgroup2_path("0::/a\n", path, 0));
}

static void test_statm_resident(void **state)
{
    uint64_t pages = 0;

    assert_true(hd_kp_statm_resident("308463 54963 2766 2073 0 84342 0\n", &pages));
    assert_int_equal(pages, 54963);
    assert_true(hd_kp_statm_resident("1 2", &pages));
    assert_int_equal(pages, 2);
    /* One field, words, a sign, two spaces, overflow, trailing junk: refused. */
    assert_false(hd_kp_statm_resident("308463\n", &pages));
    assert_false(hd_kp_statm_resident("a b c\n", &pages));
    assert_false(hd_kp_statm_resident("1 -2 3\n", &pages));
    assert_false(hd_kp_statm_resident("1  2 3\n", &pages));
    assert_false(hd_kp_statm_resident("1 99999999999999999999 3\n", &pages));
    assert_false(hd_kp_statm_resident("1 2x 3\n", &pages));
    assert_false(hd_kp_statm_resident("", &pages));
    assert_false(hd_kp_statm_resident(NULL, &pages));
}

static void test_stat_cpu_ticks(void **state)
{
    uint64_t ticks = 0;
    /* Fields 14 and 15 are utime and stime; comm may contain ") (" and spaces. */
    const char *stat = "4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 12345 0 0 0 "
                       "700 55 0 0 20 0 5 0 1000 2000000000 60000 18446744073709551615\n";
    const char *odd = "77 (a) (b c) R 1 77 77 0 -1 0 0 0 0 0 3 4 0 0\n";

    assert_true(hd_kp_stat_cpu_ticks(stat, &ticks));
    assert_int_equal(ticks, 755);
    assert_true(hd_kp_stat_cpu_ticks(odd, &ticks));
    assert_int_equal(ticks, 7);

    static const char *const bad[] = {
        "",
        "4242 qemu S 1 2 3\n",           /* no parentheses */
        "4242 (qemu) S 1 4242 4242 0\n", /* truncated before utime */
        "4242 (qemu) S 1 4242 4242 0 -1 4194560 12345 0 0 0 x 55\n",
        "4242 (qemu) S 1 4242 4242 0 -1 4194560 12345 0 0 0 700\n", /* no stime */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hd_kp_stat_cpu_ticks(bad[i], &ticks))
            fail_msg("case %zu accepted", i);
    }
    assert_false(hd_kp_stat_cpu_ticks(NULL, &ticks));
}

static void test_cgroup2_mount(void **state)
{
    char path[32];
    const char *unified = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
                          "25 21 0:23 / /sys/fs/cgroup rw,nosuid,nodev shared:9 - cgroup2 "
                          "cgroup2 rw,nsdelegate\n";
    const char *hybrid =
        "25 21 0:23 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro\n"
        "26 25 0:24 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw\n"
        "27 25 0:25 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory";

    assert_true(hd_kp_cgroup2_mount(unified, path, sizeof(path)));
    assert_string_equal(path, "/sys/fs/cgroup");
    assert_true(hd_kp_cgroup2_mount(hybrid, path, sizeof(path)));
    assert_string_equal(path, "/sys/fs/cgroup/unified");

    static const char *const bad[] = {
        "",
        "25 21 0:23 / /sys/fs/cgroup rw - cgroup cgroup rw,memory\n", /* v1 only */
        "a - cgroup2 ",                                               /* too few fields */
        "25 21 0:23 / - cgroup2 cgroup2 rw\n",                        /* no mount point */
        "25 21 0:23 / /sys/fs/cgroup rw cgroup2 cgroup2 rw\n",        /* no separator */
        "25 21 0:23 / /a/mount/point/much/too/long/for/the/buffer rw - cgroup2 cgroup2 rw\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hd_kp_cgroup2_mount(bad[i], path, sizeof(path)))
            fail_msg("case %zu accepted: %s", i, path);
    }
    assert_false(hd_kp_cgroup2_mount(NULL, path, sizeof(path)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_meminfo_malformed),
        cmocka_unit_test(test_psi),
        cmocka_unit_test(test_kv_and_numbers),
        cmocka_unit_test(test_thp_features_cmdline),
        cmocka_unit_test(test_cgroup2_path),
        cmocka_unit_test(test_statm_resident),
        cmocka_unit_test(test_stat_cpu_ticks),
        cmocka_unit_test(test_cgroup2_mount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
