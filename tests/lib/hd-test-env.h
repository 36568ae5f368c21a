/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

/*
 * A private system-like D-Bus daemon that loads hocusd's real bus policy, and
 * the hocusd binary from the build tree serving on it. Paths come from the
 * environment meson sets: HD_HOCUSD, HD_HOCUSCTL, HD_POLICY, HD_TEST_DATA_DIR.
 */
typedef struct {
    char *dir;         /* scratch directory, removed at the end */
    char *address;     /* bus address */
    char *config_path; /* hocusd's JSON config */
    char *log_path;    /* hocusd's stderr */
    GSubprocess *bus;
    GSubprocess *hocusd;
    GDBusConnection *conn; /* a root client */
    char **hocusd_env;     /* extra NAME=VALUE for hocusd, or NULL */
    char *hocusctl;        /* see hd_test_env_hocusctl() */
} HdTestEnv;

/* NULL (with reason) when the test cannot run here: return hd_test_skip(reason). */
const char *hd_test_env_unavailable(gboolean need_libvirtd);

/*
 * The exit status of a test that cannot run here: 77 (meson: skipped) after
 * "SKIP: why", or 1 after "FAIL: ..." when skipping is not allowed: under
 * CI=true or HD_ALLOW_SKIPS=0 (scripts/test.sh's default); HD_ALLOW_SKIPS=1
 * allows it even under CI. tests/lib/skip.sh is the shell tests' twin.
 */
int hd_test_skip(const char *why);
/* Whether a test may skip (same rule); a cmocka case skips or fails with it. */
gboolean hd_test_skips_allowed(void);

/*
 * Start the bus and hocusd. config_json is merged over a base config that
 * points image and guest paths into the scratch directory; libvirt_uri
 * defaults to test:///default.
 */
HdTestEnv *hd_test_env_new(const char *libvirt_uri, const char *extra_config);
/* The same without starting hocusd (set hocusd_env, then start it). */
HdTestEnv *hd_test_env_new_stopped(const char *libvirt_uri, const char *extra_config);
void hd_test_env_free(HdTestEnv *env);

/* (Re)start hocusd and wait until it owns its name. FALSE if it did not. */
gboolean hd_test_env_start_hocusd(HdTestEnv *env, GError **error);
/* Start hocusd and return at once. */
gboolean hd_test_env_spawn_hocusd(HdTestEnv *env, GError **error);
/* The exit status checking tools (valgrind, ASan) are told to give when they
 * find errors in hocusd; stopping such a hocusd fails the test. */
#define HD_TEST_TOOL_FOUND_ERRORS 99
/* Stop hocusd with a signal (0: none, it is exiting already) and wait for it;
 * returns its wait status. */
int hd_test_env_stop_hocusd(HdTestEnv *env, int signum);

/* Whether dev.hocus.Hocusd1 has an owner on the test bus. */
gboolean hd_test_env_name_owned(HdTestEnv *env);

/* A method call as root; NULL with the D-Bus error on failure. */
GVariant *hd_test_call(HdTestEnv *env, const char *path, const char *iface, const char *method,
                       GVariant *params, GError **error);
/* Properties.Get as root. */
GVariant *hd_test_get_property(HdTestEnv *env, const char *path, const char *iface,
                               const char *name);
/* Wait (up to timeout_ms) until a workspace's State equals want. */
gboolean hd_test_wait_state(HdTestEnv *env, const char *path, const char *want, guint timeout_ms);

/*
 * Run argv as uid/gid (and supplementary group extra_gid, or -1), with
 * DBUS_SYSTEM_BUS_ADDRESS pointing at the test bus. Returns the exit status;
 * stdout/stderr are returned when the pointers are not NULL.
 */
int hd_test_run_as(HdTestEnv *env, uid_t uid, gid_t gid, gid_t extra_gid, const char *const *argv,
                   char **out, char **err);

/*
 * hocusctl as every test user can run it: a copy in the scratch directory,
 * because the build tree may sit where other users cannot go (a clone under
 * /root, a mktemp -d directory).
 */
const char *hd_test_env_hocusctl(HdTestEnv *env);

/* Write a file in the scratch directory; returns its path. */
char *hd_test_env_write(HdTestEnv *env, const char *name, const char *content);
