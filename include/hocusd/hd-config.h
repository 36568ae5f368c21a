/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HD_CONFIG_DEFAULT_PATH "/etc/hocusd/hocusd.json"

/* Kernel module parameters of DAMON_RECLAIM, passed on the guest cmdline. */
typedef struct {
    gboolean enabled;
    guint min_age_ms;   /* damon_reclaim.min_age (the kernel takes microseconds) */
    guint quota_ms;     /* damon_reclaim.quota_ms */
    guint64 quota_size; /* damon_reclaim.quota_sz, bytes per quota_reset_interval_ms */
    guint quota_reset_interval_ms;
    guint wmarks_high;  /* free memory per thousand above which DAMON_RECLAIM idles */
    guint wmarks_mid;   /* ... at or below which it works */
    guint wmarks_low;   /* ... below which it idles again (the kernel's OOM path acts) */
    gboolean skip_anon; /* the guests have no swap: reclaim file pages only */
} HdDamonConfig;

typedef struct {
    guint vcpus;
    guint64 memory_max;
    guint64 memory_min;
    guint64 disk_size;
} HdSpecDefaults;

typedef struct {
    char *kernel;     /* guest kernel for direct boot */
    char *initrd;     /* its initramfs */
    char *cmdline;    /* base cmdline; hocusd appends the memory recipe */
    char *shared_dir; /* the only place callers other than root may name files in */
} HdGuestConfig;

typedef struct {
    double some_avg10_warning;  /* host memory PSI some avg10 (%) for LowMemoryWarning(100) */
    double some_avg10_critical; /* ... for LowMemoryWarning(255) */
} HdPressureConfig;

typedef struct {
    double idle_cpu_percent;  /* QEMU CPU below this (% of one core) counts as quiet */
    guint idle_after_s;       /* ... for this long: the workspace is idle */
    guint64 reclaim_min_jump; /* guest free memory jump that starts a latency measurement */
    guint reclaim_timeout_s;  /* a measurement still open after this is dropped */
    gboolean agent_channel;   /* read the guests' agent channels */
    guint64 agent_budget;     /* bytes read per guest channel per tick at most */
} HdMetricsConfig;

/* The memory policy (docs/memory-policy.md; hd-policy.h has the rules). */
typedef struct {
    char *mode;        /* "off", "observe" or "active" */
    char *host_cgroup; /* memory cgroup that holds the QEMU processes; "" finds it */
    double psi_some_pressure, psi_some_calm, psi_full_critical;            /* host PSI, percent */
    guint headroom_pressure_pct, headroom_calm_pct, headroom_critical_pct; /* of the budget */
    guint calm_after_s;
    guint64 step_max, tick_max, grow_step; /* bytes */
    guint64 guest_margin;                  /* bytes above the guest's used memory */
    double guest_psi_stall;                /* guest PSI some avg10, percent */
    guint inflate_stall_s, hold_s, reclaim_lead_s;
} HdPolicyConfig;

/* How the accelerator probe boots its guest (docs/accelerator.md). */
typedef struct {
    guint timeout_s;   /* per CPU choice: the guest must reach init within this */
    char *emulator;    /* QEMU binary for the probe only; "" for libvirt's default */
    char *domain_type; /* "kvm"; "qemu" lets tests run the probe path without KVM */
} HdProbeConfig;

typedef struct {
    guint interval_s; /* libvirt keepalive: a ping after this much silence */
    guint count;      /* pings without answer before the connection counts as dead */
} HdKeepaliveConfig;

typedef struct {
    char *libvirt_uri;
    HdKeepaliveConfig libvirt_keepalive;
    char *accelerator; /* "auto", "kvm" or "tcg" (hd-accel.h) */
    HdProbeConfig accelerator_probe;
    char *bus; /* "system", "session" or a D-Bus address */
    char *state_dir;
    char *image_dir;    /* target directory of the storage pool */
    char *storage_pool; /* libvirt storage pool that holds workspace disks */
    char *network;      /* libvirt network for a NIC; "" for none */
    guint sample_interval_ms;
    guint balloon_period_s;
    guint stop_timeout_s;
    guint tcg_tb_cache_mib; /* TCG translation cache per VM; 0 leaves QEMU's default */
    HdGuestConfig guest;
    HdDamonConfig damon_reclaim;
    HdSpecDefaults defaults;
    HdPressureConfig pressure;
    HdMetricsConfig metrics;
    HdPolicyConfig policy;
    char *host_root; /* where /proc, /sys and /run are read: "/" except in tests */
} HdConfig;

HdConfig *hd_config_new_default(void);
void hd_config_free(HdConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdConfig, hd_config_free)

/*
 * Parse a configuration file's text. Keys missing from the text keep their
 * defaults. Every error starts with "<source>: key '<key>': ..." and uses
 * HD_ERROR_INVALID_CONFIG; on error nothing is returned.
 */
HdConfig *hd_config_parse(const char *text, gsize len, const char *source, GError **error);

/* The defaults as a JSON document (for docs and `hocusd --dump-config`). */
char *hd_config_to_json(const HdConfig *config);

G_END_DECLS
