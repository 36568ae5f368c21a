/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The accelerator choice: a table of every combination of host facts, probe
 * outcomes per CPU choice and configured mode, with the expected step,
 * choice and reason; and the small parsers the probe relies on (device
 * permissions, qemu.conf, QEMU's log, the verdict cache, the probe XML).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "hocusd/hd-accel.h"
#include "hocusd/hd-domain-xml.h"

#define N  HD_PROBE_NOT_RUN
#define B  HD_PROBE_BOOTED
#define F  HD_PROBE_FAILED
#define HP HD_CPU_HOST_PASSTHROUGH
#define NA HD_CPU_HOST_PASSTHROUGH_NO_ARCH_CAPS
#define HM HD_CPU_HOST_MODEL
#define K6 HD_CPU_KVM64

static const char msr[] = "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69";
static const char kie[] = "KVM internal error. Suberror: 1; emulation failure";

typedef struct {
    const char *name;
    HdAccelMode mode;
    gboolean present, accessible, offered;
    HdProbeOutcome probes[HD_CPU_N_CHOICES];
    const char *details[HD_CPU_N_CHOICES];
    HdAccelStep step;
    HdCpuChoice cpu; /* the probe asked for, or the verdict's CPU when kvm */
    gboolean kvm;
    const char *reason; /* a substring of the verdict's reason */
} Case;

static const Case cases[] = {
    /* Forced modes: never probe, whatever the host says. */
    { "tcg forced on a KVM host",
      HD_ACCEL_MODE_TCG,
      TRUE,
      TRUE,
      TRUE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "tcg: configured (accelerator \"tcg\")" },
    { "tcg forced without a device",
      HD_ACCEL_MODE_TCG,
      FALSE,
      FALSE,
      FALSE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "KVM not probed" },
    { "kvm forced, all fine",
      HD_ACCEL_MODE_KVM,
      TRUE,
      TRUE,
      TRUE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      TRUE,
      "kvm: configured (accelerator \"kvm\"); not probed" },
    { "kvm forced, no device",
      HD_ACCEL_MODE_KVM,
      FALSE,
      FALSE,
      FALSE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      TRUE,
      "/dev/kvm does not exist: starts will fail" },
    { "kvm forced, closed device",
      HD_ACCEL_MODE_KVM,
      TRUE,
      FALSE,
      TRUE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      TRUE,
      "not usable by QEMU's user (crw------- root:root" },
    { "kvm forced ignores failed probes",
      HD_ACCEL_MODE_KVM,
      TRUE,
      TRUE,
      TRUE,
      { F, F, F, F },
      { msr, kie, kie, kie },
      HD_ACCEL_STEP_DONE,
      HP,
      TRUE,
      "configured" },

    /* auto: the facts come first, in order. */
    { "auto, no device",
      HD_ACCEL_MODE_AUTO,
      FALSE,
      FALSE,
      FALSE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "tcg: /dev/kvm does not exist on this host" },
    { "auto, no device outweighs a booted probe",
      HD_ACCEL_MODE_AUTO,
      FALSE,
      FALSE,
      TRUE,
      { B, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "does not exist" },
    { "auto, device closed to QEMU",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      FALSE,
      TRUE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "tcg: /dev/kvm is not usable by QEMU's user (crw------- root:root" },
    { "auto, closed device and no libvirt KVM",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      FALSE,
      FALSE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "not usable by QEMU's user" },
    { "auto, libvirt offers no KVM",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      FALSE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "tcg: libvirt does not offer KVM (unsupported configuration: KVM is not supported" },

    /* auto: probes in order, first boot wins. */
    { "auto, first probe",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { N, N, N, N },
      { 0 },
      HD_ACCEL_STEP_PROBE,
      HP,
      FALSE,
      NULL },
    { "auto, host-passthrough boots",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { B, N, N, N },
      { 0 },
      HD_ACCEL_STEP_DONE,
      HP,
      TRUE,
      "kvm: probe guest booted with CPU host-passthrough" },
    { "auto, MSR abort: next choice",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, N, N, N },
      { msr },
      HD_ACCEL_STEP_PROBE,
      NA,
      FALSE,
      NULL },
    { "auto, without arch-capabilities it boots",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, B, N, N },
      { msr },
      HD_ACCEL_STEP_DONE,
      NA,
      TRUE,
      "booted with CPU host-passthrough,-arch-capabilities (failed before: host-passthrough: "
      "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69)" },
    { "auto, two failures: host-model next",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, F, N, N },
      { msr, kie },
      HD_ACCEL_STEP_PROBE,
      HM,
      FALSE,
      NULL },
    { "auto, host-model boots",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, F, B, N },
      { msr, kie },
      HD_ACCEL_STEP_DONE,
      HM,
      TRUE,
      "booted with CPU host-model" },
    { "auto, three failures: kvm64 next",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, F, F, N },
      { msr, kie, kie },
      HD_ACCEL_STEP_PROBE,
      K6,
      FALSE,
      NULL },
    { "auto, kvm64 boots",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, F, F, B },
      { msr, kie, kie },
      HD_ACCEL_STEP_DONE,
      K6,
      TRUE,
      "failed before: host-passthrough: qemu-system-x86_64: error: failed to set MSR 0x10a to "
      "0x69; host-passthrough,-arch-capabilities, host-model: KVM internal error" },
    { "auto, every choice fails the same way",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, F, F, F },
      { kie, kie, kie, kie },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "tcg: kvm probe failed: host-passthrough, host-passthrough,-arch-capabilities, "
      "host-model, kvm64: KVM internal error. Suberror: 1; emulation failure" },
    { "auto, every choice fails, two ways",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, F, F, F },
      { msr, "hung", kie, kie },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "tcg: kvm probe failed: host-passthrough: qemu-system-x86_64: error: failed to set MSR "
      "0x10a to 0x69; host-passthrough,-arch-capabilities: hung; host-model, kvm64: KVM" },
    { "auto, a failure without words",
      HD_ACCEL_MODE_AUTO,
      TRUE,
      TRUE,
      TRUE,
      { F, F, F, F },
      { NULL, NULL, NULL, NULL },
      HD_ACCEL_STEP_DONE,
      HP,
      FALSE,
      "kvm64: no message" },
};

static void test_decision_table(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const Case *c = &cases[i];
        HdAccelFacts f = { 0 };
        HdAccelVerdict v = { 0 };
        HdCpuChoice cpu = 99;
        HdAccelStep step;

        f.mode = c->mode;
        f.device = "/dev/kvm";
        f.device_present = c->present;
        f.device_accessible = c->accessible;
        f.device_detail = "crw------- root:root, QEMU runs as libvirt-qemu";
        f.libvirt_offers_kvm = c->offered;
        f.libvirt_detail = "unsupported configuration: KVM is not supported by this QEMU";
        for (int j = 0; j < HD_CPU_N_CHOICES; j++) {
            f.probes[j].outcome = c->probes[j];
            f.probes[j].detail = c->details[j];
        }
        step = hd_accel_decide(&f, &cpu, &v);
        if (step != c->step)
            fail_msg("%s: step %d, want %d", c->name, step, c->step);
        if (step == HD_ACCEL_STEP_PROBE) {
            if (cpu != c->cpu)
                fail_msg("%s: probes %s, want %s", c->name, hd_cpu_choice_to_string(cpu),
                         hd_cpu_choice_to_string(c->cpu));
            if (v.reason != NULL)
                fail_msg("%s: a verdict while probing", c->name);
            continue;
        }
        if (v.kvm != c->kvm)
            fail_msg("%s: kvm %d, want %d (%s)", c->name, v.kvm, c->kvm, v.reason);
        if (v.kvm && v.cpu != c->cpu)
            fail_msg("%s: cpu %s, want %s", c->name, hd_cpu_choice_to_string(v.cpu),
                     hd_cpu_choice_to_string(c->cpu));
        if (!g_str_has_prefix(v.reason, v.kvm ? "kvm: " : "tcg: "))
            fail_msg("%s: reason '%s' does not start with the choice", c->name, v.reason);
        if (strstr(v.reason, c->reason) == NULL)
            fail_msg("%s: reason '%s' lacks '%s'", c->name, v.reason, c->reason);
        hd_accel_verdict_clear(&v);
    }
}

static void test_long_detail_is_clipped(void **state)
{
    g_autofree char *longmsg = g_strnfill(5000, 'x');
    HdAccelFacts f = { .mode = HD_ACCEL_MODE_AUTO,
                       .device_present = TRUE,
                       .device_accessible = TRUE,
                       .libvirt_offers_kvm = TRUE };
    HdAccelVerdict v = { 0 };
    HdCpuChoice cpu;

    for (int j = 0; j < HD_CPU_N_CHOICES; j++) {
        f.probes[j].outcome = HD_PROBE_FAILED;
        f.probes[j].detail = longmsg;
    }
    assert_int_equal(hd_accel_decide(&f, &cpu, &v), HD_ACCEL_STEP_DONE);
    assert_true(strlen(v.reason) < 400);
    assert_non_null(strstr(v.reason, "..."));
    hd_accel_verdict_clear(&v);
}

static void test_names(void **state)
{
    HdAccelMode m;
    HdCpuChoice c;

    for (int i = 0; i < HD_CPU_N_CHOICES; i++) {
        assert_true(hd_cpu_choice_from_string(hd_cpu_choice_to_string(i), &c));
        assert_int_equal(c, i);
    }
    assert_true(hd_accel_mode_from_string("auto", &m) && m == HD_ACCEL_MODE_AUTO);
    assert_true(hd_accel_mode_from_string("kvm", &m) && m == HD_ACCEL_MODE_KVM);
    assert_true(hd_accel_mode_from_string("tcg", &m) && m == HD_ACCEL_MODE_TCG);
    assert_false(hd_accel_mode_from_string("KVM", &m));
    assert_false(hd_accel_mode_from_string("", &m));
    assert_false(hd_accel_mode_from_string(NULL, &m));
    assert_false(hd_cpu_choice_from_string("host", &c));
}

static void test_device_usable(void **state)
{
    const guint32 chr = S_IFCHR;
    const guint32 kvm_gid = 107, qemu_uid = 64055;
    const guint32 groups[] = { kvm_gid, 64055 };
    const guint32 no_kvm[] = { 64055 };

    /* Debian's udev rule: crw-rw---- root:kvm; libvirt-qemu is in kvm. */
    assert_true(hd_accel_device_usable(chr | 0660, 0, kvm_gid, qemu_uid, groups, 2));
    /* No udev: crw------- root:root. */
    assert_false(hd_accel_device_usable(chr | 0600, 0, 0, qemu_uid, groups, 2));
    /* Group kvm but QEMU's user not in it. */
    assert_false(hd_accel_device_usable(chr | 0660, 0, kvm_gid, qemu_uid, no_kvm, 1));
    /* Open to everybody (some distributions). */
    assert_true(hd_accel_device_usable(chr | 0666, 0, 0, qemu_uid, no_kvm, 1));
    /* Read-only for the group is not enough. */
    assert_false(hd_accel_device_usable(chr | 0640, 0, kvm_gid, qemu_uid, groups, 2));
    /* The owner class decides for the owner, even if "other" would allow it. */
    assert_false(hd_accel_device_usable(chr | 0066, qemu_uid, 0, qemu_uid, groups, 2));
    assert_true(hd_accel_device_usable(chr | 0600, qemu_uid, 0, qemu_uid, groups, 2));
    /* The group class decides for members. */
    assert_false(hd_accel_device_usable(chr | 0606, 0, kvm_gid, qemu_uid, groups, 2));
    /* QEMU as root (user = "+0"). */
    assert_true(hd_accel_device_usable(chr | 0600, 0, 0, 0, NULL, 0));
}

static void test_format_mode(void **state)
{
    char m[11];

    hd_accel_format_mode(S_IFCHR | 0600, m);
    assert_string_equal(m, "crw-------");
    hd_accel_format_mode(S_IFCHR | 0660, m);
    assert_string_equal(m, "crw-rw----");
    hd_accel_format_mode(S_IFREG | 0755, m);
    assert_string_equal(m, "-rwxr-xr-x");
}

static void test_qemu_conf(void **state)
{
    static const struct {
        const char *text, *user, *group;
    } t[] = {
        { "", "libvirt-qemu", "libvirt-qemu" },
        { "#user = \"qemu\"\n#       group = \"kvm\"\n", "libvirt-qemu", "libvirt-qemu" },
        { "user = \"qemu\"\ngroup = \"kvm\"\n", "qemu", "kvm" },
        { "  user   =   \"+0\"   \n", "+0", "libvirt-qemu" },
        { "user = qemu # unquoted\n", "qemu", "libvirt-qemu" },
        { "user = \"a\"\nuser = \"b\"\n", "b", "libvirt-qemu" },
        { "username = \"x\"\nuser_namespace = 1\n", "libvirt-qemu", "libvirt-qemu" },
        { "user = \"unterminated\n", "libvirt-qemu", "libvirt-qemu" },
        { "user =\n", "libvirt-qemu", "libvirt-qemu" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(t); i++) {
        g_autofree char *user = g_strdup("libvirt-qemu");
        g_autofree char *group = g_strdup("libvirt-qemu");

        hd_accel_parse_qemu_conf(t[i].text, &user, &group);
        if (strcmp(user, t[i].user) != 0 || strcmp(group, t[i].group) != 0)
            fail_msg("case %zu: %s/%s, want %s/%s", i, user, group, t[i].user, t[i].group);
    }
}

/* Shaped like /var/log/libvirt/qemu/NAME.log on the nested host of issue 9. */
static const char log_kie[] =
    "2026-11-23 21:00:00.000+0000: starting up libvirt version: 9.0.0, qemu version: 7.2\n"
    "LC_ALL=C /usr/bin/qemu-system-x86_64 -name guest=old -machine pc\n"
    "2026-11-23T21:00:01.000000Z qemu-system-x86_64: terminating on signal 15\n"
    "2026-11-23 21:10:30.398+0000: starting up libvirt version: 9.0.0, qemu version: 7.2\n"
    "LC_ALL=C \\\n"
    "/usr/bin/qemu-system-x86_64 \\\n"
    "-msg timestamp=on\n"
    "KVM internal error. Suberror: 1\n"
    "extra data[0]: 0x0000000000000001\n"
    "emulation failure\n"
    "RAX=0000000001ad29a0 RBX=0000000004782b64\n"
    "2026-11-23T21:10:50.992202Z qemu-system-x86_64: terminating on signal 15 from pid 1\n"
    "2026-11-23 21:10:52.397+0000: shutting down, reason=destroyed\n";

static const char log_msr[] =
    "2026-11-23 20:00:00.000+0000: starting up libvirt version: 9.0.0\n"
    "2026-11-23T20:00:01.1Z qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
    "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:2893: kvm_buf_set_msrs: Assertion `ret "
    "== cpu->kvm_msr_buf->nmsrs' failed.\n"
    "2026-11-23 20:00:02.000+0000: shutting down, reason=crashed\n";

static void test_qemu_log_error(void **state)
{
    g_autofree char *kie_reason = hd_accel_qemu_log_error(log_kie);
    g_autofree char *msr_reason = hd_accel_qemu_log_error(log_msr);
    g_autofree char *none = hd_accel_qemu_log_error("2026-11-23 20:00:00.000+0000: starting up "
                                                    "x\nall is well\n");
    g_autofree char *huge_text = NULL;
    g_autofree char *huge = NULL;
    GString *big = g_string_new("x: starting up y\n");

    assert_string_equal(kie_reason, "KVM internal error. Suberror: 1; emulation failure");
    assert_string_equal(msr_reason,
                        "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69; "
                        "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:2893: kvm_buf_set_msrs: "
                        "Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.");
    assert_null(none);
    assert_null(hd_accel_qemu_log_error(NULL));
    assert_null(hd_accel_qemu_log_error(""));
    for (int i = 0; i < 50; i++)
        g_string_append(big, "error: something went wrong in a very long way indeed\n");
    huge_text = g_string_free(big, FALSE);
    huge = hd_accel_qemu_log_error(huge_text);
    assert_non_null(huge);
    assert_true(strlen(huge) <= 404);
}

static void test_cache(void **state)
{
    HdAccelVerdict in = { .kvm = TRUE, .cpu = HD_CPU_HOST_MODEL };
    HdAccelVerdict out = { 0 };
    g_autoptr(GError) error = NULL;
    g_autofree char *json = NULL;
    static const char *const bad[] = {
        "",
        "[]",
        "{\"key\": \"k\"}",
        "{\"key\": \"k\", \"accelerator\": \"hvf\", \"cpu\": \"host-model\", \"reason\": \"kvm: "
        "x\"}",
        "{\"key\": \"k\", \"accelerator\": \"kvm\", \"cpu\": \"host\", \"reason\": \"kvm: x\"}",
        "{\"key\": \"k\", \"accelerator\": \"kvm\", \"cpu\": \"host-model\", \"reason\": \"tcg: "
        "x\"}",
        "{\"key\": 1, \"accelerator\": \"kvm\", \"cpu\": \"host-model\", \"reason\": \"kvm: x\"}",
        "{\"key\": \"k\", \"accelerator\": \"kvm\", \"cpu\": \"host-model\", \"reason\": \"kvm: "
        "x\"",
    };

    in.reason = g_strdup("kvm: probe guest booted with CPU host-model");
    json = hd_accel_cache_to_json("the key", &in, 1234);
    assert_true(hd_accel_cache_parse(json, strlen(json), "the key", &out, &error));
    assert_true(out.kvm);
    assert_int_equal(out.cpu, HD_CPU_HOST_MODEL);
    assert_string_equal(out.reason, in.reason);
    hd_accel_verdict_clear(&out);

    /* Made under another key: the host changed, probe again. */
    assert_false(hd_accel_cache_parse(json, strlen(json), "another key", &out, &error));
    assert_non_null(strstr(error->message, "another host state"));
    assert_null(out.reason);
    g_clear_error(&error);

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (hd_accel_cache_parse(bad[i], strlen(bad[i]), "k", &out, &error))
            fail_msg("bad cache %zu accepted", i);
        g_clear_error(&error);
    }
    assert_null(out.reason);
    hd_accel_verdict_clear(&in);
}

static void test_probe_xml(void **state)
{
    HdProbeXmlParams p = { .name = "hocusd-accel-probe",
                           .kvm = TRUE,
                           .kernel = "/g/vmlinuz",
                           .initrd = "/g/initrd.img",
                           .serial_path = "/var/lib/hocusd/accel-probe/console.log" };
    static const struct {
        HdCpuChoice cpu;
        const char *has;
    } cpus[] = {
        { HD_CPU_HOST_PASSTHROUGH, "<cpu mode=\"host-passthrough\"/>" },
        { HD_CPU_HOST_PASSTHROUGH_NO_ARCH_CAPS, "<feature name=\"arch-capabilities\" "
                                                "policy=\"disable\"/>" },
        { HD_CPU_HOST_MODEL, "<cpu mode=\"host-model\"/>" },
        { HD_CPU_KVM64, "<model>kvm64</model>" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cpus); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;

        p.cpu = cpus[i].cpu;
        xml = hd_probe_xml_build(&p, &error);
        assert_non_null(xml);
        if (strstr(xml, cpus[i].has) == NULL)
            fail_msg("cpu %s: no '%s' in\n%s", hd_cpu_choice_to_string(cpus[i].cpu), cpus[i].has,
                     xml);
        assert_non_null(strstr(xml, "<domain type=\"kvm\">"));
        assert_non_null(strstr(xml, "<serial type=\"file\">"));
        assert_non_null(strstr(xml, "path=\"/var/lib/hocusd/accel-probe/console.log\""));
        assert_non_null(strstr(xml, "<kernel>/g/vmlinuz</kernel>"));
        assert_non_null(strstr(xml, "console=ttyS0"));
        assert_null(strstr(xml, "<emulator>"));
    }
    {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;

        p.kvm = FALSE;
        p.emulator = "/tmp/e2e/fake-qemu & <x>";
        xml = hd_probe_xml_build(&p, &error);
        assert_non_null(xml);
        assert_non_null(strstr(xml, "<domain type=\"qemu\">"));
        /* Like a TCG workspace: QEMU's default CPU model. */
        assert_null(strstr(xml, "<cpu"));
        /* Escaped, and the first child of <devices>. */
        assert_non_null(strstr(xml, "<devices>\n    <emulator>/tmp/e2e/fake-qemu &amp; "
                                    "&lt;x&gt;</emulator>"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision_table), cmocka_unit_test(test_long_detail_is_clipped),
        cmocka_unit_test(test_names),          cmocka_unit_test(test_device_usable),
        cmocka_unit_test(test_format_mode),    cmocka_unit_test(test_qemu_conf),
        cmocka_unit_test(test_qemu_log_error), cmocka_unit_test(test_cache),
        cmocka_unit_test(test_probe_xml),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
