/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading the guest's kernel files. Every path is taken below a root directory
 * ("" on the guest) so that tests can point the agent at a fixture tree. */

#include "ha.h"

/* Read a small file (at most cap-1 bytes) into buf; FALSE if it is not there. */
bool ha_read(const char *root, const char *path, char *buf, size_t cap);
/* Write a string to a kernel file; returns 0 or -errno. */
int ha_write(const char *root, const char *path, const char *text);

/* What the guest kernel says about the memory recipe. */
typedef struct {
    int page_reporting_order; /* -1: parameter missing */
    char thp[16];             /* "" when missing */
    bool balloon_bound;       /* a virtio device is bound to virtio_balloon */
    bool free_page_reporting; /* ...and negotiated VIRTIO_BALLOON_F_REPORTING */
    bool psi;
    bool cgroup2_memory;
    bool damon_present;
    bool damon_enabled;
    int64_t damon_kdamond_pid;
    uint64_t damon_nr_tried, damon_bytes_tried, damon_nr_reclaimed, damon_bytes_reclaimed;
    uint64_t damon_quota_exceeds;
} HaRecipe;

void ha_recipe_check(const char *root, HaRecipe *r);
/* The recipe holds: order 0, THP never, free page reporting on, PSI on. */
bool ha_recipe_ok(const HaRecipe *r);
