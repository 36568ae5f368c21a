/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-libvirt"

#include <libvirt/virterror.h>

#include "hocusd/hd-domstats.h"
#include "hocusd/hd-libvirt-ops.h"

void hd_domstats_free(HdDomStats *s)
{
    if (s == NULL)
        return;
    g_free(s->name);
    g_free(s);
}

static gboolean get_ull(virTypedParameterPtr params, int n, const char *key, guint64 *out)
{
    unsigned long long v = 0;

    if (virTypedParamsGetULLong(params, n, key, &v) != 1)
        return FALSE;
    *out = v;
    return TRUE;
}

/* libvirt reports balloon figures in KiB. */
static gboolean get_kib(virTypedParameterPtr params, int n, const char *key, guint64 *bytes)
{
    guint64 kib;

    if (!get_ull(params, n, key, &kib) || kib > G_MAXUINT64 / 1024)
        return FALSE;
    *bytes = kib * 1024;
    return TRUE;
}

HdDomStats *hd_domstats_from_params(const char *name, int id, virTypedParameterPtr params,
                                    int nparams)
{
    HdDomStats *s = g_new0(HdDomStats, 1);
    guint64 free_b = 0, avail = 0, caches = 0;

    s->name = g_strdup(name);
    s->id = id;
    s->have_cpu = get_ull(params, nparams, "cpu.time", &s->cpu_time_ns);
    s->have_balloon = get_kib(params, nparams, "balloon.current", &s->balloon_current);
    (void)get_kib(params, nparams, "balloon.maximum", &s->balloon_maximum);
    /* Used needs free, total and cache; without all three the guest figures are absent. */
    if (get_kib(params, nparams, "balloon.unused", &free_b) &&
        get_kib(params, nparams, "balloon.available", &avail) &&
        get_kib(params, nparams, "balloon.disk_caches", &caches)) {
        s->have_guest_mem = TRUE;
        s->guest_unused = free_b;
        s->guest_available = avail;
        s->guest_disk_caches = caches;
        (void)get_kib(params, nparams, "balloon.usable", &s->guest_usable);
    }
    s->have_last_update = get_ull(params, nparams, "balloon.last-update", &s->last_update_s);
    s->have_rss = get_kib(params, nparams, "balloon.rss", &s->rss_bytes);
    return s;
}

static virDomainStatsRecordPtr *get_stats(virConnectPtr conn, gboolean nowait, int *n)
{
    virDomainStatsRecordPtr *records = NULL;
    unsigned int stats =
        VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON;
    unsigned int flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE;

    if (nowait)
        flags |= VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
    *n = virConnectGetAllDomainStats(conn, stats, &records, flags);
    return records;
}

GPtrArray *hd_domstats_collect(virConnectPtr conn, gboolean *nowait_supported, GError **error)
{
    virDomainStatsRecordPtr *records;
    GPtrArray *out;
    int n;

    records = get_stats(conn, *nowait_supported, &n);
    if (n < 0 && *nowait_supported) {
        virErrorPtr e = virGetLastError();

        if (e != NULL && (e->code == VIR_ERR_INVALID_ARG || e->code == VIR_ERR_NO_SUPPORT)) {
            g_info("libvirt driver does not take NOWAIT for bulk statistics; asking without it");
            *nowait_supported = FALSE;
            records = get_stats(conn, FALSE, &n);
        }
    }
    if (n < 0) {
        hd_libvirt_set_error(error, "cannot read domain statistics");
        return NULL;
    }
    out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_domstats_free);
    for (int i = 0; i < n; i++) {
        const char *name = virDomainGetName(records[i]->dom);
        int id = (int)virDomainGetID(records[i]->dom);

        if (name != NULL)
            g_ptr_array_add(
                out, hd_domstats_from_params(name, id, records[i]->params, records[i]->nparams));
    }
    virDomainStatsRecordListFree(records);
    return out;
}
