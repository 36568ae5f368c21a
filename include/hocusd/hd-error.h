/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * One error domain for the whole daemon. Each code maps to a D-Bus error name
 * "dev.hocus.Hocusd1.Error.<Name>" so that clients see the same reason the
 * daemon logged (registered with GDBus by hd_error_quark()).
 */
#define HD_ERROR (hd_error_quark())

typedef enum {
    HD_ERROR_FAILED,         /* Failed: anything without a better code */
    HD_ERROR_INVALID_SPEC,   /* InvalidSpec: a workspace spec was rejected */
    HD_ERROR_INVALID_CONFIG, /* InvalidConfig: the daemon configuration was rejected */
    HD_ERROR_NOT_FOUND,      /* NotFound: no such workspace */
    HD_ERROR_ALREADY_EXISTS, /* AlreadyExists: name taken by a workspace or libvirt domain */
    HD_ERROR_INVALID_STATE,  /* InvalidState: not allowed in the workspace's current state */
    HD_ERROR_UNAVAILABLE,    /* Unavailable: libvirt is not connected right now */
    HD_ERROR_HYPERVISOR,     /* Hypervisor: libvirt refused or failed an operation */
    HD_ERROR_BUSY,           /* Busy: another operation on this workspace is under way */
} HdError;

#define HD_ERROR_N_CODES (HD_ERROR_BUSY + 1)

GQuark hd_error_quark(void);

G_END_DECLS
