/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "ha.h"

#define HA_LOCK_MAX_FILES 128

typedef struct {
    struct {
        void *addr;
        size_t len;
        dev_t dev;
        ino_t ino;
    } files[HA_LOCK_MAX_FILES];
    int n;
    uint64_t bytes, budget;
} HaLock;

void ha_lock_init(HaLock *l, uint64_t budget);
/* Map and mlock a whole file (once per inode, within the budget). */
bool ha_lock_file(HaLock *l, const char *path);
/* Lock the executable mappings of every process whose comm is in names
 * (NULL-terminated); returns how many processes matched. */
int ha_lock_processes(HaLock *l, const char *root, const char *const *names);
