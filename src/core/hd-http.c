/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "hocusd/hd-http.h"

void hd_http_request_clear(HdHttpRequest *req)
{
    g_clear_pointer(&req->path, g_free);
}

gsize hd_http_head_end(const char *buf, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* RFC 9110 tchar, for the method. */
static gboolean is_token(const char *s, gsize n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (n == 0)
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        if (!g_ascii_isalnum(s[i]) && (s[i] == '\0' || strchr(extra, s[i]) == NULL))
            return FALSE;
    }
    return TRUE;
}

/* Visible ASCII without space: what an origin-form target may hold. */
static gboolean is_target(const char *s, gsize n)
{
    if (n == 0 || s[0] != '/')
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        if (s[i] <= ' ' || s[i] >= 0x7f)
            return FALSE;
    }
    return TRUE;
}

guint hd_http_parse_request(const char *head, gsize len, HdHttpRequest *req, const char **why)
{
    const char *eol = memchr(head, '\n', len);
    const char *sp1, *sp2, *version;
    gsize line_len, method_len, target_len, path_len;

    memset(req, 0, sizeof(*req));
    *why = NULL;
    if (len > HD_HTTP_HEAD_MAX) {
        *why = "request head too large";
        return 431;
    }
    if (eol == NULL) {
        *why = "no request line";
        return 400;
    }
    line_len = (gsize)(eol - head);
    if (line_len > 0 && head[line_len - 1] == '\r')
        line_len--;
    sp1 = memchr(head, ' ', line_len);
    sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', line_len - (gsize)(sp1 + 1 - head)) : NULL;
    if (sp1 == NULL || sp2 == NULL) {
        *why = "the request line is not 'METHOD TARGET VERSION'";
        return 400;
    }
    method_len = (gsize)(sp1 - head);
    target_len = (gsize)(sp2 - sp1 - 1);
    version = sp2 + 1;
    if (!is_token(head, method_len) || !is_target(sp1 + 1, target_len)) {
        *why = "bad method or target";
        return 400;
    }
    if ((gsize)(head + line_len - version) != 8 ||
        (strncmp(version, "HTTP/1.1", 8) != 0 && strncmp(version, "HTTP/1.0", 8) != 0)) {
        *why = "only HTTP/1.0 and HTTP/1.1";
        return 505;
    }
    if (method_len == 3 && strncmp(head, "GET", 3) == 0) {
        req->head = FALSE;
    } else if (method_len == 4 && strncmp(head, "HEAD", 4) == 0) {
        req->head = TRUE;
    } else {
        *why = "only GET and HEAD";
        return 405;
    }
    path_len = target_len;
    for (gsize i = 0; i < target_len; i++) {
        if (sp1[1 + i] == '?') {
            path_len = i;
            break;
        }
    }
    req->path = g_strndup(sp1 + 1, path_len);
    return 200;
}

static const char *reason(guint status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

char *hd_http_response_head(guint status, const char *content_type, gsize content_length)
{
    return g_strdup_printf("HTTP/1.1 %u %s\r\n"
                           "Content-Type: %s\r\n"
                           "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                           "%s"
                           "Connection: close\r\n"
                           "\r\n",
                           status, reason(status), content_type, content_length,
                           status == 405 ? "Allow: GET, HEAD\r\n" : "");
}
