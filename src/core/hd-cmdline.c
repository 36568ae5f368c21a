/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "hocusd/hd-cmdline.h"
#include "hocusd/hd-error.h"

/* Parameters set by the recipe; a user value for any of them is refused. */
static const char *const recipe_keys[] = {
    "page_reporting.page_reporting_order",
    "transparent_hugepage",
    NULL,
};
static const char *const recipe_prefixes[] = { "damon_reclaim.", NULL };

static gboolean key_is_reserved(const char *word)
{
    gsize klen = strcspn(word, "=");

    for (gsize i = 0; recipe_keys[i] != NULL; i++) {
        if (strlen(recipe_keys[i]) == klen && strncmp(word, recipe_keys[i], klen) == 0)
            return TRUE;
    }
    for (gsize i = 0; recipe_prefixes[i] != NULL; i++) {
        if (g_str_has_prefix(word, recipe_prefixes[i]))
            return TRUE;
    }
    return FALSE;
}

gboolean hd_cmdline_check_user(const char *cmdline, GError **error)
{
    g_auto(GStrv) words = NULL;
    gsize len = strlen(cmdline);

    if (len > HD_CMDLINE_MAX_LEN / 2) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "is %zu bytes long; at most %d are allowed",
                    len, HD_CMDLINE_MAX_LEN / 2);
        return FALSE;
    }
    for (gsize i = 0; i < len; i++) {
        guchar c = (guchar)cmdline[i];
        if (c == '"' || c == '\'' || c == '\\') {
            g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                        "quotes and backslashes are not supported (byte %zu)", i + 1);
            return FALSE;
        }
        if (c != ' ' && (c < 0x21 || c > 0x7e)) {
            g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                        "only printable ASCII words separated by spaces are allowed (byte %zu is "
                        "0x%02x)",
                        i + 1, (guint)c);
            return FALSE;
        }
    }
    words = g_strsplit(cmdline, " ", -1);
    for (gsize i = 0; words[i] != NULL; i++) {
        if (words[i][0] != '\0' && key_is_reserved(words[i])) {
            g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                        "'%s' is set by hocusd's memory recipe and cannot be overridden", words[i]);
            return FALSE;
        }
    }
    return TRUE;
}

static void append_words(GString *out, const char *text)
{
    g_auto(GStrv) words = NULL;

    if (text == NULL)
        return;
    words = g_strsplit(text, " ", -1);
    for (gsize i = 0; words[i] != NULL; i++) {
        if (words[i][0] == '\0')
            continue;
        if (out->len > 0)
            g_string_append_c(out, ' ');
        g_string_append(out, words[i]);
    }
}

char *hd_cmdline_build(const char *base, const char *extra, const HdDamonConfig *damon)
{
    GString *out = g_string_new(NULL);

    append_words(out, base);
    append_words(out, extra);
    append_words(out, HD_CMDLINE_RECIPE);
    if (damon != NULL && damon->enabled) {
        g_string_append_printf(
            out,
            " damon_reclaim.min_age=%" G_GUINT64_FORMAT " damon_reclaim.quota_ms=%u"
            " damon_reclaim.quota_sz=%" G_GUINT64_FORMAT " damon_reclaim.quota_reset_interval_ms=%u"
            " damon_reclaim.wmarks_high=%u damon_reclaim.wmarks_mid=%u"
            " damon_reclaim.wmarks_low=%u damon_reclaim.skip_anon=%s"
            " damon_reclaim.enabled=Y",
            (guint64)damon->min_age_ms * 1000, damon->quota_ms, damon->quota_size,
            damon->quota_reset_interval_ms, damon->wmarks_high, damon->wmarks_mid,
            damon->wmarks_low, damon->skip_anon ? "Y" : "N");
    }
    return g_string_free(out, FALSE);
}
