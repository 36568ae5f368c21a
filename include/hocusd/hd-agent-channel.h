/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The host end of a guest's agent channel: the unix socket behind the
 * virtio-serial port dev.hocus.agent.0. Non-blocking on the main loop; lines
 * are bounded (HD_AGENT_LINE_MAX) and reading is rate limited: at most
 * budget bytes per tick, the rest waits in the socket, so a flooding guest
 * costs hocusd a bounded amount of work and slows only its own channel.
 */
typedef struct _HdAgentChannel HdAgentChannel;

typedef void (*HdAgentChannelLine)(const char *line, gsize len, gpointer user_data);

HdAgentChannel *hd_agent_channel_new(const char *socket_path, gsize budget_per_tick,
                                     HdAgentChannelLine func, gpointer user_data);
void hd_agent_channel_free(HdAgentChannel *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdAgentChannel, hd_agent_channel_free)

/* Once per tick: connect or reconnect when needed, refill the budget. */
void hd_agent_channel_tick(HdAgentChannel *c, guint64 now_usec);

const char *hd_agent_channel_path(HdAgentChannel *c);
gboolean hd_agent_channel_connected(HdAgentChannel *c);
/* Lines dropped for exceeding the bound, and ticks whose budget ran out. */
guint64 hd_agent_channel_oversized(HdAgentChannel *c);

/* Write one host-to-guest line (with its newline) without blocking. FALSE
 * when not connected or the socket is full (the line is dropped, never
 * queued) or was taken only in part (the channel reconnects). */
gboolean hd_agent_channel_send(HdAgentChannel *c, const char *line, GError **error);

G_END_DECLS
