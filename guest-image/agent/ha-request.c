/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "ha.h"

/*
 * Host-to-guest lines (docs/agent-protocol.md, "Requests from the host"):
 * a flat JSON object whose values are non-negative integers or strings
 * without escapes. Anything else is refused whole; nothing is guessed.
 */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* A string without escapes or control characters; *p after the closing quote. */
static bool scan_string(const char **p, const char *end, const char **s, size_t *n)
{
    const char *q = *p;

    if (q >= end || *q != '"')
        return false;
    *s = ++q;
    while (q < end && *q != '"') {
        if (*q == '\\' || (unsigned char)*q < 0x20)
            return false;
        q++;
    }
    if (q >= end)
        return false;
    *n = (size_t)(q - *s);
    *p = q + 1;
    return true;
}

static bool scan_u64(const char **p, const char *end, uint64_t *v)
{
    const char *q = *p;
    uint64_t x = 0;

    if (q >= end || *q < '0' || *q > '9')
        return false;
    for (; q < end && *q >= '0' && *q <= '9'; q++) {
        if (x > (UINT64_MAX - 9) / 10)
            return false; /* too large to be meant */
        x = x * 10 + (uint64_t)(*q - '0');
    }
    *v = x;
    *p = q;
    return true;
}

static bool key_is(const char *k, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(k, want, n) == 0;
}

HaRequestResult ha_request_parse(const char *line, size_t len, HaRequest *out)
{
    const char *p = line, *end = line + len;
    bool have_v = false, have_type = false, have_seq = false, have_bytes = false;
    bool is_reclaim = false;
    uint64_t v = 0;

    memset(out, 0, sizeof(*out));
    if (len > HA_REQUEST_MAX)
        return HA_REQUEST_MALFORMED;
    p = skip_ws(p, end);
    if (p >= end || *p++ != '{')
        return HA_REQUEST_MALFORMED;
    p = skip_ws(p, end);
    while (p < end && *p != '}') {
        const char *key, *sval;
        size_t klen, slen;
        uint64_t n;

        if (!scan_string(&p, end, &key, &klen))
            return HA_REQUEST_MALFORMED;
        p = skip_ws(p, end);
        if (p >= end || *p++ != ':')
            return HA_REQUEST_MALFORMED;
        p = skip_ws(p, end);
        if (p < end && *p == '"') {
            if (!scan_string(&p, end, &sval, &slen))
                return HA_REQUEST_MALFORMED;
            if (key_is(key, klen, "type")) {
                have_type = true;
                is_reclaim = slen == 7 && memcmp(sval, "reclaim", 7) == 0;
            }
        } else {
            if (!scan_u64(&p, end, &n))
                return HA_REQUEST_MALFORMED;
            if (key_is(key, klen, "v")) {
                have_v = true;
                v = n;
            } else if (key_is(key, klen, "seq")) {
                have_seq = true;
                out->seq = n;
            } else if (key_is(key, klen, "bytes")) {
                have_bytes = true;
                out->bytes = n;
            }
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            if (p < end && *p == '}')
                return HA_REQUEST_MALFORMED; /* trailing comma */
        } else if (p >= end || *p != '}') {
            return HA_REQUEST_MALFORMED;
        }
    }
    if (p >= end || *p != '}' || skip_ws(p + 1, end) != end)
        return HA_REQUEST_MALFORMED;
    if (!have_v || !have_type)
        return HA_REQUEST_MALFORMED;
    if (v != HA_PROTOCOL_VERSION || !is_reclaim)
        return HA_REQUEST_UNKNOWN; /* a newer host: skip, as readers must */
    if (!have_seq || !have_bytes)
        return HA_REQUEST_MALFORMED;
    return HA_REQUEST_RECLAIM;
}

uint64_t ha_request_reclaim_bytes(const HaReclaimParams *p, const HaReclaimState *s,
                                  uint64_t now_us, uint64_t requested, uint64_t file_bytes,
                                  const char **why)
{
    uint64_t reclaimable = file_bytes > p->file_floor ? file_bytes - p->file_floor : 0;
    uint64_t bytes = requested;

    if (now_us < s->backoff_until_us) {
        *why = "backoff";
        return 0;
    }
    if (bytes > HA_REQUEST_BYTES_MAX)
        bytes = HA_REQUEST_BYTES_MAX;
    if (bytes > reclaimable)
        bytes = reclaimable;
    *why = bytes == 0 ? "nothing to reclaim" : "ok";
    return bytes;
}

void ha_linein_feed(HaLineIn *in, const char *data, size_t len, HaLineFunc func, void *user_data)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (c == '\n') {
            if (!in->discarding)
                func(in->buf, in->len, user_data);
            in->len = 0;
            in->discarding = false;
        } else if (in->discarding) {
            continue;
        } else if (in->len >= sizeof(in->buf)) {
            in->discarding = true; /* too long to be a request: drop it whole */
            in->len = 0;
            in->oversized++;
        } else {
            in->buf[in->len++] = c;
        }
    }
}
