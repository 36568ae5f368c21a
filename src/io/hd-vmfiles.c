/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "hocusd/hd-vmfiles.h"

/* Every file read here is far smaller (stat, the longest, is ~350 bytes). */
#define BUF_SIZE 4096

typedef struct {
    char *path; /* NULL: this figure has no file (no cgroup2) */
    int fd;     /* -1 unless kept open */
} KFile;

typedef struct {
    gboolean found; /* pid and paths resolved */
    gboolean keep;  /* kernel files, within the descriptor budget: kept open */
    gint64 pid;
    KFile statm, stat, ksm, pressure;
    gboolean have_clock; /* the process's CPU-time clock, instead of stat */
    clockid_t clock;
} Entry;

struct _HdVmFiles {
    GMutex lock;
    char *root;
    char *cgroup2_mount;
    gboolean own_proc;   /* root's proc is this process's (same pid namespace) */
    GHashTable *entries; /* name -> Entry */
    guint open_fds, max_fds;
    guint64 page_size;
    guint64 ns_per_tick;
    char buf[BUF_SIZE];
};

static void kfile_close(HdVmFiles *f, KFile *k)
{
    if (k->fd >= 0) {
        close(k->fd);
        f->open_fds--;
    }
    k->fd = -1;
    g_clear_pointer(&k->path, g_free);
}

static void entry_close(HdVmFiles *f, Entry *e)
{
    kfile_close(f, &e->statm);
    kfile_close(f, &e->stat);
    kfile_close(f, &e->ksm);
    kfile_close(f, &e->pressure);
    e->found = FALSE;
    e->keep = FALSE;
    e->have_clock = FALSE;
}

static Entry *entry_new(void)
{
    Entry *e = g_new0(Entry, 1);

    e->statm.fd = e->stat.fd = e->ksm.fd = e->pressure.fd = -1;
    return e;
}

/* One pread of fd into f->buf (NUL-terminated): the length, or -1 with errno. */
static gssize read_into(HdVmFiles *f, int fd)
{
    gssize n = pread(fd, f->buf, BUF_SIZE, 0);

    if (n < 0)
        return -1;
    if (n >= BUF_SIZE || memchr(f->buf, '\0', (gsize)n) != NULL) {
        errno = EFBIG;
        return -1;
    }
    f->buf[n] = '\0';
    return n;
}

static gssize read_path(HdVmFiles *f, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    gssize n;
    int saved;

    if (fd < 0)
        return -1;
    n = read_into(f, fd);
    saved = errno;
    close(fd);
    errno = saved;
    return n;
}

/* One read of k: through its open descriptor, or open, read and close. */
static gssize kfile_read(HdVmFiles *f, Entry *e, KFile *k)
{
    if (k->path == NULL) {
        errno = ENOENT;
        return -1;
    }
    if (k->fd < 0 && e->keep && f->open_fds < f->max_fds) {
        k->fd = open(k->path, O_RDONLY | O_CLOEXEC);
        if (k->fd >= 0)
            f->open_fds++;
    }
    return k->fd >= 0 ? read_into(f, k->fd) : read_path(f, k->path);
}

static gboolean is_kernel_file(const char *path)
{
    struct statfs sfs;

    if (statfs(path, &sfs) != 0)
        return FALSE;
    return sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* The pid file, then the paths of the process's files. */
static void entry_find(HdVmFiles *f, Entry *e, const char *name)
{
    g_autofree char *pid_base = g_strconcat(name, ".pid", NULL);
    g_autofree char *pid_file = g_build_filename(f->root, "run/libvirt/qemu", pid_base, NULL);
    g_autofree char *cgroup_file = NULL;
    char *end;
    char cg[1024];

    entry_close(f, e);
    e->pid = 0;
    if (read_path(f, pid_file) < 0)
        return;
    e->pid = g_ascii_strtoll(f->buf, &end, 10);
    if (end == f->buf || (*end != '\n' && *end != '\0') || e->pid <= 0 || e->pid > G_MAXINT32) {
        e->pid = 0;
        return;
    }
    e->statm.path = g_strdup_printf("%s/proc/%" G_GINT64_FORMAT "/statm", f->root, e->pid);
    e->stat.path = g_strdup_printf("%s/proc/%" G_GINT64_FORMAT "/stat", f->root, e->pid);
    e->ksm.path =
        g_strdup_printf("%s/proc/%" G_GINT64_FORMAT "/ksm_merging_pages", f->root, e->pid);
    cgroup_file = g_strdup_printf("%s/proc/%" G_GINT64_FORMAT "/cgroup", f->root, e->pid);
    if (f->cgroup2_mount != NULL && read_path(f, cgroup_file) >= 0 &&
        hd_kp_cgroup2_path(f->buf, cg, sizeof(cg)))
        e->pressure.path = g_build_filename(f->root, f->cgroup2_mount, cg, "memory.pressure", NULL);
    e->found = TRUE;
    e->keep = is_kernel_file(e->statm.path);
    /* CPU time without formatting and parsing stat's 52 fields: a tenth of
     * the cost. Only where the pid is one of ours and statm is kept open, so
     * that a reused pid is noticed (see read_locked()). */
    e->have_clock = e->keep && f->own_proc && clock_getcpuclockid((pid_t)e->pid, &e->clock) == 0;
}

/* The same procfs (instance, hence pid namespace) as this process's /proc. */
static gboolean is_own_proc(const char *root)
{
    g_autofree char *proc = g_build_filename(root, "proc", NULL);
    struct stat a, b;

    return stat(proc, &a) == 0 && stat("/proc", &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static void entry_free(gpointer data)
{
    g_free(data); /* closed by the caller: closing needs the HdVmFiles */
}

HdVmFiles *hd_vm_files_new(const char *root, const char *cgroup2_mount)
{
    HdVmFiles *f = g_new0(HdVmFiles, 1);
    struct rlimit rl;
    long page = sysconf(_SC_PAGESIZE);
    long hz = sysconf(_SC_CLK_TCK);

    g_mutex_init(&f->lock);
    f->root = g_strdup(root);
    f->cgroup2_mount = g_strdup(cgroup2_mount);
    f->own_proc = is_own_proc(root);
    f->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
    f->page_size = page > 0 ? (guint64)page : 4096;
    f->ns_per_tick = hz > 0 ? G_GUINT64_CONSTANT(1000000000) / (guint64)hz : 0;
    /* Half of the descriptor limit; the rest is libvirt's, D-Bus's, the agent channels'. */
    f->max_fds = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        f->max_fds =
            rl.rlim_cur == RLIM_INFINITY ? G_MAXINT : (guint)MIN(rl.rlim_cur / 2, G_MAXINT);
    return f;
}

static void close_all(HdVmFiles *f)
{
    GHashTableIter it;
    Entry *e;

    g_hash_table_iter_init(&it, f->entries);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&e))
        entry_close(f, e);
}

void hd_vm_files_free(HdVmFiles *f)
{
    if (f == NULL)
        return;
    close_all(f);
    g_hash_table_unref(f->entries);
    g_free(f->root);
    g_free(f->cgroup2_mount);
    g_mutex_clear(&f->lock);
    g_free(f);
}

/* CPU time from the process's clock: FALSE (use stat) if it has none. */
static gboolean read_clock(const Entry *e, guint64 *ns)
{
    struct timespec ts;

    if (!e->have_clock || clock_gettime(e->clock, &ts) != 0 || ts.tv_sec < 0)
        return FALSE;
    *ns = (guint64)ts.tv_sec * G_GUINT64_CONSTANT(1000000000) + (guint64)ts.tv_nsec;
    return TRUE;
}

static void read_locked(HdVmFiles *f, const char *name, gboolean want_cpu, HdProcSample *out)
{
    Entry *e = g_hash_table_lookup(f->entries, name);
    uint64_t pages = 0, ticks = 0;
    gboolean have_clock = FALSE;
    guint64 clock_ns = 0;
    gssize n;

    if (e == NULL) {
        e = entry_new();
        g_hash_table_insert(f->entries, g_strdup(name), e);
    }

    /* Files outside the kernel can change under the same pid: find them again. */
    if (!e->found || !e->keep)
        entry_find(f, e, name);
    if (!e->found)
        return;
    /* The clock names a pid, statm's open descriptor the process: read the
     * clock first, and a statm that still reads proves the pid was not reused. */
    if (want_cpu)
        have_clock = read_clock(e, &clock_ns);
    n = kfile_read(f, e, &e->statm);
    if (n < 0 && e->keep && (errno == ESRCH || errno == ENOENT)) {
        /* That process is gone: a new QEMU, or none. */
        entry_find(f, e, name);
        if (!e->found)
            return;
        if (want_cpu)
            have_clock = read_clock(e, &clock_ns);
        n = kfile_read(f, e, &e->statm);
    }
    if (n < 0)
        f->buf[0] = '\0';
    out->have_pid = TRUE;
    out->pid = e->pid;
    if (hd_kp_statm_resident(f->buf, &pages) && pages <= G_MAXUINT64 / f->page_size) {
        out->have_rss = TRUE;
        out->rss_bytes = pages * f->page_size;
    }
    if (have_clock && n >= 0 && e->statm.fd >= 0) {
        out->have_cpu = TRUE;
        out->cpu_time_ns = clock_ns;
    } else if (want_cpu && f->ns_per_tick > 0 && kfile_read(f, e, &e->stat) >= 0 &&
               hd_kp_stat_cpu_ticks(f->buf, &ticks)) {
        out->have_cpu = TRUE;
        out->cpu_time_ns = ticks * f->ns_per_tick;
    }
    if (kfile_read(f, e, &e->ksm) >= 0) {
        bool is_max = false;
        uint64_t v = 0;

        out->have_ksm = hd_kp_u64_or_max(f->buf, &v, &is_max) && !is_max;
        out->ksm_merging_pages = v;
    }
    if (kfile_read(f, e, &e->pressure) >= 0)
        out->have_psi = hd_kp_psi(f->buf, &out->psi);
}

void hd_vm_files_read(HdVmFiles *f, const char *name, gboolean want_cpu, HdProcSample *out)
{
    *out = (HdProcSample){ 0 };
    g_mutex_lock(&f->lock);
    f->buf[0] = '\0';
    read_locked(f, name, want_cpu, out);
    g_mutex_unlock(&f->lock);
}

void hd_vm_files_retain(HdVmFiles *f, GHashTable *names)
{
    GHashTableIter it;
    const char *name;
    Entry *e;

    g_mutex_lock(&f->lock);
    g_hash_table_iter_init(&it, f->entries);
    while (g_hash_table_iter_next(&it, (gpointer *)&name, (gpointer *)&e)) {
        if (!g_hash_table_contains(names, name)) {
            entry_close(f, e);
            g_hash_table_iter_remove(&it);
        }
    }
    g_mutex_unlock(&f->lock);
}

guint hd_vm_files_open_count(HdVmFiles *f)
{
    guint n;

    g_mutex_lock(&f->lock);
    n = f->open_fds;
    g_mutex_unlock(&f->lock);
    return n;
}
