/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hocusd's <metadata> element of a domain: anybody with virsh can edit it. */
#include "fuzz-common.h"
#include "hocusd/hd-metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzz_text(data, size);
    g_autoptr(GError) error = NULL;
    HdMetadata *md = hd_metadata_from_xml(text, &error);

    if (md != NULL) {
        g_autofree char *xml = hd_metadata_to_xml(md);
        HdMetadata *again = hd_metadata_from_xml(xml, NULL);
        g_assert(again != NULL); /* what hocusd writes, it reads back */
        hd_metadata_free(again);
        hd_metadata_free(md);
    }
    return 0;
}
