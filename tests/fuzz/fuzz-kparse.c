/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel-file parsers hocusd runs on host files and hocus-agent on the
 * guest's (whose kernel the host does not trust). */
#include "fuzz-common.h"
#include "hocusd/hd-kparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_text(data, size);
    HdKpMeminfo m;
    HdKpPsi p;
    uint64_t v;
    bool is_max;
    char buf[256];

    hd_kp_meminfo(text, &m);
    hd_kp_psi(text, &p);
    hd_kp_kv(text, "pages_sharing", &v);
    hd_kp_u64_or_max(text, &v, &is_max);
    hd_kp_thp_mode(text, buf, sizeof(buf));
    hd_kp_feature_bit(text, 28);
    hd_kp_cmdline_get(text, "hocus.reclaim", buf, sizeof(buf));
    hd_kp_cgroup2_path(text, buf, sizeof(buf));
    hd_kp_statm_resident(text, &v);
    hd_kp_stat_cpu_ticks(text, &v);
    hd_kp_cgroup2_mount(text, buf, sizeof(buf));
    return 0;
}
