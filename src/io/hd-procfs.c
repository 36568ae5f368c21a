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
