/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-accel"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "hd-build-config.h"
#include "hocusd/hd-accel-probe.h"
#include "hocusd/hd-domain-xml.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-libvirt-ops.h"

#define PROBE_NAME    "hocusd-accel-probe"
#define POLL_MS       100
#define MAX_GROUPS    64
#define CACHE_FILE    "accelerator.json"
#define QEMU_USER_DEF "libvirt-qemu" /* Debian's build default */

typedef struct {
    gboolean present, usable;
    struct stat st;
    char *detail; /* why QEMU's user cannot use it */
} DeviceFacts;

static char *root_path(const char *root, const char *path)
{
    return g_build_filename(root != NULL ? root : "/", path, NULL);
}

static char *group_name(gid_t gid)
{
    struct group *g = getgrgid(gid);

    return g != NULL ? g_strdup(g->gr_name) : g_strdup_printf("%u", (guint)gid);
}

static char *user_name(uid_t uid)
{
    struct passwd *p = getpwuid(uid);

    return p != NULL ? g_strdup(p->pw_name) : g_strdup_printf("%u", (guint)uid);
}

/* QEMU's uid and groups as libvirt sets them: qemu.conf's user and group,
 * plus the user's supplementary groups. FALSE when the user is unknown. */
static gboolean qemu_identity(const char *root, char **user_out, uid_t *uid, guint32 *gids,
                              gsize *n_gids)
{
    g_autofree char *conf_path = root_path(root, "etc/libvirt/qemu.conf");
    g_autofree char *text = NULL;
    g_autofree char *user = g_strdup(QEMU_USER_DEF);
    g_autofree char *group = NULL;
    gid_t list[MAX_GROUPS];
    int n = MAX_GROUPS;
    struct passwd *pw;
    gid_t gid;

    if (g_file_get_contents(conf_path, &text, NULL, NULL))
        hd_accel_parse_qemu_conf(text, &user, &group);
    *user_out = g_strdup(user);
    /* "+N" is a numeric uid in qemu.conf. */
    pw = user[0] == '+' ? getpwuid((uid_t)g_ascii_strtoull(user + 1, NULL, 10)) : getpwnam(user);
    if (pw == NULL)
        return FALSE;
    *uid = pw->pw_uid;
    gid = pw->pw_gid;
    if (group != NULL) {
        struct group *gr = group[0] == '+' ? getgrgid((gid_t)g_ascii_strtoull(group + 1, NULL, 10))
                                           : getgrnam(group);
        if (gr != NULL)
            gid = gr->gr_gid;
    }
    if (getgrouplist(pw->pw_name, gid, list, &n) < 0)
        n = MAX_GROUPS; /* truncated: the first MAX_GROUPS are enough to decide */
    *n_gids = 0;
    gids[(*n_gids)++] = gid;
    for (int i = 0; i < n && *n_gids < MAX_GROUPS; i++)
        gids[(*n_gids)++] = list[i];
    return TRUE;
}

static void device_facts(const char *root, DeviceFacts *f)
{
    g_autofree char *dev = root_path(root, "dev/kvm");
    g_autofree char *user = NULL, *owner = NULL, *group = NULL;
    guint32 gids[MAX_GROUPS + 1];
    gsize n_gids = 0;
    uid_t uid = 0;
    char mode[11];

    memset(f, 0, sizeof(*f));
    if (stat(dev, &f->st) < 0) {
        if (errno != ENOENT)
            f->detail = g_strdup_printf("cannot stat %s: %s", dev, g_strerror(errno));
        f->present = errno != ENOENT;
        return;
    }
    f->present = TRUE;
    hd_accel_format_mode(f->st.st_mode, mode);
    owner = user_name(f->st.st_uid);
    group = group_name(f->st.st_gid);
    if (!qemu_identity(root, &user, &uid, gids, &n_gids)) {
        f->detail = g_strdup_printf("QEMU's user '%s' (libvirt's qemu.conf) does not exist", user);
        return;
    }
    f->usable =
        hd_accel_device_usable(f->st.st_mode, f->st.st_uid, f->st.st_gid, uid, gids, n_gids);
    if (!f->usable)
        f->detail = g_strdup_printf("%s is %s %s:%s and QEMU runs as %s; fix: chgrp kvm %s && "
                                    "chmod 0660 %s (what Debian's udev rule does), then restart "
                                    "libvirtd",
                                    dev, mode, owner, group, user, dev, dev);
}

char *hd_accel_device_warning(const char *host_root)
{
    DeviceFacts f;

    device_facts(host_root, &f);
    if (!f.present || f.usable) {
        g_free(f.detail);
        return NULL;
    }
    return f.detail;
}

/* Everything a cached probe verdict depends on. */
static char *cache_key(virConnectPtr conn, const HdAccelProbeConfig *c, const DeviceFacts *dev)
{
    unsigned long lib = 0, hv = 0;
    struct utsname u;
    struct stat k = { 0 };

    virConnectGetLibVersion(conn, &lib);
    virConnectGetVersion(conn, &hv);
    if (uname(&u) < 0)
        memset(&u, 0, sizeof(u));
    if (stat(c->kernel, &k) < 0)
        memset(&k, 0, sizeof(k));
    return g_strdup_printf(
        "hocusd %s; libvirt %lu; qemu %lu; kernel %s %s; device %u:%u ino %lu "
        "mode %o uid %u gid %u ctime %lld; probe kernel %s size %lld mtime "
        "%lld; emulator %s; type %s",
        HD_VERSION, lib, hv, u.release, u.version, major(dev->st.st_rdev), minor(dev->st.st_rdev),
        (unsigned long)dev->st.st_ino, (guint)dev->st.st_mode, (guint)dev->st.st_uid,
        (guint)dev->st.st_gid, (long long)dev->st.st_ctime, c->kernel, (long long)k.st_size,
        (long long)k.st_mtime, c->emulator ? c->emulator : "", c->kvm_domain ? "kvm" : "qemu");
}

static char *log_path(const HdAccelProbeConfig *c)
{
    return root_path(c->host_root, "var/log/libvirt/qemu/" PROBE_NAME ".log");
}

static goffset log_size(const HdAccelProbeConfig *c)
{
    g_autofree char *path = log_path(c);
    struct stat st;

    return stat(path, &st) == 0 ? (goffset)st.st_size : 0;
}

/* QEMU's words in what this probe added to its libvirt log (the file keeps
 * every earlier probe's too). */
static char *read_log_error(const HdAccelProbeConfig *c, goffset from)
{
    g_autofree char *path = log_path(c);
    g_autofree char *text = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &text, &len, NULL))
        return NULL;
    if (from < 0 || (gsize)from > len)
        from = 0; /* rotated meanwhile */
    return hd_accel_qemu_log_error(text + from);
}

static gboolean console_has_marker(const char *path)
{
    g_autofree char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, HD_PROBE_MARKER) != NULL;
}

static const char *state_word(int state)
{
    switch (state) {
    case VIR_DOMAIN_PAUSED:
        return "paused";
    case VIR_DOMAIN_SHUTOFF:
        return "shut off";
    case VIR_DOMAIN_CRASHED:
        return "crashed";
    case VIR_DOMAIN_SHUTDOWN:
        return "shutting down";
    default:
        return "stopped";
    }
}

/* One boot with one CPU choice. The guest is transient and dies with the
 * connection (AUTODESTROY), so a crash of hocusd cannot leave it behind. */
static HdProbeOutcome probe_once(virConnectPtr conn, const HdAccelProbeConfig *c, HdCpuChoice cpu,
                                 char **detail)
{
    g_autofree char *dir = g_build_filename(c->state_dir, "accel-probe", NULL);
    g_autofree char *console = g_build_filename(dir, "console.log", NULL);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    HdProbeXmlParams p = { 0 };
    virDomainPtr dom;
    gint64 deadline;
    HdProbeOutcome outcome = HD_PROBE_FAILED;
    goffset log_from;

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        *detail = g_strdup_printf("cannot create %s: %s", dir, g_strerror(errno));
        return HD_PROBE_FAILED;
    }
    unlink(console);
    /* A probe of an earlier, killed hocusd would hold the name. */
    dom = virDomainLookupByName(conn, PROBE_NAME);
    if (dom != NULL) {
        virDomainDestroy(dom);
        virDomainFree(dom);
    }
    virResetLastError();

    p.name = PROBE_NAME;
    p.kvm = c->kvm_domain;
    p.cpu = cpu;
    p.emulator = c->emulator;
    p.kernel = c->kernel;
    p.initrd = c->initrd;
    p.serial_path = console;
    xml = hd_probe_xml_build(&p, &error);
    if (xml == NULL) {
        *detail = g_strdup(error->message);
        return HD_PROBE_FAILED;
    }
    log_from = log_size(c);
    dom = virDomainCreateXML(conn, xml, VIR_DOMAIN_START_AUTODESTROY);
    if (dom == NULL) {
        g_autofree char *log = read_log_error(c, log_from);
        const char *msg = virGetLastErrorMessage();
        *detail = log != NULL ? g_strdup(log) : g_strdup(msg);
        return HD_PROBE_FAILED;
    }
    deadline = g_get_monotonic_time() + (gint64)c->timeout_s * G_USEC_PER_SEC;
    for (;;) {
        int state = 0, reason = 0;

        if (console_has_marker(console)) {
            outcome = HD_PROBE_BOOTED;
            break;
        }
        if (virDomainGetState(dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_RUNNING) {
            g_autofree char *log = NULL;
            /* virtlogd may still be writing QEMU's last words. */
            g_usleep(300 * 1000);
            log = read_log_error(c, log_from);
            *detail = log != NULL ? g_steal_pointer(&log)
                                  : g_strdup_printf("the guest %s before its kernel ran init",
                                                    state_word(state));
            break;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_autofree char *log = read_log_error(c, log_from);
            *detail = g_strdup_printf("the guest kernel did not reach init within %u s%s%s",
                                      c->timeout_s, log ? ": " : "", log ? log : "");
            break;
        }
        g_usleep(POLL_MS * 1000);
    }
    virDomainDestroy(dom);
    virDomainFree(dom);
    virResetLastError();
    return outcome;
}

static gboolean read_cache(const char *path, const char *key, HdAccelVerdict *v)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &text, &len, NULL))
        return FALSE;
    if (!hd_accel_cache_parse(text, len, key, v, &error)) {
        g_debug("Not using %s: %s", path, error->message);
        return FALSE;
    }
    return TRUE;
}

static void write_cache(const char *dir, const char *path, const char *key, const HdAccelVerdict *v)
{
    g_autofree char *json = hd_accel_cache_to_json(key, v, g_get_real_time());
    g_autoptr(GError) error = NULL;

    if (g_mkdir_with_parents(dir, 0755) < 0 ||
        !g_file_set_contents_full(path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error))
        g_warning("Cannot cache the accelerator verdict in %s: %s", path,
                  error != NULL ? error->message : g_strerror(errno));
}

gboolean hd_accel_choose(virConnectPtr conn, const HdAccelProbeConfig *c, HdAccelVerdict *v,
                         gboolean *from_cache, GError **error)
{
    g_autofree char *cache_path = g_build_filename(c->state_dir, CACHE_FILE, NULL);
    g_autofree char *libvirt_detail = NULL, *key = NULL;
    g_autofree char *device = root_path(c->host_root, "dev/kvm");
    char *details[HD_CPU_N_CHOICES] = { NULL };
    HdAccelFacts facts = { 0 };
    DeviceFacts dev;
    HdCpuChoice cpu = 0;
    gboolean probed = FALSE;
    char *caps;

    *from_cache = FALSE;
    device_facts(c->host_root, &dev);
    facts.mode = c->mode;
    facts.device = device;
    facts.device_present = dev.present;
    facts.device_accessible = dev.usable;
    facts.device_detail = dev.detail;
    if (!c->kvm_domain) {
        /* Tests of the probe path on hosts without KVM: TCG needs no device. */
        facts.device_present = facts.device_accessible = TRUE;
    }
    if (c->mode == HD_ACCEL_MODE_AUTO && facts.device_accessible) {
        caps =
            virConnectGetDomainCapabilities(conn, c->emulator && *c->emulator ? c->emulator : NULL,
                                            "x86_64", NULL, c->kvm_domain ? "kvm" : "qemu", 0);
        if (caps == NULL) {
            virErrorPtr e = virGetLastError();
            if (e != NULL && (e->code == VIR_ERR_NO_CONNECT || e->code == VIR_ERR_RPC)) {
                hd_libvirt_set_error(error, "cannot ask libvirt for its domain capabilities");
                g_free(dev.detail);
                return FALSE;
            }
            libvirt_detail = g_strdup(e != NULL && e->message ? e->message : "no capabilities");
            virResetLastError();
        } else {
            facts.libvirt_offers_kvm = TRUE;
            free(caps);
        }
    }
    facts.libvirt_detail = libvirt_detail;

    while (hd_accel_decide(&facts, &cpu, v) == HD_ACCEL_STEP_PROBE) {
        if (!probed) {
            key = cache_key(conn, c, &dev);
            if (c->use_cache && read_cache(cache_path, key, v)) {
                *from_cache = TRUE;
                break;
            }
            probed = TRUE;
        }
        g_message("Probing KVM: booting a guest with CPU %s (at most %u s)",
                  hd_cpu_choice_to_string(cpu), c->timeout_s);
        facts.probes[cpu].outcome = probe_once(conn, c, cpu, &details[cpu]);
        facts.probes[cpu].detail = details[cpu];
        if (facts.probes[cpu].outcome == HD_PROBE_FAILED)
            g_message("KVM probe with CPU %s failed: %s", hd_cpu_choice_to_string(cpu),
                      details[cpu]);
    }
    if (probed)
        write_cache(c->state_dir, cache_path, key, v);
    for (guint i = 0; i < HD_CPU_N_CHOICES; i++)
        g_free(details[i]);
    g_free(dev.detail);
    return TRUE;
}
