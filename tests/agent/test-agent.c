/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hocus-agent's pure parts: the reclaim decision (with hand-computed cases)
 * the bounded JSON writer, and the parser and bounds of host requests. The kernel-file parsers it
 * shares with hocusd are tested in tests/core/test-kparse.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <string.h>

#include "ha.h"

#define MiB (1ull << 20)

static HaReclaimDecision step(const HaReclaimParams *p, HaReclaimState *s, uint64_t t_s,
                              uint64_t stall_us, uint64_t file)
{
    HaReclaimInput in = {
        .now_us = t_s * 1000000, .have_psi = true, .stall_total_us = stall_us, .file_bytes = file
    };
    return ha_reclaim_decide(p, s, &in);
}

static void test_reclaim_decisions(void **state)
{
    HaReclaimParams p;
    HaReclaimState s = { 0 };
    HaReclaimDecision d;

    ha_reclaim_params_default(&p);
    /* First sample: no rate yet. */
    d = step(&p, &s, 10, 0, 432 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_WARMUP);
    /* Calm, 416 MiB of file cache, floor 16: reclaimable 400, half = 200 MiB. */
    d = step(&p, &s, 11, 0, 416 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    assert_int_equal(d.bytes, 200 * MiB);
    assert_true(d.pressure == 0.0);
    /* 1132 MiB reclaimable: half is 566, capped at max_step 256. */
    d = step(&p, &s, 12, 0, 1148 * MiB);
    assert_int_equal(d.bytes, 256 * MiB);
    /* Near the floor: 6 MiB left, half is 3 -> min_step 4. */
    d = step(&p, &s, 13, 0, 22 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    assert_int_equal(d.bytes, 4 * MiB);
    /* Below min_step worth: idle. */
    d = step(&p, &s, 14, 0, 19 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_IDLE);
    /* 5 ms of stall in 1 s = 0.5 % > 0.1 %: back off 2 s. */
    d = step(&p, &s, 15, 5000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_BACKOFF);
    assert_true(d.pressure > 0.0049 && d.pressure < 0.0051);
    assert_int_equal(s.backoff_us, 2000000);
    /* Calm but inside the backoff window. */
    d = step(&p, &s, 16, 5000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_BACKOFF);
    /* Stall again: the backoff doubles. */
    d = step(&p, &s, 17, 9000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_BACKOFF);
    assert_int_equal(s.backoff_us, 4000000);
    /* Window over (17 + 4 = 21), calm: reclaim resumes. */
    d = step(&p, &s, 21, 9000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    /* Stall exactly at the target is not above it. */
    d = step(&p, &s, 22, 10000, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
}

static void test_reclaim_backoff_cap_and_oddities(void **state)
{
    HaReclaimParams p;
    HaReclaimState s = { 0 };
    HaReclaimDecision d;
    uint64_t stall = 0;

    ha_reclaim_params_default(&p);
    step(&p, &s, 0, 0, 0);
    for (uint64_t t = 1; t < 200; t++) {
        stall += 500000; /* 50 % stall: always backing off */
        d = step(&p, &s, t, stall, 400 * MiB);
        assert_int_equal(d.action, HA_RECLAIM_BACKOFF);
        assert_true(s.backoff_us <= p.backoff_max_us);
    }
    assert_int_equal(s.backoff_us, p.backoff_max_us);

    /* A PSI total that goes backwards (new cgroup) is not a stall. */
    memset(&s, 0, sizeof(s));
    step(&p, &s, 0, 1000000, 400 * MiB);
    d = step(&p, &s, 1, 10, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    assert_true(d.pressure == 0.0);
    /* A clock that does not advance re-primes instead of dividing by zero. */
    d = step(&p, &s, 1, 10, 400 * MiB);
    assert_int_equal(d.action, HA_RECLAIM_WARMUP);
}

static void test_reclaim_without_psi(void **state)
{
    HaReclaimParams p;
    HaReclaimState s = { 0 };
    HaReclaimInput in = { .now_us = 1, .have_psi = false, .file_bytes = 900 * MiB };
    HaReclaimDecision d;

    ha_reclaim_params_default(&p);
    d = ha_reclaim_decide(&p, &s, &in);
    /* No feedback: small steps only. */
    assert_int_equal(d.action, HA_RECLAIM_RECLAIM);
    assert_int_equal(d.bytes, p.min_step);
    assert_true(d.pressure < 0.0);
}

static void test_json_writer(void **state)
{
    char buf[HA_LINE_MAX];
    HaJson j;
    json_object *o, *v;

    ha_json_init(&j, buf, sizeof(buf));
    ha_json_begin_object(&j, NULL);
    ha_json_u64(&j, "v", 1);
    ha_json_string(&j, "s", "a\"b\\c\n\x01\xc3\xa9");
    ha_json_double(&j, "d", 1.0 / 3.0);
    ha_json_null(&j, "n");
    ha_json_begin_array(&j, "arr");
    ha_json_string(&j, NULL, "x");
    ha_json_u64(&j, NULL, 2);
    ha_json_end_array(&j);
    ha_json_begin_object(&j, "o");
    ha_json_bool(&j, "b", true);
    ha_json_i64(&j, "i", -3);
    ha_json_end_object(&j);
    ha_json_end_object(&j);
    assert_true(ha_json_finish(&j));
    assert_int_equal(buf[j.len - 1], '\n');
    assert_null(strchr(buf, '\n') != buf + j.len - 1 ? buf : NULL);
    o = json_tokener_parse(buf);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "s", &v));
    assert_string_equal(json_object_get_string(v), "a\"b\\c\n\x01??");
    assert_true(json_object_object_get_ex(o, "d", &v));
    assert_true(json_object_get_double(v) == 0.33);
    json_object_put(o);
}

static void test_json_overflow(void **state)
{
    char buf[64];
    HaJson j;

    ha_json_init(&j, buf, sizeof(buf));
    ha_json_begin_object(&j, NULL);
    for (int i = 0; i < 20; i++)
        ha_json_string(&j, "key", "a longish value");
    ha_json_end_object(&j);
    assert_false(ha_json_finish(&j));
    assert_true(strlen(buf) < sizeof(buf));
}

/* Host requests: the one accepted shape, what is skipped, what is refused. */
static void test_request_parse(void **state)
{
    static const struct {
        const char *line;
        HaRequestResult want;
        uint64_t seq, bytes;
    } rows[] = {
        { "{\"v\":1,\"type\":\"reclaim\",\"seq\":7,\"bytes\":134217728}", HA_REQUEST_RECLAIM, 7,
          134217728 },
        { " { \"bytes\" : 5 , \"seq\":1, \"type\":\"reclaim\", \"v\":1, \"x\":\"y\" } ",
          HA_REQUEST_RECLAIM, 1, 5 },
        /* Another version or type: skipped, as unknown lines must be. */
        { "{\"v\":2,\"type\":\"reclaim\",\"seq\":1,\"bytes\":1}", HA_REQUEST_UNKNOWN },
        { "{\"v\":1,\"type\":\"resize\",\"seq\":1}", HA_REQUEST_UNKNOWN },
        /* Refused whole. */
        { "", HA_REQUEST_MALFORMED },
        { "{", HA_REQUEST_MALFORMED },
        { "{}", HA_REQUEST_MALFORMED },
        { "{\"v\":1,\"type\":\"reclaim\",\"seq\":1}", HA_REQUEST_MALFORMED },
        { "{\"v\":1,\"type\":\"reclaim\",\"seq\":1,\"bytes\":-5}", HA_REQUEST_MALFORMED },
        { "{\"v\":1,\"type\":\"reclaim\",\"seq\":1,\"bytes\":1.5}", HA_REQUEST_MALFORMED },
        { "{\"v\":1,\"type\":\"reclaim\",\"seq\":1,\"bytes\":99999999999999999999}",
          HA_REQUEST_MALFORMED },
        { "{\"v\":1,\"type\":\"rec\\u006caim\",\"seq\":1,\"bytes\":1}", HA_REQUEST_MALFORMED },
        { "{\"v\":1,\"type\":\"reclaim\",\"seq\":1,\"bytes\":1,}", HA_REQUEST_MALFORMED },
        { "{\"v\":1,\"type\":\"reclaim\",\"seq\":1,\"bytes\":1} x", HA_REQUEST_MALFORMED },
        { "{\"v\":1,\"type\":\"reclaim\",\"seq\":1,\"bytes\":{\"a\":1}}", HA_REQUEST_MALFORMED },
        { "[1,2]", HA_REQUEST_MALFORMED },
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        HaRequest r;
        HaRequestResult got = ha_request_parse(rows[i].line, strlen(rows[i].line), &r);

        if (got != rows[i].want)
            fail_msg("row %zu (%s): got %d, want %d", i, rows[i].line, got, rows[i].want);
        if (got == HA_REQUEST_RECLAIM) {
            assert_int_equal(r.seq, rows[i].seq);
            assert_int_equal(r.bytes, rows[i].bytes);
        }
    }
}

/* What a request can make the agent do: bounded by the file floor, by
 * HA_REQUEST_BYTES_MAX, and nothing while the guest's own pressure backs off. */
static void test_request_bounds(void **state)
{
    HaReclaimParams p;
    HaReclaimState s = { 0 };
    const char *why = NULL;

    ha_reclaim_params_default(&p);
    assert_int_equal(ha_request_reclaim_bytes(&p, &s, 1, 100 * MiB, 500 * MiB, &why), 100 * MiB);
    assert_string_equal(why, "ok");
    assert_int_equal(ha_request_reclaim_bytes(&p, &s, 1, 100 * MiB, 50 * MiB, &why),
                     50 * MiB - p.file_floor);
    assert_int_equal(ha_request_reclaim_bytes(&p, &s, 1, 100 * MiB, 10 * MiB, &why), 0);
    assert_string_equal(why, "nothing to reclaim");
    assert_int_equal(ha_request_reclaim_bytes(&p, &s, 1, UINT64_MAX, 64ull << 30, &why),
                     HA_REQUEST_BYTES_MAX);
    s.backoff_until_us = 10;
    assert_int_equal(ha_request_reclaim_bytes(&p, &s, 9, 100 * MiB, 500 * MiB, &why), 0);
    assert_string_equal(why, "backoff");
}

static void count_line(const char *line, size_t len, void *user_data)
{
    size_t *n = user_data;

    (void)line;
    assert_true(len <= HA_REQUEST_MAX);
    (*n)++;
}

/* Host lines are bounded: a longer one is dropped whole, up to its newline. */
static void test_request_lines(void **state)
{
    HaLineIn in = { 0 };
    static char big[3 * HA_REQUEST_MAX];
    size_t n = 0;

    memset(big, 'x', sizeof(big));
    ha_linein_feed(&in, "{\"a\":1}\n{\"b\"", 13, count_line, &n);
    assert_int_equal(n, 1);
    ha_linein_feed(&in, ":2}\n", 4, count_line, &n);
    assert_int_equal(n, 2);
    ha_linein_feed(&in, big, sizeof(big), count_line, &n);
    ha_linein_feed(&in, "tail\nok\n", 8, count_line, &n);
    assert_int_equal(n, 3); /* the oversized line and its tail are one dropped line */
    assert_int_equal(in.oversized, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reclaim_decisions),
        cmocka_unit_test(test_reclaim_backoff_cap_and_oddities),
        cmocka_unit_test(test_reclaim_without_psi),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_json_overflow),
        cmocka_unit_test(test_request_parse),
        cmocka_unit_test(test_request_bounds),
        cmocka_unit_test(test_request_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
