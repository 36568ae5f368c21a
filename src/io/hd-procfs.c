/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hocusd/hd-procfs.h"

/* Kernel files are small; a bound keeps a strange one from costing much. */
#define MAX_FILE (256 * 1024)

static char *read_small(const char *root, const char *path)
{
    g_autofree char *full = g_build_filename(root, path, NULL);
    g_autoptr(GError) error = NULL;
    char *text = NULL;
    gsize len = 0;

    if (!g_file_get_contents(full, &text, &len, &error))
        return NULL;
    if (len > MAX_FILE || memchr(text, '\0', len) != NULL) {
        g_free(text);
        return NULL;
    }
    return text;
}

static gboolean read_u64(const char *root, const char *path, guint64 *out)
{
    g_autofree char *text = read_small(root, path);
    bool is_max = false;
    uint64_t v = 0;

    if (text == NULL || !hd_kp_u64_or_max(text, &v, &is_max) || is_max)
        return FALSE;
    *out = v;
    return TRUE;
}

static gboolean read_i64(const char *root, const char *path, gint64 *out)
{
    g_autofree char *text = read_small(root, path);
    char *end;
    gint64 v;

    if (text == NULL)
        return FALSE;
    v = g_ascii_strtoll(text, &end, 10);
    if (end == text || (*end != '\n' && *end != '\0'))
        return FALSE;
    *out = v;
    return TRUE;
}

void hd_procfs_read_host(const char *root, HdHostSample *out)
{
    g_autofree char *meminfo = read_small(root, "proc/meminfo");
    g_autofree char *psi = read_small(root, "proc/pressure/memory");
    guint64 run = 0;
    long page = sysconf(_SC_PAGESIZE);

    *out = (HdHostSample){ 0 };
    out->page_size = page > 0 ? (guint64)page : 4096;
    out->have_meminfo = meminfo != NULL && hd_kp_meminfo(meminfo, &out->meminfo);
    out->have_psi = psi != NULL && hd_kp_psi(psi, &out->psi);
    out->have_ksm = read_u64(root, "sys/kernel/mm/ksm/run", &run) &&
                    read_u64(root, "sys/kernel/mm/ksm/pages_sharing", &out->ksm_pages_sharing) &&
                    read_u64(root, "sys/kernel/mm/ksm/pages_shared", &out->ksm_pages_shared);
    out->ksm_running = run == 1;
    out->have_ksm_profit =
        read_i64(root, "sys/kernel/mm/ksm/general_profit", &out->ksm_general_profit);
}

char *hd_procfs_cgroup2_mount(const char *root)
{
    g_autofree char *mountinfo = read_small(root, "proc/self/mountinfo");
    char path[1024];

    if (mountinfo == NULL || !hd_kp_cgroup2_mount(mountinfo, path, sizeof(path)))
        return NULL;
    return g_strdup(path);
}

static gboolean read_pid(const char *root, const char *name, gint64 *pid)
{
    g_autofree char *file = g_strconcat("run/libvirt/qemu/", name, ".pid", NULL);

    return read_i64(root, file, pid) && *pid > 0 && *pid <= G_MAXINT32;
}

void hd_procfs_read_vm(const char *root, const char *cgroup2_mount, const char *name,
                       HdProcSample *out)
{
    g_autofree char *dir = NULL, *status = NULL, *stat = NULL, *cgroup = NULL;
    g_autofree char *ksm_file = NULL;
    uint64_t kib = 0, ticks = 0;
    long hz = sysconf(_SC_CLK_TCK);
    char cg[1024];

    *out = (HdProcSample){ 0 };
    if (!read_pid(root, name, &out->pid))
        return;
    out->have_pid = TRUE;
    dir = g_strdup_printf("proc/%" G_GINT64_FORMAT, out->pid);

    g_autofree char *status_path = g_build_filename(dir, "status", NULL);
    status = read_small(root, status_path);
    if (status != NULL && hd_kp_status_kib(status, "VmRSS", &kib) && kib <= G_MAXUINT64 / 1024) {
        out->have_rss = TRUE;
        out->rss_bytes = kib * 1024;
    }
    g_autofree char *stat_path = g_build_filename(dir, "stat", NULL);
    stat = read_small(root, stat_path);
    if (stat != NULL && hz > 0 && hd_kp_stat_cpu_ticks(stat, &ticks)) {
        out->have_cpu = TRUE;
        out->cpu_time_ns = ticks * (G_GUINT64_CONSTANT(1000000000) / (guint64)hz);
    }
    ksm_file = g_build_filename(dir, "ksm_merging_pages", NULL);
    out->have_ksm = read_u64(root, ksm_file, &out->ksm_merging_pages);

    g_autofree char *cgroup_path = g_build_filename(dir, "cgroup", NULL);
    cgroup = read_small(root, cgroup_path);
    if (cgroup2_mount != NULL && cgroup != NULL && hd_kp_cgroup2_path(cgroup, cg, sizeof(cg))) {
        g_autofree char *pressure = g_build_filename(cgroup2_mount, cg, "memory.pressure", NULL);
        g_autofree char *text = read_small(root, pressure);

        out->have_psi = text != NULL && hd_kp_psi(text, &out->psi);
    }
}
