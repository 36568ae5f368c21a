/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "hocusd/hd-agent-line.h"

/* Larger than any memory a guest can have; anything above is a lie. */
#define SANE_BYTES (G_GUINT64_CONSTANT(1) << 50)

static gboolean get_u64(json_object *obj, const char *key, guint64 max, guint64 *out)
{
    json_object *v;
    gint64 n;

    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return FALSE;
    n = json_object_get_int64(v);
    if (n < 0 || (guint64)n > max)
        return FALSE;
    *out = (guint64)n;
    return TRUE;
}

static gboolean get_pct(json_object *obj, const char *key, double *out)
{
    json_object *v;
    double d;

    if (!json_object_object_get_ex(obj, key, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return FALSE;
    d = json_object_get_double(v);
    if (!isfinite(d) || d < 0.0 || d > 100.0)
        return FALSE;
    *out = d;
    return TRUE;
}

static gboolean get_object(json_object *obj, const char *key, json_object **out)
{
    return json_object_object_get_ex(obj, key, out) && json_object_is_type(*out, json_type_object);
}

static gboolean parse_psi(json_object *psi, const char *key, HdAgentPsi *out)
{
    json_object *line;

    return get_object(psi, key, &line) && get_pct(line, "avg10", &out->avg10) &&
           get_pct(line, "avg60", &out->avg60) && get_pct(line, "avg300", &out->avg300) &&
           get_u64(line, "total_us", G_MAXINT64, &out->total_us);
}

static void parse_telemetry(json_object *root, HdAgentLine *out)
{
    json_object *mem, *psi, *recipe, *reclaim, *v;

    if (get_object(root, "mem", &mem) && get_u64(mem, "total", SANE_BYTES, &out->mem_total) &&
        get_u64(mem, "free", out->mem_total, &out->mem_free) &&
        get_u64(mem, "cached", out->mem_total, &out->mem_cached))
        out->have_mem = TRUE;
    if (out->have_mem && get_u64(mem, "available", out->mem_total, &out->mem_available))
        out->have_mem_available = TRUE;
    if (get_object(root, "psi", &psi)) {
        out->have_psi_some = parse_psi(psi, "some", &out->psi_some);
        out->have_psi_full = parse_psi(psi, "full", &out->psi_full);
    }
    if (get_object(root, "recipe", &recipe) && json_object_object_get_ex(recipe, "ok", &v) &&
        json_object_is_type(v, json_type_boolean)) {
        out->have_recipe = TRUE;
        out->recipe_ok = json_object_get_boolean(v);
    }
    if (get_object(root, "reclaim", &reclaim) && json_object_object_get_ex(reclaim, "state", &v) &&
        json_object_is_type(v, json_type_string) &&
        json_object_get_string_len(v) < (int)sizeof(out->reclaim_state) &&
        get_u64(reclaim, "reclaimed_bytes", G_MAXINT64, &out->reclaimed_bytes)) {
        const char *state = json_object_get_string(v);
        static const char *const states[] = { "warmup",  "idle",     "reclaiming",
                                              "backoff", "disabled", NULL };

        for (guint i = 0; states[i] != NULL; i++) {
            if (strcmp(state, states[i]) == 0) {
                g_strlcpy(out->reclaim_state, state, sizeof(out->reclaim_state));
                out->have_reclaim = TRUE;
            }
        }
    }
    out->have_dropped = get_u64(root, "dropped_lines", G_MAXINT64, &out->dropped_lines);
    if (get_object(root, "host", &v) && get_u64(v, "requests", G_MAXINT64, &out->host_requests) &&
        get_u64(v, "done", out->host_requests, &out->host_done) &&
        get_u64(v, "last_seq", G_MAXINT64, &out->host_last_seq) &&
        get_u64(v, "reclaimed_bytes", G_MAXINT64, &out->host_reclaimed_bytes))
        out->have_host = TRUE;
}

char *hd_agent_request_reclaim(guint64 seq, guint64 bytes)
{
    return g_strdup_printf("{\"v\":1,\"type\":\"reclaim\",\"seq\":%" G_GUINT64_FORMAT
                           ",\"bytes\":%" G_GUINT64_FORMAT "}\n",
                           seq, bytes);
}

gboolean hd_agent_line_parse(const char *line, gsize len, HdAgentLine *out, const char **why)
{
    json_tokener *tok;
    json_object *root, *v;
    const char *type;
    guint64 version = 0;
    gboolean ok = FALSE;

    memset(out, 0, sizeof(*out));
    *why = NULL;
    if (len == 0 || len >= HD_AGENT_LINE_MAX) {
        *why = len == 0 ? "empty line" : "line too long";
        return FALSE;
    }
    if (memchr(line, '\0', len) != NULL) {
        *why = "NUL byte in line";
        return FALSE;
    }
    tok = json_tokener_new_ex(8);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, line, (int)len);
    if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len) {
        *why = "not a JSON document";
        goto out;
    }
    if (!json_object_is_type(root, json_type_object)) {
        *why = "not a JSON object";
        goto out;
    }
    if (!get_u64(root, "v", 1000, &version) || version != 1) {
        *why = "no protocol version 1";
        goto out;
    }
    if (!json_object_object_get_ex(root, "type", &v) || !json_object_is_type(v, json_type_string)) {
        *why = "no type";
        goto out;
    }
    type = json_object_get_string(v);
    if (strcmp(type, "telemetry") == 0)
        out->type = HD_AGENT_LINE_TELEMETRY;
    else if (strcmp(type, "hello") == 0)
        out->type = HD_AGENT_LINE_HELLO;
    else if (strcmp(type, "error") == 0)
        out->type = HD_AGENT_LINE_ERROR;
    else {
        *why = "unknown type";
        goto out;
    }
    (void)get_u64(root, "seq", G_MAXINT64, &out->seq);
    if (out->type == HD_AGENT_LINE_TELEMETRY)
        parse_telemetry(root, out);
    out->canonical = g_strdup(json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    ok = TRUE;
out:
    if (root != NULL)
        json_object_put(root);
    json_tokener_free(tok);
    return ok;
}

void hd_agent_line_clear(HdAgentLine *line)
{
    g_clear_pointer(&line->canonical, g_free);
}

void hd_linebuf_reset(HdLineBuf *lb)
{
    lb->len = 0;
    lb->discarding = FALSE;
}

void hd_linebuf_feed(HdLineBuf *lb, const char *data, gsize len, HdLineFunc func,
                     gpointer user_data)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        gsize chunk = nl != NULL ? (gsize)(nl - data) : len;

        if (lb->discarding) {
            /* Inside an oversized line: skip to its end. */
        } else if (lb->len + chunk >= HD_AGENT_LINE_MAX) {
            lb->discarding = TRUE;
            lb->oversized++;
            lb->len = 0;
        } else {
            memcpy(lb->buf + lb->len, data, chunk);
            lb->len += chunk;
        }
        if (nl == NULL)
            return;
        if (!lb->discarding && lb->len > 0)
            func(lb->buf, lb->len, user_data);
        lb->len = 0;
        lb->discarding = FALSE;
        data = nl + 1;
        len -= chunk + 1;
    }
}
