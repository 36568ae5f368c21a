/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Keeps critical binaries resident: the agent locks itself (mlockall), and
 * maps and mlocks the files of named processes (sshd) and of listed paths, so
 * aggressive reclaim never evicts what a developer needs to log in.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ha-lock.h"
#include "ha-sys.h"

void ha_lock_init(HaLock *l, uint64_t budget)
{
    memset(l, 0, sizeof(*l));
    l->budget = budget;
}

static bool already(const HaLock *l, dev_t dev, ino_t ino)
{
    for (int i = 0; i < l->n; i++) {
        if (l->files[i].dev == dev && l->files[i].ino == ino)
            return true;
    }
    return false;
}

bool ha_lock_file(HaLock *l, const char *path)
{
    struct stat st;
    void *p;
    int fd;

    if (l->n >= HA_LOCK_MAX_FILES)
        return false;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return false;
    }
    if (already(l, st.st_dev, st.st_ino)) {
        close(fd);
        return true;
    }
    if (l->bytes + (uint64_t)st.st_size > l->budget) {
        close(fd);
        return false;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return false;
    if (mlock(p, (size_t)st.st_size) < 0) {
        munmap(p, (size_t)st.st_size);
        return false;
    }
    l->files[l->n].addr = p;
    l->files[l->n].len = (size_t)st.st_size;
    l->files[l->n].dev = st.st_dev;
    l->files[l->n].ino = st.st_ino;
    l->n++;
    l->bytes += (uint64_t)st.st_size;
    return true;
}

/* Lock every executable file mapping of pid (its binary and libraries). */
static void lock_process_maps(HaLock *l, const char *root, long pid)
{
    char path[64], line[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/proc/%ld/maps", root, pid);
    f = fopen(path, "re");
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        char perms[8];
        char *file = strchr(line, '/');
        if (sscanf(line, "%*s %7s", perms) != 1 || strchr(perms, 'x') == NULL || file == NULL)
            continue;
        file[strcspn(file, "\n")] = '\0';
        if (strstr(file, " (deleted)") == NULL)
            ha_lock_file(l, file);
    }
    fclose(f);
}

int ha_lock_processes(HaLock *l, const char *root, const char *const *names)
{
    char dir[256], comm[64], path[300];
    DIR *d;
    struct dirent *e;
    int found = 0;

    snprintf(dir, sizeof(dir), "%s/proc", root);
    d = opendir(dir);
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
        if (!ha_read(root, path, comm, sizeof(comm)))
            continue;
        comm[strcspn(comm, "\n")] = '\0';
        for (int i = 0; names[i] != NULL; i++) {
            if (strcmp(comm, names[i]) == 0) {
                lock_process_maps(l, root, pid);
                found++;
            }
        }
    }
    closedir(d);
    return found;
}
