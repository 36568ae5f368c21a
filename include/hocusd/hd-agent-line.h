/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * hocus-agent's telemetry lines (docs/agent-protocol.md), as hocusd reads
 * them: the guest is untrusted, so a line is taken only when it is a JSON
 * object of protocol version 1 with values of the documented types and
 * ranges. Whatever is missing stays absent; nothing is guessed.
 */

#define HD_AGENT_LINE_MAX 4096 /* bytes, newline included */

typedef enum {
    HD_AGENT_LINE_TELEMETRY,
    HD_AGENT_LINE_HELLO,
    HD_AGENT_LINE_ERROR,
} HdAgentLineType;

typedef struct {
    double avg10, avg60, avg300;
    guint64 total_us;
} HdAgentPsi;

typedef struct {
    HdAgentLineType type;
    guint64 seq;
    gboolean have_mem;
    guint64 mem_total, mem_free, mem_cached; /* bytes */
    gboolean have_mem_available;
    guint64 mem_available;
    gboolean have_psi_some, have_psi_full;
    HdAgentPsi psi_some, psi_full;
    gboolean have_recipe;
    gboolean recipe_ok;
    gboolean have_reclaim;
    char reclaim_state[16];
    guint64 reclaimed_bytes;
    gboolean have_dropped;
    guint64 dropped_lines;
    /* Reclaim requests from hocusd, as the agent counts them. */
    gboolean have_host;
    guint64 host_requests, host_done, host_last_seq, host_reclaimed_bytes;
    /* The object as json-c prints it back: valid UTF-8, no control characters. */
    char *canonical;
} HdAgentLine;

/* Parse one line (without its newline). FALSE with a reason in *why (static
 * text) for anything that is not a valid protocol line. */
gboolean hd_agent_line_parse(const char *line, gsize len, HdAgentLine *out, const char **why);

void hd_agent_line_clear(HdAgentLine *line);

/* hocusd's request to drop this much page cache, as one line with its
 * newline (docs/agent-protocol.md, "Requests from the host"). */
char *hd_agent_request_reclaim(guint64 seq, guint64 bytes);

/*
 * Line assembly from a byte stream with a bound: a line longer than
 * HD_AGENT_LINE_MAX is dropped whole (up to its newline) and counted.
 */
typedef struct {
    char buf[HD_AGENT_LINE_MAX];
    gsize len;
    gboolean discarding;
    guint64 oversized;
} HdLineBuf;

typedef void (*HdLineFunc)(const char *line, gsize len, gpointer user_data);

void hd_linebuf_feed(HdLineBuf *lb, const char *data, gsize len, HdLineFunc func,
                     gpointer user_data);
void hd_linebuf_reset(HdLineBuf *lb);

G_END_DECLS
