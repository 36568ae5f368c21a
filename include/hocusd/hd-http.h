/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The little of HTTP/1.x that a scrape target needs: the request line of a
 * request head from the network (untrusted), and a response head. Headers
 * after the request line are not interpreted.
 */
#define HD_HTTP_HEAD_MAX 8192 /* a longer request head is refused (431) */

typedef struct {
    gboolean head; /* HEAD: the same answer without a body */
    char *path;    /* the target without its query, "/metrics" */
} HdHttpRequest;

void hd_http_request_clear(HdHttpRequest *req);

/*
 * Parse the head (request line, headers, up to and including the blank
 * line) of len bytes. 200 when it is a GET or HEAD of an origin-form target
 * over HTTP/1.0 or 1.1; otherwise the status to answer with (400, 405, 431,
 * 505) and *why says what was wrong.
 */
guint hd_http_parse_request(const char *head, gsize len, HdHttpRequest *req, const char **why);

/* Where the head ends in buf (just past "\r\n\r\n" or "\n\n"), or 0 if not yet. */
gsize hd_http_head_end(const char *buf, gsize len);

/* "HTTP/1.1 <status> <reason>" and the headers, ending with the blank line. */
char *hd_http_response_head(guint status, const char *content_type, gsize content_length);

G_END_DECLS
