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

/* v1 reports "no limit" as a huge page-aligned number, v2 as "max". */
#define V1_UNLIMITED (G_GUINT64_CONSTANT(1) << 62)

static gboolean read_cgroup_budget(const char *root, const char *dir, guint64 *limit,
                                   guint64 *usage, guint64 *inactive)
{
    g_autofree char *v1_limit = g_build_filename(dir, "memory.limit_in_bytes", NULL);
    g_autofree char *v1_usage = g_build_filename(dir, "memory.usage_in_bytes", NULL);
    g_autofree char *v2_limit = g_build_filename(dir, "memory.max", NULL);
    g_autofree char *v2_usage = g_build_filename(dir, "memory.current", NULL);
    g_autofree char *stat_path = g_build_filename(dir, "memory.stat", NULL);
    g_autofree char *stat = NULL;
    uint64_t v = 0;
    gboolean v1;

    if (read_u64(root, v1_limit, limit) && read_u64(root, v1_usage, usage))
        v1 = TRUE;
    else if (read_u64(root, v2_limit, limit) && read_u64(root, v2_usage, usage))
        v1 = FALSE;
    else
        return FALSE; /* absent, or "max" */
    if (*limit >= V1_UNLIMITED)
        return FALSE;
    *inactive = 0;
    stat = read_small(root, stat_path);
    if (stat != NULL && hd_kp_kv(stat, v1 ? "total_inactive_file" : "inactive_file", &v))
        *inactive = v;
    return TRUE;
}

void hd_procfs_read_budget(const char *root, const char *cgroup, const HdHostSample *host,
                           HdBudgetSample *out)
{
    static const char *const guesses[] = { "sys/fs/cgroup/memory/machine",
                                           "sys/fs/cgroup/machine.slice", "sys/fs/cgroup/machine",
                                           NULL };
    const char *const configured[] = { cgroup, NULL };
    const char *const *dirs = cgroup != NULL && *cgroup != '\0' ? configured : guesses;
    guint64 limit = 0, usage = 0, inactive = 0;

    *out = (HdBudgetSample){ 0 };
    for (guint i = 0; dirs[i] != NULL && !out->limited; i++) {
        if (read_cgroup_budget(root, dirs[i], &limit, &usage, &inactive)) {
            out->limited = TRUE;
            g_strlcpy(out->cgroup, dirs[i], sizeof(out->cgroup));
        }
    }
    if (out->limited) {
        guint64 used = usage - MIN(usage, inactive);

        out->have_budget = TRUE;
        out->budget_bytes = limit;
        out->available_bytes = limit - MIN(limit, used);
        if (host->have_meminfo) {
            out->budget_bytes = MIN(limit, host->meminfo.total);
            if (host->meminfo.have_available)
                out->available_bytes = MIN(out->available_bytes, host->meminfo.available);
        }
    } else if (host->have_meminfo && host->meminfo.have_available) {
        out->have_budget = TRUE;
        out->budget_bytes = host->meminfo.total;
        out->available_bytes = host->meminfo.available;
    }
}

char *hd_procfs_cgroup2_mount(const char *root)
{
    g_autofree char *mountinfo = read_small(root, "proc/self/mountinfo");
    char path[1024];

    if (mountinfo == NULL || !hd_kp_cgroup2_mount(mountinfo, path, sizeof(path)))
        return NULL;
    return g_strdup(path);
}
