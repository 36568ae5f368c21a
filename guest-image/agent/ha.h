/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * hocus-agent: runs in the workspace guest. Reclaims cold page cache driven by
 * memory pressure (PSI), keeps critical binaries resident, checks the memory
 * recipe, and writes one JSON line of telemetry per second to the virtio-serial
 * port dev.hocus.agent.0 (docs/agent-protocol.md).
 *
 * Plain C and libc only: it is linked statically into the guest image.
 * The kernel-file parsers are shared with hocusd (src/core/hd-kparse.c);
 * ha-reclaim.c and ha-json.c are pure (no I/O, no clock) and unit-tested.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hocusd/hd-kparse.h"

#define HA_PROTOCOL_VERSION 1
#define HA_LINE_MAX         4096 /* bytes per line, newline included */
#define HA_PORT_NAME        "dev.hocus.agent.0"

/* ---- ha-reclaim.c: the pressure-driven reclaim decision ---- */

typedef struct {
    double pressure_target;  /* stall fraction (0.001 = 0.1 %) above which reclaim backs off */
    uint64_t min_step;       /* bytes; smaller steps are not worth a write */
    uint64_t max_step;       /* bytes per interval at most */
    double step_ratio;       /* share of the reclaimable file cache asked for per step */
    uint64_t file_floor;     /* never reclaim the file cache below this */
    uint64_t backoff_min_us; /* first backoff after a stall */
    uint64_t backoff_max_us; /* backoff doubles up to this */
} HaReclaimParams;

typedef struct {
    bool primed;
    uint64_t last_now_us;
    uint64_t last_stall_us;
    uint64_t backoff_us;       /* length of the current/last backoff */
    uint64_t backoff_until_us; /* no reclaim before this */
} HaReclaimState;

typedef struct {
    uint64_t now_us;
    bool have_psi;
    uint64_t stall_total_us; /* PSI "some" total of the target */
    uint64_t file_bytes;     /* file LRU pages of the target */
} HaReclaimInput;

typedef enum {
    HA_RECLAIM_IDLE,    /* nothing worth reclaiming */
    HA_RECLAIM_RECLAIM, /* reclaim .bytes now */
    HA_RECLAIM_BACKOFF, /* the guest showed stall: hold off */
    HA_RECLAIM_WARMUP,  /* first sample: no rate yet */
} HaReclaimAction;

typedef struct {
    HaReclaimAction action;
    uint64_t bytes;
    double pressure; /* stall fraction over the last interval (-1 without PSI) */
} HaReclaimDecision;

void ha_reclaim_params_default(HaReclaimParams *p);
HaReclaimDecision ha_reclaim_decide(const HaReclaimParams *p, HaReclaimState *s,
                                    const HaReclaimInput *in);
const char *ha_reclaim_action_name(HaReclaimAction a);

/* ---- ha-json.c: a bounded JSON line writer ---- */

typedef struct {
    char *buf;
    size_t cap, len;
    bool overflow;
    bool need_comma[16];
    int depth;
} HaJson;

void ha_json_init(HaJson *j, char *buf, size_t cap);
void ha_json_begin_object(HaJson *j, const char *key); /* key NULL at top level/in arrays */
void ha_json_end_object(HaJson *j);
void ha_json_begin_array(HaJson *j, const char *key);
void ha_json_end_array(HaJson *j);
void ha_json_u64(HaJson *j, const char *key, uint64_t v);
void ha_json_i64(HaJson *j, const char *key, int64_t v);
void ha_json_double(HaJson *j, const char *key, double v); /* two decimals */
void ha_json_bool(HaJson *j, const char *key, bool v);
void ha_json_string(HaJson *j, const char *key, const char *v);
void ha_json_null(HaJson *j, const char *key);
/* Terminates the line with "\n"; FALSE if anything did not fit. */
bool ha_json_finish(HaJson *j);
