/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hd-ctl.h"
#include "hocusd/hd-size.h"

/*
 * status, top and metrics: views of one GetMetrics() snapshot. Figures named
 * in a dictionary's "Absent" list have no value and print as "-" (or are
 * left out of the OpenMetrics output).
 */

static GVariant *get_metrics(HdCtl *ctl, GError **error)
{
    g_autoptr(HdDbusManager) manager = hd_ctl_manager(ctl, error);
    GVariant *metrics = NULL;

    if (manager == NULL || !hd_dbus_manager_call_get_metrics_sync(manager, G_DBUS_CALL_FLAGS_NONE,
                                                                  5000, &metrics, NULL, error))
        return NULL;
    return metrics;
}

static gboolean is_absent(GVariant *dict, const char *key)
{
    g_autofree const char **absent = NULL;

    if (!g_variant_lookup(dict, "Absent", "^a&s", &absent))
        return FALSE;
    return g_strv_contains(absent, key);
}

/* A figure as text: "-" when absent or missing. */
static char *fmt_bytes(GVariant *dict, const char *key)
{
    guint64 v;

    if (is_absent(dict, key) || !g_variant_lookup(dict, key, "t", &v))
        return g_strdup("-");
    return hd_size_format(v);
}

/* Two decimals and a unit suffix ("x", "s" or ""). */
static char *fmt_double(GVariant *dict, const char *key, const char *suffix)
{
    double v;

    if (is_absent(dict, key) || !g_variant_lookup(dict, key, "d", &v))
        return g_strdup("-");
    return g_strdup_printf("%.2f%s", v, suffix);
}

static const char *level_name(guchar level)
{
    return level == 0 ? "normal" : level < 255 ? "warning" : "critical";
}

static void print_status(GVariant *metrics)
{
    g_autoptr(GVariant) host = g_variant_lookup_value(metrics, "host", G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) wss = g_variant_lookup_value(metrics, "workspaces", NULL);
    g_autofree char *total = NULL, *avail = NULL, *committed = NULL, *resident = NULL;
    g_autofree char *ksm = NULL, *over = NULL, *eff = NULL, *median = NULL;
    g_autofree char *psi10 = NULL, *psi60 = NULL, *full10 = NULL;
    guint32 running = 0, headroom = 0;
    guchar level = 0;
    gboolean ksm_on = FALSE;
    const char *virt = NULL, *virt_reason = NULL;
    g_autoptr(GString) errors = g_string_new(NULL);
    GVariantIter it;
    const char *name;
    GVariant *ws;

    if (host == NULL || wss == NULL) {
        puts("hocusd returned no metrics");
        return;
    }
    total = fmt_bytes(host, "MemTotalBytes");
    avail = fmt_bytes(host, "MemAvailableBytes");
    committed = fmt_bytes(host, "CommittedBytes");
    resident = fmt_bytes(host, "ResidentBytes");
    ksm = fmt_bytes(host, "KsmSavedBytes");
    median = fmt_bytes(host, "MedianIdleRssBytes");
    over = fmt_double(host, "OvercommitRatio", "");
    eff = fmt_double(host, "Efficiency", "");
    psi10 = fmt_double(host, "PressureSomeAvg10", "");
    psi60 = fmt_double(host, "PressureSomeAvg60", "");
    full10 = fmt_double(host, "PressureFullAvg10", "");
    g_variant_lookup(host, "WorkspacesRunning", "u", &running);
    g_variant_lookup(host, "HeadroomWorkspaces", "u", &headroom);
    g_variant_lookup(host, "PressureLevel", "y", &level);
    g_variant_lookup(host, "KsmRunning", "b", &ksm_on);

    if (g_variant_lookup(host, "Virtualization", "&s", &virt) &&
        g_variant_lookup(host, "VirtualizationReason", "&s", &virt_reason))
        printf("Accelerator:  %s (%s)\n", *virt != '\0' ? virt : "not chosen yet", virt_reason);
    printf("Host memory:  %s total, %s available\n", total, avail);
    printf("Pressure:     some avg10 %s%% avg60 %s%%, full avg10 %s%% (%s)\n", psi10, psi60, full10,
           level_name(level));
    printf("Workspaces:   %u running, %s committed (overcommit %s), %s resident\n", running,
           committed, over, resident);
    printf("Efficiency:   %s (guest used / host RSS; 1.00 is container-like)\n", eff);
    if (is_absent(host, "HeadroomWorkspaces"))
        printf("Headroom:     -\n");
    else
        printf("Headroom:     %u more workspaces of %s (median idle RSS)\n", headroom, median);
    printf("KSM:          %s, %s saved\n",
           is_absent(host, "KsmRunning") ? "absent"
           : ksm_on                      ? "running"
                                         : "off",
           ksm);
    {
        const char *mode = "-", *hlevel = "-", *hreason = "";
        g_autofree char *budget = fmt_bytes(host, "PolicyBudgetBytes");
        g_autofree char *left = fmt_bytes(host, "PolicyAvailableBytes");

        g_variant_lookup(host, "PolicyMode", "&s", &mode);
        g_variant_lookup(host, "PolicyHostLevel", "&s", &hlevel);
        g_variant_lookup(host, "PolicyHostReason", "&s", &hreason);
        printf("Policy:       %s; host %s (%s); %s of %s available to workspaces\n", mode, hlevel,
               hreason, left, budget);
    }
    printf("\n%-24s %-9s %9s %9s %9s %9s %6s %5s %7s %8s %-5s %9s %s\n", "NAME", "STATE", "RSS",
           "GUEST-USED", "CACHE", "FOOTPRINT", "CPU", "IDLE", "PSI10", "RECLAIM", "AGENT", "TARGET",
           "POLICY");
    g_variant_iter_init(&it, wss);
    while (g_variant_iter_next(&it, "{&s@a{sv}}", &name, &ws)) {
        g_autofree char *rss = fmt_bytes(ws, "RssBytes");
        g_autofree char *used = fmt_bytes(ws, "GuestUsedBytes");
        g_autofree char *cache = fmt_bytes(ws, "GuestCacheBytes");
        g_autofree char *fp = fmt_double(ws, "FootprintRatio", "x");
        g_autofree char *cpu = fmt_double(ws, "CpuUsage", "");
        g_autofree char *psi = fmt_double(ws, "PressureSomeAvg10", "");
        g_autofree char *lat = fmt_double(ws, "ReclaimLatencySec", "s");
        g_autofree char *target = fmt_bytes(ws, "PolicyTargetBytes");
        const char *state = "?", *last_error = NULL, *pstate = "-";
        gboolean idle = FALSE, agent = FALSE, stale = FALSE;

        g_variant_lookup(ws, "State", "&s", &state);
        g_variant_lookup(ws, "Idle", "b", &idle);
        g_variant_lookup(ws, "AgentConnected", "b", &agent);
        g_variant_lookup(ws, "Stale", "b", &stale);
        g_variant_lookup(ws, "PolicyState", "&s", &pstate);
        if (g_variant_lookup(ws, "LastError", "&s", &last_error) && *last_error != '\0')
            g_string_append_printf(errors, "  %s: %s\n", name, last_error);
        if (strcmp(state, "running") != 0)
            printf("%-24s %-9s\n", name, state);
        else
            printf("%-24s %-9s %9s %10s %9s %9s %6s %5s %7s %8s %-5s %9s %s%s\n", name, state, rss,
                   used, cache, fp, cpu, idle ? "yes" : "no", psi, lat, agent ? "yes" : "no",
                   target, pstate, stale ? "  (stale)" : "");
        g_variant_unref(ws);
    }
    if (errors->len > 0)
        printf("\nLast errors:\n%s", errors->str);
}

static int status_once(HdCtl *ctl, gboolean one_line_json)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) metrics = get_metrics(ctl, &error);

    if (metrics == NULL)
        return hd_ctl_fail(ctl, error);
    if (ctl->json) {
        json_object *o = hd_ctl_variant_to_json(metrics);
        if (one_line_json)
            puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
        else
            hd_ctl_print_json(o);
        json_object_put(o);
    } else {
        print_status(metrics);
    }
    fflush(stdout);
    return HD_CTL_OK;
}

int hd_ctl_cmd_status(HdCtl *ctl, int argc, char **argv)
{
    int rc;

    if (!hd_ctl_parse_options(ctl, "status", NULL, &argc, &argv, 0, 0, &rc))
        return rc;
    return status_once(ctl, FALSE);
}

int hd_ctl_cmd_top(HdCtl *ctl, int argc, char **argv)
{
    double interval = 1.0;
    int iterations = 0, rc;
    GOptionEntry entries[] = {
        { "interval", 0, 0, G_OPTION_ARG_DOUBLE, &interval, NULL, NULL },
        { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, NULL, NULL },
        { NULL },
    };
    gboolean tty = isatty(STDOUT_FILENO);

    if (!hd_ctl_parse_options(ctl, "top", entries, &argc, &argv, 0, 0, &rc))
        return rc;
    if (!(interval >= 0.1 && interval <= 3600))
        return hd_ctl_usage_error(ctl, "top", "--interval must be between 0.1 and 3600 seconds");
    if (iterations < 0)
        return hd_ctl_usage_error(ctl, "top", "--iterations must not be negative");
    for (int i = 0; iterations == 0 || i < iterations; i++) {
        if (i > 0)
            g_usleep((gulong)(interval * G_USEC_PER_SEC));
        if (tty && !ctl->json)
            fputs("\033[H\033[2J", stdout); /* home, clear */
        if (!ctl->json) {
            g_autoptr(GDateTime) now = g_date_time_new_now_local();
            g_autofree char *stamp = g_date_time_format(now, "%T");
            printf("hocusctl top - %s (every %.1f s; Ctrl-C to quit)\n\n", stamp, interval);
        }
        rc = status_once(ctl, TRUE);
        if (rc != HD_CTL_OK)
            return rc;
    }
    return HD_CTL_OK;
}

/* ---- OpenMetrics ---- */

typedef struct {
    const char *property;
    const char *help;
} Family;

static const Family host_families[] = {
    { "MemTotalBytes", "Host MemTotal." },
    { "MemAvailableBytes", "Host MemAvailable." },
    { "PressureSomeAvg10", "Host memory PSI some, 10 s average, percent." },
    { "PressureSomeAvg60", "Host memory PSI some, 60 s average, percent." },
    { "PressureSomeAvg300", "Host memory PSI some, 300 s average, percent." },
    { "PressureFullAvg10", "Host memory PSI full, 10 s average, percent." },
    { "PressureFullAvg60", "Host memory PSI full, 60 s average, percent." },
    { "PressureFullAvg300", "Host memory PSI full, 300 s average, percent." },
    { "PressureLevel",
      "LowMemoryWarning level (low-memory-monitor's scale): 0 normal, 100 warning, 255 critical." },
    { "KsmRunning", "1 when ksmd runs." },
    { "KsmSavedBytes", "Memory KSM saves (pages_sharing times the page size)." },
    { "WorkspacesRunning", "Running workspaces." },
    { "CommittedBytes", "Configured memory of running workspaces." },
    { "ResidentBytes", "QEMU RSS of running workspaces." },
    { "OvercommitRatio", "Committed memory over MemTotal." },
    { "Efficiency", "Guest-used memory over QEMU RSS, summed over workspaces." },
    { "MedianIdleRssBytes", "Median RSS of idle workspaces." },
    { "HeadroomWorkspaces", "More idle workspaces that fit in MemAvailable." },
    { "PolicyBudgetBytes", "Memory the workspaces may use together (cgroup limit or MemTotal)." },
    { "PolicyAvailableBytes", "What is left of the budget." },
    { "PolicyHostTargetBytes", "The headroom the memory policy works back to under pressure." },
    { NULL, NULL },
};

static const Family ws_families[] = {
    { "ConfiguredBytes", "Configured maximum memory." },
    { "RssBytes", "Host RSS of the QEMU process." },
    { "BalloonBytes", "Memory the balloon lets the guest use." },
    { "GuestUsedBytes", "Guest memory used (total - free - cache)." },
    { "GuestFreeBytes", "Guest free memory." },
    { "GuestCacheBytes", "Guest page cache." },
    { "FootprintRatio", "Host RSS over guest-used memory; 1.0 is container-like." },
    { "PressureSomeAvg10", "Memory PSI some of the VM's cgroup, 10 s average, percent." },
    { "PressureFullAvg10", "Memory PSI full of the VM's cgroup, 10 s average, percent." },
    { "KsmMergingPages", "Pages of the QEMU process merged by KSM." },
    { "CpuUsage", "QEMU CPU use, in cores." },
    { "Idle", "1 when the workspace is idle." },
    { "ReclaimLatencySec", "Seconds until 90% of memory the guest freed left the host RSS." },
    { "ReclaimBytes", "Memory freed in the guest that ReclaimLatencySec measured." },
    { "AgentConnected", "1 when hocusd reads the guest agent's channel." },
    { "Stale", "1 when the last sample is older than three intervals." },
    { "MemoryMinBytes", "The memory policy's floor for this workspace." },
    { "PolicyTargetBytes", "The balloon target the memory policy set." },
    { NULL, NULL },
};

/* "RssBytes" -> "rss_bytes", "PressureSomeAvg10" -> "pressure_some_avg10". */
static char *snake(const char *camel)
{
    GString *s = g_string_new(NULL);

    for (const char *p = camel; *p != '\0'; p++) {
        if (g_ascii_isupper(*p) && p != camel)
            g_string_append_c(s, '_');
        g_string_append_c(s, g_ascii_tolower(*p));
    }
    /* The OpenMetrics unit suffix for seconds. */
    if (g_str_has_suffix(s->str, "_sec"))
        g_string_append(s, "onds");
    return g_string_free(s, FALSE);
}

static gboolean number(GVariant *dict, const char *key, char *buf, gsize len)
{
    g_autoptr(GVariant) v = g_variant_lookup_value(dict, key, NULL);

    if (v == NULL || is_absent(dict, key))
        return FALSE;
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64))
        g_snprintf(buf, len, "%" G_GUINT64_FORMAT, g_variant_get_uint64(v));
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32))
        g_snprintf(buf, len, "%u", g_variant_get_uint32(v));
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BYTE))
        g_snprintf(buf, len, "%u", g_variant_get_byte(v));
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN))
        g_snprintf(buf, len, "%d", g_variant_get_boolean(v) ? 1 : 0);
    else if (g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE))
        g_ascii_formatd(buf, len, "%.6g", g_variant_get_double(v));
    else
        return FALSE;
    return TRUE;
}

static void family_header(GString *out, const char *name, const char *help)
{
    g_string_append_printf(out, "# TYPE %s gauge\n", name);
    if (g_str_has_suffix(name, "_bytes"))
        g_string_append_printf(out, "# UNIT %s bytes\n", name);
    else if (g_str_has_suffix(name, "_seconds"))
        g_string_append_printf(out, "# UNIT %s seconds\n", name);
    g_string_append_printf(out, "# HELP %s %s\n", name, help);
}

/* Label values: backslash, double quote and newline are escaped. */
static char *label_escape(const char *v)
{
    GString *s = g_string_new(NULL);

    for (const char *p = v; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_c(s, '\\');
        if (*p == '\n')
            g_string_append(s, "\\n");
        else
            g_string_append_c(s, *p);
    }
    return g_string_free(s, FALSE);
}

/* One GetMetrics() snapshot as OpenMetrics text, ending with "# EOF". */
static char *openmetrics(GVariant *metrics)
{
    GString *out = g_string_new(NULL);
    g_autoptr(GVariant) host = g_variant_lookup_value(metrics, "host", G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) wss = g_variant_lookup_value(metrics, "workspaces", NULL);
    char value[64];

    for (const Family *f = host_families; host != NULL && f->property != NULL; f++) {
        g_autofree char *base = snake(f->property);
        g_autofree char *name = g_strconcat("hocusd_host_", base, NULL);

        if (!number(host, f->property, value, sizeof(value)))
            continue;
        family_header(out, name, f->help);
        g_string_append_printf(out, "%s %s\n", name, value);
    }
    if (wss != NULL) {
        family_header(out, "hocusd_workspace_info", "Workspaces hocusd knows, with their state.");
        GVariantIter it;
        const char *ws_name;
        GVariant *ws;

        g_variant_iter_init(&it, wss);
        while (g_variant_iter_next(&it, "{&s@a{sv}}", &ws_name, &ws)) {
            g_autofree char *label = label_escape(ws_name);
            const char *state = "unknown";
            g_autofree char *state_label = NULL;

            g_variant_lookup(ws, "State", "&s", &state);
            state_label = label_escape(state);
            g_string_append_printf(out, "hocusd_workspace_info{workspace=\"%s\",state=\"%s\"} 1\n",
                                   label, state_label);
            g_variant_unref(ws);
        }
        for (const Family *f = ws_families; f->property != NULL; f++) {
            g_autofree char *base = snake(f->property);
            g_autofree char *name = g_strconcat("hocusd_workspace_", base, NULL);
            gboolean header = FALSE;

            g_variant_iter_init(&it, wss);
            while (g_variant_iter_next(&it, "{&s@a{sv}}", &ws_name, &ws)) {
                g_autofree char *label = label_escape(ws_name);

                if (number(ws, f->property, value, sizeof(value))) {
                    if (!header)
                        family_header(out, name, f->help);
                    header = TRUE;
                    g_string_append_printf(out, "%s{workspace=\"%s\"} %s\n", name, label, value);
                }
                g_variant_unref(ws);
            }
        }
    }
    g_string_append(out, "# EOF\n");
    return g_string_free(out, FALSE);
}

/* metrics --http: what hocusd-metrics.socket runs per connection. */
static char *scrape(gpointer user_data, GError **error)
{
    g_autoptr(GVariant) metrics = get_metrics(user_data, error);

    if (metrics == NULL) {
        g_prefix_error(error, "hocusd did not answer: ");
        return NULL;
    }
    return openmetrics(metrics);
}

int hd_ctl_cmd_metrics(HdCtl *ctl, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) metrics = NULL;
    g_autofree char *format = NULL;
    gboolean http = FALSE;
    GOptionEntry entries[] = {
        { "format", 0, 0, G_OPTION_ARG_STRING, &format, NULL, NULL },
        { "http", 0, 0, G_OPTION_ARG_NONE, &http, NULL, NULL },
        { NULL },
    };
    int rc;

    if (!hd_ctl_parse_options(ctl, "metrics", entries, &argc, &argv, 0, 0, &rc))
        return rc;
    if (http) {
        if (format != NULL)
            return hd_ctl_usage_error(ctl, "metrics",
                                      "--http serves OpenMetrics; --format is for the terminal");
        return hd_ctl_serve_http(
            "/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8", scrape, ctl);
    }
    if (format == NULL)
        format = g_strdup(ctl->json ? "json" : "openmetrics");
    if (strcmp(format, "openmetrics") != 0 && strcmp(format, "json") != 0)
        return hd_ctl_usage_error(ctl, "metrics", "unknown format '%s' (openmetrics or json)",
                                  format);
    metrics = get_metrics(ctl, &error);
    if (metrics == NULL)
        return hd_ctl_fail(ctl, error);
    if (strcmp(format, "json") == 0) {
        json_object *o = hd_ctl_variant_to_json(metrics);
        hd_ctl_print_json(o);
        json_object_put(o);
    } else {
        g_autofree char *text = openmetrics(metrics);

        fputs(text, stdout);
    }
    return HD_CTL_OK;
}
