/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A request head from the network, as the scrape target (hocusctl metrics --http) reads it. */
#include "fuzz-common.h"
#include "hocusd/hd-http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    gsize end = hd_http_head_end(buf, size);
    HdHttpRequest req;
    const char *why = NULL;
    guint status;

    g_assert(end <= size);
    status = hd_http_parse_request(buf, end > 0 ? end : size, &req, &why);
    if (status == 200) {
        g_assert(req.path != NULL && req.path[0] == '/');
        g_assert(strchr(req.path, '?') == NULL && strchr(req.path, ' ') == NULL);
    } else {
        g_assert(why != NULL && req.path == NULL);
    }
    hd_http_request_clear(&req);
    return 0;
}
