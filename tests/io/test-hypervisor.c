/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt connection against the host's libvirtd (qemu:///system), whose
 * remote driver reports closes. libvirtd drops our client on request
 * (virt-admin client-disconnect), at the moment a test chooses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hd-test-env.h"
#include "hocusd/hd-hypervisor.h"

#define URI "qemu:///system"

typedef struct {
    guint connected, disconnected;
} Counts;

static void on_connected(HdHypervisor *hv, gpointer user_data)
{
    ((Counts *)user_data)->connected++;
}

static void on_disconnected(HdHypervisor *hv, const char *reason, gpointer user_data)
{
    ((Counts *)user_data)->disconnected++;
}

static const HdHypervisorCallbacks callbacks = {
    .connected = on_connected,
    .disconnected = on_disconnected,
};

/* libvirtd's clients, by id (virt-admin srv-clients-list). */
static GHashTable *client_ids(void)
{
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;
    int status = 0;
    GHashTable *ids = g_hash_table_new(g_direct_hash, g_direct_equal);

    assert_true(g_spawn_command_line_sync("virt-admin srv-clients-list libvirtd", &out, NULL,
                                          &status, NULL));
    assert_int_equal(status, 0);
    lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        char *end;
        guint64 id = g_ascii_strtoull(g_strchug(*l), &end, 10);

        if (end != *l && id > 0)
            g_hash_table_add(ids, GUINT_TO_POINTER((guint)id));
    }
    return ids;
}

/* The one client in now that was not in before. */
static guint new_client(GHashTable *before)
{
    for (int i = 0; i < 500; i++) {
        g_autoptr(GHashTable) now = client_ids();
        GHashTableIter it;
        gpointer id;

        g_hash_table_iter_init(&it, now);
        while (g_hash_table_iter_next(&it, &id, NULL)) {
            if (!g_hash_table_contains(before, id))
                return GPOINTER_TO_UINT(id);
        }
        g_usleep(10000);
    }
    fail_msg("no new libvirtd client appeared");
    return 0;
}

static gboolean wake(gpointer data)
{
    return G_SOURCE_CONTINUE;
}

static gboolean reconnected(Counts *c, HdHypervisor *hv)
{
    gint64 end = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    guint waker = g_timeout_add(20, wake, NULL);

    while (!(c->disconnected >= 1 && c->connected >= 1 && hd_hypervisor_is_connected(hv)) &&
           g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(waker);
    return c->disconnected >= 1 && c->connected >= 1 && hd_hypervisor_is_connected(hv);
}

/*
 * libvirtd drops the connection after the worker opened it and registered
 * its close callback, but before the main loop took it over. The close must
 * not be lost: the hypervisor reports it and connects again, and what it
 * holds in the end is alive.
 */
static void test_close_before_handover(void **state)
{
    g_autoptr(GHashTable) before = client_ids();
    Counts c = { 0 };
    HdHypervisor *hv = hd_hypervisor_new(URI, 0, 0, &callbacks, &c);
    g_autofree char *cmd = NULL;
    virConnectPtr conn;
    int status = 0;

    hd_hypervisor_start(hv);
    /* The connect attempt is a main-loop source: run it, and only it. */
    while (!g_main_context_iteration(NULL, FALSE))
        ;
    /* Without the main loop running, wait until the worker has finished (its
     * result is then queued on the main context) ... */
    {
        guint id = new_client(before);

        for (int i = 0; i < 500 && !g_main_context_pending(NULL); i++)
            g_usleep(10000);
        assert_true(g_main_context_pending(NULL));
        assert_int_equal(c.connected, 0);
        /* ... and have libvirtd drop it. */
        cmd = g_strdup_printf("virt-admin client-disconnect libvirtd %u", id);
        assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL));
        assert_int_equal(status, 0);
    }
    g_usleep(200000); /* the EOF is on the socket before the main loop runs again */

    assert_true(reconnected(&c, hv));
    conn = hd_hypervisor_ref_conn(hv, NULL);
    assert_non_null(conn);
    assert_int_equal(virConnectIsAlive(conn), 1);
    {
        unsigned long version = 0;

        assert_int_equal(virConnectGetLibVersion(conn, &version), 0); /* a round trip */
        assert_true(version > 0);
    }
    virConnectClose(conn);

    hd_hypervisor_stop(hv);
    hd_hypervisor_unref(hv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_before_handover),
    };
    g_autofree char *virt_admin = g_find_program_in_path("virt-admin");

    if (geteuid() != 0)
        return hd_test_skip("needs root (libvirtd's admin socket)");

    if (!g_file_test("/run/libvirt/libvirt-sock", G_FILE_TEST_EXISTS))
        return hd_test_skip("libvirtd is not running (scripts/services.sh start)");

    if (virt_admin == NULL)
        return hd_test_skip("virt-admin is not installed (apt-get install libvirt-clients)");

    hd_hypervisor_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
