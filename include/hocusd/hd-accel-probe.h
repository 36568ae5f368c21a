/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "hocusd/hd-accel.h"

G_BEGIN_DECLS

/*
 * The I/O half of the accelerator choice (the decision is hd-accel.h):
 * /dev/kvm and QEMU's user, libvirt's domain capabilities, probe boots of a
 * transient guest, and the verdict cache in the state directory. Blocking:
 * run it on a worker thread.
 */
typedef struct {
    HdAccelMode mode;
    const char *host_root; /* "/" except in tests: /dev/kvm, qemu.conf, QEMU logs */
    const char *state_dir; /* the cache and the probe's console files */
    const char *kernel;    /* the probe guest: the workspaces' kernel and initramfs */
    const char *initrd;
    guint timeout_s;      /* per CPU choice */
    const char *emulator; /* "" or NULL: libvirt's default QEMU */
    gboolean kvm_domain;  /* FALSE only in tests: the probe runs under TCG */
    gboolean use_cache;   /* FALSE: probe again and replace the cached verdict */
} HdAccelProbeConfig;

/*
 * Decide. The verdict's reason says why; *from_cache tells whether a cached
 * probe verdict was used. FALSE only when libvirt cannot be asked at all.
 */
gboolean hd_accel_choose(virConnectPtr conn, const HdAccelProbeConfig *config,
                         HdAccelVerdict *verdict, gboolean *from_cache, GError **error);

/*
 * When the KVM device exists but QEMU's user cannot open it: a message with
 * the device's mode and owner and the exact fix. NULL when it is absent or
 * usable.
 */
char *hd_accel_device_warning(const char *host_root);

G_END_DECLS
