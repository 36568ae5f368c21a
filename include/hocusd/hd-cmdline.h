/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "hocusd/hd-config.h"

G_BEGIN_DECLS

/* What every workspace kernel gets; see docs/memory-recipe.md. */
#define HD_CMDLINE_RECIPE "page_reporting.page_reporting_order=0 transparent_hugepage=never"

#define HD_CMDLINE_MAX_LEN 2048

/*
 * Check a user-supplied cmdline fragment: printable ASCII words, no quotes,
 * and none of the parameters the memory recipe owns (they would silently
 * undo it, because the kernel keeps the last value it sees).
 */
gboolean hd_cmdline_check_user(const char *cmdline, GError **error);

/* base + user extra + recipe + DAMON parameters, recipe last so it wins. */
char *hd_cmdline_build(const char *base, const char *extra, const HdDamonConfig *damon);

G_END_DECLS
