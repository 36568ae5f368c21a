/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a hostile guest writes on its agent channel: a byte stream cut into
 * bounded lines, each parsed and validated. */
#include "fuzz-common.h"
#include "hocusd/hd-agent-line.h"

static void on_line(const char *line, gsize len, gpointer user_data)
{
    HdAgentLine parsed = { 0 };
    const char *why = NULL;

    g_assert(len < HD_AGENT_LINE_MAX);
    if (!hd_agent_line_parse(line, len, &parsed, &why))
        g_assert(why != NULL);
    hd_agent_line_clear(&parsed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static HdLineBuf lb; /* large: not on the stack */
    size_t half = size / 2;

    hd_linebuf_reset(&lb);
    /* In two reads, as a socket would deliver it. */
    hd_linebuf_feed(&lb, (const char *)data, half, on_line, NULL);
    hd_linebuf_feed(&lb, (const char *)data + half, size - half, on_line, NULL);
    return 0;
}
