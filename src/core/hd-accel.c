/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "hd-accel"

#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "hocusd/hd-accel.h"
#include "hocusd/hd-error.h"

/* A probe's message is QEMU's or libvirt's; keep the reason one readable line. */
#define DETAIL_MAX    240
#define LOG_ERROR_MAX 400

static const char *const mode_names[] = { "auto", "kvm", "tcg" };
static const char *const cpu_names[HD_CPU_N_CHOICES] = {
    "host-passthrough",
    "host-passthrough,-arch-capabilities",
    "host-model",
    "kvm64",
};

gboolean hd_accel_mode_from_string(const char *text, HdAccelMode *mode)
{
    for (guint i = 0; i < G_N_ELEMENTS(mode_names); i++) {
        if (g_strcmp0(text, mode_names[i]) == 0) {
            *mode = (HdAccelMode)i;
            return TRUE;
        }
    }
    return FALSE;
}

const char *hd_cpu_choice_to_string(HdCpuChoice cpu)
{
    return (guint)cpu < HD_CPU_N_CHOICES ? cpu_names[cpu] : "host-passthrough";
}

gboolean hd_cpu_choice_from_string(const char *text, HdCpuChoice *cpu)
{
    for (guint i = 0; i < HD_CPU_N_CHOICES; i++) {
        if (g_strcmp0(text, cpu_names[i]) == 0) {
            *cpu = (HdCpuChoice)i;
            return TRUE;
        }
    }
    return FALSE;
}

void hd_accel_verdict_clear(HdAccelVerdict *verdict)
{
    g_clear_pointer(&verdict->reason, g_free);
}

static void set_verdict(HdAccelVerdict *v, gboolean kvm, HdCpuChoice cpu, char *reason)
{
    g_free(v->reason);
    v->kvm = kvm;
    v->cpu = cpu;
    v->reason = reason;
}

/* A message cut to DETAIL_MAX bytes on a UTF-8 boundary. */
static char *clip(const char *text, gsize max)
{
    const char *end;

    if (text == NULL || *text == '\0')
        return g_strdup("no message");
    if (strlen(text) <= max)
        return g_strdup(text);
    end = g_utf8_find_prev_char(text, text + max);
    return g_strdup_printf("%.*s...", (int)(end != NULL ? end - text : 0), text);
}

/* "cpu-a, cpu-b: message; cpu-c: other message": CPU choices that failed the
 * same way share one message (on a broken nested host they all do). */
static char *failures(const HdAccelFacts *f, guint upto)
{
    GString *s = g_string_new(NULL);
    gboolean done[HD_CPU_N_CHOICES] = { FALSE };

    for (guint i = 0; i < upto; i++) {
        g_autofree char *d = NULL;

        if (f->probes[i].outcome != HD_PROBE_FAILED || done[i])
            continue;
        if (s->len > 0)
            g_string_append(s, "; ");
        g_string_append(s, cpu_names[i]);
        for (guint j = i + 1; j < upto; j++) {
            if (f->probes[j].outcome == HD_PROBE_FAILED &&
                g_strcmp0(f->probes[j].detail, f->probes[i].detail) == 0) {
                g_string_append_printf(s, ", %s", cpu_names[j]);
                done[j] = TRUE;
            }
        }
        d = clip(f->probes[i].detail, DETAIL_MAX);
        g_string_append_printf(s, ": %s", d);
    }
    return g_string_free(s, FALSE);
}

HdAccelStep hd_accel_decide(const HdAccelFacts *f, HdCpuChoice *probe_cpu, HdAccelVerdict *v)
{
    const char *dev = f->device != NULL ? f->device : "/dev/kvm";

    switch (f->mode) {
    case HD_ACCEL_MODE_TCG:
        set_verdict(v, FALSE, HD_CPU_HOST_PASSTHROUGH,
                    g_strdup("tcg: configured (accelerator \"tcg\"); KVM not probed"));
        return HD_ACCEL_STEP_DONE;
    case HD_ACCEL_MODE_KVM:
        /* Forced: no fallback. Say what is wrong so the failing starts make sense. */
        if (!f->device_present)
            set_verdict(v, TRUE, HD_CPU_HOST_PASSTHROUGH,
                        g_strdup_printf("kvm: configured (accelerator \"kvm\"), but %s does not "
                                        "exist: starts will fail",
                                        dev));
        else if (!f->device_accessible)
            set_verdict(v, TRUE, HD_CPU_HOST_PASSTHROUGH,
                        g_strdup_printf("kvm: configured (accelerator \"kvm\"), but %s is not "
                                        "usable by QEMU's user (%s): starts will fail",
                                        dev, f->device_detail ? f->device_detail : "?"));
        else
            set_verdict(v, TRUE, HD_CPU_HOST_PASSTHROUGH,
                        g_strdup("kvm: configured (accelerator \"kvm\"); not probed"));
        return HD_ACCEL_STEP_DONE;
    case HD_ACCEL_MODE_AUTO:
        break;
    }

    if (!f->device_present) {
        set_verdict(v, FALSE, 0, g_strdup_printf("tcg: %s does not exist on this host", dev));
        return HD_ACCEL_STEP_DONE;
    }
    if (!f->device_accessible) {
        set_verdict(v, FALSE, 0,
                    g_strdup_printf("tcg: %s is not usable by QEMU's user (%s)", dev,
                                    f->device_detail ? f->device_detail : "?"));
        return HD_ACCEL_STEP_DONE;
    }
    if (!f->libvirt_offers_kvm) {
        g_autofree char *d = clip(f->libvirt_detail, DETAIL_MAX);
        set_verdict(v, FALSE, 0, g_strdup_printf("tcg: libvirt does not offer KVM (%s)", d));
        return HD_ACCEL_STEP_DONE;
    }
    for (guint i = 0; i < HD_CPU_N_CHOICES; i++) {
        g_autofree char *before = NULL;

        switch (f->probes[i].outcome) {
        case HD_PROBE_NOT_RUN:
            *probe_cpu = (HdCpuChoice)i;
            return HD_ACCEL_STEP_PROBE;
        case HD_PROBE_FAILED:
            continue;
        case HD_PROBE_BOOTED:
            before = failures(f, i);
            set_verdict(v, TRUE, (HdCpuChoice)i,
                        *before == '\0'
                            ? g_strdup_printf("kvm: probe guest booted with CPU %s", cpu_names[i])
                            : g_strdup_printf("kvm: probe guest booted with CPU %s (failed "
                                              "before: %s)",
                                              cpu_names[i], before));
            return HD_ACCEL_STEP_DONE;
        }
    }
    {
        g_autofree char *all = failures(f, HD_CPU_N_CHOICES);
        set_verdict(v, FALSE, 0, g_strdup_printf("tcg: kvm probe failed: %s", all));
    }
    return HD_ACCEL_STEP_DONE;
}

gboolean hd_accel_device_usable(guint32 st_mode, guint32 dev_uid, guint32 dev_gid, guint32 uid,
                                const guint32 *gids, gsize n_gids)
{
    const guint32 rw_user = S_IRUSR | S_IWUSR, rw_group = S_IRGRP | S_IWGRP;
    const guint32 rw_other = S_IROTH | S_IWOTH;

    /* The kernel checks owner, then group, then other: the first class that
     * matches decides, even when a later one would allow more. */
    if (uid == 0)
        return TRUE;
    if (uid == dev_uid)
        return (st_mode & rw_user) == rw_user;
    for (gsize i = 0; i < n_gids; i++) {
        if (gids[i] == dev_gid)
            return (st_mode & rw_group) == rw_group;
    }
    return (st_mode & rw_other) == rw_other;
}

void hd_accel_format_mode(guint32 st_mode, char out[11])
{
    static const char bits[] = "rwxrwxrwx";

    out[0] = S_ISCHR(st_mode) ? 'c' : S_ISBLK(st_mode) ? 'b' : S_ISDIR(st_mode) ? 'd' : '-';
    for (int i = 0; i < 9; i++)
        out[i + 1] = (st_mode & (1u << (8 - i))) ? bits[i] : '-';
    out[10] = '\0';
}

/* value of `key = "value"` (quotes optional), or NULL. */
static char *conf_value(const char *line, const char *key)
{
    gsize klen = strlen(key);
    const char *p = line;
    g_autofree char *v = NULL;

    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, key, klen) != 0)
        return NULL;
    p += klen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return NULL;
    p++;
    v = g_strstrip(g_strdup(p));
    if (*v == '"') {
        char *end = strchr(v + 1, '"');
        if (end == NULL)
            return NULL;
        return g_strndup(v + 1, (gsize)(end - v - 1));
    }
    /* Unquoted: up to a comment. */
    {
        char *hash = strchr(v, '#');
        if (hash != NULL)
            *hash = '\0';
    }
    g_strstrip(v);
    return *v != '\0' ? g_steal_pointer(&v) : NULL;
}

void hd_accel_parse_qemu_conf(const char *text, char **user, char **group)
{
    g_auto(GStrv) lines = g_strsplit(text != NULL ? text : "", "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++) {
        char *u = conf_value(lines[i], "user");
        char *g = conf_value(lines[i], "group");

        if (u != NULL) {
            g_free(*user);
            *user = u;
        }
        if (g != NULL) {
            g_free(*group);
            *group = g;
        }
    }
}

static gboolean is_error_line(const char *line)
{
    static const char *const words[] = { "error",         "Error",       "failed", "Assertion",
                                         "emulation",     "abort",       "cannot", "Could not",
                                         "not supported", "Unsupported", NULL };

    if (strstr(line, "terminating on signal") != NULL || strstr(line, "shutting down") != NULL)
        return FALSE;
    for (guint i = 0; words[i] != NULL; i++) {
        if (strstr(line, words[i]) != NULL)
            return TRUE;
    }
    return FALSE;
}

/* "2026-11-23T21:10:28.561263Z qemu-system-x86_64: msg" -> "qemu-system-x86_64: msg". */
static const char *strip_stamp(const char *line)
{
    if (g_ascii_isdigit(line[0]) && strlen(line) > 20 && line[4] == '-' && line[10] == 'T') {
        const char *sp = strchr(line, ' ');
        if (sp != NULL)
            return sp + 1;
    }
    return line;
}

char *hd_accel_qemu_log_error(const char *log_text)
{
    g_auto(GStrv) lines = NULL;
    GString *out;
    guint start = 0, found = 0;

    if (log_text == NULL)
        return NULL;
    lines = g_strsplit(log_text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (strstr(lines[i], ": starting up ") != NULL)
            start = i + 1;
    }
    out = g_string_new(NULL);
    for (guint i = start; lines[i] != NULL && found < 3; i++) {
        const char *l = strip_stamp(g_strstrip(lines[i]));

        if (*l == '\0' || !is_error_line(l))
            continue;
        g_string_append_printf(out, "%s%s", out->len > 0 ? "; " : "", l);
        found++;
    }
    if (out->len == 0) {
        g_string_free(out, TRUE);
        return NULL;
    }
    if (out->len > LOG_ERROR_MAX) {
        char *clipped = clip(out->str, LOG_ERROR_MAX);
        g_string_free(out, TRUE);
        return clipped;
    }
    return g_string_free(out, FALSE);
}

char *hd_accel_cache_to_json(const char *key, const HdAccelVerdict *v, gint64 made_usec)
{
    json_object *o = json_object_new_object();
    char *out;

    json_object_object_add(o, "key", json_object_new_string(key));
    json_object_object_add(o, "accelerator", json_object_new_string(v->kvm ? "kvm" : "tcg"));
    json_object_object_add(o, "cpu", json_object_new_string(hd_cpu_choice_to_string(v->cpu)));
    json_object_object_add(o, "reason", json_object_new_string(v->reason ? v->reason : ""));
    json_object_object_add(o, "made_usec", json_object_new_int64(made_usec));
    out = g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return out;
}

static const char *get_string(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

gboolean hd_accel_cache_parse(const char *text, gsize len, const char *key, HdAccelVerdict *v,
                              GError **error)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, text, (int)MIN(len, (gsize)G_MAXINT));
    const char *have_key, *accel, *cpu, *reason;
    HdCpuChoice choice;
    gboolean ok = FALSE;

    if (o == NULL || !json_object_is_type(o, json_type_object)) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "not a JSON object");
        goto out;
    }
    have_key = get_string(o, "key");
    accel = get_string(o, "accelerator");
    cpu = get_string(o, "cpu");
    reason = get_string(o, "reason");
    if (have_key == NULL || accel == NULL || cpu == NULL || reason == NULL) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "a key of \"key\", \"accelerator\", \"cpu\", \"reason\" is missing");
        goto out;
    }
    if (strcmp(have_key, key) != 0) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "made for another host state (%s)", have_key);
        goto out;
    }
    if ((strcmp(accel, "kvm") != 0 && strcmp(accel, "tcg") != 0) ||
        !hd_cpu_choice_from_string(cpu, &choice) ||
        !g_str_has_prefix(reason, strcmp(accel, "kvm") == 0 ? "kvm: " : "tcg: ")) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "unknown accelerator, CPU or reason");
        goto out;
    }
    set_verdict(v, strcmp(accel, "kvm") == 0, choice, clip(reason, 2048));
    ok = TRUE;
out:
    if (o != NULL)
        json_object_put(o);
    json_tokener_free(tok);
    return ok;
}
