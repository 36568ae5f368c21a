/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Golden-file tests of the domain, volume and pool XML. Every XML built here
 * is also checked with virt-xml-validate against libvirt's own schema.
 * HD_UPDATE_GOLDEN=1 rewrites the golden files (review the diff!).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <glib/gstdio.h>

#include "hocusd/hd-cmdline.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-gconfig-autoptr.h"
#include "hocusd/hd-domain-xml.h"
#include "hocusd/hd-metadata.h"
#include "hocusd/hd-names.h"

static void validate_with_libvirt(const char *xml, const char *kind)
{
    g_autofree char *tmp = NULL;
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    int fd, status = -1;
    const char *argv[] = { "virt-xml-validate", NULL, kind, NULL };

    fd = g_file_open_tmp("hd-xml-XXXXXX.xml", &tmp, &error);
    assert_true(fd >= 0);
    close(fd);
    assert_true(g_file_set_contents(tmp, xml, -1, NULL));
    argv[1] = tmp;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, &error))
        fail_msg("cannot run virt-xml-validate (package libxml2-utils / libvirt-clients): %s",
                 error->message);
    if (!g_spawn_check_wait_status(status, NULL))
        fail_msg("virt-xml-validate rejected the %s XML:\n%s\n%s%s", kind, xml, out, err);
    g_unlink(tmp);
}

static void check_golden(const char *xml, const char *file)
{
    g_autofree char *path = g_build_filename(HD_TEST_DATA_DIR, "golden", file, NULL);
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;

    if (g_strcmp0(g_getenv("HD_UPDATE_GOLDEN"), "1") == 0) {
        assert_true(g_file_set_contents(path, xml, -1, NULL));
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, &error))
        fail_msg("%s (run with HD_UPDATE_GOLDEN=1 to create it)", error->message);
    if (strcmp(expected, xml) != 0)
        fail_msg("XML differs from %s:\n--- got ---\n%s", path, xml);
}

static HdSpec *spec_for(const char *name, const char *base, const char *extra)
{
    g_autoptr(HdConfig) cfg = hd_config_new_default();
    g_autoptr(HdSpec) s = hd_spec_new();

    s->name = g_strdup(name);
    s->present = HD_SPEC_NAME;
    if (base != NULL) {
        s->base_image = g_strdup(base);
        s->present |= HD_SPEC_BASE_IMAGE;
    }
    if (extra != NULL) {
        s->cmdline_extra = g_strdup(extra);
        s->present |= HD_SPEC_CMDLINE_EXTRA;
    }
    g_free(cfg->guest.kernel);
    g_free(cfg->guest.initrd);
    cfg->guest.kernel = g_strdup("/var/lib/hocusd/guest/vmlinuz");
    cfg->guest.initrd = g_strdup("/var/lib/hocusd/guest/initrd.img");
    return hd_spec_resolve(s, cfg, NULL);
}

static char *build_full(const HdSpec *spec, gboolean kvm, const char *disk, const char *network,
                        gboolean damon)
{
    g_autoptr(HdConfig) cfg = hd_config_new_default();
    HdMetadata md = { .spec = (HdSpec *)spec,
                      .storage_pool = (char *)"hocusd",
                      .volume = NULL,
                      .created_usec = 1763870400000000 };
    g_autofree char *vol = g_strconcat(spec->name, ".qcow2", NULL);
    g_autofree char *cmdline = NULL;
    g_autofree char *mdxml = NULL;
    HdDomainXmlParams p = {
        .spec = spec, .kvm = kvm, .disk_path = disk, .balloon_period_s = 2, .network = network
    };
    g_autoptr(GError) error = NULL;
    char *xml;

    cfg->damon_reclaim.enabled = damon;
    p.tcg_tb_cache_mib = cfg->tcg_tb_cache_mib;
    cmdline = hd_cmdline_build(cfg->guest.cmdline, spec->cmdline_extra, &cfg->damon_reclaim);
    p.cmdline = cmdline;
    md.volume = vol;
    mdxml = hd_metadata_to_xml(&md);
    p.metadata_xml = mdxml;
    xml = hd_domain_xml_build(&p, &error);
    if (xml == NULL)
        fail_msg("build failed: %s", error->message);
    return xml;
}

static char *build(const HdSpec *spec, gboolean kvm, const char *disk, const char *network)
{
    return build_full(spec, kvm, disk, network, FALSE);
}

static void test_tcg_plain(void **state)
{
    g_autoptr(HdSpec) s = spec_for("dev", NULL, NULL);
    g_autofree char *xml = build(s, FALSE, "/var/lib/hocusd/images/dev.qcow2", NULL);

    /* The recipe, spelled out, so a golden update cannot silently drop it. */
    assert_non_null(strstr(xml, "<domain type=\"qemu\">"));
    assert_non_null(
        strstr(xml, "<memballoon model=\"virtio\" autodeflate=\"on\" freePageReporting=\"on\">"));
    assert_non_null(strstr(xml, "<stats period=\"2\"/>"));
    assert_non_null(strstr(xml, "discard=\"unmap\""));
    assert_non_null(strstr(xml, "detect_zeroes=\"unmap\""));
    assert_non_null(strstr(xml, "page_reporting.page_reporting_order=0"));
    assert_non_null(strstr(xml, "transparent_hugepage=never"));
    assert_null(strstr(xml, "damon_reclaim")); /* off by default */
    assert_non_null(strstr(xml, "name=\"" HD_AGENT_CHANNEL_NAME "\""));
    assert_non_null(strstr(xml, "<hocus:workspace xmlns:hocus=\"" HD_XMLNS_URI "\""));
    assert_null(strstr(xml, "nosharepages")); /* KSM must be able to merge guest RAM */
    /* A bounded translation cache (the default 1 GiB stays resident). */
    assert_non_null(strstr(xml, "<tb-cache unit=\"MiB\">64</tb-cache>"));
    check_golden(xml, "domain-tcg.xml");
    validate_with_libvirt(xml, "domain");
}

static void test_kvm_overlay_network(void **state)
{
    g_autoptr(HdSpec) s = spec_for("a-b", "/srv/base & <co>.qcow2", "quiet");
    g_autofree char *xml = build_full(s, TRUE, "/srv/img/a-b.qcow2", "default", TRUE);

    assert_non_null(strstr(xml, "<domain type=\"kvm\">"));
    assert_non_null(strstr(xml, " damon_reclaim.min_age=5000000 "));
    assert_non_null(strstr(xml, "host-passthrough"));
    /* user data is escaped by the XML library, never pasted in */
    assert_non_null(strstr(xml, "/srv/base &amp; &lt;co&gt;.qcow2"));
    assert_non_null(strstr(xml, "<source network=\"default\"/>"));
    assert_null(strstr(xml, "<tcg>")); /* KVM translates nothing */
    check_golden(xml, "domain-kvm.xml");
    validate_with_libvirt(xml, "domain");
}

static void test_metadata_round_trip(void **state)
{
    g_autoptr(HdSpec) s = spec_for("round", "/b.qcow2", "quiet loglevel=4");
    HdMetadata md = { .spec = s,
                      .storage_pool = (char *)"hocusd",
                      .volume = (char *)"round.qcow2",
                      .created_usec = 42 };
    g_autofree char *dxml = build(s, FALSE, "/x/round.qcow2", NULL);
    g_autoptr(GVirConfigDomain) dom = gvir_config_domain_new_from_xml(dxml, NULL);
    g_autofree char *mdxml = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(HdMetadata) back = NULL;

    assert_non_null(dom);
    /* what virDomainGetMetadata() returns is the namespaced element */
    mdxml = gvir_config_domain_get_custom_xml(dom, HD_XMLNS_URI);
    assert_non_null(mdxml);
    back = hd_metadata_from_xml(mdxml, &error);
    if (back == NULL)
        fail_msg("%s\n%s", error->message, mdxml);
    assert_string_equal(back->spec->name, "round");
    assert_int_equal(back->spec->memory_max, s->memory_max);
    assert_int_equal(back->spec->memory_min, s->memory_min);
    assert_int_equal(back->spec->disk_size, s->disk_size);
    assert_int_equal(back->spec->vcpus, s->vcpus);
    assert_string_equal(back->spec->base_image, "/b.qcow2");
    assert_string_equal(back->spec->cmdline_extra, "quiet loglevel=4");
    assert_string_equal(back->spec->kernel, s->kernel);
    assert_string_equal(back->storage_pool, "hocusd");
    assert_string_equal(back->volume, "round.qcow2");
    assert_int_equal(back->created_usec, 1763870400000000);
    (void)md;
}

#define NS "xmlns:hocus=\"" HD_XMLNS_URI "\""
#define GOOD_BODY                                                                                  \
    "<hocus:name>w</hocus:name><hocus:vcpus>1</hocus:vcpus>"                                       \
    "<hocus:memory_max>1073741824</hocus:memory_max><hocus:memory_min>268435456</"                 \
    "hocus:memory_min>"                                                                            \
    "<hocus:disk_size>1073741824</hocus:disk_size><hocus:kernel>/k</hocus:kernel>"                 \
    "<hocus:initrd>/i</hocus:initrd><hocus:storage_pool>p</hocus:storage_pool>"                    \
    "<hocus:volume>w.qcow2</hocus:volume>"

/* The shape virDomainGetMetadata() really returns: no namespace, no prefix. */
static void test_metadata_as_libvirt_returns_it(void **state)
{
    static const char xml[] = "<workspace version=\"1\">\n"
                              "  <name>dev</name>\n  <vcpus>2</vcpus>\n"
                              "  <memory_max>4294967296</memory_max>\n"
                              "  <memory_min>536870912</memory_min>\n"
                              "  <disk_size>21474836480</disk_size>\n"
                              "  <kernel>/var/lib/hocusd/guest/vmlinuz</kernel>\n"
                              "  <initrd>/var/lib/hocusd/guest/initrd.img</initrd>\n"
                              "  <storage_pool>hocusd</storage_pool>\n"
                              "  <volume>dev.qcow2</volume>\n"
                              "  <created_usec>1763870400000000</created_usec>\n"
                              "</workspace>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(HdMetadata) md = hd_metadata_from_xml(xml, &error);

    assert_null(error);
    assert_string_equal(md->spec->name, "dev");
    assert_int_equal(md->spec->memory_max, 4 * HD_GiB);
    assert_string_equal(md->volume, "dev.qcow2");
}

static void test_metadata_bad(void **state)
{
    static const struct {
        const char *xml;
        const char *message;
    } cases[] = {
        { "", "malformed XML" },
        { "<hocus:workspace " NS " version=\"1\">", "malformed XML" },
        { "<x:workspace xmlns:x=\"urn:other\" version=\"1\">" GOOD_BODY "</x:workspace>",
          "expected a <workspace> element of namespace" },
        { "<hocus:other " NS " version=\"1\"/>", "expected a <workspace> element" },
        { "<hocus:workspace " NS " version=\"2\">" GOOD_BODY "</hocus:workspace>",
          "unsupported metadata version '2'" },
        { "<hocus:workspace " NS ">" GOOD_BODY "</hocus:workspace>",
          "unsupported metadata version '(none)'" },
        { "<hocus:workspace " NS " version=\"1\"><hocus:name>w</hocus:name></hocus:workspace>",
          "lacks a required element" },
        { "<hocus:workspace " NS " version=\"1\">" GOOD_BODY
          "<hocus:vcpus>many</hocus:vcpus></hocus:workspace>",
          "key 'vcpus': 'many' is not a number" },
        { "<hocus:workspace " NS " version=\"1\">" GOOD_BODY
          "<hocus:vcpus>100000</hocus:vcpus></hocus:workspace>",
          "key 'vcpus': 100000 is out of range" },
        { "<hocus:workspace " NS " version=\"1\">" GOOD_BODY
          "<hocus:name>../../etc</hocus:name></hocus:workspace>",
          "key 'name': workspace name must start" },
        { "<hocus:workspace " NS " version=\"1\">" GOOD_BODY
          "<hocus:rogue>1</hocus:rogue></hocus:workspace>",
          "key 'rogue': unknown key" },
        { "<hocus:workspace " NS " version=\"1\">" GOOD_BODY
          "<hocus:memory_min>2147483648</hocus:memory_min></hocus:workspace>",
          "above memory_max" },
        { "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
          "<hocus:workspace " NS " version=\"1\">" GOOD_BODY
          "<hocus:cmdline_extra>&e;</hocus:cmdline_extra></hocus:workspace>",
          "" /* either rejected or the entity left unexpanded: never file content */ },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(HdMetadata) md = hd_metadata_from_xml(cases[i].xml, &error);

        if (md != NULL) {
            /* Only the entity case may parse, and then without the file's text. */
            assert_string_equal(cases[i].message, "");
            assert_true(md->spec->cmdline_extra == NULL ||
                        strstr(md->spec->cmdline_extra, "root:") == NULL);
            continue;
        }
        assert_int_equal(error->domain, HD_ERROR);
        if (strstr(error->message, cases[i].message) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, error->message, cases[i].message);
    }
    {
        g_autoptr(GError) error = NULL;
        assert_null(hd_metadata_from_xml(NULL, &error));
    }
}

static void test_volume_and_pool(void **state)
{
    g_autofree char *plain = hd_volume_xml_build("dev.qcow2", 20 * HD_GiB, NULL, NULL);
    g_autofree char *overlay =
        hd_volume_xml_build("dev.qcow2", 20 * HD_GiB, "/var/lib/hocusd/guest/base.qcow2", "qcow2");
    g_autofree char *pool = hd_pool_xml_build("hocusd", "/var/lib/hocusd/images");

    check_golden(plain, "volume.xml");
    check_golden(overlay, "volume-overlay.xml");
    check_golden(pool, "pool.xml");
    validate_with_libvirt(plain, "storagevol");
    validate_with_libvirt(overlay, "storagevol");
    validate_with_libvirt(pool, "storagepool");
}

static void test_channel_path(void **state)
{
    static const char live[] =
        "<domain type='qemu'><name>x</name><devices>"
        "<channel type='unix'><source mode='bind' path='/wrong'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        "<channel type='pty'><target type='virtio' name='" HD_AGENT_CHANNEL_NAME "'/></channel>"
        "<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/target/"
        "domain-3-x/dev.hocus.agent.0'/>"
        "<target type='virtio' name='" HD_AGENT_CHANNEL_NAME "' state='connected'/></channel>"
        "</devices></domain>";
    g_autofree char *p = hd_domain_xml_channel_path(live, HD_AGENT_CHANNEL_NAME);

    assert_string_equal(p, "/var/lib/libvirt/qemu/channel/target/domain-3-x/dev.hocus.agent.0");
    assert_null(hd_domain_xml_channel_path(live, "nope"));
    assert_null(hd_domain_xml_channel_path("<domain", HD_AGENT_CHANNEL_NAME));
    assert_null(hd_domain_xml_channel_path("<domain/>", HD_AGENT_CHANNEL_NAME));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcg_plain),
        cmocka_unit_test(test_kvm_overlay_network),
        cmocka_unit_test(test_metadata_round_trip),
        cmocka_unit_test(test_metadata_bad),
        cmocka_unit_test(test_metadata_as_libvirt_returns_it),
        cmocka_unit_test(test_volume_and_pool),
        cmocka_unit_test(test_channel_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
