/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"

gboolean hd_name_validate(const char *name, GError **error)
{
    gsize len;

    if (name == NULL || *name == '\0') {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC, "workspace name is empty");
        return FALSE;
    }
    len = strlen(name);
    if (len > HD_WORKSPACE_NAME_MAX_LEN) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "workspace name is %zu characters long; at most %d are allowed", len,
                    HD_WORKSPACE_NAME_MAX_LEN);
        return FALSE;
    }
    if (!g_ascii_islower(name[0])) {
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                    "workspace name must start with a lowercase letter a-z");
        return FALSE;
    }
    for (gsize i = 1; i < len; i++) {
        char c = name[i];
        if (g_ascii_islower(c) || g_ascii_isdigit(c) || c == '-')
            continue;
        if (g_ascii_isprint(c))
            g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                        "workspace name has '%c' at position %zu; only a-z, 0-9 and '-' are "
                        "allowed",
                        c, i + 1);
        else
            g_set_error(error, HD_ERROR, HD_ERROR_INVALID_SPEC,
                        "workspace name has byte 0x%02x at position %zu; only a-z, 0-9 and '-' "
                        "are allowed",
                        (guint)(guchar)c, i + 1);
        return FALSE;
    }
    return TRUE;
}

char *hd_name_to_object_path(const char *name)
{
    char *path = g_strconcat(HD_DBUS_WORKSPACE_PREFIX, name, NULL);

    g_strdelimit(path + strlen(HD_DBUS_WORKSPACE_PREFIX), "-", '_');
    return path;
}
