/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Parsers of Linux kernel files (meminfo, PSI, cgroup and procfs files), from
 * text already in memory. Plain C without GLib: hocus-agent links this file
 * statically into the guest, hocusd uses it on the host. Every parser has a
 * table test with malformed input (tests/core/test-kparse.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* /proc/meminfo; values in bytes. have_* say which keys were present. */
typedef struct {
    uint64_t total, free, available, cached, buffers, shmem, anon, unevictable, mlocked;
    uint64_t active_file, inactive_file;
    bool have_total, have_free, have_available, have_cached, have_anon, have_file;
} HdKpMeminfo;

/* FALSE unless MemTotal is there; the rest as present. */
bool hd_kp_meminfo(const char *text, HdKpMeminfo *out);

/* One PSI line: "avg10=.. avg60=.. avg300=.. total=.." */
typedef struct {
    double avg10, avg60, avg300;
    uint64_t total_us;
} HdKpPsiLine;

typedef struct {
    HdKpPsiLine some, full;
    bool have_some, have_full;
} HdKpPsi;

/* /proc/pressure/memory or a cgroup's memory.pressure; FALSE without "some". */
bool hd_kp_psi(const char *text, HdKpPsi *out);

/* "key value" lines (memory.stat, ksm_stat); FALSE when key is absent. */
bool hd_kp_kv(const char *text, const char *key, uint64_t *value);

/* A single number, or "max" (sets *is_max). */
bool hd_kp_u64_or_max(const char *text, uint64_t *value, bool *is_max);

/* "always madvise [never]" -> "never". Writes at most len-1 chars. */
bool hd_kp_thp_mode(const char *text, char *mode, size_t len);

/* virtio "features" file: a string of '0'/'1', one per feature bit. */
bool hd_kp_feature_bit(const char *features, unsigned bit);

/* "hocus.reclaim=0" style kernel cmdline lookup; value copied into buf. */
bool hd_kp_cmdline_get(const char *cmdline, const char *key, char *buf, size_t len);

/* /proc/<pid>/cgroup: the cgroup v2 path ("0::PATH"); FALSE on v1-only hosts. */
bool hd_kp_cgroup2_path(const char *text, char *path, size_t len);

/* /proc/<pid>/statm: the second field, resident pages (the same count as
 * VmRSS in /proc/<pid>/status, without formatting the other 50 lines). */
bool hd_kp_statm_resident(const char *text, uint64_t *pages);

/* /proc/<pid>/stat: utime + stime, in clock ticks. */
bool hd_kp_stat_cpu_ticks(const char *text, uint64_t *ticks);

/* /proc/self/mountinfo: where cgroup2 is mounted (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid hosts). */
bool hd_kp_cgroup2_mount(const char *mountinfo, char *path, size_t len);

#ifdef __cplusplus
}
#endif
