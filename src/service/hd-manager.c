/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include "hd-build-config.h"
#include "hd-daemon-private.h"
#include "hocusd/hd-cmdline.h"
#include "hocusd/hd-domain-xml.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-host.h"
#include "hocusd/hd-names.h"
#include "hocusd/hd-size.h"

/* dev.hocus.Hocusd1.Manager at /dev/hocus/Hocusd1. */

typedef struct {
    HdDaemon *d;
    GDBusMethodInvocation *invocation;
    HdMetadata *md; /* resolved spec, pool and volume */
    gboolean kvm;
    HdCpuChoice cpu;
    gboolean restricted; /* the caller is not root: its paths must be in shared_dir */
    guint64 caller_keys; /* HdSpecField bits the caller gave (not defaults) */
    char *shared_dir;
    char *image_dir;
    char *base_cmdline;
    HdDamonConfig damon;
    guint balloon_period_s;
    guint tcg_tb_cache_mib;
    char *network;
} CreateJob;

static void create_job_free(CreateJob *job)
{
    g_clear_object(&job->invocation);
    hd_metadata_free(job->md);
    g_free(job->image_dir);
    g_free(job->shared_dir);
    g_free(job->base_cmdline);
    g_free(job->network);
    g_free(job);
}

/* A caller other than root reaches only files anybody may read in shared_dir:
 * swap each path it gave for its real path there, or refuse. The defaults
 * come from root's configuration and are not checked. */
static gboolean confine_caller_paths(CreateJob *job, GError **error)
{
    HdSpec *s = job->md->spec;
    struct {
        HdSpecField bit;
        const char *key;
        char **path;
    } keys[] = {
        { HD_SPEC_KERNEL, "kernel", &s->kernel },
        { HD_SPEC_INITRD, "initrd", &s->initrd },
        { HD_SPEC_BASE_IMAGE, "base_image", &s->base_image },
    };

    if (!job->restricted)
        return TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        char *real = NULL;

        if (!(job->caller_keys & keys[i].bit) || *keys[i].path == NULL)
            continue;
        if (!hd_host_check_caller_file(keys[i].key, *keys[i].path, job->shared_dir, &real, error))
            return FALSE;
        g_free(*keys[i].path);
        *keys[i].path = real;
    }
    return TRUE;
}

/*
 * Worker thread. Either everything exists afterwards (volume and domain) or
 * nothing does: a failure after the volume was made deletes it again.
 */
static gpointer create_thread(virConnectPtr conn, gpointer data, GError **error)
{
    CreateJob *job = data;
    const HdSpec *s = job->md->spec;
    g_autofree char *base_format = NULL;
    g_autofree char *pool_xml = NULL, *vol_xml = NULL, *disk = NULL;
    g_autofree char *cmdline = NULL, *md_xml = NULL, *dom_xml = NULL;
    HdDomainXmlParams p = { 0 };

    if (!confine_caller_paths(job, error))
        return NULL;
    if (!hd_host_check_file("kernel", s->kernel, error) ||
        !hd_host_check_file("initrd", s->initrd, error))
        return NULL;
    if (s->base_image != NULL) {
        guint64 base_size = 0;

        if (!hd_host_check_file("base_image", s->base_image, error) ||
            !hd_host_image_info(s->base_image, &base_format, &base_size, error))
            return NULL;
        /* A smaller overlay would cut the base's filesystem off. */
        if (base_size > s->disk_size) {
            g_autofree char *want = hd_size_format(s->disk_size);
            g_autofree char *have = hd_size_format(base_size);
            g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                        "key 'disk_size': %s is smaller than the base image %s (%s)", want,
                        s->base_image, have);
            return NULL;
        }
    }
    if (!hd_libvirt_check_name_free(conn, s->name, error))
        return NULL;

    pool_xml = hd_pool_xml_build(job->md->storage_pool, job->image_dir);
    if (!hd_libvirt_ensure_pool(conn, job->md->storage_pool, pool_xml, error))
        return NULL;
    vol_xml = hd_volume_xml_build(job->md->volume, s->disk_size, s->base_image, base_format);
    disk = hd_libvirt_create_volume(conn, job->md->storage_pool, job->md->volume, vol_xml, error);
    if (disk == NULL)
        return NULL;

    cmdline = hd_cmdline_build(job->base_cmdline, s->cmdline_extra, &job->damon);
    md_xml = hd_metadata_to_xml(job->md);
    p.spec = s;
    p.kvm = job->kvm;
    p.cpu = job->cpu;
    p.disk_path = disk;
    p.cmdline = cmdline;
    p.balloon_period_s = job->balloon_period_s;
    p.tcg_tb_cache_mib = job->tcg_tb_cache_mib;
    p.network = job->network;
    p.metadata_xml = md_xml;
    dom_xml = hd_domain_xml_build(&p, error);
    if (dom_xml == NULL || !hd_libvirt_define(conn, dom_xml, error)) {
        g_autoptr(GError) cleanup_error = NULL;
        if (!hd_libvirt_delete_volume(conn, job->md->storage_pool, job->md->volume, &cleanup_error))
            g_warning("Cannot remove volume %s after a failed create: %s", job->md->volume,
                      cleanup_error->message);
        return NULL;
    }
    {
        /* Defined: the workspace exists whatever happens next. If reading it
         * back fails, build the answer from what was defined (its UUID comes
         * with the refresh create_done asks for). */
        g_autoptr(GError) read_error = NULL;
        HdDomainInfo *info = hd_libvirt_get_domain(conn, s->name, &read_error);

        if (info == NULL) {
            g_warning("Workspace %s was defined but cannot be read back yet: %s", s->name,
                      read_error->message);
            info = g_new0(HdDomainInfo, 1);
            info->name = g_strdup(s->name);
            info->state = HD_STATE_SHUTOFF;
            info->metadata_xml = g_steal_pointer(&md_xml);
        }
        return info;
    }
}

static void create_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    CreateJob *job = hd_job_data(res);
    HdDaemon *d = job->d;
    const char *name = job->md->spec->name;
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDomainInfo) info = hd_job_finish(res, &error);
    HdWorkspace *ws;

    if (info == NULL) {
        hd_inventory_release(d->inventory, name);
        g_warning("Cannot create workspace %s: %s", name, error->message);
        g_dbus_method_invocation_return_gerror(g_steal_pointer(&job->invocation), error);
        return;
    }
    ws = hd_inventory_add_created(d->inventory, info);
    if (ws == NULL) {
        g_dbus_method_invocation_return_error(
            g_steal_pointer(&job->invocation), HD_ERROR, HD_ERROR_FAILED,
            "workspace %s was defined but cannot be read back", name);
        return;
    }
    g_message("Workspace %s: created (%u vCPU, %" G_GUINT64_FORMAT " MiB, disk %s)", name,
              job->md->spec->vcpus, job->md->spec->memory_max / (1024 * 1024), job->md->volume);
    g_dbus_method_invocation_return_value(g_steal_pointer(&job->invocation),
                                          g_variant_new("(o)", hd_workspace_get_path(ws)));
}

/* The domain type and CPU come from the accelerator verdict, which may still
 * be on its way on first start (a KVM probe takes seconds). */
static void create_when_chosen(const HdAccelVerdict *verdict, gpointer user_data)
{
    CreateJob *job = user_data;

    if (verdict == NULL) {
        hd_inventory_release(job->d->inventory, job->md->spec->name);
        g_dbus_method_invocation_return_error(
            g_steal_pointer(&job->invocation), HD_ERROR, HD_ERROR_UNAVAILABLE,
            "hocusd is stopping; workspace %s was not created", job->md->spec->name);
        create_job_free(job);
        return;
    }
    job->kvm = verdict->kvm;
    job->cpu = verdict->cpu;
    hd_job_run(job->d->hv, create_thread, job, (GDestroyNotify)create_job_free, create_done, NULL);
}

/* Who is asking decides which files a spec may name (docs/dbus-api.md). */
static void caller_known(GObject *source, GAsyncResult *res, gpointer user_data)
{
    CreateJob *job = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
    guint32 uid = G_MAXUINT32;

    if (reply != NULL)
        g_variant_get(reply, "(u)", &uid);
    else
        g_warning("Cannot tell who asked to create %s (%s); treating the caller as unprivileged",
                  job->md->spec->name, error->message);
    job->restricted = uid != 0;
    hd_accelerator_wait(job->d->accel, create_when_chosen, job);
}

static void find_caller(CreateJob *job)
{
    const char *sender = g_dbus_method_invocation_get_sender(job->invocation);

    g_dbus_connection_call(g_dbus_method_invocation_get_connection(job->invocation),
                           "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "GetConnectionUnixUser", g_variant_new("(s)", sender ? sender : ""),
                           G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, caller_known,
                           job);
}

/*
 * Until the first inventory from libvirt is in, a list would be incomplete
 * and a name check unreliable: say so instead of answering wrongly.
 */
static gboolean refuse_until_discovered(HdDaemon *d, GDBusMethodInvocation *invocation)
{
    if (hd_inventory_is_discovered(d->inventory))
        return FALSE;
    g_dbus_method_invocation_return_error(invocation, HD_ERROR, HD_ERROR_UNAVAILABLE,
                                          "hocusd is starting: it has not read the workspaces "
                                          "from libvirt at %s yet",
                                          d->config->libvirt_uri);
    return TRUE;
}

static gboolean handle_create(HdDbusManager *iface, GDBusMethodInvocation *invocation,
                              GVariant *spec_dict, HdDaemon *d)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdSpec) spec = hd_spec_from_variant(spec_dict, &error);
    g_autoptr(HdSpec) resolved = NULL;
    CreateJob *job;
    HdConfig *c = d->config;

    if (refuse_until_discovered(d, invocation))
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    if (spec != NULL)
        resolved = hd_spec_resolve(spec, c, &error);
    if (resolved == NULL) {
        g_dbus_method_invocation_return_gerror(invocation, error);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    if (!hd_hypervisor_is_connected(d->hv)) {
        g_dbus_method_invocation_return_error(invocation, HD_ERROR, HD_ERROR_UNAVAILABLE,
                                              "not connected to libvirt at %s (reconnecting)",
                                              c->libvirt_uri);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    /* Held until create_done (or create_when_chosen at shutdown) releases it. */
    if (!hd_inventory_reserve(d->inventory, resolved->name)) {
        g_dbus_method_invocation_return_error(invocation, HD_ERROR, HD_ERROR_ALREADY_EXISTS,
                                              "workspace %s already exists", resolved->name);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

    job = g_new0(CreateJob, 1);
    job->d = d;
    job->invocation = invocation;
    job->md = g_new0(HdMetadata, 1);
    job->caller_keys = spec->present;
    job->shared_dir = g_strdup(c->guest.shared_dir);
    job->md->spec = g_steal_pointer(&resolved);
    job->md->storage_pool = g_strdup(c->storage_pool);
    job->md->volume = g_strconcat(job->md->spec->name, ".qcow2", NULL);
    job->md->created_usec = g_get_real_time();
    job->image_dir = g_strdup(c->image_dir);
    job->base_cmdline = g_strdup(c->guest.cmdline);
    job->damon = c->damon_reclaim;
    job->balloon_period_s = c->balloon_period_s;
    job->tcg_tb_cache_mib = c->tcg_tb_cache_mib;
    job->network = g_strdup(c->network);
    find_caller(job);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean handle_list(HdDbusManager *iface, GDBusMethodInvocation *invocation, HdDaemon *d)
{
    g_autoptr(GPtrArray) paths = NULL;

    if (refuse_until_discovered(d, invocation))
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    {
        g_autoptr(GPtrArray) all = hd_inventory_list(d->inventory);

        paths = g_ptr_array_new_full(all->len + 1, NULL);
        for (guint i = 0; i < all->len; i++)
            g_ptr_array_add(paths, (gpointer)hd_workspace_get_path(g_ptr_array_index(all, i)));
    }
    g_ptr_array_add(paths, NULL);
    hd_dbus_manager_complete_list_workspaces(iface, invocation, (const char *const *)paths->pdata);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean handle_get(HdDbusManager *iface, GDBusMethodInvocation *invocation,
                           const char *name, HdDaemon *d)
{
    HdWorkspace *ws;

    if (refuse_until_discovered(d, invocation))
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    ws = hd_inventory_lookup(d->inventory, name);
    if (ws == NULL) {
        g_autoptr(GError) error = NULL;
        if (!hd_name_validate(name, &error))
            g_dbus_method_invocation_return_error(invocation, HD_ERROR, HD_ERROR_NOT_FOUND,
                                                  "no workspace called '%s': %s", name,
                                                  error->message);
        else
            g_dbus_method_invocation_return_error(invocation, HD_ERROR, HD_ERROR_NOT_FOUND,
                                                  "no workspace called %s", name);
        return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
    hd_dbus_manager_complete_get_workspace(iface, invocation, hd_workspace_get_path(ws));
    return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void hd_manager_init(HdDaemon *d)
{
    d->manager = hd_dbus_manager_skeleton_new();
    hd_dbus_manager_set_version(d->manager, HD_VERSION);
    hd_dbus_manager_set_libvirt_uri(d->manager, d->config->libvirt_uri);
    hd_dbus_manager_set_connected(d->manager, FALSE);
    g_signal_connect(d->manager, "handle-create-workspace", G_CALLBACK(handle_create), d);
    g_signal_connect(d->manager, "handle-list-workspaces", G_CALLBACK(handle_list), d);
    g_signal_connect(d->manager, "handle-get-workspace", G_CALLBACK(handle_get), d);
}
