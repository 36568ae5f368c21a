/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "hocusd/hd-kparse.h"

G_BEGIN_DECLS

/*
 * The kernel files of each workspace's QEMU process, for the sampler.
 *
 * A workspace's files are found once per QEMU process: the pid from
 * <root>/run/libvirt/qemu/<name>.pid, the cgroup from /proc/<pid>/cgroup.
 * The files read at every sample (/proc/<pid>/statm, ksm_merging_pages,
 * stat when asked, the cgroup's memory.pressure) are then kept open and
 * read with one pread each into one buffer. When a read fails because the
 * process is gone (a restart, a stop), its files are closed and found again.
 * CPU time, when asked, comes from the process's CPU-time clock
 * (clock_getcpuclockid) where <root>/proc is this process's own /proc and
 * statm is kept open; stat is the fallback.
 *
 * Only kernel files (procfs, cgroup2) are kept open, and only as many as
 * half the descriptor limit allows; files elsewhere (the fixture trees of
 * the tests) are opened for each read and their workspace found again at
 * every sample, since they can change under the same pid.
 *
 * Thread-safe: calls are serialised by a mutex (samplers run on workers).
 */

typedef struct {
    gboolean have_pid;
    gint64 pid;
    gboolean have_rss;
    guint64 rss_bytes; /* statm resident pages x page size (= VmRSS) */
    gboolean have_cpu;
    guint64 cpu_time_ns;
    gboolean have_psi;
    HdKpPsi psi; /* memory.pressure of the VM's cgroup (v2) */
    gboolean have_ksm;
    guint64 ksm_merging_pages;
} HdProcSample;

typedef struct _HdVmFiles HdVmFiles;

/* cgroup2_mount: where cgroup2 is (hd_procfs_cgroup2_mount()), or NULL. */
HdVmFiles *hd_vm_files_new(const char *root, const char *cgroup2_mount);
void hd_vm_files_free(HdVmFiles *files);

/* One sample of name's QEMU; /proc/<pid>/stat (CPU time) only if want_cpu. */
void hd_vm_files_read(HdVmFiles *files, const char *name, gboolean want_cpu, HdProcSample *out);

/* Forget (and close the files of) every workspace not in names (a set). */
void hd_vm_files_retain(HdVmFiles *files, GHashTable *names);

/* Descriptors held open now (for tests and the benchmark's notes). */
guint hd_vm_files_open_count(HdVmFiles *files);

G_END_DECLS
