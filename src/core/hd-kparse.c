/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers of Linux kernel files, from text already read into memory: no I/O,
 * no allocation, plain C. Shared by hocusd (host side) and hocus-agent (in the
 * guest, linked statically without GLib).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hocusd/hd-kparse.h"

/* Parse an unsigned decimal at *p; advances *p. */
static bool parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

bool hd_kp_meminfo(const char *text, HdKpMeminfo *out)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        { "MemTotal", offsetof(HdKpMeminfo, total) },
        { "MemFree", offsetof(HdKpMeminfo, free) },
        { "MemAvailable", offsetof(HdKpMeminfo, available) },
        { "Cached", offsetof(HdKpMeminfo, cached) },
        { "Buffers", offsetof(HdKpMeminfo, buffers) },
        { "Shmem", offsetof(HdKpMeminfo, shmem) },
        { "AnonPages", offsetof(HdKpMeminfo, anon) },
        { "Unevictable", offsetof(HdKpMeminfo, unevictable) },
        { "Mlocked", offsetof(HdKpMeminfo, mlocked) },
        { "Active(file)", offsetof(HdKpMeminfo, active_file) },
        { "Inactive(file)", offsetof(HdKpMeminfo, inactive_file) },
    };
    const char *line = text;
    bool active = false, inactive = false;

    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return false;
    while (*line != '\0') {
        const char *eol = strchr(line, '\n');
        const char *colon = memchr(line, ':', eol != NULL ? (size_t)(eol - line) : strlen(line));

        if (colon != NULL) {
            size_t klen = (size_t)(colon - line);
            for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                const char *p = colon + 1;
                uint64_t kib;

                if (strlen(keys[i].key) != klen || strncmp(line, keys[i].key, klen) != 0)
                    continue;
                while (*p == ' ' || *p == '\t')
                    p++;
                /* The kernel writes kB; anything else is not meminfo as we know it. */
                if (!parse_u64(&p, &kib) || strncmp(p, " kB", 3) != 0 || kib > UINT64_MAX / 1024)
                    break;
                *(uint64_t *)((char *)out + keys[i].off) = kib * 1024;
                if (i == 0)
                    out->have_total = true;
                else if (i == 1)
                    out->have_free = true;
                else if (i == 2)
                    out->have_available = true;
                else if (i == 3)
                    out->have_cached = true;
                else if (i == 6)
                    out->have_anon = true;
                else if (i == 9)
                    active = true;
                else if (i == 10)
                    inactive = true;
                break;
            }
        }
        if (eol == NULL)
            break;
        line = eol + 1;
    }
    out->have_file = active && inactive;
    return out->have_total;
}

static bool psi_line(const char *p, HdKpPsiLine *out)
{
    /* avg10=0.12 avg60=0.00 avg300=0.00 total=12345 */
    static const char *const names[] = { "avg10=", "avg60=", "avg300=" };
    double *dst[] = { &out->avg10, &out->avg60, &out->avg300 };

    for (int i = 0; i < 3; i++) {
        char *end;
        while (*p == ' ')
            p++;
        if (strncmp(p, names[i], strlen(names[i])) != 0)
            return false;
        p += strlen(names[i]);
        errno = 0;
        *dst[i] = strtod(p, &end);
        if (end == p || errno != 0 || !(*dst[i] >= 0.0 && *dst[i] <= 100.0))
            return false;
        p = end;
    }
    while (*p == ' ')
        p++;
    if (strncmp(p, "total=", 6) != 0)
        return false;
    p += 6;
    return parse_u64(&p, &out->total_us) && (*p == '\0' || *p == '\n');
}

bool hd_kp_psi(const char *text, HdKpPsi *out)
{
    const char *line = text;

    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return false;
    while (*line != '\0') {
        if (strncmp(line, "some ", 5) == 0)
            out->have_some = psi_line(line + 5, &out->some);
        else if (strncmp(line, "full ", 5) == 0)
            out->have_full = psi_line(line + 5, &out->full);
        line = strchr(line, '\n');
        if (line == NULL)
            break;
        line++;
    }
    return out->have_some;
}

bool hd_kp_kv(const char *text, const char *key, uint64_t *value)
{
    size_t klen = strlen(key);
    const char *line = text;

    if (text == NULL)
        return false;
    while (*line != '\0') {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            const char *p = line + klen + 1;
            uint64_t v;
            if (parse_u64(&p, &v) && (*p == '\n' || *p == '\0')) {
                *value = v;
                return true;
            }
            return false;
        }
        line = strchr(line, '\n');
        if (line == NULL)
            break;
        line++;
    }
    return false;
}

bool hd_kp_u64_or_max(const char *text, uint64_t *value, bool *is_max)
{
    const char *p = text;

    *is_max = false;
    if (text == NULL)
        return false;
    if (strncmp(text, "max", 3) == 0 && (text[3] == '\n' || text[3] == '\0')) {
        *is_max = true;
        *value = UINT64_MAX;
        return true;
    }
    return parse_u64(&p, value) && (*p == '\n' || *p == '\0');
}

bool hd_kp_thp_mode(const char *text, char *mode, size_t len)
{
    const char *open, *close;

    if (text == NULL || len == 0)
        return false;
    open = strchr(text, '[');
    close = open != NULL ? strchr(open, ']') : NULL;
    if (close == NULL || (size_t)(close - open - 1) >= len || close == open + 1)
        return false;
    memcpy(mode, open + 1, (size_t)(close - open - 1));
    mode[close - open - 1] = '\0';
    for (char *c = mode; *c; c++) {
        if (!islower((unsigned char)*c))
            return false;
    }
    return true;
}

bool hd_kp_feature_bit(const char *features, unsigned bit)
{
    if (features == NULL || strlen(features) <= bit)
        return false;
    return features[bit] == '1';
}

bool hd_kp_cmdline_get(const char *cmdline, const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);
    const char *p = cmdline;

    if (cmdline == NULL || len == 0)
        return false;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\n')
            p++;
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t vlen = strcspn(v, " \n");
            if (vlen >= len)
                return false;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return true;
        }
        p += strcspn(p, " \n");
    }
    return false;
}

bool hd_kp_cgroup2_path(const char *text, char *path, size_t len)
{
    /* "0::/machine/qemu-1-dev.libvirt-qemu" (the cgroup v2 line). */
    const char *line = text;

    if (text == NULL || len == 0)
        return false;
    while (*line != '\0') {
        size_t n = strcspn(line, "\n");
        if (strncmp(line, "0::", 3) == 0 && n > 3 && line[3] == '/') {
            if (n - 3 >= len)
                return false;
            memcpy(path, line + 3, n - 3);
            path[n - 3] = '\0';
            /* A path with ".." could lead a reader outside the cgroup tree. */
            return strstr(path, "/..") == NULL;
        }
        line += n;
        if (*line == '\n')
            line++;
    }
    return false;
}

bool hd_kp_statm_resident(const char *text, uint64_t *pages)
{
    const char *p = text;
    uint64_t size;

    /* "size resident shared text lib data dt" */
    if (text == NULL || !parse_u64(&p, &size) || *p != ' ')
        return false;
    p++;
    if (!parse_u64(&p, pages))
        return false;
    return *p == ' ' || *p == '\n' || *p == '\0';
}

bool hd_kp_stat_cpu_ticks(const char *text, uint64_t *ticks)
{
    /* pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces and
     * parentheses, so count fields from the last ')'. */
    const char *p;
    uint64_t utime, stime;

    if (text == NULL || (p = strrchr(text, ')')) == NULL)
        return false;
    p++;
    for (int field = 3; field < 14; field++) {
        while (*p == ' ')
            p++;
        if (*p == '\0' || *p == '\n')
            return false;
        p += strcspn(p, " \n");
    }
    while (*p == ' ')
        p++;
    if (!parse_u64(&p, &utime) || *p != ' ')
        return false;
    p++;
    if (!parse_u64(&p, &stime))
        return false;
    *ticks = utime + stime;
    return true;
}

bool hd_kp_cgroup2_mount(const char *mountinfo, char *path, size_t len)
{
    /* mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER" */
    const char *line = mountinfo;

    if (mountinfo == NULL || len == 0)
        return false;
    while (*line != '\0') {
        size_t n = strcspn(line, "\n");
        const char *dash = NULL;
        for (const char *q = line; q + 2 < line + n; q++) {
            if (q[0] == ' ' && q[1] == '-' && q[2] == ' ') {
                dash = q;
                break;
            }
        }
        if (dash != NULL && strncmp(dash + 3, "cgroup2 ", 8) == 0) {
            /* The mount point is the fifth field; stay before the " - ". */
            const char *mp = line;
            size_t mlen;
            int field = 0;
            while (field < 4 && mp < dash) {
                mp += strcspn(mp, " ");
                if (mp < dash)
                    mp++;
                field++;
            }
            mlen = strcspn(mp, " ");
            if (field == 4 && mp < dash && mp + mlen <= dash && mlen > 0 && mlen < len) {
                memcpy(path, mp, mlen);
                path[mlen] = '\0';
                return true;
            }
        }
        line += n;
        if (*line == '\n')
            line++;
    }
    return false;
}
