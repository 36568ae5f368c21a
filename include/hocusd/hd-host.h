/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Facts about the local host that shape a workspace definition. */

/* A regular file that exists (kernel, initrd, base image). key names it in the error. */
gboolean hd_host_check_file(const char *key, const char *path, GError **error);

/*
 * For callers other than root: path (the value of spec key key) must name a
 * regular file that every user may read, inside shared_dir once symlinks are
 * resolved. On success *resolved is that real path, which is what hocusd uses
 * from then on. Every refusal past the first, purely textual, check reads the
 * same, so that the answer tells nothing about files outside shared_dir.
 */
gboolean hd_host_check_caller_file(const char *key, const char *path, const char *shared_dir,
                                   char **resolved, GError **error);

/* A disk image's format ("qcow2" by its magic, else "raw") and the size of
 * the disk it holds (the qcow2 header's size field, or a raw file's length). */
gboolean hd_host_image_info(const char *path, char **format, guint64 *virtual_size, GError **error);

G_END_DECLS
