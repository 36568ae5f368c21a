/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hocusd/hd-error.h"
#include "hocusd/hd-names.h"

typedef struct {
    const char *name;
    gboolean ok;
    const char *why; /* substring of the error message */
} NameCase;

static const NameCase name_cases[] = {
    { "a", TRUE, NULL },
    { "dev", TRUE, NULL },
    { "my-ws-2", TRUE, NULL },
    { "a123456789012345678901234567890123456789012345678901234567890bc", TRUE, NULL }, /* 63 */
    { "", FALSE, "empty" },
    { "a1234567890123456789012345678901234567890123456789012345678901bc", FALSE, "64 characters" },
    { "1abc", FALSE, "start with a lowercase letter" },
    { "-abc", FALSE, "start with a lowercase letter" },
    { "Abc", FALSE, "start with a lowercase letter" },
    { "abC", FALSE, "'C' at position 3" },
    { "a_b", FALSE, "'_' at position 2" },
    { "a.b", FALSE, "'.' at position 2" },
    { "a/b", FALSE, "'/' at position 2" },
    { "a b", FALSE, "' ' at position 2" },
    { "a\nb", FALSE, "byte 0x0a at position 2" },
    { "a\xc3\xa9", FALSE, "byte 0xc3 at position 2" },
    { "a<b>", FALSE, "'<' at position 2" },
};

static void test_name_validate(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(name_cases); i++) {
        const NameCase *c = &name_cases[i];
        g_autoptr(GError) error = NULL;
        gboolean ok = hd_name_validate(c->name, &error);

        if (ok != c->ok)
            fail_msg("case %zu '%s': expected %s", i, c->name, c->ok ? "valid" : "invalid");
        if (!c->ok) {
            assert_non_null(error);
            assert_int_equal(error->code, HD_ERROR_INVALID_SPEC);
            if (strstr(error->message, c->why) == NULL)
                fail_msg("case %zu: message '%s' lacks '%s'", i, error->message, c->why);
        }
    }
    assert_false(hd_name_validate(NULL, NULL));
}

/* Valid object paths, and distinct names give distinct paths ('-' maps to '_',
 * which names never contain). */
static void test_object_paths(void **state)
{
    static const char *const names[] = { "a", "my-ws", "x-1-2-3", "x-1-23", "x-12-3", "dev2" };
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        char *path = hd_name_to_object_path(names[i]);

        assert_true(g_variant_is_object_path(path));
        assert_false(g_hash_table_contains(seen, path));
        g_hash_table_add(seen, path);
    }
    {
        g_autofree char *p = hd_name_to_object_path("my-ws");
        assert_string_equal(p, "/dev/hocus/Hocusd1/workspace/my_ws");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_validate),
        cmocka_unit_test(test_object_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
