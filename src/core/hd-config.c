/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-config"

#include <gio/gio.h>
#include <stddef.h>
#include <string.h>

#include "hd-build-config.h"
#include "hocusd/hd-accel.h"
#include "hocusd/hd-cmdline.h"
#include "hocusd/hd-config.h"
#include "hocusd/hd-fields.h"
#include "hocusd/hd-size.h"
#include "hocusd/hd-spec.h"

static gboolean check_bus(const char *value, GError **error)
{
    if (strcmp(value, "system") == 0 || strcmp(value, "session") == 0)
        return TRUE;
    if (g_dbus_is_supported_address(value, NULL))
        return TRUE;
    g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                "must be \"system\", \"session\" or a D-Bus address such as "
                "\"unix:path=/run/hocusd-test/bus\", got '%s'",
                value);
    return FALSE;
}

static gboolean check_uri(const char *value, GError **error)
{
    /* libvirt URIs are "driver[+transport]://[host]/path"; catch typos early. */
    if (strstr(value, "://") == NULL || value[0] == ':') {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "'%s' is not a libvirt URI (for example qemu:///system)", value);
        return FALSE;
    }
    return TRUE;
}

static gboolean check_object_name(const char *value, GError **error)
{
    /* Pool and network names appear in libvirt XML and virsh; keep them plain. */
    if (*value == '\0')
        return TRUE;
    for (const char *p = value; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.') {
            g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                        "'%s' may only contain letters, digits, '-', '_' and '.'", value);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean check_accelerator(const char *value, GError **error)
{
    HdAccelMode mode;

    if (hd_accel_mode_from_string(value, &mode))
        return TRUE;
    g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "must be \"auto\", \"kvm\" or \"tcg\", got '%s'",
                value);
    return FALSE;
}

static gboolean check_domain_type(const char *value, GError **error)
{
    if (strcmp(value, "kvm") == 0 || strcmp(value, "qemu") == 0)
        return TRUE;
    g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "must be \"kvm\" or \"qemu\", got '%s'", value);
    return FALSE;
}

static gboolean check_optional_path(const char *value, GError **error)
{
    return *value == '\0' || hd_fields_check_path(value, error);
}

static gboolean check_cmdline(const char *value, GError **error)
{
    return hd_cmdline_check_user(value, error);
}

#define CFG(field) offsetof(HdConfig, field)

static const HdField guest_fields[] = {
    { .key = "kernel", .type = HD_FIELD_PATH, .offset = offsetof(HdGuestConfig, kernel) },
    { .key = "initrd", .type = HD_FIELD_PATH, .offset = offsetof(HdGuestConfig, initrd) },
    { .key = "cmdline",
      .type = HD_FIELD_STRING,
      .offset = offsetof(HdGuestConfig, cmdline),
      .check = check_cmdline },
    { .key = "shared_dir", .type = HD_FIELD_PATH, .offset = offsetof(HdGuestConfig, shared_dir) },
    { NULL }
};

static const HdField damon_fields[] = {
    { .key = "enabled", .type = HD_FIELD_BOOL, .offset = offsetof(HdDamonConfig, enabled) },
    { .key = "min_age_ms",
      .type = HD_FIELD_UINT,
      .offset = offsetof(HdDamonConfig, min_age_ms),
      .min = 100,
      .max = 3600 * 1000 },
    { .key = "quota_ms",
      .type = HD_FIELD_UINT,
      .offset = offsetof(HdDamonConfig, quota_ms),
      .min = 0,
      .max = 60 * 1000 },
    { .key = "quota_size",
      .type = HD_FIELD_SIZE,
      .offset = offsetof(HdDamonConfig, quota_size),
      .min = 0,
      .max = 64 * HD_GiB },
    { .key = "quota_reset_interval_ms",
      .type = HD_FIELD_UINT,
      .offset = offsetof(HdDamonConfig, quota_reset_interval_ms),
      .min = 10,
      .max = 3600 * 1000 },
    { .key = "wmarks_high",
      .type = HD_FIELD_UINT,
      .offset = offsetof(HdDamonConfig, wmarks_high),
      .max = 1000 },
    { .key = "wmarks_mid",
      .type = HD_FIELD_UINT,
      .offset = offsetof(HdDamonConfig, wmarks_mid),
      .max = 1000 },
    { .key = "wmarks_low",
      .type = HD_FIELD_UINT,
      .offset = offsetof(HdDamonConfig, wmarks_low),
      .max = 1000 },
    { .key = "skip_anon", .type = HD_FIELD_BOOL, .offset = offsetof(HdDamonConfig, skip_anon) },
    { NULL }
};

static const HdField defaults_fields[] = { { .key = "vcpus",
                                             .type = HD_FIELD_UINT,
                                             .offset = offsetof(HdSpecDefaults, vcpus),
                                             .min = HD_SPEC_VCPUS_MIN,
                                             .max = HD_SPEC_VCPUS_MAX },
                                           { .key = "memory_max",
                                             .type = HD_FIELD_SIZE,
                                             .offset = offsetof(HdSpecDefaults, memory_max),
                                             .min = HD_SPEC_MEMORY_MIN_BYTES,
                                             .max = HD_SPEC_MEMORY_MAX_BYTES },
                                           { .key = "memory_min",
                                             .type = HD_FIELD_SIZE,
                                             .offset = offsetof(HdSpecDefaults, memory_min),
                                             .min = HD_SPEC_MEMORY_FLOOR_BYTES,
                                             .max = HD_SPEC_MEMORY_MAX_BYTES },
                                           { .key = "disk_size",
                                             .type = HD_FIELD_SIZE,
                                             .offset = offsetof(HdSpecDefaults, disk_size),
                                             .min = HD_SPEC_DISK_MIN_BYTES,
                                             .max = HD_SPEC_DISK_MAX_BYTES },
                                           { NULL } };

static const HdField pressure_fields[] = {
    { .key = "some_avg10_warning",
      .type = HD_FIELD_DOUBLE,
      .offset = offsetof(HdPressureConfig, some_avg10_warning),
      .dmin = 0.0,
      .dmax = 100.0 },
    { .key = "some_avg10_critical",
      .type = HD_FIELD_DOUBLE,
      .offset = offsetof(HdPressureConfig, some_avg10_critical),
      .dmin = 0.0,
      .dmax = 100.0 },
    { NULL }
};

static gboolean check_policy_mode(const char *value, GError **error)
{
    if (strcmp(value, "off") == 0 || strcmp(value, "observe") == 0 || strcmp(value, "active") == 0)
        return TRUE;
    g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                "must be \"off\", \"observe\" or \"active\", got '%s'", value);
    return FALSE;
}

static gboolean check_cgroup(const char *value, GError **error)
{
    return *value == '\0' || hd_fields_check_path(value, error);
}

#define POLICY(f) offsetof(HdPolicyConfig, f)
static const HdField policy_fields[] = {
    { .key = "mode", .type = HD_FIELD_STRING, .offset = POLICY(mode), .check = check_policy_mode },
    { .key = "host_cgroup",
      .type = HD_FIELD_STRING,
      .offset = POLICY(host_cgroup),
      .check = check_cgroup },
    { .key = "psi_some_pressure",
      .type = HD_FIELD_DOUBLE,
      .offset = POLICY(psi_some_pressure),
      .dmin = 0.01,
      .dmax = 100.0 },
    { .key = "psi_some_calm",
      .type = HD_FIELD_DOUBLE,
      .offset = POLICY(psi_some_calm),
      .dmin = 0.0,
      .dmax = 100.0 },
    { .key = "psi_full_critical",
      .type = HD_FIELD_DOUBLE,
      .offset = POLICY(psi_full_critical),
      .dmin = 0.01,
      .dmax = 100.0 },
    { .key = "headroom_pressure_pct",
      .type = HD_FIELD_UINT,
      .offset = POLICY(headroom_pressure_pct),
      .min = 0,
      .max = 90 },
    { .key = "headroom_calm_pct",
      .type = HD_FIELD_UINT,
      .offset = POLICY(headroom_calm_pct),
      .min = 0,
      .max = 90 },
    { .key = "headroom_critical_pct",
      .type = HD_FIELD_UINT,
      .offset = POLICY(headroom_critical_pct),
      .min = 0,
      .max = 90 },
    { .key = "calm_after_s",
      .type = HD_FIELD_UINT,
      .offset = POLICY(calm_after_s),
      .min = 0,
      .max = 86400 },
    { .key = "step_max",
      .type = HD_FIELD_SIZE,
      .offset = POLICY(step_max),
      .min = 16 * HD_MiB,
      .max = 64 * HD_GiB },
    { .key = "tick_max",
      .type = HD_FIELD_SIZE,
      .offset = POLICY(tick_max),
      .min = 16 * HD_MiB,
      .max = 1024 * HD_GiB },
    { .key = "grow_step",
      .type = HD_FIELD_SIZE,
      .offset = POLICY(grow_step),
      .min = 16 * HD_MiB,
      .max = 64 * HD_GiB },
    { .key = "guest_margin",
      .type = HD_FIELD_SIZE,
      .offset = POLICY(guest_margin),
      .min = 0,
      .max = 64 * HD_GiB },
    { .key = "guest_psi_stall",
      .type = HD_FIELD_DOUBLE,
      .offset = POLICY(guest_psi_stall),
      .dmin = 0.01,
      .dmax = 100.0 },
    { .key = "inflate_stall_s",
      .type = HD_FIELD_UINT,
      .offset = POLICY(inflate_stall_s),
      .min = 1,
      .max = 3600 },
    { .key = "hold_s", .type = HD_FIELD_UINT, .offset = POLICY(hold_s), .min = 0, .max = 86400 },
    { .key = "reclaim_lead_s",
      .type = HD_FIELD_UINT,
      .offset = POLICY(reclaim_lead_s),
      .min = 0,
      .max = 600 },
    { NULL }
};

static const HdField metrics_fields[] = { { .key = "idle_cpu_percent",
                                            .type = HD_FIELD_DOUBLE,
                                            .offset = offsetof(HdMetricsConfig, idle_cpu_percent),
                                            .dmin = 0.0,
                                            .dmax = 100.0 },
                                          { .key = "idle_after_s",
                                            .type = HD_FIELD_UINT,
                                            .offset = offsetof(HdMetricsConfig, idle_after_s),
                                            .min = 1,
                                            .max = 86400 },
                                          { .key = "reclaim_min_jump",
                                            .type = HD_FIELD_SIZE,
                                            .offset = offsetof(HdMetricsConfig, reclaim_min_jump),
                                            .min = HD_MiB,
                                            .max = 1024 * HD_GiB },
                                          { .key = "reclaim_timeout_s",
                                            .type = HD_FIELD_UINT,
                                            .offset = offsetof(HdMetricsConfig, reclaim_timeout_s),
                                            .min = 1,
                                            .max = 3600 },
                                          { .key = "agent_channel",
                                            .type = HD_FIELD_BOOL,
                                            .offset = offsetof(HdMetricsConfig, agent_channel) },
                                          { .key = "agent_budget",
                                            .type = HD_FIELD_SIZE,
                                            .offset = offsetof(HdMetricsConfig, agent_budget),
                                            .min = 4096,
                                            .max = 16 * HD_MiB },
                                          { NULL } };

static const HdField keepalive_fields[] = { { .key = "interval_s",
                                              .type = HD_FIELD_UINT,
                                              .offset = offsetof(HdKeepaliveConfig, interval_s),
                                              .min = 1,
                                              .max = 600 },
                                            { .key = "count",
                                              .type = HD_FIELD_UINT,
                                              .offset = offsetof(HdKeepaliveConfig, count),
                                              .min = 1,
                                              .max = 100 },
                                            { NULL } };

static const HdField probe_fields[] = { { .key = "timeout_s",
                                          .type = HD_FIELD_UINT,
                                          .offset = offsetof(HdProbeConfig, timeout_s),
                                          .min = 1,
                                          .max = 600 },
                                        { .key = "emulator",
                                          .type = HD_FIELD_STRING,
                                          .offset = offsetof(HdProbeConfig, emulator),
                                          .check = check_optional_path },
                                        { .key = "domain_type",
                                          .type = HD_FIELD_STRING,
                                          .offset = offsetof(HdProbeConfig, domain_type),
                                          .check = check_domain_type },
                                        { NULL } };

static const HdField config_fields[] = {
    { .key = "libvirt_uri",
      .type = HD_FIELD_STRING,
      .offset = CFG(libvirt_uri),
      .max_len = 1024,
      .check = check_uri },
    { .key = "libvirt_keepalive",
      .type = HD_FIELD_OBJECT,
      .offset = CFG(libvirt_keepalive),
      .children = keepalive_fields },
    { .key = "accelerator",
      .type = HD_FIELD_STRING,
      .offset = CFG(accelerator),
      .check = check_accelerator },
    { .key = "accelerator_probe",
      .type = HD_FIELD_OBJECT,
      .offset = CFG(accelerator_probe),
      .children = probe_fields },
    { .key = "bus", .type = HD_FIELD_STRING, .offset = CFG(bus), .check = check_bus },
    { .key = "state_dir", .type = HD_FIELD_PATH, .offset = CFG(state_dir) },
    { .key = "image_dir", .type = HD_FIELD_PATH, .offset = CFG(image_dir) },
    { .key = "storage_pool",
      .type = HD_FIELD_STRING,
      .offset = CFG(storage_pool),
      .max_len = 64,
      .check = check_object_name },
    { .key = "network",
      .type = HD_FIELD_STRING,
      .offset = CFG(network),
      .max_len = 64,
      .check = check_object_name },
    { .key = "sample_interval_ms",
      .type = HD_FIELD_UINT,
      .offset = CFG(sample_interval_ms),
      .min = 100,
      .max = 60 * 1000 },
    { .key = "balloon_period_s",
      .type = HD_FIELD_UINT,
      .offset = CFG(balloon_period_s),
      .min = 1,
      .max = 3600 },
    { .key = "stop_timeout_s",
      .type = HD_FIELD_UINT,
      .offset = CFG(stop_timeout_s),
      .min = 1,
      .max = 3600 },
    { .key = "tcg_tb_cache_mib",
      .type = HD_FIELD_UINT,
      .offset = CFG(tcg_tb_cache_mib),
      .min = 0,
      .max = 4096 },
    { .key = "guest", .type = HD_FIELD_OBJECT, .offset = CFG(guest), .children = guest_fields },
    { .key = "damon_reclaim",
      .type = HD_FIELD_OBJECT,
      .offset = CFG(damon_reclaim),
      .children = damon_fields },
    { .key = "defaults",
      .type = HD_FIELD_OBJECT,
      .offset = CFG(defaults),
      .children = defaults_fields },
    { .key = "pressure",
      .type = HD_FIELD_OBJECT,
      .offset = CFG(pressure),
      .children = pressure_fields },
    { .key = "metrics",
      .type = HD_FIELD_OBJECT,
      .offset = CFG(metrics),
      .children = metrics_fields },
    { .key = "policy", .type = HD_FIELD_OBJECT, .offset = CFG(policy), .children = policy_fields },
    { .key = "host_root", .type = HD_FIELD_PATH, .offset = CFG(host_root) },
    { NULL }
};

HdConfig *hd_config_new_default(void)
{
    HdConfig *c = g_new0(HdConfig, 1);

    c->libvirt_uri = g_strdup("qemu:///system");
    /* Dead after 5 s x (3 + 1) of silence; libvirtd answers pings from its
     * event loop, so a slow operation does not count as silence. */
    c->libvirt_keepalive.interval_s = 5;
    c->libvirt_keepalive.count = 3;
    c->accelerator = g_strdup("auto");
    /* A working KVM gets the guest kernel to init in 1-3 s; TCG in about 4. */
    c->accelerator_probe.timeout_s = 20;
    c->accelerator_probe.emulator = g_strdup("");
    c->accelerator_probe.domain_type = g_strdup("kvm");
    c->bus = g_strdup("system");
    c->state_dir = g_strdup("/var/lib/hocusd");
    c->image_dir = g_strdup("/var/lib/hocusd/images");
    c->storage_pool = g_strdup("hocusd");
    c->network = g_strdup("");
    c->sample_interval_ms = 1000;
    c->balloon_period_s = 1;
    c->stop_timeout_s = 60;
    /* QEMU's default (1 GiB on 64-bit hosts) fills with translated code and
     * stays resident: ~300 MiB of a 550 MiB idle Debian guest (docs/memory-recipe.md). */
    c->tcg_tb_cache_mib = 64;
    c->guest.kernel = g_strdup(HD_GUEST_IMAGE_DIR "/vmlinuz");
    c->guest.initrd = g_strdup(HD_GUEST_IMAGE_DIR "/initrd.img");
    c->guest.cmdline = g_strdup("console=ttyS0 panic=-1");
    c->guest.shared_dir = g_strdup(HD_GUEST_IMAGE_DIR);
    /* DAMON_RECLAIM is off by default: in the 6.12 guest kernel it monitors but
     * never reclaims, and its kdamond costs an idle TCG guest about 10 % of a
     * host core (docs/damon-reclaim.md). hocus-agent reclaims instead. */
    c->damon_reclaim.enabled = FALSE;
    c->damon_reclaim.min_age_ms = 5000;
    c->damon_reclaim.quota_ms = 100;
    c->damon_reclaim.quota_size = 256 * HD_MiB;
    c->damon_reclaim.quota_reset_interval_ms = 1000;
    c->damon_reclaim.wmarks_high = 1000;
    c->damon_reclaim.wmarks_mid = 999;
    c->damon_reclaim.wmarks_low = 0;
    c->damon_reclaim.skip_anon = TRUE;
    c->defaults.vcpus = 2;
    c->defaults.memory_max = 4 * HD_GiB;
    c->defaults.memory_min = 512 * HD_MiB;
    c->defaults.disk_size = 20 * HD_GiB;
    c->pressure.some_avg10_warning = 10.0;
    c->pressure.some_avg10_critical = 40.0;
    /* An idle TCG guest costs about 1 % of a core, a KVM guest less. */
    c->metrics.idle_cpu_percent = 5.0;
    c->metrics.idle_after_s = 60;
    c->metrics.reclaim_min_jump = 64 * HD_MiB;
    c->metrics.reclaim_timeout_s = 120;
    c->metrics.agent_channel = TRUE;
    /* A telemetry line is ~1.5 KiB per second; 64 KiB is 16 maximal lines. */
    c->metrics.agent_budget = 64 * 1024;
    /* docs/memory-policy.md says why these numbers. Operators see the
     * decisions (observe) before they let hocusd act on them (active). */
    c->policy.mode = g_strdup("observe");
    c->policy.host_cgroup = g_strdup("");
    c->policy.psi_some_pressure = 10.0;
    c->policy.psi_some_calm = 1.0;
    c->policy.psi_full_critical = 10.0;
    c->policy.headroom_pressure_pct = 10;
    c->policy.headroom_calm_pct = 20;
    c->policy.headroom_critical_pct = 5;
    c->policy.calm_after_s = 30;
    c->policy.step_max = 128 * HD_MiB;
    c->policy.tick_max = 512 * HD_MiB;
    c->policy.grow_step = 64 * HD_MiB;
    c->policy.guest_margin = 64 * HD_MiB;
    c->policy.guest_psi_stall = 5.0;
    c->policy.inflate_stall_s = 5;
    c->policy.hold_s = 60;
    c->policy.reclaim_lead_s = 3;
    c->host_root = g_strdup("/");
    return c;
}

void hd_config_free(HdConfig *config)
{
    if (config == NULL)
        return;
    hd_fields_clear(config_fields, config);
    g_free(config);
}

/* Rules that tie keys together; single-key bounds live in the tables. */
static gboolean config_check(const HdConfig *c, GError **error)
{
    const HdDamonConfig *d = &c->damon_reclaim;

    if (!(d->wmarks_high >= d->wmarks_mid && d->wmarks_mid >= d->wmarks_low)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_CONFIG,
                    "key 'damon_reclaim.wmarks_high': watermarks must satisfy high >= mid >= "
                    "low, got %u/%u/%u",
                    d->wmarks_high, d->wmarks_mid, d->wmarks_low);
        return FALSE;
    }
    if (c->defaults.memory_min > c->defaults.memory_max) {
        g_autofree char *lo = hd_size_format(c->defaults.memory_min);
        g_autofree char *hi = hd_size_format(c->defaults.memory_max);
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_CONFIG,
                    "key 'defaults.memory_min': %s is above defaults.memory_max (%s)", lo, hi);
        return FALSE;
    }
    if (c->pressure.some_avg10_warning > c->pressure.some_avg10_critical) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_CONFIG,
                    "key 'pressure.some_avg10_warning': %g is above "
                    "pressure.some_avg10_critical (%g)",
                    c->pressure.some_avg10_warning, c->pressure.some_avg10_critical);
        return FALSE;
    }
    if (c->policy.psi_some_calm >= c->policy.psi_some_pressure) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_CONFIG,
                    "key 'policy.psi_some_calm': %g is not below policy.psi_some_pressure (%g)",
                    c->policy.psi_some_calm, c->policy.psi_some_pressure);
        return FALSE;
    }
    if (!(c->policy.headroom_critical_pct <= c->policy.headroom_pressure_pct &&
          c->policy.headroom_pressure_pct <= c->policy.headroom_calm_pct)) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_CONFIG,
                    "key 'policy.headroom_pressure_pct': headrooms must satisfy critical <= "
                    "pressure <= calm, got %u/%u/%u",
                    c->policy.headroom_critical_pct, c->policy.headroom_pressure_pct,
                    c->policy.headroom_calm_pct);
        return FALSE;
    }
    if (c->policy.step_max > c->policy.tick_max) {
        g_autofree char *step = hd_size_format(c->policy.step_max);
        g_autofree char *tick = hd_size_format(c->policy.tick_max);
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_CONFIG,
                    "key 'policy.step_max': %s is above policy.tick_max (%s)", step, tick);
        return FALSE;
    }
    return TRUE;
}

HdConfig *hd_config_parse(const char *text, gsize len, const char *source, GError **error)
{
    g_autoptr(HdConfig) config = hd_config_new_default();
    json_object *root;
    gboolean ok;

    root = hd_json_parse_object(text, len, error);
    if (root == NULL) {
        if (error != NULL && *error != NULL)
            (*error)->code = HD_ERROR_INVALID_CONFIG;
        g_prefix_error(error, "%s: ", source);
        return NULL;
    }
    ok = hd_fields_from_json(config_fields, root, config, NULL, HD_ERROR_INVALID_CONFIG, error) &&
         config_check(config, error);
    json_object_put(root);
    if (!ok) {
        g_prefix_error(error, "%s: ", source);
        return NULL;
    }
    return g_steal_pointer(&config);
}

char *hd_config_to_json(const HdConfig *c)
{
    json_object *root = json_object_new_object();
    json_object *guest = json_object_new_object();
    json_object *damon = json_object_new_object();
    json_object *defaults = json_object_new_object();
    json_object *pressure = json_object_new_object();
    json_object *metrics = json_object_new_object();
    json_object *keepalive = json_object_new_object();
    json_object *probe = json_object_new_object();
    char *out;

    json_object_object_add(root, "libvirt_uri", json_object_new_string(c->libvirt_uri));
    json_object_object_add(keepalive, "interval_s",
                           json_object_new_int64(c->libvirt_keepalive.interval_s));
    json_object_object_add(keepalive, "count", json_object_new_int64(c->libvirt_keepalive.count));
    json_object_object_add(root, "libvirt_keepalive", keepalive);
    json_object_object_add(root, "accelerator", json_object_new_string(c->accelerator));
    json_object_object_add(probe, "timeout_s",
                           json_object_new_int64(c->accelerator_probe.timeout_s));
    json_object_object_add(probe, "emulator",
                           json_object_new_string(c->accelerator_probe.emulator));
    json_object_object_add(probe, "domain_type",
                           json_object_new_string(c->accelerator_probe.domain_type));
    json_object_object_add(root, "accelerator_probe", probe);
    json_object_object_add(root, "bus", json_object_new_string(c->bus));
    json_object_object_add(root, "state_dir", json_object_new_string(c->state_dir));
    json_object_object_add(root, "image_dir", json_object_new_string(c->image_dir));
    json_object_object_add(root, "storage_pool", json_object_new_string(c->storage_pool));
    json_object_object_add(root, "network", json_object_new_string(c->network));
    json_object_object_add(root, "sample_interval_ms",
                           json_object_new_int64(c->sample_interval_ms));
    json_object_object_add(root, "balloon_period_s", json_object_new_int64(c->balloon_period_s));
    json_object_object_add(root, "stop_timeout_s", json_object_new_int64(c->stop_timeout_s));
    json_object_object_add(root, "tcg_tb_cache_mib", json_object_new_int64(c->tcg_tb_cache_mib));

    json_object_object_add(guest, "kernel", json_object_new_string(c->guest.kernel));
    json_object_object_add(guest, "initrd", json_object_new_string(c->guest.initrd));
    json_object_object_add(guest, "cmdline", json_object_new_string(c->guest.cmdline));
    json_object_object_add(guest, "shared_dir", json_object_new_string(c->guest.shared_dir));
    json_object_object_add(root, "guest", guest);

    json_object_object_add(damon, "enabled", json_object_new_boolean(c->damon_reclaim.enabled));
    json_object_object_add(damon, "min_age_ms", json_object_new_int64(c->damon_reclaim.min_age_ms));
    json_object_object_add(damon, "quota_ms", json_object_new_int64(c->damon_reclaim.quota_ms));
    json_object_object_add(damon, "quota_size",
                           json_object_new_uint64(c->damon_reclaim.quota_size));
    json_object_object_add(damon, "quota_reset_interval_ms",
                           json_object_new_int64(c->damon_reclaim.quota_reset_interval_ms));
    json_object_object_add(damon, "wmarks_high",
                           json_object_new_int64(c->damon_reclaim.wmarks_high));
    json_object_object_add(damon, "wmarks_mid", json_object_new_int64(c->damon_reclaim.wmarks_mid));
    json_object_object_add(damon, "wmarks_low", json_object_new_int64(c->damon_reclaim.wmarks_low));
    json_object_object_add(damon, "skip_anon", json_object_new_boolean(c->damon_reclaim.skip_anon));
    json_object_object_add(root, "damon_reclaim", damon);

    json_object_object_add(defaults, "vcpus", json_object_new_int64(c->defaults.vcpus));
    json_object_object_add(defaults, "memory_max", json_object_new_uint64(c->defaults.memory_max));
    json_object_object_add(defaults, "memory_min", json_object_new_uint64(c->defaults.memory_min));
    json_object_object_add(defaults, "disk_size", json_object_new_uint64(c->defaults.disk_size));
    json_object_object_add(root, "defaults", defaults);

    json_object_object_add(pressure, "some_avg10_warning",
                           json_object_new_double(c->pressure.some_avg10_warning));
    json_object_object_add(pressure, "some_avg10_critical",
                           json_object_new_double(c->pressure.some_avg10_critical));
    json_object_object_add(root, "pressure", pressure);

    json_object_object_add(metrics, "idle_cpu_percent",
                           json_object_new_double(c->metrics.idle_cpu_percent));
    json_object_object_add(metrics, "idle_after_s", json_object_new_int64(c->metrics.idle_after_s));
    json_object_object_add(metrics, "reclaim_min_jump",
                           json_object_new_int64((gint64)c->metrics.reclaim_min_jump));
    json_object_object_add(metrics, "reclaim_timeout_s",
                           json_object_new_int64(c->metrics.reclaim_timeout_s));
    json_object_object_add(metrics, "agent_channel",
                           json_object_new_boolean(c->metrics.agent_channel));
    json_object_object_add(metrics, "agent_budget",
                           json_object_new_int64((gint64)c->metrics.agent_budget));
    json_object_object_add(root, "metrics", metrics);
    {
        json_object *policy = json_object_new_object();
        const HdPolicyConfig *pc = &c->policy;

        json_object_object_add(policy, "mode", json_object_new_string(pc->mode));
        json_object_object_add(policy, "host_cgroup", json_object_new_string(pc->host_cgroup));
        json_object_object_add(policy, "psi_some_pressure",
                               json_object_new_double(pc->psi_some_pressure));
        json_object_object_add(policy, "psi_some_calm", json_object_new_double(pc->psi_some_calm));
        json_object_object_add(policy, "psi_full_critical",
                               json_object_new_double(pc->psi_full_critical));
        json_object_object_add(policy, "headroom_pressure_pct",
                               json_object_new_int64(pc->headroom_pressure_pct));
        json_object_object_add(policy, "headroom_calm_pct",
                               json_object_new_int64(pc->headroom_calm_pct));
        json_object_object_add(policy, "headroom_critical_pct",
                               json_object_new_int64(pc->headroom_critical_pct));
        json_object_object_add(policy, "calm_after_s", json_object_new_int64(pc->calm_after_s));
        json_object_object_add(policy, "step_max", json_object_new_uint64(pc->step_max));
        json_object_object_add(policy, "tick_max", json_object_new_uint64(pc->tick_max));
        json_object_object_add(policy, "grow_step", json_object_new_uint64(pc->grow_step));
        json_object_object_add(policy, "guest_margin", json_object_new_uint64(pc->guest_margin));
        json_object_object_add(policy, "guest_psi_stall",
                               json_object_new_double(pc->guest_psi_stall));
        json_object_object_add(policy, "inflate_stall_s",
                               json_object_new_int64(pc->inflate_stall_s));
        json_object_object_add(policy, "hold_s", json_object_new_int64(pc->hold_s));
        json_object_object_add(policy, "reclaim_lead_s", json_object_new_int64(pc->reclaim_lead_s));
        json_object_object_add(root, "policy", policy);
    }
    json_object_object_add(root, "host_root", json_object_new_string(c->host_root));

    out = g_strdup(json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return out;
}
