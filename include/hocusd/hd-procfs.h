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

/* Where cgroup2 is mounted (from <root>/proc/self/mountinfo), or NULL. */
char *hd_procfs_cgroup2_mount(const char *root);

G_END_DECLS
