/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib/gstdio.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hd-test-env.h"
#include "hocusd/hd-names.h"

static const char *env_path(const char *var)
{
    const char *v = g_getenv(var);

    if (v == NULL)
        g_error("%s is not set; run the tests through meson", var);
    return v;
}

gboolean hd_test_skips_allowed(void)
{
    const char *allow = g_getenv("HD_ALLOW_SKIPS");

    if (g_strcmp0(allow, "1") == 0)
        return TRUE;
    if (g_strcmp0(allow, "0") == 0)
        return FALSE;
    return g_strcmp0(g_getenv("CI"), "true") != 0;
}

int hd_test_skip(const char *why)
{
    if (hd_test_skips_allowed()) {
        g_printerr("SKIP: %s\n", why);
        return 77;
    }
    g_printerr("FAIL: this test would be skipped: %s (skips fail under CI=true or "
               "HD_ALLOW_SKIPS=0; HD_ALLOW_SKIPS=1 allows them)\n",
               why);
    return 1;
}

const char *hd_test_env_unavailable(gboolean need_libvirtd)
{
    g_autofree char *bus_daemon = g_find_program_in_path("dbus-daemon");

    if (geteuid() != 0)
        return "needs root (clients run under other uids to test the bus policy)";
    if (bus_daemon == NULL)
        return "dbus-daemon is not installed (apt-get install dbus)";
    if (need_libvirtd && !g_file_test("/run/libvirt/libvirt-sock", G_FILE_TEST_EXISTS))
        return "libvirtd is not running (scripts/services.sh start)";
    return NULL;
}

const char *hd_test_env_hocusctl(HdTestEnv *env)
{
    g_autoptr(GFile) from = NULL, to = NULL;
    g_autoptr(GError) error = NULL;
    const char *built = g_getenv("HD_HOCUSCTL");

    if (env->hocusctl != NULL)
        return env->hocusctl;
    if (built == NULL)
        g_error("HD_HOCUSCTL is not set; run the tests through meson");
    env->hocusctl = g_build_filename(env->dir, "hocusctl", NULL);
    from = g_file_new_for_path(built);
    to = g_file_new_for_path(env->hocusctl);
    if (!g_file_copy(from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error))
        g_error("cannot copy %s: %s", built, error->message);
    g_chmod(env->hocusctl, 0755);
    return env->hocusctl;
}

char *hd_test_env_write(HdTestEnv *env, const char *name, const char *content)
{
    char *path = g_build_filename(env->dir, name, NULL);

    if (!g_file_set_contents(path, content, -1, NULL))
        g_error("cannot write %s", path);
    return path;
}

/* Children die with the test, even when an assertion longjmps past cleanup. */
static void die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static char *read_line_from_fd(int fd)
{
    GString *s = g_string_new(NULL);
    char c;

    while (read(fd, &c, 1) == 1 && c != '\n')
        g_string_append_c(s, c);
    return g_string_free(s, FALSE);
}

static void start_bus(HdTestEnv *env)
{
    g_autofree char *tmpl = NULL, *socket = NULL, *conf_text = NULL, *conf_path = NULL;
    g_autofree char *tmpl_path =
        g_build_filename(env_path("HD_TEST_DATA_DIR"), "system-bus.conf.in", NULL);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) conf = NULL;
    g_autofree char *bus_log = g_build_filename(env->dir, "dbus-daemon.log", NULL);
    int pipefd[2];

    if (!g_file_get_contents(tmpl_path, &tmpl, NULL, &error))
        g_error("%s", error->message);
    socket = g_build_filename(env->dir, "bus", NULL);
    conf = g_string_new(tmpl);
    g_string_replace(conf, "@SOCKET@", socket, 0);
    g_string_replace(conf, "@POLICY@", env_path("HD_POLICY"), 0);
    conf_path = hd_test_env_write(env, "bus.conf", conf->str);

    if (pipe(pipefd) < 0)
        g_error("pipe failed");
    g_subprocess_launcher_take_fd(l, pipefd[1], 3);
    g_subprocess_launcher_set_stderr_file_path(l, bus_log);
    g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
    env->bus = g_subprocess_launcher_spawn(l, &error, "dbus-daemon", "--nofork", "--nopidfile",
                                           "--print-address=3", "--config-file", conf_path, NULL);
    if (env->bus == NULL)
        g_error("cannot start dbus-daemon: %s", error->message);
    env->address = read_line_from_fd(pipefd[0]);
    close(pipefd[0]);
    if (*env->address == '\0')
        g_error("dbus-daemon printed no address");
    /* Non-root clients must be able to reach the socket. */
    g_chmod(env->dir, 0755);
    env->conn =
        g_dbus_connection_new_for_address_sync(env->address,
                                               G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                               NULL, NULL, &error);
    if (env->conn == NULL)
        g_error("cannot connect to the test bus: %s", error->message);
}

HdTestEnv *hd_test_env_new(const char *libvirt_uri, const char *extra_config)
{
    HdTestEnv *env = hd_test_env_new_stopped(libvirt_uri, extra_config);
    g_autoptr(GError) error = NULL;

    if (!hd_test_env_start_hocusd(env, &error))
        g_error("%s", error->message);
    return env;
}

HdTestEnv *hd_test_env_new_stopped(const char *libvirt_uri, const char *extra_config)
{
    HdTestEnv *env = g_new0(HdTestEnv, 1);
    g_autoptr(GError) error = NULL;
    g_autofree char *kernel = NULL, *initrd = NULL, *images = NULL, *config = NULL;

    env->dir = g_dir_make_tmp("hocusd-test-XXXXXX", &error);
    if (env->dir == NULL)
        g_error("%s", error->message);
    start_bus(env);
    kernel = hd_test_env_write(env, "vmlinuz", "not a kernel");
    initrd = hd_test_env_write(env, "initrd.img", "not an initramfs");
    images = g_build_filename(env->dir, "images", NULL);
    config = g_strdup_printf("{\n"
                             "  \"libvirt_uri\": \"%s\",\n"
                             "  \"image_dir\": \"%s\",\n"
                             "  \"storage_pool\": \"hocusd-test\",\n"
                             "  \"guest\": { \"kernel\": \"%s\", \"initrd\": \"%s\" },\n"
                             "  \"defaults\": { \"memory_max\": \"1G\", \"vcpus\": 1 }%s%s\n"
                             "}\n",
                             libvirt_uri != NULL ? libvirt_uri : "test:///default", images, kernel,
                             initrd, extra_config != NULL ? ",\n  " : "",
                             extra_config != NULL ? extra_config : "");
    env->config_path = hd_test_env_write(env, "hocusd.json", config);
    env->log_path = g_build_filename(env->dir, "hocusd.log", NULL);
    return env;
}

/* ListWorkspaces answers once hocusd has read the workspaces from libvirt. */
static gboolean hocusd_ready(HdTestEnv *env)
{
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(
        env->conn, HD_DBUS_NAME, HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE, "ListWorkspaces", NULL,
        G_VARIANT_TYPE("(ao)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL);

    return r != NULL;
}

gboolean hd_test_env_name_owned(HdTestEnv *env)
{
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(
        env->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "NameHasOwner", g_variant_new("(s)", HD_DBUS_NAME), G_VARIANT_TYPE("(b)"),
        G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
    gboolean owned = FALSE;

    if (r != NULL)
        g_variant_get(r, "(b)", &owned);
    return owned;
}

gboolean hd_test_env_spawn_hocusd(HdTestEnv *env, GError **error)
{
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autoptr(GPtrArray) argv = NULL;
    const char *wrapper;

    g_subprocess_launcher_set_stderr_file_path(l, env->log_path);
    g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
    for (char **e = env->hocusd_env; e != NULL && *e != NULL; e++) {
        g_auto(GStrv) kv = g_strsplit(*e, "=", 2);
        g_subprocess_launcher_setenv(l, kv[0], kv[1] != NULL ? kv[1] : "", TRUE);
    }
    /* HD_TEST_HOCUSD_WRAPPER (scripts/sanitizers.sh: valgrind) runs hocusd under a tool. */
    wrapper = g_getenv("HD_TEST_HOCUSD_WRAPPER");
    argv = g_ptr_array_new_with_free_func(g_free);
    if (wrapper != NULL && *wrapper != '\0') {
        g_auto(GStrv) words = NULL;

        if (!g_shell_parse_argv(wrapper, NULL, &words, error))
            return FALSE;
        for (char **w = words; *w != NULL; w++)
            g_ptr_array_add(argv, g_strdup(*w));
    }
    g_ptr_array_add(argv, g_strdup(env_path("HD_HOCUSD")));
    g_ptr_array_add(argv, g_strdup("--config"));
    g_ptr_array_add(argv, g_strdup(env->config_path));
    g_ptr_array_add(argv, g_strdup("--bus-address"));
    g_ptr_array_add(argv, g_strdup(env->address));
    g_ptr_array_add(argv, g_strdup("--verbose"));
    g_ptr_array_add(argv, NULL);
    env->hocusd = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, error);
    return env->hocusd != NULL;
}

gboolean hd_test_env_start_hocusd(HdTestEnv *env, GError **error)
{
    /* valgrind (HD_TEST_HOCUSD_WRAPPER) starts hocusd some 30 times slower. */
    gint64 wait_s = g_getenv("HD_TEST_HOCUSD_WRAPPER") != NULL ? 120 : 20;
    gint64 deadline;

    if (!hd_test_env_spawn_hocusd(env, error))
        return FALSE;
    deadline = g_get_monotonic_time() + wait_s * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        if (hd_test_env_name_owned(env) && hocusd_ready(env))
            return TRUE;
        if (g_subprocess_get_identifier(env->hocusd) == NULL)
            break; /* it exited */
        g_usleep(20 * 1000);
    }
    {
        g_autofree char *log = NULL;
        g_file_get_contents(env->log_path, &log, NULL, NULL);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "hocusd did not take %s and answer within %" G_GINT64_FORMAT " s; its log:\n%s",
                    HD_DBUS_NAME, wait_s, log != NULL ? log : "(none)");
    }
    return FALSE;
}

int hd_test_env_stop_hocusd(HdTestEnv *env, int signum)
{
    int status;

    if (env->hocusd == NULL)
        return -1;
    if (signum != 0)
        g_subprocess_send_signal(env->hocusd, signum);
    g_subprocess_wait(env->hocusd, NULL, NULL);
    status = g_subprocess_get_status(env->hocusd);
    g_clear_object(&env->hocusd);
    /* A checking tool's verdict: valgrind (HD_TEST_HOCUSD_WRAPPER, with
     * --error-exitcode=99) or ASan/LSan (exitcode=99) found memory errors
     * or leaks in hocusd. hocusd itself never exits with 99. */
    if (WIFEXITED(status) && WEXITSTATUS(status) == HD_TEST_TOOL_FOUND_ERRORS) {
        g_autofree char *log = NULL;

        g_file_get_contents(env->log_path, &log, NULL, NULL);
        g_error("a checking tool found errors in hocusd (exit status %d); its log:\n%s",
                HD_TEST_TOOL_FOUND_ERRORS, log != NULL ? log : "(none)");
    }
    return status;
}

void hd_test_env_free(HdTestEnv *env)
{
    if (env == NULL)
        return;
    if (env->hocusd != NULL)
        hd_test_env_stop_hocusd(env, SIGTERM);
    g_clear_object(&env->conn);
    if (env->bus != NULL) {
        g_subprocess_send_signal(env->bus, SIGTERM);
        g_subprocess_wait(env->bus, NULL, NULL);
        g_clear_object(&env->bus);
    }
    if (g_getenv("HD_TEST_KEEP") == NULL) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", env->dir);
        if (system(cmd) != 0)
            g_warning("cannot remove %s", env->dir);
    }
    g_free(env->dir);
    g_free(env->address);
    g_free(env->config_path);
    g_free(env->log_path);
    g_free(env->hocusctl);
    g_strfreev(env->hocusd_env);
    g_free(env);
}

GVariant *hd_test_call(HdTestEnv *env, const char *path, const char *iface, const char *method,
                       GVariant *params, GError **error)
{
    return g_dbus_connection_call_sync(env->conn, HD_DBUS_NAME, path, iface, method, params, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}

GVariant *hd_test_get_property(HdTestEnv *env, const char *path, const char *iface,
                               const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = hd_test_call(env, path, "org.freedesktop.DBus.Properties", "Get",
                                         g_variant_new("(ss)", iface, name), &error);
    GVariant *v = NULL;

    if (r == NULL)
        return NULL;
    g_variant_get(r, "(v)", &v);
    return v;
}

gboolean hd_test_wait_state(HdTestEnv *env, const char *path, const char *want, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    do {
        g_autoptr(GVariant) v = hd_test_get_property(env, path, HD_DBUS_WORKSPACE_IFACE, "State");
        if (v != NULL && strcmp(g_variant_get_string(v, NULL), want) == 0)
            return TRUE;
        g_usleep(50 * 1000);
    } while (g_get_monotonic_time() < deadline);
    return FALSE;
}

typedef struct {
    uid_t uid;
    gid_t gid;
    gid_t extra_gid;
} Creds;

static void drop_privileges(gpointer data)
{
    /* Runs between fork and exec: plain system calls only. */
    Creds *c = data;
    gid_t groups[1] = { c->extra_gid };

    if (setgroups(c->extra_gid != (gid_t)-1 ? 1 : 0, groups) < 0 || setgid(c->gid) < 0 ||
        setuid(c->uid) < 0)
        _exit(127);
}

int hd_test_run_as(HdTestEnv *env, uid_t uid, gid_t gid, gid_t extra_gid, const char *const *argv,
                   char **out, char **err)
{
    g_autoptr(GSubprocessLauncher) l =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) p = NULL;
    g_autoptr(GError) error = NULL;
    Creds creds = { uid, gid, extra_gid };
    g_autofree char *o = NULL, *e = NULL;

    g_subprocess_launcher_setenv(l, "DBUS_SYSTEM_BUS_ADDRESS", env->address, TRUE);
    g_subprocess_launcher_set_cwd(l, "/");
    if (uid != 0)
        g_subprocess_launcher_set_child_setup(l, drop_privileges, &creds, NULL);
    p = g_subprocess_launcher_spawnv(l, argv, &error);
    if (p == NULL)
        g_error("cannot run %s: %s", argv[0], error->message);
    if (!g_subprocess_communicate_utf8(p, NULL, NULL, &o, &e, &error))
        g_error("%s", error->message);
    if (out != NULL)
        *out = g_steal_pointer(&o);
    if (err != NULL)
        *err = g_steal_pointer(&e);
    return g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p) : 128;
}
