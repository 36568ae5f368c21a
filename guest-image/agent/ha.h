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

/* ---- ha-request.c: requests from the host (docs/agent-protocol.md) ---- */

#define HA_REQUEST_MAX       512          /* bytes per host line, newline excluded */
#define HA_REQUEST_BYTES_MAX (1ull << 30) /* the most one request can make the agent reclaim */

typedef enum {
    HA_REQUEST_MALFORMED = -1,
    HA_REQUEST_UNKNOWN = 0, /* well formed, but another version or type: skipped */
    HA_REQUEST_RECLAIM = 1,
} HaRequestResult;

typedef struct {
    uint64_t seq;
    uint64_t bytes;
} HaRequest;

HaRequestResult ha_request_parse(const char *line, size_t len, HaRequest *out);

/* What a host reclaim request may make the agent do now: at most
 * HA_REQUEST_BYTES_MAX, never below the file floor, nothing during a
 * pressure backoff (*why says which). */
uint64_t ha_request_reclaim_bytes(const HaReclaimParams *p, const HaReclaimState *s,
                                  uint64_t now_us, uint64_t requested, uint64_t file_bytes,
                                  const char **why);

typedef struct {
    char buf[HA_REQUEST_MAX];
    size_t len;
    bool discarding;
    uint64_t oversized;
} HaLineIn;

typedef void (*HaLineFunc)(const char *line, size_t len, void *user_data);

void ha_linein_feed(HaLineIn *in, const char *data, size_t len, HaLineFunc func, void *user_data);
