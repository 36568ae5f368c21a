/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hd-ctl.h"
#include "hocusd/hd-names.h"

/*
 * Long operations (create, start, stop, delete) take as long as libvirt
 * takes: hocusctl waits for the answer with no D-Bus reply timeout, shows a
 * progress line on a terminal, and gives up only at --timeout, saying that
 * hocusd goes on (exit 9), never that the operation failed.
 */

G_DEFINE_QUARK(hd - ctl - error - quark, hd_ctl_error)

void hd_ctl_set_timeout(HdCtl *ctl, int timeout_s)
{
    ctl->deadline = timeout_s > 0 ? g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC : 0;
    ctl->timeout_s = timeout_s > 0 ? timeout_s : 0;
}

static gboolean show_progress(HdCtl *ctl)
{
    return !ctl->json && isatty(STDERR_FILENO);
}

static void progress(HdCtl *ctl, const char *what, gint64 started)
{
    if (show_progress(ctl))
        fprintf(stderr, "\r%s... %" G_GINT64_FORMAT " s", what,
                (g_get_monotonic_time() - started) / G_USEC_PER_SEC);
}

static void progress_clear(HdCtl *ctl)
{
    if (show_progress(ctl))
        fputs("\r\033[K", stderr);
}

static void set_gave_up(HdCtl *ctl, const char *what, GError **error)
{
    g_set_error(error, HD_CTL_ERROR, HD_CTL_ERROR_GAVE_UP,
                "gave up waiting after %d s (--timeout); hocusd goes on with: %s", ctl->timeout_s,
                what);
}

typedef struct {
    GMainLoop *loop;
    GAsyncResult *result;
    HdCtl *ctl;
    const char *what;
    gint64 started;
} Wait;

static void on_reply(GObject *source, GAsyncResult *res, gpointer data)
{
    Wait *w = data;

    w->result = g_object_ref(res);
    g_main_loop_quit(w->loop);
}

static gboolean on_tick(gpointer data)
{
    Wait *w = data;

    progress(w->ctl, w->what, w->started);
    if (w->ctl->deadline != 0 && g_get_monotonic_time() >= w->ctl->deadline) {
        g_main_loop_quit(w->loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

gboolean hd_ctl_call_long(HdCtl *ctl, GDBusProxy *proxy, const char *method, GVariant *params,
                          const char *what, GVariant **reply, GError **error)
{
    g_autoptr(GMainContext) context = g_main_context_new();
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    Wait w = { 0 };
    GSource *tick;
    GVariant *out;

    g_main_context_push_thread_default(context);
    w.loop = g_main_loop_new(context, FALSE);
    w.ctl = ctl;
    w.what = what;
    w.started = g_get_monotonic_time();
    /* G_MAXINT: no reply timeout; the only bound is --timeout. */
    g_dbus_proxy_call(proxy, method, params, G_DBUS_CALL_FLAGS_NONE, G_MAXINT, cancel, on_reply,
                      &w);
    tick = g_timeout_source_new(250);
    g_source_set_callback(tick, on_tick, &w, NULL);
    g_source_attach(tick, context);
    progress(ctl, what, w.started);
    g_main_loop_run(w.loop);
    g_source_destroy(tick);
    g_source_unref(tick);
    if (w.result == NULL) {
        /* Our own deadline: drop the call, hocusd carries on. */
        g_cancellable_cancel(cancel);
        while (w.result == NULL)
            g_main_context_iteration(context, TRUE);
        g_clear_object(&w.result);
        g_main_loop_unref(w.loop);
        g_main_context_pop_thread_default(context);
        progress_clear(ctl);
        set_gave_up(ctl, what, error);
        return FALSE;
    }
    out = g_dbus_proxy_call_finish(proxy, w.result, error);
    g_object_unref(w.result);
    g_main_loop_unref(w.loop);
    g_main_context_pop_thread_default(context);
    progress_clear(ctl);
    if (out == NULL)
        return FALSE;
    if (reply != NULL)
        *reply = out;
    else
        g_variant_unref(out);
    return TRUE;
}

/* State read fresh from hocusd (not the proxy's cache, which needs a main loop). */
char *hd_ctl_read_state(HdCtl *ctl, HdDbusWorkspace *ws, GError **error)
{
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        hd_ctl_bus(ctl, NULL), HD_DBUS_NAME, g_dbus_proxy_get_object_path(G_DBUS_PROXY(ws)),
        "org.freedesktop.DBus.Properties", "Get",
        g_variant_new("(ss)", HD_DBUS_WORKSPACE_IFACE, "State"), G_VARIANT_TYPE("(v)"),
        G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
    g_autoptr(GVariant) v = NULL;

    if (reply == NULL)
        return NULL;
    g_variant_get(reply, "(v)", &v);
    return g_variant_dup_string(v, NULL);
}

gboolean hd_ctl_wait_for_state(HdCtl *ctl, HdDbusWorkspace *ws, const char *want, const char *what,
                               GError **error)
{
    gint64 started = g_get_monotonic_time();

    for (;;) {
        g_autofree char *state = hd_ctl_read_state(ctl, ws, error);

        if (state == NULL) {
            progress_clear(ctl);
            return FALSE;
        }
        if (strcmp(state, want) == 0) {
            progress_clear(ctl);
            return TRUE;
        }
        if (ctl->deadline != 0 && g_get_monotonic_time() >= ctl->deadline) {
            g_autofree char *full = g_strdup_printf("%s (workspace %s is %s now)", what,
                                                    hd_dbus_workspace_get_name(ws), state);
            progress_clear(ctl);
            set_gave_up(ctl, full, error);
            return FALSE;
        }
        progress(ctl, what, started);
        g_usleep(200 * 1000);
    }
}
