/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The accelerator probe's inputs: QEMU's log, libvirt's qemu.conf and the
 * cached verdict file. */
#include "fuzz-common.h"
#include "hocusd/hd-accel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_text(data, size);
    g_autofree char *log = hd_accel_qemu_log_error(text);
    g_autofree char *user = g_strdup("libvirt-qemu"), *group = NULL;
    HdAccelVerdict v = { 0 };

    g_assert(log == NULL || strlen(log) <= 404);
    hd_accel_parse_qemu_conf(text, &user, &group);
    if (hd_accel_cache_parse(text, size, "key", &v, NULL))
        g_assert(g_str_has_prefix(v.reason, v.kvm ? "kvm: " : "tcg: "));
    hd_accel_verdict_clear(&v);
    return 0;
}
