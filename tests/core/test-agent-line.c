/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Agent lines as hocusd reads them from an untrusted guest: a real line, and
 * garbage, wrong types, absurd values, invalid UTF-8 and oversized lines that
 * must be refused or dropped without disturbing the lines around them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hocusd/hd-agent-line.h"

static const char real_line[] =
    "{\"v\":1,\"type\":\"telemetry\",\"seq\":42,\"uptime_ms\":42000,"
    "\"psi\":{\"some\":{\"avg10\":1.25,\"avg60\":0.50,\"avg300\":0.00,\"total_us\":1520},"
    "\"full\":{\"avg10\":0.00,\"avg60\":0.00,\"avg300\":0.00,\"total_us\":880}},"
    "\"mem\":{\"total\":1015136256,\"free\":921591808,\"available\":930000000,"
    "\"cached\":40000000,\"buffers\":0,\"anon\":2000000,\"shmem\":4472832,\"mlocked\":3000000},"
    "\"reclaim\":{\"enabled\":true,\"state\":\"idle\",\"pressure_pct\":0.00,\"ops\":9,"
    "\"requested_bytes\":419430400,\"reclaimed_bytes\":405000000},"
    "\"recipe\":{\"ok\":true,\"page_reporting_order\":0,\"thp\":\"never\"},"
    "\"dropped_lines\":3,\"future_key\":[1,2,3]}";

static gboolean parse(const char *text, HdAgentLine *out, const char **why)
{
    return hd_agent_line_parse(text, strlen(text), out, why);
}

static void test_real_line(void **state)
{
    HdAgentLine a;
    const char *why;

    assert_true(parse(real_line, &a, &why));
    assert_int_equal(a.type, HD_AGENT_LINE_TELEMETRY);
    assert_int_equal(a.seq, 42);
    assert_true(a.have_mem);
    assert_int_equal(a.mem_total, 1015136256);
    assert_int_equal(a.mem_free, 921591808);
    assert_int_equal(a.mem_cached, 40000000);
    assert_true(a.have_mem_available);
    assert_true(a.have_psi_some && a.have_psi_full);
    assert_true(a.psi_some.avg10 == 1.25);
    assert_int_equal(a.psi_full.total_us, 880);
    assert_true(a.have_recipe && a.recipe_ok);
    assert_true(a.have_reclaim);
    assert_string_equal(a.reclaim_state, "idle");
    assert_int_equal(a.reclaimed_bytes, 405000000);
    assert_int_equal(a.dropped_lines, 3);
    /* Unknown keys are kept in the canonical form, which is JSON again. */
    assert_non_null(strstr(a.canonical, "\"future_key\":[1,2,3]"));
    hd_agent_line_clear(&a);

    assert_true(parse("{\"v\":1,\"type\":\"hello\",\"uptime_s\":3}", &a, &why));
    assert_int_equal(a.type, HD_AGENT_LINE_HELLO);
    assert_false(a.have_mem);
    hd_agent_line_clear(&a);
}

static void test_refused_lines(void **state)
{
    static const struct {
        const char *line;
        const char *why;
    } bad[] = {
        { "", "empty line" },
        { "garbage", "not a JSON document" },
        { "{\"v\":1,\"type\":\"telemetry\"", "not a JSON document" },
        { "{\"v\":1,\"type\":\"telemetry\"} {}", "not a JSON document" },
        { "[1,2]", "not a JSON object" },
        { "{\"type\":\"telemetry\"}", "no protocol version 1" },
        { "{\"v\":2,\"type\":\"telemetry\"}", "no protocol version 1" },
        { "{\"v\":\"1\",\"type\":\"telemetry\"}", "no protocol version 1" },
        { "{\"v\":1}", "no type" },
        { "{\"v\":1,\"type\":7}", "no type" },
        { "{\"v\":1,\"type\":\"rootkit\"}", "unknown type" },
        { "{\"v\":1,\"type\":\"telemetry\",\"x\":\"\xff\xfe\"}", "not a JSON document" },
        { "{'v':1,'type':'telemetry'}", "not a JSON document" }, /* strict mode */
    };
    HdAgentLine a;
    const char *why;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (parse(bad[i].line, &a, &why))
            fail_msg("case %zu accepted: %s", i, bad[i].line);
        assert_non_null(why);
        if (strcmp(why, bad[i].why) != 0)
            fail_msg("case %zu: reason '%s', want '%s'", i, why, bad[i].why);
        assert_null(a.canonical);
    }
    /* An embedded NUL, and a line at the bound. */
    assert_false(hd_agent_line_parse("{\"v\":1,\0\"type\":\"hello\"}", 24, &a, &why));
    assert_string_equal(why, "NUL byte in line");
    g_autofree char *huge = g_strnfill(HD_AGENT_LINE_MAX, ' ');
    assert_false(hd_agent_line_parse(huge, HD_AGENT_LINE_MAX, &a, &why));
    assert_string_equal(why, "line too long");
}

static void test_absurd_values(void **state)
{
    HdAgentLine a;
    const char *why;

    /* Valid lines whose figures make no sense: the line is kept, the figure is absent. */
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"mem\":{\"total\":-5,\"free\":1,"
                      "\"cached\":1}}",
                      &a, &why));
    assert_false(a.have_mem);
    hd_agent_line_clear(&a);
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"mem\":{\"total\":1000,\"free\":2000,"
                      "\"cached\":1}}",
                      &a, &why));
    assert_false(a.have_mem); /* free above total */
    hd_agent_line_clear(&a);
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"mem\":{\"total\":9007199254740993000,"
                      "\"free\":1,\"cached\":1}}",
                      &a, &why));
    assert_false(a.have_mem); /* above 1 PiB */
    hd_agent_line_clear(&a);
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"psi\":{\"some\":{\"avg10\":250.0,"
                      "\"avg60\":0,\"avg300\":0,\"total_us\":1}}}",
                      &a, &why));
    assert_false(a.have_psi_some); /* a percentage above 100 */
    hd_agent_line_clear(&a);
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"psi\":{\"some\":{\"avg10\":NaN,"
                      "\"avg60\":0,\"avg300\":0,\"total_us\":1}}}",
                      &a, &why) == FALSE ||
                !a.have_psi_some);
    hd_agent_line_clear(&a);
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"reclaim\":{\"state\":\"<script>\","
                      "\"reclaimed_bytes\":1}}",
                      &a, &why));
    assert_false(a.have_reclaim); /* not one of the documented states */
    hd_agent_line_clear(&a);
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"recipe\":{\"ok\":\"yes\"}}", &a, &why));
    assert_false(a.have_recipe);
    hd_agent_line_clear(&a);
}

typedef struct {
    GPtrArray *lines;
} Collect;

static void collect(const char *line, gsize len, gpointer user_data)
{
    Collect *c = user_data;
    g_ptr_array_add(c->lines, g_strndup(line, len));
}

static void test_linebuf(void **state)
{
    Collect c = { g_ptr_array_new_with_free_func(g_free) };
    HdLineBuf *lb = g_new0(HdLineBuf, 1);
    g_autofree char *big = g_strnfill(10 * 1024 * 1024, 'x');
    g_autofree char *edge = g_strnfill(HD_AGENT_LINE_MAX - 1, 'y');

    /* Split across reads, empty lines skipped. */
    hd_linebuf_feed(lb, "ab", 2, collect, &c);
    hd_linebuf_feed(lb, "c\n\nde", 5, collect, &c);
    hd_linebuf_feed(lb, "f\n", 2, collect, &c);
    assert_int_equal(c.lines->len, 2);
    assert_string_equal(c.lines->pdata[0], "abc");
    assert_string_equal(c.lines->pdata[1], "def");

    /* A 10 MiB line, fed in 64 KiB pieces, is dropped whole; its neighbours survive. */
    hd_linebuf_feed(lb, "before\n", 7, collect, &c);
    for (gsize off = 0; off < 10 * 1024 * 1024; off += 65536)
        hd_linebuf_feed(lb, big + off, 65536, collect, &c);
    hd_linebuf_feed(lb, "\nafter\n", 7, collect, &c);
    assert_int_equal(c.lines->len, 4);
    assert_string_equal(c.lines->pdata[2], "before");
    assert_string_equal(c.lines->pdata[3], "after");
    assert_int_equal(lb->oversized, 1);

    /* HD_AGENT_LINE_MAX bytes with the newline is the largest line taken. */
    hd_linebuf_feed(lb, edge, HD_AGENT_LINE_MAX - 1, collect, &c);
    hd_linebuf_feed(lb, "\n", 1, collect, &c);
    assert_int_equal(c.lines->len, 5);
    assert_int_equal(strlen(c.lines->pdata[4]), HD_AGENT_LINE_MAX - 1);
    hd_linebuf_feed(lb, edge, HD_AGENT_LINE_MAX - 1, collect, &c);
    hd_linebuf_feed(lb, "z\n", 2, collect, &c); /* one byte more: dropped */
    assert_int_equal(c.lines->len, 5);
    assert_int_equal(lb->oversized, 2);

    /* A reset (reconnect) drops a partial line. */
    hd_linebuf_feed(lb, "partial", 7, collect, &c);
    hd_linebuf_reset(lb);
    hd_linebuf_feed(lb, "whole\n", 6, collect, &c);
    assert_string_equal(c.lines->pdata[5], "whole");
    assert_int_equal(c.lines->len, 6);

    g_ptr_array_unref(c.lines);
    g_free(lb);
}

/* The host's request line (the agent's parser is tested on the same text in
 * tests/agent/test-agent.c) and the agent's count of requests in telemetry. */
static void test_host_requests(void **state)
{
    g_autofree char *req = hd_agent_request_reclaim(7, 134217728);
    HdAgentLine a;
    const char *why;

    assert_string_equal(req, "{\"v\":1,\"type\":\"reclaim\",\"seq\":7,\"bytes\":134217728}\n");
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"seq\":1,\"host\":{\"requests\":3,"
                      "\"done\":2,\"rejected\":1,\"last_seq\":9,\"last_result\":\"ok\","
                      "\"reclaimed_bytes\":1048576}}",
                      &a, &why));
    assert_true(a.have_host);
    assert_int_equal(a.host_requests, 3);
    assert_int_equal(a.host_done, 2);
    assert_int_equal(a.host_reclaimed_bytes, 1048576);
    hd_agent_line_clear(&a);
    /* More done than asked is a lie: the figures are dropped. */
    assert_true(parse("{\"v\":1,\"type\":\"telemetry\",\"seq\":1,\"host\":{\"requests\":1,"
                      "\"done\":2,\"last_seq\":1,\"reclaimed_bytes\":1}}",
                      &a, &why));
    assert_false(a.have_host);
    hd_agent_line_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_line),     cmocka_unit_test(test_refused_lines),
        cmocka_unit_test(test_absurd_values), cmocka_unit_test(test_linebuf),
        cmocka_unit_test(test_host_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
