/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Facts about the local host that shape a workspace definition. */

/* TRUE when hardware virtualisation is usable (root/dev/kvm exists). */
gboolean hd_host_has_kvm(const char *root);

/* A regular file that exists (kernel, initrd, base image). key names it in the error. */
gboolean hd_host_check_file(const char *key, const char *path, GError **error);

/* "qcow2" when the file starts with the qcow2 magic, else "raw". */
char *hd_host_image_format(const char *path, GError **error);

G_END_DECLS
