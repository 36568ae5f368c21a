/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ha-sys.h"

bool ha_read(const char *root, const char *path, char *buf, size_t cap)
{
    char full[512];
    ssize_t n, total = 0;
    int fd;

    if (snprintf(full, sizeof(full), "%s%s", root, path) >= (int)sizeof(full))
        return false;
    fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    while ((size_t)total < cap - 1 && (n = read(fd, buf + total, cap - 1 - (size_t)total)) > 0)
        total += n;
    close(fd);
    buf[total] = '\0';
    return true;
}

int ha_write(const char *root, const char *path, const char *text)
{
    char full[512];
    ssize_t n;
    int fd, e;

    if (snprintf(full, sizeof(full), "%s%s", root, path) >= (int)sizeof(full))
        return -ENAMETOOLONG;
    fd = open(full, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = write(fd, text, strlen(text));
    e = errno;
    close(fd);
    return n < 0 ? -e : 0;
}

static bool read_u64(const char *root, const char *path, uint64_t *v)
{
    char buf[64];
    bool is_max;

    return ha_read(root, path, buf, sizeof(buf)) && hd_kp_u64_or_max(buf, v, &is_max) && !is_max;
}

/* VIRTIO_BALLOON_F_REPORTING, from include/uapi/linux/virtio_balloon.h */
#define VIRTIO_BALLOON_F_REPORTING 5

static void check_balloon(const char *root, HaRecipe *r)
{
    char dir[512], features[256], path[600];
    DIR *d;
    struct dirent *e;

    snprintf(dir, sizeof(dir), "%s/sys/bus/virtio/drivers/virtio_balloon", root);
    d = opendir(dir);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "virtio", 6) != 0)
            continue;
        r->balloon_bound = true;
        snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/features", e->d_name);
        if (ha_read(root, path, features, sizeof(features)) &&
            hd_kp_feature_bit(features, VIRTIO_BALLOON_F_REPORTING))
            r->free_page_reporting = true;
    }
    closedir(d);
}

void ha_recipe_check(const char *root, HaRecipe *r)
{
    char buf[256];
    HdKpPsi psi;
    uint64_t v;

    memset(r, 0, sizeof(*r));
    r->page_reporting_order = -1;
    r->damon_kdamond_pid = -1;
    if (read_u64(root, "/sys/module/page_reporting/parameters/page_reporting_order", &v) && v < 64)
        r->page_reporting_order = (int)v;
    if (ha_read(root, "/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf)))
        hd_kp_thp_mode(buf, r->thp, sizeof(r->thp));
    check_balloon(root, r);
    if (ha_read(root, "/proc/pressure/memory", buf, sizeof(buf)))
        r->psi = hd_kp_psi(buf, &psi);
    if (ha_read(root, "/sys/fs/cgroup/cgroup.controllers", buf, sizeof(buf)))
        r->cgroup2_memory = strstr(buf, "memory") != NULL;
    if (ha_read(root, "/sys/module/damon_reclaim/parameters/enabled", buf, sizeof(buf))) {
        r->damon_present = true;
        r->damon_enabled = buf[0] == 'Y';
        if (ha_read(root, "/sys/module/damon_reclaim/parameters/kdamond_pid", buf, sizeof(buf)))
            r->damon_kdamond_pid = strtoll(buf, NULL, 10);
        read_u64(root, "/sys/module/damon_reclaim/parameters/nr_reclaim_tried_regions",
                 &r->damon_nr_tried);
        read_u64(root, "/sys/module/damon_reclaim/parameters/bytes_reclaim_tried_regions",
                 &r->damon_bytes_tried);
        read_u64(root, "/sys/module/damon_reclaim/parameters/nr_reclaimed_regions",
                 &r->damon_nr_reclaimed);
        read_u64(root, "/sys/module/damon_reclaim/parameters/bytes_reclaimed_regions",
                 &r->damon_bytes_reclaimed);
        read_u64(root, "/sys/module/damon_reclaim/parameters/nr_quota_exceeds",
                 &r->damon_quota_exceeds);
    }
}

bool ha_recipe_ok(const HaRecipe *r)
{
    return r->page_reporting_order == 0 && strcmp(r->thp, "never") == 0 && r->free_page_reporting &&
           r->psi;
}
