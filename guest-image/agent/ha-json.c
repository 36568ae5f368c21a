/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ha.h"

void ha_json_init(HaJson *j, char *buf, size_t cap)
{
    memset(j, 0, sizeof(*j));
    j->buf = buf;
    j->cap = cap;
    if (cap > 0)
        buf[0] = '\0';
}

static void put(HaJson *j, const char *s, size_t n)
{
    /* Keep room for the final "\n" and NUL. */
    if (j->overflow || j->len + n + 2 > j->cap) {
        j->overflow = true;
        return;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(HaJson *j, const char *s)
{
    put(j, s, strlen(s));
}

static void put_string(HaJson *j, const char *s)
{
    put(j, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            put(j, esc, 2);
        } else if (*c < 0x20 || *c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", *c);
            put(j, esc, 6);
        } else if (*c >= 0x80) {
            put(j, "?", 1); /* keep the line ASCII: these are file names at most */
        } else {
            put(j, (const char *)c, 1);
        }
    }
    put(j, "\"", 1);
}

static void key(HaJson *j, const char *k)
{
    if (j->need_comma[j->depth])
        put(j, ",", 1);
    j->need_comma[j->depth] = true;
    if (k != NULL) {
        put_string(j, k);
        put(j, ":", 1);
    }
}

static void open_(HaJson *j, const char *k, const char *bracket)
{
    key(j, k);
    puts_(j, bracket);
    if (j->depth + 1 < (int)(sizeof(j->need_comma) / sizeof(j->need_comma[0]))) {
        j->depth++;
        j->need_comma[j->depth] = false;
    } else {
        j->overflow = true;
    }
}

void ha_json_begin_object(HaJson *j, const char *k)
{
    if (j->len == 0 && j->depth == 0 && k == NULL) {
        puts_(j, "{");
        j->depth = 1;
        j->need_comma[1] = false;
        return;
    }
    open_(j, k, "{");
}

void ha_json_end_object(HaJson *j)
{
    puts_(j, "}");
    if (j->depth > 0)
        j->depth--;
}

void ha_json_begin_array(HaJson *j, const char *k)
{
    open_(j, k, "[");
}

void ha_json_end_array(HaJson *j)
{
    puts_(j, "]");
    if (j->depth > 0)
        j->depth--;
}

void ha_json_u64(HaJson *j, const char *k, uint64_t v)
{
    char b[24];

    key(j, k);
    snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
    puts_(j, b);
}

void ha_json_i64(HaJson *j, const char *k, int64_t v)
{
    char b[24];

    key(j, k);
    snprintf(b, sizeof(b), "%lld", (long long)v);
    puts_(j, b);
}

void ha_json_double(HaJson *j, const char *k, double v)
{
    char b[32];

    key(j, k);
    if (!isfinite(v)) {
        puts_(j, "null");
        return;
    }
    snprintf(b, sizeof(b), "%.2f", v);
    puts_(j, b);
}

void ha_json_bool(HaJson *j, const char *k, bool v)
{
    key(j, k);
    puts_(j, v ? "true" : "false");
}

void ha_json_string(HaJson *j, const char *k, const char *v)
{
    key(j, k);
    if (v == NULL)
        puts_(j, "null");
    else
        put_string(j, v);
}

void ha_json_null(HaJson *j, const char *k)
{
    key(j, k);
    puts_(j, "null");
}

bool ha_json_finish(HaJson *j)
{
    if (j->overflow || j->depth != 0 || j->len + 2 > j->cap)
        return false;
    j->buf[j->len++] = '\n';
    j->buf[j->len] = '\0';
    return true;
}
