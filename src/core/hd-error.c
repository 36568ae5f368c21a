/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gio/gio.h>

#include "hocusd/hd-error.h"

static const GDBusErrorEntry hd_error_entries[] = {
    { HD_ERROR_FAILED, "dev.hocus.Hocusd1.Error.Failed" },
    { HD_ERROR_INVALID_SPEC, "dev.hocus.Hocusd1.Error.InvalidSpec" },
    { HD_ERROR_INVALID_CONFIG, "dev.hocus.Hocusd1.Error.InvalidConfig" },
    { HD_ERROR_NOT_FOUND, "dev.hocus.Hocusd1.Error.NotFound" },
    { HD_ERROR_ALREADY_EXISTS, "dev.hocus.Hocusd1.Error.AlreadyExists" },
    { HD_ERROR_INVALID_STATE, "dev.hocus.Hocusd1.Error.InvalidState" },
    { HD_ERROR_UNAVAILABLE, "dev.hocus.Hocusd1.Error.Unavailable" },
    { HD_ERROR_HYPERVISOR, "dev.hocus.Hocusd1.Error.Hypervisor" },
    { HD_ERROR_BUSY, "dev.hocus.Hocusd1.Error.Busy" },
};

G_STATIC_ASSERT(G_N_ELEMENTS(hd_error_entries) == HD_ERROR_N_CODES);

GQuark hd_error_quark(void)
{
    /* Registering the domain makes GDBus translate HdError <-> error names
     * in both directions, for the daemon and for hocusctl alike. */
    static gsize quark = 0;

    g_dbus_error_register_error_domain("hd-error-quark", &quark, hd_error_entries,
                                       G_N_ELEMENTS(hd_error_entries));
    return (GQuark)quark;
}
