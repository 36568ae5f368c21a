/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-domain-xml"

#include "hocusd/hd-gconfig-autoptr.h"
#include <string.h>

#include "hocusd/hd-domain-xml.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"
#include "hocusd/hd-xml.h"

static void ensure_gconfig_init(void)
{
    static gsize once = 0;

    if (g_once_init_enter(&once)) {
        gvir_config_init(NULL, NULL);
        g_once_init_leave(&once, 1);
    }
}

/* The KVM guest CPU; TCG guests keep QEMU's default model. */
static void add_cpu(GVirConfigDomain *domain, HdCpuChoice choice)
{
    g_autoptr(GVirConfigDomainCpu) cpu = gvir_config_domain_cpu_new();

    switch (choice) {
    case HD_CPU_HOST_PASSTHROUGH:
    case HD_CPU_N_CHOICES:
        gvir_config_domain_cpu_set_mode(cpu, GVIR_CONFIG_DOMAIN_CPU_MODE_HOST_PASSTHROUGH);
        break;
    case HD_CPU_HOST_PASSTHROUGH_NO_ARCH_CAPS: {
        /* Nested hosts advertise IA32_ARCH_CAPABILITIES but refuse to set it
         * ("failed to set MSR 0x10a"); QEMU then aborts. */
        g_autoptr(GVirConfigDomainCpuFeature) f = gvir_config_domain_cpu_feature_new();
        gvir_config_domain_cpu_set_mode(cpu, GVIR_CONFIG_DOMAIN_CPU_MODE_HOST_PASSTHROUGH);
        gvir_config_capabilities_cpu_feature_set_name(GVIR_CONFIG_CAPABILITIES_CPU_FEATURE(f),
                                                      "arch-capabilities");
        gvir_config_domain_cpu_feature_set_policy(f, GVIR_CONFIG_DOMAIN_CPU_FEATURE_POLICY_DISABLE);
        gvir_config_capabilities_cpu_add_feature(GVIR_CONFIG_CAPABILITIES_CPU(cpu),
                                                 GVIR_CONFIG_CAPABILITIES_CPU_FEATURE(f));
        break;
    }
    case HD_CPU_HOST_MODEL:
        gvir_config_domain_cpu_set_mode(cpu, GVIR_CONFIG_DOMAIN_CPU_MODE_HOST_MODEL);
        break;
    case HD_CPU_KVM64: {
        g_autoptr(GVirConfigDomainCpuModel) m = gvir_config_domain_cpu_model_new();
        gvir_config_domain_cpu_set_mode(cpu, GVIR_CONFIG_DOMAIN_CPU_MODE_CUSTOM);
        gvir_config_capabilities_cpu_model_set_name(GVIR_CONFIG_CAPABILITIES_CPU_MODEL(m), "kvm64");
        gvir_config_domain_cpu_set_model(cpu, m);
        break;
    }
    }
    gvir_config_domain_set_cpu(domain, cpu);
}

static GVirConfigDomainDevice *build_disk(const char *path)
{
    GVirConfigDomainDisk *disk = gvir_config_domain_disk_new();
    g_autoptr(GVirConfigDomainDiskDriver) drv = gvir_config_domain_disk_driver_new();

    gvir_config_domain_disk_set_type(disk, GVIR_CONFIG_DOMAIN_DISK_FILE);
    gvir_config_domain_disk_set_guest_device_type(disk, GVIR_CONFIG_DOMAIN_DISK_GUEST_DEVICE_DISK);
    gvir_config_domain_disk_set_source(disk, path);
    gvir_config_domain_disk_driver_set_name(drv, "qemu");
    gvir_config_domain_disk_driver_set_format(drv, GVIR_CONFIG_DOMAIN_DISK_FORMAT_QCOW2);
    /* Guest TRIM/discard punches holes in the qcow2 file (the recipe's disk half). */
    gvir_config_domain_disk_driver_set_discard(drv, GVIR_CONFIG_DOMAIN_DISK_DRIVER_DISCARD_UNMAP);
    gvir_config_domain_disk_set_driver(disk, drv);
    gvir_config_domain_disk_set_target_bus(disk, GVIR_CONFIG_DOMAIN_DISK_BUS_VIRTIO);
    gvir_config_domain_disk_set_target_dev(disk, "vda");
    return GVIR_CONFIG_DOMAIN_DEVICE(disk);
}

static void add_console(GVirConfigDomain *domain)
{
    g_autoptr(GVirConfigDomainSerial) serial = gvir_config_domain_serial_new();
    g_autoptr(GVirConfigDomainChardevSourcePty) spty = gvir_config_domain_chardev_source_pty_new();
    g_autoptr(GVirConfigDomainConsole) console = gvir_config_domain_console_new();
    g_autoptr(GVirConfigDomainChardevSourcePty) cpty = gvir_config_domain_chardev_source_pty_new();

    gvir_config_domain_chardev_set_source(GVIR_CONFIG_DOMAIN_CHARDEV(serial),
                                          GVIR_CONFIG_DOMAIN_CHARDEV_SOURCE(spty));
    gvir_config_domain_add_device(domain, GVIR_CONFIG_DOMAIN_DEVICE(serial));
    gvir_config_domain_chardev_set_source(GVIR_CONFIG_DOMAIN_CHARDEV(console),
                                          GVIR_CONFIG_DOMAIN_CHARDEV_SOURCE(cpty));
    gvir_config_domain_console_set_target_type(console, GVIR_CONFIG_DOMAIN_CONSOLE_TARGET_SERIAL);
    gvir_config_domain_add_device(domain, GVIR_CONFIG_DOMAIN_DEVICE(console));
}

static void add_agent_channel(GVirConfigDomain *domain)
{
    g_autoptr(GVirConfigDomainChannel) ch = gvir_config_domain_channel_new();
    g_autoptr(GVirConfigDomainChardevSourceUnix) src = gvir_config_domain_chardev_source_unix_new();

    /* No path: libvirt picks one under its channel directory, which QEMU can
     * write to whatever user it runs as; hocusd reads it back from the live XML. */
    gvir_config_domain_chardev_set_source(GVIR_CONFIG_DOMAIN_CHARDEV(ch),
                                          GVIR_CONFIG_DOMAIN_CHARDEV_SOURCE(src));
    gvir_config_domain_channel_set_target_type(ch, GVIR_CONFIG_DOMAIN_CHANNEL_TARGET_VIRTIO);
    gvir_config_domain_channel_set_target_name(ch, HD_AGENT_CHANNEL_NAME);
    gvir_config_domain_add_device(domain, GVIR_CONFIG_DOMAIN_DEVICE(ch));
}

static void add_network(GVirConfigDomain *domain, const char *network)
{
    g_autoptr(GVirConfigDomainInterfaceNetwork) nic = NULL;

    if (network == NULL || *network == '\0')
        return;
    nic = gvir_config_domain_interface_network_new();
    gvir_config_domain_interface_network_set_source(nic, network);
    gvir_config_domain_interface_set_model(GVIR_CONFIG_DOMAIN_INTERFACE(nic), "virtio");
    gvir_config_domain_add_device(domain, GVIR_CONFIG_DOMAIN_DEVICE(nic));
}

/*
 * libvirt-gconfig has no setters for these recipe attributes, so they are
 * added to its output with the libxml2 tree API (values are escaped there,
 * never formatted into XML text):
 *   <memballoon ... autodeflate='on' freePageReporting='on'><stats period='N'/>
 *   <disk><driver ... detect_zeroes='unmap'/>
 *   <features><tcg><tb-cache unit='MiB'>N</tb-cache></tcg> (TCG only)
 */
static gboolean amend_recipe(xmlNodePtr root, const HdDomainXmlParams *p, GError **error)
{
    xmlNodePtr devices = hd_xml_child(root, "devices");
    xmlNodePtr balloon = hd_xml_child(devices, "memballoon");
    xmlNodePtr disk = hd_xml_child(devices, "disk");
    xmlNodePtr driver = hd_xml_child(disk, "driver");
    xmlNodePtr stats;
    char period[16];

    if (balloon == NULL || driver == NULL) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "libvirt-gconfig output lacks <memballoon> or <disk><driver>");
        return FALSE;
    }
    xmlSetProp(balloon, BAD_CAST "autodeflate", BAD_CAST "on");
    xmlSetProp(balloon, BAD_CAST "freePageReporting", BAD_CAST "on");
    g_snprintf(period, sizeof(period), "%u", p->balloon_period_s);
    stats = xmlNewChild(balloon, NULL, BAD_CAST "stats", NULL);
    xmlSetProp(stats, BAD_CAST "period", BAD_CAST period);
    xmlSetProp(driver, BAD_CAST "detect_zeroes", BAD_CAST "unmap");

    if (!p->kvm && p->tcg_tb_cache_mib > 0) {
        xmlNodePtr features = hd_xml_child(root, "features");
        xmlNodePtr tcg, cache;
        char mib[16];

        if (features == NULL) {
            g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                        "libvirt-gconfig output lacks <features>");
            return FALSE;
        }
        g_snprintf(mib, sizeof(mib), "%u", p->tcg_tb_cache_mib);
        tcg = xmlNewChild(features, NULL, BAD_CAST "tcg", NULL);
        cache = xmlNewChild(tcg, NULL, BAD_CAST "tb-cache", BAD_CAST mib);
        xmlSetProp(cache, BAD_CAST "unit", BAD_CAST "MiB");
    }
    return TRUE;
}

char *hd_domain_xml_build(const HdDomainXmlParams *p, GError **error)
{
    const HdSpec *s = p->spec;
    g_autoptr(GVirConfigDomain) domain = NULL;
    g_autoptr(GVirConfigDomainOs) os = NULL;
    g_autoptr(GVirConfigDomainMemballoon) balloon = NULL;
    g_autoptr(GVirConfigDomainDevice) disk = NULL;
    g_autofree char *gconfig_xml = NULL;
    const char *features[] = { "acpi", "apic", NULL };
    xmlDocPtr doc;
    char *out = NULL;

    ensure_gconfig_init();
    domain = gvir_config_domain_new();
    gvir_config_domain_set_virt_type(domain, p->kvm ? GVIR_CONFIG_DOMAIN_VIRT_KVM
                                                    : GVIR_CONFIG_DOMAIN_VIRT_QEMU);
    gvir_config_domain_set_name(domain, s->name);
    gvir_config_domain_set_title(domain, "hocusd workspace");
    gvir_config_domain_set_memory(domain, s->memory_max / 1024);
    gvir_config_domain_set_current_memory(domain, s->memory_max / 1024);
    gvir_config_domain_set_vcpus(domain, s->vcpus);
    gvir_config_domain_set_features(domain, (GStrv)features);
    gvir_config_domain_set_lifecycle(domain, GVIR_CONFIG_DOMAIN_LIFECYCLE_ON_POWEROFF,
                                     GVIR_CONFIG_DOMAIN_LIFECYCLE_DESTROY);
    gvir_config_domain_set_lifecycle(domain, GVIR_CONFIG_DOMAIN_LIFECYCLE_ON_REBOOT,
                                     GVIR_CONFIG_DOMAIN_LIFECYCLE_RESTART);
    gvir_config_domain_set_lifecycle(domain, GVIR_CONFIG_DOMAIN_LIFECYCLE_ON_CRASH,
                                     GVIR_CONFIG_DOMAIN_LIFECYCLE_DESTROY);
    if (p->kvm)
        add_cpu(domain, p->cpu);

    os = gvir_config_domain_os_new();
    gvir_config_domain_os_set_os_type(os, GVIR_CONFIG_DOMAIN_OS_TYPE_HVM);
    gvir_config_domain_os_set_arch(os, "x86_64");
    gvir_config_domain_os_set_kernel(os, s->kernel);
    gvir_config_domain_os_set_ramdisk(os, s->initrd);
    gvir_config_domain_os_set_cmdline(os, p->cmdline);
    gvir_config_domain_set_os(domain, os);

    disk = build_disk(p->disk_path);
    gvir_config_domain_add_device(domain, disk);
    add_network(domain, p->network);
    add_console(domain);
    add_agent_channel(domain);
    balloon = gvir_config_domain_memballoon_new();
    gvir_config_domain_memballoon_set_model(balloon, GVIR_CONFIG_DOMAIN_MEMBALLOON_MODEL_VIRTIO);
    gvir_config_domain_add_device(domain, GVIR_CONFIG_DOMAIN_DEVICE(balloon));

    if (!gvir_config_domain_set_custom_xml_ns_children(domain, p->metadata_xml, HD_XMLNS_PREFIX,
                                                       HD_XMLNS_URI, error)) {
        g_prefix_error(error, "workspace metadata: ");
        return NULL;
    }

    gconfig_xml = gvir_config_object_to_xml(GVIR_CONFIG_OBJECT(domain));
    doc = hd_xml_parse(gconfig_xml, error);
    if (doc == NULL)
        return NULL;
    if (amend_recipe(xmlDocGetRootElement(doc), p, error))
        out = hd_xml_node_to_string(xmlDocGetRootElement(doc), FALSE);
    xmlFreeDoc(doc);
    return out;
}

/*
 * A transient guest in the shape of a workspace (same CPU definition and
 * features, same kernel) whose console goes to a file: the probe watches the
 * file for the kernel starting init. No disk, no network, no balloon.
 */
char *hd_probe_xml_build(const HdProbeXmlParams *p, GError **error)
{
    g_autoptr(GVirConfigDomain) domain = NULL;
    g_autoptr(GVirConfigDomainOs) os = NULL;
    g_autoptr(GVirConfigDomainMemballoon) balloon = NULL;
    g_autofree char *gconfig_xml = NULL;
    const char *features[] = { "acpi", "apic", NULL };
    xmlNodePtr root, devices, serial, node;
    xmlDocPtr doc;
    char *out;

    ensure_gconfig_init();
    domain = gvir_config_domain_new();
    gvir_config_domain_set_virt_type(domain, p->kvm ? GVIR_CONFIG_DOMAIN_VIRT_KVM
                                                    : GVIR_CONFIG_DOMAIN_VIRT_QEMU);
    gvir_config_domain_set_name(domain, p->name);
    gvir_config_domain_set_title(domain, "hocusd accelerator probe (transient)");
    gvir_config_domain_set_memory(domain, 256 * 1024);
    gvir_config_domain_set_vcpus(domain, 1);
    gvir_config_domain_set_features(domain, (GStrv)features);
    if (p->kvm)
        add_cpu(domain, p->cpu); /* as for workspaces: TCG keeps QEMU's default CPU */
    os = gvir_config_domain_os_new();
    gvir_config_domain_os_set_os_type(os, GVIR_CONFIG_DOMAIN_OS_TYPE_HVM);
    gvir_config_domain_os_set_arch(os, "x86_64");
    gvir_config_domain_os_set_kernel(os, p->kernel);
    gvir_config_domain_os_set_ramdisk(os, p->initrd);
    /* panic=-1: a kernel that panics reboots at once instead of hanging. */
    gvir_config_domain_os_set_cmdline(os, "console=ttyS0 panic=-1 loglevel=6");
    gvir_config_domain_set_os(domain, os);
    balloon = gvir_config_domain_memballoon_new();
    gvir_config_domain_memballoon_set_model(balloon, GVIR_CONFIG_DOMAIN_MEMBALLOON_MODEL_NONE);
    gvir_config_domain_add_device(domain, GVIR_CONFIG_DOMAIN_DEVICE(balloon));

    gconfig_xml = gvir_config_object_to_xml(GVIR_CONFIG_OBJECT(domain));
    doc = hd_xml_parse(gconfig_xml, error);
    if (doc == NULL)
        return NULL;
    root = xmlDocGetRootElement(doc);
    devices = hd_xml_child(root, "devices");
    if (devices == NULL) {
        xmlFreeDoc(doc);
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "libvirt-gconfig output lacks <devices>");
        return NULL;
    }
    /* libvirt opens the file itself and hands QEMU the descriptor. */
    serial = xmlNewChild(devices, NULL, BAD_CAST "serial", NULL);
    xmlSetProp(serial, BAD_CAST "type", BAD_CAST "file");
    node = xmlNewChild(serial, NULL, BAD_CAST "source", NULL);
    xmlSetProp(node, BAD_CAST "path", BAD_CAST p->serial_path);
    node = xmlNewChild(serial, NULL, BAD_CAST "target", NULL);
    xmlSetProp(node, BAD_CAST "port", BAD_CAST "0");
    if (p->emulator != NULL && *p->emulator != '\0') {
        node = xmlNewNode(NULL, BAD_CAST "emulator");
        xmlNodeAddContent(node, BAD_CAST p->emulator);
        if (devices->children != NULL)
            xmlAddPrevSibling(devices->children, node);
        else
            xmlAddChild(devices, node);
    }
    out = hd_xml_node_to_string(root, FALSE);
    xmlFreeDoc(doc);
    return out;
}

char *hd_volume_xml_build(const char *name, guint64 capacity, const char *backing_path,
                          const char *backing_format)
{
    g_autoptr(GVirConfigStorageVol) vol = NULL;
    g_autoptr(GVirConfigStorageVolTarget) target = NULL;

    ensure_gconfig_init();
    vol = gvir_config_storage_vol_new();
    target = gvir_config_storage_vol_target_new();
    gvir_config_storage_vol_set_name(vol, name);
    gvir_config_storage_vol_set_capacity(vol, capacity);
    gvir_config_storage_vol_set_allocation(vol, 0);
    gvir_config_storage_vol_target_set_format(target, "qcow2");
    gvir_config_storage_vol_set_target(vol, target);
    if (backing_path != NULL) {
        g_autoptr(GVirConfigStorageVolBackingStore) bs =
            gvir_config_storage_vol_backing_store_new();
        gvir_config_storage_vol_backing_store_set_path(bs, backing_path);
        gvir_config_storage_vol_backing_store_set_format(bs, backing_format);
        gvir_config_storage_vol_set_backing_store(vol, bs);
    }
    return gvir_config_object_to_xml(GVIR_CONFIG_OBJECT(vol));
}

char *hd_pool_xml_build(const char *name, const char *target_path)
{
    g_autoptr(GVirConfigStoragePool) pool = NULL;
    g_autoptr(GVirConfigStoragePoolTarget) target = NULL;

    ensure_gconfig_init();
    pool = gvir_config_storage_pool_new();
    target = gvir_config_storage_pool_target_new();
    gvir_config_storage_pool_set_pool_type(pool, GVIR_CONFIG_STORAGE_POOL_TYPE_DIR);
    gvir_config_storage_pool_set_name(pool, name);
    gvir_config_storage_pool_target_set_path(target, target_path);
    gvir_config_storage_pool_set_target(pool, target);
    return gvir_config_object_to_xml(GVIR_CONFIG_OBJECT(pool));
}

char *hd_domain_xml_channel_path(const char *domain_xml, const char *target_name)
{
    xmlDocPtr doc = hd_xml_parse(domain_xml, NULL);
    xmlNodePtr devices;
    char *path = NULL;

    if (doc == NULL)
        return NULL;
    devices = hd_xml_child(xmlDocGetRootElement(doc), "devices");
    for (xmlNodePtr n = devices != NULL ? devices->children : NULL; n != NULL && path == NULL;
         n = n->next) {
        xmlNodePtr target, source;
        xmlChar *name, *type;

        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "channel") != 0)
            continue;
        type = xmlGetProp(n, BAD_CAST "type");
        target = hd_xml_child(n, "target");
        source = hd_xml_child(n, "source");
        name = target != NULL ? xmlGetProp(target, BAD_CAST "name") : NULL;
        if (type != NULL && strcmp((const char *)type, "unix") == 0 && name != NULL &&
            strcmp((const char *)name, target_name) == 0 && source != NULL) {
            xmlChar *p = xmlGetProp(source, BAD_CAST "path");
            if (p != NULL && *p != '\0')
                path = g_strdup((const char *)p);
            xmlFree(p);
        }
        xmlFree(name);
        xmlFree(type);
    }
    xmlFreeDoc(doc);
    return path;
}
