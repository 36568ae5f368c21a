/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-libvirt"

#include <libvirt/virterror.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-libvirt-ops.h"
#include "hocusd/hd-names.h"

static void silent_error_func(void *data, virErrorPtr err)
{
    /* Errors reach callers through virGetLastError(); never print them here. */
}

void hd_libvirt_silence_errors(void)
{
    virSetErrorFunc(NULL, silent_error_func);
}

static HdError code_for(int vir_code)
{
    switch (vir_code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_NO_STORAGE_POOL:
        return HD_ERROR_NOT_FOUND;
    case VIR_ERR_OPERATION_INVALID:
        return HD_ERROR_INVALID_STATE;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_RPC:
        return HD_ERROR_UNAVAILABLE;
    default:
        return HD_ERROR_HYPERVISOR;
    }
}

void hd_libvirt_set_error(GError **error, const char *fmt, ...)
{
    virErrorPtr e = virGetLastError();
    g_autofree char *prefix = NULL;
    va_list ap;

    va_start(ap, fmt);
    prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, HD_ERROR, e != NULL ? code_for(e->code) : HD_ERROR_HYPERVISOR, "%s: %s",
                prefix, e != NULL && e->message != NULL ? e->message : "unknown libvirt error");
}

void hd_domain_info_free(HdDomainInfo *info)
{
    if (info == NULL)
        return;
    g_free(info->name);
    g_free(info->uuid);
    g_free(info->metadata_xml);
    g_free(info);
}

static HdDomainInfo *info_from_domain(virDomainPtr dom, GError **error)
{
    g_autoptr(HdDomainInfo) info = g_new0(HdDomainInfo, 1);
    char uuid[VIR_UUID_STRING_BUFLEN];
    int state = 0, reason = 0;
    char *md;

    info->name = g_strdup(virDomainGetName(dom));
    if (virDomainGetUUIDString(dom, uuid) == 0)
        info->uuid = g_strdup(uuid);
    md = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, HD_XMLNS_URI,
                              VIR_DOMAIN_AFFECT_CONFIG);
    if (md == NULL) {
        virErrorPtr e = virGetLastError();
        if (e == NULL || e->code != VIR_ERR_NO_DOMAIN_METADATA) {
            hd_libvirt_set_error(error, "cannot read metadata of domain %s", info->name);
            return NULL;
        }
        virResetLastError();
    } else {
        info->metadata_xml = g_strdup(md);
        free(md);
    }
    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        hd_libvirt_set_error(error, "cannot read state of domain %s", info->name);
        return NULL;
    }
    info->state = hd_state_from_virt(state);
    return g_steal_pointer(&info);
}

GPtrArray *hd_libvirt_list_workspaces(virConnectPtr conn, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_domain_info_free);
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);

    if (n < 0) {
        hd_libvirt_set_error(error, "cannot list domains");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        g_autoptr(GError) one_error = NULL;
        HdDomainInfo *info = info_from_domain(doms[i], &one_error);

        virDomainFree(doms[i]);
        if (info == NULL) {
            /* A domain can vanish between list and lookup; that is not fatal. */
            if (!g_error_matches(one_error, HD_ERROR, HD_ERROR_NOT_FOUND))
                g_warning("%s", one_error->message);
            continue;
        }
        if (info->metadata_xml == NULL)
            hd_domain_info_free(info);
        else
            g_ptr_array_add(out, info);
    }
    free(doms);
    return g_steal_pointer(&out);
}

HdDomainInfo *hd_libvirt_get_domain(virConnectPtr conn, const char *name, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    HdDomainInfo *info;

    if (dom == NULL) {
        hd_libvirt_set_error(error, "cannot find domain %s", name);
        return NULL;
    }
    info = info_from_domain(dom, error);
    virDomainFree(dom);
    return info;
}

gboolean hd_libvirt_check_name_free(virConnectPtr conn, const char *name, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);

    if (dom != NULL) {
        virDomainFree(dom);
        g_set_error(error, HD_ERROR, HD_ERROR_ALREADY_EXISTS,
                    "a libvirt domain called %s already exists", name);
        return FALSE;
    }
    if (virGetLastErrorCode() != VIR_ERR_NO_DOMAIN) {
        hd_libvirt_set_error(error, "cannot look up domain %s", name);
        return FALSE;
    }
    virResetLastError();
    return TRUE;
}

gboolean hd_libvirt_ensure_pool(virConnectPtr conn, const char *pool_name, const char *pool_xml,
                                GError **error)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, pool_name);
    int active;

    if (pool == NULL) {
        pool = virStoragePoolDefineXML(conn, pool_xml, 0);
        if (pool == NULL) {
            hd_libvirt_set_error(error, "cannot define storage pool %s", pool_name);
            return FALSE;
        }
        /* Creates the target directory when missing. */
        if (virStoragePoolBuild(pool, VIR_STORAGE_POOL_BUILD_NEW) < 0)
            g_debug("building pool %s: %s", pool_name, virGetLastErrorMessage());
        if (virStoragePoolSetAutostart(pool, 1) < 0)
            g_debug("autostart of pool %s: %s", pool_name, virGetLastErrorMessage());
        g_message("Defined storage pool %s", pool_name);
    }
    active = virStoragePoolIsActive(pool);
    if (active == 0 && virStoragePoolCreate(pool, 0) < 0) {
        hd_libvirt_set_error(error, "cannot start storage pool %s", pool_name);
        virStoragePoolFree(pool);
        return FALSE;
    }
    virStoragePoolFree(pool);
    return TRUE;
}

char *hd_libvirt_create_volume(virConnectPtr conn, const char *pool_name, const char *vol_name,
                               const char *vol_xml, GError **error)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, pool_name);
    virStorageVolPtr vol;
    char *path, *out;

    if (pool == NULL) {
        hd_libvirt_set_error(error, "cannot find storage pool %s", pool_name);
        return NULL;
    }
    /* Another process may have written files into the directory meanwhile. */
    if (virStoragePoolRefresh(pool, 0) < 0)
        g_debug("refresh of pool %s: %s", pool_name, virGetLastErrorMessage());
    vol = virStorageVolLookupByName(pool, vol_name);
    if (vol != NULL) {
        virStorageVolFree(vol);
        virStoragePoolFree(pool);
        g_set_error(error, HD_ERROR, HD_ERROR_ALREADY_EXISTS,
                    "volume %s already exists in storage pool %s", vol_name, pool_name);
        return NULL;
    }
    virResetLastError();
    vol = virStorageVolCreateXML(pool, vol_xml, 0);
    virStoragePoolFree(pool);
    if (vol == NULL) {
        hd_libvirt_set_error(error, "cannot create volume %s in pool %s", vol_name, pool_name);
        return NULL;
    }
    path = virStorageVolGetPath(vol);
    virStorageVolFree(vol);
    if (path == NULL) {
        hd_libvirt_set_error(error, "cannot get the path of volume %s", vol_name);
        return NULL;
    }
    out = g_strdup(path);
    free(path);
    return out;
}

gboolean hd_libvirt_delete_volume(virConnectPtr conn, const char *pool_name, const char *vol_name,
                                  GError **error)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, pool_name);
    virStorageVolPtr vol;
    int rc;

    if (pool == NULL) {
        g_warning("storage pool %s is gone; cannot delete volume %s", pool_name, vol_name);
        virResetLastError();
        return TRUE;
    }
    vol = virStorageVolLookupByName(pool, vol_name);
    virStoragePoolFree(pool);
    if (vol == NULL) {
        virResetLastError();
        return TRUE;
    }
    rc = virStorageVolDelete(vol, 0);
    virStorageVolFree(vol);
    if (rc < 0) {
        hd_libvirt_set_error(error, "cannot delete volume %s", vol_name);
        return FALSE;
    }
    return TRUE;
}

gboolean hd_libvirt_define(virConnectPtr conn, const char *xml, GError **error)
{
    virDomainPtr dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);

    if (dom == NULL) {
        hd_libvirt_set_error(error, "cannot define domain");
        return FALSE;
    }
    virDomainFree(dom);
    return TRUE;
}

typedef int (*DomainOp)(virDomainPtr dom, gpointer data);

static gboolean with_domain(virConnectPtr conn, const char *name, const char *what, DomainOp op,
                            gpointer data, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    int rc;

    if (dom == NULL) {
        hd_libvirt_set_error(error, "cannot find domain %s", name);
        return FALSE;
    }
    rc = op(dom, data);
    if (rc < 0)
        hd_libvirt_set_error(error, "cannot %s %s", what, name);
    virDomainFree(dom);
    return rc >= 0;
}

static int op_start(virDomainPtr dom, gpointer data)
{
    return virDomainCreate(dom);
}

static int op_shutdown(virDomainPtr dom, gpointer data)
{
    return virDomainShutdown(dom);
}

static int op_destroy(virDomainPtr dom, gpointer data)
{
    return virDomainDestroy(dom);
}

static int op_undefine(virDomainPtr dom, gpointer data)
{
    const unsigned int all = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                             VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                             VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM;
    const unsigned int basic =
        VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;

    if (virDomainUndefineFlags(dom, all) == 0)
        return 0;
    /* Drivers without NVRAM or checkpoint support reject those flags;
     * workspaces boot a kernel directly and have neither. */
    if (virGetLastErrorCode() != VIR_ERR_INVALID_ARG)
        return -1;
    return virDomainUndefineFlags(dom, basic);
}

gboolean hd_libvirt_start(virConnectPtr conn, const char *name, GError **error)
{
    return with_domain(conn, name, "start", op_start, NULL, error);
}

gboolean hd_libvirt_stop(virConnectPtr conn, const char *name, gboolean force, GError **error)
{
    return with_domain(conn, name, force ? "power off" : "shut down",
                       force ? op_destroy : op_shutdown, NULL, error);
}

gboolean hd_libvirt_undefine(virConnectPtr conn, const char *name, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    int active;

    if (dom == NULL) {
        hd_libvirt_set_error(error, "cannot find domain %s", name);
        return FALSE;
    }
    /* Undefining a running domain would leave a transient VM behind. */
    active = virDomainIsActive(dom);
    virDomainFree(dom);
    if (active != 0) {
        if (active > 0)
            g_set_error(error, HD_ERROR, HD_ERROR_INVALID_STATE,
                        "workspace %s is running; stop it first", name);
        else
            hd_libvirt_set_error(error, "cannot read state of %s", name);
        return FALSE;
    }
    return with_domain(conn, name, "undefine", op_undefine, NULL, error);
}

char *hd_libvirt_get_xml(virConnectPtr conn, const char *name, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    char *xml, *out;

    if (dom == NULL) {
        hd_libvirt_set_error(error, "cannot find domain %s", name);
        return NULL;
    }
    xml = virDomainGetXMLDesc(dom, 0);
    virDomainFree(dom);
    if (xml == NULL) {
        hd_libvirt_set_error(error, "cannot read the XML of %s", name);
        return NULL;
    }
    out = g_strdup(xml);
    free(xml);
    return out;
}

typedef struct {
    guint64 bytes;
} BalloonArgs;

static int op_balloon(virDomainPtr dom, gpointer data)
{
    BalloonArgs *a = data;

    return virDomainSetMemoryFlags(dom, (unsigned long)(a->bytes / 1024), VIR_DOMAIN_AFFECT_LIVE);
}

gboolean hd_libvirt_set_balloon(virConnectPtr conn, const char *name, guint64 bytes, GError **error)
{
    BalloonArgs a = { bytes };

    return with_domain(conn, name, "set the balloon target of", op_balloon, &a, error);
}

gboolean hd_libvirt_set_memory_range(virConnectPtr conn, const char *name, const char *metadata_xml,
                                     guint64 memory_max, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    unsigned long kib = (unsigned long)(memory_max / 1024);
    unsigned int where = VIR_DOMAIN_AFFECT_CONFIG;
    gboolean ok = FALSE;
    int active;

    if (dom == NULL) {
        hd_libvirt_set_error(error, "cannot find domain %s", name);
        return FALSE;
    }
    active = virDomainIsActive(dom);
    if (active < 0) {
        hd_libvirt_set_error(error, "cannot read state of %s", name);
        goto out;
    }
    if (active > 0) {
        unsigned long booted = virDomainGetMaxMemory(dom);
        virDomainInfo info;

        if (booted == 0 || virDomainGetInfo(dom, &info) < 0) {
            hd_libvirt_set_error(error, "cannot read the memory of %s", name);
            goto out;
        }
        if (kib > booted) {
            g_set_error(error, HD_ERROR, HD_ERROR_INVALID_STATE,
                        "memory_max %lu MiB is above the %lu MiB workspace %s was started with; "
                        "stop it to raise its memory",
                        kib / 1024, booted / 1024, name);
            goto out;
        }
        where |= VIR_DOMAIN_AFFECT_LIVE;
        /* A running guest above its new maximum gives the difference back now. */
        if (info.memory > kib && virDomainSetMemoryFlags(dom, kib, VIR_DOMAIN_AFFECT_LIVE) < 0) {
            hd_libvirt_set_error(error, "cannot set the balloon target of %s", name);
            goto out;
        }
    }
    /* The next boot's size, then the spec that says so. */
    if (virDomainSetMemoryFlags(dom, kib, VIR_DOMAIN_MEM_MAXIMUM | VIR_DOMAIN_AFFECT_CONFIG) < 0 ||
        virDomainSetMemoryFlags(dom, kib, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        hd_libvirt_set_error(error, "cannot set the memory of %s", name);
        goto out;
    }
    if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, metadata_xml, HD_XMLNS_PREFIX,
                             HD_XMLNS_URI, where) < 0) {
        hd_libvirt_set_error(error, "cannot update the metadata of %s", name);
        goto out;
    }
    ok = TRUE;
out:
    virDomainFree(dom);
    return ok;
}
