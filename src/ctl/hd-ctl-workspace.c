/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hd-ctl.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"
#include "hocusd/hd-spec.h"

/* Parse a command's options; between min_args and max_args positional
 * arguments stay in argv (after the command name). */
gboolean hd_ctl_parse_options(HdCtl *ctl, const char *command, GOptionEntry *entries, int *argc,
                              char ***argv, int min_args, int max_args, int *rc)
{
    g_autoptr(GOptionContext) oc = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    GOptionEntry json_entry[] = {
        { "json", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &ctl->json, NULL, NULL }, { NULL }
    };

    g_option_context_set_help_enabled(oc, FALSE);
    g_option_context_add_main_entries(oc, json_entry, NULL);
    if (entries != NULL)
        g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, argc, argv, &error)) {
        *rc = hd_ctl_usage_error(ctl, command, "%s", error->message);
        return FALSE;
    }
    if (*argc - 1 < min_args) {
        *rc = hd_ctl_usage_error(ctl, command, "a workspace name is required");
        return FALSE;
    }
    if (*argc - 1 > max_args) {
        *rc = hd_ctl_usage_error(ctl, command, "unexpected argument '%s'", (*argv)[max_args + 1]);
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_options(HdCtl *ctl, const char *command, GOptionEntry *entries, int *argc,
                              char ***argv, int want_args, int *rc)
{
    return hd_ctl_parse_options(ctl, command, entries, argc, argv, want_args, want_args, rc);
}

static gint compare_by_name(gconstpointer a, gconstpointer b)
{
    HdDbusWorkspace *wa = *(HdDbusWorkspace *const *)a;
    HdDbusWorkspace *wb = *(HdDbusWorkspace *const *)b;

    return g_strcmp0(hd_dbus_workspace_get_name(wa), hd_dbus_workspace_get_name(wb));
}

int hd_ctl_cmd_list(HdCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusObjectManager) om = NULL;
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_object_unref);
    g_autofree char *owner = NULL;
    GList *objects;
    GDBusConnection *bus;
    int rc;

    if (!parse_options(ctl, "list", NULL, &argc, &argv, 0, &rc))
        return rc;
    bus = hd_ctl_bus(ctl, &error);
    if (bus != NULL)
        om = hd_dbus_object_manager_client_new_sync(
            bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, HD_DBUS_NAME,
            HD_DBUS_ROOT_PATH, NULL, &error);
    if (om == NULL)
        return hd_ctl_fail(ctl, error);
    owner = g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(om));
    if (owner == NULL) {
        g_set_error(&error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER,
                    "nobody owns %s on the bus", HD_DBUS_NAME);
        return hd_ctl_fail(ctl, error);
    }
    objects = g_dbus_object_manager_get_objects(om);
    for (GList *l = objects; l != NULL; l = l->next) {
        HdDbusWorkspace *ws = hd_dbus_object_get_workspace(HD_DBUS_OBJECT(l->data));
        if (ws != NULL)
            g_ptr_array_add(list, ws);
    }
    g_list_free_full(objects, g_object_unref);
    g_ptr_array_sort(list, compare_by_name);

    if (ctl->json) {
        json_object *arr = json_object_new_array();
        for (guint i = 0; i < list->len; i++)
            json_object_array_add(arr, hd_ctl_workspace_json(g_ptr_array_index(list, i)));
        hd_ctl_print_json(arr);
        json_object_put(arr);
    } else {
        hd_ctl_print_workspace_table(list);
    }
    return HD_CTL_OK;
}

static int print_workspace(HdCtl *ctl, HdDbusWorkspace *ws)
{
    if (ctl->json) {
        json_object *o = hd_ctl_workspace_json(ws);
        hd_ctl_print_json(o);
        json_object_put(o);
    } else {
        hd_ctl_print_workspace_details(ws);
    }
    return HD_CTL_OK;
}

int hd_ctl_cmd_show(HdCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDbusWorkspace) ws = NULL;
    int rc;

    if (!parse_options(ctl, "show", NULL, &argc, &argv, 1, &rc))
        return rc;
    ws = hd_ctl_workspace(ctl, argv[1], &error);
    if (ws == NULL)
        return hd_ctl_fail(ctl, error);
    return print_workspace(ctl, ws);
}

static void add_size_or_string(json_object *spec, const char *key, const char *value)
{
    if (value != NULL)
        json_object_object_add(spec, key, json_object_new_string(value));
}

/* Merge --spec FILE and the options into a JSON object, then validate it
 * locally with the daemon's own rules so mistakes show before any call. */
static HdSpec *build_spec(HdCtl *ctl, const char *name, const char *spec_file, int vcpus,
                          const char *memory, const char *memory_min, const char *disk,
                          const char *base, const char *kernel, const char *initrd,
                          const char *cmdline, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    json_object *obj;
    HdSpec *spec;
    const char *json_text;

    if (spec_file != NULL) {
        if (strcmp(spec_file, "-") == 0) {
            g_autoptr(GIOChannel) in = g_io_channel_unix_new(STDIN_FILENO);
            if (g_io_channel_read_to_end(in, &text, &len, error) != G_IO_STATUS_NORMAL)
                return NULL;
        } else if (!g_file_get_contents(spec_file, &text, &len, error)) {
            return NULL;
        }
        obj = json_tokener_parse(text);
        if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
            /* Let the real parser produce the precise message. */
            json_object_put(obj);
            spec = hd_spec_from_json(text, len, error);
            if (spec == NULL)
                g_prefix_error(error, "%s: ", spec_file);
            return spec;
        }
    } else {
        obj = json_object_new_object();
    }
    if (name != NULL)
        json_object_object_add(obj, "name", json_object_new_string(name));
    if (vcpus >= 0)
        json_object_object_add(obj, "vcpus", json_object_new_int(vcpus));
    add_size_or_string(obj, "memory_max", memory);
    add_size_or_string(obj, "memory_min", memory_min);
    add_size_or_string(obj, "disk_size", disk);
    add_size_or_string(obj, "base_image", base);
    add_size_or_string(obj, "kernel", kernel);
    add_size_or_string(obj, "initrd", initrd);
    add_size_or_string(obj, "cmdline_extra", cmdline);
    json_text = json_object_to_json_string(obj);
    spec = hd_spec_from_json(json_text, strlen(json_text), error);
    json_object_put(obj);
    if (spec == NULL && spec_file != NULL)
        g_prefix_error(error, "%s: ", spec_file);
    return spec;
}

int hd_ctl_cmd_create(HdCtl *ctl, int argc, char **argv)
{
    g_autofree char *memory = NULL, *memory_min = NULL, *disk = NULL, *base = NULL;
    g_autofree char *kernel = NULL, *initrd = NULL, *cmdline = NULL, *spec_file = NULL;
    g_autofree char *path = NULL;
    g_autofree char *what = NULL;
    g_autoptr(GVariant) reply = NULL;
    gboolean start = FALSE;
    int vcpus = -1, timeout_s = 0, rc;
    GOptionEntry entries[] = { { "vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, NULL, NULL },
                               { "memory", 0, 0, G_OPTION_ARG_STRING, &memory, NULL, NULL },
                               { "memory-min", 0, 0, G_OPTION_ARG_STRING, &memory_min, NULL, NULL },
                               { "disk", 0, 0, G_OPTION_ARG_STRING, &disk, NULL, NULL },
                               { "base-image", 0, 0, G_OPTION_ARG_FILENAME, &base, NULL, NULL },
                               { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, NULL, NULL },
                               { "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, NULL, NULL },
                               { "cmdline", 0, 0, G_OPTION_ARG_STRING, &cmdline, NULL, NULL },
                               { "spec", 0, 0, G_OPTION_ARG_FILENAME, &spec_file, NULL, NULL },
                               { "start", 0, 0, G_OPTION_ARG_NONE, &start, NULL, NULL },
                               { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, NULL, NULL },
                               { NULL } };
    g_autoptr(GError) error = NULL;
    g_autoptr(HdSpec) spec = NULL;
    g_autoptr(HdDbusManager) manager = NULL;
    g_autoptr(HdDbusWorkspace) ws = NULL;
    const char *name;

    if (!hd_ctl_parse_options(ctl, "create", entries, &argc, &argv, 0, 1, &rc))
        return rc;
    name = argc >= 2 ? argv[1] : NULL;
    if (name == NULL && spec_file == NULL)
        return hd_ctl_usage_error(ctl, "create", "a workspace name (or --spec FILE) is required");
    if (vcpus < -1 || vcpus == 0)
        return hd_ctl_usage_error(ctl, "create", "--vcpus must be a positive number");
    if (timeout_s < 0)
        return hd_ctl_usage_error(ctl, "create", "--timeout must be a positive number of seconds");
    hd_ctl_set_timeout(ctl, timeout_s);
    spec = build_spec(ctl, name, spec_file, vcpus, memory, memory_min, disk, base, kernel, initrd,
                      cmdline, &error);
    if (spec == NULL) {
        if (error->domain != HD_ERROR)
            return hd_ctl_usage_error(ctl, "create", "%s", error->message);
        return hd_ctl_fail(ctl, error);
    }
    if (!(spec->present & HD_SPEC_NAME))
        return hd_ctl_usage_error(ctl, "create", "the spec has no name");

    manager = hd_ctl_manager(ctl, &error);
    what = g_strdup_printf("creating workspace %s", spec->name);
    if (manager == NULL || !hd_ctl_call_long(ctl, G_DBUS_PROXY(manager), "CreateWorkspace",
                                             g_variant_new("(@a{sv})", hd_spec_to_variant(spec)),
                                             what, &reply, &error))
        return hd_ctl_fail(ctl, error);
    g_variant_get(reply, "(o)", &path);
    ws = hd_dbus_workspace_proxy_new_sync(hd_ctl_bus(ctl, NULL),
                                          G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, HD_DBUS_NAME, path,
                                          NULL, &error);
    if (ws == NULL)
        return hd_ctl_fail(ctl, error);
    if (!ctl->json)
        printf("Created workspace %s (%s)\n", spec->name, path);
    if (start) {
        g_free(what);
        what = g_strdup_printf("starting workspace %s", spec->name);
        if (!hd_ctl_call_long(ctl, G_DBUS_PROXY(ws), "Start", NULL, what, NULL, &error))
            return hd_ctl_fail(ctl, error);
        if (!ctl->json)
            printf("Started workspace %s\n", spec->name);
        g_clear_object(&ws);
        ws = hd_dbus_workspace_proxy_new_sync(hd_ctl_bus(ctl, NULL),
                                              G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, HD_DBUS_NAME,
                                              path, NULL, &error);
        if (ws == NULL)
            return hd_ctl_fail(ctl, error);
    }
    return ctl->json ? print_workspace(ctl, ws) : HD_CTL_OK;
}

static int report_state(HdCtl *ctl, HdDbusWorkspace *ws, const char *verb)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *state = hd_ctl_read_state(ctl, ws, &error);

    if (state == NULL)
        return hd_ctl_fail(ctl, error);
    if (ctl->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(hd_dbus_workspace_get_name(ws)));
        json_object_object_add(o, "state", json_object_new_string(state));
        hd_ctl_print_json(o);
        json_object_put(o);
    } else {
        printf("%s workspace %s (%s)\n", verb, hd_dbus_workspace_get_name(ws), state);
    }
    return HD_CTL_OK;
}

int hd_ctl_cmd_start(HdCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDbusWorkspace) ws = NULL;
    g_autofree char *what = NULL;
    int timeout_s = 0, rc;
    GOptionEntry entries[] = { { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, NULL, NULL },
                               { NULL } };

    if (!parse_options(ctl, "start", entries, &argc, &argv, 1, &rc))
        return rc;
    if (timeout_s < 0)
        return hd_ctl_usage_error(ctl, "start", "--timeout must be a positive number of seconds");
    hd_ctl_set_timeout(ctl, timeout_s);
    what = g_strdup_printf("starting workspace %s", argv[1]);
    ws = hd_ctl_workspace(ctl, argv[1], &error);
    if (ws == NULL || !hd_ctl_call_long(ctl, G_DBUS_PROXY(ws), "Start", NULL, what, NULL, &error))
        return hd_ctl_fail(ctl, error);
    return report_state(ctl, ws, "Started");
}

int hd_ctl_cmd_stop(HdCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDbusWorkspace) ws = NULL;
    g_autofree char *what = NULL;
    gboolean force = FALSE, no_wait = FALSE;
    int timeout_s = 0, rc;
    GOptionEntry entries[] = { { "force", 0, 0, G_OPTION_ARG_NONE, &force, NULL, NULL },
                               { "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, NULL, NULL },
                               { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, NULL, NULL },
                               { NULL } };

    if (!parse_options(ctl, "stop", entries, &argc, &argv, 1, &rc))
        return rc;
    if (timeout_s < 0)
        return hd_ctl_usage_error(ctl, "stop", "--timeout must be a positive number of seconds");
    hd_ctl_set_timeout(ctl, timeout_s);
    what = g_strdup_printf("%s workspace %s", force ? "powering off" : "stopping", argv[1]);
    ws = hd_ctl_workspace(ctl, argv[1], &error);
    if (ws == NULL || !hd_ctl_call_long(ctl, G_DBUS_PROXY(ws), "Stop", g_variant_new("(b)", force),
                                        what, NULL, &error))
        return hd_ctl_fail(ctl, error);
    if (!no_wait && !hd_ctl_wait_for_state(ctl, ws, "shutoff", what, &error))
        return hd_ctl_fail(ctl, error);
    return report_state(ctl, ws, no_wait ? "Stopping" : "Stopped");
}

int hd_ctl_cmd_delete(HdCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDbusWorkspace) ws = NULL;
    g_autofree char *state = NULL;
    g_autofree char *what = NULL;
    gboolean force = FALSE;
    int timeout_s = 0, rc;
    GOptionEntry entries[] = { { "force", 0, 0, G_OPTION_ARG_NONE, &force, NULL, NULL },
                               { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, NULL, NULL },
                               { NULL } };

    if (!parse_options(ctl, "delete", entries, &argc, &argv, 1, &rc))
        return rc;
    if (timeout_s < 0)
        return hd_ctl_usage_error(ctl, "delete", "--timeout must be a positive number of seconds");
    hd_ctl_set_timeout(ctl, timeout_s);
    ws = hd_ctl_workspace(ctl, argv[1], &error);
    if (ws == NULL)
        return hd_ctl_fail(ctl, error);
    if (force) {
        state = hd_ctl_read_state(ctl, ws, &error);
        if (state == NULL)
            return hd_ctl_fail(ctl, error);
        what = g_strdup_printf("powering off workspace %s", argv[1]);
        if (strcmp(state, "shutoff") != 0 && strcmp(state, "crashed") != 0 &&
            (!hd_ctl_call_long(ctl, G_DBUS_PROXY(ws), "Stop", g_variant_new("(b)", TRUE), what,
                               NULL, &error) ||
             !hd_ctl_wait_for_state(ctl, ws, "shutoff", what, &error)))
            return hd_ctl_fail(ctl, error);
        g_clear_pointer(&what, g_free);
    }
    what = g_strdup_printf("deleting workspace %s", argv[1]);
    if (!hd_ctl_call_long(ctl, G_DBUS_PROXY(ws), "Delete", NULL, what, NULL, &error))
        return hd_ctl_fail(ctl, error);
    if (ctl->json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(argv[1]));
        json_object_object_add(o, "deleted", json_object_new_boolean(TRUE));
        hd_ctl_print_json(o);
        json_object_put(o);
    } else {
        printf("Deleted workspace %s and its disk\n", argv[1]);
    }
    return HD_CTL_OK;
}
