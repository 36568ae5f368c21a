/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-accel"

#include "hd-daemon-private.h"
#include "hocusd/hd-accel-probe.h"

/*
 * Owns the accelerator verdict: chosen once per run, after the first libvirt
 * connection (the probe needs it), off the main loop. Until then the Manager
 * publishes Virtualization "" and the reason says what is going on; creates
 * wait for the verdict (hd_accelerator_wait), everything else goes on.
 */
typedef struct {
    HdAcceleratorReady func;
    gpointer user_data;
} Waiter;

struct _HdAccelerator {
    HdDaemon *d;
    HdAccelMode mode;
    gboolean choosing;
    gboolean chosen;
    HdAccelVerdict verdict;
    GQueue waiters;
};

static void publish(HdAccelerator *a, const char *virt, const char *reason)
{
    hd_dbus_manager_set_virtualization(a->d->manager, virt);
    hd_dbus_manager_set_virtualization_reason(a->d->manager, reason);
}

static void settle(HdAccelerator *a, HdAccelVerdict *verdict, gboolean from_cache)
{
    Waiter *w;

    hd_accel_verdict_clear(&a->verdict);
    a->verdict = *verdict;
    a->chosen = TRUE;
    publish(a, a->verdict.kvm ? "kvm" : "tcg", a->verdict.reason);
    g_message("Accelerator: %s%s%s (%s)%s", a->verdict.kvm ? "KVM" : "TCG",
              a->verdict.kvm ? ", CPU " : "",
              a->verdict.kvm ? hd_cpu_choice_to_string(a->verdict.cpu) : "", a->verdict.reason,
              from_cache ? " [cached probe verdict]" : "");
    while ((w = g_queue_pop_head(&a->waiters)) != NULL) {
        w->func(&a->verdict, w->user_data);
        g_free(w);
    }
}

static HdAccelProbeConfig probe_config(const HdConfig *c, HdAccelMode mode)
{
    HdAccelProbeConfig p = {
        .mode = mode,
        .host_root = c->host_root,
        .state_dir = c->state_dir,
        .kernel = c->guest.kernel,
        .initrd = c->guest.initrd,
        .timeout_s = c->accelerator_probe.timeout_s,
        .emulator = c->accelerator_probe.emulator,
        .kvm_domain = g_strcmp0(c->accelerator_probe.domain_type, "kvm") == 0,
        .use_cache = TRUE,
    };
    return p;
}

typedef struct {
    HdAccelProbeConfig config; /* its strings are the job's own copies below */
    HdAccelVerdict verdict;
    gboolean from_cache;
    /* Copied: hocusd may exit, and free its configuration, while the probe
     * still runs on its worker thread (ASan caught that read after free). */
    char *host_root, *state_dir, *kernel, *initrd, *emulator;
} ChooseJob;

static ChooseJob *choose_job_new(const HdConfig *c, HdAccelMode mode)
{
    ChooseJob *job = g_new0(ChooseJob, 1);

    job->config = probe_config(c, mode);
    job->config.host_root = job->host_root = g_strdup(c->host_root);
    job->config.state_dir = job->state_dir = g_strdup(c->state_dir);
    job->config.kernel = job->kernel = g_strdup(c->guest.kernel);
    job->config.initrd = job->initrd = g_strdup(c->guest.initrd);
    job->config.emulator = job->emulator = g_strdup(c->accelerator_probe.emulator);
    return job;
}

static void choose_job_free(ChooseJob *job)
{
    hd_accel_verdict_clear(&job->verdict);
    g_free(job->host_root);
    g_free(job->state_dir);
    g_free(job->kernel);
    g_free(job->initrd);
    g_free(job->emulator);
    g_free(job);
}

static gpointer choose_thread(virConnectPtr conn, gpointer data, GError **error)
{
    ChooseJob *job = data;

    if (!hd_accel_choose(conn, &job->config, &job->verdict, &job->from_cache, error))
        return NULL;
    return job;
}

static void choose_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    HdAccelerator *a = user_data;
    ChooseJob *job = hd_job_data(res);
    g_autoptr(GError) error = NULL;
    HdAccelVerdict verdict;

    a->choosing = FALSE;
    if (hd_job_finish(res, &error) == NULL) {
        /* The connection dropped; the next one tries again. */
        g_warning("Cannot choose the accelerator yet: %s", error->message);
        publish(a, "", "choosing: waiting for libvirt");
        return;
    }
    verdict = job->verdict;
    job->verdict.reason = NULL;
    settle(a, &verdict, job->from_cache);
}

HdAccelerator *hd_accelerator_new(HdDaemon *d)
{
    HdAccelerator *a = g_new0(HdAccelerator, 1);
    g_autofree char *warning = hd_accel_device_warning(d->config->host_root);

    a->d = d;
    g_queue_init(&a->waiters);
    if (!hd_accel_mode_from_string(d->config->accelerator, &a->mode))
        a->mode = HD_ACCEL_MODE_AUTO; /* the config parser already refused others */
    /* Whatever the mode: libvirt itself re-probes QEMU on every call then. */
    if (warning != NULL)
        g_warning("%s: libvirt re-probes QEMU on every call (slow defines) and KVM cannot be used",
                  warning);
    if (a->mode == HD_ACCEL_MODE_TCG) {
        HdAccelFacts facts = { .mode = HD_ACCEL_MODE_TCG };
        HdAccelVerdict verdict = { 0 };
        HdCpuChoice unused;

        hd_accel_decide(&facts, &unused, &verdict);
        settle(a, &verdict, FALSE);
    } else {
        publish(a, "", "choosing: waiting for libvirt");
    }
    return a;
}

void hd_accelerator_free(HdAccelerator *a)
{
    Waiter *w;

    if (a == NULL)
        return;
    while ((w = g_queue_pop_head(&a->waiters)) != NULL) {
        w->func(NULL, w->user_data);
        g_free(w);
    }
    hd_accel_verdict_clear(&a->verdict);
    g_free(a);
}

void hd_accelerator_connected(HdAccelerator *a)
{
    ChooseJob *job;

    if (a->chosen || a->choosing)
        return;
    a->choosing = TRUE;
    publish(a, "",
            a->mode == HD_ACCEL_MODE_KVM ? "choosing: checking /dev/kvm" : "choosing: probing KVM");
    job = choose_job_new(a->d->config, a->mode);
    hd_job_run(a->d->hv, choose_thread, job, (GDestroyNotify)choose_job_free, choose_done, a);
}

void hd_accelerator_wait(HdAccelerator *a, HdAcceleratorReady func, gpointer user_data)
{
    Waiter *w;

    if (a->chosen) {
        func(&a->verdict, user_data);
        return;
    }
    w = g_new0(Waiter, 1);
    w->func = func;
    w->user_data = user_data;
    g_queue_push_tail(&a->waiters, w);
}

gboolean hd_accelerator_choose_now(const HdConfig *config, gboolean use_cache,
                                   HdAccelVerdict *verdict, gboolean *from_cache, GError **error)
{
    HdAccelMode mode = HD_ACCEL_MODE_AUTO;
    HdAccelProbeConfig p;
    virConnectPtr conn;
    gboolean ok;

    hd_libvirt_silence_errors();
    hd_accel_mode_from_string(config->accelerator, &mode);
    p = probe_config(config, mode);
    p.use_cache = use_cache;
    conn = virConnectOpen(config->libvirt_uri);
    if (conn == NULL) {
        hd_libvirt_set_error(error, "cannot connect to %s", config->libvirt_uri);
        return FALSE;
    }
    ok = hd_accel_choose(conn, &p, verdict, from_cache, error);
    virConnectClose(conn);
    return ok;
}
