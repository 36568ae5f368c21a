/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hocusd"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <sys/resource.h>

#include <gio/gio.h>

#include "hd-build-config.h"
#include "hocusd/hd-accel.h"
#include "hocusd/hd-config.h"
#include "hocusd/hd-daemon.h"
#include "hocusd/hd-error.h"

static const char description[] =
    "hocusd supervises developer workspaces: QEMU virtual machines, defined through\n"
    "libvirt, that give memory back to the host the way containers do. It publishes\n"
    "them on D-Bus as dev.hocus.Hocusd1 (see hocusctl(1)).\n"
    "\n"
    "Configuration: a JSON file, " HD_CONFIG_DEFAULT_PATH " by default. Every key is\n"
    "optional; --dump-config prints the defaults. A bad value stops hocusd before\n"
    "it starts anything, with the file, the key and the reason.\n"
    "\n"
    "Signals: SIGTERM and SIGINT stop hocusd and leave every workspace running.\n"
    "\n"
    "Exit status: 0 on a clean stop, 1 on a runtime failure, 2 on a usage or\n"
    "configuration error.";

static HdConfig *load_config(const char *path, gboolean explicit_path, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) read_error = NULL;

    if (!g_file_get_contents(path, &text, &len, &read_error)) {
        if (!explicit_path && g_error_matches(read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return hd_config_new_default(); /* no file: all defaults */
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_CONFIG, "%s", read_error->message);
        return NULL;
    }
    return hd_config_parse(text, len, path, error);
}

/* Every log domain of the daemon's own code (tests/lint checks the list). */
#define HD_LOG_DOMAINS                                                                             \
    "hocusd hd-accel hd-agent hd-config hd-domain-xml hd-fields hd-hypervisor hd-libvirt "         \
    "hd-metadata hd-spec"

static int probe_accelerator(const HdConfig *config)
{
    g_autoptr(GError) error = NULL;
    HdAccelVerdict verdict = { 0 };
    gboolean from_cache = FALSE;

    if (!hd_accelerator_choose_now(config, FALSE, &verdict, &from_cache, &error)) {
        g_printerr("hocusd: %s\n", error->message);
        return 1;
    }
    g_print("accelerator: %s\n", verdict.kvm ? "kvm" : "tcg");
    if (verdict.kvm)
        g_print("cpu: %s\n", hd_cpu_choice_to_string(verdict.cpu));
    g_print("reason: %s\n", verdict.reason);
    hd_accel_verdict_clear(&verdict);
    return 0;
}

/* Each running workspace keeps a few kernel files open (hd-vmfiles.c); a
 * service starts with a soft limit of 1024 and a far higher hard one, so
 * take the hard one (everything here uses poll, none of select's limits). */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            g_debug("Cannot raise the descriptor limit: %s", g_strerror(errno));
    }
}

int main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *bus_address = NULL;
    gboolean check = FALSE, dump = FALSE, verbose = FALSE, version = FALSE, probe = FALSE;
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
          "Configuration file (default " HD_CONFIG_DEFAULT_PATH ")", "PATH" },
        { "bus-address", 0, 0, G_OPTION_ARG_STRING, &bus_address,
          "Serve on this D-Bus address instead of the configured bus (tests)", "ADDRESS" },
        { "check-config", 0, 0, G_OPTION_ARG_NONE, &check, "Check the configuration file and exit",
          NULL },
        { "dump-config", 0, 0, G_OPTION_ARG_NONE, &dump,
          "Print the effective configuration as JSON and exit", NULL },
        { "probe-accelerator", 0, 0, G_OPTION_ARG_NONE, &probe,
          "Choose the accelerator anew as the daemon would (probing KVM by booting a guest), "
          "store the verdict for the daemon, print it and exit",
          NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- developer workspace supervisor");
    g_autoptr(GError) error = NULL;
    g_autoptr(HdConfig) config = NULL;
    HdDaemon *daemon;
    int rc;

    setlocale(LC_ALL, "");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx, description);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("hocusd: %s\nTry 'hocusd --help'.\n", error->message);
        return 2;
    }
    if (argc > 1) {
        g_printerr("hocusd: unexpected argument '%s'\nTry 'hocusd --help'.\n", argv[1]);
        return 2;
    }
    if (version) {
        g_print("hocusd %s\n", HD_VERSION);
        return 0;
    }
    /* Our log domains only: libvirt-glib's event-loop tracing would drown them. */
    if (verbose)
        g_setenv("G_MESSAGES_DEBUG", HD_LOG_DOMAINS, TRUE);
    if (bus_address != NULL && !g_dbus_is_supported_address(bus_address, &error)) {
        g_printerr("hocusd: --bus-address: %s\n", error->message);
        return 2;
    }

    config = load_config(config_path != NULL ? config_path : HD_CONFIG_DEFAULT_PATH,
                         config_path != NULL, &error);
    if (config == NULL) {
        g_printerr("hocusd: %s\n", error->message);
        return 2;
    }
    if (dump) {
        g_autofree char *json = hd_config_to_json(config);
        g_print("%s\n", json);
        return 0;
    }
    if (check) {
        g_print("%s: OK\n", config_path != NULL ? config_path : HD_CONFIG_DEFAULT_PATH);
        return 0;
    }
    if (probe)
        return probe_accelerator(config);

    raise_fd_limit();
    daemon = hd_daemon_new(g_steal_pointer(&config), bus_address);
    rc = hd_daemon_run(daemon);
    hd_daemon_free(daemon);
    return rc;
}
