/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hocusd/hd-cmdline.h"
#include "hocusd/hd-size.h"

static void test_build_without_damon(void **state)
{
    g_autofree char *c = hd_cmdline_build("console=ttyS0  panic=-1", "  quiet ", NULL);

    assert_string_equal(c, "console=ttyS0 panic=-1 quiet " HD_CMDLINE_RECIPE);
}

static void test_build_with_damon(void **state)
{
    g_autoptr(HdConfig) cfg = hd_config_new_default();
    g_autofree char *c = NULL;

    cfg->damon_reclaim.enabled = TRUE;
    cfg->damon_reclaim.min_age_ms = 2500;
    cfg->damon_reclaim.quota_size = 64 * HD_MiB;
    c = hd_cmdline_build(NULL, NULL, &cfg->damon_reclaim);
    assert_true(g_str_has_prefix(c, HD_CMDLINE_RECIPE " "));
    assert_non_null(strstr(c, " damon_reclaim.min_age=2500000 "));
    assert_non_null(strstr(c, " damon_reclaim.quota_sz=67108864 "));
    assert_non_null(strstr(c, " damon_reclaim.wmarks_high=1000 "));
    assert_non_null(strstr(c, " damon_reclaim.skip_anon=Y "));
    /* enabled last, once every other parameter is in place */
    assert_true(g_str_has_suffix(c, " damon_reclaim.enabled=Y"));

    cfg->damon_reclaim.enabled = FALSE;
    g_free(c);
    c = hd_cmdline_build("a", "b", &cfg->damon_reclaim);
    assert_string_equal(c, "a b " HD_CMDLINE_RECIPE);
}

static void test_check_user(void **state)
{
    static const struct {
        const char *text;
        gboolean ok;
    } cases[] = {
        { "", TRUE },
        { "quiet loglevel=3", TRUE },
        { "systemd.unit=multi-user.target", TRUE },
        { "transparent_hugepage=always", FALSE },
        { "transparent_hugepage", FALSE },
        { "quiet page_reporting.page_reporting_order=9", FALSE },
        { "damon_reclaim.enabled=N", FALSE },
        { "transparent_hugepage_x=1", TRUE }, /* another key that shares a prefix */
        { "a\tb", FALSE },
        { "a\nb", FALSE },
        { "a\"b", FALSE },
        { "a'b", FALSE },
        { "a\\b", FALSE },
        { "caf\xc3\xa9", FALSE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        gboolean ok = hd_cmdline_check_user(cases[i].text, &error);
        if (ok != cases[i].ok)
            fail_msg("case %zu '%s': expected %s", i, cases[i].text,
                     cases[i].ok ? "accepted" : "rejected");
        if (!ok)
            assert_non_null(error);
    }
    {
        g_autofree char *long_text = g_strnfill(HD_CMDLINE_MAX_LEN / 2 + 1, 'x');
        assert_false(hd_cmdline_check_user(long_text, NULL));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_without_damon),
        cmocka_unit_test(test_build_with_damon),
        cmocka_unit_test(test_check_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
