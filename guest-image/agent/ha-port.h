/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "ha.h"

/*
 * The virtio-serial port to the host, written without ever blocking. The
 * host reads lines: it must never see half of one joined to the next. A line
 * the port takes only in part keeps its rest here and goes out before
 * anything else; while a rest is pending, new lines are dropped whole. After
 * a hard error the port is closed (fd -1) and the caller opens it again.
 */
typedef struct {
    int fd;                 /* -1: not open */
    char rest[HA_LINE_MAX]; /* the unsent end of a partly written line */
    size_t rest_off, rest_len;
} HaPort;

void ha_port_init(HaPort *port);
/* Open the virtio-serial port called name for non-blocking writes; -1 if absent. */
int ha_port_open(const char *root, const char *name);
/*
 * Send one line (ending in '\n', at most HA_LINE_MAX bytes): 0 when it went
 * out or its rest is queued; -EAGAIN when it was dropped whole (the host is
 * not reading); another -errno when the port failed and was closed.
 */
int ha_port_send(HaPort *port, const char *line, size_t len);
void ha_port_close(HaPort *port);
/* What the host sent, without blocking: bytes read (0: nothing now), or
 * -errno when the port failed and was closed. */
long ha_port_read(HaPort *port, char *buf, size_t len);
