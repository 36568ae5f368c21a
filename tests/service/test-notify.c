/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hocusd speaks systemd's notify protocol: STATUS= while it starts, READY=1
 * only once it owns its bus name and knows the workspaces, WATCHDOG=1 from its
 * main loop at half the watchdog interval, STOPPING=1 on SIGTERM. The test
 * plays systemd: it binds NOTIFY_SOCKET and reads what hocusd sends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "hd-test-env.h"
#include "hocusd/hd-names.h"

static GSocket *bind_notify_socket(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    GSocket *s = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                              G_SOCKET_PROTOCOL_DEFAULT, &error);

    assert_non_null(s);
    assert_true(g_socket_bind(s, addr, TRUE, &error));
    return s;
}

/* Next datagram within timeout_ms, or NULL. */
static char *receive(GSocket *s, guint timeout_ms)
{
    char buf[4096];
    gssize n;

    g_socket_set_timeout(s, 0);
    if (!g_socket_condition_timed_wait(s, G_IO_IN, (gint64)timeout_ms * 1000, NULL, NULL))
        return NULL;
    n = g_socket_receive(s, buf, sizeof(buf) - 1, NULL, NULL);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return g_strdup(buf);
}

static void test_notify_protocol(void **state)
{
    HdTestEnv *env = hd_test_env_new_stopped(NULL, NULL);
    g_autofree char *sock_path = g_build_filename(env->dir, "notify", NULL);
    g_autoptr(GSocket) sock = bind_notify_socket(sock_path);
    g_autoptr(GError) error = NULL;
    gboolean ready = FALSE, status_before_ready = FALSE, stopping = FALSE;
    guint watchdogs = 0;
    gint64 deadline;
    int status;

    env->hocusd_env = g_new0(char *, 3);
    env->hocusd_env[0] = g_strconcat("NOTIFY_SOCKET=", sock_path, NULL);
    env->hocusd_env[1] = g_strdup("WATCHDOG_USEC=400000"); /* pings every 200 ms */
    /* Not waiting for the bus name: READY=1 is read as it comes. */
    assert_true(hd_test_env_spawn_hocusd(env, &error));

    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!ready && g_get_monotonic_time() < deadline) {
        g_autofree char *msg = receive(sock, 1000);
        if (msg == NULL)
            continue;
        if (strstr(msg, "READY=1") != NULL) {
            g_autoptr(GVariant) list = NULL;

            ready = TRUE;
            /* READY=1 promises that the API is on the bus: hocusd got its
             * name from the bus before it sent READY, so the bus answers for
             * it now, and the objects answer. */
            if (!hd_test_env_name_owned(env))
                fail_msg("READY=1 came before hocusd owned %s", HD_DBUS_NAME);
            list = hd_test_call(env, HD_DBUS_ROOT_PATH, HD_DBUS_MANAGER_IFACE, "ListWorkspaces",
                                NULL, &error);
            if (list == NULL)
                fail_msg("READY=1 came before the API answered: %s", error->message);
        } else if (g_str_has_prefix(msg, "STATUS=")) {
            status_before_ready = TRUE;
        }
    }
    assert_true(status_before_ready);
    assert_true(ready);

    deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        g_autofree char *msg = receive(sock, 500);
        if (msg != NULL && strstr(msg, "WATCHDOG=1") != NULL)
            watchdogs++;
    }
    /* 2 s at one ping per 200 ms: about 10; allow a slow machine. */
    if (watchdogs < 4)
        fail_msg("only %u watchdog pings in 2 s", watchdogs);

    g_subprocess_send_signal(env->hocusd, SIGTERM);
    deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!stopping && g_get_monotonic_time() < deadline) {
        g_autofree char *msg = receive(sock, 500);
        if (msg != NULL && strstr(msg, "STOPPING=1") != NULL)
            stopping = TRUE;
    }
    assert_true(stopping);
    status = hd_test_env_stop_hocusd(env, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hd_test_env_free(env);
}

int main(void)
{
    const char *why = hd_test_env_unavailable(FALSE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_protocol),
    };

    if (why != NULL)
        return hd_test_skip(why);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
