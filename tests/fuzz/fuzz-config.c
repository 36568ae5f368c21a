/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hocusd's JSON configuration (root's file, but a typo must never crash it). */
#include "fuzz-common.h"
#include "hocusd/hd-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HdConfig) config = hd_config_parse((const char *)data, size, "fuzz.json", &error);

    if (config != NULL) {
        g_autofree char *json = hd_config_to_json(config);
        g_assert(json != NULL);
    } else {
        g_assert(error != NULL && g_str_has_prefix(error->message, "fuzz.json: "));
    }
    return 0;
}
