/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-agent"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>

#include "hocusd/hd-agent-channel.h"
#include "hocusd/hd-agent-line.h"

#define RECONNECT_USEC (2 * G_USEC_PER_SEC)

struct _HdAgentChannel {
    char *path;
    gsize budget_per_tick;
    gsize budget;
    HdAgentChannelLine func;
    gpointer user_data;

    GSocket *socket;
    GSource *source;
    gboolean connecting;
    gboolean connected;
    guint64 last_attempt_usec;
    HdLineBuf lines;
};

static void disconnect(HdAgentChannel *c)
{
    if (c->source != NULL) {
        g_source_destroy(c->source);
        g_clear_pointer(&c->source, g_source_unref);
    }
    if (c->socket != NULL) {
        g_socket_close(c->socket, NULL);
        g_clear_object(&c->socket);
    }
    c->connected = FALSE;
    c->connecting = FALSE;
    hd_linebuf_reset(&c->lines);
}

static void watch(HdAgentChannel *c, GIOCondition cond);

static gboolean on_ready(GSocket *socket, GIOCondition cond, gpointer user_data)
{
    HdAgentChannel *c = user_data;
    char buf[4096];

    if (c->connecting) {
        g_autoptr(GError) error = NULL;

        c->connecting = FALSE;
        if (!g_socket_check_connect_result(socket, &error)) {
            g_debug("%s: %s", c->path, error->message);
            g_clear_pointer(&c->source, g_source_unref);
            disconnect(c);
            return G_SOURCE_REMOVE;
        }
        c->connected = TRUE;
        g_clear_pointer(&c->source, g_source_unref);
        watch(c, G_IO_IN | G_IO_HUP | G_IO_ERR);
        return G_SOURCE_REMOVE;
    }
    while (c->budget > 0) {
        g_autoptr(GError) error = NULL;
        gssize n = g_socket_receive(socket, buf, MIN(sizeof(buf), c->budget), NULL, &error);

        if (n > 0) {
            c->budget -= (gsize)n;
            hd_linebuf_feed(&c->lines, buf, (gsize)n, c->func, c->user_data);
            continue;
        }
        if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return G_SOURCE_CONTINUE;
        g_debug("%s: %s", c->path, n == 0 ? "closed by QEMU" : error->message);
        /* disconnect() destroys this source; drop our reference first. */
        g_clear_pointer(&c->source, g_source_unref);
        disconnect(c);
        return G_SOURCE_REMOVE;
    }
    /* Budget spent: stop reading until the next tick. */
    g_clear_pointer(&c->source, g_source_unref);
    return G_SOURCE_REMOVE;
}

static void watch(HdAgentChannel *c, GIOCondition cond)
{
    c->source = g_socket_create_source(c->socket, cond, NULL);
    g_source_set_callback(c->source, G_SOURCE_FUNC(on_ready), c, NULL);
    g_source_attach(c->source, NULL);
}

static void try_connect(HdAgentChannel *c)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(c->path);

    c->socket =
        g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
    if (c->socket == NULL) {
        g_warning("Cannot create a socket for %s: %s", c->path, error->message);
        return;
    }
    g_socket_set_blocking(c->socket, FALSE);
    if (g_socket_connect(c->socket, addr, NULL, &error)) {
        c->connected = TRUE;
        watch(c, G_IO_IN | G_IO_HUP | G_IO_ERR);
    } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PENDING)) {
        c->connecting = TRUE;
        watch(c, G_IO_OUT | G_IO_HUP | G_IO_ERR);
    } else {
        g_debug("Cannot connect to %s: %s", c->path, error->message);
        disconnect(c);
    }
}

HdAgentChannel *hd_agent_channel_new(const char *socket_path, gsize budget_per_tick,
                                     HdAgentChannelLine func, gpointer user_data)
{
    HdAgentChannel *c = g_new0(HdAgentChannel, 1);

    c->path = g_strdup(socket_path);
    c->budget_per_tick = budget_per_tick;
    c->budget = budget_per_tick;
    c->func = func;
    c->user_data = user_data;
    return c;
}

void hd_agent_channel_free(HdAgentChannel *c)
{
    if (c == NULL)
        return;
    disconnect(c);
    g_free(c->path);
    g_free(c);
}

void hd_agent_channel_tick(HdAgentChannel *c, guint64 now_usec)
{
    c->budget = c->budget_per_tick;
    if (c->socket == NULL) {
        if (c->last_attempt_usec != 0 && now_usec - c->last_attempt_usec < RECONNECT_USEC)
            return;
        c->last_attempt_usec = now_usec;
        try_connect(c);
        return;
    }
    if (c->connected && c->source == NULL)
        watch(c, G_IO_IN | G_IO_HUP | G_IO_ERR); /* re-arm after a throttled tick */
}

const char *hd_agent_channel_path(HdAgentChannel *c)
{
    return c->path;
}

gboolean hd_agent_channel_connected(HdAgentChannel *c)
{
    return c->connected;
}

guint64 hd_agent_channel_oversized(HdAgentChannel *c)
{
    return c->lines.oversized;
}

gboolean hd_agent_channel_send(HdAgentChannel *c, const char *line, GError **error)
{
    gsize len = strlen(line);
    gssize n;

    if (!c->connected) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "%s: not connected", c->path);
        return FALSE;
    }
    n = g_socket_send(c->socket, line, len, NULL, error);
    if (n == (gssize)len)
        return TRUE;
    if (n >= 0) {
        /* Half a line would join the next one: start the stream over. */
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                    "%s: only %" G_GSSIZE_FORMAT " of %" G_GSIZE_FORMAT
                    " bytes taken; reconnecting",
                    c->path, n, len);
        disconnect(c);
    }
    /* WOULD_BLOCK: the guest is not reading; the request is dropped, not queued. */
    return FALSE;
}
