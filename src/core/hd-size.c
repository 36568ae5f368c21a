/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-size.h"

gboolean hd_size_parse(const char *text, guint64 *out, GError **error)
{
    guint64 value = 0, mult = 1;
    const char *p = text;

    if (text == NULL || *text == '\0') {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "empty size");
        return FALSE;
    }
    if (!g_ascii_isdigit(*p)) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "'%s' is not a size (expected digits with an optional K, M, G or T suffix)",
                    text);
        return FALSE;
    }
    for (; g_ascii_isdigit(*p); p++) {
        guint d = (guint)(*p - '0');
        if (value > (G_MAXUINT64 - d) / 10) {
            g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "'%s' is too large", text);
            return FALSE;
        }
        value = value * 10 + d;
    }
    switch (g_ascii_toupper(*p)) {
    case '\0':
        break;
    case 'K':
        mult = HD_KiB;
        break;
    case 'M':
        mult = HD_MiB;
        break;
    case 'G':
        mult = HD_GiB;
        break;
    case 'T':
        mult = HD_TiB;
        break;
    default:
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "'%s' has an unknown unit (use K, M, G or T; powers of 1024)", text);
        return FALSE;
    }
    if (*p != '\0') {
        p++;
        if (strcmp(p, "") != 0 && strcmp(p, "iB") != 0 && strcmp(p, "B") != 0) {
            g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                        "'%s' has an unknown unit (use K, M, G or T; powers of 1024)", text);
            return FALSE;
        }
    }
    if (value > G_MAXUINT64 / mult) {
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "'%s' is too large", text);
        return FALSE;
    }
    *out = value * mult;
    return TRUE;
}

char *hd_size_format(guint64 bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    guint i = 0;
    double v = (double)bytes;

    while (v >= 1024.0 && i + 1 < G_N_ELEMENTS(units)) {
        v /= 1024.0;
        i++;
    }
    if (i == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
    if (bytes % ((guint64)1 << (10 * i)) == 0)
        return g_strdup_printf("%.0f %s", v, units[i]);
    return g_strdup_printf("%.1f %s", v, units[i]);
}
