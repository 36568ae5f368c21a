/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bytes of an image's start that hd_image_header_parse() looks at. */
#define HD_IMAGE_HEADER_BYTES 32

/*
 * A disk image's format and the size of the disk it holds, from its first
 * bytes (head, n of them) and the file's length: "qcow2" by its magic (the
 * size is the header's big-endian field at offset 24), else "raw" (the size
 * is the file's length). The image may come from a caller: nothing here
 * trusts it beyond its bytes.
 */
void hd_image_header_parse(const unsigned char *head, gsize n, guint64 file_size,
                           const char **format, guint64 *virtual_size);

G_END_DECLS
