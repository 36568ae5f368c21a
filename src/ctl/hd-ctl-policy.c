/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "hd-ctl.h"
#include "hocusd/hd-size.h"

/*
 * policy: the memory policy's mode, the host's level, each running
 * workspace's target and state, and the last decisions (GetPolicyLog).
 * set-memory: SetMemoryRange.
 */

static json_object *workspace_policy_json(GVariant *ws)
{
    json_object *o = json_object_new_object();
    static const char *const keys[] = { "State",        "ConfiguredBytes", "MemoryMinBytes",
                                        "BalloonBytes", "RssBytes",        "PolicyTargetBytes",
                                        "PolicyState",  "PolicyReason",    NULL };

    for (guint i = 0; keys[i] != NULL; i++) {
        g_autoptr(GVariant) v = g_variant_lookup_value(ws, keys[i], NULL);

        if (v != NULL)
            json_object_object_add(o, keys[i], hd_ctl_variant_to_json(v));
    }
    return o;
}

static char *mib(guint64 bytes)
{
    return hd_size_format(bytes);
}

static void print_decision(GVariant *d)
{
    guint64 t = 0, target = 0, previous = 0, reclaim = 0;
    const char *ws = "?", *state = "?", *reason = "";
    gboolean applied = FALSE;
    g_autoptr(GDateTime) when = NULL;
    g_autofree char *stamp = NULL, *from = NULL, *to = NULL, *what = NULL;

    g_variant_lookup(d, "time_usec", "t", &t);
    g_variant_lookup(d, "workspace", "&s", &ws);
    g_variant_lookup(d, "state", "&s", &state);
    g_variant_lookup(d, "target_bytes", "t", &target);
    g_variant_lookup(d, "previous_bytes", "t", &previous);
    g_variant_lookup(d, "reclaim_bytes", "t", &reclaim);
    g_variant_lookup(d, "applied", "b", &applied);
    g_variant_lookup(d, "reason", "&s", &reason);
    when = g_date_time_new_from_unix_local((gint64)(t / G_USEC_PER_SEC));
    stamp = when != NULL ? g_date_time_format(when, "%H:%M:%S") : g_strdup("?");
    from = mib(previous);
    to = mib(target);
    if (reclaim > 0) {
        g_autofree char *r = mib(reclaim);
        what = g_strdup_printf("reclaim %s", r);
    } else {
        what = g_strdup_printf("%s -> %s", from, to);
    }
    printf("%s  %-20s %-10s %-24s %-7s %s\n", stamp, ws, state, what, applied ? "yes" : "no",
           reason);
}

int hd_ctl_cmd_policy(HdCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDbusManager) manager = NULL;
    g_autoptr(GVariant) metrics = NULL, log = NULL, host = NULL, wss = NULL;
    int limit = 20, rc;
    GOptionEntry entries[] = { { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, NULL, NULL },
                               { NULL } };
    const char *mode = "-", *level = "-", *reason = "";
    gsize n, first;
    GVariantIter it;
    const char *name;
    GVariant *ws;

    if (!hd_ctl_parse_options(ctl, "policy", entries, &argc, &argv, 0, 0, &rc))
        return rc;
    if (limit < 0)
        return hd_ctl_usage_error(ctl, "policy", "--limit must be 0 or more");
    manager = hd_ctl_manager(ctl, &error);
    if (manager == NULL ||
        !hd_dbus_manager_call_get_metrics_sync(manager, G_DBUS_CALL_FLAGS_NONE, 5000, &metrics,
                                               NULL, &error) ||
        !hd_dbus_manager_call_get_policy_log_sync(manager, G_DBUS_CALL_FLAGS_NONE, 5000, &log, NULL,
                                                  &error))
        return hd_ctl_fail(ctl, error);
    host = g_variant_lookup_value(metrics, "host", G_VARIANT_TYPE_VARDICT);
    wss = g_variant_lookup_value(metrics, "workspaces", NULL);
    if (host == NULL || wss == NULL) {
        g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "hocusd returned no metrics");
        return hd_ctl_fail(ctl, error);
    }
    n = g_variant_n_children(log);
    first = n > (gsize)limit ? n - (gsize)limit : 0;
    g_variant_lookup(host, "PolicyMode", "&s", &mode);
    g_variant_lookup(host, "PolicyHostLevel", "&s", &level);
    g_variant_lookup(host, "PolicyHostReason", "&s", &reason);

    if (ctl->json) {
        json_object *root = json_object_new_object();
        json_object *h = json_object_new_object();
        json_object *w = json_object_new_object();
        json_object *decisions = json_object_new_array();
        static const char *const host_keys[] = { "PolicyMode",
                                                 "PolicyHostLevel",
                                                 "PolicyHostReason",
                                                 "PolicyBudgetBytes",
                                                 "PolicyAvailableBytes",
                                                 "PolicyHostTargetBytes",
                                                 NULL };

        for (guint i = 0; host_keys[i] != NULL; i++) {
            g_autoptr(GVariant) v = g_variant_lookup_value(host, host_keys[i], NULL);

            if (v != NULL)
                json_object_object_add(h, host_keys[i], hd_ctl_variant_to_json(v));
        }
        g_variant_iter_init(&it, wss);
        while (g_variant_iter_next(&it, "{&s@a{sv}}", &name, &ws)) {
            json_object_object_add(w, name, workspace_policy_json(ws));
            g_variant_unref(ws);
        }
        for (gsize i = first; i < n; i++) {
            g_autoptr(GVariant) d = g_variant_get_child_value(log, i);
            json_object_array_add(decisions, hd_ctl_variant_to_json(d));
        }
        json_object_object_add(root, "host", h);
        json_object_object_add(root, "workspaces", w);
        json_object_object_add(root, "decisions", decisions);
        hd_ctl_print_json(root);
        json_object_put(root);
        return HD_CTL_OK;
    }

    {
        g_autofree char *budget = NULL, *avail = NULL, *target = NULL;
        guint64 b = 0, a = 0, t = 0;

        g_variant_lookup(host, "PolicyBudgetBytes", "t", &b);
        g_variant_lookup(host, "PolicyAvailableBytes", "t", &a);
        g_variant_lookup(host, "PolicyHostTargetBytes", "t", &t);
        budget = mib(b);
        avail = mib(a);
        target = mib(t);
        printf("Mode:    %s%s\n", mode,
               strcmp(mode, "observe") == 0 ? " (decisions are shown, nothing is changed)" : "");
        printf("Host:    %s (%s)\n", level, reason);
        printf("Budget:  %s available of %s; under pressure the policy works back to %s\n", avail,
               budget, target);
    }
    printf("\n%-24s %9s %9s %9s %9s %-10s %s\n", "NAME", "MIN", "MAX", "BALLOON", "TARGET", "STATE",
           "REASON");
    g_variant_iter_init(&it, wss);
    while (g_variant_iter_next(&it, "{&s@a{sv}}", &name, &ws)) {
        const char *state = "?", *pstate = "-", *preason = "";
        guint64 min = 0, max = 0, target = 0, balloon = 0;
        g_autofree char *smin = NULL, *smax = NULL, *starget = NULL, *sballoon = NULL;
        g_autofree const char **absent = NULL;

        g_variant_lookup(ws, "State", "&s", &state);
        if (strcmp(state, "running") != 0) {
            g_variant_unref(ws);
            continue;
        }
        g_variant_lookup(ws, "MemoryMinBytes", "t", &min);
        g_variant_lookup(ws, "ConfiguredBytes", "t", &max);
        g_variant_lookup(ws, "PolicyTargetBytes", "t", &target);
        g_variant_lookup(ws, "PolicyState", "&s", &pstate);
        g_variant_lookup(ws, "PolicyReason", "&s", &preason);
        g_variant_lookup(ws, "Absent", "^a&s", &absent);
        if (!(absent != NULL && g_strv_contains(absent, "BalloonBytes")))
            g_variant_lookup(ws, "BalloonBytes", "t", &balloon);
        smin = mib(min);
        smax = mib(max);
        starget = mib(target);
        sballoon = balloon > 0 ? mib(balloon) : g_strdup("-");
        printf("%-24s %9s %9s %9s %9s %-10s %s\n", name, smin, smax, sballoon, starget, pstate,
               preason);
        g_variant_unref(ws);
    }
    printf("\nLast decisions (%zu of %zu kept):\n", n - first, n);
    if (n == first)
        printf("  none yet\n");
    else
        printf("%-8s  %-20s %-10s %-24s %-7s %s\n", "TIME", "WORKSPACE", "STATE", "ACTION",
               "APPLIED", "REASON");
    for (gsize i = first; i < n; i++) {
        g_autoptr(GVariant) d = g_variant_get_child_value(log, i);
        print_decision(d);
    }
    return HD_CTL_OK;
}

int hd_ctl_cmd_set_memory(HdCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdDbusWorkspace) ws = NULL;
    g_autofree char *min_text = NULL, *max_text = NULL;
    guint64 min = 0, max = 0;
    int rc;
    GOptionEntry entries[] = { { "min", 0, 0, G_OPTION_ARG_STRING, &min_text, NULL, NULL },
                               { "max", 0, 0, G_OPTION_ARG_STRING, &max_text, NULL, NULL },
                               { NULL } };

    if (!hd_ctl_parse_options(ctl, "set-memory", entries, &argc, &argv, 1, 1, &rc))
        return rc;
    if (min_text == NULL && max_text == NULL)
        return hd_ctl_usage_error(ctl, "set-memory", "give --min SIZE, --max SIZE or both");
    if (min_text != NULL && !hd_size_parse(min_text, &min, &error))
        return hd_ctl_usage_error(ctl, "set-memory", "--min: %s", error->message);
    if (max_text != NULL && !hd_size_parse(max_text, &max, &error))
        return hd_ctl_usage_error(ctl, "set-memory", "--max: %s", error->message);
    ws = hd_ctl_workspace(ctl, argv[1], &error);
    if (ws == NULL)
        return hd_ctl_fail(ctl, error);
    /* The one not given stays as it is. */
    if (min_text == NULL)
        min = hd_dbus_workspace_get_memory_min_bytes(ws);
    if (max_text == NULL)
        max = hd_dbus_workspace_get_configured_bytes(ws);
    if (!hd_dbus_workspace_call_set_memory_range_sync(ws, min, max, G_DBUS_CALL_FLAGS_NONE, 30000,
                                                      NULL, &error))
        return hd_ctl_fail(ctl, error);
    if (ctl->json) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(argv[1]));
        json_object_object_add(o, "memory_min", json_object_new_uint64(min));
        json_object_object_add(o, "memory_max", json_object_new_uint64(max));
        hd_ctl_print_json(o);
        json_object_put(o);
    } else {
        g_autofree char *smin = hd_size_format(min);
        g_autofree char *smax = hd_size_format(max);
        printf("Workspace %s: memory range %s to %s\n", argv[1], smin, smax);
    }
    return HD_CTL_OK;
}
