/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/* One running domain's figures from libvirt's bulk statistics call. */
typedef struct {
    char *name;
    int id;
    gboolean have_cpu;
    guint64 cpu_time_ns;
    gboolean have_balloon;
    guint64 balloon_current; /* bytes the guest may use now */
    guint64 balloon_maximum;
    gboolean have_guest_mem; /* the guest's balloon statistics (untrusted) */
    guint64 guest_unused, guest_available, guest_usable, guest_disk_caches;
    gboolean have_last_update;
    guint64 last_update_s; /* guest time of its last statistics report */
    gboolean have_rss;
    guint64 rss_bytes; /* libvirt's view of the QEMU RSS */
} HdDomStats;

void hd_domstats_free(HdDomStats *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdDomStats, hd_domstats_free)

/*
 * virConnectGetAllDomainStats for every running domain in one RPC: state,
 * CPU time and balloon. With nowait, a domain whose QEMU is busy (another
 * call waits on its monitor, e.g. it was SIGSTOPped) is reported without
 * its balloon figures instead of making the call wait. Drivers that do not
 * know the flag are asked again without it (*nowait_supported set FALSE).
 * Blocking: call from a worker thread.
 */
GPtrArray *hd_domstats_collect(virConnectPtr conn, gboolean *nowait_supported, GError **error);

/* The same, from an already-fetched record (unit-testable parsing). */
HdDomStats *hd_domstats_from_params(const char *name, int id, virTypedParameterPtr params,
                                    int nparams);

G_END_DECLS
