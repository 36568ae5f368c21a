/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "hocusd/hd-image.h"

void hd_image_header_parse(const unsigned char *head, gsize n, guint64 file_size,
                           const char **format, guint64 *virtual_size)
{
    static const unsigned char qcow2_magic[4] = { 'Q', 'F', 'I', 0xfb };
    guint64 size = 0;

    if (head == NULL || n < HD_IMAGE_HEADER_BYTES || memcmp(head, qcow2_magic, 4) != 0) {
        *format = "raw";
        *virtual_size = file_size;
        return;
    }
    for (int i = 24; i < 32; i++)
        size = (size << 8) | head[i];
    *format = "qcow2";
    *virtual_size = size;
}
