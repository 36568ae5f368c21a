/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hd-bench-dbus: times the D-Bus calls a dashboard makes against hocusd, in
 * one process, so that no process start-up is counted (busctl would add a
 * few milliseconds of its own to every call).
 *
 *   hd-bench-dbus --address ADDRESS [--repeat N]
 *
 * Prints one JSON object: for each call a list of N wall times in
 * milliseconds, plus the size of the reply. Peer.Ping is the floor: a round
 * trip through the bus daemon that hocusd answers without any work. For each
 * call it also times GDBus turning that same reply into a message
 * (g_dbus_message_to_blob, "<call>_serialize_ms") and that message back into
 * a value (g_dbus_message_new_from_blob, "<call>_parse_ms", what the
 * client's GDBus does on receipt): together, the part of a call's time that
 * any GDBus service and client exchanging a reply of that size pay.
 */
#include <glib.h>
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "hocusd/hd-names.h"

typedef struct {
    const char *label;
    const char *path;
    const char *iface;
    const char *method;
    const char *reply_type;
} BenchCall;

static const BenchCall calls[] = {
    { "ping", HD_DBUS_ROOT_PATH, "org.freedesktop.DBus.Peer", "Ping", "()" },
    { "get_managed_objects", HD_DBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
      "GetManagedObjects", "(a{oa{sa{sv}}})" },
    { "get_metrics", HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE, "GetMetrics", "(a{sv})" },
};

/* Milliseconds GDBus takes to serialise body as a message, and to parse it back. */
static void gdbus_floor_ms(GVariant *body, double *ser_ms, double *parse_ms)
{
    g_autoptr(GDBusMessage) msg = g_dbus_message_new_signal("/bench", "dev.hocus.Bench", "Reply");
    g_autoptr(GDBusMessage) back = NULL;
    g_autofree guchar *blob = NULL;
    gsize size = 0;
    gint64 t0, t1;

    g_dbus_message_set_body(msg, body);
    t0 = g_get_monotonic_time();
    blob = g_dbus_message_to_blob(msg, &size, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
    t1 = g_get_monotonic_time();
    *ser_ms = blob != NULL ? (double)(t1 - t0) / 1000.0 : -1.0;
    *parse_ms = -1.0;
    if (blob == NULL)
        return;
    back = g_dbus_message_new_from_blob(blob, size, G_DBUS_CAPABILITY_FLAGS_NONE, NULL);
    if (back != NULL)
        *parse_ms = (double)(g_get_monotonic_time() - t1) / 1000.0;
}

static gboolean time_call(GDBusConnection *conn, const BenchCall *c, double *ms, gsize *bytes,
                          gsize *objects, double *ser_ms, double *parse_ms, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(
        conn, HD_DBUS_NAME, c->path, c->iface, c->method, NULL, G_VARIANT_TYPE(c->reply_type),
        G_DBUS_CALL_FLAGS_NO_AUTO_START, 60000, NULL, error);

    if (r == NULL) {
        g_prefix_error(error, "%s.%s: ", c->iface, c->method);
        return FALSE;
    }
    *ms = (double)(g_get_monotonic_time() - t0) / 1000.0;
    *bytes = g_variant_get_size(r);
    gdbus_floor_ms(r, ser_ms, parse_ms);
    if (g_variant_n_children(r) > 0) {
        g_autoptr(GVariant) body = g_variant_get_child_value(r, 0);
        *objects = g_variant_n_children(body);
    } else {
        *objects = 0;
    }
    return TRUE;
}

int main(int argc, char **argv)
{
    g_autofree char *address = NULL;
    int repeat = 5;
    GOptionEntry entries[] = {
        { "address", 0, 0, G_OPTION_ARG_STRING, &address, "D-Bus address of hocusd's bus",
          "ADDRESS" },
        { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "Calls of each kind (default 5)", "N" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- time hocusd's D-Bus dump calls");
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) conn = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "hd-bench-dbus: %s\n", error->message);
        return 2;
    }
    if (address == NULL || repeat < 1 || repeat > 1000) {
        fprintf(stderr, "hd-bench-dbus: --address is required and --repeat must be 1..1000\n");
        return 2;
    }
    conn =
        g_dbus_connection_new_for_address_sync(address,
                                               G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                               NULL, NULL, &error);
    if (conn == NULL) {
        fprintf(stderr, "hd-bench-dbus: cannot connect to %s: %s\n", address, error->message);
        return 1;
    }

    printf("{");
    for (gsize i = 0; i < G_N_ELEMENTS(calls); i++) {
        gsize bytes = 0, objects = 0;
        g_autoptr(GString) ser = g_string_new(NULL);
        g_autoptr(GString) parse = g_string_new(NULL);

        printf("%s\"%s_ms\": [", i > 0 ? ", " : "", calls[i].label);
        for (int n = 0; n < repeat; n++) {
            double ms, ser_ms, parse_ms;

            if (!time_call(conn, &calls[i], &ms, &bytes, &objects, &ser_ms, &parse_ms, &error)) {
                fprintf(stderr, "hd-bench-dbus: %s\n", error->message);
                return 1;
            }
            printf("%s%.3f", n > 0 ? ", " : "", ms);
            g_string_append_printf(ser, "%s%.3f", n > 0 ? ", " : "", ser_ms);
            g_string_append_printf(parse, "%s%.3f", n > 0 ? ", " : "", parse_ms);
        }
        printf("], \"%s_serialize_ms\": [%s", calls[i].label, ser->str);
        printf("], \"%s_parse_ms\": [%s", calls[i].label, parse->str);
        printf("], \"%s_bytes\": %" G_GSIZE_FORMAT ", \"%s_entries\": %" G_GSIZE_FORMAT,
               calls[i].label, bytes, calls[i].label, objects);
    }
    printf("}\n");
    return 0;
}
