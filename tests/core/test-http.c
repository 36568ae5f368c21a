/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scrape target's request parser: requests from the network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hocusd/hd-http.h"

static guint parse(const char *text, HdHttpRequest *req, const char **why)
{
    return hd_http_parse_request(text, strlen(text), req, why);
}

static void test_accepts(void **state)
{
    static const struct {
        const char *text, *path;
        gboolean head;
    } cases[] = {
        { "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", "/metrics", FALSE },
        { "GET /metrics HTTP/1.0\n\n", "/metrics", FALSE },
        { "HEAD /metrics HTTP/1.1\r\n\r\n", "/metrics", TRUE },
        { "GET /metrics?x=1&y HTTP/1.1\r\n\r\n", "/metrics", FALSE },
        { "GET / HTTP/1.1\r\n\r\n", "/", FALSE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        HdHttpRequest req;
        const char *why = NULL;

        if (parse(cases[i].text, &req, &why) != 200)
            fail_msg("case %zu refused: %s", i, why);
        assert_string_equal(req.path, cases[i].path);
        assert_int_equal(req.head, cases[i].head);
        hd_http_request_clear(&req);
    }
}

static void test_refuses(void **state)
{
    static const struct {
        const char *text;
        guint status;
    } cases[] = {
        { "", 400 },
        { "GET /metrics HTTP/1.1", 400 }, /* no end of line */
        { "GET\r\n\r\n", 400 },
        { "GET /metrics\r\n\r\n", 400 },
        { "GET metrics HTTP/1.1\r\n\r\n", 400 },
        { "GET http://h/metrics HTTP/1.1\r\n\r\n", 400 },
        { "GET /me\x01trics HTTP/1.1\r\n\r\n", 400 },
        { "G(T /metrics HTTP/1.1\r\n\r\n", 400 },
        { "GE\x7fT /metrics HTTP/1.1\r\n\r\n", 400 },
        { "GET /metrics HTTP/2.0\r\n\r\n", 505 },
        { "GET /metrics HTTP/1.1 x\r\n\r\n", 505 },
        { "POST /metrics HTTP/1.1\r\n\r\n", 405 },
        { "DELETE /metrics HTTP/1.1\r\n\r\n", 405 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        HdHttpRequest req;
        const char *why = NULL;
        guint status = parse(cases[i].text, &req, &why);

        if (status != cases[i].status)
            fail_msg("case %zu: status %u, want %u", i, status, cases[i].status);
        assert_non_null(why);
        assert_null(req.path);
    }
    {
        /* A NUL in the method, where strchr() would find the terminator. */
        static const char nul[] = "G\0T /metrics HTTP/1.1\r\n\r\n";
        HdHttpRequest req;
        const char *why = NULL;

        assert_int_equal(hd_http_parse_request(nul, sizeof(nul) - 1, &req, &why), 400);
    }
    {
        g_autofree char *big = g_strnfill(HD_HTTP_HEAD_MAX + 1, 'a');
        HdHttpRequest req;
        const char *why = NULL;

        memcpy(big, "GET / HTTP/1.1\n", 15);
        assert_int_equal(parse(big, &req, &why), 431);
    }
}

static void test_head_end(void **state)
{
    assert_int_equal(hd_http_head_end("GET / HTTP/1.1\r\n\r\nbody", 22), 18);
    assert_int_equal(hd_http_head_end("GET / HTTP/1.0\n\n", 16), 16);
    assert_int_equal(hd_http_head_end("GET / HTTP/1.1\r\nHost: x\r\n", 25), 0);
    assert_int_equal(hd_http_head_end("", 0), 0);
}

static void test_response_head(void **state)
{
    g_autofree char *ok = hd_http_response_head(200, "text/plain", 42);
    g_autofree char *no = hd_http_response_head(405, "text/plain", 0);

    assert_string_equal(ok, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                            "Content-Length: 42\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(no, "HTTP/1.1 405 Method Not Allowed\r\n"));
    assert_non_null(strstr(no, "Allow: GET, HEAD\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_head_end),
        cmocka_unit_test(test_response_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
