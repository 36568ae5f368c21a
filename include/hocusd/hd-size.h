/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HD_KiB ((guint64)1024)
#define HD_MiB (HD_KiB * 1024)
#define HD_GiB (HD_MiB * 1024)
#define HD_TiB (HD_GiB * 1024)

/*
 * Parses a byte count: a plain integer ("1073741824") or an integer with a
 * binary suffix K, M, G or T, optionally followed by "iB" or "B"
 * ("512M", "4GiB", "20G"). Suffixes are powers of 1024. No fractions, no
 * signs, no spaces. Errors are set in HD_ERROR_FAILED; callers re-code them.
 */
gboolean hd_size_parse(const char *text, guint64 *out, GError **error);

/* "4 GiB", "1.5 GiB", "512 MiB", "100 B": exact units when they divide. */
char *hd_size_format(guint64 bytes);

G_END_DECLS
