/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "hocusd/hd-kparse.h"

G_BEGIN_DECLS

/*
 * The host's kernel files, read under a root directory ("/" in production, a
 * fixture tree in tests). A file that is missing or unreadable makes its
 * figures absent (have_* FALSE); nothing here fails as a whole.
 */

typedef struct {
    gboolean have_meminfo;
    HdKpMeminfo meminfo;
    gboolean have_psi;
    HdKpPsi psi;
    gboolean have_ksm;
    gboolean ksm_running;
    guint64 ksm_pages_sharing, ksm_pages_shared;
    gboolean have_ksm_profit;
    gint64 ksm_general_profit; /* bytes; may be negative (metadata costs more) */
    guint64 page_size;
} HdHostSample;

void hd_procfs_read_host(const char *root, HdHostSample *out);

/*
 * The memory the workspaces may use together: the limit of the memory
 * cgroup that holds the QEMU processes, when it has one, else the host's
 * MemTotal; available is what is left of it (limit - usage + inactive file
 * cache, at most MemAvailable). cgroup is a path under root, or "" to look
 * where libvirt puts machines: sys/fs/cgroup/memory/machine (v1), then
 * sys/fs/cgroup/machine.slice and sys/fs/cgroup/machine (v2).
 */
typedef struct {
    gboolean have_budget;
    guint64 budget_bytes, available_bytes;
    gboolean limited; /* by a cgroup limit, not MemTotal */
    char cgroup[256]; /* the cgroup whose limit counts; "" when none */
} HdBudgetSample;

void hd_procfs_read_budget(const char *root, const char *cgroup, const HdHostSample *host,
                           HdBudgetSample *out);

/* Where cgroup2 is mounted (from <root>/proc/self/mountinfo), or NULL. */
char *hd_procfs_cgroup2_mount(const char *root);

G_END_DECLS
