/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "hd-ctl.h"
#include "hocusd/hd-size.h"

json_object *hd_ctl_variant_to_json(GVariant *v)
{
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ||
        g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH))
        return json_object_new_string(g_variant_get_string(v, NULL));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN))
        return json_object_new_boolean(g_variant_get_boolean(v));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32))
        return json_object_new_int64(g_variant_get_uint32(v));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32))
        return json_object_new_int64(g_variant_get_int32(v));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64))
        return json_object_new_uint64(g_variant_get_uint64(v));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT64))
        return json_object_new_int64(g_variant_get_int64(v));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE))
        return json_object_new_double(g_variant_get_double(v));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_BYTE))
        return json_object_new_int64(g_variant_get_byte(v));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARIANT)) {
        g_autoptr(GVariant) inner = g_variant_get_variant(v);
        return hd_ctl_variant_to_json(inner);
    }
    if (g_variant_is_of_type(v, G_VARIANT_TYPE("a{s*}"))) {
        /* a{sv}, a{sa{sv}}, ...: an object keyed by the strings. */
        json_object *o = json_object_new_object();
        GVariantIter it;
        GVariant *entry;

        g_variant_iter_init(&it, v);
        while ((entry = g_variant_iter_next_value(&it)) != NULL) {
            g_autoptr(GVariant) key = g_variant_get_child_value(entry, 0);
            g_autoptr(GVariant) val = g_variant_get_child_value(entry, 1);

            json_object_object_add(o, g_variant_get_string(key, NULL), hd_ctl_variant_to_json(val));
            g_variant_unref(entry);
        }
        return o;
    }
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_ARRAY)) {
        json_object *a = json_object_new_array();
        GVariantIter it;
        GVariant *child;

        g_variant_iter_init(&it, v);
        while ((child = g_variant_iter_next_value(&it)) != NULL) {
            json_object_array_add(a, hd_ctl_variant_to_json(child));
            g_variant_unref(child);
        }
        return a;
    }
    {
        g_autofree char *text = g_variant_print(v, TRUE);
        return json_object_new_string(text);
    }
}

json_object *hd_ctl_workspace_json(HdDbusWorkspace *ws)
{
    json_object *o = json_object_new_object();
    GVariant *spec = hd_dbus_workspace_get_spec(ws);

    json_object_object_add(o, "name", json_object_new_string(hd_dbus_workspace_get_name(ws)));
    json_object_object_add(o, "state", json_object_new_string(hd_dbus_workspace_get_state(ws)));
    json_object_object_add(o, "uuid", json_object_new_string(hd_dbus_workspace_get_uuid(ws)));
    json_object_object_add(o, "created_usec",
                           json_object_new_uint64(hd_dbus_workspace_get_created_usec(ws)));
    json_object_object_add(o, "object_path",
                           json_object_new_string(g_dbus_proxy_get_object_path(G_DBUS_PROXY(ws))));
    json_object_object_add(o, "spec", spec != NULL ? hd_ctl_variant_to_json(spec) : NULL);
    json_object_object_add(o, "last_error",
                           json_object_new_string(hd_dbus_workspace_get_last_error(ws) ?: ""));
    json_object_object_add(o, "last_error_usec",
                           json_object_new_uint64(hd_dbus_workspace_get_last_error_usec(ws)));
    return o;
}

void hd_ctl_print_json(json_object *obj)
{
    puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

static guint64 spec_u64(HdDbusWorkspace *ws, const char *key)
{
    GVariant *spec = hd_dbus_workspace_get_spec(ws);
    guint64 v = 0;
    guint32 u = 0;

    if (spec == NULL)
        return 0;
    if (g_variant_lookup(spec, key, "t", &v))
        return v;
    if (g_variant_lookup(spec, key, "u", &u))
        return u;
    return 0;
}

static char *spec_size(HdDbusWorkspace *ws, const char *key)
{
    return hd_size_format(spec_u64(ws, key));
}

void hd_ctl_print_workspace_table(GPtrArray *workspaces)
{
    if (workspaces->len == 0) {
        puts("No workspaces.");
        return;
    }
    printf("%-24s %-10s %5s %10s %10s %10s\n", "NAME", "STATE", "VCPUS", "MEMORY", "MEM-MIN",
           "DISK");
    for (guint i = 0; i < workspaces->len; i++) {
        HdDbusWorkspace *ws = g_ptr_array_index(workspaces, i);
        g_autofree char *mem = spec_size(ws, "memory_max");
        g_autofree char *min = spec_size(ws, "memory_min");
        g_autofree char *disk = spec_size(ws, "disk_size");

        printf("%-24s %-10s %5" G_GUINT64_FORMAT " %10s %10s %10s\n",
               hd_dbus_workspace_get_name(ws), hd_dbus_workspace_get_state(ws),
               spec_u64(ws, "vcpus"), mem, min, disk);
    }
}

void hd_ctl_print_workspace_details(HdDbusWorkspace *ws)
{
    GVariant *spec = hd_dbus_workspace_get_spec(ws);
    g_autofree char *mem = spec_size(ws, "memory_max");
    g_autofree char *min = spec_size(ws, "memory_min");
    g_autofree char *disk = spec_size(ws, "disk_size");
    g_autoptr(GDateTime) created =
        g_date_time_new_from_unix_local(hd_dbus_workspace_get_created_usec(ws) / G_USEC_PER_SEC);
    g_autofree char *created_text =
        created != NULL ? g_date_time_format(created, "%F %T %z") : g_strdup("?");
    const char *s;

    printf("Name:         %s\n", hd_dbus_workspace_get_name(ws));
    printf("State:        %s\n", hd_dbus_workspace_get_state(ws));
    printf("UUID:         %s\n", hd_dbus_workspace_get_uuid(ws));
    printf("Created:      %s\n", created_text);
    printf("vCPUs:        %" G_GUINT64_FORMAT "\n", spec_u64(ws, "vcpus"));
    printf("Memory:       %s (min %s)\n", mem, min);
    printf("Disk:         %s\n", disk);
    if (spec != NULL && g_variant_lookup(spec, "base_image", "&s", &s))
        printf("Base image:   %s\n", s);
    if (spec != NULL && g_variant_lookup(spec, "kernel", "&s", &s))
        printf("Kernel:       %s\n", s);
    if (spec != NULL && g_variant_lookup(spec, "initrd", "&s", &s))
        printf("Initrd:       %s\n", s);
    if (spec != NULL && g_variant_lookup(spec, "cmdline_extra", "&s", &s))
        printf("Cmdline+:     %s\n", s);
    printf("D-Bus object: %s\n", g_dbus_proxy_get_object_path(G_DBUS_PROXY(ws)));
    s = hd_dbus_workspace_get_last_error(ws);
    if (s != NULL && *s != '\0') {
        g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(
            (gint64)(hd_dbus_workspace_get_last_error_usec(ws) / G_USEC_PER_SEC));
        g_autofree char *when_text =
            when != NULL ? g_date_time_format(when, "%F %T %z") : g_strdup("?");
        printf("Last error:   %s (%s)\n", s, when_text);
    }
}
