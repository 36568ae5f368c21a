/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hocus-agent's port writer against a real non-blocking stream socket with a
 * small buffer (a virtio-serial port takes partial writes the same way):
 * the reader must only ever see whole lines, in order, with dropped lines
 * missing whole; after a hard error the port is closed so that it is reopened.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ha-port.h"

#define LINE_BYTES 4000

/* Lines of 1000 to 4000 bytes: a short one leaves room in the socket for part
 * of the next long one, which is when a write is partial. */
static size_t make_line(char *buf, int id)
{
    size_t len = 1000 + (size_t)(id % 4) * 1000;
    int n = snprintf(buf, 32, "L%05d:", id);

    memset(buf + n, 'a' + id % 26, len - (size_t)n - 1);
    buf[len - 1] = '\n';
    return len;
}

static void drain(int fd, char **all, size_t *len)
{
    char buf[65536];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        *all = realloc(*all, *len + (size_t)n + 1);
        memcpy(*all + *len, buf, (size_t)n);
        *len += (size_t)n;
        (*all)[*len] = '\0';
    }
}

static void test_no_joined_lines(void **state)
{
    int sv[2];
    int sndbuf = 2048; /* the kernel makes it its minimum, 4608 */
    HaPort port;
    char line[LINE_BYTES];
    char *all = NULL;
    size_t len = 0;
    int sent[64], n_sent = 0, partial_seen = 0;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
    assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf)), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    ha_port_init(&port);
    port.fd = sv[0];

    /* Send faster than the host reads; read now and then. */
    for (int id = 0; id < 40; id++) {
        int rc;

        size_t n = make_line(line, id);

        rc = ha_port_send(&port, line, n);
        if (rc == 0)
            sent[n_sent++] = id;
        else
            assert_int_equal(rc, -EAGAIN);
        if (port.rest_len > 0)
            partial_seen++;
        if (id % 3 == 2)
            drain(sv[1], &all, &len);
    }
    /* Let everything queued go out. */
    for (int i = 0; i < 10 && port.rest_len > 0; i++) {
        drain(sv[1], &all, &len);
        size_t n = make_line(line, 99);

        if (ha_port_send(&port, line, n) == 0)
            sent[n_sent++] = 99;
    }
    drain(sv[1], &all, &len);

    /* Every line the reader got is whole, and they are exactly the sent ones. */
    {
        size_t off = 0;

        for (int i = 0; i < n_sent; i++) {
            char want[LINE_BYTES];
            size_t n = make_line(want, sent[i]);

            if (off + n > len || memcmp(all + off, want, n) != 0)
                fail_msg("line %d (id %d) arrived broken or joined", i, sent[i]);
            off += n;
        }
        assert_int_equal(off, len);
    }
    if (partial_seen == 0)
        fail_msg("the socket never took a line in part; the test proves nothing");

    free(all);
    close(sv[0]);
    close(sv[1]);
}

static void test_hard_error_closes(void **state)
{
    int sv[2];
    HaPort port;
    char line[LINE_BYTES];

    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ha_port_init(&port);
    port.fd = sv[0];
    close(sv[1]); /* the host side went away (QEMU restarted the port) */
    assert_int_equal(ha_port_send(&port, line, make_line(line, 1)), -EPIPE);
    /* Closed, so the agent's loop opens the port again on its next line. */
    assert_int_equal(port.fd, -1);
    assert_int_equal(port.rest_len, 0);
    assert_int_equal(ha_port_send(&port, line, make_line(line, 1)), -EBADF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_joined_lines),
        cmocka_unit_test(test_hard_error_closes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
