/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "hd-ctl.h"
#include "hocusd/hd-http.h"

/*
 * One HTTP exchange on standard input and output, for a socket that systemd
 * (Accept=yes) or inetd hands over: read one request head, answer it, exit.
 * hocusctl metrics --http serves the Prometheus scrape target with it, so no
 * HTTP server runs inside hocusd.
 */

#define REQUEST_TIMEOUT_MS 10000
#define TEXT_TYPE          "text/plain; charset=utf-8"

/* The request head from fd 0: its length, 0 when the client closed or sent
 * nothing within the time-out (*timed_out), or more than HD_HTTP_HEAD_MAX. */
static gsize read_head(char *buf, gsize size, gboolean *timed_out)
{
    gint64 deadline = g_get_monotonic_time() + REQUEST_TIMEOUT_MS * 1000;
    gsize len = 0, end;

    *timed_out = FALSE;
    while ((end = hd_http_head_end(buf, len)) == 0 && len < size) {
        struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        ssize_t n;

        if (left_ms <= 0 || poll(&p, 1, (int)left_ms) == 0) {
            *timed_out = TRUE;
            return 0;
        }
        n = read(STDIN_FILENO, buf + len, size - len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return 0;
        len += (gsize)n;
    }
    return end > 0 ? end : len;
}

static gboolean write_all(const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

static int respond(guint status, const char *type, const char *body, gboolean head_only)
{
    g_autofree char *head = hd_http_response_head(status, type, strlen(body));

    if (!write_all(head, strlen(head)) || (!head_only && !write_all(body, strlen(body))))
        return HD_CTL_FAILED;
    return status == 200 ? HD_CTL_OK : HD_CTL_FAILED;
}

int hd_ctl_serve_http(const char *path, const char *content_type, HdCtlHttpBody produce,
                      gpointer user_data)
{
    char buf[HD_HTTP_HEAD_MAX + 1];
    HdHttpRequest req = { 0 };
    g_autoptr(GError) error = NULL;
    g_autofree char *body = NULL;
    const char *why = NULL;
    gboolean timed_out = FALSE, head_only;
    gsize len = read_head(buf, sizeof(buf), &timed_out);
    guint status;

    if (len == 0)
        return timed_out ? respond(408, TEXT_TYPE, "no request within 10 s\n", FALSE)
                         : HD_CTL_FAILED;
    status = hd_http_parse_request(buf, len, &req, &why);
    if (status != 200) {
        body = g_strdup_printf("%s\n", why);
        return respond(status, TEXT_TYPE, body, FALSE);
    }
    head_only = req.head;
    if (strcmp(req.path, path) != 0) {
        body = g_strdup_printf("no %s here; try %s\n", req.path, path);
        hd_http_request_clear(&req);
        return respond(404, TEXT_TYPE, body, head_only);
    }
    hd_http_request_clear(&req);
    body = produce(user_data, &error);
    if (body == NULL) {
        body = g_strdup_printf("%s\n", error->message);
        return respond(503, TEXT_TYPE, body, head_only);
    }
    return respond(200, content_type, body, head_only);
}
