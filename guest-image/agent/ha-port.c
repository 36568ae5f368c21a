/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ha-port.h"
#include "ha-sys.h"

void ha_port_init(HaPort *port)
{
    port->fd = -1;
    port->rest_off = port->rest_len = 0;
}

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
         * never queued until the agent stalls. Read too: host requests. */
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    }
    closedir(d);
    return fd;
}

void ha_port_close(HaPort *port)
{
    if (port->fd >= 0)
        close(port->fd);
    ha_port_init(port);
}

/* write() that retries on EINTR: >= 0 bytes written, or -errno. */
static long put(int fd, const char *p, size_t len)
{
    for (;;) {
        ssize_t n = write(fd, p, len);

        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -errno;
    }
}

static int hard_error(HaPort *port, long rc)
{
    ha_port_close(port);
    return (int)rc;
}

int ha_port_send(HaPort *port, const char *line, size_t len)
{
    long n;

    if (port->fd < 0)
        return -EBADF;
    if (len > sizeof(port->rest))
        return -EMSGSIZE;
    if (port->rest_off < port->rest_len) {
        n = put(port->fd, port->rest + port->rest_off, port->rest_len - port->rest_off);
        if (n < 0 && n != -EAGAIN)
            return hard_error(port, n);
        if (n > 0)
            port->rest_off += (size_t)n;
        if (port->rest_off < port->rest_len)
            return -EAGAIN; /* the old line is still going out: drop this one */
        port->rest_off = port->rest_len = 0;
    }
    n = put(port->fd, line, len);
    if (n == -EAGAIN)
        return -EAGAIN;
    if (n < 0)
        return hard_error(port, n);
    if ((size_t)n < len) {
        memcpy(port->rest, line + n, len - (size_t)n);
        port->rest_off = 0;
        port->rest_len = len - (size_t)n;
    }
    return 0;
}

long ha_port_read(HaPort *port, char *buf, size_t len)
{
    for (;;) {
        ssize_t n;

        if (port->fd < 0)
            return -EBADF;
        n = read(port->fd, buf, len);
        if (n >= 0)
            return (long)n; /* 0: the host end is not connected */
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return 0;
        return hard_error(port, -errno);
    }
}
