/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ha-port.h"
#include "ha-sys.h"

int ha_port_open(const char *root, const char *name)
{
    char dir[256], path[512], value[128];
    DIR *d;
    struct dirent *e;
    int fd = -1;

    snprintf(dir, sizeof(dir), "%s/sys/class/virtio-ports", root);
    d = opendir(dir);
    if (d == NULL)
        return -1;
    while (fd < 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
        if (!ha_read(root, path, value, sizeof(value)))
            continue;
        value[strcspn(value, "\n")] = '\0';
        if (strcmp(value, name) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/dev/%s", root, e->d_name);
        /* Non-blocking: with nobody reading on the host, lines are dropped,
         * never queued until the agent stalls. */
        fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    }
    closedir(d);
    return fd;
}

int ha_port_write(int fd, const char *line, size_t len)
{
    ssize_t n = write(fd, line, len);

    if (n == (ssize_t)len)
        return 0;
    if (n < 0)
        return -errno;
    return -EAGAIN; /* a partial line: the host sees it as garbage and skips it */
}
