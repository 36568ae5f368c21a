/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "hocusd/hd-state.h"

G_BEGIN_DECLS

/*
 * Blocking libvirt operations on workspaces. Each one is one or a few RPCs
 * to libvirtd, so callers run them on worker threads, never on the main loop.
 * Failures carry libvirt's message; codes: HD_ERROR_NOT_FOUND (no such
 * domain/volume), HD_ERROR_INVALID_STATE (e.g. already running),
 * HD_ERROR_HYPERVISOR (anything else).
 */

/* Route libvirt's error reports into GErrors only (no stderr printing). */
void hd_libvirt_silence_errors(void);

/* Set error from libvirt's last error of this thread, with a prefix. */
void hd_libvirt_set_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

typedef struct {
    char *name;
    char *uuid;
    HdState state;
    char *metadata_xml; /* hocusd's <workspace> element; NULL if not a workspace */
} HdDomainInfo;

void hd_domain_info_free(HdDomainInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdDomainInfo, hd_domain_info_free)

/* Every domain that carries hocusd metadata (HdDomainInfo elements). */
GPtrArray *hd_libvirt_list_workspaces(virConnectPtr conn, GError **error);

/* One domain by name; metadata_xml is NULL when it is not a workspace. */
HdDomainInfo *hd_libvirt_get_domain(virConnectPtr conn, const char *name, GError **error);

/* HD_ERROR_ALREADY_EXISTS when any domain (ours or not) has this name. */
gboolean hd_libvirt_check_name_free(virConnectPtr conn, const char *name, GError **error);

/* Find or define+build+start the directory pool that holds workspace disks. */
gboolean hd_libvirt_ensure_pool(virConnectPtr conn, const char *pool_name, const char *pool_xml,
                                GError **error);

/* Create a volume; returns its path. HD_ERROR_ALREADY_EXISTS if the name is taken. */
char *hd_libvirt_create_volume(virConnectPtr conn, const char *pool_name, const char *vol_name,
                               const char *vol_xml, GError **error);

/* Delete a volume; a volume that is already gone is not an error. */
gboolean hd_libvirt_delete_volume(virConnectPtr conn, const char *pool_name, const char *vol_name,
                                  GError **error);

gboolean hd_libvirt_define(virConnectPtr conn, const char *xml, GError **error);
gboolean hd_libvirt_start(virConnectPtr conn, const char *name, GError **error);
/* Graceful (ACPI) when force is FALSE, else power off at once. */
gboolean hd_libvirt_stop(virConnectPtr conn, const char *name, gboolean force, GError **error);
/* Undefine a shut-off domain and everything libvirt keeps for it. */
gboolean hd_libvirt_undefine(virConnectPtr conn, const char *name, GError **error);

/* The balloon target of a running domain (virsh setmem --live). */
gboolean hd_libvirt_set_balloon(virConnectPtr conn, const char *name, guint64 bytes,
                                GError **error);

/*
 * A new memory range: the domain's memory for the next boot and hocusd's
 * metadata (live too when running). A running domain cannot grow past the
 * memory it was started with (HD_ERROR_INVALID_STATE); one whose balloon is
 * above the new maximum is ballooned down to it.
 */
gboolean hd_libvirt_set_memory_range(virConnectPtr conn, const char *name, const char *metadata_xml,
                                     guint64 memory_max, GError **error);

/* Live XML of a domain (for the agent channel path). */
char *hd_libvirt_get_xml(virConnectPtr conn, const char *name, GError **error);

G_END_DECLS
