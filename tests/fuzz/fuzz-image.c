/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The start of a base image a caller names. */
#include "fuzz-common.h"
#include "hocusd/hd-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *format = NULL;
    guint64 vsize = 0;

    hd_image_header_parse(data, size, size, &format, &vsize);
    g_assert(g_str_equal(format, "qcow2") || (g_str_equal(format, "raw") && vsize == size));
    return 0;
}
