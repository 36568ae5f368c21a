/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hocus-agent main loop: once per interval, sample, decide, reclaim, report.
 * See ha.h for the parts and docs/agent-protocol.md for the line format.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ha-lock.h"
#include "ha-port.h"
#include "ha-sys.h"

#define MAX_LOCK_NAMES 16

typedef struct {
    const char *root;
    const char *port;
    const char *cgroup; /* reclaim target; the root cgroup by default */
    unsigned interval_ms;
    bool reclaim;
    bool to_stdout;
    long count; /* lines to write, then exit (0: forever) */
    uint64_t lock_budget;
    const char *lock_files[MAX_LOCK_NAMES + 1];
    const char *lock_procs[MAX_LOCK_NAMES + 1];
    HaReclaimParams params;
} Options;

/* Reclaim requests from the host (docs/agent-protocol.md). */
typedef struct {
    bool pending;
    HaRequest req;
    uint64_t requests, done, rejected, malformed, unknown;
    uint64_t last_seq, reclaimed;
    const char *last_result;
} HostRequests;

typedef struct {
    uint64_t requested, reclaimed, ops, eagain, errors;
    uint64_t last_step;
    HaReclaimDecision last;
    HaReclaimState state;
    HostRequests host;
} ReclaimStats;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool cgroup_is_root(const Options *o)
{
    return strcmp(o->cgroup, "/sys/fs/cgroup") == 0;
}

typedef struct {
    HdKpMeminfo mem;
    HdKpPsi psi;
    bool have_mem, have_psi;
    bool have_current, have_high, have_max, have_file, have_anon;
    uint64_t current, high, max, file, anon;
    bool high_is_max, max_is_max;
} Sample;

static void sample(const Options *o, Sample *s)
{
    char buf[8192], path[512];

    memset(s, 0, sizeof(*s));
    if (ha_read(o->root, "/proc/meminfo", buf, sizeof(buf)))
        s->have_mem = hd_kp_meminfo(buf, &s->mem);
    /* The root cgroup has no memory.pressure of its own: system-wide PSI is it. */
    if (cgroup_is_root(o))
        snprintf(path, sizeof(path), "/proc/pressure/memory");
    else
        snprintf(path, sizeof(path), "%s/memory.pressure", o->cgroup);
    if (ha_read(o->root, path, buf, sizeof(buf)))
        s->have_psi = hd_kp_psi(buf, &s->psi);
    if (!cgroup_is_root(o)) {
        snprintf(path, sizeof(path), "%s/memory.current", o->cgroup);
        if (ha_read(o->root, path, buf, sizeof(buf)))
            s->have_current = hd_kp_u64_or_max(buf, &s->current, &s->high_is_max);
        snprintf(path, sizeof(path), "%s/memory.high", o->cgroup);
        if (ha_read(o->root, path, buf, sizeof(buf)))
            s->have_high = hd_kp_u64_or_max(buf, &s->high, &s->high_is_max);
        snprintf(path, sizeof(path), "%s/memory.max", o->cgroup);
        if (ha_read(o->root, path, buf, sizeof(buf)))
            s->have_max = hd_kp_u64_or_max(buf, &s->max, &s->max_is_max);
    }
    snprintf(path, sizeof(path), "%s/memory.stat", o->cgroup);
    if (ha_read(o->root, path, buf, sizeof(buf))) {
        s->have_file = hd_kp_kv(buf, "file", &s->file);
        s->have_anon = hd_kp_kv(buf, "anon", &s->anon);
    }
    if (!s->have_file && s->have_mem && s->mem.have_file) {
        s->file = s->mem.active_file + s->mem.inactive_file;
        s->have_file = true;
    }
}

/* memory.reclaim: the kernel reclaims up to the amount, from the cold end of
 * the LRU first; EAGAIN means it found less, which is normal. */
static void do_reclaim(const Options *o, ReclaimStats *r, const Sample *before, uint64_t bytes)
{
    char path[512], amount[32];
    Sample after;
    int rc;

    snprintf(path, sizeof(path), "%s/memory.reclaim", o->cgroup);
    snprintf(amount, sizeof(amount), "%llu", (unsigned long long)bytes);
    rc = ha_write(o->root, path, amount);
    r->ops++;
    r->requested += bytes;
    r->last_step = bytes;
    if (rc == -EAGAIN)
        r->eagain++;
    else if (rc < 0)
        r->errors++;
    sample(o, &after);
    if (after.have_file && before->have_file && after.file < before->file)
        r->reclaimed += before->file - after.file;
}

static void emit_psi(HaJson *j, const char *key, const HdKpPsiLine *l, bool have)
{
    if (!have) {
        ha_json_null(j, key);
        return;
    }
    ha_json_begin_object(j, key);
    ha_json_double(j, "avg10", l->avg10);
    ha_json_double(j, "avg60", l->avg60);
    ha_json_double(j, "avg300", l->avg300);
    ha_json_u64(j, "total_us", l->total_us);
    ha_json_end_object(j);
}

static void emit_opt_u64(HaJson *j, const char *key, bool have, uint64_t v, bool is_max)
{
    if (!have)
        ha_json_null(j, key);
    else if (is_max)
        ha_json_string(j, key, "max");
    else
        ha_json_u64(j, key, v);
}

static void emit_recipe(HaJson *j, const HaRecipe *rc)
{
    ha_json_begin_object(j, "recipe");
    ha_json_bool(j, "ok", ha_recipe_ok(rc));
    if (rc->page_reporting_order >= 0)
        ha_json_i64(j, "page_reporting_order", rc->page_reporting_order);
    else
        ha_json_null(j, "page_reporting_order");
    ha_json_string(j, "thp", rc->thp[0] != '\0' ? rc->thp : NULL);
    ha_json_bool(j, "balloon", rc->balloon_bound);
    ha_json_bool(j, "free_page_reporting", rc->free_page_reporting);
    ha_json_bool(j, "psi", rc->psi);
    ha_json_bool(j, "cgroup2_memory", rc->cgroup2_memory);
    if (!rc->damon_present) {
        ha_json_null(j, "damon_reclaim");
    } else {
        ha_json_begin_object(j, "damon_reclaim");
        ha_json_bool(j, "enabled", rc->damon_enabled);
        ha_json_i64(j, "kdamond_pid", rc->damon_kdamond_pid);
        ha_json_u64(j, "nr_tried", rc->damon_nr_tried);
        ha_json_u64(j, "bytes_tried", rc->damon_bytes_tried);
        ha_json_u64(j, "nr_reclaimed", rc->damon_nr_reclaimed);
        ha_json_u64(j, "bytes_reclaimed", rc->damon_bytes_reclaimed);
        ha_json_u64(j, "quota_exceeds", rc->damon_quota_exceeds);
        ha_json_end_object(j);
    }
    ha_json_begin_array(j, "missing");
    if (rc->page_reporting_order < 0)
        ha_json_string(j, NULL, "page_reporting");
    if (rc->thp[0] == '\0')
        ha_json_string(j, NULL, "transparent_hugepage");
    if (!rc->balloon_bound)
        ha_json_string(j, NULL, "virtio_balloon");
    else if (!rc->free_page_reporting)
        ha_json_string(j, NULL, "free_page_reporting");
    if (!rc->psi)
        ha_json_string(j, NULL, "psi");
    if (!rc->cgroup2_memory)
        ha_json_string(j, NULL, "cgroup2_memory");
    if (!rc->damon_present)
        ha_json_string(j, NULL, "damon_reclaim");
    ha_json_end_array(j);
    ha_json_end_object(j);
}

static size_t build_line(char *buf, size_t cap, uint64_t seq, uint64_t uptime_ms, const Options *o,
                         const Sample *s, const ReclaimStats *r, const HaRecipe *rc,
                         const HaLock *lk, uint64_t dropped)
{
    HaJson j;

    ha_json_init(&j, buf, cap);
    ha_json_begin_object(&j, NULL);
    ha_json_u64(&j, "v", HA_PROTOCOL_VERSION);
    ha_json_string(&j, "type", "telemetry");
    ha_json_u64(&j, "seq", seq);
    ha_json_u64(&j, "uptime_ms", uptime_ms);

    ha_json_begin_object(&j, "psi");
    emit_psi(&j, "some", &s->psi.some, s->have_psi && s->psi.have_some);
    emit_psi(&j, "full", &s->psi.full, s->have_psi && s->psi.have_full);
    ha_json_end_object(&j);

    if (!s->have_mem) {
        ha_json_null(&j, "mem");
    } else {
        ha_json_begin_object(&j, "mem");
        ha_json_u64(&j, "total", s->mem.total);
        ha_json_u64(&j, "free", s->mem.free);
        emit_opt_u64(&j, "available", s->mem.have_available, s->mem.available, false);
        ha_json_u64(&j, "cached", s->mem.cached);
        ha_json_u64(&j, "buffers", s->mem.buffers);
        ha_json_u64(&j, "anon", s->mem.anon);
        ha_json_u64(&j, "shmem", s->mem.shmem);
        ha_json_u64(&j, "mlocked", s->mem.mlocked);
        ha_json_end_object(&j);
    }

    ha_json_begin_object(&j, "cgroup");
    ha_json_string(&j, "path", o->cgroup);
    emit_opt_u64(&j, "current", s->have_current, s->current, false);
    emit_opt_u64(&j, "high", s->have_high, s->high, s->high_is_max);
    emit_opt_u64(&j, "max", s->have_max, s->max, s->max_is_max);
    emit_opt_u64(&j, "file", s->have_file, s->file, false);
    emit_opt_u64(&j, "anon", s->have_anon, s->anon, false);
    ha_json_end_object(&j);

    ha_json_begin_object(&j, "reclaim");
    ha_json_bool(&j, "enabled", o->reclaim);
    ha_json_string(&j, "state", o->reclaim ? ha_reclaim_action_name(r->last.action) : "disabled");
    ha_json_double(&j, "pressure_pct", r->last.pressure >= 0 ? r->last.pressure * 100.0 : 0.0);
    ha_json_u64(&j, "ops", r->ops);
    ha_json_u64(&j, "requested_bytes", r->requested);
    ha_json_u64(&j, "reclaimed_bytes", r->reclaimed);
    ha_json_u64(&j, "last_step_bytes", r->last_step);
    ha_json_u64(&j, "backoff_ms", r->state.backoff_us / 1000);
    ha_json_u64(&j, "errors", r->errors);
    ha_json_end_object(&j);

    ha_json_begin_object(&j, "host");
    ha_json_u64(&j, "requests", r->host.requests);
    ha_json_u64(&j, "done", r->host.done);
    ha_json_u64(&j, "rejected", r->host.rejected + r->host.malformed);
    ha_json_u64(&j, "last_seq", r->host.last_seq);
    ha_json_string(&j, "last_result", r->host.last_result);
    ha_json_u64(&j, "reclaimed_bytes", r->host.reclaimed);
    ha_json_end_object(&j);

    ha_json_begin_object(&j, "lock");
    ha_json_u64(&j, "files", (uint64_t)lk->n);
    ha_json_u64(&j, "bytes", lk->bytes);
    ha_json_end_object(&j);

    emit_recipe(&j, rc);
    ha_json_u64(&j, "dropped_lines", dropped);
    ha_json_end_object(&j);
    if (!ha_json_finish(&j)) {
        /* Cannot happen with the fields above, but the bound is the protocol's. */
        snprintf(buf, cap,
                 "{\"v\":%d,\"type\":\"error\",\"seq\":%llu,\"error\":\"line too long\"}\n",
                 HA_PROTOCOL_VERSION, (unsigned long long)seq);
        return strlen(buf);
    }
    return j.len;
}

static void usage(FILE *f)
{
    fputs("Usage: hocus-agent [OPTION...]\n"
          "\n"
          "Runs in a hocusd workspace: reclaims cold page cache while the guest shows no\n"
          "memory stall, keeps critical binaries resident, checks the memory recipe and\n"
          "writes one JSON line per interval to the virtio-serial port " HA_PORT_NAME ".\n"
          "\n"
          "  --interval-ms N        sampling interval (default 1000)\n"
          "  --cgroup PATH          reclaim target (default /sys/fs/cgroup, the whole guest)\n"
          "  --no-reclaim           report only (also: hocus.reclaim=0 on the kernel cmdline)\n"
          "  --pressure-target PCT  back off above this stall share (default 0.1 %)\n"
          "  --max-step-mb N        largest reclaim per interval (default 256)\n"
          "  --file-floor-mb N      never shrink the page cache below this (default 16)\n"
          "  --lock-process NAME    keep the binaries of processes called NAME resident\n"
          "                         (repeatable; default sshd)\n"
          "  --lock-file PATH       keep PATH resident (repeatable)\n"
          "  --lock-budget-mb N     at most this much locked (default 64)\n"
          "  --stdout               write lines to standard output, not the port\n"
          "  --count N              write N lines, then exit\n"
          "  --root DIR             read /proc and /sys below DIR (tests)\n"
          "  -h, --help             this text\n",
          f);
}

static int parse_options(int argc, char **argv, Options *o)
{
    static const struct option longopts[] = {
        { "interval-ms", required_argument, NULL, 'i' },
        { "cgroup", required_argument, NULL, 'c' },
        { "no-reclaim", no_argument, NULL, 'n' },
        { "pressure-target", required_argument, NULL, 'p' },
        { "max-step-mb", required_argument, NULL, 'm' },
        { "file-floor-mb", required_argument, NULL, 'f' },
        { "lock-process", required_argument, NULL, 'P' },
        { "lock-file", required_argument, NULL, 'F' },
        { "lock-budget-mb", required_argument, NULL, 'b' },
        { "stdout", no_argument, NULL, 's' },
        { "count", required_argument, NULL, 'C' },
        { "root", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, nfiles = 0, nprocs = 0;
    char *end;
    double d;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            o->interval_ms = (unsigned)strtoul(optarg, &end, 10);
            if (*end != '\0' || o->interval_ms < 100 || o->interval_ms > 60000) {
                fprintf(stderr, "hocus-agent: --interval-ms must be 100..60000\n");
                return 2;
            }
            break;
        case 'c':
            o->cgroup = optarg;
            break;
        case 'n':
            o->reclaim = false;
            break;
        case 'p':
            d = strtod(optarg, &end);
            if (*end != '\0' || !(d > 0.0 && d <= 100.0)) {
                fprintf(stderr, "hocus-agent: --pressure-target must be in (0, 100]\n");
                return 2;
            }
            o->params.pressure_target = d / 100.0;
            break;
        case 'm':
        case 'f':
        case 'b': {
            unsigned long long mb = strtoull(optarg, &end, 10);
            if (*end != '\0' || mb > 1u << 20) {
                fprintf(stderr, "hocus-agent: bad size '%s' (MiB)\n", optarg);
                return 2;
            }
            if (c == 'm')
                o->params.max_step = mb << 20;
            else if (c == 'f')
                o->params.file_floor = mb << 20;
            else
                o->lock_budget = mb << 20;
            break;
        }
        case 'P':
            if (nprocs == MAX_LOCK_NAMES)
                return 2;
            o->lock_procs[nprocs++] = optarg;
            o->lock_procs[nprocs] = NULL;
            break;
        case 'F':
            if (nfiles == MAX_LOCK_NAMES)
                return 2;
            o->lock_files[nfiles++] = optarg;
            o->lock_files[nfiles] = NULL;
            break;
        case 's':
            o->to_stdout = true;
            break;
        case 'C':
            o->count = strtol(optarg, &end, 10);
            if (*end != '\0' || o->count < 0)
                return 2;
            break;
        case 'r':
            o->root = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hocus-agent: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

static void on_host_line(const char *line, size_t len, void *user_data)
{
    HostRequests *h = user_data;
    HaRequest req;

    switch (ha_request_parse(line, len, &req)) {
    case HA_REQUEST_RECLAIM:
        h->requests++;
        h->last_seq = req.seq;
        if (h->pending)
            h->rejected++; /* superseded before it ran */
        h->pending = true;
        h->req = req;
        break;
    case HA_REQUEST_UNKNOWN:
        h->unknown++;
        break;
    case HA_REQUEST_MALFORMED:
        h->malformed++;
        h->last_result = "malformed";
        break;
    }
}

/* At most 4 KiB a tick is read: the host cannot make the agent spin. */
static void read_host(HaPort *port, HaLineIn *in, HostRequests *h)
{
    char buf[1024];

    for (int i = 0; i < 4 && port->fd >= 0; i++) {
        long n = ha_port_read(port, buf, sizeof(buf));

        if (n <= 0)
            return;
        ha_linein_feed(in, buf, (size_t)n, on_host_line, h);
    }
}

static void run_host_request(const Options *o, ReclaimStats *r, const Sample *s, uint64_t now)
{
    HostRequests *h = &r->host;
    uint64_t bytes, before = r->reclaimed;
    const char *why = "reclaim disabled";

    if (!h->pending)
        return;
    h->pending = false;
    bytes = o->reclaim && s->have_file
                ? ha_request_reclaim_bytes(&o->params, &r->state, now, h->req.bytes, s->file, &why)
                : 0;
    if (bytes == 0) {
        h->rejected++;
        h->last_result = why;
        return;
    }
    do_reclaim(o, r, s, bytes);
    h->done++;
    h->reclaimed += r->reclaimed - before;
    h->last_result = "ok";
}

int main(int argc, char **argv)
{
    static char line[HA_LINE_MAX];
    Options o = { .root = "",
                  .port = HA_PORT_NAME,
                  .cgroup = "/sys/fs/cgroup",
                  .interval_ms = 1000,
                  .reclaim = true,
                  .lock_budget = 64ull << 20,
                  .lock_procs = { "sshd", NULL } };
    ReclaimStats r = { .host.last_result = "none" };
    static HaLineIn host_in;
    HaRecipe rc;
    HaLock lk;
    char cmdline[4096], value[16];
    uint64_t seq = 0, dropped = 0, start, next, last_lock_scan = 0;
    HaPort port;
    int rv;
    struct sigaction sa = { .sa_handler = on_signal };

    ha_reclaim_params_default(&o.params);
    rv = parse_options(argc, argv, &o);
    if (rv != 0)
        return rv;
    if (ha_read(o.root, "/proc/cmdline", cmdline, sizeof(cmdline)) &&
        hd_kp_cmdline_get(cmdline, "hocus.reclaim", value, sizeof(value)))
        o.reclaim = strcmp(value, "0") != 0 && strcmp(value, "off") != 0;

    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    ha_port_init(&port);
    /* Never evicted, never swapped: the agent must work under memory pressure. */
    if (o.root[0] == '\0' && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        fprintf(stderr, "hocus-agent: mlockall: %s\n", strerror(errno));
    ha_lock_init(&lk, o.lock_budget);

    ha_recipe_check(o.root, &rc);
    if (!ha_recipe_ok(&rc))
        fprintf(stderr,
                "hocus-agent: memory recipe incomplete: page_reporting_order=%d thp=%s "
                "free_page_reporting=%d psi=%d\n",
                rc.page_reporting_order, rc.thp[0] ? rc.thp : "?", rc.free_page_reporting, rc.psi);

    start = next = now_us();
    while (!stop) {
        Sample s;
        uint64_t t = now_us();
        size_t len;

        if (last_lock_scan == 0 || t - last_lock_scan > 30000000) {
            /* Re-scan: sshd may have started (or restarted) since. */
            for (int i = 0; o.lock_files[i] != NULL; i++)
                ha_lock_file(&lk, o.lock_files[i]);
            ha_lock_processes(&lk, o.root, o.lock_procs);
            ha_recipe_check(o.root, &rc);
            last_lock_scan = t;
        } else {
            /* DAMON counters move; the rest of the recipe is fixed after boot. */
            HaRecipe fresh;
            ha_recipe_check(o.root, &fresh);
            rc = fresh;
        }

        sample(&o, &s);
        if (o.reclaim) {
            HaReclaimInput in = { .now_us = t,
                                  .have_psi = s.have_psi,
                                  .stall_total_us = s.psi.some.total_us,
                                  .file_bytes = s.have_file ? s.file : 0 };
            r.last = ha_reclaim_decide(&o.params, &r.state, &in);
            if (r.last.action == HA_RECLAIM_RECLAIM && s.have_file)
                do_reclaim(&o, &r, &s, r.last.bytes);
        }
        run_host_request(&o, &r, &s, t);

        len = build_line(line, sizeof(line), seq++, (t - start) / 1000, &o, &s, &r, &rc, &lk,
                         dropped);
        if (o.to_stdout) {
            fwrite(line, 1, len, stdout);
            fflush(stdout);
        } else {
            if (port.fd < 0)
                port.fd = ha_port_open(o.root, o.port);
            if (port.fd >= 0 && ha_port_send(&port, line, len) < 0)
                dropped++;
            read_host(&port, &host_in, &r.host);
        }
        if (o.count > 0 && (long)seq >= o.count)
            break;

        next += (uint64_t)o.interval_ms * 1000;
        t = now_us();
        if (next > t) {
            struct timespec ts = { (time_t)((next - t) / 1000000),
                                   (long)((next - t) % 1000000) * 1000 };
            nanosleep(&ts, NULL);
        } else {
            next = t; /* fell behind (a long reclaim): do not burst */
        }
    }
    return 0;
}
