/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "hocusd/hd-accel.h"
#include "hocusd/hd-spec.h"

G_BEGIN_DECLS

/* Everything the domain definition depends on; no I/O happens while building. */
typedef struct {
    const HdSpec *spec;       /* resolved (hd_spec_resolve) */
    gboolean kvm;             /* type kvm with cpu below; else qemu (TCG) */
    HdCpuChoice cpu;          /* the CPU definition the accelerator choice settled on */
    const char *disk_path;    /* the workspace's qcow2 volume */
    const char *cmdline;      /* full kernel cmdline (hd_cmdline_build) */
    guint balloon_period_s;   /* balloon statistics period */
    guint tcg_tb_cache_mib;   /* without kvm: TCG translation cache size; 0 for QEMU's default */
    const char *network;      /* libvirt network for a NIC, NULL or "" for none */
    const char *metadata_xml; /* hd_metadata_to_xml() */
} HdDomainXmlParams;

/* The persistent domain definition of a workspace. */
char *hd_domain_xml_build(const HdDomainXmlParams *params, GError **error);

/* The guest hocusd boots to see whether KVM works (hd-accel.h). */
typedef struct {
    const char *name;     /* transient domain name */
    gboolean kvm;         /* domain type kvm (else qemu: tests of the probe itself) */
    HdCpuChoice cpu;      /* as hd_domain_xml_build() would set it */
    const char *emulator; /* QEMU binary; NULL for libvirt's default */
    const char *kernel;   /* the workspaces' kernel and initramfs */
    const char *initrd;
    const char *serial_path; /* the guest's console is written here */
} HdProbeXmlParams;

char *hd_probe_xml_build(const HdProbeXmlParams *params, GError **error);

/* The kernel line the probe prints once the kernel is up and runs init. */
#define HD_PROBE_MARKER " as init process"

/* A qcow2 volume, as an overlay on backing_path when that is not NULL. */
char *hd_volume_xml_build(const char *name, guint64 capacity, const char *backing_path,
                          const char *backing_format);

/* A directory storage pool at target_path. */
char *hd_pool_xml_build(const char *name, const char *target_path);

/*
 * From a live domain XML: the host path of the unix socket behind the
 * virtio-serial channel called target_name. NULL when absent.
 */
char *hd_domain_xml_channel_path(const char *domain_xml, const char *target_name);

G_END_DECLS
