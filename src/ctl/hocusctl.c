/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "hd-build-config.h"
#include "hd-ctl.h"
#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"

static const char usage_text[] =
    "Usage: hocusctl [OPTION...] COMMAND [ARG...]\n"
    "\n"
    "Control hocusd, the developer workspace supervisor, over D-Bus.\n"
    "\n"
    "Commands:\n"
    "  list                      List workspaces with their state and size\n"
    "  show NAME                 Show one workspace in full\n"
    "  create NAME [OPTION...]   Define a workspace (left shut off unless --start)\n"
    "      --vcpus N             virtual CPUs (default from hocusd's config)\n"
    "      --memory SIZE         maximum memory, e.g. 4G\n"
    "      --memory-min SIZE     memory floor when hocusd shrinks it\n"
    "      --disk SIZE           disk size, e.g. 20G\n"
    "      --base-image PATH     start the disk as a copy-on-write overlay of PATH\n"
    "      --kernel PATH, --initrd PATH, --cmdline TEXT\n"
    "                            guest kernel, initramfs and extra kernel arguments\n"
    "      --spec FILE           read the spec as JSON from FILE ('-': stdin);\n"
    "                            options given as well override its keys\n"
    "      --start               start it once it is defined\n"
    "      --timeout SECONDS     give up waiting after this long (see below)\n"
    "  start NAME [--timeout SECONDS]\n"
    "                            Boot a workspace\n"
    "  stop NAME [--force] [--no-wait] [--timeout SECONDS]\n"
    "                            Ask the guest to power off and wait until it is off\n"
    "                            (hocusd powers it off after its stop_timeout_s);\n"
    "                            --force powers it off at once\n"
    "  delete NAME [--force] [--timeout SECONDS]\n"
    "                            Delete a shut-off workspace and its disk;\n"
    "                            --force stops a running one first\n"
    "  status                    Host memory, pressure and density figures, and a\n"
    "                            table of workspaces with their RSS, guest-used\n"
    "                            memory, footprint ratio, CPU, idleness, PSI and\n"
    "                            last reclaim latency (\"-\": not available)\n"
    "  top [--interval SECONDS] [-n|--iterations N]\n"
    "                            status, refreshed (default every 1 s, until\n"
    "                            Ctrl-C); with --json one JSON object per line\n"
    "  policy [-n|--limit N]     The memory policy: its mode (off, observe,\n"
    "                            active), the host's level and why, each running\n"
    "                            workspace's range, balloon, target and state,\n"
    "                            and the last N decisions (default 20)\n"
    "  set-memory NAME [--min SIZE] [--max SIZE]\n"
    "                            The range the policy keeps a workspace in; --max\n"
    "                            is also its memory at the next boot (a running\n"
    "                            workspace cannot grow past what it started with)\n"
    "  metrics [--format openmetrics|json]\n"
    "                            The same figures in the OpenMetrics (Prometheus)\n"
    "                            text format, for node_exporter's textfile\n"
    "                            collector or a scrape proxy\n"
    "  metrics --http            Answer one HTTP request on standard input and\n"
    "                            output (GET /metrics: OpenMetrics); what\n"
    "                            hocusd-metrics.socket runs per connection, the\n"
    "                            Prometheus scrape target on port 9847\n"
    "\n"
    "Options:\n"
    "  --json                    Machine-readable output (errors too, on stdout)\n"
    "  --bus-address ADDRESS     Talk to hocusd on this D-Bus address instead of\n"
    "                            the system bus\n"
    "  -h, --help                Show this help\n"
    "  --version                 Show the version\n"
    "\n"
    "Sizes are bytes or a number with K, M, G or T (powers of 1024).\n"
    "\n"
    "create, start, stop and delete wait as long as the operation takes in\n"
    "libvirt (a line on a terminal shows the seconds). With --timeout, hocusctl\n"
    "stops waiting after SECONDS and exits 9: the operation goes on in hocusd and\n"
    "may still succeed (see 'hocusctl show NAME'); it is never reported as failed.\n"
    "Listing and showing are open to every user; creating, starting, stopping,\n"
    "deleting and set-memory need root or membership of the \"hocus\" group.\n"
    "\n"
    "Exit status:\n"
    "  0  success                  5  hocusd is not reachable\n"
    "  1  other failure            6  invalid spec or argument (rejected)\n"
    "  2  usage error              7  the workspace already exists\n"
    "  3  no such workspace        8  not possible in the workspace's state\n"
    "  4  permission denied       9  gave up waiting (--timeout); hocusd goes on\n"
    "\n"
    "Examples:\n"
    "  hocusctl create dev --memory 4G --disk 20G --start\n"
    "  hocusctl list --json | jq -r '.[] | select(.state == \"running\") | .name'\n"
    "  hocusctl stop dev && hocusctl delete dev\n"
    "  hocusctl status --json | jq '.workspaces.dev.FootprintRatio'\n"
    "  hocusctl metrics > /var/lib/node_exporter/textfile/hocusd.prom\n"
    "  hocusctl set-memory dev --min 1G && hocusctl policy -n 5\n";

GDBusConnection *hd_ctl_bus(HdCtl *ctl, GError **error)
{
    if (ctl->bus != NULL)
        return ctl->bus;
    if (ctl->bus_address != NULL)
        ctl->bus = g_dbus_connection_new_for_address_sync(
            ctl->bus_address,
            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
            NULL, NULL, error);
    else
        ctl->bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, error);
    if (ctl->bus == NULL)
        g_prefix_error(error, "cannot reach the D-Bus bus: ");
    return ctl->bus;
}

static int exit_code_for(const GError *error, const char **kind)
{
    if (g_error_matches(error, HD_CTL_ERROR, HD_CTL_ERROR_GAVE_UP)) {
        *kind = "gave-up";
        return HD_CTL_GAVE_UP;
    }
    if (error->domain == HD_ERROR) {
        switch ((HdError)error->code) {
        case HD_ERROR_NOT_FOUND:
            *kind = "not-found";
            return HD_CTL_NOT_FOUND;
        case HD_ERROR_INVALID_SPEC:
        case HD_ERROR_INVALID_CONFIG:
            *kind = "invalid";
            return HD_CTL_INVALID;
        case HD_ERROR_ALREADY_EXISTS:
            *kind = "exists";
            return HD_CTL_EXISTS;
        case HD_ERROR_INVALID_STATE:
        case HD_ERROR_BUSY:
            *kind = "state";
            return HD_CTL_STATE;
        case HD_ERROR_UNAVAILABLE:
            *kind = "unavailable";
            return HD_CTL_UNREACHABLE;
        default:
            *kind = "failed";
            return HD_CTL_FAILED;
        }
    }
    if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_AUTH_FAILED)) {
        *kind = "denied";
        return HD_CTL_DENIED;
    }
    if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
        *kind = "unreachable";
        return HD_CTL_UNREACHABLE;
    }
    *kind = "failed";
    return HD_CTL_FAILED;
}

/* {"error": {"kind", "message", "dbus_error"?, "exit_code"}} on stdout. */
static void print_json_error(const char *kind, const char *message, const char *dbus_error,
                             int code)
{
    json_object *o = json_object_new_object();
    json_object *e = json_object_new_object();

    json_object_object_add(e, "kind", json_object_new_string(kind));
    json_object_object_add(e, "message", json_object_new_string(message));
    if (dbus_error != NULL)
        json_object_object_add(e, "dbus_error", json_object_new_string(dbus_error));
    json_object_object_add(e, "exit_code", json_object_new_int(code));
    json_object_object_add(o, "error", e);
    hd_ctl_print_json(o);
    json_object_put(o);
}

int hd_ctl_fail(HdCtl *ctl, const GError *error)
{
    const char *kind = NULL;
    int code = exit_code_for(error, &kind);
    g_autofree char *remote = g_dbus_error_get_remote_error(error);
    g_autoptr(GError) copy = g_error_copy(error);

    g_dbus_error_strip_remote_error(copy);
    if (ctl->json) {
        print_json_error(kind, copy->message, remote, code);
    } else if (code == HD_CTL_DENIED) {
        g_printerr("hocusctl: permission denied: %s\n"
                   "hocusctl: changing workspaces needs root or the \"hocus\" group\n",
                   copy->message);
    } else if (code == HD_CTL_UNREACHABLE && remote != NULL &&
               !g_str_has_prefix(remote, "dev.hocus.")) {
        g_printerr("hocusctl: hocusd is not running or not reachable: %s\n", copy->message);
    } else {
        g_printerr("hocusctl: %s\n", copy->message);
    }
    return code;
}

int hd_ctl_usage_error(HdCtl *ctl, const char *command, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (ctl->json) {
        print_json_error("usage", msg, NULL, HD_CTL_USAGE);
    } else {
        g_printerr("hocusctl%s%s: %s\nTry 'hocusctl --help'.\n", command ? " " : "",
                   command ? command : "", msg);
    }
    return HD_CTL_USAGE;
}

HdDbusManager *hd_ctl_manager(HdCtl *ctl, GError **error)
{
    GDBusConnection *bus = hd_ctl_bus(ctl, error);

    if (bus == NULL)
        return NULL;
    return hd_dbus_manager_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, HD_DBUS_NAME,
                                          HD_DBUS_ROOT_PATH, NULL, error);
}

HdDbusWorkspace *hd_ctl_workspace(HdCtl *ctl, const char *name, GError **error)
{
    g_autoptr(HdDbusManager) manager = hd_ctl_manager(ctl, error);
    g_autofree char *path = NULL;

    if (manager == NULL || !hd_dbus_manager_call_get_workspace_sync(
                               manager, name, G_DBUS_CALL_FLAGS_NONE, -1, &path, NULL, error))
        return NULL;
    return hd_dbus_workspace_proxy_new_sync(hd_ctl_bus(ctl, NULL),
                                            G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, HD_DBUS_NAME,
                                            path, NULL, error);
}

static const struct {
    const char *name;
    HdCtlCommand run;
} commands[] = {
    { "list", hd_ctl_cmd_list },
    { "show", hd_ctl_cmd_show },
    { "create", hd_ctl_cmd_create },
    { "start", hd_ctl_cmd_start },
    { "stop", hd_ctl_cmd_stop },
    { "delete", hd_ctl_cmd_delete },
    { "status", hd_ctl_cmd_status },
    { "top", hd_ctl_cmd_top },
    { "metrics", hd_ctl_cmd_metrics },
    { "policy", hd_ctl_cmd_policy },
    { "set-memory", hd_ctl_cmd_set_memory },
};

int main(int argc, char **argv)
{
    HdCtl ctl = { 0 };
    int i, rc;

    setlocale(LC_ALL, "");
    /* Register the error domain now, so D-Bus error names map back to HdError. */
    (void)hd_error_quark();
    /* Global options come before the command, and --json anywhere. */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            ctl.json = TRUE;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return HD_CTL_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("hocusctl %s\n", HD_VERSION);
            return HD_CTL_OK;
        } else if (strcmp(argv[i], "--bus-address") == 0 && i + 1 < argc) {
            ctl.bus_address = argv[++i];
        } else if (g_str_has_prefix(argv[i], "--bus-address=")) {
            ctl.bus_address = argv[i] + strlen("--bus-address=");
        } else if (argv[i][0] == '-') {
            return hd_ctl_usage_error(&ctl, NULL, "unknown option '%s'", argv[i]);
        } else {
            break;
        }
    }
    if (i >= argc)
        return hd_ctl_usage_error(&ctl, NULL, "no command given");
    for (int j = i + 1; j < argc; j++) {
        if (strcmp(argv[j], "--json") == 0)
            ctl.json = TRUE;
    }
    for (gsize c = 0; c < G_N_ELEMENTS(commands); c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            rc = commands[c].run(&ctl, argc - i, argv + i);
            g_clear_object(&ctl.bus);
            return rc;
        }
    }
    return hd_ctl_usage_error(&ctl, NULL, "unknown command '%s'", argv[i]);
}
