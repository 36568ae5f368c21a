/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Workspace specs from callers: the a{sv} of CreateWorkspace (the bytes are
 * read as a serialised GVariant of that type, as GDBus hands it over) and
 * the JSON of hocusctl --spec.
 */
#include "fuzz-common.h"
#include "hocusd/hd-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    gpointer copy = g_memdup2(data, size);
    g_autoptr(GVariant) dict = g_variant_ref_sink(
        g_variant_new_from_data(G_VARIANT_TYPE_VARDICT, copy, size, FALSE, g_free, copy));
    g_autoptr(HdSpec) from_variant = hd_spec_from_variant(dict, &error);
    g_autoptr(HdSpec) from_json = NULL;

    if (from_variant != NULL) {
        g_autoptr(GVariant) back = g_variant_ref_sink(hd_spec_to_variant(from_variant));
        g_autoptr(HdSpec) again = hd_spec_from_variant(back, NULL);
        g_assert(again != NULL); /* what hocusd publishes, it accepts */
    }
    g_clear_error(&error);
    from_json = hd_spec_from_json((const char *)data, size, &error);
    g_assert(from_json != NULL || error != NULL);
    return 0;
}
