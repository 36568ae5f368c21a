/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Open the virtio-serial port called name for non-blocking writes; -1 if absent. */
int ha_port_open(const char *root, const char *name);
/* 0, or -errno (-EAGAIN: the host is not reading; the line is dropped). */
int ha_port_write(int fd, const char *line, size_t len);
