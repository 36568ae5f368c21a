/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hocusd/hd-size.h"

typedef struct {
    const char *text;
    gboolean ok;
    guint64 value;
} SizeCase;

static const SizeCase size_cases[] = {
    { "0", TRUE, 0 },
    { "1", TRUE, 1 },
    { "1073741824", TRUE, HD_GiB },
    { "1K", TRUE, HD_KiB },
    { "512M", TRUE, 512 * HD_MiB },
    { "512m", TRUE, 512 * HD_MiB },
    { "4G", TRUE, 4 * HD_GiB },
    { "4GiB", TRUE, 4 * HD_GiB },
    { "4GB", TRUE, 4 * HD_GiB },
    { "2T", TRUE, 2 * HD_TiB },
    { "18446744073709551615", TRUE, G_MAXUINT64 },
    { "18446744073709551616", FALSE, 0 },
    { "16777216T", FALSE, 0 }, /* 2^64 */
    { "", FALSE, 0 },
    { "G", FALSE, 0 },
    { "-1", FALSE, 0 },
    { "+1", FALSE, 0 },
    { " 1", FALSE, 0 },
    { "1 G", FALSE, 0 },
    { "1.5G", FALSE, 0 },
    { "1X", FALSE, 0 },
    { "1Gi", FALSE, 0 },
    { "1GiBs", FALSE, 0 },
    { "0x10", FALSE, 0 },
};

static void test_size_parse(void **state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(size_cases); i++) {
        const SizeCase *c = &size_cases[i];
        g_autoptr(GError) error = NULL;
        guint64 v = 12345;
        gboolean ok = hd_size_parse(c->text, &v, &error);

        if (ok != c->ok)
            fail_msg("case '%s': expected %s", c->text, c->ok ? "success" : "failure");
        if (ok)
            assert_int_equal(v, c->value);
        else
            assert_non_null(error);
    }
    assert_false(hd_size_parse(NULL, &(guint64){ 0 }, NULL));
}

static void test_size_format(void **state)
{
    static const struct {
        guint64 v;
        const char *s;
    } cases[] = {
        { 0, "0 B" },
        { 1023, "1023 B" },
        { 1024, "1 KiB" },
        { 1536, "1.5 KiB" },
        { 512 * HD_MiB, "512 MiB" },
        { 4 * HD_GiB, "4 GiB" },
        { 3 * HD_GiB / 2, "1.5 GiB" },
        { HD_TiB, "1 TiB" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *s = hd_size_format(cases[i].v);
        assert_string_equal(s, cases[i].s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_parse),
        cmocka_unit_test(test_size_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
