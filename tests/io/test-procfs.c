/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host readers against fixture trees: a pure cgroup v2 host, a hybrid
 * host (cgroup2 at /sys/fs/cgroup/unified), and a host without PSI, KSM or
 * cgroup2, where the matching figures must be absent rather than zero. Then
 * the per-workspace files against the real /proc: kept open, found again
 * when the process is gone, closed when the workspace is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hocusd/hd-procfs.h"
#include "hocusd/hd-vmfiles.h"

static void put(const char *root, const char *path, const char *content)
{
    g_autofree char *full = g_build_filename(root, path, NULL);
    g_autofree char *dir = g_path_get_dirname(full);

    assert_int_equal(g_mkdir_with_parents(dir, 0755), 0);
    assert_true(g_file_set_contents(full, content, -1, NULL));
}

static char *make_root(void)
{
    char *root = g_dir_make_tmp("hd-procfs-XXXXXX", NULL);

    assert_non_null(root);
    return root;
}

static void remove_root(char *root)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    g_free(root);
}

static void full_host(const char *root, const char *cg2)
{
    g_autofree char *mountinfo = g_strdup_printf(
        "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
        "25 21 0:23 / %s rw,nosuid,nodev shared:9 - cgroup2 cgroup2 rw,nsdelegate\n",
        cg2);
    g_autofree char *pressure =
        g_build_filename(cg2, "machine/qemu-1-dev.libvirt-qemu/memory.pressure", NULL);

    put(root, "proc/meminfo",
        "MemTotal:       24576000 kB\nMemFree:        20000000 kB\n"
        "MemAvailable:   22000000 kB\nCached:           100000 kB\n");
    put(root, "proc/pressure/memory",
        "some avg10=12.50 avg60=3.00 avg300=1.00 total=999\n"
        "full avg10=2.00 avg60=1.00 avg300=0.50 total=77\n");
    put(root, "sys/kernel/mm/ksm/run", "1\n");
    put(root, "sys/kernel/mm/ksm/pages_sharing", "2560\n");
    put(root, "sys/kernel/mm/ksm/pages_shared", "100\n");
    put(root, "sys/kernel/mm/ksm/general_profit", "-4096\n");
    put(root, "proc/self/mountinfo", mountinfo);
    put(root, "run/libvirt/qemu/dev.pid", "4242");
    put(root, "proc/4242/statm", "300000 65536 1000 500 0 60000 0\n");
    put(root, "proc/4242/stat",
        "4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 12345 0 0 0 "
        "700 55 0 0 20 0 5 0 1000 2000000000 60000\n");
    put(root, "proc/4242/cgroup", "0::/machine/qemu-1-dev.libvirt-qemu\n");
    put(root, "proc/4242/ksm_merging_pages", "1234\n");
    put(root, pressure,
        "some avg10=0.50 avg60=0.10 avg300=0.00 total=10\n"
        "full avg10=0.25 avg60=0.00 avg300=0.00 total=5\n");
}

static void check_full(const char *root, const char *want_mount)
{
    HdHostSample h;
    HdProcSample p;
    g_autofree char *cg2 = hd_procfs_cgroup2_mount(root);

    hd_procfs_read_host(root, &h);
    assert_true(h.have_meminfo);
    assert_int_equal(h.meminfo.total, 24576000ull * 1024);
    assert_int_equal(h.meminfo.available, 22000000ull * 1024);
    assert_true(h.have_psi);
    assert_true(h.psi.some.avg10 == 12.5);
    assert_true(h.psi.full.avg300 == 0.5);
    assert_true(h.have_ksm && h.ksm_running);
    assert_int_equal(h.ksm_pages_sharing, 2560);
    assert_true(h.have_ksm_profit);
    assert_int_equal(h.ksm_general_profit, -4096);

    assert_non_null(cg2);
    assert_string_equal(cg2, want_mount);
    {
        HdVmFiles *files = hd_vm_files_new(root, cg2);

        /* Without want_cpu, stat is not read. */
        hd_vm_files_read(files, "dev", FALSE, &p);
        assert_true(p.have_rss);
        assert_false(p.have_cpu);
        hd_vm_files_read(files, "dev", TRUE, &p);
        /* Fixture files are not kernel files: never kept open. */
        assert_int_equal(hd_vm_files_open_count(files), 0);
        hd_vm_files_free(files);
    }
    assert_true(p.have_pid);
    assert_int_equal(p.pid, 4242);
    assert_true(p.have_rss);
    assert_int_equal(p.rss_bytes, 65536ull * (guint64)sysconf(_SC_PAGESIZE));
    assert_true(p.have_cpu);
    assert_int_equal(p.cpu_time_ns, 755ull * (1000000000ull / (guint64)sysconf(_SC_CLK_TCK)));
    assert_true(p.have_ksm);
    assert_int_equal(p.ksm_merging_pages, 1234);
    assert_true(p.have_psi);
    assert_true(p.psi.some.avg10 == 0.5);
    assert_true(p.psi.full.avg10 == 0.25);
}

/* The budget: a cgroup v1 limit, a v2 limit, "max" and no cgroup at all
 * (MemTotal), and a configured cgroup that overrides the search. */
static void test_budget(void **state)
{
    char *root = make_root();
    HdHostSample h;
    HdBudgetSample b;

    put(root, "proc/meminfo",
        "MemTotal:       8388608 kB\nMemFree: 4000000 kB\n"
        "MemAvailable:   6291456 kB\n");
    hd_procfs_read_host(root, &h);
    hd_procfs_read_budget(root, "", &h, &b);
    assert_true(b.have_budget && !b.limited);
    assert_int_equal(b.budget_bytes, 8ull << 30);
    assert_int_equal(b.available_bytes, 6ull << 30);

    /* v2, unlimited: still MemTotal. */
    put(root, "sys/fs/cgroup/machine.slice/memory.max", "max\n");
    put(root, "sys/fs/cgroup/machine.slice/memory.current", "1073741824\n");
    hd_procfs_read_budget(root, "", &h, &b);
    assert_false(b.limited);
    /* v2, 2 GiB, 1.5 GiB used of which 512 MiB inactive file cache. */
    put(root, "sys/fs/cgroup/machine.slice/memory.max", "2147483648\n");
    put(root, "sys/fs/cgroup/machine.slice/memory.current", "1610612736\n");
    put(root, "sys/fs/cgroup/machine.slice/memory.stat",
        "anon 1073741824\ninactive_file 536870912\n");
    hd_procfs_read_budget(root, "", &h, &b);
    assert_true(b.limited);
    assert_string_equal(b.cgroup, "sys/fs/cgroup/machine.slice");
    assert_int_equal(b.budget_bytes, 2ull << 30);
    assert_int_equal(b.available_bytes, 1ull << 30);
    /* v1 is looked at first; its "unlimited" is a huge number. */
    put(root, "sys/fs/cgroup/memory/machine/memory.limit_in_bytes", "9223372036854771712\n");
    put(root, "sys/fs/cgroup/memory/machine/memory.usage_in_bytes", "100\n");
    hd_procfs_read_budget(root, "", &h, &b);
    assert_string_equal(b.cgroup, "sys/fs/cgroup/machine.slice");
    put(root, "sys/fs/cgroup/memory/machine/memory.limit_in_bytes", "1073741824\n");
    put(root, "sys/fs/cgroup/memory/machine/memory.usage_in_bytes", "1048576000\n");
    put(root, "sys/fs/cgroup/memory/machine/memory.stat",
        "cache 0\ntotal_inactive_file 20971520\n");
    hd_procfs_read_budget(root, "", &h, &b);
    assert_string_equal(b.cgroup, "sys/fs/cgroup/memory/machine");
    assert_int_equal(b.budget_bytes, 1ull << 30);
    assert_int_equal(b.available_bytes, (1ull << 30) - 1048576000 + 20971520);
    /* Usage above the limit (v1 allows a moment of it): nothing available. */
    put(root, "sys/fs/cgroup/memory/machine/memory.usage_in_bytes", "2147483648\n");
    hd_procfs_read_budget(root, "", &h, &b);
    assert_int_equal(b.available_bytes, 0);
    /* A configured cgroup is the only one looked at. */
    hd_procfs_read_budget(root, "/sys/fs/cgroup/machine.slice", &h, &b);
    assert_string_equal(b.cgroup, "/sys/fs/cgroup/machine.slice");
    assert_int_equal(b.budget_bytes, 2ull << 30);
    hd_procfs_read_budget(root, "/sys/fs/cgroup/nothing", &h, &b);
    assert_false(b.limited);
    assert_int_equal(b.budget_bytes, 8ull << 30);
    remove_root(root);
}

static void test_unified_host(void **state)
{
    char *root = make_root();

    full_host(root, "/sys/fs/cgroup");
    check_full(root, "/sys/fs/cgroup");
    remove_root(root);
}

static void test_hybrid_host(void **state)
{
    char *root = make_root();

    full_host(root, "/sys/fs/cgroup/unified");
    check_full(root, "/sys/fs/cgroup/unified");
    remove_root(root);
}

static void test_bare_host(void **state)
{
    char *root = make_root();
    HdHostSample h;
    HdProcSample p;
    HdVmFiles *files;
    g_autofree char *cg2 = NULL;

    /* Old kernel: no PSI, no KSM, cgroup v1 only, no ksm_merging_pages. */
    put(root, "proc/meminfo", "MemTotal: 1024 kB\nMemFree: 512 kB\n");
    put(root, "proc/self/mountinfo",
        "25 21 0:23 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    put(root, "run/libvirt/qemu/dev.pid", "4242\n");
    put(root, "proc/4242/statm", "2000 250 10 10 0 100 0\n");
    put(root, "proc/4242/cgroup", "4:memory:/machine/qemu-1-dev.libvirt-qemu\n");
    hd_procfs_read_host(root, &h);
    assert_true(h.have_meminfo);
    assert_false(h.meminfo.have_available);
    assert_false(h.have_psi);
    assert_false(h.have_ksm);
    assert_false(h.have_ksm_profit);
    cg2 = hd_procfs_cgroup2_mount(root);
    assert_null(cg2);
    files = hd_vm_files_new(root, cg2);
    hd_vm_files_read(files, "dev", TRUE, &p);
    assert_true(p.have_rss);
    assert_int_equal(p.rss_bytes, 250ull * (guint64)sysconf(_SC_PAGESIZE));
    assert_false(p.have_cpu);
    assert_false(p.have_psi);
    assert_false(p.have_ksm);

    /* No pid file (not running, or another libvirt instance): nothing. */
    hd_vm_files_read(files, "other", TRUE, &p);
    assert_false(p.have_pid);
    assert_false(p.have_rss);
    /* Garbage pid files. */
    put(root, "run/libvirt/qemu/bad.pid", "-1\n");
    hd_vm_files_read(files, "bad", TRUE, &p);
    assert_false(p.have_pid);
    put(root, "run/libvirt/qemu/bad.pid", "12ab\n");
    hd_vm_files_read(files, "bad", TRUE, &p);
    assert_false(p.have_pid);
    put(root, "run/libvirt/qemu/bad.pid", "99999999999\n");
    hd_vm_files_read(files, "bad", TRUE, &p);
    assert_false(p.have_pid);
    /* A fixture changes under the same pid: each read sees it. */
    put(root, "proc/4242/statm", "2000 300 10 10 0 100 0\n");
    hd_vm_files_read(files, "dev", TRUE, &p);
    assert_int_equal(p.rss_bytes, 300ull * (guint64)sysconf(_SC_PAGESIZE));
    /* A statm that is not one: RSS absent, the rest still read. */
    put(root, "proc/4242/statm", "lots\n");
    hd_vm_files_read(files, "dev", TRUE, &p);
    assert_true(p.have_pid);
    assert_false(p.have_rss);
    hd_vm_files_free(files);
    /* An empty directory: nothing at all, and no crash. */
    hd_procfs_read_host("/nonexistent-root", &h);
    assert_false(h.have_meminfo || h.have_psi || h.have_ksm);
    remove_root(root);
}

static pid_t sleeper(void)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        /* Gone with the test, even when an assertion ends it early. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pause();
        _exit(0);
    }
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* A root whose proc is the real one and whose pid file names pid. */
static void point_at(const char *root, pid_t pid)
{
    g_autofree char *text = g_strdup_printf("%d\n", (int)pid);

    put(root, "run/libvirt/qemu/ws.pid", text);
}

static void test_kept_open(void **state)
{
    char *root = make_root();
    g_autofree char *proc = g_build_filename(root, "proc", NULL);
    g_autoptr(GHashTable) none = g_hash_table_new(g_str_hash, g_str_equal);
    pid_t first = sleeper(), second;
    HdVmFiles *files;
    HdProcSample p;
    guint kept;

    assert_int_equal(symlink("/proc", proc), 0);
    point_at(root, first);
    files = hd_vm_files_new(root, NULL);
    hd_vm_files_read(files, "ws", TRUE, &p);
    assert_true(p.have_pid);
    assert_int_equal(p.pid, first);
    assert_true(p.have_rss && p.rss_bytes > 0);
    assert_true(p.have_cpu);
    /* statm at least (ksm_merging_pages where the kernel has it); CPU time
     * comes from the process's clock, so stat is not opened. */
    kept = hd_vm_files_open_count(files);
    assert_true(kept >= 1);
    /* The next sample reuses them: the pid file is not read again. */
    point_at(root, 1);
    hd_vm_files_read(files, "ws", TRUE, &p);
    assert_int_equal(p.pid, first);
    assert_int_equal(hd_vm_files_open_count(files), kept);

    /* The process goes (a QEMU restart): its files are found again. */
    second = sleeper();
    point_at(root, second);
    reap(first);
    hd_vm_files_read(files, "ws", TRUE, &p);
    assert_true(p.have_pid);
    assert_int_equal(p.pid, second);
    assert_true(p.have_rss);
    assert_int_equal(hd_vm_files_open_count(files), kept);

    /* Gone with no new process: absent, nothing left open. */
    reap(second);
    put(root, "run/libvirt/qemu/ws.pid", "");
    hd_vm_files_read(files, "ws", TRUE, &p);
    assert_false(p.have_pid);
    assert_false(p.have_rss);
    assert_int_equal(hd_vm_files_open_count(files), 0);

    /* A workspace no longer running is forgotten. */
    second = sleeper();
    point_at(root, second);
    hd_vm_files_read(files, "ws", FALSE, &p);
    assert_true(hd_vm_files_open_count(files) >= 1);
    hd_vm_files_retain(files, none);
    assert_int_equal(hd_vm_files_open_count(files), 0);
    reap(second);
    hd_vm_files_free(files);
    remove_root(root);
}

/* Beyond half the descriptor limit, files are opened for each read: the
 * same figures, no more descriptors. */
static void test_descriptor_budget(void **state)
{
    char *root = make_root();
    g_autofree char *proc = g_build_filename(root, "proc", NULL);
    g_autofree char *text = NULL;
    struct rlimit saved, low;
    pid_t pid = sleeper();
    HdVmFiles *files;

    assert_int_equal(symlink("/proc", proc), 0);
    text = g_strdup_printf("%d\n", (int)pid);
    for (int i = 0; i < 40; i++) {
        g_autofree char *pid_file = g_strdup_printf("run/libvirt/qemu/ws%d.pid", i);
        put(root, pid_file, text);
    }
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    low = saved;
    low.rlim_cur = 64;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    files = hd_vm_files_new(root, NULL);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);

    /* 40 workspaces x statm and stat: 80 files, budget 32. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 40; i++) {
            g_autofree char *name = g_strdup_printf("ws%d", i);
            HdProcSample p;

            hd_vm_files_read(files, name, TRUE, &p);
            assert_true(p.have_rss && p.rss_bytes > 0);
            assert_true(p.have_cpu);
        }
        assert_true(hd_vm_files_open_count(files) <= 32);
        assert_true(hd_vm_files_open_count(files) >= 30);
    }
    hd_vm_files_free(files);
    reap(pid);
    remove_root(root);
}

/* A child that has used about 300 ms of CPU and then waits. */
static pid_t burner(void)
{
    int done[2];
    char c;
    pid_t pid;

    assert_int_equal(pipe(done), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct timespec ts = { 0 };

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        while (ts.tv_sec == 0 && ts.tv_nsec < 300000000)
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        (void)!write(done[1], "x", 1);
        pause();
        _exit(0);
    }
    close(done[1]);
    assert_int_equal(read(done[0], &c, 1), 1);
    close(done[0]);
    return pid;
}

/* CPU time from the process's clock agrees with stat's utime + stime. */
static void test_cpu_clock(void **state)
{
    char *root = make_root();
    g_autofree char *proc = g_build_filename(root, "proc", NULL);
    pid_t pid = burner();
    g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    guint64 ticks = 0, ns_per_tick = G_GUINT64_CONSTANT(1000000000) / sysconf(_SC_CLK_TCK);
    HdVmFiles *files;
    HdProcSample p;

    assert_int_equal(symlink("/proc", proc), 0);
    point_at(root, pid);
    files = hd_vm_files_new(root, NULL);
    hd_vm_files_read(files, "ws", TRUE, &p);
    assert_true(g_file_get_contents(stat_path, &stat, NULL, NULL));
    assert_true(hd_kp_stat_cpu_ticks(stat, &ticks));
    assert_true(p.have_cpu);
    assert_true(p.cpu_time_ns >= 300000000);
    /* stat truncates utime and stime to whole ticks each. */
    assert_true(p.cpu_time_ns >= ticks * ns_per_tick);
    assert_true(p.cpu_time_ns - ticks * ns_per_tick < 3 * ns_per_tick);
    /* The clock is not a descriptor: only statm (and ksm_merging_pages) held. */
    assert_true(hd_vm_files_open_count(files) <= 2);
    hd_vm_files_free(files);
    reap(pid);
    remove_root(root);
}

static void test_real_host(void **state)
{
    HdHostSample h;

    /* The machine the tests run on has at least /proc/meminfo. */
    hd_procfs_read_host("/", &h);
    assert_true(h.have_meminfo);
    assert_true(h.meminfo.total > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget),      cmocka_unit_test(test_unified_host),
        cmocka_unit_test(test_hybrid_host), cmocka_unit_test(test_bare_host),
        cmocka_unit_test(test_kept_open),   cmocka_unit_test(test_descriptor_budget),
        cmocka_unit_test(test_cpu_clock),   cmocka_unit_test(test_real_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
