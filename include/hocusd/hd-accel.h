/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Choosing the accelerator workspaces run under: KVM when the host really
 * offers a working one, TCG (QEMU's software emulation) otherwise. A
 * /dev/kvm that exists is not enough: on nested cloud VMs it can be closed to
 * QEMU's user, or open but unable to run a guest (QEMU aborts on an MSR, or the
 * guest stops at once with "KVM internal error"). So `auto` boots a probe
 * guest under KVM with each CPU choice in turn and keeps the first that boots.
 *
 * Everything here is pure: the facts and probe outcomes come in, a verdict
 * with its reason goes out (docs/accelerator.md).
 */

typedef enum {
    HD_ACCEL_MODE_AUTO, /* KVM when facts and a probe boot say it works */
    HD_ACCEL_MODE_KVM,  /* KVM, no probe, no fallback: starts fail loudly */
    HD_ACCEL_MODE_TCG,  /* TCG, never probes */
} HdAccelMode;

gboolean hd_accel_mode_from_string(const char *text, HdAccelMode *mode);

/* The CPU definitions a KVM guest may get, in the order auto tries them. */
typedef enum {
    HD_CPU_HOST_PASSTHROUGH,              /* <cpu mode='host-passthrough'/> */
    HD_CPU_HOST_PASSTHROUGH_NO_ARCH_CAPS, /* ... with arch-capabilities disabled */
    HD_CPU_HOST_MODEL,                    /* <cpu mode='host-model'/> */
    HD_CPU_KVM64,                         /* <cpu mode='custom'><model>kvm64</model> */
    HD_CPU_N_CHOICES,
} HdCpuChoice;

/* "host-passthrough", "host-passthrough,-arch-capabilities", "host-model", "kvm64". */
const char *hd_cpu_choice_to_string(HdCpuChoice cpu);
gboolean hd_cpu_choice_from_string(const char *text, HdCpuChoice *cpu);

typedef enum {
    HD_PROBE_NOT_RUN,
    HD_PROBE_BOOTED,
    HD_PROBE_FAILED,
} HdProbeOutcome;

typedef struct {
    HdProbeOutcome outcome;
    const char *detail; /* FAILED: what QEMU or libvirt said (borrowed) */
} HdProbeResult;

typedef struct {
    HdAccelMode mode;
    const char *device;         /* "/dev/kvm" */
    gboolean device_present;    /* the device node exists */
    gboolean device_accessible; /* QEMU's user may open it read-write */
    const char *device_detail;  /* when not accessible: mode, owner, user (borrowed) */
    gboolean libvirt_offers_kvm;
    const char *libvirt_detail; /* when not offered: libvirt's words (borrowed) */
    HdProbeResult probes[HD_CPU_N_CHOICES];
} HdAccelFacts;

typedef struct {
    gboolean kvm;
    HdCpuChoice cpu; /* meaningful when kvm */
    char *reason;    /* "kvm: ..." or "tcg: ..." */
} HdAccelVerdict;

void hd_accel_verdict_clear(HdAccelVerdict *verdict);

typedef enum {
    HD_ACCEL_STEP_DONE,  /* *verdict is set */
    HD_ACCEL_STEP_PROBE, /* boot a probe with *probe_cpu, record it in facts, ask again */
} HdAccelStep;

/*
 * One step of the decision. Callers loop: gather facts, decide, run the probe
 * it asks for, record the outcome in facts->probes[cpu], decide again.
 */
HdAccelStep hd_accel_decide(const HdAccelFacts *facts, HdCpuChoice *probe_cpu,
                            HdAccelVerdict *verdict);

/*
 * Whether a user may open a device read-write, from the device's st_mode,
 * owner and group and the user's uid and groups (primary included).
 */
gboolean hd_accel_device_usable(guint32 st_mode, guint32 dev_uid, guint32 dev_gid, guint32 uid,
                                const guint32 *gids, gsize n_gids);

/* "crw-------" and friends, for messages. */
void hd_accel_format_mode(guint32 st_mode, char out[11]);

/*
 * The user and group QEMU runs as, from the text of libvirt's qemu.conf
 * ("user = ..." and "group = ..." lines; comments ignored). Values not set
 * in the file are left as they are, so callers preset the defaults.
 */
void hd_accel_parse_qemu_conf(const char *text, char **user, char **group);

/*
 * Why QEMU failed, from its libvirt log (/var/log/libvirt/qemu/NAME.log):
 * the error lines after the last "starting up" header, without time stamps,
 * joined with "; " and cut to a few hundred bytes. NULL when none is found.
 */
char *hd_accel_qemu_log_error(const char *log_text);

/*
 * The verdict cache: a JSON object with the key it was made under. parse
 * returns FALSE (with a reason in error) when the text is malformed or was
 * made under another key, and the caller probes again.
 */
char *hd_accel_cache_to_json(const char *key, const HdAccelVerdict *verdict, gint64 made_usec);
gboolean hd_accel_cache_parse(const char *text, gsize len, const char *key, HdAccelVerdict *verdict,
                              GError **error);

G_END_DECLS
