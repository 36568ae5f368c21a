/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

#include "hd-dbus-generated.h"

G_BEGIN_DECLS

/* hocusctl's exit codes (documented in hocusctl --help). */
typedef enum {
    HD_CTL_OK = 0,
    HD_CTL_FAILED = 1,
    HD_CTL_USAGE = 2,
    HD_CTL_NOT_FOUND = 3,
    HD_CTL_DENIED = 4,
    HD_CTL_UNREACHABLE = 5,
    HD_CTL_INVALID = 6,
    HD_CTL_EXISTS = 7,
    HD_CTL_STATE = 8,
    HD_CTL_GAVE_UP = 9,
} HdCtlExit;

/* Errors hocusctl makes itself. */
#define HD_CTL_ERROR (hd_ctl_error_quark())
GQuark hd_ctl_error_quark(void);
typedef enum {
    HD_CTL_ERROR_GAVE_UP, /* --timeout passed; hocusd goes on with the operation */
} HdCtlError;

typedef struct {
    gboolean json;
    const char *bus_address; /* NULL: the system bus (or DBUS_SYSTEM_BUS_ADDRESS) */
    GDBusConnection *bus;
    int timeout_s;   /* --timeout of a long operation; 0: wait as long as it takes */
    gint64 deadline; /* monotonic; 0: none */
} HdCtl;

typedef int (*HdCtlCommand)(HdCtl *ctl, int argc, char **argv);

/* hocusctl.c */
GDBusConnection *hd_ctl_bus(HdCtl *ctl, GError **error);
/* Print error (text or JSON) and map it to an exit code. */
int hd_ctl_fail(HdCtl *ctl, const GError *error);
int hd_ctl_usage_error(HdCtl *ctl, const char *command, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
HdDbusManager *hd_ctl_manager(HdCtl *ctl, GError **error);
HdDbusWorkspace *hd_ctl_workspace(HdCtl *ctl, const char *name, GError **error);

/* hd-ctl-output.c */
json_object *hd_ctl_workspace_json(HdDbusWorkspace *ws);
/* Any D-Bus value as JSON: dictionaries as objects, arrays as arrays. */
json_object *hd_ctl_variant_to_json(GVariant *v);
void hd_ctl_print_json(json_object *obj);
void hd_ctl_print_workspace_table(GPtrArray *workspaces);
void hd_ctl_print_workspace_details(HdDbusWorkspace *ws);

/* hd-ctl-workspace.c */
/* Parse a command's options; between min_args and max_args positional
 * arguments stay in argv (after the command name). */
gboolean hd_ctl_parse_options(HdCtl *ctl, const char *command, GOptionEntry *entries, int *argc,
                              char ***argv, int min_args, int max_args, int *rc);
int hd_ctl_cmd_list(HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_show(HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_create(HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_start(HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_stop(HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_delete(HdCtl *ctl, int argc, char **argv);

/* hd-ctl-wait.c: long operations, waited for without a reply timeout. */
void hd_ctl_set_timeout(HdCtl *ctl, int timeout_s);
/* Call method and wait for its reply, with a progress line on a terminal,
 * until ctl's deadline (HD_CTL_ERROR_GAVE_UP). what: "creating workspace dev". */
gboolean hd_ctl_call_long(HdCtl *ctl, GDBusProxy *proxy, const char *method, GVariant *params,
                          const char *what, GVariant **reply, GError **error);
char *hd_ctl_read_state(HdCtl *ctl, HdDbusWorkspace *ws, GError **error);
gboolean hd_ctl_wait_for_state(HdCtl *ctl, HdDbusWorkspace *ws, const char *want, const char *what,
                               GError **error);

/* hd-ctl-metrics.c */
int hd_ctl_cmd_status(HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_top(HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_metrics(HdCtl *ctl, int argc, char **argv);

/* hd-ctl-policy.c */
int hd_ctl_cmd_policy(HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_set_memory(HdCtl *ctl, int argc, char **argv);

/* hd-ctl-http.c: one HTTP exchange on standard input and output. GET or
 * HEAD of path gets produce()'s text (NULL with error: 503), anything else
 * the matching 4xx. The exit status: HD_CTL_OK when it answered 200. */
typedef char *(*HdCtlHttpBody)(gpointer user_data, GError **error);
int hd_ctl_serve_http(const char *path, const char *content_type, HdCtlHttpBody produce,
                      gpointer user_data);

G_END_DECLS
